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
// practice: 4 faces at 10 Hz need 40 classifications/s, a few ms each.) If the worker stalls
// for longer than capacity + 16 pushes, new crops are refused instead (counted as overflow).
//
// For a GStreamer element: the streaming thread calls Submit (or Push, with a crop sampled
// from the mapped buffer) and Poll/Latest per buffer, and attaches Latest(id).ToEmotion()
// to the frame's face metadata; start()/stop() map to Create/destructor.
//
// Threading: every method except stats() belongs to one thread (the caller's); the worker
// thread is internal and joined by the destructor. stats() may be read from any thread.
// Lifetime: the destructor cancels the job edge, lets the worker finish its current crop, and
// joins it; queued crops are discarded (counted).
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
#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "engine/emotion/emotion_classifier.h"
#include "engine/emotion/emotion_tracker.h"
#include "engine/face.h"
#include "engine/graph/spsc_edge.h"
#include "engine/image.h"

namespace fg {

struct EmotionWorkerOptions {
  std::string models_dir;         // holds emotion.json
  std::string backend = "auto";
  double rate_hz = 10.0;          // classifications per track per second; <= 0: every Submit
  size_t queue_capacity = 4;      // crops kept for the worker (newest)
  Backpressure policy = Backpressure::kDropOldest;  // kDropOldest or kKeepLatest
  size_t result_capacity = 64;    // results kept for Poll (newest)
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

struct EmotionWorkerStats {
  EdgeCounters jobs, results;
  uint64_t submitted = 0;       // Submit/Push calls that passed the rate check
  uint64_t rate_skipped = 0;    // Submit calls skipped by rate_hz (by design, not loss)
  uint64_t crop_failed = 0;     // faces without a usable mesh
  uint64_t classified = 0;      // crops the worker ran
  uint64_t failed = 0;          // crops whose network run failed
  uint64_t stale_results = 0;   // results for tracks that had ended
};

class EmotionWorker {
 public:
  static std::unique_ptr<EmotionWorker> Create(const EmotionWorkerOptions& opts,
                                               std::string* error);
  ~EmotionWorker();
  EmotionWorker(const EmotionWorker&) = delete;
  EmotionWorker& operator=(const EmotionWorker&) = delete;

  // The rate check: records that the track is on the frame at pts_ns (for EndStale) and
  // says whether a crop taken now would be classified; a "no" is counted in rate_skipped.
  // Submit and Push call it; an element that samples its own crops calls it first and
  // samples only on "yes". A crop is due when at least 0.95/rate_hz s passed since the
  // track's last one (the 5 % absorbs frame-time rounding: 10 Hz on 30 fps video takes
  // every third frame, not every fourth).
  bool Due(int64_t id, int64_t pts_ns);
  // Rate check, crop sampling from the frame, hand-off. True when a crop was queued.
  bool Submit(const ImageView& frame, const Face& face, int64_t pts_ns);
  // Rate check and hand-off of a crop sampled elsewhere (kEmotionCropElements floats, as
  // SampleEmotionCrop fills them). True when it was queued.
  bool Push(int64_t id, int64_t pts_ns, const float* crop);
  // Takes the results that arrived into the per-track state; returns how many were taken.
  size_t Poll();
  // The newest state of a track; nullptr before its first result or after it ended.
  const EmotionState* Latest(int64_t id) const { return tracks_.Get(id); }
  // The track is gone: its state and rate bookkeeping are dropped now, its late results
  // discarded.
  void EndTrack(int64_t id);
  // Ends every track not seen (Due/Submit/Push) for smoothing.track_timeout_s; returns how
  // many.
  size_t EndStale(int64_t now_ns);
  size_t tracks() const { return tracks_.size(); }

  // Any thread.
  EmotionWorkerStats stats() const;
  // Caller's thread, for tests and flushing at end of stream: waits (up to timeout_s) until
  // the worker has run or dropped every queued crop, then Polls. True when idle in time.
  bool WaitIdle(double timeout_s);

 private:
  EmotionWorker(const EmotionWorkerOptions& opts);
  void Loop();
  struct Book {
    int64_t last_submit_ns = INT64_MIN;  // pts of the track's last queued crop
    int64_t last_seen_ns = INT64_MIN;
  };

  EmotionWorkerOptions opts_;
  std::unique_ptr<EmotionClassifier> classifier_;  // used only by the worker thread
  SpscEdge<EmotionJob> jobs_;
  SpscEdge<EmotionResult> results_;
  std::unique_ptr<EmotionJob> scratch_;  // the caller's crop buffer (heap: 16 KiB)
  EmotionTracks tracks_;                 // caller's thread only
  // Caller's thread only: the live tracks. A result is taken only for an id in here, so a
  // late result of an ended track cannot bring its state back. Inserts on a new id only.
  std::unordered_map<int64_t, Book> book_;
  // Written only by the caller's thread (relaxed load + store), read by stats().
  std::atomic<uint64_t> submitted_{0}, rate_skipped_{0}, crop_failed_{0}, stale_{0};
  // Written only by the worker thread.
  std::atomic<uint64_t> classified_{0}, failed_{0};
  std::thread worker_;
};

}  // namespace fg
