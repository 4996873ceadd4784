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
  if (opts.runners < 1 || opts.runners > 64)
    return Status::Error(opts.model_json + ": InferencePool runners must be 1..64, not " +
                         std::to_string(opts.runners));
  std::unique_ptr<InferencePool> p(new InferencePool());
  p->opts_ = opts;
  p->model_ = std::move(model);
  if (p->model_->inputs.size() != 1)
    return Status::Error(opts.model_json + ": InferencePool takes models with one input");
  for (const IoSpec& io : p->model_->inputs)
    if (io.shape.empty() || (io.shape[0] != -1 && (io.shape[0] != 1 || opts.max_batch > 1)))
      return Status::Error(opts.model_json + ": input '" + io.name +
                           "' has a fixed batch; InferencePool needs a free batch dimension "
                           "for max_batch " + std::to_string(opts.max_batch) +
                           " (max_batch 1 runs its requests one by one)");
  for (int b = 1;; b *= 2) {
    const int size = std::min(b, opts.max_batch);
    PlanAt at;
    at.size = size;
    at.backend = MakeBackend(opts.backend, 1);
    if (!at.backend)
      return Status::Error(opts.model_json + ": backend '" + opts.backend + "' is not available");
    Result<std::unique_ptr<Plan>> plan =
        at.backend->Prepare(*p->model_, NativeInputShapes(*p->model_, size));
    if (!plan.ok()) return plan.status();
    at.plan = std::move(plan).value();
    p->plans_.push_back(std::move(at));
    if (size == opts.max_batch) break;
  }
  p->runners_.resize(static_cast<size_t>(opts.runners));
  for (Runner& r : p->runners_)
    for (const PlanAt& at : p->plans_) {
      Slot slot;
      slot.ctx = at.plan->NewContext();
      if (!slot.ctx) return Status::Error(opts.model_json + ": out of memory for a run context");
      slot.in.assign(static_cast<size_t>(NumElements(at.plan->input_shapes()[0])), 0.0f);
      for (const Shape& sh : at.plan->output_shapes())
        slot.out.emplace_back(static_cast<size_t>(NumElements(sh)), 0.0f);
      r.slots.push_back(std::move(slot));
    }
  p->in_row_ = p->runners_[0].slots[0].in.size();
  for (const auto& o : p->runners_[0].slots[0].out) p->out_row_.push_back(o.size());
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
    for (Request& r : discarded)
      if (r.finished) *r.finished = true;  // its Call returns false
    if (!discarded.empty()) cv_.notify_all();
    // A batch may be running this stream's requests: their done() calls must be over before
    // the caller frees what they point to. (Index access: AddStream may grow streams_.)
    done_cv_.wait(lock, [&] { return streams_[id].in_run == 0; });
    streams_[id].removing = false;
    out = streams_[id].stats;
  }
  return out;
}

bool InferencePool::EnqueueLocked(Request&& r, Request* discarded) {
  const auto id = static_cast<size_t>(r.stream);
  if (stopping_ || r.stream < 0 || id >= streams_.size() || !streams_[id].active) return false;
  Stream& s = streams_[id];
  r.batches_at_submit = stats_.batches;
  if (s.capacity > 0 && s.queue.size() >= s.capacity) {
    *discarded = std::move(s.queue.front());
    s.queue.pop_front();
    if (discarded->finished) *discarded->finished = true;  // its Call returns false
    ++s.stats.dropped;
    ++stats_.dropped;
  }
  s.queue.push_back(std::move(r));
  ++s.stats.submitted;
  ++stats_.submitted;
  return true;
}

bool InferencePool::Submit(int stream, const float* input, Done done) {
  Request r;
  r.input.assign(input, input + in_row_);
  r.done = std::move(done);
  r.stream = stream;
  Request discarded;  // the oldest, when the stream's queue was full; destroyed unlocked
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!EnqueueLocked(std::move(r), &discarded)) return false;
  }
  // All: the pool's thread and Call's callers wait on cv_ (any of them may take it).
  cv_.notify_all();
  return true;
}

