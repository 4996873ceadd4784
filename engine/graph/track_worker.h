// TrackWorker: the half of a per-track network worker that is the same for every analysis
// (EmotionWorker, LivenessWorker): the per-track rate check, the live-track book, the
// hand-off of jobs to a runner that never makes the caller wait, the result edge back to the
// caller's thread, the per-track state fed by Poll(), and the counters.
//
//   caller's thread (the video)                        off the caller's thread
//   ───────────────────────────                        ───────────────────────
//   Due(id, pts): rate check, track seen
//   Queue(job) ──► JobRunner::Push ──► ThreadRunner: SpscEdge<Job> ─► own thread ─► run(job)
//                  (never waits)       or a shared InferencePool stream (the element's
//                                      worker: emotion_worker.cc, liveness_worker.cc)
//                                                                         │ TrackSink::Done
//   Poll(): results → Tracks ◄──── results: SpscEdge<Result> ◄────────────┘  (one producer)
//   Latest(id) → State
//
// Spec (one per analysis) names the types and how a result updates the per-track state:
//   struct Spec {
//     using Job = ...;     // int64_t id, pts_ns; the network input(s)
//     using Result = ...;  // int64_t id, pts_ns; the network output
//     using Tracks = ...;  // Update(id, value, pts), Get, Seen, End, size (e.g. EmotionTracks)
//     using State = ...;   // what Tracks::Get returns
//     static void Update(Tracks&, const Result&);
//   };
//
// Counters (TrackWorkerStats): jobs = the runner's job counters (pushed, delivered to the
// network, dropped by the back-pressure policy), classified / failed = network runs that gave
// a result / failed, results = the result edge's counters. Once idle:
// jobs.pushed == classified + failed + jobs.dropped.
//
// Threading: every public method except stats() belongs to one thread (the caller's);
// stats() may be read from any thread. A runner reports each job at most once through the
// TrackSink, Done() from one thread at a time (the result edge is single-producer). Lifetime:
// the destructor destroys the runner first (it stops: no TrackSink call after), then the
// edges.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <utility>

#include "engine/graph/spsc_edge.h"

namespace fg {

// Where a worker's network runs: kShared, the process-wide InferencePool of its model
// (batched across every stream of the process, round-robin: engine/nn/inference_pool.h);
// kPrivate, the worker's own thread and network (ThreadRunner).
enum class Inference { kShared, kPrivate };

inline const char* InferenceName(Inference i) { return i == Inference::kShared ? "shared" : "private"; }

struct TrackWorkerStats {
  EdgeCounters jobs, results;
  uint64_t submitted = 0;       // jobs queued (the rate check said yes and the crop was taken)
  uint64_t rate_skipped = 0;    // Due said no (rate_hz: by design, not loss)
  uint64_t crop_failed = 0;     // faces without a usable mesh
  uint64_t classified = 0;      // jobs the network ran
  uint64_t failed = 0;          // jobs whose network run failed
  uint64_t stale_results = 0;   // results for tracks that had ended
  // Shared inference only: the most batches that completed between one of this worker's
  // jobs entering the pool and its own batch completing (InferencePool::StreamStats).
  uint64_t max_wait_batches = 0;
};

// Where a runner reports a job's end. Done: from one thread at a time; Failed: any thread.
template <class Result>
class TrackSink {
 public:
  explicit TrackSink(size_t result_capacity)
      : results_(result_capacity, Backpressure::kDropOldest) {}
  void Done(const Result& r) {
    results_.Push(r);
    classified_.fetch_add(1, std::memory_order_relaxed);
  }
  void Failed() { failed_.fetch_add(1, std::memory_order_relaxed); }

  SpscEdge<Result>& results() { return results_; }
  const SpscEdge<Result>& results() const { return results_; }
  uint64_t classified() const { return classified_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  SpscEdge<Result> results_;
  std::atomic<uint64_t> classified_{0}, failed_{0};
};

// The network side of a TrackWorker. Push never waits; the destructor stops the runner, after
// which it never touches the sink again; jobs it still held are neither run nor reported
// (TrackWorker's caller counts them: pushed - finished - dropped).
template <class Job, class Result>
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  // Caller's thread. False when refused (counted in Counters().dropped).
  virtual bool Push(const Job& job) = 0;
  // Any thread: pushed, delivered (handed to the network), dropped (by the policy).
  virtual EdgeCounters Counters() const = 0;
  virtual uint64_t MaxWaitBatches() const { return 0; }
};

// The private runner: an own thread fed by a drop-oldest / keep-latest SpscEdge, running
// `run` (which owns the network: it is used by this thread only). What EmotionWorker and
// LivenessWorker did before the shared pool, unchanged.
template <class Job, class Result>
class ThreadRunner final : public JobRunner<Job, Result> {
 public:
  // Worker thread: runs the network on the job; fills the result's value (id and pts are
  // set); false when the run failed.
  using RunFn = std::function<bool(const Job&, Result*)>;

  ThreadRunner(size_t capacity, Backpressure policy, RunFn run, TrackSink<Result>* sink)
      : jobs_(capacity, policy), run_(std::move(run)), sink_(sink) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ThreadRunner() override {
    jobs_.Cancel();  // wakes the thread; it finishes the job it is running, then leaves
    if (thread_.joinable()) thread_.join();
    jobs_.DiscardRemaining();  // both sides stopped: counted as dropped
  }
  bool Push(const Job& job) override { return jobs_.Push(job); }
  EdgeCounters Counters() const override { return jobs_.Counters(); }

 private:
  void Loop() {
    // The only consumer of jobs_, the only user of run_, the only producer of the results.
    while (auto job = jobs_.Pop()) {
      Result r;
      r.id = job->id;
      r.pts_ns = job->pts_ns;
      if (run_(*job, &r))
        sink_->Done(r);
      else
        sink_->Failed();
    }
  }

