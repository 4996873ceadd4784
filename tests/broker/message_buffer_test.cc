// fg::MessageBuffer at its edges: the exact full boundary, both drop policies, the counters'
// invariant (offered == popped + dropped + size), and a requeued message keeping its place.
#include "engine/broker/message_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace {

fg::OutMessage M(int i) { return {"t", std::to_string(i)}; }

TEST(MessageBuffer, DropOldestKeepsTheNewest) {
  fg::MessageBuffer b(3, fg::DropPolicy::kDropOldest);
  EXPECT_TRUE(b.Push(M(0)));
  EXPECT_TRUE(b.Push(M(1)));
  EXPECT_TRUE(b.Push(M(2)));  // full after exactly 3
  EXPECT_EQ(b.dropped(), 0u);
  EXPECT_FALSE(b.Push(M(3)));
  EXPECT_FALSE(b.Push(M(4)));
  EXPECT_EQ(b.dropped(), 2u);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.Pop()->payload, "2");
  EXPECT_EQ(b.Pop()->payload, "3");
  EXPECT_EQ(b.Pop()->payload, "4");
  EXPECT_FALSE(b.Pop());
  EXPECT_EQ(b.offered(), 5u);
}

TEST(MessageBuffer, DropNewestKeepsTheOldest) {
  fg::MessageBuffer b(2, fg::DropPolicy::kDropNewest);
  b.Push(M(0));
  b.Push(M(1));
  EXPECT_FALSE(b.Push(M(2)));
  EXPECT_EQ(b.Pop()->payload, "0");
  EXPECT_TRUE(b.Push(M(3)));
  EXPECT_EQ(b.Pop()->payload, "1");
  EXPECT_EQ(b.Pop()->payload, "3");
  EXPECT_EQ(b.dropped(), 1u);
}

TEST(MessageBuffer, CountersAddUpOverManyWrapArounds) {
  for (auto policy : {fg::DropPolicy::kDropOldest, fg::DropPolicy::kDropNewest}) {
    fg::MessageBuffer b(7, policy);
    uint64_t popped = 0;
    for (int i = 0; i < 1000; ++i) {
      b.Push(M(i));
      if (i % 3 == 0 && b.Pop()) ++popped;
      ASSERT_EQ(b.offered(), popped + b.dropped() + b.size());
      ASSERT_LE(b.size(), 7u);
    }
  }
}

TEST(MessageBuffer, RequeuedMessageKeepsItsPlace) {
  fg::MessageBuffer b(2, fg::DropPolicy::kDropOldest);
  b.Push(M(0));
  b.Push(M(1));
  fg::OutMessage m = *b.Pop();
  b.PushFront(std::move(m));
  EXPECT_EQ(b.Pop()->payload, "0");
  EXPECT_EQ(b.offered(), 2u);
}

TEST(MessageBuffer, ZeroCapacityHoldsOne) {
  fg::MessageBuffer b(0, fg::DropPolicy::kDropOldest);
  EXPECT_EQ(b.capacity(), 1u);
  EXPECT_TRUE(b.Push(M(0)));
}

TEST(MessageBuffer, PolicyNames) {
  EXPECT_EQ(fg::ParseDropPolicy("drop-oldest"), fg::DropPolicy::kDropOldest);
  EXPECT_EQ(fg::ParseDropPolicy("drop-newest"), fg::DropPolicy::kDropNewest);
  EXPECT_FALSE(fg::ParseDropPolicy("drop-some"));
  EXPECT_STREQ(fg::DropPolicyName(fg::DropPolicy::kDropNewest), "drop-newest");
}

}  // namespace
