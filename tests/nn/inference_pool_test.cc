// InferencePool (engine/nn/inference_pool.h): one network for many streams, batched across
// streams, round-robin per stream.
//   - batched outputs equal batch-1 Session runs of the same crops (tolerance 1e-5 absolute on
//     softmax probabilities in 0..1: batched GEMMs may sum in another order);
//   - the schedule is round-robin, one request per stream per round, each batch starting at
//     the stream after the last one the previous batch served (exact order asserted, with
//     fewer and with more streams than a batch holds);
//   - fairness under load (own thread): while one stream floods the pool, every request of
//     another stream completes within one batch after the batch running when it was submitted;
//   - a model with a fixed batch is refused by name for max_batch > 1, and at max_batch 1 runs
//     its requests one by one with outputs identical to a Session's;
//   - Call: the waiting caller runs the batch itself (no pool thread needed), outputs identical
//     to a Session's; from many threads at once no more than `runners` batches run together and
//     every caller gets its own result;
//   - a stream's capacity keeps its newest requests and counts the discarded ones (exact);
//   - RemoveStream discards what is queued and returns only once none of the stream's
//     done() calls can run; the id is reused;
//   - Shared hands every caller of one model the same pool and frees it with the last one.
#include "engine/nn/inference_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "engine/nn/session.h"
#include "tests/nn/nn_test_util.h"

namespace fg::nn {
namespace {

std::string Emotion() { return testing::ModelsDir() + "/emotion.json"; }

TEST(InferencePool, BatchedOutputsEqualSingleRuns) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 8, .own_thread = false});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  auto single = Session::Open(Emotion(), "auto");
  ASSERT_TRUE(single.ok());
  InferencePool& p = *pool.value();
  const size_t n = p.input_elements();
  ASSERT_EQ(n, 64u * 64u);
  constexpr int kStreams = 3, kPerStream = 5;
  std::vector<std::vector<float>> inputs, outputs(kStreams * kPerStream);
  for (int s = 0; s < kStreams; ++s) p.AddStream();
  for (int s = 0; s < kStreams; ++s)
    for (int i = 0; i < kPerStream; ++i) {
      const int k = s * kPerStream + i;
      inputs.push_back(testing::XorshiftTensor(100 + k, static_cast<int64_t>(n)));
      ASSERT_TRUE(p.Submit(s, inputs.back().data(), [&outputs, k](std::span<const float* const> out) {
        ASSERT_NE(out[0], nullptr);
        outputs[k].assign(out[0], out[0] + 7);
      }));
    }
  int batches = 0;
  while (p.RunOnce() > 0) ++batches;
  EXPECT_EQ(batches, 2) << "15 requests at batch 8";
  for (size_t k = 0; k < inputs.size(); ++k) {
    std::copy(inputs[k].begin(), inputs[k].end(), (*single)->input(0));
    ASSERT_TRUE((*single)->Run().ok());
    ASSERT_EQ(outputs[k].size(), 7u) << "request " << k << " never completed";
    for (int c = 0; c < 7; ++c)
      EXPECT_NEAR(outputs[k][c], (*single)->output(0)[c], 1e-5) << "request " << k << " class " << c;
  }
  EXPECT_EQ(p.stats().completed, 15u);
}

TEST(InferencePool, RoundRobinOneRequestPerStreamPerRound) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 4, .own_thread = false});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  for (int s = 0; s < 3; ++s) p.AddStream();
  std::vector<std::string> order;
  const std::vector<float> in(p.input_elements(), 0.0f);
  auto submit = [&](int s, int i) {
    const std::string tag = std::string(1, static_cast<char>('A' + s)) + std::to_string(i);
    p.Submit(s, in.data(), [&order, tag](std::span<const float* const>) { order.push_back(tag); });
  };
  for (int i = 1; i <= 3; ++i) submit(0, i);  // A floods first
  for (int i = 1; i <= 3; ++i) submit(1, i);
  submit(2, 1);
  std::vector<std::vector<std::string>> batches;
  for (size_t before = 0; p.RunOnce() > 0; before = order.size())
    batches.emplace_back(order.begin() + before, order.end());
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], (std::vector<std::string>{"A1", "B1", "C1", "A2"}));
  EXPECT_EQ(batches[1], (std::vector<std::string>{"B2", "A3", "B3"})) << "starts at the next stream";
}

