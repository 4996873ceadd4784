#include "engine/graph/latency.h"

#include <algorithm>
#include <cmath>

namespace fg {

double Percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least q of the sample at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
  if (rank > 0) --rank;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank), samples.end());
  return samples[rank];
}

LatencyWindow::LatencyWindow(size_t window) : ring_(std::max<size_t>(window, 1)) {}

void LatencyWindow::Record(double ms) {
  std::lock_guard lock(mu_);
  ring_[count_ % ring_.size()] = ms;
  ++count_;
}

LatencySummary LatencyWindow::Snapshot() const {
  std::vector<double> copy;
  LatencySummary s;
  {
    std::lock_guard lock(mu_);
    s.count = count_;
    const size_t n = std::min<uint64_t>(count_, ring_.size());
    copy.assign(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (copy.empty()) return s;
  s.max_ms = *std::max_element(copy.begin(), copy.end());
  s.p99_ms = Percentile(copy, 0.99);
  s.p50_ms = Percentile(std::move(copy), 0.50);
  return s;
}

}  // namespace fg
