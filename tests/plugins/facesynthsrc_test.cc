// facesynthsrc through GstHarness and small pipelines: event order, caps negotiation for each
// output format and the default fixation, timestamps on the nominal clock and with jitter and
// drops, renegotiation mid-stream (timestamps keep going forward), the truth CSV against the
// properties (rate, trajectory, phase advance, pts), live mode, and clear errors for a bad
// trajectory, photo, truth file or motion name. Expression (issue 7): the properties
// round-trip, the truth CSV gains a column per blendshape following the instruction, and a
// bad instruction or models folder fails the start naming the property, column and word.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/geometry/canonical_face.h"
#include "tests/plugins/gst_test_env.h"

namespace {

struct TruthRow {
  long long pts_ns = 0, frame = 0;
  double phase = 0, bpm = 0, pulse = 0, breathing = 0, gain = 0, dx = 0, dy = 0, roll = 0, scale = 0;
};

// Parses the truth CSV; the header is returned separately.
std::vector<TruthRow> ReadTruth(const std::string& path, std::string* header) {
  std::istringstream in(fgtest::ReadFile(path));
  std::vector<TruthRow> rows;
  std::getline(in, *header);
  for (std::string line; std::getline(in, line);) {
    TruthRow r;
    const int n = std::sscanf(line.c_str(), "%lld,%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &r.pts_ns, &r.frame,
                              &r.phase, &r.bpm, &r.pulse, &r.breathing, &r.gain, &r.dx, &r.dy, &r.roll, &r.scale);
    EXPECT_EQ(n, 11) << line;
    rows.push_back(r);
  }
  return rows;
}

class FaceSynthSrcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fgtest::InitGstOnce();
    dir_ = fgtest::MakeTempDir();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Pulls n buffers from a harness on facesynthsrc (properties as gst-launch text).
  std::vector<GstBuffer*> Pull(GstHarness* h, int n) {
    std::vector<GstBuffer*> out;
    for (int i = 0; i < n; ++i) {
      GstBuffer* b = gst_harness_pull(h);
      EXPECT_NE(b, nullptr) << "buffer " << i;
      if (!b) break;
      out.push_back(b);
    }
    return out;
  }
  std::string dir_;
};

TEST_F(FaceSynthSrcTest, EventsCapsAndTimestampsForEachFormat) {
  for (const char* format : {"RGB", "BGR", "BGRx", "BGRA", "RGBA", "GRAY8", "I420", "NV12", "YUY2", "UYVY",
                             "NV21", "RGBx", "xRGB", "xBGR"}) {
    SCOPED_TRACE(format);
    GstHarness* h = gst_harness_new("facesynthsrc");
    const std::string caps = std::string("video/x-raw,format=") + format + ",width=321,height=241,framerate=25/1";
    gst_harness_set_sink_caps_str(h, caps.c_str());
    g_object_set(h->element, "motion", 0, nullptr);
    gst_harness_play(h);
    std::vector<GstBuffer*> bufs = Pull(h, 5);
    ASSERT_EQ(bufs.size(), 5u);
    // STREAM_START, CAPS, SEGMENT, in that order.
    GstEvent* e = gst_harness_pull_event(h);
    ASSERT_TRUE(e);
    EXPECT_EQ(GST_EVENT_TYPE(e), GST_EVENT_STREAM_START);
    gst_event_unref(e);
    e = gst_harness_pull_event(h);
    ASSERT_TRUE(e);
    ASSERT_EQ(GST_EVENT_TYPE(e), GST_EVENT_CAPS);
    GstCaps* got = nullptr;
    gst_event_parse_caps(e, &got);
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, got));
    EXPECT_STREQ(GST_VIDEO_INFO_NAME(&info), format);
    EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), 321);
    EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), 241);
    gst_event_unref(e);
    e = gst_harness_pull_event(h);
    ASSERT_TRUE(e);
    EXPECT_EQ(GST_EVENT_TYPE(e), GST_EVENT_SEGMENT);
    gst_event_unref(e);
    for (size_t i = 0; i < bufs.size(); ++i) {
      EXPECT_GE(gst_buffer_get_size(bufs[i]), GST_VIDEO_INFO_SIZE(&info));
      EXPECT_EQ(GST_BUFFER_PTS(bufs[i]), gst_util_uint64_scale(i, GST_SECOND, 25)) << i;
      EXPECT_EQ(GST_BUFFER_DURATION(bufs[i]), GST_SECOND / 25);
      EXPECT_EQ(GST_BUFFER_OFFSET(bufs[i]), i);
    }
    // Not a blank frame: the photo is in it (mid-frame rows differ along the row).
    GstVideoFrame frame;
    ASSERT_TRUE(gst_video_frame_map(&frame, &info, bufs[0], GST_MAP_READ));
    const guint8* row = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)) +
                        120 * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    int distinct = 0;
    for (int x = 1; x < 300; ++x) distinct += row[x] != row[x - 1];
    EXPECT_GT(distinct, 50);
    gst_video_frame_unmap(&frame);
    for (GstBuffer* b : bufs) gst_buffer_unref(b);
    gst_harness_teardown(h);
  }
}

