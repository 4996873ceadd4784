// A weight curve through keyframes: the blendshape weights (and their velocity) of an
// instruction (instruction.h) at any time.
//
// Transitions are minimum-jerk (Flash & Hogan 1985, the profile of human point-to-point
// movements): between keyframes k and k+1, with tau = (t - t_k) / (t_{k+1} - t_k),
//   w(t) = w_k + (w_{k+1} - w_k) s(tau),   s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5,
// each weight independently. s has zero velocity and zero acceleration at both ends, so the
// curve's value, velocity and acceleration are continuous at every keyframe (the face comes
// to rest on each keyframe's pose, as a person's face does), jerk is bounded
// (|jerk| <= 60 |dw| / T^3) and the curve never overshoots (w stays between its keyframe
// values, so inside [0, 1]). Peak velocity 1.875 |dw| / T at mid-transition.
// Before the first keyframe the curve holds the first one's weights, after the last the
// last's. Two keyframes at the same time are a jump (instant change): the later one wins
// from that time on.
//
// Threading: immutable after construction; Evaluate is const and allocation-free.
//
// Example:
//   fg::WeightCurve curve(std::move(parsed.keyframes));
//   std::vector<float> w(basis.size()), v(basis.size());
//   curve.Evaluate(t, w, v);
#pragma once

#include <span>
#include <vector>

#include "engine/avatar/instruction.h"

namespace fg {

class WeightCurve {
 public:
  WeightCurve() = default;
  // Keyframes are sorted by time (stable: equal times keep their order). Every keyframe
  // should have the same number of weights; shorter ones are padded with 0.
  explicit WeightCurve(std::vector<Keyframe> keyframes);

  int dims() const { return dims_; }
  bool empty() const { return keys_.empty(); }
  double start() const { return keys_.empty() ? 0.0 : keys_.front().t; }
  double end() const { return keys_.empty() ? 0.0 : keys_.back().t; }
  const std::vector<Keyframe>& keyframes() const { return keys_; }

  // Writes min(dims(), weights.size()) weights at time t (seconds) and, when velocity is
  // not empty, their time derivative (per second). An empty curve writes zeros.
  void Evaluate(double t, std::span<float> weights, std::span<float> velocity = {}) const;

 private:
  std::vector<Keyframe> keys_;
  int dims_ = 0;
};

// The minimum-jerk step s(tau) on [0, 1] (clamped outside) and its derivative ds/dtau.
double MinimumJerk(double tau);
double MinimumJerkVelocity(double tau);

}  // namespace fg
