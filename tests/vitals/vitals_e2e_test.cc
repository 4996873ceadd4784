// End to end on rendered frames: the astronaut photo with a pulse added to the green channel
// of its skin (+-0.5 grey level, spatially smooth), 15 s at 30 fps. The pulse region is
// defined from the photo itself (skin-coloured pixels in an ellipse around the face, blurred),
// not from the STGraph's triangles. FaceTracker finds the mesh on the first frame; the face
// is still, so the landmarks are held. Every method must land within 3 bpm at 60 and 100 bpm.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>

#include "engine/io/png.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/vitals_estimator.h"
#include "tests/vitals/vitals_test_util.h"

namespace fg {
namespace {

constexpr int kW = 640, kH = 480, kOffX = 64;  // the 512x512 photo at x 64, rows 0..479
constexpr double kPi = std::numbers::pi;

struct Scene {
  std::vector<uint8_t> base;  // the still frame
  std::vector<float> mask;    // pulse amplitude weight per frame pixel, 0..1
  int x0 = kW, x1 = 0, y0 = kH, y1 = 0;  // the mask's bounding box
};

const Scene& GetScene() {
  static const Scene scene = [] {
    Scene s;
    RgbImage img;
    auto err = ReadPngRgb(FG_ASTRONAUT, &img);
    EXPECT_FALSE(err) << *err;
    s.base.assign(kW * kH * 3, 90);
    std::vector<float> raw(kW * kH, 0.0f);
    if (err) return s;
    for (int y = 0; y < kH && y < img.height; ++y)
      for (int x = 0; x < img.width && x + kOffX < kW; ++x) {
        const uint8_t* p = &img.pixels[3 * (y * img.width + x)];
        std::copy(p, p + 3, &s.base[3 * (y * kW + x + kOffX)]);
        // Skin by chroma (BT.601 Cb, Cr in the usual skin box) inside an ellipse around the face
        // of the photo (centre (225, 140), semi-axes 55 x 72 photo pixels).
        const double cb = 128 + (-37.945 * p[0] - 74.494 * p[1] + 112.439 * p[2]) / 256;
        const double cr = 128 + (112.439 * p[0] - 94.154 * p[1] - 18.285 * p[2]) / 256;
        const double ex = (x - 225) / 55.0, ey = (y - 140) / 72.0;
        if (cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173 && ex * ex + ey * ey <= 1)
          raw[y * kW + x + kOffX] = 1;
      }
    // Spatially smooth: a 9x9 box blur, twice.
    std::vector<float> tmp(kW * kH);
    for (int pass = 0; pass < 2; ++pass) {
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x) {
          float a = 0;
          for (int d = -4; d <= 4; ++d) a += raw[y * kW + std::clamp(x + d, 0, kW - 1)];
          tmp[y * kW + x] = a / 9;
        }
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x) {
          float a = 0;
          for (int d = -4; d <= 4; ++d) a += tmp[std::clamp(y + d, 0, kH - 1) * kW + x];
          raw[y * kW + x] = a / 9;
        }
    }
    s.mask = raw;
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x)
        if (s.mask[y * kW + x] > 0) s.x0 = std::min(s.x0, x), s.x1 = std::max(s.x1, x), s.y0 = std::min(s.y0, y), s.y1 = std::max(s.y1, y);
    return s;
  }();
  return scene;
}

