// Graph<T> run to idle: ordering through chains and fan-out, each backpressure policy,
// shutdown with frames in flight, abort accounting, wiring errors, node failures.
#include "engine/graph/executor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace fg {
namespace {

using namespace std::chrono_literals;

// A source that emits 0..n-1 and stops.
Graph<int64_t>::SourceFn Counter(int64_t n) {
  return [i = int64_t{0}, n](auto& emit) mutable {
    if (i < n) emit(i++);
    return i < n;
  };
}

TEST(Executor, ChainDeliversEveryItemInOrder) {
  constexpr int64_t kItems = 1'000'000;
  Graph<int64_t> g;
  auto src = g.AddSource("src", Counter(kItems));
  auto inc = g.AddNode("inc", [](int64_t v, auto& emit) { emit(v + 1); });
  int64_t expect = 1, count = 0;
  bool ordered = true;
  auto sink = g.AddNode("sink", [&](int64_t v, auto&) {
    ordered &= (v == expect++);
    ++count;
  });
  ASSERT_EQ(g.Connect(src, inc, {64, Backpressure::kBlock}), std::nullopt);
  ASSERT_EQ(g.Connect(inc, sink, {64, Backpressure::kBlock}), std::nullopt);
  ASSERT_EQ(g.Start(), std::nullopt);
  ASSERT_EQ(g.Wait(), std::nullopt);
  EXPECT_TRUE(ordered);
  EXPECT_EQ(count, kItems);
  const GraphStats s = g.Stats();
  ASSERT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.nodes[1].name, "inc");
  EXPECT_EQ(s.nodes[1].latency.count, static_cast<uint64_t>(kItems));
  EXPECT_LE(s.nodes[1].latency.p50_ms, s.nodes[1].latency.p99_ms);
  for (const EdgeStats& e : s.edges) {
    EXPECT_EQ(e.counters.pushed, static_cast<uint64_t>(kItems)) << e.from << "->" << e.to;
    EXPECT_EQ(e.counters.dropped, 0u) << e.from << "->" << e.to;
  }
}

