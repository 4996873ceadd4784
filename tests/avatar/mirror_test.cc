// The mirror solver on synthetic faces: meshes made from the basis with known weights, placed
// with a random head pose and scale in a 640x480 frame the way FaceMesh reports landmarks
// (pixels, y down, z away), with 0.3 px Gaussian noise on every coordinate, must give the
// weights back within 0.05 each, with no left/right swap. Also: per-track neutral, tracks,
// smoothing lag.
#include "engine/avatar/mirror.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/tracking/head_pose.h"
#include "tests/avatar/avatar_test_util.h"

namespace fg {
namespace {

using avatar_testing::Basis;
using avatar_testing::Canonical;

constexpr int kW = 640, kH = 480;
constexpr int64_t kFrameNs = 33'333'333;

struct Pose {
  float yaw, pitch, roll, scale, u, v;
};

// Landmarks of the basis mesh with weights w under pose p, plus noise.
std::vector<std::array<float, 3>> Synth(
    const std::vector<float>& w, const Pose& p, float noise_px, std::mt19937& rng,
    const std::vector<std::array<float, 3>>* neutral = nullptr) {
  std::vector<std::array<float, 3>> mesh(468);
  Basis().Apply(w, mesh);
  if (neutral)  // another person's face: their neutral plus the same deltas
    for (int i = 0; i < 468; ++i)
      for (int c = 0; c < 3; ++c) mesh[i][c] += (*neutral)[i][c] - Basis().neutral()[i][c];
  const Eigen::Matrix3f r = YawPitchRollToRotation(p.yaw, p.pitch, p.roll);
  std::normal_distribution<float> n(0.0f, noise_px);
  std::vector<std::array<float, 3>> out;
  for (const auto& m : mesh) {
    const Eigen::Vector3f q = p.scale * (r * Eigen::Vector3f(m[0], m[1], m[2]));
    out.push_back({p.u + q.x() + n(rng), p.v - q.y() + n(rng), 300 - q.z() + n(rng)});
  }
  return out;
}

Pose RandomPose(std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  // 15..19 px per canonical cm: a face about 240 px wide, a webcam user at arm's length.
  return {25 * u(rng),     15 * u(rng),       15 * u(rng),
          17 + 2 * u(rng), 320 + 40 * u(rng), 240 + 30 * u(rng)};
}

MirrorOptions RawOptions() {
  MirrorOptions o;
  o.smoothing = false;
  o.calibration_s = 0;
  o.min_calibration_frames = kMaxCalibrationFrames;
  return o;
}

// Antagonists (one undoes the other) are never both active in a random set: their sum is
// not identifiable from a mesh, by a person or a solver.
bool Antagonists(const std::string& a, const std::string& b) {
  auto side = [](const std::string& s) {
    return s.find("Left") != std::string::npos    ? 'L'
           : s.find("Right") != std::string::npos ? 'R'
                                                  : 'N';
  };
  auto base = [](std::string s) {
    for (const char* x : {"Left", "Right"})
      if (size_t k = s.rfind(x); k != std::string::npos) s.erase(k);
    return s;
  };
  const std::string x = base(a), y = base(b);
  const bool same_side = side(a) == side(b) || side(a) == 'N' || side(b) == 'N';
  auto pair = [&](const char* p, const char* q) {
    return (x == p && y == q) || (x == q && y == p);
  };
  if (x == "mouth" || y == "mouth") return pair("mouth", "mouth");  // mouthLeft vs mouthRight
  return same_side && (pair("eyeBlink", "eyeWide") || pair("eyeBlink", "eyeSquint") ||
                       pair("browDown", "browOuterUp") || pair("browDown", "browInnerUp") ||
                       pair("mouthSmile", "mouthFrown") || pair("jawOpen", "mouthClose") ||
                       pair("mouthPucker", "mouthFunnel") || pair("mouthStretch", "mouthPucker") ||
                       pair("mouthSmile", "mouthDimple") || pair("mouthPress", "mouthClose") ||
                       pair("mouthShrugLower", "mouthClose") || pair("mouthLowerDown", "jawOpen") ||
                       pair("mouthPress", "mouthFunnel") || pair("mouthPress", "mouthLowerDown") ||
                       pair("mouthPress", "mouthUpperUp"));
}

std::vector<std::vector<float>> TestWeightSets(std::mt19937& rng) {
  const int n = Basis().size();
  std::vector<std::vector<float>> sets;
  for (const Expression& e : CardinalExpressions())
    sets.push_back(ExpressionWeights(e, Basis(), 1.0f));
  for (int k = 0; k < n; ++k) {  // each target alone
    std::vector<float> w(n, 0.0f);
    w[k] = 0.7f;
    sets.push_back(w);
  }
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::uniform_real_distribution<float> amount(0.2f, 1.0f);
  for (int s = 0; s < 40; ++s) {  // sparse random mixtures of 2..6 compatible targets
    std::vector<float> w(n, 0.0f);
    std::vector<int> on;
    const int want = 2 + s % 5;
    for (int tries = 0; tries < 100 && static_cast<int>(on.size()) < want; ++tries) {
      const int k = pick(rng);
      bool ok = w[k] == 0;
      for (int j : on) ok = ok && !Antagonists(Basis().names()[k], Basis().names()[j]);
      if (!ok) continue;
      on.push_back(k);
      w[k] = amount(rng);
    }
    sets.push_back(w);
  }
  return sets;
}

std::string Describe(const std::vector<float>& w) {
  std::string s;
  for (int k = 0; k < Basis().size(); ++k)
    if (w[k] > 0.005f) s += Basis().names()[k] + "=" + std::to_string(w[k]).substr(0, 4) + " ";
  return s;
}

// Runs every weight set through one track: 32 neutral calibration frames (1 s), then each set
// held for `hold` frames (30 fps) while the head drifts (a random pose per set, moving by
// up to 2 degrees and 2 px per frame), fresh 0.3 px noise on every frame. Returns the
// solver's weights on each set's last frame.
std::vector<std::vector<float>> RunSets(const MirrorOptions& o,
                                        const std::vector<std::vector<float>>& sets, int hold,
                                        std::mt19937& rng) {
  MirrorSolver solver(Canonical(), Basis(), o);
  EXPECT_GE(solver.rigid_vertices().size(), 40u);
  const std::vector<float> zero(Basis().size(), 0.0f);
  std::uniform_real_distribution<float> drift(-1, 1);
  Face face;
  face.id = 1;
  int64_t pts = 0;
  for (int i = 0; i < kMaxCalibrationFrames; ++i, pts += kFrameNs) {  // neutral, 1 s
    face.landmarks = Synth(zero, RandomPose(rng), 0.3f, rng);
    EXPECT_NE(solver.Update(face, pts, kW, kH), nullptr);
  }
  EXPECT_TRUE(solver.Get(1)->calibrated);
  std::vector<std::vector<float>> got;
  for (const std::vector<float>& truth : sets) {
    Pose p = RandomPose(rng);
    const MirrorResult* r = nullptr;
    for (int f = 0; f < hold; ++f, pts += kFrameNs) {
      p.yaw += 2 * drift(rng);
      p.pitch += 2 * drift(rng);
      p.u += 2 * drift(rng);
      face.landmarks = Synth(truth, p, 0.3f, rng);
      r = solver.Update(face, pts, kW, kH);
    }
    got.push_back(r ? r->weights : zero);
  }
  return got;
}

// One frame per set, no smoothing: the raw solve. Noise on the weakest targets (lip press,
// lip raisers: a few millimetres over a few vertices, 0.3 px is 0.02 cm here) shows in
// single frames, so the bound is on the mean error and a looser worst case; left/right
// never swap.
TEST(Mirror, RawSolveRecoversKnownWeightsFromOneFrame) {
  std::mt19937 rng(7);
  MirrorOptions o = RawOptions();
  const auto sets = TestWeightSets(rng);
  const auto got = RunSets(o, sets, 1, rng);
  float worst = 0;
  double sum = 0;
  int count = 0;
  for (size_t s = 0; s < sets.size(); ++s)
    for (int k = 0; k < Basis().size(); ++k) {
      const float e = std::abs(got[s][k] - sets[s][k]);
      worst = std::max(worst, e);
      sum += e;
      ++count;
      EXPECT_LE(e, 0.12f) << Basis().names()[k] << " truth " << sets[s][k] << " got " << got[s][k]
                          << "\n  truth: " << Describe(sets[s])
                          << "\n  got:   " << Describe(got[s]);
      const int m = Basis().MirrorTarget(k);
      if (m != k && sets[s][k] - sets[s][m] > 0.3f) {
        EXPECT_GT(got[s][k], got[s][m]) << "left/right swap: " << Basis().names()[k];
      }
    }
  std::printf("mirror raw, one frame: %d weights, mean |error| %.4f, worst %.4f\n", count,
              sum / count, worst);
  EXPECT_LE(sum / count, 0.01);
}

// eyeBlink and eyeWide of one eye are solved exclusively (mirror.h step 3): offsets that the
// plain BVLS explains with both (eyeWide 1 with eyeBlink 0.5 on top: the lid raised and put
// half back, as real raised brows and lids read) come out with at most one of the two
// active per eye; the plain solve (exclusive_antagonists off) has both above 0.3.
TEST(Mirror, EyeBlinkAndEyeWideAreSolvedExclusively) {
  std::vector<std::array<float, 3>> offsets(468, {0, 0, 0});
  const std::vector<std::string> names = {"eyeWideLeft", "eyeWideRight", "eyeBlinkLeft", "eyeBlinkRight"};
  const float amounts[] = {1.0f, 1.0f, 0.5f, 0.5f};
  for (int n = 0; n < 4; ++n) {
    const auto& d = Basis().Delta(Basis().Index(names[n]));
    for (int v = 0; v < 468; ++v)
      for (int c = 0; c < 3; ++c) offsets[v][c] += amounts[n] * d[v][c];
  }
  for (bool exclusive : {false, true}) {
    MirrorOptions o = RawOptions();
    o.exclusive_antagonists = exclusive;
    MirrorSolver solver(Canonical(), Basis(), o);
    std::vector<float> w(Basis().size(), 0.0f);
    solver.Solve(offsets, w);
    for (const char* side : {"Left", "Right"}) {
      const float blink = w[Basis().Index(std::string("eyeBlink") + side)];
      const float wide = w[Basis().Index(std::string("eyeWide") + side)];
      std::printf("  exclusive %d, %s: eyeBlink %.3f eyeWide %.3f\n", exclusive, side, blink, wide);
      if (exclusive)
        EXPECT_EQ(std::min(blink, wide), 0.0f) << side;
      else
        EXPECT_GT(std::min(blink, wide), 0.3f) << side << ": the plain solve keeps both";
    }
  }
}

// The real use: each expression held for 10 frames (a third of a second) with the default
// One Euro smoothing. Every weight within 0.05 of the truth except at most 0.2% of them
// (the weakest targets: lip press, chin raise, lip raisers, where 0.3 px of noise on a few
// vertices still moves a weight by about 0.05; measured worst 0.050 with this seed, 0.042
// with seed 8), none beyond 0.08, mean error under 0.01, and no left/right swap.
TEST(Mirror, RecoversKnownWeightsUnderPoseAndNoise) {
  std::mt19937 rng(7);
  MirrorOptions o;  // defaults, smoothing on
  o.calibration_s = 0;
  o.min_calibration_frames = kMaxCalibrationFrames;
  const auto sets = TestWeightSets(rng);
  const auto got = RunSets(o, sets, 10, rng);
  float worst = 0;
  double sum = 0;
  int count = 0, over = 0;
  for (size_t s = 0; s < sets.size(); ++s)
    for (int k = 0; k < Basis().size(); ++k) {
      const float e = std::abs(got[s][k] - sets[s][k]);
      worst = std::max(worst, e);
      sum += e;
      ++count;
      over += e > 0.05f;
      EXPECT_LE(e, 0.08f) << Basis().names()[k] << " truth " << sets[s][k] << " got " << got[s][k]
                          << "\n  truth: " << Describe(sets[s])
                          << "\n  got:   " << Describe(got[s]);
      const int m = Basis().MirrorTarget(k);
      if (m != k && sets[s][k] - sets[s][m] > 0.3f) {
        EXPECT_GT(got[s][k], got[s][m]) << "left/right swap: " << Basis().names()[k];
      }
    }
  std::printf(
      "mirror smoothed, held 10 frames: %d weights, mean |error| %.4f, worst %.4f, "
      "%d over 0.05\n",
      count, sum / count, worst, over);
  EXPECT_LE(over, count / 500);
  EXPECT_LE(sum / count, 0.01);
}

// The solver's own pose normalisation recovers the rotation it was given.
TEST(Mirror, ReportsTheHeadRotation) {
  std::mt19937 rng(3);
  MirrorSolver solver(Canonical(), Basis(), RawOptions());
  std::vector<float> w(Basis().size(), 0.0f);
  w[Basis().Index("jawOpen")] = 1.0f;  // an expression must not tilt the fit
  w[Basis().Index("browInnerUp")] = 1.0f;
  const Pose p{20, -10, 8, 14, 300, 250};
  Face face;
  face.id = 5;
  face.landmarks = Synth(w, p, 0.3f, rng);
  const MirrorResult* r = solver.Update(face, 0, kW, kH);
  ASSERT_NE(r, nullptr);
  EXPECT_NEAR(r->yaw, 20, 0.5);
  EXPECT_NEAR(r->pitch, -10, 0.5);
  EXPECT_NEAR(r->roll, 8, 0.5);
  EXPECT_FALSE(r->calibrated);  // one frame: no neutral yet, weights 0
  for (float x : r->weights) EXPECT_EQ(x, 0.0f);
}

// The neutral is the track's own: a different face shape (the canonical face with a wider
// mouth and higher brows) reads as neutral after calibration, and its expressions are
// measured from there.
TEST(Mirror, LearnsEachTracksOwnNeutral) {
  std::mt19937 rng(11);
  MirrorSolver solver(Canonical(), Basis(), RawOptions());
  std::vector<std::array<float, 3>> person = Basis().neutral();
  for (auto& v : person) {
    v[0] *= 1.08f;                   // broader face
    if (v[1] > 3.5f) v[1] += 0.3f;   // higher brows and forehead
    if (v[1] < -3.5f) v[2] += 0.2f;  // fuller lips and chin
  }
  const std::vector<float> zero(Basis().size(), 0.0f);
  Face a, b;
  a.id = 1;
  b.id = 2;
  int64_t pts = 0;
  for (int i = 0; i < kMaxCalibrationFrames; ++i, pts += kFrameNs) {
    a.landmarks = Synth(zero, RandomPose(rng), 0.3f, rng, &person);
    b.landmarks = Synth(zero, RandomPose(rng), 0.3f, rng);
    solver.Update(a, pts, kW, kH);
    solver.Update(b, pts, kW, kH);
  }
  EXPECT_EQ(solver.size(), 2u);
  a.landmarks = Synth(zero, RandomPose(rng), 0.3f, rng, &person);
  const MirrorResult* r = solver.Update(a, pts, kW, kH);
  // One raw frame with 0.3 px noise: the single-frame bound of RawSolveRecovers... (0.12).
  for (int k = 0; k < Basis().size(); ++k) EXPECT_LE(r->weights[k], 0.12f) << Basis().names()[k];
  std::vector<float> w(Basis().size(), 0.0f);
  w[Basis().Index("eyeBlinkLeft")] = 1.0f;
  w[Basis().Index("mouthSmileRight")] = 0.6f;
  a.landmarks = Synth(w, RandomPose(rng), 0.3f, rng, &person);
  r = solver.Update(a, pts + kFrameNs, kW, kH);
  EXPECT_NEAR(r->blendshapes.at("eyeBlinkLeft"), 1.0f, 0.12f);
  EXPECT_NEAR(r->blendshapes.at("eyeBlinkRight"), 0.0f, 0.12f);
  EXPECT_NEAR(r->blendshapes.at("mouthSmileRight"), 0.6f, 0.12f);
  EXPECT_NEAR(r->blendshapes.at("mouthSmileLeft"), 0.0f, 0.12f);
  EXPECT_TRUE(solver.DropTrack(2));
  EXPECT_FALSE(solver.DropTrack(2));
  EXPECT_EQ(solver.Get(2), nullptr);
  EXPECT_EQ(solver.DropStale(pts + 10 * 1'000'000'000LL), 1u);
  EXPECT_EQ(solver.size(), 0u);
  Face none;
  EXPECT_EQ(solver.Update(none, 0, kW, kH), nullptr);  // no mesh
}

// With smoothing on (the defaults), a step in the expression is followed within a few frames
// at 30 fps, and a still face does not drift.
TEST(Mirror, SmoothingFollowsASteppedExpressionQuickly) {
  std::mt19937 rng(5);
  MirrorOptions o;  // defaults: calibration 1 s, One Euro
  MirrorSolver solver(Canonical(), Basis(), o);
  const std::vector<float> zero(Basis().size(), 0.0f);
  std::vector<float> w = zero;
  w[Basis().Index("jawOpen")] = 0.8f;
  const Pose p{5, 3, -2, 14, 320, 240};
  Face f;
  f.id = 9;
  int64_t pts = 0;
  int frame = 0;
  for (; frame < 35; ++frame, pts += kFrameNs) {
    f.landmarks = Synth(zero, p, 0.3f, rng);
    solver.Update(f, pts, kW, kH);
  }
  ASSERT_TRUE(solver.Get(9)->calibrated);
  int frames_to_90 = -1;
  for (int i = 0; i < 30; ++i, pts += kFrameNs) {
    f.landmarks = Synth(w, p, 0.3f, rng);
    const MirrorResult* r = solver.Update(f, pts, kW, kH);
    if (frames_to_90 < 0 && r->weights[Basis().Index("jawOpen")] >= 0.72f) frames_to_90 = i + 1;
  }
  EXPECT_GE(frames_to_90, 1);
  EXPECT_LE(frames_to_90, 4) << "more than 4 frames (133 ms) to reach 90% of a step";
  EXPECT_NEAR(solver.Get(9)->weights[Basis().Index("jawOpen")], 0.8f, 0.03f);
}

}  // namespace
}  // namespace fg
