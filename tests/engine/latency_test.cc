#include "engine/graph/latency.h"

#include <gtest/gtest.h>

namespace fg {
namespace {

TEST(Latency, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Percentile(v, 0.50), 50);
  EXPECT_EQ(Percentile(v, 0.99), 99);
  EXPECT_EQ(Percentile(v, 1.0), 100);
  EXPECT_EQ(Percentile(v, 0.0), 1);
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
}

TEST(Latency, WindowForgetsOldSamples) {
  LatencyWindow w(10);
  for (int i = 0; i < 10; ++i) w.Record(1000);  // old, slow
  for (int i = 0; i < 10; ++i) w.Record(1);     // newest window: fast
  LatencySummary s = w.Snapshot();
  EXPECT_EQ(s.count, 20u);
  EXPECT_EQ(s.p50_ms, 1);
  EXPECT_EQ(s.p99_ms, 1);
  EXPECT_EQ(s.max_ms, 1);
}

TEST(Latency, P99SeesTheTail) {
  LatencyWindow w(1000);
  for (int i = 0; i < 985; ++i) w.Record(1.0);
  for (int i = 0; i < 15; ++i) w.Record(9.0);
  LatencySummary s = w.Snapshot();
  EXPECT_EQ(s.p50_ms, 1.0);
  EXPECT_EQ(s.p99_ms, 9.0);
}

}  // namespace
}  // namespace fg
