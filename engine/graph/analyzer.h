// Analyzer: the face analyses (tracking + emotion + vitals) for a C++ program, without any
// GStreamer code. Feed frames, receive FrameFaces through a callback or a lock-free queue.
// docs/embedding.md.
//
//   caller: Push(frame, pts) ──copy──► input (drop-oldest, capacity input_capacity)
//                                          │
//   Graph<Work> (engine/graph/executor.h):  ▼
//     [input] ──block──► [track] ──block──► [analyse] ──► on_faces(frame faces, pixels)
//      pops the         FaceTracker       EmotionWorker /    or ──► results queue ──► caller:
//      caller's frames  ::Process         VitalsWorker        (SPSC, drop-oldest)   TryPop/Pop
//                                         (networks off this thread, as in faceemotion /
//                                         facevitals; emotion in the process-wide pool shared
//                                         with every Analyzer): Face::emotion, ::vitals
//
// Each stage runs on its own thread, so a stream is pipelined like the GStreamer graph
// `facetrack ! faceemotion ! facevitals` and produces the same FrameFaces (the same engine
// objects; models are shared with every other Analyzer of the process: model_cache.h).
// Push never blocks: when the analysis falls behind, the oldest waiting frame is dropped
// (counted in stats().dropped), so latency stays bounded on a live source. Set
// input_policy = kBlock to analyse every frame of a file instead (Push then waits).
//
// Frames: Push copies the pixels (any format of engine/pixel_format.h) into a buffer of a
// small recycled pool, so the caller may reuse its buffer at once; after the first frames of a
// size, Push allocates nothing. The callback sees the frame's pixels (valid only during the
// call) and its FrameFaces (pts as pushed).
//
// Two ways to receive results, chosen at Create:
//   callback  Create(opts, on_faces, &err): on_faces runs on the analyser's own thread, one
//             frame at a time, in push order, with the frame's pixels; it must not call Push
//             or Finish. No copy, no allocation of its own.
//   queue     Create(opts, &err): each FrameFaces (no pixels; copying its faces allocates,
//             the price of handing them to another thread) is copied into a lock-free
//             single-producer/single-consumer queue (spsc_edge.h; the analyser's thread is
//             the producer) that one thread of the caller's, the consumer, empties with
//             TryPop (never waits) or Pop (waits). The analyser never waits for the caller:
//             the queue holds output_capacity results and, when the caller falls behind, the
//             oldest are dropped and counted (stats().results_dropped). Popping after every
//             Push keeps every result: between two Pushes at most the frames in flight (input
//             and graph edges, under 10) are analysed, well under output_capacity. After
//             Finish, Pop and TryPop return what is left, then nullopt.
//
// Threading: Push and Finish belong to one thread (the producer). TryPop/Pop belong to one
// thread (the consumer; it may be the producer's). stats() may be called from any thread.
// Lifetime: Finish() (or the destructor) stops accepting frames, analyses what is queued,
// waits for the emotion and vitals workers to settle, and joins every thread; no thread may be
// inside Pop when the Analyzer is destroyed.
//
// Example (callback):
//   fg::AnalyzerOptions o;                       // models from $FACEGRAPH_MODELS or the default
//   std::string err;
//   auto a = fg::Analyzer::Create(o, [](const fg::FrameFaces& ff, const fg::ImageView&) {
//     for (const fg::Face& f : ff.faces)
//       if (f.emotion) std::printf("%lld %s\n", (long long)f.id, f.emotion->label.c_str());
//   }, &err);
//   if (!a) return fail(err);                    // names the model file
//   fg::ImageView v;  fg::ImageView::Wrap(fg::PixelFormat::kRGB, w, h, {rgb}, {3 * w}, &v);
//   a->Push(v, pts_ns);                          // per frame
//   a->Finish();
//
// Example (queue):
//   auto a = fg::Analyzer::Create(o, &err);
//   for (each frame) {
//     a->Push(v, pts_ns);
//     while (std::optional<fg::FrameFaces> ff = a->TryPop()) use(*ff);
//   }
//   a->Finish();
//   while (std::optional<fg::FrameFaces> ff = a->TryPop()) use(*ff);   // the last frames
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/emotion/emotion_worker.h"
#include "engine/face.h"
#include "engine/graph/latency.h"
#include "engine/graph/spsc_edge.h"
#include "engine/image.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/vitals_worker.h"

namespace fg {

struct AnalyzerOptions {
  // Holds blazeface.json, facemesh.json, emotion.json and the canonical face. Empty:
  // $FACEGRAPH_MODELS, else the build's default (FG_MODELS_DEFAULT_DIR).
  std::string models_dir;
  std::string backend = "auto";  // "auto", "xnnpack", "reference", "cuda" (session.h)
  bool emotion = true;
  bool vitals = true;
  // Frames waiting for the tracker; kDropOldest (live: latency stays bounded, drops counted)
  // or kBlock (files: every frame analysed, Push waits).
  size_t input_capacity = 2;
  Backpressure input_policy = Backpressure::kDropOldest;
  // The queue way only: results waiting for TryPop/Pop; beyond it the oldest are dropped
  // (counted in stats().results_dropped). 64 is about 2 s of a 30 fps camera.
  size_t output_capacity = 64;
  // Per-analysis settings; their models_dir / backend are set from the fields above.
  TrackerOptions tracker;
  EmotionWorkerOptions emotion_options;
  VitalsWorkerOptions vitals_options;
};

struct AnalyzerStats {
  uint64_t pushed = 0;     // Push calls
  uint64_t dropped = 0;    // frames dropped before the tracker (input_policy kDropOldest)
  uint64_t analysed = 0;   // frames analysed (delivered to the callback or the queue)
  uint64_t results_dropped = 0;  // the queue way: results dropped because the caller fell behind
  LatencySummary latency;  // Push -> callback, milliseconds
  EmotionWorkerStats emotion;
  VitalsWorkerStats vitals;
};

class Analyzer {
 public:
  using FacesFn = std::function<void(const FrameFaces& faces, const ImageView& frame)>;

  // Loads the models (shared per process) and starts the threads. nullptr with *error naming
  // the file or the option when anything is wrong.
  static std::unique_ptr<Analyzer> Create(const AnalyzerOptions& opts, FacesFn on_faces,
                                          std::string* error);
  // The same, results to the queue (TryPop/Pop) instead of a callback.
  static std::unique_ptr<Analyzer> Create(const AnalyzerOptions& opts, std::string* error);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Copies the frame in and queues it. False when it was not accepted, with *error (when
  // given) saying why: after Finish, or an invalid view (empty, a null plane, a stride shorter
  // than a row).
  bool Push(const ImageView& frame, int64_t pts_ns, std::string* error = nullptr);
  // Analyses what is queued, lets the emotion and vitals workers finish, joins the threads.
  // Returns the first error of a stage (empty when none). Idempotent.
  std::string Finish();

  // The queue way, consumer thread. TryPop: the oldest waiting result, or nullopt when none
  // waits (never blocks). Pop: waits for one; nullopt once Finish has run and the queue is
  // empty. Both return nullopt at once on an Analyzer created with a callback.
  std::optional<FrameFaces> TryPop();
  std::optional<FrameFaces> Pop();

  AnalyzerStats stats() const;

 private:
  struct Impl;
  explicit Analyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fg
