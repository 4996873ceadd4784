// The steps the analysis-element tests (facetrack, faceemotion, facevitals) take on a
// GstHarness, written once: push a buffer and pull what came out, read the faces of its
// GstFaceGraphMeta, read a counter property, send what a flushing seek sends, send EOS and
// check it came out, watch the element's messages on a bus of the test's own, and take an
// element READY->PAUSED with given properties. Also the two-face picture they share.
//
// Failures are reported with gtest EXPECTs at the caller's test (they do not stop it).
// Threading: call from the test thread.
//
// Example:
//   GstBuffer* out = fgtest::PushPull(h, in);
//   EXPECT_EQ(fgtest::FacesOf(out).faces.size(), 1u);
//   fgtest::PushFlushingSeek(h);
//   EXPECT_TRUE(fgtest::PushEos(h));
//   EXPECT_EQ(fgtest::CounterOf(h, "submitted"), 10u);
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "plugins/gstfacemeta.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"

namespace fgtest {

// Pushes `in` (taken), expecting GST_FLOW_OK, and returns the buffer that came out (caller
// unrefs).
inline GstBuffer* PushPull(GstHarness* h, GstBuffer* in) {
  EXPECT_EQ(gst_harness_push(h, in), GST_FLOW_OK);
  return gst_harness_pull(h);
}

// The faces of out's GstFaceGraphMeta; a failure, and no faces, when it has none.
inline const fg::FrameFaces& FacesOf(GstBuffer* out) {
  static const fg::FrameFaces kNone;
  const GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(out);
  EXPECT_NE(m, nullptr) << "no GstFaceGraphMeta";
  return m ? m->faces : kNone;
}

// The value of a guint64 property of the harness's element (the worker counters).
inline guint64 CounterOf(GstHarness* h, const char* name) {
  guint64 v = 0;
  g_object_get(h->element, name, &v, nullptr);
  return v;
}

// What a flushing seek sends downstream: FLUSH_START, FLUSH_STOP (reset time) and a new TIME
// segment from 0.
inline void PushFlushingSeek(GstHarness* h) {
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&segment)));
}

// Pushes EOS and pulls every event that came out; true when EOS was among them.
inline bool PushEos(GstHarness* h) {
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  bool eos = false;
  while (GstEvent* e = gst_harness_try_pull_event(h)) {
    eos |= GST_EVENT_TYPE(e) == GST_EVENT_EOS;
    gst_event_unref(e);
  }
  return eos;
}

// A bus of the test's own on an element, to read what it posts; detached and released when
// this goes out of scope.
class TestBus {
 public:
  explicit TestBus(GstElement* element) : element_(element), bus_(gst_bus_new()) {
    gst_element_set_bus(element_, bus_);
  }
  ~TestBus() {
    gst_element_set_bus(element_, nullptr);
    gst_object_unref(bus_);
  }
  TestBus(const TestBus&) = delete;
  TestBus& operator=(const TestBus&) = delete;

  GstBus* get() const { return bus_; }
  // The next element message posted (caller unrefs); nullptr when there is none.
  GstMessage* PopElementMessage() const { return gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT); }

 private:
  GstElement* element_;
  GstBus* bus_;
};

// Creates `factory` with properties from "name=value name=value ..." (parsed as gst-launch
// would) and takes it READY->PAUSED on its own bus: the state change result and the errors
// posted (fgtest::DrainErrors). The element is set back to NULL and freed.
inline std::pair<GstStateChangeReturn, std::string> StartWithProperties(const char* factory,
                                                                        const std::string& props) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  gchar** pairs = g_strsplit(props.c_str(), " ", -1);
  for (gchar** p = pairs; *p; ++p) {
    gchar** kv = g_strsplit(*p, "=", 2);
    if (kv[0] && kv[1]) gst_util_set_object_arg(G_OBJECT(e), kv[0], kv[1]);
    g_strfreev(kv);
  }
  g_strfreev(pairs);
  std::string errors;
  GstStateChangeReturn ret;
  {
    TestBus bus(e);
    ret = gst_element_set_state(e, GST_STATE_PAUSED);
    errors = DrainErrors(bus.get());
    gst_element_set_state(e, GST_STATE_NULL);
  }
  gst_object_unref(e);
  return {ret, errors};
}

// Two faces on a 1024x512 grey (90) canvas: the astronaut photo at x 0 and, mirrored, at
// x 512.
inline Rgb TwoAstronauts() {
  Rgb rgb = Canvas(1024, 512, 90);
  Paste(rgb, Astronaut(), 0, 0);
  Paste(rgb, Astronaut(), 512, 0, /*mirror=*/true);
  return rgb;
}

}  // namespace fgtest
