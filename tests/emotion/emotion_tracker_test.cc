// EmotionSmoother / EmotionTracks fed timestamped probabilities: smoothing by time (15 and
// 60 fps give the same curve), hysteresis against flicker, valence/arousal, per-track state
// and its end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/emotion/emotion_tracker.h"

namespace fg {
namespace {

constexpr int64_t kSec = 1'000'000'000;

EmotionProbs OneHot(int k, float p = 1.0f) {
  EmotionProbs v{};
  for (float& x : v) x = (1.0f - p) / (kEmotionClasses - 1);
  v[k] = p;
  return v;
}

EmotionProbs Mix(int a, float pa, int b, float pb) {
  EmotionProbs v{};
  const float rest = (1.0f - pa - pb) / (kEmotionClasses - 2);
  for (float& x : v) x = rest;
  v[a] = pa;
  v[b] = pb;
  return v;
}

// The input: neutral until 1.0 s, then a linear change to happy by 1.2 s (the classifier's
// output for a face that starts smiling). Both knots lie on every grid used below.
EmotionProbs Smile(int64_t t) {
  const double a = std::clamp((1e-9 * t - 1.0) / 0.2, 0.0, 1.0);
  EmotionProbs v{};
  v[kEmotionNeutral] = static_cast<float>(1 - a);
  v[kEmotionHappy] = static_cast<float>(a);
  return v;
}

// Classified at 15, 30, 60 and 300 Hz, the smoothed "happy" at the instants all grids share
// (every 1/15 s) must agree; frame counting would make 15 fps four times slower than 60.
TEST(EmotionSmoother, SameCurveAt15And60Fps) {
  EmotionSmoothingOptions o;
  o.time_constant_s = 0.5;
  const int rates[] = {15, 30, 60, 300};
  std::vector<std::vector<float>> curves;
  for (int hz : rates) {
    EmotionSmoother s(o);
    std::vector<float> curve;
    for (int k = 0; k <= 3 * hz; ++k) {
      const int64_t t = k * kSec / hz;  // exact: 1 s is a whole number of ns
      s.Update(Smile(t), t);
      if (k % (hz / 15) == 0) curve.push_back(s.state().probs[kEmotionHappy]);
    }
    curves.push_back(curve);
  }
  double worst = 0;
  for (size_t r = 1; r < curves.size(); ++r) {
    ASSERT_EQ(curves[r].size(), curves[0].size());
    for (size_t i = 0; i < curves[0].size(); ++i)
      worst = std::max(worst, static_cast<double>(std::abs(curves[r][i] - curves[0][i])));
  }
  // Continuous solution at 2.0 s for a ramp over [1.0, 1.2] s: 1 - tau/0.2 (e^{-0.8/tau} -
  // e^{-1.0/tau}) with tau = 0.5.
  const double want = 1 - 0.5 / 0.2 * (std::exp(-0.8 / 0.5) - std::exp(-1.0 / 0.5));
  const float got = curves[0][30];  // 2.0 s
  std::printf("[ smoothing ] 15/30/60/300 Hz: max difference %.2g; happy at 2.0 s %.5f "
              "(continuous %.5f)\n", worst, got, want);
  EXPECT_LE(worst, 1e-5);
  EXPECT_NEAR(got, want, 1e-5);
}

TEST(EmotionSmoother, HysteresisStopsFlicker) {
  EmotionSmoothingOptions o;
  o.time_constant_s = 0.2;
  o.switch_margin = 0.1f;
  o.switch_hold_s = 0.4;
  EmotionSmoother s(o);
  // 30 fps, happy and surprise alternating as the leader every frame by a few percent.
  int flips_raw = 0, last_raw = -1;
  for (int k = 0; k < 90; ++k) {
    const bool h = k % 2 == 0;
    const EmotionProbs p = h ? Mix(kEmotionHappy, 0.48f, kEmotionSurprise, 0.42f)
                             : Mix(kEmotionHappy, 0.42f, kEmotionSurprise, 0.48f);
    const int raw = h ? kEmotionHappy : kEmotionSurprise;
    flips_raw += last_raw >= 0 && raw != last_raw;
    last_raw = raw;
    s.Update(p, k * kSec / 30);
  }
  EXPECT_GT(flips_raw, 80);
  EXPECT_EQ(s.state().label_changes, 0u) << "label flickered";
  EXPECT_EQ(s.state().label, kEmotionHappy);
  // A real change (surprise clearly ahead) switches, but only after the hold time.
  int64_t switched_at = -1;
  const int64_t start = 90 * kSec / 30;
  for (int k = 90; k < 150; ++k) {
    const int64_t t = k * kSec / 30;
    s.Update(Mix(kEmotionHappy, 0.1f, kEmotionSurprise, 0.8f), t);
    if (switched_at < 0 && s.state().label == kEmotionSurprise) switched_at = t;
  }
  ASSERT_GE(switched_at, 0);
  EXPECT_EQ(s.state().label_changes, 1u);
  const double delay = 1e-9 * (switched_at - start);
  std::printf("[ hysteresis ] %d raw argmax flips -> 0 label changes; real change took %.3f s\n",
              flips_raw, delay);
  EXPECT_GE(delay, o.switch_hold_s);
  EXPECT_LE(delay, o.switch_hold_s + 0.5);
  EXPECT_NEAR(s.state().confidence, s.state().probs[kEmotionSurprise], 1e-6);
}

TEST(EmotionSmoother, ValenceArousalAndOutOfOrder) {
  EmotionSmoother s;
  s.Update(OneHot(kEmotionHappy), 0);
  EXPECT_NEAR(s.state().valence, 0.81f, 1e-5);
  EXPECT_NEAR(s.state().arousal, 0.51f, 1e-5);
  const Circumplex sad = ValenceArousal(OneHot(kEmotionSad));
  EXPECT_LT(sad.valence, 0);
  EXPECT_LT(sad.arousal, 0);
  const Circumplex n = ValenceArousal(OneHot(kEmotionNeutral));
  EXPECT_EQ(n.valence, 0);
  EXPECT_EQ(n.arousal, 0);
  const Circumplex half = ValenceArousal(Mix(kEmotionHappy, 0.5f, kEmotionNeutral, 0.5f));
  EXPECT_NEAR(half.valence, 0.5f * 0.81f, 1e-6);
  // A classification not after the previous one is ignored and counted.
  s.Update(OneHot(kEmotionSad), 0);
  EXPECT_EQ(s.state().out_of_order, 1u);
  EXPECT_EQ(s.state().label, kEmotionHappy);
  const Emotion e = s.state().ToEmotion();
  EXPECT_EQ(e.label, "happy");
  EXPECT_EQ(e.scores.size(), 7u);
  EXPECT_NEAR(e.scores.at("happy"), 1.0f, 1e-6);
}

TEST(EmotionTracks, PerTrackStateAndEnd) {
  EmotionSmoothingOptions o;
  o.track_timeout_s = 1.0;
  EmotionTracks t(o);
  for (int k = 0; k < 10; ++k) {
    t.Update(1, OneHot(kEmotionHappy), k * kSec / 10);
    t.Update(2, OneHot(kEmotionSad), k * kSec / 10);
  }
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Get(1)->label, kEmotionHappy);
  EXPECT_EQ(t.Get(1)->id, 1);
  EXPECT_EQ(t.Get(2)->label, kEmotionSad);
  EXPECT_EQ(t.Get(3), nullptr);
  EXPECT_TRUE(t.End(2));
  EXPECT_FALSE(t.End(2));
  EXPECT_EQ(t.Get(2), nullptr);
  // Track 1 is seen (not classified) until 2.5 s: kept; then nothing: dropped after 1 s.
  t.Seen(1, 2'500'000'000);
  EXPECT_EQ(t.EndStale(3 * kSec), 0u);
  EXPECT_EQ(t.EndStale(3'600'000'000), 1u);
  EXPECT_EQ(t.size(), 0u);
  // A new track with the same id starts from scratch.
  t.Update(1, OneHot(kEmotionFear), 4 * kSec);
  EXPECT_EQ(t.Get(1)->label, kEmotionFear);
  EXPECT_EQ(t.Get(1)->updates, 1u);
}

}  // namespace
}  // namespace fg
