// StillGraph: the real tracking graph, driven one still picture at a time, for the evaluation
// tools (eval-landmarks, eval-detection).
//
//   appsrc ! facetrack [PROPS] [! TAIL] ! appsink
//
// TAIL: more elements after facetrack (eval-emotion: "faceemotion name=emotion ...").
// Each picture is pushed at its own size (the appsrc caps follow it) as `frames` frames at
// 30 fps whose timestamps start again at 0, so facetrack starts over on every picture (time
// that goes back is a restart, plugins/gstfacebase.cc). The answer is what facetrack
// attached to the last frame (its meta): what a user's graph sees after `frames` frames of a
// still camera. Rows are laid out
// with GStreamer's default RGB stride (rows padded to 4 bytes), so any width works.
//
// The elements are registered statically from the tool's own binary (RegisterElements), so
// the tool never picks up another build's plugin; call it after gst_init, with
// GST_PLUGIN_PATH cleared before gst_init (see main() of the tools).
//
// Threading: one StillGraph per thread; Run() blocks until the frames come back.
//
// Example:
//   fg::eval::RegisterElements("eval-landmarks");
//   std::string err;
//   auto g = fg::eval::StillGraph::Start(models_dir, "max-faces=16", &err);
//   std::optional<fg::FrameFaces> faces = g->Run(image, 8, &err);   // nullopt: err says why
#pragma once

#include <gst/gst.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/face.h"
#include "engine/io/png.h"

namespace fg::eval {

// Registers facetrack and faceemotion from this binary. False (with a message on stderr
// naming the tool) if GStreamer refuses.
bool RegisterElements(const char* tool);

// FG_MODELS_DEFAULT_DIR's rule (tools/fetch-models): $FACEGRAPH_MODELS, else the XDG cache.
std::string DefaultModelsDir();

class StillGraph {
 public:
  ~StillGraph();
  // Builds and starts the graph. `facetrack_props`: extra "name=value ..." for facetrack
  // (gst-launch syntax); `tail`: elements after it (gst-launch syntax, without the leading
  // "!"), or empty. nullptr with *error naming the cause (bad property, missing model).
  static std::unique_ptr<StillGraph> Start(const std::string& models_dir,
                                           const std::string& facetrack_props,
                                           std::string* error, const std::string& tail = "");
  // The faces on the last of `frames` frames of `img`. nullopt: the graph failed (*error).
  // With `done`, frames go on after `frames` (up to `max_frames` in all) until done() says
  // so, e.g. until an element's counters show its worker idle.
  std::optional<FrameFaces> Run(const RgbImage& img, int frames, std::string* error,
                                int max_frames = 0, bool (*done)(GstElement*) = nullptr,
                                GstElement* done_arg = nullptr);
  // An element of the graph by its name= (a new reference: gst_object_unref it), or nullptr.
  GstElement* Element(const char* name) const;

 private:
  StillGraph() = default;
  std::string BusError();
  GstElement* pipeline_ = nullptr;
  GstElement* src_ = nullptr;
  GstElement* sink_ = nullptr;
  int width_ = 0, height_ = 0;
  std::vector<uint8_t> rows_;  // the picture with GStreamer's stride
};

// Boxes and their overlap (intersection over union; 0 when either is empty).
float Iou(const Box& a, const Box& b);

}  // namespace fg::eval
