// Latency statistics over a sliding window: p50/p99 of the last `window` samples.
//
// Record() is called by one thread (the node's own) per frame; it takes an uncontended lock
// and writes into a fixed ring, so it never allocates. Snapshot() may be called from any
// thread; it copies the window and sorts the copy (off the frame path).
//
// Example:
//   fg::LatencyWindow w(1024);
//   w.Record(0.8);                       // milliseconds
//   fg::LatencySummary s = w.Snapshot(); // s.p50_ms, s.p99_ms, s.count
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace fg {

struct LatencySummary {
  uint64_t count = 0;  // samples recorded since construction (not just in the window)
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;   // over the window
};

// Nearest-rank percentile (q in [0,1]) of an unsorted sample; 0 when empty.
double Percentile(std::vector<double> samples, double q);

class LatencyWindow {
 public:
  explicit LatencyWindow(size_t window = 1024);
  void Record(double ms);
  LatencySummary Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> ring_;  // fixed size, allocated once
  uint64_t count_ = 0;
};

}  // namespace fg
