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
// Per-AU onset timing (SetTiming): each weight may run its transitions over a window
// [start, end] of every segment (fractions of the segment's duration) instead of the whole
// of it: tau_i = clamp((tau - start_i) / (end_i - start_i), 0, 1), w_i = w_k + dw s(tau_i).
// The keyframes' poses and times are unchanged (every weight is at rest on each keyframe);
// only the order in which the parts of the face move inside a transition changes.
// FacsOnsetTiming() is the table the instruction language uses (faceavatar, ExpressionTrack):
//
//   weights                               window     why
//   brow*  (AU1, AU2, AU4)                0.0 - 0.7  the brows lead (surprise: brows and
//   eyeWide* (AU5)                        0.0 - 0.7  lids rise before the jaw drops)
//   mouthSmile* (AU12)                    0.0 - 0.8  the lip corners lead the smile...
//   cheekSquint* (AU6)                    0.3 - 1.0  ...the cheeks follow them
//   eyeSquint* (AU6/7)                    0.2 - 1.0  the lower lids follow the cheeks
//   jawOpen (AU26/27), mouthStretch*,     0.2 - 1.0  the mouth follows the brows
//   mouthLowerDown*, mouthUpperUp*
//   everything else                       0.0 - 1.0
//
// The ordering is the (brows lead the mouth in surprise; the cheek raise lags the
// lip corners), the fractions a design choice: no measured onset lags are cited. At 0.5 s
// for a transition, the brows finish 150 ms before the jaw does.
//
// Threading: immutable after construction; Evaluate is const and allocation-free.
//
// Example:
//   fg::WeightCurve curve(std::move(parsed.keyframes));
//   std::vector<float> w(basis.size()), v(basis.size());
//   curve.Evaluate(t, w, v);
#pragma once

#include <span>
#include <string>
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

  // Per-weight windows (fractions of each transition, 0 <= start < end <= 1); weights past
  // the table's end, and malformed entries, use [0, 1]. Empty: every weight over [0, 1].
  struct Window {
    float start = 0, end = 1;
  };
  void SetTiming(std::vector<Window> windows) { timing_ = std::move(windows); }
  const std::vector<Window>& timing() const { return timing_; }

  // Writes min(dims(), weights.size()) weights at time t (seconds) and, when velocity is
  // not empty, their time derivative (per second). An empty curve writes zeros.
  void Evaluate(double t, std::span<float> weights, std::span<float> velocity = {}) const;

 private:
  std::vector<Keyframe> keys_;
  int dims_ = 0;
  std::vector<Window> timing_;
};

// The onset table above, for the weights named `names` (basis order).
std::vector<WeightCurve::Window> FacsOnsetTiming(const std::vector<std::string>& names);

// The minimum-jerk step s(tau) on [0, 1] (clamped outside) and its derivative ds/dtau.
double MinimumJerk(double tau);
double MinimumJerkVelocity(double tau);

}  // namespace fg
