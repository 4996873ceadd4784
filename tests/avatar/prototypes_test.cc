// Issue 7, "recognisable": the six cardinal FACS prototypes (engine/avatar/blendshapes.h,
// happy sad surprise fear anger disgust at full intensity) rendered on the astronaut photo
// in warp mode (the photo's own mesh deformed by the posed basis deltas, the picture of
// `faceavatar output=warp` with mirroring off: engine/synth/expression_track.h with its
// mouth cavity off; the cavity variant is printed too), then
// classified by the FER2013 network exactly as the faceemotion pipeline does: FaceTracker
// (XNNPACK, real models) on the warped frame, the mesh-aligned 64x64 crop
// (SampleEmotionCrop, default crop options) and EmotionClassifier. The prototypes are the
// FACS ones, not tuned to this check.
//
// Issue target: at least 4 of 6 classified as intended. NOT met (1 of 6, README "Avatar
// engine"): she smiles broadly with her teeth showing, and every prototype is an offset from
// her own face, so the network keeps reading "happy" (0.998 and more for all six in plain
// warp mode). A third matrix takes her own expression away first: her expressive geometry
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

#include <cstdio>
#include <string>
#include <vector>

#include "engine/emotion/emotion_classifier.h"
#include "engine/render/warp.h"
#include "engine/synth/expression_track.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

namespace nt = nn::testing;

struct Case {
  const char* expression;  // blendshapes.h name
  EmotionClass intended;
};
const Case kCases[] = {
    {"happy", kEmotionHappy}, {"sad", kEmotionSad},     {"surprise", kEmotionSurprise},
    {"fear", kEmotionFear},   {"anger", kEmotionAngry}, {"disgust", kEmotionDisgust},
};

