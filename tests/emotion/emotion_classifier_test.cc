// EmotionClassifier: the network against TF.js (tests/data/nn/emotion.json), the input
// normalisation against Human's formula, and the real astronaut photo (she smiles) through
// FaceTracker + the aligned crop: "happy" must win.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/emotion/emotion_classifier.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

using Json = nlohmann::json;
namespace nt = nn::testing;

std::unique_ptr<EmotionClassifier> MakeClassifier(const std::string& backend = "auto") {
  std::string err;
  auto c = EmotionClassifier::Create(nt::ModelsDir() + "/emotion.json", backend, &err);
  EXPECT_TRUE(c) << err;
  return c;
}

struct Astronaut {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  ImageView view;
};
const Astronaut& Photo() {
  static Astronaut a = [] {
    Astronaut p;
    std::string err;
    EXPECT_TRUE(nt::DecodePngRgb(FG_ASTRONAUT, &p.w, &p.h, &p.rgb, &err)) << err;
    EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, p.w, p.h, {p.rgb.data()}, {3 * p.w}, &p.view));
    return p;
  }();
  return a;
}

std::string Format(const EmotionProbs& p) {
  std::string s;
  char buf[64];
  for (int i = 0; i < kEmotionClasses; ++i) {
    std::snprintf(buf, sizeof buf, "%s%s %.4f", i ? ", " : "", std::string(kEmotionNames[i]).c_str(), p[i]);
    s += buf;
  }
  return s;
}

// The model's outputs within 1e-3 of TF.js's on the reference's own inputs (the astronaut
// crop and the seeded random tensor), on every backend this build has.
TEST(EmotionClassifier, MatchesTfjsReference) {
  std::string text;
  ASSERT_TRUE(nt::ReadFile(nt::ReferenceDir() + "/emotion.json", &text));
  const Json ref = Json::parse(text);
  const Astronaut& photo = Photo();
  for (const std::string& backend : nn::AvailableBackends()) {
    auto c = MakeClassifier(backend);
    ASSERT_TRUE(c);
    for (const Json& cs : ref.at("cases")) {
      const Json& in = cs.at("input");
      std::vector<float> x;
      std::string err;
      if (in.at("kind") == "image") {
        const Json& crop = in.at("crop");
        ASSERT_EQ(in.at("normalization").at("name"), "gray");
        ASSERT_TRUE(nt::ImageTensor(photo.rgb, photo.w, photo.h, crop.at("x0"), crop.at("y0"),
                                    crop.at("size"), "gray", {1, 64, 64, 1}, &x, &err))
            << err;
      } else {
        x = nt::XorshiftTensor(in.at("seed").get<uint32_t>(), kEmotionCropElements);
      }
      EmotionProbs p;
      ASSERT_TRUE(c->Classify(x.data(), &p)) << c->last_error();
      const Json& want = cs.at("outputs").at(0).at("values");
      ASSERT_EQ(want.size(), static_cast<size_t>(kEmotionClasses));
      double max_err = 0, sum = 0;
      for (int i = 0; i < kEmotionClasses; ++i) {
        max_err = std::max(max_err, std::abs(p[i] - want[i].get<double>()));
        sum += p[i];
      }
      std::printf("[ tfjs ] backend %s case %s: max |p - tfjs| = %.3g; ours: %s\n",
                  backend.c_str(), cs.at("name").get<std::string>().c_str(), max_err, Format(p).c_str());
      EXPECT_LE(max_err, 1e-3) << backend << " " << cs.at("name");
      EXPECT_NEAR(sum, 1.0, 1e-5) << "softmax output";
    }
  }
}

