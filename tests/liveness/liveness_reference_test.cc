// Liveness preprocessing against Human 3.3.6 (tests/data/liveness, written by
// tools/tfjs/make-liveness-references.mjs: Human's own pipeline in Node on the astronaut
// photo, a mirrored copy and a half-size copy on a larger canvas).
//
// 1. Human's exact inputs: the crop Human cut (its cropAndResize box, tapped) is sampled here
//    with SampleCrop through the equivalent affine map, then resized by ResizeBilinearTf to
//    128 and 32 (PrepareLivenessInputs): both networks' input tensors must match Human's
//    (sum and sum of squares within 1e-4 relative, the first values within 5e-4, a tenth of
//    a grey level: the affine map of the crop box rounds differently in float) and both
//    outputs within 2e-3 (different float summation orders in the convolutions; the network
//    alone matches TF.js to 1e-4 in tests/nn). This checks normalisation, channel order and
//    the resize convention.
// 2. Our crop from the tracker's mesh: the square LivenessCropTransform puts around the face
//    must sit where Human's does (centre within 6 % of the side, side within 10 %); the
//    scores through it are printed beside Human's (not asserted: both networks jump by 0.25
//    between the photo and its mirror image, so two crops a few pixels apart need not agree
//    closely, and the per-track smoothing is what the element reports).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/liveness/liveness_classifier.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"
#include "tests/test_paths.h"

namespace fg {
namespace {

namespace nt = nn::testing;
using Json = nlohmann::json;

struct Picture {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
};

// The recipes of tools/tfjs/make-liveness-references.mjs.
Picture Build(const std::string& name) {
  Picture src;
  std::string err;
  EXPECT_TRUE(nt::DecodePngRgb(testing::AstronautPath(), &src.w, &src.h, &src.rgb, &err)) << err;
  if (name == "astronaut") return src;
  if (name == "astronaut_flip") {
    Picture out = src;
    for (int y = 0; y < src.h; ++y)
      for (int x = 0; x < src.w; ++x)
        for (int k = 0; k < 3; ++k)
          out.rgb[3 * (y * src.w + x) + k] = src.rgb[3 * (y * src.w + src.w - 1 - x) + k];
    return out;
  }
  // astronaut_small: 2x2 rounded mean, pasted at (192, 112) on a black 640x480 canvas.
  Picture out{640, 480, std::vector<uint8_t>(640 * 480 * 3, 0)};
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x)
      for (int k = 0; k < 3; ++k) {
        auto at = [&](int xx, int yy) { return static_cast<int>(src.rgb[3 * (yy * 512 + xx) + k]); };
        out.rgb[3 * ((y + 112) * 640 + x + 192) + k] = static_cast<uint8_t>(
            (at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1) + 2) >> 2);
      }
  return out;
}

Json Reference(const std::string& name) {
  std::ifstream in(std::string(FG_SOURCE_DIR) + "/tests/data/liveness/" + name + ".json");
  EXPECT_TRUE(in) << "missing tests/data/liveness/" << name << ".json";
  return Json::parse(in);
}

// tf.image.cropAndResize's sampling (box [y1,x1,y2,x2] normalised, crop n x n): output (i,j)
// reads the image at x = x1 (W-1) + j (x2-x1)(W-1)/(n-1), y likewise. SampleCrop reads
// m.Apply(j + 0.5, i + 0.5) - 0.5, so a = sx, c = x1 (W-1) - 0.5 sx + 0.5.
Affine2D CropAndResizeMap(const Json& box, int w, int h, int n) {
  const double y1 = box[0], x1 = box[1], y2 = box[2], x2 = box[3];
  const double sx = (x2 - x1) * (w - 1) / (n - 1), sy = (y2 - y1) * (h - 1) / (n - 1);
  Affine2D m;
  m.a = static_cast<float>(sx), m.b = 0, m.c = static_cast<float>(x1 * (w - 1) - 0.5 * sx + 0.5);
  m.d = 0, m.e = static_cast<float>(sy), m.f = static_cast<float>(y1 * (h - 1) - 0.5 * sy + 0.5);
  return m;
}

