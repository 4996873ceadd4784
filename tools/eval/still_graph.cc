#include "tools/eval/still_graph.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "plugins/gstfaceemotion.h"
#include "plugins/gstfacemeta.h"
#include "plugins/gstfacetrack.h"

namespace fg::eval {

namespace {
constexpr int kFps = 30;
}

bool RegisterElements(const char* tool) {
  const gboolean ok = gst_plugin_register_static(
      GST_VERSION_MAJOR, GST_VERSION_MINOR, "facegraph", "facegraph elements (evaluation tools)",
      [](GstPlugin* p) -> gboolean {
        return GST_ELEMENT_REGISTER(facetrack, p) && GST_ELEMENT_REGISTER(faceemotion, p);
      },
      "0", "LGPL", "facegraph", "facegraph", "facegraph");
  if (!ok) std::fprintf(stderr, "%s: cannot register the facegraph elements\n", tool);
  return ok;
}

std::string DefaultModelsDir() {
  if (const char* m = std::getenv("FACEGRAPH_MODELS"); m && *m) return m;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  return (xdg && *xdg ? std::string(xdg) : std::string(home ? home : ".") + "/.cache") +
         "/facegraph/models";
}

StillGraph::~StillGraph() {
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  for (GstElement* e : {src_, sink_})
    if (e) gst_object_unref(e);
}

std::unique_ptr<StillGraph> StillGraph::Start(const std::string& models_dir,
                                              const std::string& facetrack_props,
                                              std::string* error, const std::string& tail) {
  std::unique_ptr<StillGraph> g(new StillGraph);
  // The caps are set per picture (Run); block=true with a short queue keeps one picture's
  // frames from piling up ahead of the tracker.
  const std::string desc = "appsrc name=src format=time block=true max-buffers=2 ! facetrack models-dir=\"" +
                           models_dir + "\" " + facetrack_props + (tail.empty() ? "" : " ! " + tail) +
                           " ! appsink name=sink sync=false max-buffers=4";
  GError* err = nullptr;
  g->pipeline_ = gst_parse_launch(desc.c_str(), &err);
  if (!g->pipeline_ || err) {
    *error = "cannot build the graph \"" + desc + "\": " + (err ? err->message : "unknown error");
    if (err) g_error_free(err);
    return nullptr;
  }
  g->src_ = gst_bin_get_by_name(GST_BIN(g->pipeline_), "src");
  g->sink_ = gst_bin_get_by_name(GST_BIN(g->pipeline_), "sink");
  if (gst_element_set_state(g->pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "the graph did not start: " + g->BusError();
    return nullptr;
  }
  return g;
}

GstElement* StillGraph::Element(const char* name) const {
  return gst_bin_get_by_name(GST_BIN(pipeline_), name);
}

std::optional<FrameFaces> StillGraph::Run(const RgbImage& img, int frames, std::string* error,
                                          int max_frames, bool (*done)(GstElement*),
                                          GstElement* done_arg) {
  if (img.width <= 0 || img.height <= 0) return *error = "empty picture", std::nullopt;
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, img.width, img.height);
  GST_VIDEO_INFO_FPS_N(&info) = kFps;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  if (img.width != width_ || img.height != height_) {
    GstCaps* caps = gst_video_info_to_caps(&info);
    g_object_set(src_, "caps", caps, nullptr);
    gst_caps_unref(caps);
    width_ = img.width;
    height_ = img.height;
  }
  const size_t stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  rows_.assign(GST_VIDEO_INFO_SIZE(&info), 0);
  for (int y = 0; y < img.height; ++y)
    std::memcpy(rows_.data() + y * stride, img.pixels.data() + static_cast<size_t>(y) * img.width * 3,
                static_cast<size_t>(img.width) * 3);
  FrameFaces faces;
  const int most = done ? std::max(frames, max_frames) : frames;
  for (int i = 0; i < most; ++i) {
    if (done && i >= frames) {
      if (done(done_arg)) break;
      g_usleep(2000);  // the worker is busy: let it run before the next frame
    }
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, rows_.size(), nullptr);
    gst_buffer_fill(buf, 0, rows_.data(), rows_.size());
    // Every picture's frames start again at time 0: time that goes back without a flush is
    // a restart for every element (gstfacebase.cc), so no track, smoothing or baseline
    // carries over from the previous picture, whatever its size. (DISCONT alone is only a
    // gap and keeps the tracks; it is set too, as a decoder would after a jump.)
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(i, GST_SECOND, kFps);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, kFps);
    if (i == 0) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    GstFlowReturn ret = GST_FLOW_OK;
    g_signal_emit_by_name(src_, "push-buffer", buf, &ret);
    gst_buffer_unref(buf);
    if (ret != GST_FLOW_OK) return *error = "appsrc refused a frame: " + BusError(), std::nullopt;
    GstSample* sample = nullptr;
    g_signal_emit_by_name(sink_, "pull-sample", &sample);
    if (!sample) return *error = "the graph stopped: " + BusError(), std::nullopt;
    faces = {};
    if (GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(gst_sample_get_buffer(sample)))
      faces = m->faces;
    gst_sample_unref(sample);
  }
  return faces;
}

std::string StillGraph::BusError() {
  GstBus* bus = gst_element_get_bus(pipeline_);
  std::string out = "no message on the bus";
  if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError* e = nullptr;
    gchar* dbg = nullptr;
    gst_message_parse_error(msg, &e, &dbg);
    out = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + (e ? e->message : "") +
          (dbg ? std::string(" (") + dbg + ")" : "");
    if (e) g_error_free(e);
    g_free(dbg);
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  return out;
}

float Iou(const Box& a, const Box& b) {
  const float ix = std::max(0.0f, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
  const float iy = std::max(0.0f, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
  const float inter = ix * iy, uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

}  // namespace fg::eval