// SampleCrop(kGray, kSigned) is Human's emotion normalisation: sampled exactly on pixel
// centres (scale 1, integer offset) it equals the reference's formula on those pixels.
TEST(EmotionClassifier, CropNormalisationIsHumans) {
  const Astronaut& photo = Photo();
  Affine2D m;  // identity scale: output (j, i) reads pixel (j + 180, i + 70)
  m.c = 180;
  m.f = 70;
  std::vector<float> ours(kEmotionCropElements);
  SampleCrop(photo.view, m, 64, 64, CropNorm::kSigned, CropChannels::kGray, ours.data());
  double max_err = 0;
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) {
      const uint8_t* p = &photo.rgb[3 * ((i + 70) * photo.w + (j + 180))];
      // tools/tfjs/README.md "gray", exactly as tfjs computes it.
      const float r = p[0] / 255.0f, g = p[1] / 255.0f, b = p[2] / 255.0f;
      const float mr = r * 0.2989f, mg = g * 0.5870f, mb = b * 0.1140f;
      const float s = static_cast<float>((static_cast<double>(mr) + mg) + mb);
      const float v = (s - 0.5f) * 2.0f;
      max_err = std::max(max_err, static_cast<double>(std::abs(v - ours[i * 64 + j])));
    }
  std::printf("[ norm ] max |SampleCrop gray - Human gray| = %.3g\n", max_err);
  EXPECT_LE(max_err, 1e-5);
}

TEST(EmotionClassifier, RefusesAWrongModel) {
  std::string err;
  auto c = EmotionClassifier::Create(nt::ModelsDir() + "/iris.json", "reference", &err);
  EXPECT_FALSE(c);
  EXPECT_NE(err.find("iris.json"), std::string::npos) << err;
  EXPECT_NE(err.find("[1,64,64,1]"), std::string::npos) << err;
  c = EmotionClassifier::Create(nt::ModelsDir() + "/missing.json", "reference", &err);
  EXPECT_FALSE(c);
  EXPECT_NE(err.find("missing.json"), std::string::npos) << err;
}

// The crop transform: square of 2.7 IOD, centred 0.3 IOD below the eye midpoint, eye line level
// (FER2013's framing, measured on its dev half: emotion_classifier.h).
TEST(EmotionClassifier, CropTransformGeometry) {
  std::vector<std::array<float, 3>> lm(kMeshLandmarks, {0, 0, 0});
  // Eyes 40 px apart, rolled 30 degrees counter-clockwise on screen, mid at (200, 150).
  const float a = 30.0f * 3.14159265f / 180, c = std::cos(a), s = std::sin(a);
  auto put = [&](int i, float u) { lm[i] = {200 + c * u, 150 - s * u, 0}; };
  put(33, -25), put(133, -15), put(362, 15), put(263, 25);
  Affine2D m;
  ASSERT_TRUE(EmotionCropTransform(lm, {}, &m));
  // The crop's centre lands 0.3*40 = 12 px "below" the eyes, perpendicular to the eye line.
  const auto ctr = m.Apply(32, 32);
  EXPECT_NEAR(ctr[0], 200 + 12 * s, 1e-3);
  EXPECT_NEAR(ctr[1], 150 + 12 * c, 1e-3);
  // One output pixel = 2.7*40/64 frame px, along the eye line.
  const auto x1 = m.Apply(33, 32);
  EXPECT_NEAR(x1[0] - ctr[0], 108.0f / 64 * c, 1e-4);
  EXPECT_NEAR(x1[1] - ctr[1], -108.0f / 64 * s, 1e-4);
  lm.resize(10);
  EXPECT_FALSE(EmotionCropTransform(lm, {}, &m));
}

