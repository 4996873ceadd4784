#include "engine/tracking/one_euro.h"

#include <cmath>
#include <numbers>

namespace fg {

namespace {
double Alpha(double cutoff, double dt) {
  const double tau = 1.0 / (2.0 * std::numbers::pi * cutoff);
  return 1.0 / (1.0 + tau / dt);
}
}  // namespace

double OneEuroFilter::Filter(double t, double x, double speed_unit) {
  if (!initialised_) {
    initialised_ = true;
    t_prev_ = t;
    x_prev_ = x;
    dx_prev_ = 0;
    return x;
  }
  const double dt = t - t_prev_;
  if (!(dt > 0)) return x_prev_;
  const double dx = (x - x_prev_) / dt;
  const double a_d = Alpha(p_.d_cutoff, dt);
  const double dx_hat = a_d * dx + (1 - a_d) * dx_prev_;
  const double cutoff = p_.min_cutoff + p_.beta * std::abs(dx_hat) / speed_unit;
  const double a = Alpha(cutoff, dt);
  const double x_hat = a * x + (1 - a) * x_prev_;
  t_prev_ = t;
  x_prev_ = x_hat;
  dx_prev_ = dx_hat;
  return x_hat;
}

void LandmarkSmoother::Filter(double t, float scale, std::vector<std::array<float, 3>>& points) {
  if (filters_.size() != points.size() * 3) filters_.assign(points.size() * 3, OneEuroFilter(p_));
  const double s = scale > 1e-6f ? scale : 1.0;
  for (size_t i = 0; i < points.size(); ++i)
    for (int k = 0; k < 3; ++k)
      points[i][k] = static_cast<float>(filters_[3 * i + k].Filter(t, points[i][k], s));
}

}  // namespace fg
