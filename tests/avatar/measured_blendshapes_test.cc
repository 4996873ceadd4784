// The 15 ARKit blendshapes the basis lacks, measured from the mesh (engine/avatar/
// measured_blendshapes.h, mirror.h step 6), on the real canonical face moved by known
// amounts:
//   - MeasureBlendshapes alone: a residual of half each definition's full amount reads 0.5
//     (within 0.01), beyond the full amount 1, the other side 0; an iris moved 0.3 cm out
//     reads eyeLookOut 0.5 (each eye's own "out"), 0.25 cm up reads eyeLookUp 0.5;
//     tongueOut is always 0; fewer than 468 entries give all 0.
//   - through MirrorSolver: the canonical face posed in a 640x480 frame (16 px/cm, 12 degrees
//     of yaw, 0.3 px noise), neutral for 1 s, then the jaw moved 0.6 cm sideways / 0.4 cm
//     forward, the upper or lower lip's red part rolled in, the irises turned: each reads its known amount within 0.15 (the solve's other targets take
//     a little of the motion; a stated tolerance, not a measurement); its antagonist and
//     the unrelated measured names stay below 0.15; the six FACS prototypes (which the
//     basis explains) leave every measured name below 0.15; the result's map has all 52
//     ARKit names. The upper lip pushed up as a whole (mouthShrugUpper) is an expected
//     failure: the basis's mouthUpperUp takes most of it.
#include "engine/avatar/measured_blendshapes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "engine/avatar/mirror.h"
#include "engine/tracking/head_pose.h"
#include "tests/avatar/avatar_test_util.h"
#include "tests/avatar/measured_motions.h"

