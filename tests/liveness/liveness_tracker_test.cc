// LivenessSmoother / LivenessTracks: time-based smoothing, the evidence wait, the decision
// with hysteresis, which models count, and the track bookkeeping.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/json.h"
#include "engine/liveness/liveness_tracker.h"

namespace fg {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(LivenessSmoother, SmoothsInTimeNotSamples) {
  // A step from 0 to 1 after the first sample: after tau the smoothed value is 1 - 1/e,
  // whether the samples come at 10 Hz or 50 Hz (tolerance 1e-4).
  for (int hz : {10, 50}) {
    LivenessSmoother s({.time_constant_s = 1.0});
    s.Update({0, 0}, 0);
    const int64_t step = 1000 * kMs / hz;
    for (int64_t t = step; t <= 1000 * kMs; t += step) s.Update({1, 1}, t);
    EXPECT_NEAR(s.state().smoothed.real, 1 - std::exp(-1.0), 1e-4) << hz << " Hz";
    EXPECT_NEAR(s.state().smoothed.live, 1 - std::exp(-1.0), 1e-4) << hz << " Hz";
  }
}

TEST(LivenessSmoother, WaitsForEvidenceThenDecides) {
  LivenessSmoother s({.time_constant_s = 0.2, .min_evidence_s = 0.5, .min_samples = 3});
  EXPECT_EQ(s.Update({0.9f, 0.9f}, 0).decision, LivenessDecision::kUnsure);
  EXPECT_EQ(s.Update({0.9f, 0.9f}, 200 * kMs).decision, LivenessDecision::kUnsure);
  EXPECT_EQ(s.Update({0.9f, 0.9f}, 400 * kMs).decision, LivenessDecision::kUnsure);  // 0.4 s
  EXPECT_EQ(s.Update({0.9f, 0.9f}, 600 * kMs).decision, LivenessDecision::kLive);
  EXPECT_EQ(s.state().decision_changes, 1u);
}

TEST(LivenessSmoother, HysteresisAndAnyModelBelowIsSpoof) {
  LivenessSmoothingOptions o{.time_constant_s = 0, .margin = 0.05f, .min_evidence_s = 0,
                             .min_samples = 1};
  LivenessSmoother s(o);
  int64_t t = 0;
  EXPECT_EQ(s.Update({0.9f, 0.9f}, t += kMs).decision, LivenessDecision::kLive);
  // Inside the band (0.45..0.55): the previous decision stays.
  EXPECT_EQ(s.Update({0.52f, 0.9f}, t += kMs).decision, LivenessDecision::kLive);
  EXPECT_EQ(s.Update({0.46f, 0.9f}, t += kMs).decision, LivenessDecision::kLive);
  // One model below the band is enough for spoof.
  EXPECT_EQ(s.Update({0.9f, 0.40f}, t += kMs).decision, LivenessDecision::kSpoof);
  EXPECT_EQ(s.Update({0.9f, 0.54f}, t += kMs).decision, LivenessDecision::kSpoof);
  // Both above the band again: live.
  EXPECT_EQ(s.Update({0.9f, 0.56f}, t += kMs).decision, LivenessDecision::kLive);
  // Out-of-order samples are ignored and counted.
  s.Update({0.0f, 0.0f}, 0);
  EXPECT_EQ(s.state().out_of_order, 1u);
  EXPECT_EQ(s.state().decision, LivenessDecision::kLive);
}

TEST(LivenessSmoother, OnlyTheUsedModelCounts) {
  LivenessSmoother s({.time_constant_s = 0, .use_real = false, .min_evidence_s = 0, .min_samples = 1});
  EXPECT_EQ(s.Update({0.0f, 0.9f}, kMs).decision, LivenessDecision::kLive);  // real ignored
  LivenessSmoother r({.time_constant_s = 0, .use_live = false, .min_evidence_s = 0, .min_samples = 1});
  EXPECT_EQ(r.Update({0.1f, 0.9f}, kMs).decision, LivenessDecision::kSpoof);  // live ignored
}

TEST(LivenessTracks, PerTrackAndStale) {
  LivenessTracks t({.track_timeout_s = 1.0});
  t.Update(1, {0.9f, 0.9f}, 0);
  t.Update(2, {0.1f, 0.1f}, 0);
  EXPECT_EQ(t.size(), 2u);
  t.Seen(1, 900 * kMs);
  EXPECT_EQ(t.EndStale(1500 * kMs), 1u);  // 2 not seen for 1.5 s
  ASSERT_TRUE(t.Get(1));
  EXPECT_FALSE(t.Get(2));
  EXPECT_TRUE(t.End(1));
  EXPECT_EQ(t.size(), 0u);
}

TEST(LivenessJson, RoundTripsAndNamesBadKeys) {
  FrameFaces f;
  f.pts_ns = 5;
  Face face;
  face.id = 3;
  face.liveness = Liveness{.real = 0.8f, .live = 0.7f, .decision = "live",
                           .challenge = LivenessChallenge{.ask = "blink", .state = "asking",
                                                          .step = 0, .steps = 2, .remaining_s = 3.5f}};
  f.faces.push_back(face);
  const std::string line = ToJsonLine(f);
  EXPECT_NE(line.find("\"liveness\":{"), std::string::npos) << line;
  std::string err;
  auto back = FromJsonLine(line, &err);
  ASSERT_TRUE(back) << err;
  EXPECT_EQ(*back, f);
  // Without models (challenge only), real/live are absent.
  f.faces[0].liveness->real.reset();
  f.faces[0].liveness->live.reset();
  back = FromJsonLine(ToJsonLine(f), &err);
  ASSERT_TRUE(back) << err;
  EXPECT_EQ(*back, f);
  EXPECT_FALSE(FromJsonLine(R"({"pts":1,"faces":[{"id":1,"box":[0,0,1,1],"score":1,"liveness":{"real":0.5}}]})", &err));
  EXPECT_NE(err.find("liveness"), std::string::npos) << err;
  EXPECT_FALSE(FromJsonLine(R"({"pts":1,"faces":[{"id":1,"box":[0,0,1,1],"score":1,"liveness":{"decision":"live","live":"x"}}]})", &err));
  EXPECT_NE(err.find("liveness.live"), std::string::npos) << err;
}

}  // namespace
}  // namespace fg
