// The session estimate and the exposure / white-balance jump detector of VitalsEstimator, on
// FaceSynth video (the astronaut photo with a known pulse), measured in fixed-region mode over
// a rectangle on the face (no tracker: the face is still, motion kNone):
//   - session heart rate within 1 bpm of the truth (issue 14's bound for the synthetic check)
//     at 45 (near the band edge, where a harmonic can outgrow the fundamental), 60 and 95
//     bpm, with a confident session;
//   - noise only (no pulse): session confidence below 0.2 (low);
//   - a white-balance step and an exposure step mid-run: every update whose window holds the
//     step reports the jump and a confidence at most 0.05 (the exposure factor; whatever rate
//     it reads), the updates after the step has left the window are back to the truth and to
//     full confidence, and a clean run of the same scene with sensor noise reports no jump
//     at all (no false alarm).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/synth/face_synth.h"
#include "engine/vitals/region_grid.h"
#include "engine/vitals/vitals_estimator.h"

namespace fg {
namespace {

struct Measured {
  std::vector<VitalsResult> updates;  // every valid update, in order
  SessionVitals session;              // after the last frame
  double truth_bpm = 0;
};

// Renders `seconds` of FaceSynth at 320x240 and feeds a 4x4 grid over a 45x45 rectangle on
// the face (centred a little above the skin blob's centre: forehead, eyes, cheeks).
Measured Measure(FaceSynthOptions so, double seconds) {
  Measured out;
  so.photo_path = FG_ASTRONAUT;
  so.motion = SynthMotion::kNone;
  so.width = 320, so.height = 240;
  std::string err;
  auto synth = FaceSynth::Create(so, &err);
  EXPECT_TRUE(synth) << err;
  if (!synth) return out;
  auto est = VitalsEstimator::Create(GridLayout(4, 4), VitalsOptions{}, &err);
  EXPECT_TRUE(est) << err;
  if (!est) return out;
  const auto c = synth->FaceCentre();
  const Box rect{c[0] - 22, c[1] - 30, 45, 45};
  SynthFrame frame;
  PatchSamples samples;
  for (;;) {
    const SynthTruth t = synth->Next();
    if (t.t_s > seconds) break;
    synth->Render(t, &frame);
    const ImageView view = frame.View();
    const Box r = ClipRegion(view, rect);
    SampleGrid(view, r, 4, 4, &samples);
    est->PushPatches(0, t.pts_ns, samples, {r.x + r.w / 2, r.y + r.h / 2}, std::sqrt(r.w * r.h), {});
    if (est->UpdateDue() > 0)
      if (const VitalsResult* res = est->Result(0); res && res->valid) out.updates.push_back(*res);
  }
  if (const VitalsResult* res = est->Result(0)) out.session = res->session;
  out.truth_bpm = synth->MeanBpm(0, seconds);
  return out;
}

FaceSynthOptions Clean(double bpm) {
  FaceSynthOptions o;
  o.heart_rate_bpm = bpm;
  o.amplitude = 1.0;
  o.noise = 1.0;
  o.seed = 7;
  return o;
}

TEST(VitalsSession, WithinOneBpmOfTheTruth) {
  for (double bpm : {45.0, 60.0, 95.0}) {
    const Measured r = Measure(Clean(bpm), 40);
    ASSERT_FALSE(r.updates.empty());
    ASSERT_TRUE(r.session.valid);
    std::printf("session at %.0f bpm: %.2f bpm, SNR %.1f dB, confidence %.2f over %d updates\n", bpm,
                r.session.bpm, r.session.snr_db, r.session.confidence, r.session.updates);
    EXPECT_NEAR(r.session.bpm, r.truth_bpm, 1.0) << "truth " << r.truth_bpm;
    EXPECT_GE(r.session.confidence, 0.5);
    EXPECT_EQ(r.session.updates, static_cast<int>(r.updates.size()));
  }
}

TEST(VitalsSession, NoiseOnlyHasLowConfidence) {
  FaceSynthOptions o = Clean(72);
  o.amplitude = 0;  // no pulse at all
  const Measured r = Measure(o, 40);
  ASSERT_FALSE(r.updates.empty());
  std::printf("noise only: session %.2f bpm, SNR %.1f dB, confidence %.3f\n", r.session.bpm,
              r.session.snr_db, r.session.confidence);
  EXPECT_LT(r.session.confidence, 0.2);
}

// A step at 15 s of a 40 s run at 72 bpm. Window 10 s: the updates at 15..25 s hold it.
void CheckStep(std::array<double, 3> gains, const char* what) {
  const double step = 15;
  FaceSynthOptions o = Clean(72);
  o.light_step_s = step;
  o.light_step_rgb = gains;
  const Measured r = Measure(o, 40);
  const Measured clean = Measure(Clean(72), 40);
  ASSERT_FALSE(r.updates.empty());
  ASSERT_EQ(r.updates.size(), clean.updates.size());
  int across = 0, after = 0;
  for (size_t i = 0; i < r.updates.size(); ++i) {
    const VitalsResult& u = r.updates[i];
    const double t = u.pts_ns * 1e-9;
    SCOPED_TRACE(std::string(what) + " update at " + std::to_string(t) + " s: " +
                 std::to_string(u.vitals.bpm) + " bpm, confidence " + std::to_string(u.vitals.confidence));
    if (t >= step && t - 10 < step - 0.05) {  // the window holds the step
      ++across;
      EXPECT_GE(u.jumps, 1);
      EXPECT_FLOAT_EQ(u.exposure, 0.05f);
      EXPECT_LE(u.vitals.confidence, 0.05f + 1e-6f);
    } else if (t - 10 > step + 0.1) {  // the step has left the window
      ++after;
      EXPECT_EQ(u.jumps, 0);
      EXPECT_NEAR(u.vitals.bpm, 72, 3);
      EXPECT_NEAR(u.vitals.confidence, clean.updates[i].vitals.confidence, 0.15);
    }
  }
  EXPECT_GE(across, 9);
  EXPECT_GE(after, 10);
  // The session keeps to the truth: the windows across the step voted with little weight.
  EXPECT_NEAR(r.session.bpm, 72, 1.0);
}

TEST(VitalsExposure, WhiteBalanceStep) { CheckStep({1.03, 1.0, 0.96}, "white balance"); }
TEST(VitalsExposure, ExposureStep) { CheckStep({1.12, 1.12, 1.12}, "exposure"); }

TEST(VitalsExposure, NoFalseAlarmOnACleanRun) {
  for (double noise : {1.0, 6.0}) {
    FaceSynthOptions o = Clean(72);
    o.noise = noise;
    o.light_drift = 0.1;  // a slow +-10 % drift over 60 s is not a jump
    const Measured r = Measure(o, 30);
    ASSERT_FALSE(r.updates.empty());
    for (const VitalsResult& u : r.updates) EXPECT_EQ(u.jumps, 0) << "noise " << noise << " at " << u.pts_ns * 1e-9 << " s";
  }
}

}  // namespace
}  // namespace fg