TEST_F(FaceSynthSrcTest, FixatesTo640x480At30) {
  GstHarness* h = gst_harness_new("facesynthsrc");
  gst_harness_play(h);
  GstBuffer* b = gst_harness_pull(h);
  ASSERT_TRUE(b);
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  ASSERT_TRUE(caps);
  GstVideoInfo info;
  ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
  EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), 640);
  EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), 480);
  EXPECT_EQ(GST_VIDEO_INFO_FPS_N(&info), 30);
  EXPECT_EQ(GST_VIDEO_INFO_FPS_D(&info), 1);
  EXPECT_STREQ(GST_VIDEO_INFO_NAME(&info), "RGB");
  gst_caps_unref(caps);
  gst_buffer_unref(b);
  gst_harness_teardown(h);
}

TEST_F(FaceSynthSrcTest, TruthFileMatchesPropertiesAndBuffers) {
  const std::string path = dir_ + "/truth.csv";
  GstHarness* h = gst_harness_new("facesynthsrc");
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=NV12,width=320,height=240,framerate=15/1");
  g_object_set(h->element, "heart-rate", 90.0, "jitter", 0.2, "drop", 0.1, "seed", G_GUINT64_CONSTANT(3),
               "truth-location", path.c_str(), "light-drift", 0.05, nullptr);
  gst_harness_play(h);
  const int n = 90;
  std::vector<GstBuffer*> bufs = Pull(h, n);
  ASSERT_EQ(static_cast<int>(bufs.size()), n);
  gst_harness_teardown(h);  // stop(): the file is closed

  std::string header;
  const std::vector<TruthRow> rows = ReadTruth(path, &header);
  EXPECT_EQ(header, "pts_ns,frame,phase,bpm,pulse,breathing_phase,light_gain,dx,dy,roll_deg,scale");
  // At least the pulled frames (the source may have run a few ahead before teardown).
  ASSERT_GE(static_cast<int>(rows.size()), n);
  int gaps = 0, off_clock = 0;
  for (int i = 0; i < n; ++i) {
    const TruthRow& r = rows[i];
    EXPECT_EQ(static_cast<GstClockTime>(r.pts_ns), GST_BUFFER_PTS(bufs[i])) << i;
    EXPECT_EQ(static_cast<guint64>(r.frame), GST_BUFFER_OFFSET(bufs[i])) << i;
    EXPECT_DOUBLE_EQ(r.bpm, 90);
    // Phase = 90 / 60 cycles per second at the frame's own (jittered) time.
    EXPECT_NEAR(r.phase, r.pts_ns * 1e-9 * 1.5, 1e-5) << i;
    // Breathing at the default 15 per minute; light gain within +-5 %.
    EXPECT_NEAR(r.breathing, r.pts_ns * 1e-9 * 0.25, 1e-5) << i;
    EXPECT_LE(std::abs(r.gain - 1), 0.05 + 1e-6);
    EXPECT_GE(r.pulse, -1.0);
    EXPECT_LE(r.pulse, 1.0);
    // Jitter: within 0.45 of a frame of the nominal clock, mostly off it.
    const double dev = r.pts_ns * 1e-9 * 15 - r.frame;
    EXPECT_LE(std::abs(dev), 0.45 + 1e-6) << i;
    off_clock += std::abs(dev) > 0.01;
    if (i > 0) gaps += r.frame - rows[i - 1].frame - 1;
  }
  EXPECT_GT(off_clock, n / 2) << "jitter=0.2 moves most timestamps";
  EXPECT_GT(gaps, 0) << "drop=0.1 over 90 frames leaves gaps";
  EXPECT_LT(gaps, 30);
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
}

