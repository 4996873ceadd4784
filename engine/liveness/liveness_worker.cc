#include "engine/liveness/liveness_worker.h"

#include <chrono>
#include <cstring>

namespace fg {

namespace {
// Counter with one writer thread: a relaxed load + store is enough.
void Bump(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}
}  // namespace

LivenessWorker::LivenessWorker(const LivenessWorkerOptions& opts)
    : opts_(opts),
      jobs_(opts.queue_capacity, opts.policy),
      results_(opts.result_capacity, Backpressure::kDropOldest),
      scratch_(std::make_unique<LivenessJob>()),
      crop_(kLivenessCropElements),
      tracks_(opts.smoothing) {}

std::unique_ptr<LivenessWorker> LivenessWorker::Create(const LivenessWorkerOptions& opts,
                                                       std::string* error) {
  if (opts.policy == Backpressure::kBlock) {
    *error = "LivenessWorker: policy 'block' would stall the caller; use drop-oldest or keep-latest";
    return nullptr;
  }
  auto c = LivenessClassifier::Create(opts.models_dir, opts.backend, error);
  if (!c) return nullptr;
  std::unique_ptr<LivenessWorker> w(new LivenessWorker(opts));
  w->classifier_ = std::move(c);
  w->worker_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

LivenessWorker::~LivenessWorker() {
  jobs_.Cancel();  // the worker finishes the job it is running, then leaves
  if (worker_.joinable()) worker_.join();
  jobs_.DiscardRemaining();
}

void LivenessWorker::Loop() {
  // Worker thread: the only user of classifier_, consumer of jobs_, producer of results_.
  while (auto job = jobs_.Pop()) {
    std::memcpy(classifier_->antispoof_input(), job->antispoof.data(),
                sizeof(float) * kAntispoofInputElements);
    std::memcpy(classifier_->liveness_input(), job->liveness.data(),
                sizeof(float) * kLivenessInputElements);
    LivenessResult r;
    r.id = job->id;
    r.pts_ns = job->pts_ns;
    if (classifier_->Run(&r.scores)) {
      results_.Push(r);
      Bump(classified_);
    } else {
      Bump(failed_);
    }
  }
}

bool LivenessWorker::Due(int64_t id, int64_t pts_ns) {
  Book& b = book_[id];  // allocates for a new track only
  b.last_seen_ns = std::max(b.last_seen_ns, pts_ns);
  tracks_.Seen(id, pts_ns);
  bool due = true;
  if (opts_.rate_hz > 0 && b.last_submit_ns != INT64_MIN) {
    const double since_s = 1e-9 * static_cast<double>(pts_ns - b.last_submit_ns);
    due = since_s >= 0.95 / opts_.rate_hz;
  }
  if (!due) Bump(rate_skipped_);
  return due;
}

bool LivenessWorker::Submit(const ImageView& frame, const Face& face, int64_t pts_ns) {
  if (!Due(face.id, pts_ns)) return false;
  if (!SampleLivenessCrop(frame, face.landmarks, opts_.crop, crop_.data())) {
    Bump(crop_failed_);
    return false;
  }
  PrepareLivenessInputs(crop_.data(), scratch_->antispoof.data(), scratch_->liveness.data());
  scratch_->id = face.id;
  scratch_->pts_ns = pts_ns;
  book_[face.id].last_submit_ns = pts_ns;
  Bump(submitted_);
  return jobs_.Push(*scratch_);
}

size_t LivenessWorker::Poll() {
  size_t n = 0;
  while (auto r = results_.TryPop()) {
    if (!book_.contains(r->id)) {
      Bump(stale_);
      continue;
    }
    tracks_.Update(r->id, r->scores, r->pts_ns);
    ++n;
  }
  return n;
}

void LivenessWorker::EndTrack(int64_t id) {
  book_.erase(id);
  tracks_.End(id);
}

size_t LivenessWorker::EndStale(int64_t now_ns) {
  const auto timeout = static_cast<int64_t>(opts_.smoothing.track_timeout_s * 1e9);
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

LivenessWorkerStats LivenessWorker::stats() const {
  LivenessWorkerStats s;
  s.jobs = jobs_.Counters();
  s.results = results_.Counters();
  s.submitted = submitted_.load(std::memory_order_relaxed);
  s.rate_skipped = rate_skipped_.load(std::memory_order_relaxed);
  s.crop_failed = crop_failed_.load(std::memory_order_relaxed);
  s.classified = classified_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.stale_results = stale_.load(std::memory_order_relaxed);
  return s;
}

bool LivenessWorker::WaitIdle(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const LivenessWorkerStats s = stats();
    if (s.jobs.pushed == s.jobs.delivered + s.jobs.dropped &&
        s.jobs.delivered == s.classified + s.failed)
      break;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  Poll();
  return true;
}

}  // namespace fg