TEST(Executor, FanOutCopiesToEveryBranch) {
  Graph<int64_t> g;
  auto src = g.AddSource("src", Counter(10'000));
  int64_t sum_a = 0, sum_b = 0;
  auto a = g.AddNode("a", [&](int64_t v, auto&) { sum_a += v; });
  auto b = g.AddNode("b", [&](int64_t v, auto&) { sum_b += v; });
  ASSERT_EQ(g.Connect(src, a), std::nullopt);
  ASSERT_EQ(g.Connect(src, b), std::nullopt);
  ASSERT_EQ(g.Start(), std::nullopt);
  ASSERT_EQ(g.Wait(), std::nullopt);
  EXPECT_EQ(sum_a, 10'000LL * 9'999 / 2);
  EXPECT_EQ(sum_b, sum_a);
}

// A slow consumer behind a drop edge: what arrives is increasing, every drop is counted,
// and the producer is never held back (it finishes long before the consumer could have
// processed everything).
void SlowSinkBehind(Backpressure policy) {
  constexpr int64_t kItems = 5'000;
  Graph<int64_t> g;
  auto src = g.AddSource("src", Counter(kItems));
  int64_t last = -1, delivered = 0;
  bool increasing = true;
  auto sink = g.AddNode("slow", [&](int64_t v, auto&) {
    increasing &= v > last;
    last = v;
    ++delivered;
    std::this_thread::sleep_for(200us);
  });
  ASSERT_EQ(g.Connect(src, sink, {4, policy, 64}), std::nullopt);
  ASSERT_EQ(g.Start(), std::nullopt);
  ASSERT_EQ(g.Wait(), std::nullopt);
  const EdgeCounters c = g.Stats().edges[0].counters;
  EXPECT_TRUE(increasing) << BackpressureName(policy);
  EXPECT_EQ(c.pushed, static_cast<uint64_t>(kItems));
  EXPECT_EQ(c.delivered, static_cast<uint64_t>(delivered));
  EXPECT_EQ(c.pushed, c.delivered + c.dropped) << BackpressureName(policy);
  EXPECT_GT(c.dropped, 0u) << "a 200 us consumer behind a free-running source must drop";
}

TEST(Executor, DropOldestCountsDrops) { SlowSinkBehind(Backpressure::kDropOldest); }
TEST(Executor, KeepLatestCountsDrops) { SlowSinkBehind(Backpressure::kKeepLatest); }

TEST(Executor, StopDrainsInFlightFramesInBlockMode) {
  Graph<int64_t> g;
  std::atomic<int64_t> emitted{0};
  auto src = g.AddSource("live", [&](auto& emit) {
    emit(emitted.load());
    ++emitted;
    return true;  // endless, like a camera
  });
  int64_t processed = 0;
  auto slow = g.AddNode("slow", [&](int64_t, auto&) {
    ++processed;
    std::this_thread::sleep_for(100us);
  });
  ASSERT_EQ(g.Connect(src, slow, {32, Backpressure::kBlock}), std::nullopt);
  ASSERT_EQ(g.Start(), std::nullopt);
  std::this_thread::sleep_for(30ms);
  g.RequestStop();
  ASSERT_EQ(g.Wait(), std::nullopt);
  EXPECT_GT(processed, 0);
  EXPECT_EQ(processed, emitted.load()) << "block mode must process every frame in flight";
  EXPECT_EQ(g.Stats().edges[0].counters.dropped, 0u);
}

TEST(Executor, AbortCountsWhatWasLeft) {
  Graph<int64_t> g;
  auto src = g.AddSource("live", Counter(1'000'000'000));
  auto slow = g.AddNode("slow", [](int64_t, auto&) { std::this_thread::sleep_for(1ms); });
  ASSERT_EQ(g.Connect(src, slow, {16, Backpressure::kBlock}), std::nullopt);
  ASSERT_EQ(g.Start(), std::nullopt);
  std::this_thread::sleep_for(20ms);
  g.Abort();
  ASSERT_EQ(g.Wait(), std::nullopt);
  const EdgeCounters c = g.Stats().edges[0].counters;
  EXPECT_EQ(c.pushed, c.delivered + c.dropped);
  EXPECT_GT(c.dropped, 0u);
}

TEST(Executor, NodeExceptionStopsGraphAndNamesNode) {
  Graph<int64_t> g;
  auto src = g.AddSource("src", Counter(1'000'000'000));
  auto bad = g.AddNode("decoder", [](int64_t v, auto&) {
    if (v == 100) throw std::runtime_error("corrupt frame");
  });
  ASSERT_EQ(g.Connect(src, bad), std::nullopt);
  ASSERT_EQ(g.Start(), std::nullopt);
  auto err = g.Wait();
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("decoder"), std::string::npos) << *err;
  EXPECT_NE(err->find("corrupt frame"), std::string::npos) << *err;
}

TEST(Executor, WiringErrorsNameTheNodes) {
  Graph<int64_t> g;
  auto src = g.AddSource("cam", Counter(1));
  auto a = g.AddNode("track", [](int64_t, auto&) {});
  auto b = g.AddNode("emotion", [](int64_t, auto&) {});
  auto orphan = g.AddNode("orphan", [](int64_t, auto&) {});
  ASSERT_EQ(g.Connect(src, a), std::nullopt);
  ASSERT_EQ(g.Connect(a, b), std::nullopt);
  auto fan_in = g.Connect(src, b);
  ASSERT_TRUE(fan_in.has_value());
  EXPECT_NE(fan_in->find("emotion"), std::string::npos) << *fan_in;
  auto into_source = g.Connect(a, src);
  ASSERT_TRUE(into_source.has_value());
  EXPECT_NE(into_source->find("cam"), std::string::npos) << *into_source;
  EXPECT_TRUE(g.Connect(a, 42).has_value());
  auto cycle = g.Connect(b, a);  // a already has an input; also would loop
  EXPECT_TRUE(cycle.has_value());
  auto start = g.Start();
  ASSERT_TRUE(start.has_value());
  EXPECT_NE(start->find("orphan"), std::string::npos) << *start;
  (void)orphan;
}

TEST(Executor, DestructorStopsARunningGraph) {
  auto g = std::make_unique<Graph<int64_t>>();
  auto src = g->AddSource("live", [](auto& emit) { emit(1); return true; });
  auto sink = g->AddNode("sink", [](int64_t, auto&) {});
  ASSERT_EQ(g->Connect(src, sink), std::nullopt);
  ASSERT_EQ(g->Start(), std::nullopt);
  std::this_thread::sleep_for(5ms);
  g.reset();  // must not hang or crash
  SUCCEED();
}

}  // namespace
}  // namespace fg