namespace fg {
namespace {

using avatar_testing::Basis;
using avatar_testing::Canonical;
using avatar_testing::Irises;
using avatar_testing::Motion;
using avatar_testing::Motions;
using avatar_testing::Posed;
using V3 = std::array<float, 3>;

constexpr int kW = 640, kH = 480;
constexpr int64_t kFrameNs = 33'333'333;

int Slot(const char* name) {
  for (int k = 0; k < kMeasuredCount; ++k)
    if (std::string(kMeasuredBlendshapes[k]) == name) return k;
  ADD_FAILURE() << name;
  return 0;
}

std::map<std::string, float> Measure(const std::vector<V3>& residual,
                                     const std::array<V3, 2>* iris) {
  float out[kMeasuredCount];
  MeasureBlendshapes(residual, Canonical().vertices, iris, out);
  std::map<std::string, float> m;
  for (int k = 0; k < kMeasuredCount; ++k) m[kMeasuredBlendshapes[k]] = out[k];
  return m;
}

TEST(MeasuredBlendshapes, DefinitionsReadTheirKnownAmounts) {
  ASSERT_EQ(Canonical().vertices.size(), 468u);
  std::vector<V3> r(468, V3{0, 0, 0});
  const auto rest_iris = Irises({0, 0, 0}, {0, 0, 0});
  for (const auto& [name, w] : Measure(r, &rest_iris)) EXPECT_NEAR(w, 0.0f, 0.01f) << name;

  auto chin = [&](V3 d) {
    std::vector<V3> x(468, V3{0, 0, 0});
    for (int v : {152, 148, 377, 176, 400}) x[v] = d;
    return x;
  };
  auto m = Measure(chin({0.5f * kJawSideFullCm, 0, 0}), nullptr);
  EXPECT_NEAR(m["jawLeft"], 0.5f, 0.01f);
  EXPECT_EQ(m["jawRight"], 0.0f);
  m = Measure(chin({-1.2f * kJawSideFullCm, 0, 0}), nullptr);
  EXPECT_EQ(m["jawRight"], 1.0f);
  EXPECT_EQ(m["jawLeft"], 0.0f);
  m = Measure(chin({0, 0, 0.5f * kJawForwardFullCm}), nullptr);
  EXPECT_NEAR(m["jawForward"], 0.5f, 0.01f);

  // The upper lip's outer contour down by half the full amount: rolled in halfway.
  std::vector<V3> x(468, V3{0, 0, 0});
  for (int v : {0, 37, 267}) x[v] = {0, -0.5f * kRollUpperFullCm, 0};
  m = Measure(x, nullptr);
  EXPECT_NEAR(m["mouthRollUpper"], 0.5f, 0.01f);
  EXPECT_EQ(m["mouthRollLower"], 0.0f);
  // The lower lip's outer contour up.
  x.assign(468, V3{0, 0, 0});
  for (int v : {17, 84, 314}) x[v] = {0, 0.5f * kRollLowerFullCm, 0};
  m = Measure(x, nullptr);
  EXPECT_NEAR(m["mouthRollLower"], 0.5f, 0.01f);
  EXPECT_EQ(m["mouthRollUpper"], 0.0f);
  // The whole upper lip up: a shrug, no roll.
  x.assign(468, V3{0, 0, 0});
  for (int v : {0, 37, 267, 13, 82, 312}) x[v] = {0, 0.5f * kShrugUpperFullCm, 0};
  m = Measure(x, nullptr);
  EXPECT_NEAR(m["mouthShrugUpper"], 0.5f, 0.01f);
  EXPECT_NEAR(m["mouthRollUpper"], 0.0f, 1e-6f);

  // Gaze: both irises towards the subject's left (+x) by half the full amount: the left eye
  // looks out, the right eye in; then up.
  std::vector<V3> zero(468, V3{0, 0, 0});
  auto iris = Irises({0.5f * kGazeAcrossFullCm, 0, 0}, {0.5f * kGazeAcrossFullCm, 0, 0});
  m = Measure(zero, &iris);
  EXPECT_NEAR(m["eyeLookOutLeft"], 0.5f, 0.01f);
  EXPECT_NEAR(m["eyeLookInRight"], 0.5f, 0.01f);
  EXPECT_EQ(m["eyeLookInLeft"], 0.0f);
  EXPECT_EQ(m["eyeLookOutRight"], 0.0f);
  EXPECT_NEAR(m["eyeLookUpLeft"], 0.0f, 0.02f);  // the eye's axis tilts by 1.6 degrees
  iris = Irises({0, 0.5f * kGazeVerticalFullCm, 0}, {0, -0.5f * kGazeVerticalFullCm, 0});
  m = Measure(zero, &iris);
  EXPECT_NEAR(m["eyeLookUpLeft"], 0.5f, 0.01f);
  EXPECT_NEAR(m["eyeLookDownRight"], 0.5f, 0.01f);
  EXPECT_EQ(m["eyeLookDownLeft"], 0.0f);
  EXPECT_EQ(m["eyeLookUpRight"], 0.0f);

  m = Measure(chin({0, 0, 5}), &iris);
  EXPECT_EQ(m["tongueOut"], 0.0f);
  // Too few vertices: all 0.
  float out[kMeasuredCount];
  MeasureBlendshapes(std::span<const V3>(r.data(), 100), Canonical().vertices, &iris, out);
  for (float w : out) EXPECT_EQ(w, 0.0f);
}

TEST(MeasuredBlendshapes, TheMirrorReadsTheCanonicalFaceMovedByKnownAmounts) {
  std::mt19937 rng(7);
  const std::vector<V3> rest(Canonical().vertices);
  const auto rest_iris = Irises({0, 0, 0}, {0, 0, 0});
  auto run = [&](const std::vector<V3>& mesh, const std::array<V3, 2>& iris) {
    MirrorSolver solver(Canonical(), Basis());
    Face face;
    face.id = 1;
    int64_t pts = 0;
    for (int i = 0; i < kMaxCalibrationFrames; ++i, pts += kFrameNs) {
      face.landmarks = Posed(rest, rest_iris, rng);
      solver.Update(face, pts, kW, kH);
    }
    const MirrorResult* r = nullptr;
    for (int i = 0; i < 15; ++i, pts += kFrameNs) {
      face.landmarks = Posed(mesh, iris, rng);
      r = solver.Update(face, pts, kW, kH);
    }
    EXPECT_TRUE(r && r->calibrated);
    return r ? *r : MirrorResult{};
  };
  for (const Motion& m : Motions()) {
    // A lifted upper lip is mostly explained by the basis's mouthUpperUp (AU10): the
    // expected failure below.
    if (std::string(m.name) == "mouthShrugUpper") continue;
    std::vector<V3> mesh = rest;
    for (int i = 0; i < 468; ++i)
      for (int c = 0; c < 3; ++c) mesh[i][c] += m.delta[i][c];
    const auto iris = Irises(m.iris_left, m.iris_right);
    const MirrorResult r = run(mesh, iris);
    ASSERT_EQ(r.blendshapes.size(), 52u);
    std::string line;
    for (int k = 0; k < kMeasuredCount; ++k)
      if (r.measured[k] > 0.02f)
        line += std::string(" ") + kMeasuredBlendshapes[k] + "=" + std::to_string(r.measured[k]).substr(0, 4);
    std::printf("  %-16s known %.2f, read:%s\n", m.name, m.want, line.c_str());
    EXPECT_NEAR(r.measured[Slot(m.name)], m.want, 0.15f) << m.name;
    EXPECT_EQ(r.blendshapes.at(m.name), r.measured[Slot(m.name)]);
    // Gaze moves both eyes: each eye's own direction counts as the motion's.
    const std::string twin = std::string(m.name) == "eyeLookOutLeft" ? "eyeLookInRight"
                             : std::string(m.name) == "eyeLookUpRight" ? "eyeLookUpLeft"
                                                                        : "";
    if (!twin.empty()) {
      EXPECT_NEAR(r.measured[Slot(twin.c_str())], m.want, 0.15f) << twin;
    }
    for (int k = 0; k < kMeasuredCount; ++k)
      if (kMeasuredBlendshapes[k] != std::string(m.name) && kMeasuredBlendshapes[k] != twin) {
        EXPECT_LT(r.measured[k], 0.15f) << m.name << " read as " << kMeasuredBlendshapes[k];
      }
  }
  // The FACS prototypes are the basis's own: nothing measured beyond 0.15.
  for (const Expression& e : CardinalExpressions()) {
    std::vector<V3> mesh(468);
    Basis().Apply(ExpressionWeights(e, Basis(), 1.0f), mesh);
    const MirrorResult r = run(mesh, rest_iris);
    for (int k = 0; k < kMeasuredCount; ++k)
      EXPECT_LT(r.measured[k], 0.15f) << e.name << " read as " << kMeasuredBlendshapes[k];
  }
}

// Expected failure (ctest avatar.measured-shrug-upper, WILL_FAIL): the upper lip pushed up
// as a whole by 0.6 of mouthShrugUpper's full amount. The solve gives most of the lift to
// mouthUpperUpLeft/Right (AU10 raises the same lip), so the residual leaves mouthShrugUpper
// well below its known amount; prints what it reads.
TEST(MeasuredBlendshapes, DISABLED_ShrugUpperIsReadApartFromUpperUp) {
  std::mt19937 rng(7);
  const std::vector<V3> rest(Canonical().vertices);
  const auto iris = Irises({0, 0, 0}, {0, 0, 0});
  for (const Motion& m : Motions()) {
    if (std::string(m.name) != "mouthShrugUpper") continue;
    MirrorSolver solver(Canonical(), Basis());
    Face face;
    face.id = 1;
    int64_t pts = 0;
    for (int i = 0; i < kMaxCalibrationFrames; ++i, pts += kFrameNs) {
      face.landmarks = Posed(rest, iris, rng);
      solver.Update(face, pts, kW, kH);
    }
    std::vector<V3> mesh = rest;
    for (int i = 0; i < 468; ++i)
      for (int c = 0; c < 3; ++c) mesh[i][c] += m.delta[i][c];
    const MirrorResult* r = nullptr;
    for (int i = 0; i < 15; ++i, pts += kFrameNs) {
      face.landmarks = Posed(mesh, iris, rng);
      r = solver.Update(face, pts, kW, kH);
    }
    ASSERT_TRUE(r);
    std::printf("  mouthShrugUpper known %.2f: read %.3f (mouthUpperUpLeft %.2f, Right %.2f)\n", m.want,
                r->blendshapes.at("mouthShrugUpper"), r->blendshapes.at("mouthUpperUpLeft"),
                r->blendshapes.at("mouthUpperUpRight"));
    EXPECT_NEAR(r->blendshapes.at("mouthShrugUpper"), m.want, 0.15f);
  }
}

}  // namespace
}  // namespace fg
