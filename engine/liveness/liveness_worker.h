// LivenessWorker: the anti-spoof and liveness networks beside the video, never in its way.
// The same shape as EmotionWorker (engine/emotion/emotion_worker.h), whose contract it keeps:
//
//   caller's thread (the video)                        worker thread
//   ───────────────────────────                        ─────────────
//   Submit(frame, face, pts)
//     rate check per track (rate_hz)
//     SampleLivenessCrop 192 → resize to 128 and 32 ─► jobs: SpscEdge<LivenessJob> ─►
//                               drop-oldest / keep-latest       LivenessClassifier::Run
//   Poll(): results → LivenessTracks ◄── results: SpscEdge<LivenessResult> ◄──┘
//   Latest(id) → LivenessState (smoothed scores, decision)
//
// The caller's per-frame work for a due track is the 192x192 crop and the two resizes (it
// needs the frame, which the caller may release as soon as Submit returns); both networks run
// on the worker. Neither side ever waits: the job edge drops (never kBlock), the result edge
// drops oldest, and both count every drop. Per-track smoothing and decisions live on the
// caller's thread, fed by Poll(). Once idle, jobs.pushed == classified + failed +
// jobs.dropped.
//
// Rate: at most rate_hz runs per track per second (by pts; a crop is due 0.95/rate_hz after
// the previous one; skips are counted in `rate_skipped`, policy rather than loss).
//
// Where the networks run (options.inference): kShared (the default) submits the two inputs to
// the process-wide InferencePools of antispoof.json and liveness.json (engine/nn/
// inference_pool.h; batched across every stream of the process, round-robin): the antispoof
// pool's stream keeps the newest `queue_capacity` jobs (drop-oldest, counted), and a job whose
// antispoof run is over goes on to the liveness pool (whose stream needs no bound: only jobs
// the first pool ran reach it), whose thread hands the result back. kPrivate runs both
// networks on the worker's own thread, as drawn above. The shared part with EmotionWorker
// (rate check, track book, result edge, counters) is engine/graph/track_worker.h.
//
// Threading: every method except stats() belongs to one thread (the caller's); the worker
// thread is internal and joined by the destructor. stats() may be read from any thread.
//
// Example:
//   fg::LivenessWorkerOptions o;  o.models_dir = dir;
//   auto w = fg::LivenessWorker::Create(o, &err);      // err names the model file on failure
//   per frame:
//     for (auto& f : faces.faces) w->Submit(view, f, faces.pts_ns);
//     w->Poll();
//     for (auto& f : faces.faces) if (auto* s = w->Latest(f.id)) f.liveness = s->ToLiveness();
//     w->EndStale(faces.pts_ns);
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/face.h"
#include "engine/graph/spsc_edge.h"
#include "engine/graph/track_worker.h"
#include "engine/image.h"
#include "engine/liveness/liveness_classifier.h"
#include "engine/liveness/liveness_tracker.h"

namespace fg {

struct LivenessWorkerOptions {
  std::string models_dir;       // holds antispoof.json and liveness.json
  std::string backend = "auto";
  double rate_hz = 5.0;         // runs per track per second; <= 0: every Submit
  size_t queue_capacity = 4;    // crops kept for the worker (newest)
  Backpressure policy = Backpressure::kDropOldest;
  size_t result_capacity = 64;
  Inference inference = Inference::kShared;  // the process-wide pools, or an own thread
  int max_batch = 8;            // kShared: the pools' largest batch
  LivenessCropOptions crop;
  LivenessSmoothingOptions smoothing;
};

// One face for the worker: both networks' inputs.
struct LivenessJob {
  int64_t id = -1;
  int64_t pts_ns = -1;
  std::array<float, kAntispoofInputElements> antispoof;
  std::array<float, kLivenessInputElements> liveness;
};

struct LivenessResult {
  int64_t id = -1;
  int64_t pts_ns = -1;
  LivenessScores scores;
};

using LivenessWorkerStats = TrackWorkerStats;

struct LivenessWorkerSpec {
  using Job = LivenessJob;
  using Result = LivenessResult;
  using Tracks = LivenessTracks;
  using State = LivenessState;
  static void Update(LivenessTracks& t, const LivenessResult& r) { t.Update(r.id, r.scores, r.pts_ns); }
};

class LivenessWorker : public TrackWorker<LivenessWorkerSpec> {
 public:
  static std::unique_ptr<LivenessWorker> Create(const LivenessWorkerOptions& opts,
                                                std::string* error);
  ~LivenessWorker();

  // Inherited (track_worker.h): Due(id, pts) (the rate check, see EmotionWorker), Poll(),
  // Latest(id), EndTrack(id), EndStale(now), tracks(), stats() (any thread), WaitIdle(s).

  // Rate check, crop, hand-off. True when a job was queued.
  bool Submit(const ImageView& frame, const Face& face, int64_t pts_ns);

 private:
  explicit LivenessWorker(const LivenessWorkerOptions& opts);

  LivenessWorkerOptions opts_;
  std::unique_ptr<LivenessJob> scratch_;  // caller's job buffer (heap: 200 KiB)
  std::vector<float> crop_;               // caller's 192x192 crop
};

}  // namespace fg
