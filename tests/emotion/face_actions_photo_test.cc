// Facial action measures on the real astronaut photo, warped to close its eyes and open its
// mouth by known amounts, through the real FaceTracker (FaceMesh) - the end-to-end check that
// the synthetic-landmark tests (face_actions_test.cc) cannot give.
//
// The warp (backward map, bilinear): landmarks of the unwarped photo give, per eye, the upper
// lid U (159 / 386), the lower lid L (145 / 374), the corners, and the width W. To close the
// eye by c (0 open .. 1 shut), the band [T, U] (T = U - 0.6 W: lid skin up towards the brow)
// is stretched down onto [T, U + c (L - U)] and the eye opening [U, L] squeezed into the rest,
// so the upper lid's pixels move down by c (L - U) at the lid's middle; below L nothing moves.
// The vertical map is blended with the identity by a smooth horizontal window (cos^2 over
// 0.8 W either side of the eye centre), so the displacement field is continuous and local.
// The mouth opens by A pixels: everything from the middle of the inner-lip gap (between 13
// and 14, between her teeth rows) down to B = chin + 0.6 IOD (the neck) moves down by
// a(x) = A x window(x) (cos^2 over 1.1 x the half mouth width either side) and is compressed
// into [mid + a, B]; the opened gap [mid, mid + a] is filled with a dark mouth-cavity colour.
// So the lower teeth, lower lip and chin drop by a known amount and the mouth shows a dark
// opening, as a real one does. The photo's roll (about 3 degrees) is ignored: the bands are
// vertical in the image.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "engine/emotion/face_actions.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

namespace nt = nn::testing;
constexpr int64_t kSec = 1'000'000'000;

struct Photo {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  std::vector<std::array<float, 3>> lm;  // FaceTracker's landmarks on the unwarped photo
};

std::unique_ptr<FaceTracker> MakeTracker(bool iris = std::getenv("FG_IRIS") != nullptr) {
  TrackerOptions o;
  o.models_dir = nt::ModelsDir();
  o.iris = iris;
  std::string err;
  auto t = FaceTracker::Create(o, &err);
  EXPECT_TRUE(t) << err;
  return t;
}

const Photo& Astronaut() {
  static Photo p = [] {
    Photo a;
    std::string err;
    EXPECT_TRUE(nt::DecodePngRgb(FG_ASTRONAUT, &a.w, &a.h, &a.rgb, &err)) << err;
    ImageView v;
    EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, a.w, a.h, {a.rgb.data()}, {3 * a.w}, &v));
    auto t = MakeTracker();
    FrameFaces ff;
    for (int i = 0; i < 5; ++i) ff = t->Process(v, i * kSec / 30);
    EXPECT_EQ(ff.faces.size(), 1u);
    if (!ff.faces.empty()) a.lm = ff.faces[0].landmarks;
    return a;
  }();
  return p;
}

float Smooth(float u) {  // cos^2 window: 1 at 0, 0 at |u| >= 1, C1-continuous
  if (std::abs(u) >= 1) return 0;
  const float c = std::cos(1.5707963f * u);
  return c * c;
}

// Source y for output y under a stretch of band [t, u] onto [t, uc] and of [u, l] onto [uc, l].
float BandMap(float y, float t, float u, float uc, float l) {
  if (y <= t || y >= l) return y;
  if (y <= uc) return uc > t ? t + (y - t) * (u - t) / (uc - t) : u;
  return l > uc ? u + (y - uc) * (l - u) / (l - uc) : u;
}