TEST_F(FaceSynthSrcTest, HeartRateTrajectoryInTheTruth) {
  const std::string path = dir_ + "/truth.csv";
  GstHarness* h = gst_harness_new("facesynthsrc");
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=RGB,width=64,height=48,framerate=10/1");
  g_object_set(h->element, "heart-rate-trajectory", "0:60,2:120", "truth-location", path.c_str(), nullptr);
  gst_harness_play(h);
  std::vector<GstBuffer*> bufs = Pull(h, 30);
  gst_harness_teardown(h);
  std::string header;
  const std::vector<TruthRow> rows = ReadTruth(path, &header);
  ASSERT_GE(rows.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    const double t = i / 10.0;
    EXPECT_NEAR(rows[i].bpm, t < 2 ? 60 + 30 * t : 120, 1e-3) << t;
  }
  // Over the ramp 0..2 s the mean rate is 90: 3 cycles.
  EXPECT_NEAR(rows[20].phase - rows[0].phase, 3.0, 1e-5);
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
}

TEST_F(FaceSynthSrcTest, NewCapsMidStreamKeepTimestampsGoingForward) {
  GstHarness* h = gst_harness_new("facesynthsrc");
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=RGB,width=320,height=240,framerate=30/1");
  gst_harness_play(h);
  std::vector<GstBuffer*> bufs = Pull(h, 3);
  ASSERT_EQ(bufs.size(), 3u);
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=NV12,width=160,height=120,framerate=30/1");
  ASSERT_TRUE(gst_harness_push_upstream_event(h, gst_event_new_reconfigure()));
  // Buffers already queued may still be in the old size; the new size arrives within a few.
  const gsize nv12_size = 160 * 120 * 3 / 2;
  bool renegotiated = false;
  for (int i = 0; i < 10 && !renegotiated; ++i) {
    GstBuffer* b = gst_harness_pull(h);
    ASSERT_TRUE(b);
    renegotiated = gst_buffer_get_size(b) == nv12_size;
    bufs.push_back(b);
  }
  EXPECT_TRUE(renegotiated);
  for (size_t i = 1; i < bufs.size(); ++i) {
    EXPECT_GT(GST_BUFFER_PTS(bufs[i]), GST_BUFFER_PTS(bufs[i - 1])) << i;
    EXPECT_GT(GST_BUFFER_OFFSET(bufs[i]), GST_BUFFER_OFFSET(bufs[i - 1])) << i;
  }
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
  gst_harness_teardown(h);
}

TEST_F(FaceSynthSrcTest, LiveModeReportsLatencyAsALiveSource) {
  GstHarness* h = gst_harness_new("facesynthsrc");
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  g_object_set(h->element, "is-live", TRUE, nullptr);
  gst_harness_use_systemclock(h);  // the harness's test clock would hold a live source forever
  gst_harness_play(h);
  std::vector<GstBuffer*> bufs = Pull(h, 3);
  ASSERT_EQ(bufs.size(), 3u);
  GstQuery* q = gst_query_new_latency();
  ASSERT_TRUE(gst_element_query(h->element, q));
  gboolean live = FALSE;
  gst_query_parse_latency(q, &live, nullptr, nullptr);
  EXPECT_TRUE(live);
  gst_query_unref(q);
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
  gst_harness_teardown(h);
}

