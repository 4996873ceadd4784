// EmotionWorker: emotion classification beside the video, never in its way.
//
//   caller's thread (the video)                     worker thread
//   ───────────────────────────                     ─────────────
//   Submit(frame, face, pts)
//     rate check per track (rate_hz)
//     SampleEmotionCrop → 64x64 gray ─► jobs: SpscEdge<EmotionJob> ─► EmotionClassifier::Run
//       (or Push(id, pts, crop) directly)  drop-oldest / keep-latest        │
//                                                                           ▼
//   Poll(): results → EmotionTracks ◄── results: SpscEdge<EmotionResult> ◄──┘
//   Latest(id) → EmotionState (smoothed, label, valence/arousal)
//
// The caller's per-frame work is the 64x64 crop (it needs the frame, which the caller owns
// and may release as soon as Submit returns) plus map look-ups; the network runs on the
// worker. Neither side ever waits for the other: the job edge drops (kDropOldest or
// kKeepLatest, never kBlock), the result edge drops oldest too, and both count every drop.
// Per-track state (smoothing, hysteresis) lives on the caller's thread, fed by Poll(), so
// ending a track (EndTrack, EndStale) needs no lock; results that arrive for a track that
// already ended are discarded and counted as `stale_results`.
//
// Rate: at most rate_hz classifications per track per second (by pts): Submit skips a track
// whose previous submitted crop is younger than 0.95/rate_hz (see Due; counted in
// `rate_skipped`, which is policy, not loss). Drops: jobs.dropped = crops that the worker never ran (the queue
// kept newer ones); results.dropped = results the caller did not Poll in time. Once idle,
// jobs.pushed == classified + failed + jobs.dropped.
//
// Capacity: the job edge keeps the newest `queue_capacity` crops, whatever their track; make
// it at least the number of faces classified per frame, or the first faces of each frame are
// the ones discarded, frame after frame. kKeepLatest (capacity 1) therefore suits one face:
// with several faces and a worker slower than the frame rate it classifies only the last
// face of each frame. (A per-track slot would be fairer; the rate cap makes it moot in
// practice: 4 faces at 10 Hz need 40 classifications/s, a few ms each.) kPrivate: if the
// worker stalls for longer than capacity + 16 pushes, new crops are refused instead (counted
// as overflow); kShared always discards the oldest.
//
// Where the network runs (options.inference): kShared (the default) submits the crops to the
// process-wide InferencePool of emotion.json (engine/nn/inference_pool.h), which batches the
// crops of every stream of the process and serves the streams round-robin, so a busy stream
// cannot starve the others; each worker is one pool stream whose queue keeps the newest
// `queue_capacity` crops (drop-oldest, counted as jobs.dropped as above; Submit takes the
// pool's lock only to queue the crop, never for a network run). kPrivate runs its own
// classifier on its own thread, as drawn above. The results are the same network's outputs
// either way (batched within 1e-5: tests/emotion/emotion_worker_test.cc), and so are the
// counters' meaning. The shared part with LivenessWorker (rate check, track book, result edge,
// counters) is engine/graph/track_worker.h.
//
// For a GStreamer element: the streaming thread calls Submit (or Push, with a crop sampled
// from the mapped buffer) and Poll/Latest per buffer, and attaches Latest(id).ToEmotion()
// to the frame's face metadata; start()/stop() map to Create/destructor.
//
// Threading: every method except stats() belongs to one thread (the caller's); the worker
// thread is internal and joined by the destructor. stats() may be read from any thread.
// Lifetime: the destructor cancels the job edge, lets the worker finish its current crop, and
// joins it (kShared: leaves its pool stream, waiting for a batch that holds one of its
// crops); queued crops are discarded (counted).
//
// Example:
//   fg::EmotionWorkerOptions o;  o.models_dir = dir;  o.rate_hz = 10;
//   auto w = fg::EmotionWorker::Create(o, &err);      // err names the model file on failure
//   per frame:
//     for (auto& f : faces.faces) w->Submit(view, f, faces.pts_ns);
//     w->Poll();
//     for (auto& f : faces.faces) if (auto* s = w->Latest(f.id)) f.emotion = s->ToEmotion();
//     w->EndStale(faces.pts_ns);
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/emotion/emotion_classifier.h"
#include "engine/emotion/emotion_tracker.h"
#include "engine/face.h"
#include "engine/graph/spsc_edge.h"
#include "engine/graph/track_worker.h"
#include "engine/image.h"

namespace fg {

struct EmotionWorkerOptions {
  std::string models_dir;         // holds emotion.json
  std::string backend = "auto";
  double rate_hz = 10.0;          // classifications per track per second; <= 0: every Submit
  size_t queue_capacity = 4;      // crops kept for the worker (newest)
  Backpressure policy = Backpressure::kDropOldest;  // kDropOldest or kKeepLatest
  size_t result_capacity = 64;    // results kept for Poll (newest)
  Inference inference = Inference::kShared;  // the process-wide pool, or an own thread
  int max_batch = 8;              // kShared: the pool's largest batch
  EmotionCropOptions crop;
  EmotionSmoothingOptions smoothing;
};

// One crop for the worker: what a GStreamer element would push.
struct EmotionJob {
  int64_t id = -1;
  int64_t pts_ns = -1;
  std::array<float, kEmotionCropElements> crop;
};

// One classification, as the worker hands it back.
struct EmotionResult {
  int64_t id = -1;
  int64_t pts_ns = -1;
  EmotionProbs probs{};
};

// The counters (engine/graph/track_worker.h): submitted = Submit/Push calls that passed the
// rate check; classified = crops the network ran; jobs.dropped = crops it never ran.
using EmotionWorkerStats = TrackWorkerStats;

struct EmotionWorkerSpec {
  using Job = EmotionJob;
  using Result = EmotionResult;
  using Tracks = EmotionTracks;
  using State = EmotionState;
  static void Update(EmotionTracks& t, const EmotionResult& r) { t.Update(r.id, r.probs, r.pts_ns); }
};

class EmotionWorker : public TrackWorker<EmotionWorkerSpec> {
 public:
  static std::unique_ptr<EmotionWorker> Create(const EmotionWorkerOptions& opts,
                                               std::string* error);
  ~EmotionWorker();

  // Inherited (track_worker.h): Due(id, pts) (the rate check; an element that samples its own
  // crops calls it first and samples only on "yes"), Poll(), Latest(id), EndTrack(id),
  // EndStale(now), tracks(), stats() (any thread), WaitIdle(timeout_s).

  // Rate check, crop sampling from the frame, hand-off. True when a crop was queued.
  bool Submit(const ImageView& frame, const Face& face, int64_t pts_ns);
  // Rate check and hand-off of a crop sampled elsewhere (kEmotionCropElements floats, as
  // SampleEmotionCrop fills them). True when it was queued.
  bool Push(int64_t id, int64_t pts_ns, const float* crop);

 private:
  explicit EmotionWorker(const EmotionWorkerOptions& opts);

  EmotionWorkerOptions opts_;
  std::unique_ptr<EmotionJob> scratch_;  // the caller's crop buffer (heap: 16 KiB)
};

}  // namespace fg
