// InferencePool: one network shared by many streams, run in batches across streams with a
// fair schedule, so one busy stream cannot starve the others.
//
//   stream 0: Submit(crop, done) ─┐   per-stream FIFO queues
//   stream 1: Submit(crop, done) ─┼─► round-robin: one request from each stream in turn, until
//   stream 2: Submit(crop, done) ─┘   max_batch ──► Plan::Run at batch n (model_cache.h) ──► done()
//
// Fairness: a batch takes at most one request per stream per round, starting each batch at
// the stream after the last one the previous batch took from. A stream that floods the pool
// with requests therefore delays another stream's request by at most one batch while the
// streams with requests waiting are no more than max_batch (a request submitted while a batch
// runs is in the next batch: tests/nn/inference_pool_test.cc); with S such streams, by at
// most ceil(S / max_batch) batches (the batches sweep over the streams in turn).
// Batches: plans are prepared for batch 1, 2, 4, ... up to max_batch; a batch of n runs on the
// smallest plan >= n, the unused rows zeroed. Outputs equal those of batch-1 runs within float
// rounding (the batched GEMMs may sum in another order). max_batch > 1 needs a model with a free
// batch dimension (FaceMesh, emotion, iris); a model whose batch is fixed at 1 (BlazeFace's
// model.json) is refused by name unless max_batch is 1: then its requests run one by one, still
// on one shared model and plan, in the same fair order.
//
// Runners: `runners` batches may run at once, each on its own run contexts (one per batch size;
// the plans are shared, backend.h). The pool's thread is one of the threads that take them;
// Call's callers are the others: a caller whose request waits runs the next batch itself (its
// own request or, in the round-robin order, another stream's) whenever a runner is free, so
// synchronous users (the tracker, whose next crop needs this frame's mesh) keep their own
// threads busy instead of queueing behind one pool thread. `runners` bounds the contexts
// (memory: with XNNPACK each context packs its own weights) and the networks running at once.
//
// Back-pressure per stream: AddStream(capacity) keeps at most `capacity` queued requests of
// that stream; a Submit to a full queue discards the stream's oldest queued request (its done()
// never runs; counted in StreamStats::dropped), so a flooding stream bounds its own queue and
// only ever loses its own requests. capacity 0: unbounded.
//
// Streams come and go: RemoveStream discards the stream's queued requests (counted as dropped)
// and waits until none of its requests is being run, so after it returns no done() of that
// stream runs again (the caller may free what its callbacks point to); the id is reused.
//
// Process-wide pools: Shared(opts) hands every caller with the same model (the ModelCache's
// Model: model_cache.h), backend, max_batch, runners and own_thread the same pool, created on
// first use and freed with its last user (weak references, as ModelCache). The elements'
// workers use it with its own thread (engine/graph/track_worker.h; docs/streams.md); the
// tracker without one, through Call (PoolSession below; engine/tracking/face_tracker.h).
//
// Threading: Submit, Call, AddStream, RemoveStream and the stats are thread-safe (any thread).
// `done` runs on the thread that runs the batch (the pool's, a Call's caller, or the caller of
// RunOnce), with the request's outputs valid only during the call; it must not block and must not call RemoveStream (it
// may Submit, to this pool or another). The destructor finishes the queued requests (their
// done() runs) and joins the thread.
//
// Example:
//   auto pool = fg::nn::InferencePool::Shared({.model_json = dir + "/emotion.json", .max_batch = 8});
//   int s = (*pool)->AddStream(/*capacity=*/4);
//   (*pool)->Submit(s, crop.data(), [](std::span<const float* const> out) { use(out[0]); });
//   ...
//   (*pool)->RemoveStream(s);   // no done() of s runs after this
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/nn/model_cache.h"
#include "engine/nn/status.h"