  SpscEdge<Job> jobs_;
  RunFn run_;
  TrackSink<Result>* sink_;
  std::thread thread_;
};

template <class Spec>
class TrackWorker {
 public:
  using Job = typename Spec::Job;
  using Result = typename Spec::Result;
  using Tracks = typename Spec::Tracks;
  using State = typename Spec::State;

  TrackWorker(const TrackWorker&) = delete;
  TrackWorker& operator=(const TrackWorker&) = delete;

  // The rate check: records that the track is on the frame at pts_ns (for EndStale) and says
  // whether a job taken now would be run; a "no" is counted in rate_skipped. A job is due
  // when at least 0.95/rate_hz s passed since the track's last one (the 5 % absorbs
  // frame-time rounding: 10 Hz on 30 fps video takes every third frame, not every fourth).
  bool Due(int64_t id, int64_t pts_ns) {
    Book& b = book_[id];  // allocates for a new track only
    b.last_seen_ns = std::max(b.last_seen_ns, pts_ns);
    tracks_.Seen(id, pts_ns);
    bool due = true;
    if (rate_hz_ > 0 && b.last_submit_ns != INT64_MIN) {
      const double since_s = 1e-9 * static_cast<double>(pts_ns - b.last_submit_ns);
      due = since_s >= 0.95 / rate_hz_;
    }
    if (!due) Bump(rate_skipped_);
    return due;
  }

  // Takes the results that arrived into the per-track state; returns how many were taken.
  size_t Poll() {
    size_t n = 0;
    while (auto r = sink_.results().TryPop()) {
      if (!book_.contains(r->id)) {  // the track ended: its late result must not revive it
        Bump(stale_);
        continue;
      }
      Spec::Update(tracks_, *r);
      ++n;
    }
    return n;
  }

  // The newest state of a track; nullptr before its first result or after it ended.
  const State* Latest(int64_t id) const { return tracks_.Get(id); }
  // The track is gone: its state and rate bookkeeping are dropped now, its late results
  // discarded.
  void EndTrack(int64_t id) {
    book_.erase(id);
    tracks_.End(id);
  }
  // Ends every track not seen for track_timeout_s; returns how many.
  size_t EndStale(int64_t now_ns) {
    const auto timeout = static_cast<int64_t>(track_timeout_s_ * 1e9);
    size_t n = 0;
    for (auto it = book_.begin(); it != book_.end();) {
      if (now_ns - it->second.last_seen_ns > timeout) {
        tracks_.End(it->first);
        it = book_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  size_t tracks() const { return tracks_.size(); }

  // Any thread.
  TrackWorkerStats stats() const {
    TrackWorkerStats s;
    s.jobs = runner_->Counters();
    s.results = sink_.results().Counters();
    s.submitted = submitted_.load(std::memory_order_relaxed);
    s.rate_skipped = rate_skipped_.load(std::memory_order_relaxed);
    s.crop_failed = crop_failed_.load(std::memory_order_relaxed);
    s.classified = sink_.classified();
    s.failed = sink_.failed();
    s.stale_results = stale_.load(std::memory_order_relaxed);
    s.max_wait_batches = runner_->MaxWaitBatches();
    return s;
  }

  // Caller's thread, for tests and flushing at end of stream: waits (up to timeout_s) until
  // every queued job was run or dropped, then Polls. True when idle in time.
  bool WaitIdle(double timeout_s) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      // A job counts as delivered (or dropped) when the network side takes it, and as
      // classified / failed when its run is over: idle once every pushed job is accounted for
      // and none is being run.
      const TrackWorkerStats s = stats();
      if (s.jobs.pushed == s.jobs.delivered + s.jobs.dropped &&
          s.jobs.delivered == s.classified + s.failed)
        break;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    Poll();
    return true;
  }

 protected:
  TrackWorker(double rate_hz, double track_timeout_s, size_t result_capacity, Tracks tracks)
      : rate_hz_(rate_hz),
        track_timeout_s_(track_timeout_s),
        sink_(result_capacity),
        tracks_(std::move(tracks)) {}
  ~TrackWorker() { runner_.reset(); }  // no TrackSink call after this line

  // Set once, by the subclass's Create, before any other call.
  void SetRunner(std::unique_ptr<JobRunner<Job, Result>> runner) { runner_ = std::move(runner); }
  TrackSink<Result>* sink() { return &sink_; }

  // Hands a job the subclass filled (after Due said yes) to the runner; books the track's
  // submit time. True when it was queued.
  bool Queue(const Job& job) {
    book_[job.id].last_submit_ns = job.pts_ns;
    Bump(submitted_);
    return runner_->Push(job);
  }
  void CropFailed() { Bump(crop_failed_); }

 private:
  struct Book {
    int64_t last_submit_ns = INT64_MIN;  // pts of the track's last queued job
    int64_t last_seen_ns = INT64_MIN;
  };
  // Caller-owned counter: only one thread writes it, so a relaxed load + store is enough.
  static void Bump(std::atomic<uint64_t>& c) {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  const double rate_hz_;
  const double track_timeout_s_;
  TrackSink<Result> sink_;
  std::unique_ptr<JobRunner<Job, Result>> runner_;  // after sink_: destroyed first (and reset)
  Tracks tracks_;  // caller's thread only
  // Caller's thread only: the live tracks. A result is taken only for an id in here, so a
  // late result of an ended track cannot bring its state back. Inserts on a new id only.
  std::unordered_map<int64_t, Book> book_;
  // Written only by the caller's thread, read by stats().
  std::atomic<uint64_t> submitted_{0}, rate_skipped_{0}, crop_failed_{0}, stale_{0};
};

}  // namespace fg