std::vector<uint8_t> Warp(float eye_close, float mouth_px) {
  const Photo& p = Astronaut();
  const auto& lm = p.lm;
  struct Band { float xc, half, t, u, uc, l; };
  std::vector<Band> eyes;
  for (auto [up, lo, a, b] : {std::array{159, 145, 33, 133}, std::array{386, 374, 362, 263}}) {
    const float w = std::abs(lm[b][0] - lm[a][0]);
    const float u = lm[up][1], l = lm[lo][1];
    eyes.push_back({0.5f * (lm[a][0] + lm[b][0]), 0.8f * w, u - 0.6f * w, u, u + eye_close * (l - u), l});
  }
  const float iod = std::abs(0.5f * (lm[362][0] + lm[263][0]) - 0.5f * (lm[33][0] + lm[133][0]));
  const float mouth_xc = 0.5f * (lm[61][0] + lm[291][0]);
  const float mouth_half = 1.1f * 0.5f * std::abs(lm[291][0] - lm[61][0]);
  const float mid = 0.5f * (lm[13][1] + lm[14][1]);  // between the teeth rows
  const float bottom = lm[152][1] + 0.6f * iod;
  const uint8_t cavity[3] = {45, 20, 22};
  std::vector<uint8_t> out(p.rgb.size());
  for (int y = 0; y < p.h; ++y)
    for (int x = 0; x < p.w; ++x) {
      const float fx = x + 0.5f, fy = y + 0.5f;
      float sy = fy, dark = 0;
      for (const Band& b : eyes) {
        const float wgt = Smooth((fx - b.xc) / b.half);
        if (wgt > 0 && fy > b.t && fy < b.l) sy = fy + wgt * (BandMap(fy, b.t, b.u, b.uc, b.l) - fy);
      }
      // Mouth: everything between the teeth rows' middle and the neck moves down by
      // a = A * window(x), compressed into [mid + a, bottom]; the opened gap is the cavity.
      const float a = mouth_px * Smooth((fx - mouth_xc) / mouth_half);
      if (a > 0 && fy > mid && fy < bottom) {
        if (fy < mid + a) {
          dark = 1, sy = mid;
        } else {
          sy = mid + (fy - mid - a) * (bottom - mid) / (bottom - mid - a);
        }
      }
      const float py = std::clamp(sy - 0.5f, 0.0f, static_cast<float>(p.h - 1.001f));
      const int y0 = static_cast<int>(py);
      const float ay = py - y0;
      for (int k = 0; k < 3; ++k) {
        const float c0 = p.rgb[3 * (y0 * p.w + x) + k], c1 = p.rgb[3 * ((y0 + 1) * p.w + x) + k];
        const float v = dark > 0 ? cavity[k] : c0 + (c1 - c0) * ay;
        out[3 * (y * p.w + x) + k] = static_cast<uint8_t>(std::lround(v));
      }
    }
  return out;
}

void DumpPpm(const std::vector<uint8_t>& rgb, int w, int h, const std::string& path) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fprintf(f, "P6 %d %d 255\n", w, h);
    std::fwrite(rgb.data(), 1, rgb.size(), f);
    std::fclose(f);
  }
}

FaceActions Step(FaceTracker& t, FaceActionTracker& a, const std::vector<uint8_t>& rgb, int64_t pts) {
  const Photo& p = Astronaut();
  ImageView v;
  EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, p.w, p.h, {rgb.data()}, {3 * p.w}, &v));
  const FrameFaces ff = t.Process(v, pts);
  EXPECT_EQ(ff.faces.size(), 1u) << "pts " << pts;
  if (ff.faces.empty()) return a.state();
  FaceActionMeasures m;
  EXPECT_TRUE(MeasureFaceActions(ff.faces[0], &m));
  return a.Update(m, pts);
}

