#include "engine/nn/inference_pool.h"

#include <algorithm>
#include <cstring>

#include "engine/nn/session.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn {

Result<std::unique_ptr<InferencePool>> InferencePool::Create(const Options& opts) {
  Result<std::shared_ptr<const Model>> m = ModelCache::Global().Load(opts.model_json);
  if (!m.ok()) return m.status();
  return Build(opts, std::move(m).value());
}

Result<std::unique_ptr<InferencePool>> InferencePool::Build(const Options& opts,
                                                            std::shared_ptr<const Model> model) {
  if (opts.max_batch < 1 || opts.max_batch > 256)
    return Status::Error(opts.model_json + ": InferencePool max_batch must be 1..256, not " +
                         std::to_string(opts.max_batch));
  std::unique_ptr<InferencePool> p(new InferencePool());
  p->opts_ = opts;
  p->model_ = std::move(model);
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

int InferencePool::AddStream(size_t capacity) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t id = 0;
  while (id < streams_.size() && (streams_[id].active || streams_[id].removing)) ++id;
  if (id == streams_.size()) streams_.emplace_back();
  Stream& s = streams_[id];
  s = Stream();
  s.capacity = capacity;
  s.active = true;
  return static_cast<int>(id);
}

InferencePool::StreamStats InferencePool::RemoveStream(int stream) {
  std::deque<Request> discarded;  // destroyed after the lock: their closures are the caller's
  StreamStats out;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto id = static_cast<size_t>(stream);
    if (stream < 0 || id >= streams_.size() || !streams_[id].active) return out;
    streams_[id].active = false;
    streams_[id].removing = true;
    discarded.swap(streams_[id].queue);
    streams_[id].stats.dropped += discarded.size();
    stats_.dropped += discarded.size();
    // A batch may be running this stream's requests: their done() calls must be over before
    // the caller frees what they point to. (Index access: AddStream may grow streams_.)
    done_cv_.wait(lock, [&] { return streams_[id].in_run == 0; });
    streams_[id].removing = false;
    out = streams_[id].stats;
  }
  return out;
}

bool InferencePool::Submit(int stream, const float* input, Done done) {
  Request r;
  r.input.assign(input, input + in_row_);
  r.done = std::move(done);
  r.stream = stream;
  Request discarded;  // the oldest, when the stream's queue was full; destroyed unlocked
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto id = static_cast<size_t>(stream);
    if (stopping_ || stream < 0 || id >= streams_.size() || !streams_[id].active) return false;
    Stream& s = streams_[id];
    r.batches_at_submit = stats_.batches;
    if (s.capacity > 0 && s.queue.size() >= s.capacity) {
      discarded = std::move(s.queue.front());
      s.queue.pop_front();
      ++s.stats.dropped;
      ++stats_.dropped;
    }
    s.queue.push_back(std::move(r));
    ++s.stats.submitted;
    ++stats_.submitted;
  }
  cv_.notify_one();
  return true;
}

std::vector<InferencePool::Request> InferencePool::TakeBatchLocked() {
  std::vector<Request> batch;
  const size_t n = streams_.size();
  if (n == 0) return batch;
  const size_t start = next_ % n;
  size_t last = start;  // the stream the newest request of this batch came from
  // Rounds over the streams, one request per stream per round, from `start`.
  for (bool took = true; took && batch.size() < static_cast<size_t>(opts_.max_batch);) {
    took = false;
    for (size_t k = 0; k < n && batch.size() < static_cast<size_t>(opts_.max_batch); ++k) {
      Stream& s = streams_[(start + k) % n];
      if (s.queue.empty()) continue;
      batch.push_back(std::move(s.queue.front()));
      s.queue.pop_front();
      ++s.stats.taken;
      ++s.in_run;
      last = (start + k) % n;
      took = true;
    }
  }
  // The next batch starts at the stream after the last one served: with more busy streams
  // than max_batch, the batches sweep over all of them in turn instead of starting one
  // stream later each time (which would leave the last streams waiting many batches).
  next_ = last + 1;
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Request& r : reqs) {
      Stream& s = streams_[static_cast<size_t>(r.stream)];
      --s.in_run;
      ++s.stats.completed;
      s.stats.max_wait_batches = std::max(s.stats.max_wait_batches, stats_.batches - r.batches_at_submit);
    }
    ++stats_.batches;
    stats_.batched_items += static_cast<uint64_t>(n);
    stats_.completed += static_cast<uint64_t>(n);
  }
  done_cv_.notify_all();
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
        return stopping_ || std::any_of(streams_.begin(), streams_.end(),
                                        [](const Stream& s) { return !s.queue.empty(); });
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

InferencePool::StreamStats InferencePool::stream_stats(int stream) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (stream < 0 || static_cast<size_t>(stream) >= streams_.size()) return {};
  return streams_[static_cast<size_t>(stream)].stats;
}

Result<std::shared_ptr<InferencePool>> InferencePool::Shared(const Options& opts) {
  // The model first: the ModelCache hands every caller the same Model while one is alive, so
  // its address names "this model" exactly (with FG_MODEL_CACHE=off every caller gets its own
  // model, hence its own pool).
  Result<std::shared_ptr<const Model>> m = ModelCache::Global().Load(opts.model_json);
  if (!m.ok()) return m.status();
  struct Entry {
    const Model* model;
    std::string backend;
    int max_batch;
    std::weak_ptr<InferencePool> pool;
  };
  static std::mutex mu;  // held while a pool is made: two elements starting at once share it
  static std::vector<Entry> pools;
  std::lock_guard<std::mutex> lock(mu);
  std::erase_if(pools, [](const Entry& e) { return e.pool.expired(); });
  for (const Entry& e : pools)
    if (e.model == m.value().get() && e.backend == opts.backend && e.max_batch == opts.max_batch)
      if (std::shared_ptr<InferencePool> p = e.pool.lock()) return p;
  Options own = opts;
  own.own_thread = true;
  // Built on the model just loaded (not loaded again: FG_MODEL_CACHE_LOG counts one load or
  // share per element).
  Result<std::unique_ptr<InferencePool>> made = Build(own, m.value());
  if (!made.ok()) return made.status();
  std::shared_ptr<InferencePool> p = std::move(made).value();
  pools.push_back({p->model_.get(), opts.backend, opts.max_batch, p});
  return p;
}

}  // namespace fg::nn
