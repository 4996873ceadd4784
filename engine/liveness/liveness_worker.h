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
#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/face.h"
#include "engine/graph/spsc_edge.h"
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

struct LivenessWorkerStats {
  EdgeCounters jobs, results;
  uint64_t submitted = 0, rate_skipped = 0, crop_failed = 0;
  uint64_t classified = 0, failed = 0, stale_results = 0;
};

class LivenessWorker {
 public:
  static std::unique_ptr<LivenessWorker> Create(const LivenessWorkerOptions& opts,
                                                std::string* error);
  ~LivenessWorker();
  LivenessWorker(const LivenessWorker&) = delete;
  LivenessWorker& operator=(const LivenessWorker&) = delete;

  // The rate check (see EmotionWorker::Due); records that the track is on the frame.
  bool Due(int64_t id, int64_t pts_ns);
  // Rate check, crop, hand-off. True when a job was queued.
  bool Submit(const ImageView& frame, const Face& face, int64_t pts_ns);
  // Takes the results that arrived into the per-track state; returns how many.
  size_t Poll();
  const LivenessState* Latest(int64_t id) const { return tracks_.Get(id); }
  void EndTrack(int64_t id);
  size_t EndStale(int64_t now_ns);
  size_t tracks() const { return tracks_.size(); }

  LivenessWorkerStats stats() const;  // any thread
  // Caller's thread: waits (up to timeout_s) until every queued job ran or was dropped, then
  // Polls. True when idle in time.
  bool WaitIdle(double timeout_s);

 private:
  explicit LivenessWorker(const LivenessWorkerOptions& opts);
  void Loop();
  struct Book {
    int64_t last_submit_ns = INT64_MIN;
    int64_t last_seen_ns = INT64_MIN;
  };

  LivenessWorkerOptions opts_;
  std::unique_ptr<LivenessClassifier> classifier_;  // worker thread only
  SpscEdge<LivenessJob> jobs_;
  SpscEdge<LivenessResult> results_;
  std::unique_ptr<LivenessJob> scratch_;  // caller's job buffer (heap: 200 KiB)
  std::vector<float> crop_;               // caller's 192x192 crop
  LivenessTracks tracks_;                 // caller's thread only
  std::unordered_map<int64_t, Book> book_;  // caller's thread only: the live tracks
  // Written only by the caller's thread, read by stats().
  std::atomic<uint64_t> submitted_{0}, rate_skipped_{0}, crop_failed_{0}, stale_{0};
  // Written only by the worker thread.
  std::atomic<uint64_t> classified_{0}, failed_{0};
  std::thread worker_;
};

}  // namespace fg
