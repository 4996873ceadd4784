// Issue 7, "recognisable": the six cardinal FACS prototypes (engine/avatar/blendshapes.h,
// happy sad surprise fear anger disgust at full intensity) rendered on the astronaut photo
// in warp mode (the photo's own mesh deformed by the posed basis deltas, the picture of
// `faceavatar output=warp` with mirroring off, its mouth interior drawn; the plain warp
// without it is printed too), then classified by the FER2013 network exactly as the faceemotion pipeline does:
// engine/synth/prototype_check.h (FaceTracker with the XNNPACK backend and the real models,
// the mesh-aligned 64x64 crop, EmotionClassifier). The prototypes are the FACS ones, not
// tuned to this check. tools/avatar/avatar-prototypes runs the same check on any photo.
//
// Issue target: at least 4 of 6 classified as intended. NOT met (1 of 6, README "Avatar
// engine"; still 1 of 6 with issue 15's FACS amplitudes, docs/avatar.md): she smiles broadly
// with her teeth showing, and every prototype is an offset from her own face, so the network
// keeps reading "happy" (0.78-0.999 for all six in warp mode, 0.83-0.999 since issue 15,
// 0.998 and more without the mouth interior). A third matrix takes her own expression away first: her expressive geometry
// is replaced by the canonical face's neutral shape (posed by her head fit; lips closed, the
// teeth covered by the lips), then the prototype is applied. It still reads happy 0.997 for
// "neutral" and 0.99+ for the six: what the network reads as happy is in her skin texture
// (cheeks, folds), not in the mesh, so no warp of this photo reaches the target. The
// matrices are printed; the test asserts what the check needs to be meaningful and what
// holds: every warped prototype is still tracked as one face and classified, the intended
// "happy" is recognised, and the warps change the picture the classifier sees (the
// probabilities differ from the unwarped photo's). A neutral-faced photo is what the
// 4-of-6 target still needs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/synth/expression_track.h"
#include "engine/synth/prototype_check.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

namespace nt = nn::testing;

struct Photo {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  ImageView view;
};

Photo LoadAstronaut() {
  Photo p;
  std::string err;
  EXPECT_TRUE(nt::DecodePngRgb(FG_ASTRONAUT, &p.w, &p.h, &p.rgb, &err)) << err;
  EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, p.w, p.h, {p.rgb.data()}, {3 * p.w}, &p.view));
  return p;
}

float MaxDifference(const EmotionProbs& a, const EmotionProbs& b) {
  float d = 0;
  for (size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}

TEST(Prototypes, SixCardinalExpressionsInWarpModeAreClassified) {
  const Photo photo = LoadAstronaut();
  ASSERT_GT(photo.w, 0);
  std::string err;
  auto check = PrototypeCheck::Create(photo.view, nt::ModelsDir(), "xnnpack", &err);
  ASSERT_TRUE(check) << err;
  EmotionProbs base{};
  ASSERT_TRUE(check->ClassifyPhoto(&base));
  std::printf("photo, unwarped: -> %s %.3f\n", std::string(kEmotionNames[ArgMax(base)]).c_str(),
              base[ArgMax(base)]);

  // Warp mode exactly (faceavatar's picture) is what is asserted; the plain warp (no mouth
  // interior) and the neutralised photo are printed as well.
  PrototypeMatrix warp, plain, neutralised;
  ASSERT_TRUE(check->Run({}, &warp, &err)) << err;
  std::printf("warp mode:\n%s", PrototypeCheck::Format(warp).c_str());
  ASSERT_TRUE(check->Run({.mouth_interior = false}, &plain, &err)) << err;
  std::printf("plain warp (mouth-interior=false):\n%s", PrototypeCheck::Format(plain).c_str());
  ASSERT_TRUE(check->Run({.neutralise = true}, &neutralised, &err)) << err;
  std::printf("her expression removed first (canonical neutral shape):\n%s",
              PrototypeCheck::Format(neutralised).c_str());
  std::printf("issue 7 target: >= 4 of 6 in warp mode; measured %d of 6 (not met)\n",
              warp.recognised);

  // Every non-happy warp must change what the classifier sees. Counted with her expression
  // removed first: on her own smile the softmax saturates (anger reads happy 1.000 before and
  // after), so a change there can hide below any threshold. The recognition target itself
  // (>= 4 of 6) is scored on Grace Hopper's neutral face: the expected failure
  // avatar-prototypes.grace-hopper-target (tools/avatar/CMakeLists.txt).
  int changed = 0;
  for (size_t r = 0; r < kPrototypeRows.size(); ++r) {
    const std::string name = kPrototypeRows[r].expression;
    if (name == "happy") {
      EXPECT_EQ(ArgMax(warp.probs[r]), kEmotionHappy) << "the happy prototype must stay happy";
    } else if (name != "neutral") {
      const bool moved = MaxDifference(neutralised.probs[r], neutralised.probs[0]) > 1e-4f;
      changed += moved;
      EXPECT_TRUE(moved) << name << " looks like her neutral to the classifier";
    }
  }
  EXPECT_EQ(changed, 5) << "every non-happy warp must change what the classifier sees";
  // Neutralised, "neutral" is a different picture from the photo (her mouth closed).
  EXPECT_GT(MaxDifference(neutralised.probs[0], base), 1e-4f);
}

// SetNeutralise takes her expression away: with no weights the target mesh closes her
// smile's opening (the inner lip middles 13 / 14 as far apart as on the canonical face,
// 0.3 cm, where hers are 0.7 cm apart), while her face stays where it is (the rigid
// landmarks move by a fraction of the face).
TEST(Prototypes, NeutraliseClosesHerMouthAndKeepsTheFaceInPlace) {
  const Photo photo = LoadAstronaut();
  ASSERT_GT(photo.w, 0);
  ExpressionTrackOptions eo;
  eo.models_dir = nt::ModelsDir();
  eo.backend = "xnnpack";
  std::string err;
  auto track = ExpressionTrack::Create(photo.view, eo, &err);
  ASSERT_TRUE(track) << err;
  const auto& own = track->neutral();
  const std::vector<float> zero(track->basis().size(), 0.0f);
  std::vector<std::array<float, 3>> same(own.size()), neutral(own.size());
  track->TargetLandmarks(zero, same);
  track->SetNeutralise(true);
  track->TargetLandmarks(zero, neutral);
  auto gap = [](const std::vector<std::array<float, 3>>& m) {
    return std::hypot(m[14][0] - m[13][0], m[14][1] - m[13][1]);
  };
  const float s = track->fit().scale;  // px per cm
  const auto& cv = track->canonical().vertices;
  const float canonical_gap = s * std::hypot(cv[14][0] - cv[13][0], cv[14][1] - cv[13][1]);
  std::printf("inner lip gap: photo %.1f px, neutralised %.1f px, canonical %.1f px\n", gap(own),
              gap(neutral), canonical_gap);
  EXPECT_FLOAT_EQ(gap(same), gap(own)) << "off: the photo's own mesh";
  EXPECT_GT(gap(own), 1.8f * canonical_gap) << "she smiles with her lips apart";
  EXPECT_NEAR(gap(neutral), canonical_gap, 0.1f * s) << "within 1 mm of the canonical gap";
  // Eye corners, nose bridge, chin: within 0.6 cm of where they were.
  for (int v : {33, 133, 263, 362, 168, 6, 152}) {
    EXPECT_LT(std::hypot(neutral[v][0] - own[v][0], neutral[v][1] - own[v][1]), 0.6f * s)
        << "landmark " << v;
  }
}

}  // namespace
}  // namespace fg