// How the measures respond to the warp amounts. Mouth opening must be monotone in the true
// opening; the eye response is printed with and without the Iris model's eyelid contour.
TEST(FaceActionsPhoto, ResponseToKnownWarps) {
  const Photo& p = Astronaut();
  ASSERT_GE(p.lm.size(), 468u);
  if (const char* dir = std::getenv("FG_EMOTION_DUMP_DIR")) {  // look at the warps
    DumpPpm(Warp(1.0f, 0), p.w, p.h, std::string(dir) + "/eyes_shut.ppm");
    DumpPpm(Warp(0, 20), p.w, p.h, std::string(dir) + "/mouth_20.ppm");
  }
  const std::vector<uint8_t> neutral = Warp(0, 0);
  for (bool iris : {false, true}) {
    auto t = MakeTracker(iris);
    FaceActionTracker a;
    int64_t pts = 0;
    for (int i = 0; i < 75; ++i, pts += kSec / 30) Step(*t, a, neutral, pts);  // calibrate 2.5 s
    ASSERT_TRUE(a.state().calibrated);
    std::printf("[ photo, iris %s ] eye_close -> eye_open R, L (relative to neutral):", iris ? "on" : "off");
    float last_r = 2;
    for (float c : {0.0f, 0.25f, 0.5f, 0.75f, 1.0f}) {
      const std::vector<uint8_t> f = Warp(c, 0);
      FaceActions r;
      for (int i = 0; i < 3; ++i, pts += kSec / 30) r = Step(*t, a, f, pts);
      std::printf(" %.2f->%.2f,%.2f", c, r.eye_open_right, r.eye_open_left);
      EXPECT_LT(r.eye_open_right, last_r + 0.02f) << "closing the eye must not open it";
      last_r = r.eye_open_right;
    }
    const float iod = 0.5f * std::abs(p.lm[263][0] + p.lm[362][0] - p.lm[33][0] - p.lm[133][0]);
    std::printf("\n[ photo, iris %s ] mouth px (IOD %.0f px) -> mouth_open, jaw_open:", iris ? "on" : "off", iod);
    float last = -1, last_jaw = -1;
    for (float m : {0.0f, 4.0f, 8.0f, 12.0f, 16.0f, 20.0f}) {
      const std::vector<uint8_t> f = Warp(0, m);
      FaceActions r;
      for (int i = 0; i < 3; ++i, pts += kSec / 30) r = Step(*t, a, f, pts);
      std::printf(" %.0f->%.2f,%.2f", m, r.mouth_open, r.jaw_open);
      if (m > 0) {
        EXPECT_GT(r.mouth_open, last) << "mouth opening " << m << " px";
        EXPECT_GT(r.jaw_open, last_jaw) << "mouth opening " << m << " px";
      } else {
        EXPECT_LT(r.mouth_open, 0.05f);
      }
      last = r.mouth_open, last_jaw = r.jaw_open;
    }
    std::printf("\n");
    EXPECT_GT(last, 0.25f);
  }
}

// N blinks of the warped photo through FaceTracker (Iris on: see the printout above for why)
// -> exactly N counted, with sensor noise; a squint (half closure) and a 2 s eye closure are
// not blinks. The blink thresholds are the defaults, fixed before this test was written.
TEST(FaceActionsPhoto, BlinkCountOnWarpedPhoto) {
  const Photo& p = Astronaut();
  ASSERT_GE(p.lm.size(), 468u);
  const float levels[] = {0.0f, 0.5f, 1.0f};
  std::vector<std::vector<uint8_t>> frames;
  for (float c : levels) frames.push_back(Warp(c, 0));
  // A blink at 30 fps: half, shut, shut, half (133 ms), then open.
  const std::vector<double> blinks = {1.0, 3.0, 4.4, 5.9, 8.6, 10.0};
  auto level = [&](int k) -> int {  // index into levels for frame k
    for (double b : blinks) {
      const int f0 = static_cast<int>(std::lround(b * 30));
      if (k == f0 || k == f0 + 3) return 1;
      if (k == f0 + 1 || k == f0 + 2) return 2;
    }
    if (k >= 210 && k < 225) return 1;  // 7.0-7.5 s: squint
    if (k >= 330 && k < 390) return 2;  // 11-13 s: eyes shut
    return 0;
  };
  auto t = MakeTracker(true);
  FaceActionTracker a;
  uint32_t rng = 12345;
  std::vector<uint8_t> noisy(frames[0].size());
  int closed_frames = 0;
  for (int k = 0; k < 14 * 30; ++k) {
    const std::vector<uint8_t>& f = frames[level(k)];
    for (size_t i = 0; i < f.size(); ++i) {  // uniform noise +-4 grey levels, new each frame
      rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
      noisy[i] = static_cast<uint8_t>(std::clamp(static_cast<int>(f[i]) + static_cast<int>(rng % 9) - 4, 0, 255));
    }
    closed_frames += Step(*t, a, noisy, k * kSec / 30).eyes_closed;
  }
  std::printf("[ photo blinks ] %u counted of %zu made; frames closed %d; rate %.1f/min over 14 s\n",
              a.state().blinks, blinks.size(), closed_frames, a.state().blink_rate_per_min);
  EXPECT_EQ(a.state().blinks, blinks.size());
  EXPECT_NEAR(a.state().blink_rate_per_min, blinks.size() * 60.0 / 14, 0.6);
}

}  // namespace
}  // namespace fg