bool InferencePool::Call(int stream, const float* input, const Done& done) {
  bool finished = false, ran = false;
  // Runs on whichever thread runs the batch; `ran` is read after `finished`, both ordered by mu_.
  struct Ctx {
    const Done* done;
    bool* ran;
  } ctx{&done, &ran};
  Request r;
  r.borrowed = input;
  r.done = [c = &ctx](std::span<const float* const> out) {  // one pointer: no allocation
    *c->ran = true;
    if (*c->done) (*c->done)(out);
  };
  r.finished = &finished;
  r.stream = stream;
  Request discarded;
  std::unique_lock<std::mutex> lock(mu_);
  if (!EnqueueLocked(std::move(r), &discarded)) return false;
  cv_.notify_all();  // another waiter or the pool's thread may have a free runner first
  while (!finished) {
    const int runner = FreeRunnerLocked();
    if (runner >= 0 && QueuedLocked()) {
      runners_[static_cast<size_t>(runner)].busy = true;
      std::vector<Request> batch = TakeBatchLocked();
      lock.unlock();
      Run(batch, runner);
      lock.lock();
      continue;
    }
    cv_.wait(lock);
  }
  lock.unlock();
  return ran;
}

bool InferencePool::QueuedLocked() const {
  return std::any_of(streams_.begin(), streams_.end(), [](const Stream& s) { return !s.queue.empty(); });
}

