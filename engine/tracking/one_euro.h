// One Euro filter (Casiez, Roussel, Vogel, CHI 2012): an adaptive low-pass filter whose
// cut-off rises with speed, so a still landmark does not jitter and a moving one does not
// lag. Time comes from timestamps, not frame counts, so variable frame rates are handled.
//
//   cutoff = min_cutoff + beta * |d/dt x (smoothed with d_cutoff)|
//   alpha  = 1 / (1 + 1 / (2*pi*cutoff*dt))
//
// The defaults of OneEuroParams are the paper's neutral starting point; the tracker sets
// its own (see engine/tracking) and exposes them as element properties.
//
// Threading: thread-compatible; one instance per track.
//
// Example:
//   fg::OneEuroFilter f({.min_cutoff = 1.0, .beta = 0.01});
//   double y = f.Filter(t_seconds, x);
#pragma once

#include <array>
#include <vector>

namespace fg {

struct OneEuroParams {
  double min_cutoff = 1.0;  // Hz: smoothing of a still signal (lower = smoother)
  double beta = 0.0;        // how fast the cut-off rises with speed (higher = less lag)
  double d_cutoff = 1.0;    // Hz: smoothing of the speed estimate
};

class OneEuroFilter {
 public:
  explicit OneEuroFilter(OneEuroParams p = {}) : p_(p) {}
  // t in seconds, strictly increasing; a repeated or older timestamp returns the last value.
  // The speed that raises the cut-off is divided by `speed_unit` (e.g. the face size in
  // pixels, so that beta is in face sizes per second).
  double Filter(double t, double x, double speed_unit = 1.0);
  void Reset() { initialised_ = false; }
  // New parameters from the next sample on; the state is kept (no jump).
  void set_params(const OneEuroParams& p) { p_ = p; }

 private:
  OneEuroParams p_;
  bool initialised_ = false;
  double t_prev_ = 0, x_prev_ = 0, dx_prev_ = 0;
};

// Smooths a whole landmark set (e.g. 468 x 3) with one filter per coordinate. The speed
// term is scale-invariant: speeds are divided by `scale` (the face size in pixels, e.g. the
// inter-ocular distance) so the same parameters work for near and far faces. (Only the speed
// is scaled: the positions themselves are filtered in pixels, so a noisy scale estimate does
// not leak into them.)
class LandmarkSmoother {
 public:
  explicit LandmarkSmoother(OneEuroParams p = {}) : p_(p) {}
  // Filters `points` in place. The first call (or a call with a different count) resets.
  void Filter(double t, float scale, std::vector<std::array<float, 3>>& points);
  void Reset() { filters_.clear(); }
  void set_params(const OneEuroParams& p) {
    p_ = p;
    for (auto& f : filters_) f.set_params(p);
  }

 private:
  OneEuroParams p_;
  std::vector<OneEuroFilter> filters_;  // sized once per track
};

}  // namespace fg