void ExpectTensorMatches(const float* t, size_t n, const Json& run, const std::string& what) {
  double sum = 0, sum_sq = 0;
  for (size_t i = 0; i < n; ++i) sum += t[i], sum_sq += double{t[i]} * t[i];
  const double rs = run["input_checksum"]["sum"], rq = run["input_checksum"]["sum_sq"];
  EXPECT_NEAR(sum, rs, 1e-4 * std::abs(rs)) << what;
  EXPECT_NEAR(sum_sq, rq, 1e-4 * std::abs(rq)) << what;
  const auto& first = run["input_first"];
  for (size_t i = 0; i < first.size(); ++i) EXPECT_NEAR(t[i], first[i].get<double>(), 5e-4) << what << " [" << i << "]";
}

class LivenessReference : public ::testing::TestWithParam<std::string> {};

TEST_P(LivenessReference, HumansInputsGiveHumansScores) {
  const std::string name = GetParam();
  const Json ref = Reference(name);
  const Picture pic = Build(name);
  ASSERT_EQ(pic.w, ref["image"]["width"].get<int>());
  ImageView view;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, pic.w, pic.h, {pic.rgb.data()}, {3 * pic.w}, &view));

  std::vector<float> crop(kLivenessCropElements);
  SampleCrop(view, CropAndResizeMap(ref["crop"]["normalized_y1x1y2x2"], pic.w, pic.h, kLivenessCropSize),
             kLivenessCropSize, kLivenessCropSize, CropNorm::kUnit, CropChannels::kRgb, crop.data());
  std::string err;
  auto c = LivenessClassifier::Create(nt::ModelsDir(), "auto", &err);
  ASSERT_TRUE(c) << err;
  PrepareLivenessInputs(crop.data(), c->antispoof_input(), c->liveness_input());
  for (const auto& run : ref["runs"]) {
    if (run["model"] == "antispoof")
      ExpectTensorMatches(c->antispoof_input(), kAntispoofInputElements, run, name + " antispoof input");
    else
      ExpectTensorMatches(c->liveness_input(), kLivenessInputElements, run, name + " liveness input");
  }
  LivenessScores s;
  ASSERT_TRUE(c->Run(&s)) << c->last_error();
  for (const auto& run : ref["runs"]) {
    const float want = run["output"][0];
    if (run["model"] == "antispoof")
      EXPECT_NEAR(s.real, want, 2e-3) << name << " antispoof";
    else
      EXPECT_NEAR(s.live, want, 2e-3) << name << " liveness";
  }
  std::printf("%s: Human's crop: real %.4f (Human %.4f), live %.4f (Human %.4f)\n", name.c_str(),
              s.real, ref["real"].get<double>(), s.live, ref["live"].get<double>());
}