// Sets a pipeline to PAUSED and returns the errors posted (empty when it worked).
std::string StartErrors(const std::string& launch) {
  GError* perr = nullptr;
  GstElement* pipe = gst_parse_launch_full(launch.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &perr);
  if (!pipe) {
    std::string msg = perr ? perr->message : "parse failed";
    g_clear_error(&perr);
    return msg;
  }
  g_clear_error(&perr);
  const GstStateChangeReturn r = gst_element_set_state(pipe, GST_STATE_PAUSED);
  if (r == GST_STATE_CHANGE_ASYNC) gst_element_get_state(pipe, nullptr, nullptr, 5 * GST_SECOND);
  GstBus* bus = gst_element_get_bus(pipe);
  EXPECT_NE(bus, nullptr) << launch;
  std::string errors = bus ? fgtest::DrainErrors(bus) : "";
  if (bus) gst_object_unref(bus);
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(pipe);
  return errors;
}

TEST_F(FaceSynthSrcTest, BadValuesGiveClearErrors) {
  EXPECT_EQ(StartErrors("facesynthsrc num-buffers=1 ! fakesink"), "");
  std::string e = StartErrors("facesynthsrc name=src heart-rate-trajectory=0:60,abc ! fakesink");
  EXPECT_NE(e.find("heart-rate-trajectory"), std::string::npos) << e;
  EXPECT_NE(e.find("abc"), std::string::npos) << e;
  e = StartErrors("facesynthsrc heart-rate-trajectory=0:60,10:300 ! fakesink");
  EXPECT_NE(e.find("10:300"), std::string::npos) << e;
  EXPECT_NE(e.find("20..250"), std::string::npos) << e;
  e = StartErrors("facesynthsrc photo=/nonexistent/face.png ! fakesink");
  EXPECT_NE(e.find("/nonexistent/face.png"), std::string::npos) << e;
  EXPECT_NE(e.find("photo"), std::string::npos) << e;
  e = StartErrors("facesynthsrc truth-location=/nonexistent/dir/truth.csv ! fakesink");
  EXPECT_NE(e.find("truth-location"), std::string::npos) << e;
  EXPECT_NE(e.find("/nonexistent/dir/truth.csv"), std::string::npos) << e;
  e = StartErrors("facesynthsrc motion=wobble ! fakesink");
  EXPECT_NE(e.find("motion"), std::string::npos) << e;
  std::printf("[ facesynthsrc ] %s\n", e.c_str());
}

TEST_F(FaceSynthSrcTest, ExpressionPropertiesRoundTrip) {
  GstElement* e = gst_element_factory_make("facesynthsrc", nullptr);
  ASSERT_TRUE(e);
  gchar* v = nullptr;
  g_object_get(e, "expression", &v, nullptr);
  EXPECT_STREQ(v, "");  // off by default
  g_free(v);
  const char* text = "neutral, then very happy over 1.5 s, hold 1 s, then surprised over 0.5 s";
  g_object_set(e, "expression", text, "models-dir", "/some/models", nullptr);
  g_object_get(e, "expression", &v, nullptr);
  EXPECT_STREQ(v, text);
  g_free(v);
  g_object_get(e, "models-dir", &v, nullptr);
  EXPECT_STREQ(v, "/some/models");
  g_free(v);
  // "" falls back to the default every element uses ($FACEGRAPH_MODELS, else the build's).
  g_object_set(e, "models-dir", "", nullptr);
  g_object_get(e, "models-dir", &v, nullptr);
  const char* env = g_getenv("FACEGRAPH_MODELS");
  EXPECT_STREQ(v, env && *env ? env : FG_MODELS_DEFAULT_DIR);
  g_free(v);
  gst_object_unref(e);
}

