// InferencePool: one network shared by many streams, run in batches across streams with a
// fair schedule, so one busy stream cannot starve the others.
//
//   stream 0: Submit(crop, done) ─┐   per-stream FIFO queues
//   stream 1: Submit(crop, done) ─┼─► round-robin: one request from each stream in turn, until
//   stream 2: Submit(crop, done) ─┘   max_batch ──► Plan::Run at batch n (model_cache.h) ──► done()
//
// Fairness: a batch takes at most one request per stream per round, starting each batch at
// the stream after the one that started the previous batch. A stream that floods the pool
// with requests therefore delays another stream's request by at most one batch: a request
// submitted while a batch runs is in the next batch (tests/nn/inference_pool_test.cc).
// Batches: plans are prepared for batch 1, 2, 4, ... up to max_batch (the model must take a
// free batch dimension: FaceMesh, emotion, iris; BlazeFace's model.json fixes batch 1); a batch
// of n runs on the smallest plan >= n, the unused rows zeroed. Outputs equal those of batch-1
// runs within float rounding (the batched GEMMs may sum in another order).
//
// Threading: Submit and AddStream are thread-safe (any stream thread). `done` runs on the
// pool's thread (or the caller of RunOnce in manual mode), with the request's outputs valid
// only during the call; it must not block. The destructor finishes the queued requests
// (their done() runs) and joins the thread. Not yet used by the elements: each element still
// runs its own Session (streams.md says what is measured with and without).
//
// Example:
//   auto pool = fg::nn::InferencePool::Create({.model_json = dir + "/emotion.json", .max_batch = 8});
//   int s = (*pool)->AddStream();
//   (*pool)->Submit(s, crop.data(), [](std::span<const float* const> out) { use(out[0]); });
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
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
    bool own_thread = true;  // false: nothing runs until RunOnce() (tests, caller-driven)
  };
  // outputs[i]: the request's row of model output i (NumElements(output shape) / batch floats).
  using Done = std::function<void(std::span<const float* const> outputs)>;

  struct Stats {
    uint64_t submitted = 0, completed = 0, batches = 0;
    uint64_t batched_items = 0;  // sum of batch sizes (completed / batches = mean batch)
  };

  static Result<std::unique_ptr<InferencePool>> Create(const Options& opts);
  ~InferencePool();
  InferencePool(const InferencePool&) = delete;
  InferencePool& operator=(const InferencePool&) = delete;

  // A new stream id (0, 1, ...).
  int AddStream();
  // Queues one input: input_elements() floats (one batch row, NHWC). False for an unknown
  // stream or after destruction began.
  bool Submit(int stream, const float* input, Done done);
  // Manual mode: forms and runs one batch on the calling thread; returns its size (0: idle).
  int RunOnce();

  size_t input_elements() const { return in_row_; }
  Stats stats() const;

 private:
  struct Request {
    std::vector<float> input;
    Done done;
  };
  struct Batch {  // a plan at one batch size, its context and buffers
    int size = 0;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Plan> plan;  // prepared at this batch size (the Model is the cache's)
    std::unique_ptr<RunContext> ctx;
    std::vector<float> in;
    std::vector<std::vector<float>> out;
  };

  InferencePool() = default;
  // Takes up to max_batch requests round-robin; caller holds mu_.
  std::vector<Request> TakeBatchLocked();
  int Run(std::vector<Request>& batch);
  void Loop();

  Options opts_;
  std::shared_ptr<const Model> model_;
  std::vector<Batch> batches_;  // ascending size
  size_t in_row_ = 0;
  std::vector<size_t> out_row_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::deque<Request>> queues_;  // per stream
  size_t next_ = 0;                          // the stream that starts the next batch
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace fg::nn