// Frame i: green += 0.5 x mask x sin(2 pi f t), plus sensor noise (sigma 1) over the face box.
void Render(const Scene& s, double bpm, int i, std::mt19937* rng, std::vector<uint8_t>* f) {
  *f = s.base;
  std::normal_distribution<float> n(0.0f, 1.0f);
  const float pulse = static_cast<float>(0.5 * std::sin(2 * kPi * bpm / 60 * i / 30.0));
  for (int y = s.y0; y <= s.y1; ++y)
    for (int x = s.x0; x <= s.x1; ++x) {
      uint8_t* p = &(*f)[3 * (y * kW + x)];
      const float m = s.mask[y * kW + x];
      for (int k = 0; k < 3; ++k) {
        const float v = p[k] + (k == 1 ? m * pulse : 0.0f) + n(*rng);
        p[k] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
}

TEST(VitalsEndToEnd, AstronautWithAPulseAt60And100Bpm) {
  const Scene& scene = GetScene();
  ASSERT_GT(scene.x1, scene.x0) << "no skin found in the photo";
  TrackerOptions to;
  to.models_dir = vitals_testing::ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(to, &err);
  ASSERT_TRUE(tracker) << err;
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {scene.base.data()}, {3 * kW}, &v));
  const FrameFaces ff = tracker->Process(v, 0);
  ASSERT_EQ(ff.faces.size(), 1u);
  const Face face = ff.faces[0];
  ASSERT_EQ(face.landmarks.size(), 468u);
  std::printf("[ e2e ] face box %.0fx%.0f px at (%.0f, %.0f); pulse mask box %dx%d\n", face.box.w, face.box.h,
              face.box.x, face.box.y, scene.x1 - scene.x0 + 1, scene.y1 - scene.y0 + 1);

  for (double bpm : {60.0, 100.0}) {
    std::vector<std::unique_ptr<VitalsEstimator>> est;
    for (RppgMethod m : kAllRppgMethods) {
      VitalsOptions o;
      o.method = m;
      est.push_back(VitalsEstimator::Create(vitals_testing::Canonical(), o, &err));
      ASSERT_TRUE(est.back()) << err;
    }
    std::mt19937 rng(static_cast<unsigned>(bpm));
    std::vector<uint8_t> frame;
    double push_ms = 0;
    int pushes = 0;
    for (int i = 0; i < 450; ++i) {
      Render(scene, bpm, i, &rng, &frame);
      ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {frame.data()}, {3 * kW}, &v));
      const int64_t pts = int64_t{i} * 33'333'333;
      for (auto& e : est) {
        const auto t0 = std::chrono::steady_clock::now();
        e->Push(face, pts, v);
        push_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        ++pushes;
        e->UpdateDue();
      }
    }
    std::printf("[ e2e ] truth %.0f bpm (push %.3f ms per face per frame)\n", bpm, push_ms / pushes);
    for (size_t k = 0; k < est.size(); ++k) {
      const VitalsResult* r = est[k]->Result(face.id);
      ASSERT_TRUE(r);
      const std::string name(RppgMethodName(kAllRppgMethods[k]));
      std::printf("  %-5s %6.2f bpm (error %+.2f), SNR %5.1f dB, confidence %.2f; regions:", name.c_str(),
                  r->vitals.bpm, r->vitals.bpm - bpm, r->vitals.snr, r->vitals.confidence);
      for (int g = 0; g < kFaceRegions; ++g)
        std::printf(" %s %.1f/%.1fdB", std::string(FaceRegionName(static_cast<FaceRegion>(g))).c_str(),
                    r->region_bpm[g], r->region_snr_db[g]);
      std::printf("\n");
      EXPECT_TRUE(r->valid) << name;
      EXPECT_NEAR(r->vitals.bpm, bpm, 3.0) << name;
      EXPECT_GT(r->vitals.confidence, 0.5) << name << ": a still face with a clean pulse";
      EXPECT_EQ(r->bvp.size(), 300u);
    }
  }
}

TEST(VitalsEndToEnd, Nv12FramesGiveTheSameRate) {
  // The camera's usual format: the same scene at 75 bpm delivered as NV12 (the pulse reaches
  // the sampler through Y and the subsampled chroma), POS.
  const Scene& scene = GetScene();
  TrackerOptions to;
  to.models_dir = vitals_testing::ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(to, &err);
  ASSERT_TRUE(tracker) << err;
  vitals_testing::AllFormats f;
  vitals_testing::MakeAllFormats(scene.base, kW, kH, &f);
  const FrameFaces ff = tracker->Process(f.views[static_cast<int>(PixelFormat::kNV12)], 0);
  ASSERT_EQ(ff.faces.size(), 1u);
  auto est = VitalsEstimator::Create(vitals_testing::Canonical(), VitalsOptions{}, &err);
  ASSERT_TRUE(est) << err;
  std::mt19937 rng(75);
  std::vector<uint8_t> frame;
  for (int i = 0; i < 450; ++i) {
    Render(scene, 75, i, &rng, &frame);
    vitals_testing::MakeAllFormats(frame, kW, kH, &f);
    est->Push(ff.faces[0], int64_t{i} * 33'333'333, f.views[static_cast<int>(PixelFormat::kNV12)]);
    est->UpdateDue();
  }
  const VitalsResult* r = est->Result(ff.faces[0].id);
  ASSERT_TRUE(r);
  std::printf("[ e2e nv12 ] truth 75 bpm: pos %.2f bpm, SNR %.1f dB, confidence %.2f\n", r->vitals.bpm, r->vitals.snr,
              r->vitals.confidence);
  EXPECT_NEAR(r->vitals.bpm, 75, 3.0);
  EXPECT_GT(r->vitals.confidence, 0.5);
}

}  // namespace
}  // namespace fg
