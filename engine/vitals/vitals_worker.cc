#include "engine/vitals/vitals_worker.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/geometry/canonical_face.h"
#include "engine/vitals/region_grid.h"

namespace fg {

namespace {
// Single-writer counter: only one thread writes it, so a load + store is enough. Release, so
// that a reader who sees processed_ grow also sees the results the worker pushed before it
// (WaitIdle polls right after).
void Bump(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}
}  // namespace

Vitals ToVitals(const VitalsResult& r, bool with_bvp) {
  Vitals v = r.vitals;
  if (r.hrv_valid) {
    v.sdnn_ms = static_cast<float>(r.sdnn_ms);
    v.rmssd_ms = static_cast<float>(r.rmssd_ms);
  }
  if (r.resp_valid) v.respiration_bpm = r.resp_bpm;
  if (r.session.valid) {
    v.session_bpm = r.session.bpm;
    v.session_confidence = r.session.confidence;
  }
  v.bvp.clear();
  v.bvp_fs = 0;
  if (with_bvp && !r.bvp.empty()) {
    v.bvp = r.bvp;
    v.bvp_fs = static_cast<float>(r.bvp_fs);
  }
  return v;
}

VitalsWorker::VitalsWorker(const VitalsWorkerOptions& opts)
    : opts_(opts),
      jobs_(opts.queue_capacity, opts.lossless ? Backpressure::kBlock : Backpressure::kDropOldest),
      results_(opts.result_capacity, Backpressure::kDropOldest),
      scratch_(std::make_unique<VitalsJob>()) {}

std::unique_ptr<VitalsWorker> VitalsWorker::Create(const VitalsWorkerOptions& opts,
                                                   std::string* error) {
  std::unique_ptr<VitalsEstimator> est;
  if (opts.mode == VitalsMode::kFace) {
    const std::string path = opts.models_dir + "/" + kCanonicalFaceFile;
    auto canonical = LoadCanonicalFace(path, error);
    if (!canonical) return nullptr;
    est = VitalsEstimator::Create(*canonical, opts.vitals, error);
  } else {
    if (opts.grid_cols < 1 || opts.grid_rows < 1 ||
        opts.grid_cols * opts.grid_rows > kVitalsMaxPatches) {
      *error = "VitalsWorker: grid " + std::to_string(opts.grid_cols) + "x" +
               std::to_string(opts.grid_rows) + " must have 1.." +
               std::to_string(kVitalsMaxPatches) + " cells";
      return nullptr;
    }
    est = VitalsEstimator::Create(GridLayout(opts.grid_cols, opts.grid_rows), opts.vitals, error);
  }
  if (!est) return nullptr;
  if (est->num_patches() > kVitalsMaxPatches) {
    *error = "VitalsWorker: the estimator has " + std::to_string(est->num_patches()) +
             " patches, more than a job carries (" + std::to_string(kVitalsMaxPatches) + ")";
    return nullptr;
  }
  std::unique_ptr<VitalsWorker> w(new VitalsWorker(opts));
  w->num_patches_ = est->num_patches();
  w->graph_ = est->has_graph() ? &est->graph() : nullptr;
  w->est_ = std::move(est);
  w->worker_patches_.rgb.resize(w->num_patches_);
  w->worker_patches_.weight.resize(w->num_patches_);
  w->worker_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

VitalsWorker::~VitalsWorker() {
  jobs_.Cancel();  // wakes the worker; it finishes the job it holds, then leaves
  if (worker_.joinable()) worker_.join();
  jobs_.DiscardRemaining();  // both sides stopped: counted as dropped
}

void VitalsWorker::Loop() {
  // Worker thread: the only user of est_ and worker_patches_ / published_, the consumer of
  // jobs_, the producer of results_.
  const auto timeout = static_cast<int64_t>(opts_.track_timeout_s * 1e9);
  while (auto job = jobs_.Pop()) {
    if (opts_.before_job) opts_.before_job();
    for (int k = 0; k < num_patches_; ++k) {
      worker_patches_.rgb[k] = job->rgb[k];
      worker_patches_.weight[k] = job->weight[k];
    }
    const int64_t before = est_->dropped_frames();
    est_->PushPatches(job->id, job->pts_ns, worker_patches_, job->centre, job->size, job->pose);
    if (est_->dropped_frames() != before) Bump(rejected_);
    est_->DropTracksBefore(job->pts_ns - timeout);
    if (est_->UpdateDue() > 0) {
      // Only tracks whose result changed: the pushed one, in practice.
      for (int64_t id : est_->Tracks()) {
        const VitalsResult* r = est_->Result(id);
        if (!r) continue;
        auto [it, fresh] = published_.try_emplace(id, INT64_MIN);
        if (!fresh && it->second == r->pts_ns) continue;
        it->second = r->pts_ns;
        results_.Push(VitalsUpdate{id, *r});
        Bump(updates_);
      }
      // Forget what the estimator dropped.
      std::erase_if(published_, [&](const auto& kv) { return est_->Result(kv.first) == nullptr; });
    }
    Bump(processed_);
  }
}

bool VitalsWorker::Hand(int64_t pts_ns) {
  scratch_->pts_ns = pts_ns;
  scratch_->patches = num_patches_;
  Book& b = book_[scratch_->id];  // allocates for a new track only
  b.last_seen_ns = std::max(b.last_seen_ns, pts_ns);
  Bump(submitted_);
  return jobs_.Push(*scratch_);
}

bool VitalsWorker::Submit(const ImageView& frame, const Face& face, int64_t pts_ns) {
  if (!graph_) return false;
  const auto& lm = face.landmarks;
  if (lm.size() < static_cast<size_t>(kMeshLandmarks)) {
    Bump(no_mesh_);
    return false;
  }
  // As VitalsEstimator::Push samples it, here on the caller's thread (it needs the frame).
  const MeshPlacement at = SampleFacePatches(*graph_, frame, lm, &tri_, &patches_);
  return Push(face.id, pts_ns, patches_, at.centre, at.size, face.pose.value_or(HeadPose{}));
}

bool VitalsWorker::SubmitRegion(const ImageView& frame, int64_t pts_ns, Box* measured) {
  if (graph_) return false;
  const Box r = ClipRegion(frame, opts_.region);
  if (measured) *measured = r;
  SampleGrid(frame, r, opts_.grid_cols, opts_.grid_rows, &patches_);
  return Push(0, pts_ns, patches_, {r.x + r.w / 2, r.y + r.h / 2}, std::sqrt(r.w * r.h), HeadPose{});
}

bool VitalsWorker::Push(int64_t id, int64_t pts_ns, const PatchSamples& p,
                        std::array<float, 2> centre, float size, const HeadPose& pose) {
  if (static_cast<int>(p.weight.size()) != num_patches_ || p.rgb.size() != p.weight.size())
    return false;
  VitalsJob& j = *scratch_;
  j.id = id;
  for (int k = 0; k < num_patches_; ++k) j.rgb[k] = p.rgb[k], j.weight[k] = p.weight[k];
  j.centre = centre;
  j.size = size;
  j.pose = pose;
  return Hand(pts_ns);
}

size_t VitalsWorker::Poll(const UpdateFn& on_update) {
  size_t n = 0;
  while (auto u = results_.TryPop()) {
    auto it = book_.find(u->id);
    if (it == book_.end()) {
      Bump(stale_);
      continue;
    }
    if (on_update) on_update(*u);
    it->second.latest = std::move(u->result);
    it->second.has_result = true;
    ++n;
  }
  return n;
}

const VitalsResult* VitalsWorker::Latest(int64_t id) const {
  auto it = book_.find(id);
  return it == book_.end() || !it->second.has_result ? nullptr : &it->second.latest;
}

size_t VitalsWorker::EndStale(int64_t now_ns) {
  const auto timeout = static_cast<int64_t>(opts_.track_timeout_s * 1e9);
  return std::erase_if(book_, [&](const auto& kv) { return now_ns - kv.second.last_seen_ns > timeout; });
}

VitalsWorkerStats VitalsWorker::stats() const {
  VitalsWorkerStats s;
  s.jobs = jobs_.Counters();
  s.results = results_.Counters();
  s.submitted = submitted_.load(std::memory_order_relaxed);
  s.no_mesh = no_mesh_.load(std::memory_order_relaxed);
  s.processed = processed_.load(std::memory_order_acquire);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  s.updates = updates_.load(std::memory_order_relaxed);
  s.stale_results = stale_.load(std::memory_order_relaxed);
  return s;
}

bool VitalsWorker::WaitIdle(double timeout_s, const UpdateFn& on_update) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    // The edge counts a job as delivered (or dropped) when the worker pops it, and the worker
    // bumps processed_ once it has published what the job produced: idle once every pushed
    // job is accounted for and none is being run.
    const VitalsWorkerStats s = stats();
    if (s.jobs.pushed == s.jobs.delivered + s.jobs.dropped && s.jobs.delivered == s.processed)
      break;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  Poll(on_update);
  return true;
}

}  // namespace fg