TEST_P(LivenessReference, OurCropSitsOnHumans) {
  const std::string name = GetParam();
  const Json ref = Reference(name);
  const Picture pic = Build(name);
  ImageView view;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, pic.w, pic.h, {pic.rgb.data()}, {3 * pic.w}, &view));
  TrackerOptions o;
  o.models_dir = nt::ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(o, &err);
  ASSERT_TRUE(tracker) << err;
  FrameFaces faces = tracker->Process(view, 0);
  ASSERT_EQ(faces.faces.size(), 1u) << name;
  Affine2D m;
  ASSERT_TRUE(LivenessCropTransform(faces.faces[0].landmarks, {}, &m));
  // Centre and side of our square in frame pixels.
  const auto centre = m.Apply(kLivenessCropSize / 2.0f, kLivenessCropSize / 2.0f);
  const float side = std::hypot(m.a, m.d) * kLivenessCropSize;
  const auto& b = ref["crop"]["normalized_y1x1y2x2"];
  const double hx1 = b[1].get<double>() * pic.w, hx2 = b[3].get<double>() * pic.w;
  const double hy1 = b[0].get<double>() * pic.h, hy2 = b[2].get<double>() * pic.h;
  const double hside = 0.5 * ((hx2 - hx1) + (hy2 - hy1));
  std::printf("%s: our square centre (%.1f, %.1f) side %.1f; Human's (%.1f, %.1f) side %.1f\n",
              name.c_str(), centre[0], centre[1], side, 0.5 * (hx1 + hx2), 0.5 * (hy1 + hy2), hside);
  EXPECT_NEAR(centre[0], 0.5 * (hx1 + hx2), 0.06 * hside) << name;
  EXPECT_NEAR(centre[1], 0.5 * (hy1 + hy2), 0.06 * hside) << name;
  EXPECT_NEAR(side / hside, 1.0, 0.10) << name;

  auto c = LivenessClassifier::Create(nt::ModelsDir(), "auto", &err);
  ASSERT_TRUE(c) << err;
  std::vector<float> crop(kLivenessCropElements);
  ASSERT_TRUE(SampleLivenessCrop(view, faces.faces[0].landmarks, {}, crop.data()));
  PrepareLivenessInputs(crop.data(), c->antispoof_input(), c->liveness_input());
  LivenessScores s;
  ASSERT_TRUE(c->Run(&s)) << c->last_error();
  std::printf("%s: our crop: real %.4f (Human %.2f), live %.4f (Human %.2f)\n", name.c_str(), s.real,
              ref["real"].get<double>(), s.live, ref["live"].get<double>());
  EXPECT_TRUE(s.real >= 0 && s.real <= 1 && s.live >= 0 && s.live <= 1);
}

INSTANTIATE_TEST_SUITE_P(Human, LivenessReference,
                         ::testing::Values("astronaut", "astronaut_flip", "astronaut_small"));

// A model file of the wrong kind is refused, naming the file.
TEST(LivenessClassifier, RefusesWrongModel) {
  // The emotion model in place of antispoof: a folder holding only the wrong files.
  const std::string dir = ::testing::TempDir() + "/liveness_wrong_models";
  std::string err;
  ASSERT_EQ(std::system(("mkdir -p " + dir + " && cp " + nt::ModelsDir() + "/emotion.json " + dir +
                         "/antispoof.json && cp " + nt::ModelsDir() + "/emotion.bin " + dir + "/")
                            .c_str()),
            0);
  auto c = LivenessClassifier::Create(dir, "auto", &err);
  EXPECT_FALSE(c);
  EXPECT_NE(err.find("antispoof.json"), std::string::npos) << err;
  EXPECT_NE(err.find("[1,128,128,3]"), std::string::npos) << err;
  err.clear();
  EXPECT_FALSE(LivenessClassifier::Create(dir + "/missing", "auto", &err));
  EXPECT_NE(err.find("antispoof.json"), std::string::npos) << err;
}

// ResizeBilinearTf on a ramp: source = destination x in/out, exact on a linear image.
TEST(LivenessClassifier, ResizeFollowsTfConvention) {
  const int in = 12, out = 4;
  std::vector<float> img(in * in), res(out * out);
  for (int y = 0; y < in; ++y)
    for (int x = 0; x < in; ++x) img[y * in + x] = static_cast<float>(x + 100 * y);
  ResizeBilinearTf(img.data(), in, 1, out, res.data());
  for (int i = 0; i < out; ++i)
    for (int j = 0; j < out; ++j) EXPECT_FLOAT_EQ(res[i * out + j], 3.0f * j + 300.0f * i);
  // Upscaling clamps at the last row/column (TF: bottom = min(top + 1, in - 1)).
  std::vector<float> up(24 * 24);
  ResizeBilinearTf(img.data(), in, 1, 24, up.data());
  EXPECT_FLOAT_EQ(up[23], 11.0f);            // x = 11.5 clamps to 11
  EXPECT_FLOAT_EQ(up[1], 0.5f);
}

}  // namespace
}  // namespace fg