TEST_F(FaceSynthSrcTest, ExpressionWeightsInTheTruth) {
  const std::string path = dir_ + "/truth.csv";
  GstHarness* h = gst_harness_new("facesynthsrc");
  gst_harness_set_sink_caps_str(h, "video/x-raw,format=I420,width=640,height=480,framerate=30/1");
  g_object_set(h->element, "motion", 0, "truth-location", path.c_str(), "expression",
               "neutral, then very happy over 0.5 s", nullptr);
  gst_harness_play(h);
  const int n = 25;
  std::vector<GstBuffer*> bufs = Pull(h, n);
  ASSERT_EQ(static_cast<int>(bufs.size()), n);
  gst_harness_teardown(h);

  std::string header;
  const std::vector<TruthRow> rows = ReadTruth(path, &header);
  ASSERT_GE(static_cast<int>(rows.size()), n);
  // The 11 fixed columns, then every blendshape of the basis (the ARKit names it has, in
  // basis order), whatever the instruction uses: the basis is built here from the models.
  const char* env = g_getenv("FACEGRAPH_MODELS");
  const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::string err;
  auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
  ASSERT_TRUE(canonical) << err;
  auto basis = fg::BlendshapeBasis::Create(*canonical, &err);
  ASSERT_TRUE(basis) << err;
  std::string want = "pts_ns,frame,phase,bpm,pulse,breathing_phase,light_gain,dx,dy,roll_deg,scale";
  for (const std::string& name : basis->names()) want += "," + name;
  EXPECT_EQ(header, want);
  std::vector<std::string> cols;
  std::istringstream hs(header);
  for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
  ASSERT_GT(cols.size(), 11u + 30u) << header;
  int smile = -1, jaw = -1, brow = -1;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == "mouthSmileLeft") smile = static_cast<int>(i);
    if (cols[i] == "jawOpen") jaw = static_cast<int>(i);
    if (cols[i] == "browDownLeft") brow = static_cast<int>(i);
  }
  ASSERT_GE(smile, 11);
  ASSERT_GE(jaw, 11);
  ASSERT_GE(brow, 11);
  // Per row: the smile weight rises from 0 at frame 0 to its held value from 0.5 s (frame 15)
  // on, never decreasing (minimum-jerk transition, no overshoot); a frown stays 0.
  std::istringstream in(fgtest::ReadFile(path));
  std::string line;
  std::getline(in, line);
  double prev = -1, held = -1;
  for (int i = 0; i < n && std::getline(in, line); ++i) {
    std::vector<double> v;
    std::istringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) v.push_back(std::stod(c));
    ASSERT_EQ(v.size(), cols.size()) << line;
    const double w = v[smile];
    if (i == 0) {
      EXPECT_EQ(w, 0.0);
    }
    EXPECT_GE(w, prev - 1e-6) << i;
    EXPECT_EQ(v[brow], 0.0) << i;
    if (i >= 15) {
      if (held < 0) held = w;
      EXPECT_NEAR(w, held, 1e-6) << i;
    }
    prev = w;
  }
  EXPECT_GT(held, 0.3);
  // The picture changes with it: frame 20 (smiling) differs from frame 0 (neutral), and only
  // on part of the frame (the face; no motion, no noise).
  GstMapInfo m0, m1;
  ASSERT_TRUE(gst_buffer_map(bufs[0], &m0, GST_MAP_READ));
  ASSERT_TRUE(gst_buffer_map(bufs[20], &m1, GST_MAP_READ));
  ASSERT_EQ(m0.size, m1.size);
  size_t changed = 0;
  for (gsize i = 0; i < 640 * 480; ++i) changed += std::abs(m0.data[i] - m1.data[i]) > 10;  // luma
  gst_buffer_unmap(bufs[0], &m0);
  gst_buffer_unmap(bufs[20], &m1);
  EXPECT_GT(changed, 200u);
  EXPECT_LT(changed, 640u * 480u / 20);
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
}

TEST_F(FaceSynthSrcTest, BadExpressionFailsTheStartNamingTheWord) {
  std::string e = StartErrors("facesynthsrc expression=\"neutral, then very hapy over 1 s\" ! fakesink");
  std::printf("[ facesynthsrc ] %s\n", e.c_str());
  EXPECT_NE(e.find("expression"), std::string::npos) << e;
  EXPECT_NE(e.find("column 20"), std::string::npos) << e;
  EXPECT_NE(e.find("\"hapy\""), std::string::npos) << e;
  e = StartErrors("facesynthsrc expression=happy models-dir=/nonexistent/models ! fakesink");
  std::printf("[ facesynthsrc ] %s\n", e.c_str());
  EXPECT_NE(e.find("models-dir"), std::string::npos) << e;
  EXPECT_NE(e.find("/nonexistent/models"), std::string::npos) << e;
}

}  // namespace