// More busy streams than max_batch: the batches sweep over them (each starts after the last
// stream the previous one served), so every stream's first request is in one of the first
// ceil(6 / 4) = 2 batches.
TEST(InferencePool, MoreStreamsThanABatchAreServedInTurn) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 4, .own_thread = false});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  for (int s = 0; s < 6; ++s) p.AddStream();
  std::vector<std::string> order;
  const std::vector<float> in(p.input_elements(), 0.0f);
  for (int i = 1; i <= 2; ++i)
    for (int s = 0; s < 6; ++s) {
      const std::string tag = std::string(1, static_cast<char>('A' + s)) + std::to_string(i);
      p.Submit(s, in.data(), [&order, tag](std::span<const float* const>) { order.push_back(tag); });
    }
  std::vector<std::vector<std::string>> batches;
  for (size_t before = 0; p.RunOnce() > 0; before = order.size())
    batches.emplace_back(order.begin() + before, order.end());
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<std::string>{"A1", "B1", "C1", "D1"}));
  EXPECT_EQ(batches[1], (std::vector<std::string>{"E1", "F1", "A2", "B2"}));
  EXPECT_EQ(batches[2], (std::vector<std::string>{"C2", "D2", "E2", "F2"}));
}

TEST(InferencePool, AFloodingStreamDelaysAnotherByAtMostOneBatch) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 4});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  const int flood = p.AddStream(), quiet = p.AddStream();
  const std::vector<float> in(p.input_elements(), 0.5f);
  std::atomic<bool> stop{false};
  std::atomic<int> flood_done{0};
  std::thread flooder([&] {  // keeps about 100 requests queued ahead of everyone
    int queued = 0;
    while (!stop.load()) {
      if (queued - flood_done.load() < 100) {
        p.Submit(flood, in.data(), [&](std::span<const float* const>) { flood_done.fetch_add(1); });
        ++queued;
      } else {
        std::this_thread::yield();
      }
    }
  });
  while (flood_done.load() < 20) std::this_thread::yield();  // the flood is running
  uint64_t worst = 0;
  for (int i = 0; i < 10; ++i) {
    std::atomic<int64_t> finished_at{-1};
    ASSERT_TRUE(p.Submit(quiet, in.data(), [&](std::span<const float* const>) {
      finished_at.store(static_cast<int64_t>(p.stats().batches));  // its own batch not yet counted
    }));
    // Read after Submit returns: a count read before it would also include a batch the pool
    // started between that read and the request landing (seen under ThreadSanitizer, where
    // the pool thread runs far ahead of this one). Reading late can only lower the count.
    const auto at_submit = static_cast<int64_t>(p.stats().batches);
    while (finished_at.load() < 0) std::this_thread::yield();
    worst = std::max<uint64_t>(worst, static_cast<uint64_t>(std::max<int64_t>(0, finished_at.load() - at_submit)));
  }
  stop.store(true);
  flooder.join();
  // Completed batches between submit and completion: at most the one running at submission.
  EXPECT_LE(worst, 1u) << "the quiet stream waited behind the flood";
  EXPECT_GT(flood_done.load(), 40) << "the flood was really running";
}

TEST(InferencePool, FixedBatchModelIsRefusedByName) {
  auto pool = InferencePool::Create({.model_json = testing::ModelsDir() + "/blazeface.json"});
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(pool.status().message().find("fixed batch"), std::string::npos) << pool.status().message();
  EXPECT_NE(pool.status().message().find("blazeface.json"), std::string::npos);
}

