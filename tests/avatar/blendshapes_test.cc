// The expression basis on the real canonical face: names, locality of each deformation (a
// blink moves the eyelids, not the mouth), the ARKit side convention (Left = the subject's
// left = +x), mirror symmetry of the pairs, Apply, and the FACS prototypes.
#include "engine/avatar/blendshapes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tests/avatar/avatar_test_util.h"

namespace fg {
namespace {

using avatar_testing::Basis;
using avatar_testing::Canonical;

float Norm(const std::array<float, 3>& d) {
  return std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}
const std::array<float, 3>& D(const char* name, int v) {
  const int i = Basis().Index(name);
  EXPECT_GE(i, 0) << name;
  return Basis().Delta(i < 0 ? 0 : i)[v];
}

TEST(Blendshapes, NamesAreArkitUniqueAndAtLeastTwenty) {
  const auto& names = Basis().names();
  EXPECT_GE(names.size(), 20u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const char* n :
       {"eyeBlinkLeft",     "eyeBlinkRight",     "eyeWideLeft",     "eyeWideRight",
        "jawOpen",          "mouthSmileLeft",    "mouthSmileRight", "mouthFrownLeft",
        "mouthFrownRight",  "browInnerUp",       "browDownLeft",    "browDownRight",
        "browOuterUpLeft",  "browOuterUpRight",  "cheekSquintLeft", "cheekSquintRight",
        "noseSneerLeft",    "noseSneerRight",    "mouthPucker",     "mouthFunnel",
        "mouthStretchLeft", "mouthStretchRight", "mouthPressLeft",  "mouthPressRight",
        "mouthClose"})
    EXPECT_GE(Basis().Index(n), 0) << n;
  EXPECT_EQ(Basis().Index("jawopen"), -1);  // exact ARKit spelling only
  EXPECT_EQ(Basis().Index("nose"), -1);
  for (int i = 0; i < Basis().size(); ++i) {
    EXPECT_EQ(Basis().Index(names[i]), i);
    EXPECT_EQ(Basis().Delta(i).size(), 468u);
  }
}

TEST(Blendshapes, RejectsAFaceOfAnotherTopology) {
  CanonicalFace f;
  f.vertices.assign(10, {0, 0, 0});
  std::string err;
  EXPECT_FALSE(BlendshapeBasis::Create(f, &err));
  EXPECT_NE(err.find("468"), std::string::npos) << err;
}

// FaceMesh indices: left eye (subject's left, +x) upper/lower lid 386/374, right eye
// 159/145; lips 13/14 (inner), 0/17 (outer), corners 291 (left) 61 (right); chin 152;
// forehead 10; inner brows 336 (left) 107 (right).
TEST(Blendshapes, BlinkMovesItsEyelidsAndNothingElse) {
  EXPECT_LT(D("eyeBlinkLeft", 386)[1], -0.4f);  // upper lid down by most of the 0.67 cm gap
  EXPECT_GT(D("eyeBlinkLeft", 374)[1], 0.05f);  // lower lid up
  // Upper lid down + lower lid up closes the gap (to within 0.05 cm).
  const auto& c = Canonical().vertices;
  const float gap =
      (c[386][1] + D("eyeBlinkLeft", 386)[1]) - (c[374][1] + D("eyeBlinkLeft", 374)[1]);
  EXPECT_NEAR(gap, 0.0f, 0.05f);
  for (int v : {159, 145, 13, 14, 0, 17, 61, 291, 152, 10, 336, 107, 1})
    EXPECT_LT(Norm(D("eyeBlinkLeft", v)), 1e-4f) << "vertex " << v;
  EXPECT_LT(D("eyeBlinkRight", 159)[1], -0.4f);
  EXPECT_LT(Norm(D("eyeBlinkRight", 386)), 1e-4f);
}

TEST(Blendshapes, MouthAndBrowTargetsAreLocal) {
  EXPECT_LT(D("jawOpen", 152)[1], -1.0f);  // the chin drops more than 1 cm
  EXPECT_LT(D("jawOpen", 14)[1], -1.0f);   // the lower lip with it
  for (int v : {13, 0, 10, 159, 386, 1, 336})
    EXPECT_LT(Norm(D("jawOpen", v)), 0.02f) << "vertex " << v;
  EXPECT_GT(D("mouthSmileLeft", 291)[1], 0.3f);
  EXPECT_GT(D("mouthSmileLeft", 291)[0], 0.2f);  // outward = +x on the left
  EXPECT_LT(Norm(D("mouthSmileLeft", 61)), 1e-4f);
  EXPECT_LT(D("mouthFrownRight", 61)[1], -0.3f);
  EXPECT_GT(D("browInnerUp", 336)[1], 0.4f);
  EXPECT_GT(D("browInnerUp", 107)[1], 0.4f);
  for (int v : {13, 14, 61, 291, 152, 159, 386})
    EXPECT_LT(Norm(D("browInnerUp", v)), 1e-4f) << "vertex " << v;
  EXPECT_GT(D("mouthPucker", 0)[2], 0.2f);     // lips forward
  EXPECT_LT(D("mouthPucker", 291)[0], -0.3f);  // corners in
  EXPECT_GT(D("mouthPucker", 61)[0], 0.3f);
}

// Every Left target acts on the +x side (the subject's left); its Right twin is its mirror
// image: delta_R(v) = (-x, y, z) of delta_L(mirror(v)), mirror(v) found here independently
// as the vertex nearest to v reflected.
TEST(Blendshapes, LeftIsTheSubjectsLeftAndPairsMirror) {
  const auto& c = Canonical().vertices;
  std::vector<int> mirror(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    float best = 1e9f;
    for (size_t j = 0; j < c.size(); ++j) {
      const float d = std::hypot(c[j][0] + c[i][0], c[j][1] - c[i][1], c[j][2] - c[i][2]);
      if (d < best) best = d, mirror[i] = static_cast<int>(j);
    }
  }
  int pairs = 0;
  for (int t = 0; t < Basis().size(); ++t) {
    const std::string& name = Basis().names()[t];
    const size_t k = name.rfind("Left");
    if (k == std::string::npos) continue;
    std::string right = name;
    right.replace(k, 4, "Right");
    const int r = Basis().Index(right);
    ASSERT_GE(r, 0) << name << " has no " << right;
    EXPECT_EQ(Basis().MirrorTarget(t), r);
    EXPECT_EQ(Basis().MirrorTarget(r), t);
    ++pairs;
    // Centroid of the displacement magnitude lies on the subject's left (+x).
    double sx = 0, sw = 0;
    for (size_t v = 0; v < c.size(); ++v) {
      const float m = Norm(Basis().Delta(t)[v]);
      sx += m * c[v][0];
      sw += m;
    }
    ASSERT_GT(sw, 0) << name;
    if (name == "mouthLeft") {  // the whole mouth moves towards +x
      double dx = 0;
      for (size_t v = 0; v < c.size(); ++v) dx += Basis().Delta(t)[v][0];
      EXPECT_GT(dx, 0) << name;
    } else {
      EXPECT_GT(sx / sw, 0.3) << name << " moves the subject's right side";
    }
    for (size_t v = 0; v < c.size(); ++v) {
      const auto& dl = Basis().Delta(t)[mirror[v]];
      const auto& dr = Basis().Delta(r)[v];
      ASSERT_NEAR(dr[0], -dl[0], 1e-5f) << name << " vertex " << v;
      ASSERT_NEAR(dr[1], dl[1], 1e-5f) << name << " vertex " << v;
      ASSERT_NEAR(dr[2], dl[2], 1e-5f) << name << " vertex " << v;
    }
  }
  EXPECT_GE(pairs, 10);
  // Unpaired targets are symmetric themselves (to the canonical mesh's own asymmetry).
  for (const char* n : {"jawOpen", "browInnerUp", "mouthClose", "mouthFunnel", "mouthPucker",
                        "cheekPuff", "mouthShrugLower"}) {
    const int t = Basis().Index(n);
    ASSERT_GE(t, 0) << n;
    for (size_t v = 0; v < c.size(); ++v) {
      const auto& a = Basis().Delta(t)[v];
      const auto& b = Basis().Delta(t)[mirror[v]];
      ASSERT_NEAR(a[0], -b[0], 0.02f) << n << " vertex " << v;
      ASSERT_NEAR(a[1], b[1], 0.02f) << n << " vertex " << v;
      ASSERT_NEAR(a[2], b[2], 0.02f) << n << " vertex " << v;
    }
  }
}

TEST(Blendshapes, ApplyIsNeutralPlusWeightedDeltas) {
  std::vector<float> w(Basis().size(), 0.0f);
  w[Basis().Index("jawOpen")] = 0.5f;
  w[Basis().Index("eyeBlinkLeft")] = 1.0f;
  std::vector<std::array<float, 3>> out(468);
  Basis().Apply(w, out);
  const auto& c = Canonical().vertices;
  for (int v : {152, 386, 10})
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(out[v][k], c[v][k] + 0.5f * D("jawOpen", v)[k] + D("eyeBlinkLeft", v)[k], 1e-5f);
  // Short weights count as zero; a wrong output size writes nothing.
  Basis().Apply(std::vector<float>{}, out);
  EXPECT_EQ(out[152], c[152]);
  std::vector<std::array<float, 3>> small(3, {9, 9, 9});
  Basis().Apply(w, small);
  EXPECT_EQ(small[0][0], 9);
}

std::set<std::string> Active(const Expression& e) {
  std::set<std::string> s;
  for (const auto& [n, w] : e.weights)
    if (w > 0) s.insert(n);
  return s;
}

// Ekman's prototypes through the AU table written in blendshapes.h.
TEST(Blendshapes, CardinalExpressionsFollowTheFacsPrototypes) {
  const auto& ex = CardinalExpressions();
  ASSERT_EQ(ex.size(), 7u);
  const char* order[] = {"neutral", "happy", "sad", "surprise", "fear", "anger", "disgust"};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(ex[i].name, order[i]);
  for (const Expression& e : ex)
    for (const auto& [n, w] : e.weights) {
      EXPECT_GE(Basis().Index(n), 0) << e.name << ": " << n;
      EXPECT_GT(w, 0.0f);
      EXPECT_LE(w, 1.0f);
    }
  using S = std::set<std::string>;
  EXPECT_TRUE(ex[0].weights.empty());
  EXPECT_EQ(Active(ex[1]), (S{"cheekSquintLeft", "cheekSquintRight", "eyeSquintLeft",
                              "eyeSquintRight", "mouthSmileLeft", "mouthSmileRight"}));  // AU6 + AU12
  EXPECT_EQ(Active(ex[2]), (S{"browInnerUp", "browDownLeft", "browDownRight", "mouthFrownLeft",
                              "mouthFrownRight"}));  // AU1 + AU4 + AU15
  EXPECT_EQ(Active(ex[3]), (S{"browInnerUp", "browOuterUpLeft", "browOuterUpRight", "eyeWideLeft",
                              "eyeWideRight", "jawOpen"}));  // AU1+2+5+26
  EXPECT_EQ(Active(ex[4]),
            (S{"browInnerUp", "browOuterUpLeft", "browOuterUpRight", "browDownLeft",
               "browDownRight", "eyeWideLeft", "eyeWideRight", "eyeSquintLeft", "eyeSquintRight",
               "mouthStretchLeft", "mouthStretchRight", "jawOpen"}));
  EXPECT_EQ(Active(ex[5]),
            (S{"browDownLeft", "browDownRight", "eyeWideLeft", "eyeWideRight", "eyeSquintLeft",
               "eyeSquintRight", "mouthPressLeft", "mouthPressRight"}));  // AU4+5+7+23
  EXPECT_EQ(Active(ex[6]),
            (S{"noseSneerLeft", "noseSneerRight", "mouthFrownLeft", "mouthFrownRight",
               "mouthLowerDownLeft", "mouthLowerDownRight"}));  // AU9+15+16
  ASSERT_NE(FindExpression("surprise"), nullptr);
  EXPECT_EQ(FindExpression("surprised"), nullptr);  // synonyms live in the instruction language
  const auto w = ExpressionWeights(*FindExpression("happy"), Basis(), 0.5f);
  EXPECT_FLOAT_EQ(w[Basis().Index("mouthSmileLeft")], 0.5f);
  EXPECT_FLOAT_EQ(w[Basis().Index("jawOpen")], 0.0f);
}

}  // namespace
}  // namespace fg