namespace fg::nn {

class InferencePool {
 public:
  struct Options {
    std::string model_json;
    std::string backend = "auto";
    int max_batch = 8;
    // false: a batch runs only inside Call or RunOnce (tests; callers that wait for their
    // results). Submit alone then never runs anything.
    bool own_thread = true;
    int runners = 1;  // batches that may run at once (1..64), each with its own run contexts
  };
  // outputs[i]: the request's row of model output i (NumElements(output shape) / batch floats).
  using Done = std::function<void(std::span<const float* const> outputs)>;

  struct Stats {
    uint64_t submitted = 0, completed = 0, batches = 0;
    uint64_t batched_items = 0;  // sum of batch sizes (completed / batches = mean batch)
    uint64_t dropped = 0;        // discarded by a stream's capacity or by RemoveStream
  };
  // One stream's counters. Once the stream is idle: submitted == taken + dropped and
  // taken == completed.
  struct StreamStats {
    uint64_t submitted = 0;  // Submit calls accepted
    uint64_t taken = 0;      // requests put into a batch
    uint64_t dropped = 0;    // discarded: the queue kept newer ones (capacity), or RemoveStream
    uint64_t completed = 0;  // done() calls that returned
    // The most batches that completed between one of its requests' Submit and the completion
    // of that request's own batch (the own batch not counted): the fairness bound says <= 1.
    uint64_t max_wait_batches = 0;
  };

  static Result<std::unique_ptr<InferencePool>> Create(const Options& opts);
  // The process-wide pool of this model (the ModelCache's), backend and max_batch; created
  // (with its own thread, whatever opts.own_thread says) when no one holds it.
  static Result<std::shared_ptr<InferencePool>> Shared(const Options& opts);
  ~InferencePool();
  InferencePool(const InferencePool&) = delete;
  InferencePool& operator=(const InferencePool&) = delete;

  // A new stream id (0, 1, ...; a removed stream's id is reused). capacity: queued requests
  // kept (the newest), 0 = unbounded.
  int AddStream(size_t capacity = 0);
  // Discards the stream's queued requests, waits until none of its requests is being run and
  // frees the id; returns its final counters. Not from inside a done() of this pool.
  StreamStats RemoveStream(int stream);
  // Queues one input: input_elements() floats (one batch row, NHWC). False for an unknown
  // stream or after destruction began.
  bool Submit(int stream, const float* input, Done done);
  // Queues one input and returns once its done() has run: true, or false for an unknown
  // stream, after destruction began, or when the request was discarded (its stream's capacity,
  // RemoveStream). While it waits, the calling thread runs batches itself whenever one of the
  // runners is free (see Runners above). `input` is read in place (not copied): it must stay
  // unchanged until Call returns. Not from inside a done().
  bool Call(int stream, const float* input, const Done& done);
  // Manual mode: forms and runs one batch on the calling thread; returns its size (0: idle, or
  // every runner busy).
  int RunOnce();

  size_t input_elements() const { return in_row_; }
  // The shapes at batch 1 (what one request is).
  const Shape& input_shape() const { return plans_[0].plan->input_shapes()[0]; }
  const std::vector<Shape>& output_shapes() const { return plans_[0].plan->output_shapes(); }
  int max_batch() const { return opts_.max_batch; }
  int runners() const { return static_cast<int>(runners_.size()); }
  // The shared model (the ModelCache's while one is alive).
  const Model& model() const { return *model_; }
  Stats stats() const;
  StreamStats stream_stats(int stream) const;

 private:
  struct Request {
    std::vector<float> input;         // Submit's copy
    const float* borrowed = nullptr;  // Call's input, read in place
    const Done* call_done = nullptr;  // Call's done (the caller's, alive until Call returns)
    Done done;
    bool* finished = nullptr;  // Call's flag: set under mu_ once done() ran or it was discarded
    int stream = -1;
    uint64_t batches_at_submit = 0;  // stats_.batches when it was submitted
    const float* data() const { return borrowed ? borrowed : input.data(); }
  };
  struct Stream {
    std::deque<Request> queue;
    size_t capacity = 0;  // 0: unbounded
    bool active = false;   // Submit accepts
    bool removing = false;  // RemoveStream waits for its requests in a batch
    int in_run = 0;         // its requests taken into a batch whose done() calls are not all over
    StreamStats stats;
  };
  struct PlanAt {  // the plan at one batch size, shared by the runners
    int size = 0;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Plan> plan;  // prepared at this batch size (the Model is the cache's)
  };
  struct Slot {  // one runner's context and buffers for one PlanAt
    std::unique_ptr<RunContext> ctx;
    std::vector<float> in;
    std::vector<std::vector<float>> out;
  };
  struct Runner {
    bool busy = false;        // guarded by mu_
    std::vector<Slot> slots;  // by plans_ index
  };