TEST(InferencePool, FixedBatchModelRunsOneByOneAtMaxBatchOne) {
  const std::string path = testing::ModelsDir() + "/blazeface.json";
  auto pool = InferencePool::Create({.model_json = path, .max_batch = 1, .own_thread = false});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  EXPECT_EQ(p.input_shape(), (Shape{1, 256, 256, 3}));
  auto single = Session::Open(path, "auto");
  ASSERT_TRUE(single.ok());
  const int a = p.AddStream(), b = p.AddStream();
  std::vector<std::vector<float>> inputs, outputs(4);
  for (int k = 0; k < 4; ++k) {
    inputs.push_back(testing::XorshiftTensor(300 + k, static_cast<int64_t>(p.input_elements())));
    ASSERT_TRUE(p.Submit(k % 2 ? b : a, inputs.back().data(), [&outputs, &p, k](std::span<const float* const> out) {
      ASSERT_EQ(out.size(), 4u);
      for (size_t o = 0; o < out.size(); ++o) {  // the four outputs, one after the other
        ASSERT_NE(out[o], nullptr);
        outputs[k].insert(outputs[k].end(), out[o], out[o] + NumElements(p.output_shapes()[o]));
      }
    }));
  }
  int batches = 0;
  while (p.RunOnce() > 0) ++batches;
  EXPECT_EQ(batches, 4) << "one request per batch";
  for (int k = 0; k < 4; ++k) {
    std::copy(inputs[k].begin(), inputs[k].end(), (*single)->input(0));
    ASSERT_TRUE((*single)->Run().ok());
    std::vector<float> want;
    for (int o = 0; o < (*single)->num_outputs(); ++o)
      want.insert(want.end(), (*single)->output(o), (*single)->output(o) + NumElements((*single)->output_shape(o)));
    ASSERT_EQ(outputs[k].size(), want.size());
    EXPECT_EQ(outputs[k], want) << "request " << k << ": the same plan at batch 1, bit-identical";
  }
}

TEST(InferencePool, CallRunsOnTheCallersThreadWithoutAPoolThread) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 1, .own_thread = false});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  auto single = Session::Open(Emotion(), "auto");
  ASSERT_TRUE(single.ok());
  const int s = p.AddStream();
  const std::vector<float> in = testing::XorshiftTensor(9, static_cast<int64_t>(p.input_elements()));
  std::vector<float> got;
  std::thread::id ran_on;
  ASSERT_TRUE(p.Call(s, in.data(), [&](std::span<const float* const> out) {
    ran_on = std::this_thread::get_id();
    got.assign(out[0], out[0] + 7);
  }));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  std::copy(in.begin(), in.end(), (*single)->input(0));
  ASSERT_TRUE((*single)->Run().ok());
  ASSERT_EQ(got.size(), 7u);
  for (int c = 0; c < 7; ++c) EXPECT_EQ(got[c], (*single)->output(0)[c]) << "class " << c;
  EXPECT_FALSE(p.Call(s + 1, in.data(), nullptr)) << "unknown stream";
  EXPECT_EQ(p.stream_stats(s).completed, 1u);
}

// Six threads Call at once on a pool of two runners and no thread of its own: each gets the
// output of its own input (the same as a Session's), and no more than two networks run at once.
TEST(InferencePool, ConcurrentCallersShareTheRunners) {
  auto pool = InferencePool::Create(
      {.model_json = Emotion(), .max_batch = 1, .own_thread = false, .runners = 2});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  EXPECT_EQ(p.runners(), 2);
  auto single = Session::Open(Emotion(), "auto");
  ASSERT_TRUE(single.ok());
  constexpr int kThreads = 6, kCalls = 20;
  std::vector<std::vector<float>> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(testing::XorshiftTensor(500 + t, static_cast<int64_t>(p.input_elements())));
    std::copy(inputs[t].begin(), inputs[t].end(), (*single)->input(0));
    ASSERT_TRUE((*single)->Run().ok());
    expected.emplace_back((*single)->output(0), (*single)->output(0) + 7);
  }
  std::atomic<int> running{0}, most{0}, wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const int s = p.AddStream();
      for (int i = 0; i < kCalls; ++i) {
        std::vector<float> got;
        const bool ok = p.Call(s, inputs[t].data(), [&](std::span<const float* const> out) {
          const int now = running.fetch_add(1) + 1;
          int m = most.load();
          while (now > m && !most.compare_exchange_weak(m, now)) {
          }
          std::this_thread::sleep_for(std::chrono::microseconds(300));  // overlap the runners
          got.assign(out[0], out[0] + 7);
          running.fetch_sub(1);
        });
        if (!ok) failed.fetch_add(1);
        if (got != expected[t]) wrong.fetch_add(1);
      }
      p.RemoveStream(s);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0) << "a caller got another stream's output";
  EXPECT_LE(most.load(), 2) << "more batches ran at once than there are runners";
  EXPECT_EQ(p.stats().completed, static_cast<uint64_t>(kThreads * kCalls));
}