// The astronaut through FaceTracker, the aligned crop and the classifier.
TEST(EmotionClassifier, AstronautIsHappy) {
  const Astronaut& photo = Photo();
  TrackerOptions o;
  o.models_dir = nt::ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(o, &err);
  ASSERT_TRUE(tracker) << err;
  FrameFaces ff;
  for (int i = 0; i < 5; ++i) ff = tracker->Process(photo.view, i * 33'333'333LL);  // settle
  ASSERT_EQ(ff.faces.size(), 1u);
  auto c = MakeClassifier();
  ASSERT_TRUE(c);
  std::vector<float> crop(kEmotionCropElements);
  ASSERT_TRUE(SampleEmotionCrop(photo.view, ff.faces[0].landmarks, {}, crop.data()));
  if (const char* dump = std::getenv("FG_EMOTION_DUMP")) {  // look at the crop (PGM)
    if (FILE* f = std::fopen(dump, "wb")) {
      std::fprintf(f, "P5 64 64 255\n");
      for (float v : crop) std::fputc(static_cast<int>(std::lround((v + 1) * 127.5f)), f);
      std::fclose(f);
    }
  }
  EmotionProbs p;
  ASSERT_TRUE(c->Classify(crop.data(), &p)) << c->last_error();
  std::printf("[ astronaut ] aligned crop (2.7 IOD): %s\n", Format(p).c_str());
  EXPECT_EQ(ArgMax(p), kEmotionHappy) << Format(p);

  // For comparison (printed, not asserted): Human's own crop box for this photo
  // (tests/data/tracking/astronaut.json: 153,55 - 298,200), axis-aligned, bilinear.
  const Affine2D human = Affine2D::SquareCrop(225.5f, 127.5f, 145, 0, 64);
  SampleCrop(photo.view, human, 64, 64, CropNorm::kSigned, CropChannels::kGray, crop.data());
  EmotionProbs ph;
  ASSERT_TRUE(c->Classify(crop.data(), &ph));
  std::printf("[ astronaut ] Human's crop box:        %s\n", Format(ph).c_str());
  // And the crop scale swept, to show the choice is not on a knife edge.
  for (float side : {2.4f, 2.5f, 2.9f, 3.0f, 3.6f}) {
    ASSERT_TRUE(SampleEmotionCrop(photo.view, ff.faces[0].landmarks, {.side_per_iod = side}, crop.data()));
    EmotionProbs q;
    ASSERT_TRUE(c->Classify(crop.data(), &q));
    std::printf("[ astronaut ] side %.1f IOD: happy %.4f (argmax %s)\n", side, q[kEmotionHappy],
                std::string(kEmotionNames[ArgMax(q)]).c_str());
  }
}

// Rolled heads: the photo rotated by +-30 degrees in a 640x480 frame. The eye-line-aligned
// crop gives the network an upright face whatever the roll, so "happy" still wins; printed
// beside it, an axis-aligned crop of the same size (Human's default, detector.rotation off).
TEST(EmotionClassifier, RolledAstronautStaysHappy) {
  const Astronaut& photo = Photo();
  auto c = MakeClassifier();
  ASSERT_TRUE(c);
  constexpr int kW = 640, kH = 480;
  for (float deg : {-30.0f, 30.0f}) {
    const float r = deg * 3.14159265f / 180, cs = std::cos(r), sn = std::sin(r);
    std::vector<uint8_t> frame(kW * kH * 3, 90);
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {  // photo centre (256, 256) at the frame centre, rolled CCW
        const float dx = x + 0.5f - kW / 2, dy = y + 0.5f - kH / 2;
        const auto p = photo.view.Bilinear(cs * dx - sn * dy + 256 - 0.5f, sn * dx + cs * dy + 256 - 0.5f);
        for (int k = 0; k < 3; ++k) frame[3 * (y * kW + x) + k] = static_cast<uint8_t>(std::lround(p[k]));
      }
    ImageView v;
    ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {frame.data()}, {3 * kW}, &v));
    TrackerOptions o;
    o.models_dir = nt::ModelsDir();
    std::string err;
    auto tracker = FaceTracker::Create(o, &err);
    ASSERT_TRUE(tracker) << err;
    FrameFaces ff;
    for (int i = 0; i < 5; ++i) ff = tracker->Process(v, i * 33'333'333LL);
    ASSERT_EQ(ff.faces.size(), 1u) << deg;
    std::vector<float> crop(kEmotionCropElements);
    ASSERT_TRUE(SampleEmotionCrop(v, ff.faces[0].landmarks, {}, crop.data()));
    EmotionProbs p;
    ASSERT_TRUE(c->Classify(crop.data(), &p));
    Affine2D aligned;
    ASSERT_TRUE(EmotionCropTransform(ff.faces[0].landmarks, {}, &aligned));
    const auto ctr = aligned.Apply(32, 32);
    SampleCrop(v, Affine2D::SquareCrop(ctr[0], ctr[1], 64 * std::hypot(aligned.a, aligned.d), 0, 64),
               64, 64, CropNorm::kSigned, CropChannels::kGray, crop.data());
    EmotionProbs q;
    ASSERT_TRUE(c->Classify(crop.data(), &q));
    std::printf("[ roll %+.0f ] aligned: %s\n[ roll %+.0f ] upright box: %s\n", deg, Format(p).c_str(),
                deg, Format(q).c_str());
    EXPECT_EQ(ArgMax(p), kEmotionHappy) << deg << " degrees: " << Format(p);
  }
}

}  // namespace
}  // namespace fg
