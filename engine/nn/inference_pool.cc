#include "engine/nn/inference_pool.h"

#include <algorithm>
#include <cstring>

#include "engine/nn/session.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn {

Result<std::unique_ptr<InferencePool>> InferencePool::Create(const Options& opts) {
  if (opts.max_batch < 1 || opts.max_batch > 256)
    return Status::Error(opts.model_json + ": InferencePool max_batch must be 1..256, not " +
                         std::to_string(opts.max_batch));
  std::unique_ptr<InferencePool> p(new InferencePool());
  p->opts_ = opts;
  Result<std::shared_ptr<const Model>> m = ModelCache::Global().Load(opts.model_json);
  if (!m.ok()) return m.status();
  p->model_ = std::move(m).value();
  for (const IoSpec& io : p->model_->inputs)
    if (io.shape.empty() || io.shape[0] != -1)
      return Status::Error(opts.model_json + ": input '" + io.name +
                           "' has a fixed batch; InferencePool needs a free batch dimension");
  if (p->model_->inputs.size() != 1)
    return Status::Error(opts.model_json + ": InferencePool takes models with one input");
  for (int b = 1;; b *= 2) {
    const int size = std::min(b, opts.max_batch);
    Batch batch;
    batch.size = size;
    batch.backend = MakeBackend(opts.backend, 1);
    if (!batch.backend)
      return Status::Error(opts.model_json + ": backend '" + opts.backend + "' is not available");
    Result<std::unique_ptr<Plan>> plan =
        batch.backend->Prepare(*p->model_, NativeInputShapes(*p->model_, size));
    if (!plan.ok()) return plan.status();
    batch.plan = std::move(plan).value();
    batch.ctx = batch.plan->NewContext();
    if (!batch.ctx) return Status::Error(opts.model_json + ": out of memory for a run context");
    batch.in.assign(static_cast<size_t>(NumElements(batch.plan->input_shapes()[0])), 0.0f);
    for (const Shape& s : batch.plan->output_shapes())
      batch.out.emplace_back(static_cast<size_t>(NumElements(s)), 0.0f);
    p->batches_.push_back(std::move(batch));
    if (size == opts.max_batch) break;
  }
  p->in_row_ = p->batches_[0].in.size();
  for (const auto& o : p->batches_[0].out) p->out_row_.push_back(o.size());
  if (opts.own_thread) p->thread_ = std::thread([raw = p.get()] { raw->Loop(); });
  return p;
}

InferencePool::~InferencePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  while (RunOnce() > 0) {
  }  // manual mode, or what arrived after the thread ended: every done() runs
}

int InferencePool::AddStream() {
  std::lock_guard<std::mutex> lock(mu_);
  queues_.emplace_back();
  return static_cast<int>(queues_.size()) - 1;
}

bool InferencePool::Submit(int stream, const float* input, Done done) {
  Request r;
  r.input.assign(input, input + in_row_);
  r.done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || stream < 0 || stream >= static_cast<int>(queues_.size())) return false;
    queues_[stream].push_back(std::move(r));
    ++stats_.submitted;
  }
  cv_.notify_one();
  return true;
}

std::vector<InferencePool::Request> InferencePool::TakeBatchLocked() {
  std::vector<Request> batch;
  const size_t n = queues_.size();
  if (n == 0) return batch;
  const size_t start = next_ % n;
  // Rounds over the streams, one request per stream per round, from `start`.
  for (bool took = true; took && batch.size() < static_cast<size_t>(opts_.max_batch);) {
    took = false;
    for (size_t k = 0; k < n && batch.size() < static_cast<size_t>(opts_.max_batch); ++k) {
      std::deque<Request>& q = queues_[(start + k) % n];
      if (q.empty()) continue;
      batch.push_back(std::move(q.front()));
      q.pop_front();
      took = true;
    }
  }
  next_ = start + 1;  // the next batch starts at the following stream
  return batch;
}

int InferencePool::Run(std::vector<Request>& reqs) {
  const int n = static_cast<int>(reqs.size());
  if (n == 0) return 0;
  Batch& b = *std::find_if(batches_.begin(), batches_.end(), [n](const Batch& x) { return x.size >= n; });
  for (int i = 0; i < b.size; ++i) {
    float* row = b.in.data() + static_cast<size_t>(i) * in_row_;
    if (i < n)
      std::memcpy(row, reqs[i].input.data(), in_row_ * sizeof(float));
    else
      std::fill(row, row + in_row_, 0.0f);
  }
  ConstBuffer in{b.in.data(), b.in.size()};
  std::vector<MutableBuffer> outs;
  for (auto& o : b.out) outs.push_back({o.data(), o.size()});
  const Status st = b.plan->Run(std::span<const ConstBuffer>(&in, 1), outs, *b.ctx);
  std::vector<const float*> rows(b.out.size());
  for (int i = 0; i < n; ++i) {
    for (size_t k = 0; k < b.out.size(); ++k)
      rows[k] = st.ok() ? b.out[k].data() + static_cast<size_t>(i) * out_row_[k] : nullptr;
    if (reqs[i].done) reqs[i].done(rows);  // null rows: the run failed (caller mistake only)
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.batches;
  stats_.batched_items += static_cast<uint64_t>(n);
  stats_.completed += static_cast<uint64_t>(n);
  return n;
}

int InferencePool::RunOnce() {
  std::vector<Request> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch = TakeBatchLocked();
  }
  return Run(batch);
}

void InferencePool::Loop() {
  for (;;) {
    std::vector<Request> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] {
        return stopping_ || std::any_of(queues_.begin(), queues_.end(),
                                        [](const auto& q) { return !q.empty(); });
      });
      batch = TakeBatchLocked();
      if (batch.empty() && stopping_) return;
    }
    Run(batch);
  }
}

InferencePool::Stats InferencePool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace fg::nn
