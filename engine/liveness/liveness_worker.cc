#include "engine/liveness/liveness_worker.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "engine/nn/inference_pool.h"

namespace fg {

namespace {

using Runner = JobRunner<LivenessJob, LivenessResult>;

// kShared: one stream of the antispoof pool, then one of the liveness pool.
//
//   Push ─► antispoof pool stream (newest `capacity` kept) ─► done (antispoof thread):
//           real = out[0]; Submit(liveness input) ─► liveness pool stream ─► done (liveness
//           thread): sink->Done({real, live})
//
// Only the liveness pool's thread calls sink->Done (single producer); sink->Failed may come
// from either (an atomic counter).
class PoolRunner final : public Runner {
 public:
  PoolRunner(std::shared_ptr<nn::InferencePool> antispoof,
             std::shared_ptr<nn::InferencePool> liveness, size_t capacity,
             TrackSink<LivenessResult>* sink)
      : antispoof_(std::move(antispoof)),
        liveness_(std::move(liveness)),
        sink_(sink),
        a_(antispoof_->AddStream(capacity)),
        l_(liveness_->AddStream(0)) {}
  // First the antispoof stream (after which no job goes on to the liveness pool), then the
  // liveness stream (after which no done() of this runner runs).
  ~PoolRunner() override {
    antispoof_->RemoveStream(a_);
    liveness_->RemoveStream(l_);
  }

  bool Push(const LivenessJob& job) override {
    // The liveness input waits in the closure while the antispoof network runs.
    std::vector<float> live_in(job.liveness.begin(), job.liveness.end());
    const bool ok = antispoof_->Submit(
        a_, job.antispoof.data(),
        [this, id = job.id, pts = job.pts_ns,
         live_in = std::move(live_in)](std::span<const float* const> out) {
          if (out.empty() || !out[0]) {
            sink_->Failed();
            return;
          }
          const float real = out[0][0];
          TrackSink<LivenessResult>* sink = sink_;
          const bool queued = liveness_->Submit(
              l_, live_in.data(), [sink, id, pts, real](std::span<const float* const> out2) {
                if (out2.empty() || !out2[0]) {
                  sink->Failed();
                  return;
                }
                LivenessResult r;
                r.id = id;
                r.pts_ns = pts;
                r.scores.real = real;
                r.scores.live = out2[0][0];
                sink->Done(r);
              });
          if (!queued) sink_->Failed();  // only while the runner is being destroyed
        });
    if (!ok) refused_.fetch_add(1, std::memory_order_relaxed);
    return ok;
  }

  EdgeCounters Counters() const override {
    const nn::InferencePool::StreamStats a = antispoof_->stream_stats(a_);
    const nn::InferencePool::StreamStats l = liveness_->stream_stats(l_);
    const uint64_t refused = refused_.load(std::memory_order_relaxed);
    EdgeCounters c;
    c.pushed = a.submitted + refused;
    c.delivered = a.taken;  // from here a job is the networks': classified or failed
    c.dropped = a.dropped + l.dropped + refused;
    return c;
  }
  uint64_t MaxWaitBatches() const override {
    return antispoof_->stream_stats(a_).max_wait_batches +
           liveness_->stream_stats(l_).max_wait_batches;
  }

 private:
  std::shared_ptr<nn::InferencePool> antispoof_, liveness_;
  TrackSink<LivenessResult>* sink_;
  const int a_, l_;
  std::atomic<uint64_t> refused_{0};
};

// The shared pool of one of the two models, its shapes checked; nullptr with *error.
std::shared_ptr<nn::InferencePool> SharedPool(const LivenessWorkerOptions& opts,
                                              const std::string& file, int size, int outputs,
                                              std::string* error) {
  auto pool = nn::InferencePool::Shared(
      {.model_json = file, .backend = opts.backend, .max_batch = opts.max_batch});
  if (!pool.ok()) {
    *error = pool.status().message();
    if (error->find("fixed batch") != std::string::npos)
      *error += " (inference=private runs it on the element's own thread)";
    return nullptr;
  }
  const nn::InferencePool& p = *pool.value();
  *error = CheckLivenessShapes(file, size, outputs, 1, p.output_shapes().size(), p.input_shape(),
                               p.output_shapes().empty() ? nn::Shape{} : p.output_shapes()[0]);
  if (!error->empty()) return nullptr;
  return std::move(pool).value();
}

}  // namespace

LivenessWorker::LivenessWorker(const LivenessWorkerOptions& opts)
    : TrackWorker(opts.rate_hz, opts.smoothing.track_timeout_s, opts.result_capacity,
                  LivenessTracks(opts.smoothing)),
      opts_(opts),
      scratch_(std::make_unique<LivenessJob>()),
      crop_(kLivenessCropElements) {}

LivenessWorker::~LivenessWorker() = default;

std::unique_ptr<LivenessWorker> LivenessWorker::Create(const LivenessWorkerOptions& opts,
                                                       std::string* error) {
  if (opts.policy == Backpressure::kBlock) {
    *error = "LivenessWorker: policy 'block' would stall the caller; use drop-oldest or keep-latest";
    return nullptr;
  }
  std::unique_ptr<LivenessWorker> w(new LivenessWorker(opts));
  if (opts.inference == Inference::kShared) {
    auto antispoof = SharedPool(opts, opts.models_dir + "/antispoof.json", kAntispoofInputSize, 1, error);
    if (!antispoof) return nullptr;
    auto liveness = SharedPool(opts, opts.models_dir + "/liveness.json", kLivenessInputSize, 2, error);
    if (!liveness) return nullptr;
    const size_t capacity =
        opts.policy == Backpressure::kKeepLatest ? 1 : std::max<size_t>(1, opts.queue_capacity);
    w->SetRunner(std::make_unique<PoolRunner>(std::move(antispoof), std::move(liveness), capacity,
                                              w->sink()));
    return w;
  }
  std::shared_ptr<LivenessClassifier> c = LivenessClassifier::Create(opts.models_dir, opts.backend, error);
  if (!c) return nullptr;
  w->SetRunner(std::make_unique<ThreadRunner<LivenessJob, LivenessResult>>(
      opts.queue_capacity, opts.policy,
      [c](const LivenessJob& job, LivenessResult* r) {
        std::memcpy(c->antispoof_input(), job.antispoof.data(),
                    sizeof(float) * kAntispoofInputElements);
        std::memcpy(c->liveness_input(), job.liveness.data(), sizeof(float) * kLivenessInputElements);
        return c->Run(&r->scores);
      },
      w->sink()));
  return w;
}

bool LivenessWorker::Submit(const ImageView& frame, const Face& face, int64_t pts_ns) {
  if (!Due(face.id, pts_ns)) return false;
  if (!SampleLivenessCrop(frame, face.landmarks, opts_.crop, crop_.data())) {
    CropFailed();
    return false;
  }
  PrepareLivenessInputs(crop_.data(), scratch_->antispoof.data(), scratch_->liveness.data());
  scratch_->id = face.id;
  scratch_->pts_ns = pts_ns;
  return Queue(*scratch_);
}

}  // namespace fg
