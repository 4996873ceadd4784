// SpscEdge at its edges: exact full/empty boundaries, ordering and no loss across two
// threads, each backpressure policy, destructor counting across wrap-around, cancel.
#include "engine/graph/spsc_edge.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace fg {
namespace {

using namespace std::chrono_literals;

TEST(SpscEdge, BlockFullAfterCapacityEmptyAtZero) {
  SpscEdge<int> e(4, Backpressure::kBlock);
  EXPECT_FALSE(e.TryPop().has_value()) << "a new edge is empty";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(e.Push(i));  // 4 fit without waiting
  std::atomic<bool> fifth_done{false};
  std::thread producer([&] {
    e.Push(4);  // full after 4: must wait for a pop
    fifth_done = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(fifth_done.load()) << "Push on a full kBlock edge returned without room";
  EXPECT_EQ(e.TryPop(), 0);
  producer.join();
  EXPECT_TRUE(fifth_done.load());
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(e.TryPop(), i);
  EXPECT_FALSE(e.TryPop().has_value());
  const EdgeCounters c = e.Counters();
  EXPECT_EQ(c.pushed, 5u);
  EXPECT_EQ(c.delivered, 5u);
  EXPECT_EQ(c.dropped, 0u);
}

TEST(SpscEdge, OrderAndNoLossAcrossThreadsMillionItems) {
  constexpr uint64_t kItems = 1'000'000;
  SpscEdge<uint64_t> e(64, Backpressure::kBlock);
  std::thread producer([&] {
    for (uint64_t i = 0; i < kItems; ++i) ASSERT_TRUE(e.Push(i));
    e.Close();
  });
  uint64_t expect = 0;
  bool in_order = true;
  while (auto v = e.Pop()) {
    if (*v != expect) in_order = false;
    ++expect;
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expect, kItems);
  EXPECT_EQ(e.Counters().delivered, kItems);
  EXPECT_EQ(e.Counters().dropped, 0u);
}

TEST(SpscEdge, DropOldestKeepsTheNewestCapacityItems) {
  SpscEdge<int> e(4, Backpressure::kDropOldest, /*headroom=*/16);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(e.Push(i));  // never waits
  EXPECT_EQ(e.TryPop(), 6) << "0..5 are the oldest beyond capacity 4";
  EXPECT_EQ(e.TryPop(), 7);
  EXPECT_EQ(e.TryPop(), 8);
  EXPECT_EQ(e.TryPop(), 9);
  EXPECT_FALSE(e.TryPop().has_value());
  const EdgeCounters c = e.Counters();
  EXPECT_EQ(c.pushed, 10u);
  EXPECT_EQ(c.delivered, 4u);
  EXPECT_EQ(c.dropped, 6u);
  EXPECT_EQ(c.overflow, 0u);
}

TEST(SpscEdge, KeepLatestDeliversOnlyTheNewest) {
  SpscEdge<int> e(99 /*ignored*/, Backpressure::kKeepLatest);
  EXPECT_EQ(e.capacity(), 1u);
  for (int i = 0; i < 10; ++i) e.Push(i);
  EXPECT_EQ(e.TryPop(), 9);
  EXPECT_FALSE(e.TryPop().has_value());
  e.Push(10);
  EXPECT_EQ(e.TryPop(), 10);
  EXPECT_EQ(e.Counters().dropped, 9u);
}

TEST(SpscEdge, OverflowBeyondHeadroomRefusesAndCounts) {
  SpscEdge<int> e(2, Backpressure::kDropOldest, /*headroom=*/2);
  for (int i = 0; i < 10; ++i) e.Push(i);  // ring holds 4: 0..3; 4..9 refused
  const EdgeCounters before = e.Counters();
  EXPECT_EQ(before.overflow, 6u);
  EXPECT_EQ(e.TryPop(), 2);
  EXPECT_EQ(e.TryPop(), 3);
  const EdgeCounters c = e.Counters();
  EXPECT_EQ(c.pushed, c.delivered + c.dropped);
}

TEST(SpscEdge, DropOldestTwoThreadsSlowConsumerBalances) {
  constexpr int kItems = 20'000;
  SpscEdge<int> e(4, Backpressure::kDropOldest, 8);
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) e.Push(i);
    e.Close();
  });
  int last = -1;
  bool increasing = true;
  int n = 0;
  while (auto v = e.Pop()) {
    if (*v <= last) increasing = false;
    last = *v;
    if (++n % 64 == 0) std::this_thread::sleep_for(100us);  // a slow consumer
  }
  producer.join();
  EXPECT_TRUE(increasing);
  const EdgeCounters c = e.Counters();
  EXPECT_EQ(c.pushed, static_cast<uint64_t>(kItems));
  EXPECT_EQ(c.pushed, c.delivered + c.dropped);
}

struct Counted {
  static inline std::atomic<int> live{0};
  int v = 0;
  Counted() { ++live; }
  explicit Counted(int x) : v(x) { ++live; }
  Counted(const Counted& o) : v(o.v) { ++live; }
  Counted& operator=(const Counted& o) = default;
  ~Counted() { --live; }
};

TEST(SpscEdge, DestructorsRunExactlyOnceAcrossWrapAround) {
  Counted::live = 0;
  {
    SpscEdge<Counted> e(3, Backpressure::kBlock);
    for (int round = 0; round < 10; ++round) {  // wraps the 3-slot ring many times
      for (int i = 0; i < 3; ++i) e.Push(Counted(round * 3 + i));
      for (int i = 0; i < 2; ++i) {
        auto v = e.TryPop();
        ASSERT_TRUE(v.has_value());
      }
      e.DiscardRemaining();
    }
    e.Push(Counted(99));  // left queued at destruction
    EXPECT_EQ(Counted::live.load(), 1);
  }
  EXPECT_EQ(Counted::live.load(), 0) << "queued items leaked or destroyed twice";
}

TEST(SpscEdge, CancelWakesBlockedProducerAndConsumer) {
  SpscEdge<int> full(1, Backpressure::kBlock);
  full.Push(0);
  std::atomic<int> result{-1};
  std::thread producer([&] { result = full.Push(1) ? 1 : 0; });
  SpscEdge<int> empty(1, Backpressure::kBlock);
  std::atomic<bool> popped_nothing{false};
  std::thread consumer([&] { popped_nothing = !empty.Pop().has_value(); });
  std::this_thread::sleep_for(20ms);
  full.Cancel();
  empty.Cancel();
  producer.join();
  consumer.join();
  EXPECT_EQ(result.load(), 0) << "Push into a cancelled edge must report refusal";
  EXPECT_TRUE(popped_nothing.load());
  EXPECT_EQ(full.DiscardRemaining(), 1u);
  const EdgeCounters c = full.Counters();
  EXPECT_EQ(c.pushed, c.delivered + c.dropped);
}

}  // namespace
}  // namespace fg
