#include "engine/emotion/emotion_worker.h"

#include <chrono>
#include <cstring>

namespace fg {

namespace {
// Caller-owned counter: only one thread writes it, so a relaxed load + store is enough.
void Bump(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}
}  // namespace

EmotionWorker::EmotionWorker(const EmotionWorkerOptions& opts)
    : opts_(opts),
      jobs_(opts.queue_capacity, opts.policy),
      results_(opts.result_capacity, Backpressure::kDropOldest),
      scratch_(std::make_unique<EmotionJob>()),
      tracks_(opts.smoothing) {}

std::unique_ptr<EmotionWorker> EmotionWorker::Create(const EmotionWorkerOptions& opts,
                                                     std::string* error) {
  if (opts.policy == Backpressure::kBlock) {
    // A blocking edge would make the video wait for the network: exactly what this avoids.
    *error = "EmotionWorker: policy 'block' would stall the caller; use drop-oldest or keep-latest";
    return nullptr;
  }
  auto c = EmotionClassifier::Create(opts.models_dir + "/emotion.json", opts.backend, error);
  if (!c) return nullptr;
  std::unique_ptr<EmotionWorker> w(new EmotionWorker(opts));
  w->classifier_ = std::move(c);
  w->worker_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

EmotionWorker::~EmotionWorker() {
  jobs_.Cancel();  // wakes the worker; it finishes the crop it is running, then leaves
  if (worker_.joinable()) worker_.join();
  jobs_.DiscardRemaining();  // both sides stopped: counted as dropped
}

void EmotionWorker::Loop() {
  // Worker thread: the only user of classifier_, the consumer of jobs_, the producer of
  // results_.
  while (auto job = jobs_.Pop()) {
    EmotionResult r;
    r.id = job->id;
    r.pts_ns = job->pts_ns;
    if (classifier_->Classify(job->crop.data(), &r.probs)) {
      results_.Push(r);
      Bump(classified_);
    } else {
      Bump(failed_);
    }
  }
}

bool EmotionWorker::Due(int64_t id, int64_t pts_ns) {
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

bool EmotionWorker::Submit(const ImageView& frame, const Face& face, int64_t pts_ns) {
  if (!Due(face.id, pts_ns)) return false;
  if (!SampleEmotionCrop(frame, face.landmarks, opts_.crop, scratch_->crop.data())) {
    Bump(crop_failed_);
    return false;
  }
  scratch_->id = face.id;
  scratch_->pts_ns = pts_ns;
  book_[face.id].last_submit_ns = pts_ns;
  Bump(submitted_);
  return jobs_.Push(*scratch_);
}

bool EmotionWorker::Push(int64_t id, int64_t pts_ns, const float* crop) {
  if (!Due(id, pts_ns)) return false;
  std::memcpy(scratch_->crop.data(), crop, sizeof(float) * kEmotionCropElements);
  scratch_->id = id;
  scratch_->pts_ns = pts_ns;
  book_[id].last_submit_ns = pts_ns;
  Bump(submitted_);
  return jobs_.Push(*scratch_);
}

size_t EmotionWorker::Poll() {
  size_t n = 0;
  while (auto r = results_.TryPop()) {
    if (!book_.contains(r->id)) {
      Bump(stale_);
      continue;
    }
    tracks_.Update(r->id, r->probs, r->pts_ns);
    ++n;
  }
  return n;
}

void EmotionWorker::EndTrack(int64_t id) {
  book_.erase(id);
  tracks_.End(id);
}

size_t EmotionWorker::EndStale(int64_t now_ns) {
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

EmotionWorkerStats EmotionWorker::stats() const {
  EmotionWorkerStats s;
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

bool EmotionWorker::WaitIdle(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    // The edge counts a crop as delivered (or discarded) when the worker pops, and the worker
    // bumps classified_/failed_ when it has run it: idle once every pushed crop is accounted
    // for and none is being run.
    const EmotionWorkerStats s = stats();
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