TEST(InferencePool, CapacityKeepsTheNewestAndCountsTheRest) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 4, .own_thread = false});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  const int bounded = p.AddStream(3), open = p.AddStream();
  const std::vector<float> in(p.input_elements(), 0.0f);
  std::vector<int> ran;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(p.Submit(bounded, in.data(), [&ran, i](std::span<const float* const>) { ran.push_back(i); }));
    ASSERT_TRUE(p.Submit(open, in.data(), [&ran, i](std::span<const float* const>) { ran.push_back(100 + i); }));
  }
  while (p.RunOnce() > 0) {
  }
  const auto b = p.stream_stats(bounded), o = p.stream_stats(open);
  EXPECT_EQ(b.submitted, 10u);
  EXPECT_EQ(b.dropped, 7u) << "only the newest 3 kept";
  EXPECT_EQ(b.taken, 3u);
  EXPECT_EQ(b.completed, 3u);
  EXPECT_EQ(o.dropped, 0u);
  EXPECT_EQ(o.completed, 10u);
  std::vector<int> bounded_ran;
  for (int r : ran)
    if (r < 100) bounded_ran.push_back(r);
  EXPECT_EQ(bounded_ran, (std::vector<int>{7, 8, 9}));
  EXPECT_EQ(p.stats().dropped, 7u);
}

TEST(InferencePool, RemoveStreamWaitsForItsRunningRequests) {
  auto pool = InferencePool::Create({.model_json = Emotion(), .max_batch = 2});
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  InferencePool& p = *pool.value();
  const std::vector<float> in(p.input_elements(), 0.0f);
  for (int round = 0; round < 20; ++round) {
    const int s = p.AddStream(4);
    EXPECT_LT(s, 2) << "removed ids are reused";
    // The callbacks write into memory that is freed right after RemoveStream: a done() that
    // ran later would be a use after free (AddressSanitizer) or a race (ThreadSanitizer).
    auto alive = std::make_unique<std::atomic<int>>(0);
    for (int i = 0; i < 6; ++i)
      p.Submit(s, in.data(), [a = alive.get()](std::span<const float* const>) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        a->fetch_add(1);
      });
    const InferencePool::StreamStats st = p.RemoveStream(s);
    EXPECT_EQ(st.submitted, 6u);
    EXPECT_EQ(st.taken + st.dropped, 6u);
    EXPECT_EQ(st.completed, st.taken) << "RemoveStream returned while a request ran";
    EXPECT_EQ(static_cast<uint64_t>(alive->load()), st.completed);
    alive.reset();
    EXPECT_FALSE(p.Submit(s, in.data(), nullptr)) << "a removed stream takes nothing";
  }
}

TEST(InferencePool, SharedIsOnePoolPerModelWhileSomeoneHoldsIt) {
  auto a = InferencePool::Shared({.model_json = Emotion(), .max_batch = 4});
  auto b = InferencePool::Shared({.model_json = Emotion(), .max_batch = 4});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value().get(), b.value().get());
  auto other = InferencePool::Shared({.model_json = Emotion(), .max_batch = 2});
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other.value().get(), a.value().get()) << "another max_batch is another pool";
  auto threadless = InferencePool::Shared({.model_json = Emotion(), .max_batch = 4, .own_thread = false});
  ASSERT_TRUE(threadless.ok());
  EXPECT_NE(threadless.value().get(), a.value().get()) << "a pool without a thread is another pool";
  std::weak_ptr<InferencePool> weak = a.value();
  a = InferencePool::Shared({.model_json = Emotion(), .max_batch = 1});  // drops one holder
  EXPECT_FALSE(weak.expired()) << "b still holds it";
  b = a;
  EXPECT_TRUE(weak.expired()) << "freed with its last user";
  auto bad = InferencePool::Shared({.model_json = "/nonexistent/emotion.json"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/nonexistent/emotion.json"), std::string::npos);
}

}  // namespace
}  // namespace fg::nn
