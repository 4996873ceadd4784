// One Euro filter: a still noisy landmark is steadied, a moving one follows with bounded lag.
#include "engine/tracking/one_euro.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace fg {
namespace {

double Rms(const std::vector<double>& v, double mean) {
  double s = 0;
  for (double x : v) s += (x - mean) * (x - mean);
  return std::sqrt(s / static_cast<double>(v.size()));
}

TEST(OneEuro, StillNoisySignalIsSteadied) {
  OneEuroFilter f({.min_cutoff = 0.5, .beta = 0.05, .d_cutoff = 1.0});
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);  // 1 px RMS jitter
  std::vector<double> out;
  for (int i = 0; i < 600; ++i) {
    const double y = f.Filter(i / 30.0, 100.0 + noise(rng));
    if (i >= 60) out.push_back(y);  // after 2 s of settling
  }
  EXPECT_LT(Rms(out, 100.0), 0.5) << "issue 4: a still face jitters <= 0.5 px RMS after smoothing";
}

TEST(OneEuro, FastMotionIsFollowedWithLittleLag) {
  OneEuroFilter f({.min_cutoff = 0.5, .beta = 0.05, .d_cutoff = 1.0});
  double lag = 0;
  for (int i = 0; i < 90; ++i) {
    const double t = i / 30.0, x = 300.0 * t;  // 300 px/s sweep
    lag = x - f.Filter(t, x);
  }
  EXPECT_LT(lag, 3.0) << "at 300 px/s the filtered value trails by less than 3 px";
  EXPECT_GE(lag, 0.0);
}

TEST(OneEuro, RespectsTimestampsNotFrameCounts) {
  // The same motion sampled at 15 and 60 fps settles to the same value at the same time.
  auto run = [](double fps) {
    OneEuroFilter f({.min_cutoff = 1.0, .beta = 0.0, .d_cutoff = 1.0});
    double y = 0;
    for (int i = 0; i <= static_cast<int>(fps * 0.5); ++i) y = f.Filter(i / fps, i == 0 ? 0.0 : 10.0);
    return y;
  };
  EXPECT_NEAR(run(15), run(60), 0.8);
}

TEST(OneEuro, RepeatedTimestampIsHarmless) {
  OneEuroFilter f;
  f.Filter(1.0, 5.0);
  EXPECT_EQ(f.Filter(1.0, 50.0), 5.0);
  EXPECT_FALSE(std::isnan(f.Filter(0.5, 7.0)));
}

TEST(LandmarkSmoother, ScaleInvariant) {
  // A face twice as large, moving twice as fast, is smoothed to exactly twice the values.
  LandmarkSmoother a({.min_cutoff = 0.5, .beta = 5.0}), b({.min_cutoff = 0.5, .beta = 5.0});
  std::vector<std::array<float, 3>> pa(468), pb(468);
  for (int i = 0; i < 30; ++i) {
    for (int k = 0; k < 468; ++k) {
      pa[k] = {static_cast<float>(k + 3 * i), 1.0f * i, 0.0f};
      pb[k] = {2 * pa[k][0], 2 * pa[k][1], 0.0f};
    }
    a.Filter(i / 30.0, 50.0f, pa);
    b.Filter(i / 30.0, 100.0f, pb);
  }
  for (int k = 0; k < 468; k += 50) EXPECT_NEAR(pb[k][0], 2 * pa[k][0], 1e-3 * pb[k][0] + 1e-3);
}

}  // namespace
}  // namespace fg
