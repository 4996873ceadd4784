// Helpers shared by the vitals tests: the canonical face, projected into a frame, and an RGB
// frame converted to every pixel format.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/tracking/head_pose.h"

namespace fg::vitals_testing {

inline std::string ModelsDir() {
  if (const char* env = std::getenv("FACEGRAPH_MODELS"); env && *env) return env;
  return FG_MODELS_DEFAULT_DIR;
}

inline const CanonicalFace& Canonical() {
  static const CanonicalFace face = [] {
    std::string err;
    auto f = LoadCanonicalFace(ModelsDir() + "/" + kCanonicalFaceFile, &err);
    EXPECT_TRUE(f) << err;
    return f ? *f : CanonicalFace{};
  }();
  return face;
}

// The canonical face rotated by (yaw, pitch, roll) degrees, scaled to `px_per_cm` and centred
// at (cx, cy): landmarks as FaceMesh gives them (x right, y down, z away, pixels).
inline std::vector<std::array<float, 3>> Project(float yaw, float pitch, float roll, float px_per_cm,
                                                 float cx, float cy) {
  const Eigen::Matrix3f r = YawPitchRollToRotation(yaw, pitch, roll);
  std::vector<std::array<float, 3>> lm;
  for (const auto& v : Canonical().vertices) {
    const Eigen::Vector3f p = r * Eigen::Vector3f(v[0], v[1], v[2]);
    lm.push_back({cx + px_per_cm * p.x(), cy - px_per_cm * p.y(), -px_per_cm * p.z()});
  }
  return lm;
}

// One picture in every format (engine/pixel_format.h); planes sized exactly (no padding) so
// that ASan sees any read past the end. YUV by BT.601 limited range, chroma from the top-left
// pixel of each 2x2 (4:2:0) or the left pixel of each pair (4:2:2). Bytes are placed by hand
// here, not through the format table. Padding bytes (RGBx, ...; the unused Y1 of an odd-width
// YUY2/UYVY row) hold kPoison, which would show in any mean that read them.
inline constexpr uint8_t kPoison = 0;
struct AllFormats {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb, bgr, rgba, bgra, gray, y, uv, u, v;
  std::vector<uint8_t> vu, yuy2, uyvy, rgbx, bgrx, xrgb, xbgr;
  std::vector<ImageView> views;  // in PixelFormat order
};

inline void MakeAllFormats(const std::vector<uint8_t>& rgb, int w, int h, AllFormats* f) {
  f->w = w, f->h = h;
  f->rgb = rgb;
  f->bgr.resize(w * h * 3);
  f->rgba.resize(w * h * 4);
  f->bgra.resize(w * h * 4);
  f->gray.resize(w * h);
  f->y.resize(w * h);
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  f->uv.resize(2 * cw * ch);
  f->u.resize(cw * ch);
  f->v.resize(cw * ch);
  f->vu.resize(2 * cw * ch);
  f->yuy2.assign(static_cast<size_t>(4 * cw) * h, kPoison);
  f->uyvy.assign(static_cast<size_t>(4 * cw) * h, kPoison);
  for (auto* p : {&f->rgbx, &f->bgrx, &f->xrgb, &f->xbgr}) p->assign(static_cast<size_t>(4 * w) * h, kPoison);
  auto u601 = [](const uint8_t* p) {
    return static_cast<uint8_t>(std::lround(128 + (-37.945 * p[0] - 74.494 * p[1] + 112.439 * p[2]) / 256));
  };
  auto v601 = [](const uint8_t* p) {
    return static_cast<uint8_t>(std::lround(128 + (112.439 * p[0] - 94.154 * p[1] - 18.285 * p[2]) / 256));
  };
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < w; ++i) {
      const uint8_t* p = &rgb[3 * (j * w + i)];
      const int k = j * w + i;
      f->bgr[3 * k] = p[2], f->bgr[3 * k + 1] = p[1], f->bgr[3 * k + 2] = p[0];
      f->rgba[4 * k] = p[0], f->rgba[4 * k + 1] = p[1], f->rgba[4 * k + 2] = p[2], f->rgba[4 * k + 3] = 255;
      f->bgra[4 * k] = p[2], f->bgra[4 * k + 1] = p[1], f->bgra[4 * k + 2] = p[0], f->bgra[4 * k + 3] = 255;
      f->gray[k] = static_cast<uint8_t>(std::lround(0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]));
      f->y[k] = static_cast<uint8_t>(std::lround(16 + (65.738 * p[0] + 129.057 * p[1] + 25.064 * p[2]) / 256));
      if (i % 2 == 0 && j % 2 == 0) {
        const int c = (j / 2) * cw + i / 2;
        f->u[c] = f->uv[2 * c] = f->vu[2 * c + 1] = u601(p);
        f->v[c] = f->uv[2 * c + 1] = f->vu[2 * c] = v601(p);
      }
      f->rgbx[4 * k] = p[0], f->rgbx[4 * k + 1] = p[1], f->rgbx[4 * k + 2] = p[2];
      f->bgrx[4 * k] = p[2], f->bgrx[4 * k + 1] = p[1], f->bgrx[4 * k + 2] = p[0];
      f->xrgb[4 * k + 1] = p[0], f->xrgb[4 * k + 2] = p[1], f->xrgb[4 * k + 3] = p[2];
      f->xbgr[4 * k + 1] = p[2], f->xbgr[4 * k + 2] = p[1], f->xbgr[4 * k + 3] = p[0];
      uint8_t* m2 = &f->yuy2[static_cast<size_t>(j) * 4 * cw + 4 * (i / 2)];  // Y0 U Y1 V
      uint8_t* m1 = &f->uyvy[static_cast<size_t>(j) * 4 * cw + 4 * (i / 2)];  // U Y0 V Y1
      m2[2 * (i % 2)] = m1[2 * (i % 2) + 1] = f->y[k];
      if (i % 2 == 0) m2[1] = m1[0] = u601(p), m2[3] = m1[2] = v601(p);
    }
  f->views.assign(kPixelFormatCount, ImageView{});
  auto wrap = [&](PixelFormat fmt, std::array<const uint8_t*, 3> planes, std::array<int, 3> strides) {
    ImageView v;
    auto err = ImageView::Wrap(fmt, w, h, planes, strides, &v);
    EXPECT_FALSE(err) << *err;
    f->views[static_cast<int>(fmt)] = v;
  };
  wrap(PixelFormat::kRGB, {f->rgb.data()}, {3 * w});
  wrap(PixelFormat::kBGR, {f->bgr.data()}, {3 * w});
  wrap(PixelFormat::kRGBA, {f->rgba.data()}, {4 * w});
  wrap(PixelFormat::kBGRA, {f->bgra.data()}, {4 * w});
  wrap(PixelFormat::kGRAY8, {f->gray.data()}, {w});
  wrap(PixelFormat::kNV12, {f->y.data(), f->uv.data()}, {w, 2 * cw});
  wrap(PixelFormat::kI420, {f->y.data(), f->u.data(), f->v.data()}, {w, cw, cw});
  wrap(PixelFormat::kYUY2, {f->yuy2.data()}, {4 * cw});
  wrap(PixelFormat::kUYVY, {f->uyvy.data()}, {4 * cw});
  wrap(PixelFormat::kNV21, {f->y.data(), f->vu.data()}, {w, 2 * cw});
  wrap(PixelFormat::kRGBx, {f->rgbx.data()}, {4 * w});
  wrap(PixelFormat::kBGRx, {f->bgrx.data()}, {4 * w});
  wrap(PixelFormat::kxRGB, {f->xrgb.data()}, {4 * w});
  wrap(PixelFormat::kxBGR, {f->xbgr.data()}, {4 * w});
  for (size_t i = 0; i < f->views.size(); ++i)
    EXPECT_EQ(static_cast<size_t>(f->views[i].format), i) << "views must be in PixelFormat order";
}

}  // namespace fg::vitals_testing