  InferencePool() = default;
  static Result<std::unique_ptr<InferencePool>> Build(const Options& opts,
                                                      std::shared_ptr<const Model> model);
  // Queues r (capacity applied); false for an unknown stream or while stopping. Holds mu_.
  bool EnqueueLocked(Request&& r, Request* discarded);
  // Takes up to max_batch requests round-robin; caller holds mu_.
  std::vector<Request> TakeBatchLocked();
  bool QueuedLocked() const;
  int FreeRunnerLocked() const;  // -1: all busy
  // Runs `batch` on runner r (marked busy by the caller), then frees r.
  int Run(std::vector<Request>& batch, int r);
  void Loop();

  Options opts_;
  std::shared_ptr<const Model> model_;
  std::vector<PlanAt> plans_;   // ascending size
  std::vector<Runner> runners_;
  size_t in_row_ = 0;
  std::vector<size_t> out_row_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // the pool's thread and Call's callers wait for work
  std::condition_variable done_cv_;  // RemoveStream waits for a stream's running requests
  std::vector<Stream> streams_;      // by id; index access only (RemoveStream waits unlocked)
  size_t next_ = 0;  // the stream that starts the next batch
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

// PoolSession: a Session-like handle (session.h) on one stream of a shared pool, for a caller
// that needs each result before it goes on: Run() is InferencePool::Call on the session's own
// input buffer, and copies the request's output rows into the session's output buffers. The
// tracker holds one per network (engine/tracking/face_tracker.h), so every tracker of the
// process runs FaceMesh, BlazeFace and Iris on one model, `runners` contexts and one fair
// schedule instead of a Session (and a context) each.
//
// Threading: thread-compatible, like Session: one PoolSession per stream / thread. The pool is
// shared and thread-safe. Lifetime: the destructor leaves the pool stream.
//
// Example:
//   auto s = fg::nn::PoolSession::Open({.model_json = dir + "/facemesh.json", .max_batch = 1,
//                                       .own_thread = false, .runners = 2});
//   std::copy(crop.begin(), crop.end(), (*s)->input(0));
//   if ((*s)->Run().ok()) use((*s)->output((*s)->output_index("output_mesh")));
class PoolSession {
 public:
  // InferencePool::Shared(opts), then one stream of it (unbounded: one request at a time).
  static Result<std::unique_ptr<PoolSession>> Open(const InferencePool::Options& opts);
  ~PoolSession();
  PoolSession(const PoolSession&) = delete;
  PoolSession& operator=(const PoolSession&) = delete;

  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const Shape& input_shape(int) const { return pool_->input_shape(); }  // batch 1
  const Shape& output_shape(int i) const { return pool_->output_shapes()[i]; }
  float* input(int) { return input_.data(); }
  const float* output(int i) const { return outputs_[i].data(); }
  int output_index(std::string_view name) const { return pool_->model().FindOutput(name); }
  const Model& model() const { return pool_->model(); }
  // Runs the input through the pool; an error when the pool did not run it.
  Status Run();
  const std::shared_ptr<InferencePool>& pool() const { return pool_; }
  int stream() const { return stream_; }

 private:
  PoolSession() = default;
  std::shared_ptr<InferencePool> pool_;
  int stream_ = -1;
  std::vector<float> input_;
  std::vector<std::vector<float>> outputs_;
  InferencePool::Done copy_;  // made once: copies the rows into outputs_
};

}  // namespace fg::nn
