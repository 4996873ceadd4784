#include "engine/avatar/curve.h"

#include <algorithm>

namespace fg {

double MinimumJerk(double tau) {
  tau = std::clamp(tau, 0.0, 1.0);
  const double t3 = tau * tau * tau;
  return t3 * (10 - 15 * tau + 6 * tau * tau);
}

double MinimumJerkVelocity(double tau) {
  if (tau <= 0 || tau >= 1) return 0;
  const double a = tau * (1 - tau);
  return 30 * a * a;
}

WeightCurve::WeightCurve(std::vector<Keyframe> keyframes) : keys_(std::move(keyframes)) {
  std::stable_sort(keys_.begin(), keys_.end(),
                   [](const Keyframe& a, const Keyframe& b) { return a.t < b.t; });
  for (const Keyframe& k : keys_) dims_ = std::max(dims_, static_cast<int>(k.weights.size()));
  for (Keyframe& k : keys_) k.weights.resize(dims_, 0.0f);
}

void WeightCurve::Evaluate(double t, std::span<float> weights, std::span<float> velocity) const {
  const size_t nw = std::min(weights.size(), static_cast<size_t>(dims_));
  const size_t nv = std::min(velocity.size(), static_cast<size_t>(dims_));
  std::fill(weights.begin(), weights.end(), 0.0f);
  std::fill(velocity.begin(), velocity.end(), 0.0f);
  if (keys_.empty()) return;
  // The segment [k, k+1] with t_k <= t < t_{k+1}; the last of equal times wins (a jump).
  auto it = std::upper_bound(keys_.begin(), keys_.end(), t,
                             [](double v, const Keyframe& k) { return v < k.t; });
  if (it == keys_.begin()) {  // before the first keyframe: hold it
    std::copy_n(keys_.front().weights.begin(), nw, weights.begin());
    return;
  }
  if (it == keys_.end()) {
    std::copy_n(keys_.back().weights.begin(), nw, weights.begin());
    return;
  }
  const Keyframe& a = *(it - 1);
  const Keyframe& b = *it;
  const double span = b.t - a.t;  // > 0: upper_bound skipped equal times
  const double tau = (t - a.t) / span;
  for (size_t i = 0; i < std::max(nw, nv); ++i) {
    double lo = 0, hi = 1;
    if (i < timing_.size() && timing_[i].start >= 0 && timing_[i].end <= 1 &&
        timing_[i].start < timing_[i].end)
      lo = timing_[i].start, hi = timing_[i].end;
    const double ti = (tau - lo) / (hi - lo);
    const double dw = b.weights[i] - a.weights[i];
    if (i < nw) weights[i] = static_cast<float>(a.weights[i] + dw * MinimumJerk(ti));
    if (i < nv) velocity[i] = static_cast<float>(dw * MinimumJerkVelocity(ti) / (span * (hi - lo)));
  }
}

std::vector<WeightCurve::Window> FacsOnsetTiming(const std::vector<std::string>& names) {
  auto starts = [](const std::string& n, const char* prefix) { return n.rfind(prefix, 0) == 0; };
  std::vector<WeightCurve::Window> w(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    if (starts(n, "brow") || starts(n, "eyeWide")) w[i] = {0.0f, 0.7f};
    else if (starts(n, "mouthSmile")) w[i] = {0.0f, 0.8f};
    else if (starts(n, "cheekSquint")) w[i] = {0.3f, 1.0f};
    else if (starts(n, "eyeSquint")) w[i] = {0.2f, 1.0f};
    else if (n == "jawOpen" || starts(n, "mouthStretch") || starts(n, "mouthLowerDown") ||
             starts(n, "mouthUpperUp"))
      w[i] = {0.2f, 1.0f};
  }
  return w;
}

}  // namespace fg
