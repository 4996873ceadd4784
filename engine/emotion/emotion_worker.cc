#include "engine/emotion/emotion_worker.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "engine/nn/inference_pool.h"

namespace fg {

namespace {

using Runner = JobRunner<EmotionJob, EmotionResult>;

// kShared: one stream of the process-wide emotion pool. The pool's thread is the only one
// that calls the sink (Done is single-producer).
class PoolRunner final : public Runner {
 public:
  PoolRunner(std::shared_ptr<nn::InferencePool> pool, size_t capacity,
             TrackSink<EmotionResult>* sink)
      : pool_(std::move(pool)), sink_(sink), stream_(pool_->AddStream(capacity)) {}
  // After RemoveStream no done() of this stream runs: the sink may go.
  ~PoolRunner() override { pool_->RemoveStream(stream_); }

  bool Push(const EmotionJob& job) override {
    const bool ok = pool_->Submit(
        stream_, job.crop.data(),
        [sink = sink_, id = job.id, pts = job.pts_ns](std::span<const float* const> out) {
          if (out.empty() || !out[0]) {
            sink->Failed();
            return;
          }
          EmotionResult r;
          r.id = id;
          r.pts_ns = pts;
          std::memcpy(r.probs.data(), out[0], sizeof(float) * kEmotionClasses);
          sink->Done(r);
        });
    if (!ok) refused_.fetch_add(1, std::memory_order_relaxed);
    return ok;
  }

  EdgeCounters Counters() const override {
    const nn::InferencePool::StreamStats s = pool_->stream_stats(stream_);
    const uint64_t refused = refused_.load(std::memory_order_relaxed);
    EdgeCounters c;
    c.pushed = s.submitted + refused;
    c.delivered = s.taken;
    c.dropped = s.dropped + refused;
    return c;
  }
  uint64_t MaxWaitBatches() const override { return pool_->stream_stats(stream_).max_wait_batches; }

 private:
  std::shared_ptr<nn::InferencePool> pool_;
  TrackSink<EmotionResult>* sink_;
  const int stream_;
  std::atomic<uint64_t> refused_{0};  // caller's thread only (Submit refused: never in use)
};

}  // namespace

EmotionWorker::EmotionWorker(const EmotionWorkerOptions& opts)
    : TrackWorker(opts.rate_hz, opts.smoothing.track_timeout_s, opts.result_capacity,
                  EmotionTracks(opts.smoothing)),
      opts_(opts),
      scratch_(std::make_unique<EmotionJob>()) {}

EmotionWorker::~EmotionWorker() = default;

std::unique_ptr<EmotionWorker> EmotionWorker::Create(const EmotionWorkerOptions& opts,
                                                     std::string* error) {
  if (opts.policy == Backpressure::kBlock) {
    // A blocking edge would make the video wait for the network: exactly what this avoids.
    *error = "EmotionWorker: policy 'block' would stall the caller; use drop-oldest or keep-latest";
    return nullptr;
  }
  const std::string file = opts.models_dir + "/emotion.json";
  std::unique_ptr<EmotionWorker> w(new EmotionWorker(opts));
  if (opts.inference == Inference::kShared) {
    auto pool = nn::InferencePool::Shared(
        {.model_json = file, .backend = opts.backend, .max_batch = opts.max_batch});
    if (!pool.ok()) {
      *error = pool.status().message();
      if (error->find("fixed batch") != std::string::npos)
        *error += " (inference=private runs it on the element's own thread)";
      return nullptr;
    }
    const nn::InferencePool& p = *pool.value();
    *error = CheckEmotionShapes(file, 1, p.output_shapes().size(), p.input_shape(),
                                p.output_shapes().empty() ? nn::Shape{} : p.output_shapes()[0]);
    if (!error->empty()) return nullptr;
    const size_t capacity = opts.policy == Backpressure::kKeepLatest ? 1 : std::max<size_t>(1, opts.queue_capacity);
    w->SetRunner(std::make_unique<PoolRunner>(std::move(pool).value(), capacity, w->sink()));
    return w;
  }
  std::shared_ptr<EmotionClassifier> c = EmotionClassifier::Create(file, opts.backend, error);
  if (!c) return nullptr;
  w->SetRunner(std::make_unique<ThreadRunner<EmotionJob, EmotionResult>>(
      opts.queue_capacity, opts.policy,
      [c](const EmotionJob& job, EmotionResult* r) { return c->Classify(job.crop.data(), &r->probs); },
      w->sink()));
  return w;
}

bool EmotionWorker::Submit(const ImageView& frame, const Face& face, int64_t pts_ns) {
  if (!Due(face.id, pts_ns)) return false;
  if (!SampleEmotionCrop(frame, face.landmarks, opts_.crop, scratch_->crop.data())) {
    CropFailed();
    return false;
  }
  scratch_->id = face.id;
  scratch_->pts_ns = pts_ns;
  return Queue(*scratch_);
}

bool EmotionWorker::Push(int64_t id, int64_t pts_ns, const float* crop) {
  if (!Due(id, pts_ns)) return false;
  std::memcpy(scratch_->crop.data(), crop, sizeof(float) * kEmotionCropElements);
  scratch_->id = id;
  scratch_->pts_ns = pts_ns;
  return Queue(*scratch_);
}

}  // namespace fg