int InferencePool::FreeRunnerLocked() const {
  for (size_t i = 0; i < runners_.size(); ++i)
    if (!runners_[i].busy) return static_cast<int>(i);
  return -1;
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

int InferencePool::Run(std::vector<Request>& reqs, int runner) {
  const int n = static_cast<int>(reqs.size());
  Runner& rn = runners_[static_cast<size_t>(runner)];
  if (n > 0) {
    const auto at = static_cast<size_t>(
        std::find_if(plans_.begin(), plans_.end(), [n](const PlanAt& x) { return x.size >= n; }) -
        plans_.begin());
    const PlanAt& plan = plans_[at];
    Slot& b = rn.slots[at];
    const float* in_data = b.in.data();
    if (plan.size == 1) {
      in_data = reqs[0].data();  // read in place: no copy of a lone request
    } else {
      for (int i = 0; i < plan.size; ++i) {
        float* row = b.in.data() + static_cast<size_t>(i) * in_row_;
        if (i < n)
          std::memcpy(row, reqs[i].data(), in_row_ * sizeof(float));
        else
          std::fill(row, row + in_row_, 0.0f);
      }
    }
    ConstBuffer in{in_data, b.in.size()};
    // Fixed arrays: the models the pool serves have a handful of outputs; no allocation per run.
    constexpr size_t kMaxOutputs = 16;
    MutableBuffer outs[kMaxOutputs];
    const float* rows[kMaxOutputs];
    const size_t n_out = std::min(b.out.size(), kMaxOutputs);
    for (size_t k = 0; k < n_out; ++k) outs[k] = {b.out[k].data(), b.out[k].size()};
    const Status st = b.out.size() > kMaxOutputs
                          ? Status::Error(opts_.model_json + ": more than 16 outputs")
                          : plan.plan->Run(std::span<const ConstBuffer>(&in, 1),
                                           std::span<const MutableBuffer>(outs, n_out), *b.ctx);
    for (int i = 0; i < n; ++i) {
      for (size_t k = 0; k < n_out; ++k)
        rows[k] = st.ok() ? b.out[k].data() + static_cast<size_t>(i) * out_row_[k] : nullptr;
      // null rows: the run failed (caller mistake only)
      if (reqs[i].done) reqs[i].done(std::span<const float* const>(rows, n_out));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    rn.busy = false;
    for (const Request& r : reqs) {
      Stream& s = streams_[static_cast<size_t>(r.stream)];
      --s.in_run;
      ++s.stats.completed;
      s.stats.max_wait_batches = std::max(s.stats.max_wait_batches, stats_.batches - r.batches_at_submit);
      if (r.finished) *r.finished = true;
    }
    if (n > 0) {
      ++stats_.batches;
      stats_.batched_items += static_cast<uint64_t>(n);
      stats_.completed += static_cast<uint64_t>(n);
    }
  }
  done_cv_.notify_all();
  cv_.notify_all();  // a runner is free; Call's callers may be finished
  return n;
}

int InferencePool::RunOnce() {
  std::vector<Request> batch;
  int runner = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runner = FreeRunnerLocked();
    if (runner < 0) return 0;
    batch = TakeBatchLocked();
    if (batch.empty()) return 0;
    runners_[static_cast<size_t>(runner)].busy = true;
  }
  return Run(batch, runner);
}

void InferencePool::Loop() {
  for (;;) {
    std::vector<Request> batch;
    int runner = -1;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || (QueuedLocked() && FreeRunnerLocked() >= 0); });
      runner = FreeRunnerLocked();
      if (runner >= 0) batch = TakeBatchLocked();
      if (batch.empty()) {
        if (stopping_) return;  // the destructor runs what is left
        continue;
      }
      runners_[static_cast<size_t>(runner)].busy = true;
    }
    Run(batch, runner);
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
    int max_batch, runners;
    bool own_thread;
    std::weak_ptr<InferencePool> pool;
  };
  static std::mutex mu;  // held while a pool is made: two elements starting at once share it
  static std::vector<Entry> pools;
  std::lock_guard<std::mutex> lock(mu);
  std::erase_if(pools, [](const Entry& e) { return e.pool.expired(); });
  for (const Entry& e : pools)
    if (e.model == m.value().get() && e.backend == opts.backend && e.max_batch == opts.max_batch &&
        e.runners == opts.runners && e.own_thread == opts.own_thread)
      if (std::shared_ptr<InferencePool> p = e.pool.lock()) return p;
  // Built on the model just loaded (not loaded again: FG_MODEL_CACHE_LOG counts one load or
  // share per element).
  Result<std::unique_ptr<InferencePool>> made = Build(opts, m.value());
  if (!made.ok()) return made.status();
  std::shared_ptr<InferencePool> p = std::move(made).value();
  pools.push_back({p->model_.get(), opts.backend, opts.max_batch, opts.runners, opts.own_thread, p});
  return p;
}

Result<std::unique_ptr<PoolSession>> PoolSession::Open(const InferencePool::Options& opts) {
  Result<std::shared_ptr<InferencePool>> pool = InferencePool::Shared(opts);
  if (!pool.ok()) return pool.status();
  std::unique_ptr<PoolSession> s(new PoolSession());
  s->pool_ = std::move(pool).value();
  s->stream_ = s->pool_->AddStream(0);
  s->input_.assign(s->pool_->input_elements(), 0.0f);
  for (const Shape& sh : s->pool_->output_shapes())
    s->outputs_.emplace_back(static_cast<size_t>(NumElements(sh)), 0.0f);
  s->copy_ = [o = &s->outputs_](std::span<const float* const> rows) {
    for (size_t k = 0; k < rows.size() && k < o->size(); ++k)
      if (rows[k]) std::copy(rows[k], rows[k] + (*o)[k].size(), (*o)[k].begin());
  };
  return s;
}

PoolSession::~PoolSession() {
  if (pool_) pool_->RemoveStream(stream_);
}

Status PoolSession::Run() {
  bool got = false;
  const InferencePool::Done check = [&](std::span<const float* const> rows) {
    got = !rows.empty() && rows[0] != nullptr;
    copy_(rows);
  };
  if (!pool_->Call(stream_, input_.data(), check) || !got)
    return Status::Error(pool_->model().path + ": the inference pool did not run the request");
  return Status::Ok();
}

}  // namespace fg::nn
