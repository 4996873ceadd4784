// Minimum-jerk weight curves: endpoints exact, value and velocity continuous at every
// keyframe (checked by numerical derivatives across each keyframe), no overshoot, jumps at
// equal times, holds outside the keyframes.
#include "engine/avatar/curve.h"

#include "engine/avatar/blendshapes.h"
#include "engine/avatar/instruction.h"
#include "tests/avatar/avatar_test_util.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fg {
namespace {

WeightCurve ThreeKeys() {
  return WeightCurve(
      {{0.0, {0.0f, 1.0f}}, {1.5, {1.0f, 0.2f}}, {2.0, {0.3f, 0.2f}}, {3.0, {0.3f, 0.9f}}});
}

TEST(WeightCurve, EndpointsAreExact) {
  const WeightCurve c = ThreeKeys();
  float w[2], v[2];
  for (const Keyframe& k : c.keyframes()) {
    c.Evaluate(k.t, w, v);
    EXPECT_FLOAT_EQ(w[0], k.weights[0]) << "t=" << k.t;
    EXPECT_FLOAT_EQ(w[1], k.weights[1]) << "t=" << k.t;
    EXPECT_FLOAT_EQ(v[0], 0.0f);  // rest at every keyframe
  }
  c.Evaluate(-1, w, v);  // before: the first keyframe
  EXPECT_FLOAT_EQ(w[1], 1.0f);
  c.Evaluate(10, w, v);  // after: the last
  EXPECT_FLOAT_EQ(w[1], 0.9f);
  EXPECT_FLOAT_EQ(v[1], 0.0f);
}

TEST(WeightCurve, ValueAndVelocityAreContinuousAtKeyframes) {
  const WeightCurve c = ThreeKeys();
  const double h = 1e-5;
  float a[2], b[2], va[2], vb[2];
  for (const Keyframe& k : c.keyframes()) {
    c.Evaluate(k.t - h, a, va);
    c.Evaluate(k.t + h, b, vb);
    for (int i = 0; i < 2; ++i) {
      EXPECT_NEAR(a[i], b[i], 1e-6) << "value jumps at t=" << k.t;
      EXPECT_NEAR(va[i], vb[i], 1e-3) << "velocity jumps at t=" << k.t;
    }
  }
  // The analytic velocity matches a central difference everywhere.
  for (double t = 0.01; t < 3.0; t += 0.0537) {
    float w1[2], w2[2], w[2], v[2], vv[2];
    const double d = 1e-3;  // float weights: a larger step than h keeps rounding small
    c.Evaluate(t - d, w1, vv);
    c.Evaluate(t + d, w2, vv);
    c.Evaluate(t, w, v);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(v[i], (w2[i] - w1[i]) / (2 * d), 1e-2) << "t=" << t;
  }
}

TEST(WeightCurve, NeverOvershootsAndPeaksMidway) {
  const WeightCurve c({{0.0, {0.0f}}, {2.0, {1.0f}}});
  float w[1], v[1], peak = 0;
  for (double t = 0; t <= 2.0; t += 0.001) {
    c.Evaluate(t, w, v);
    EXPECT_GE(w[0], 0.0f);
    EXPECT_LE(w[0], 1.0f);
    peak = std::max(peak, v[0]);
  }
  EXPECT_NEAR(peak, 1.875 / 2.0, 1e-3);  // 15/8 |dw| / T
  c.Evaluate(1.0, w, v);
  EXPECT_NEAR(w[0], 0.5, 1e-6);
  EXPECT_DOUBLE_EQ(MinimumJerk(0.5), 0.5);
  EXPECT_DOUBLE_EQ(MinimumJerk(-1), 0);
  EXPECT_DOUBLE_EQ(MinimumJerk(2), 1);
}

TEST(WeightCurve, EqualTimesAreAJumpAndOrderIsByTime) {
  const WeightCurve c({{1.0, {0.5f}}, {0.0, {0.0f}}, {1.0, {1.0f}}, {2.0, {0.0f}}});
  EXPECT_DOUBLE_EQ(c.keyframes()[0].t, 0.0);
  float w[1];
  c.Evaluate(0.999999, w);
  EXPECT_NEAR(w[0], 0.5f, 1e-4);
  c.Evaluate(1.0, w);
  EXPECT_FLOAT_EQ(w[0], 1.0f);  // the later keyframe of the pair wins from t on
}

TEST(WeightCurve, EmptyAndShortKeyframes) {
  const WeightCurve empty;
  float w[3] = {7, 7, 7};
  empty.Evaluate(1, w);
  EXPECT_EQ(w[0], 0);
  const WeightCurve c({{0, {1.0f}}, {1, {1.0f, 1.0f}}});
  EXPECT_EQ(c.dims(), 2);
  c.Evaluate(0, w);
  EXPECT_EQ(w[1], 0);  // padded with 0
  EXPECT_EQ(w[2], 0);  // beyond dims: zero
}

// Per-AU onset timing (curve.h table): in "neutral, then very surprised over 1 s" the brows
// finish at 0.7 s while the jaw has only started (its window is 0.2 - 1.0); in a smile the
// lip corners lead the cheeks. Every weight is at rest on the keyframes, and the velocity
// is the derivative of the weight (finite difference, 1e-3 relative).
TEST(WeightCurve, FacsOnsetTimingBrowsLeadTheJawAndCornersLeadTheCheeks) {
  const auto& basis = avatar_testing::Basis();
  InstructionResult r = ParseInstruction("neutral, then very surprised over 1 s, then very happy over 1 s", basis);
  ASSERT_TRUE(r.ok());
  WeightCurve c(std::move(r.keyframes));
  c.SetTiming(FacsOnsetTiming(basis.names()));
  std::vector<float> w(basis.size()), v(basis.size());
  const int brow = basis.Index("browInnerUp"), jaw = basis.Index("jawOpen");
  const int smile = basis.Index("mouthSmileLeft"), cheek = basis.Index("cheekSquintLeft");
  const float jaw_full = ExpressionWeights(*FindExpression("surprise"), basis)[jaw];
  c.Evaluate(0.2, w);  // surprise 20% in: the brows move, the jaw has not started
  EXPECT_GT(w[brow], 0.05f);
  EXPECT_EQ(w[jaw], 0.0f);
  c.Evaluate(0.7, w);  // the brows are done, the jaw half way (tau 0.625 of its window)
  EXPECT_FLOAT_EQ(w[brow], 1.0f);
  EXPECT_GT(w[jaw], 0.3f * jaw_full);
  EXPECT_LT(w[jaw], 0.9f * jaw_full);
  c.Evaluate(1.0, w);  // the keyframe: everything at the pose
  EXPECT_FLOAT_EQ(w[jaw], jaw_full);
  c.Evaluate(1.3, w);  // happy 30% in: the corners are moving, the cheeks just start
  EXPECT_GT(w[smile], w[cheek] + 0.1f);
  c.Evaluate(1.5, w, v);
  std::vector<float> w2(basis.size());
  c.Evaluate(1.5 + 1e-4, w2);
  for (int i : {brow, jaw, smile, cheek})
    EXPECT_NEAR(v[i], (w2[i] - w[i]) / 1e-4, 1e-2f + 1e-3f * std::abs(v[i])) << basis.names()[i];
  // Without a table: all weights over the whole transition (the curve as before).
  WeightCurve plain(c.keyframes());
  plain.Evaluate(0.2, w);
  EXPECT_GT(w[jaw], 0.0f);
}

}  // namespace
}  // namespace fg