TEST(Prototypes, SixCardinalExpressionsInWarpModeAreClassified) {
  int w = 0, h = 0;
  std::vector<uint8_t> photo;
  std::string err;
  ASSERT_TRUE(nt::DecodePngRgb(FG_ASTRONAUT, &w, &h, &photo, &err)) << err;
  ImageView pv;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, w, h, {photo.data()}, {3 * w}, &pv));

  ExpressionTrackOptions eo;
  eo.models_dir = nt::ModelsDir();
  eo.backend = "xnnpack";
  auto track = ExpressionTrack::Create(pv, eo, &err);
  ASSERT_TRUE(track) << err;
  auto classifier = EmotionClassifier::Create(nt::ModelsDir() + "/emotion.json", "xnnpack", &err);
  ASSERT_TRUE(classifier) << err;
  TrackerOptions to;
  to.models_dir = nt::ModelsDir();
  to.backend = "xnnpack";
  to.async_detect = false;
  auto tracker = FaceTracker::Create(to, &err);
  ASSERT_TRUE(tracker) << err;

  // As faceemotion sees a still frame: the tracker run a few frames on it (the crop comes
  // from the landmarks after the first), then the crop from the reported mesh.
  auto classify = [&](const ImageView& v, EmotionProbs* p) {
    tracker->Reset();
    FrameFaces ff;
    for (int k = 0; k < 3; ++k) ff = tracker->Process(v, k * int64_t{33'333'333});
    if (ff.faces.size() != 1u) return false;
    if (!SampleEmotionCrop(v, ff.faces[0].landmarks, {}, classifier->input())) return false;
    return classifier->Run(p);
  };
  auto row = [](const char* name, const EmotionProbs& p) {
    std::printf("  %-9s", name);
    for (float x : p) std::printf(" %8.3f", x);
    std::printf("   -> %s\n", std::string(kEmotionNames[ArgMax(p)]).c_str());
  };

  auto header = [] {
    std::printf("  %-9s", "rendered");
    for (auto n : kEmotionNames) std::printf(" %8s", std::string(n).c_str());
    std::printf("\n");
  };
  header();
  EmotionProbs base{};
  ASSERT_TRUE(classify(pv, &base));
  row("photo", base);

  // Warp mode exactly (SetMouthCavity(false): faceavatar's picture) is what is asserted; the
  // track's drawn mouth cavity is printed as well.
  int recognised = 0, changed = 0;
  std::vector<uint8_t> frame;
  for (bool cavity : {false, true}) {
    track->SetMouthCavity(cavity);
    std::printf("%s\n", cavity ? "with the drawn mouth cavity:" : "warp mode:");
    header();
    int hits = 0;
    for (const Case& c : kCases) {
      const Expression* e = FindExpression(c.expression);
      ASSERT_NE(e, nullptr) << c.expression;
      const std::vector<float> weights = ExpressionWeights(*e, track->basis(), 1.0f);
      frame = photo;
      draw::MutableImageView dst;
      ASSERT_FALSE(
          draw::MutableImageView::Wrap(PixelFormat::kRGB, w, h, {frame.data()}, {3 * w}, &dst));
      ASSERT_TRUE(track->Render(pv, weights, dst));
      EmotionProbs p{};
      ASSERT_TRUE(classify(dst.view(), &p))
          << c.expression << ": no face tracked on the warped frame";
      row(c.expression, p);
      hits += ArgMax(p) == c.intended;
      float moved = 0;
      for (size_t k = 0; k < p.size(); ++k) moved = std::max(moved, std::abs(p[k] - base[k]));
      if (!cavity && std::string(c.expression) != "happy") changed += moved > 1e-4f;
      if (std::string(c.expression) == "happy") {
        EXPECT_EQ(ArgMax(p), c.intended) << "the happy prototype must stay happy";
      }
    }
    std::printf("recognised as intended: %d of 6\n", hits);
    if (!cavity) recognised = hits;
  }
  // Her expression taken away first: each vertex moves to the canonical face's neutral
  // position, posed by her head fit (rotation, px per cm, and the origin that puts the
  // canonical face's rigid Procrustes landmarks on hers on average), then the prototype's
  // deltas are added: DisplaceLandmarks with deltas (canonical - hers) + prototype.
  {
    const auto& neutral = track->neutral();
    const HeadPoseFit& fit = track->fit();
    const CanonicalFace& canonical = track->canonical();
    const BlendshapeBasis& basis = track->basis();
    const int n = static_cast<int>(neutral.size());
    auto posed = [&](const std::array<float, 3>& c) {
      const Eigen::Vector3f v = fit.rotation * Eigen::Vector3f(c[0], c[1], c[2]);
      return Eigen::Vector3f(fit.scale * v.x(), -fit.scale * v.y(), -fit.scale * v.z());
    };
    Eigen::Vector3f origin = Eigen::Vector3f::Zero();
    float total = 0;
    for (const auto& b : canonical.procrustes_basis) {
      const auto& p = neutral[b.landmark];
      origin += b.weight * (Eigen::Vector3f(p[0], p[1], p[2]) - posed(canonical.vertices[b.landmark]));
      total += b.weight;
    }
    ASSERT_GT(total, 0.0f);
    origin /= total;
    std::vector<std::array<float, 3>> own(n);  // canonical - hers, canonical cm
    for (int i = 0; i < n; ++i) {
      const Eigen::Vector3f o = Eigen::Vector3f(neutral[i][0], neutral[i][1], neutral[i][2]) - origin;
      const Eigen::Vector3f q =
          fit.rotation.transpose() * Eigen::Vector3f(o.x(), -o.y(), -o.z()) / fit.scale;
      for (int c = 0; c < 3; ++c) own[i][c] = canonical.vertices[i][c] - q[c];
    }
    render::FaceWarp warp(canonical.triangles);
    std::vector<std::array<float, 3>> deltas(n), target(n);
    std::printf("her expression removed first (canonical neutral shape):\n");
    header();
    int hits = 0;
    for (const char* name : {"neutral", "happy", "sad", "surprise", "fear", "anger", "disgust"}) {
      const Expression* e = FindExpression(name);
      ASSERT_NE(e, nullptr) << name;
      const std::vector<float> weights = ExpressionWeights(*e, basis, 1.0f);
      deltas = own;
      for (int k = 0; k < basis.size(); ++k) {
        if (weights[k] == 0.0f) continue;
        for (int i = 0; i < n; ++i)
          for (int c = 0; c < 3; ++c) deltas[i][c] += weights[k] * basis.Delta(k)[i][c];
      }
      render::DisplaceLandmarks(neutral, deltas, fit.rotation, fit.scale, target);
      frame = photo;
      draw::MutableImageView dst;
      ASSERT_FALSE(
          draw::MutableImageView::Wrap(PixelFormat::kRGB, w, h, {frame.data()}, {3 * w}, &dst));
      warp.Warp(pv, neutral, target, dst);
      EmotionProbs p{};
      ASSERT_TRUE(classify(dst.view(), &p)) << name << ": no face tracked on the warped frame";
      row(name, p);
      for (const Case& c : kCases)
        if (std::string(c.expression) == name) hits += ArgMax(p) == c.intended;
    }
    std::printf("recognised as intended: %d of 6\n", hits);
  }
  std::printf("issue 7 target: >= 4 of 6 in warp mode; measured %d of 6 (not met)\n", recognised);
  EXPECT_GE(recognised, 1);
  EXPECT_EQ(changed, 5) << "every non-happy warp must change what the classifier sees";
}

}  // namespace
}  // namespace fg
