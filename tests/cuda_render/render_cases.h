// Inputs shared by the CUDA renderer's tests (emulation_test.cc, gpu_test.cc), each chosen to
// exercise one part of the two-pass device algorithm, and the comparisons they use:
//   Poses()        the canonical face (real geometry, 468 vertices, 898 triangles) in a
//                  640x480 target: frontal, turned 70 degrees (the far cheek folds behind the
//                  nose: the z-buffer decides), tilted and rolled, shifted half off the target
//                  (clipping), and tiny (most triangles own no pixel centre)
//   Texture        the astronaut photo, mapped by the canonical face's own UVs
//   WarpSource / WarpTarget
//                  the canonical face at 11 px/cm over the astronaut's face, and a displaced
//                  copy: mouth opened, jaw widened and a sideways shift that grows with depth
//                  (a turned-head look), which folds the mesh around the nose
//   Frame(format)  the astronaut photo in any of the seven pixel formats
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/geometry/canonical_face.h"
#include "engine/io/png.h"
#include "engine/render/composite.h"
#include "engine/render/rasterizer.h"
#include "engine/render/triangle.h"
#include "engine/tracking/head_pose.h"
#include "tests/test_paths.h"

namespace fg::cuda_render_testing {

inline constexpr int kW = 640, kH = 480;

struct Pose {
  std::string name;
  float yaw, pitch, roll;  // degrees
  float fill;              // Camera::Fit's fill
  float shift_x;           // pixels added to the camera's cx
};

struct RenderCases {
  CanonicalFace face;
  RgbImage photo;
  render::Texture texture;
  std::vector<Pose> poses;
  std::vector<std::array<float, 3>> warp_source, warp_target;
};

inline const RenderCases& Cases() {
  static const RenderCases* cases = [] {
    auto* c = new RenderCases;
    const char* env = std::getenv("FACEGRAPH_MODELS");
    const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
    std::string err;
    auto face = LoadCanonicalFace(models + "/" + kCanonicalFaceFile, &err);
    if (!face) {
      ADD_FAILURE() << err;
      return c;
    }
    c->face = *face;
    if (auto e = ReadPngRgb(::fg::testing::AstronautPath(), &c->photo)) {
      ADD_FAILURE() << *e;
      return c;
    }
    c->texture.width = c->photo.width;
    c->texture.height = c->photo.height;
    c->texture.rgba.resize(static_cast<size_t>(c->photo.width) * c->photo.height * 4);
    for (int i = 0; i < c->photo.width * c->photo.height; ++i) {
      std::memcpy(&c->texture.rgba[4 * i], &c->photo.pixels[3 * i], 3);
      c->texture.rgba[4 * i + 3] = 255;
    }
    c->poses = {{"frontal", 0, 0, 0, 0.9f, 0},       {"yaw70", 70, 5, 0, 0.9f, 0},
                {"pitch_roll", -25, 30, 20, 0.8f, 0}, {"half_out", 35, 0, 0, 1.2f, 300},
                {"tiny", 10, 10, 0, 0.04f, 0}};
    for (const auto& v : c->face.vertices) {
      const std::array<float, 3> s{225.f + 11.f * v[0], 125.f - 11.f * v[1], -11.f * v[2]};
      c->warp_source.push_back(s);
      std::array<float, 3> t = s;
      if (v[1] < -2.0f) t[1] += 1.5f * (-2.0f - v[1]);  // below the nose: mouth and jaw open
      t[0] += 0.15f * v[0] * (v[1] < 0 ? 1.0f : 0.0f);  // jaw wider
      t[0] += 0.45f * s[2];                             // shift with depth: folds
      c->warp_target.push_back(t);
    }
    return c;
  }();
  return *cases;
}

inline Eigen::Matrix3f Rotation(const Pose& p) { return YawPitchRollToRotation(p.yaw, p.pitch, p.roll); }
inline render::Camera CameraFor(const Pose& p) {
  render::Camera cam = render::Camera::Fit(Cases().face.vertices, kW, kH, p.fill);
  cam.cx += p.shift_x;
  return cam;
}

// Pixels of a w x h target covered by more than one of the triangles (2D positions given per
// vertex): > 0 means the depth test decides some pixels.
inline int OverlappedPixels(const std::vector<std::array<float, 2>>& xy, const std::vector<std::array<int, 3>>& tris,
                            int w, int h) {
  std::vector<int> count(static_cast<size_t>(w) * h, 0);
  for (const auto& t : tris)
    render::ForEachPixel(xy[t[0]], xy[t[1]], xy[t[2]], w, h,
                         [&](int x, int y, float, float, float) { ++count[static_cast<size_t>(y) * w + x]; });
  int n = 0;
  for (int c : count) n += c > 1;
  return n;
}
// The canonical face's pixel positions in a pose (what Rasterizer::Draw computes).
inline std::vector<std::array<float, 2>> ScreenPositions(const Pose& p) {
  const auto vp = render::ToViewParams(Rotation(p), CameraFor(p));
  std::vector<std::array<float, 2>> xy;
  for (const auto& v : Cases().face.vertices)
    xy.push_back(render::raster_kernel::ScreenXY(vp, render::raster_kernel::ViewVertex(vp, v)));
  return xy;
}

// RGBA images equal byte for byte; the first differing pixels are printed.
inline void ExpectSameImage(const render::RgbaImage& want, const render::RgbaImage& got, const std::string& what) {
  ASSERT_EQ(want.width, got.width) << what;
  ASSERT_EQ(want.height, got.height) << what;
  int bad = 0;
  for (int y = 0; y < want.height; ++y)
    for (int x = 0; x < want.width; ++x) {
      const uint8_t* a = want.Row(y) + 4 * x;
      const uint8_t* b = got.Row(y) + 4 * x;
      if (std::memcmp(a, b, 4) == 0) continue;
      if (++bad <= 5)
        ADD_FAILURE() << what << ": pixel (" << x << ", " << y << ") want " << int(a[0]) << "," << int(a[1]) << ","
                      << int(a[2]) << "," << int(a[3]) << " got " << int(b[0]) << "," << int(b[1]) << ","
                      << int(b[2]) << "," << int(b[3]);
    }
  EXPECT_EQ(bad, 0) << what << ": differing pixels";
}

// Pixels with alpha != 0 (drawn).
inline int Drawn(const render::RgbaImage& img) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += img.Row(y)[4 * x + 3] != 0;
  return n;
}

// A frame of `format` owned here, filled from an RGB picture (composite.h WriteRgba).
struct OwnedFrame {
  std::array<std::vector<uint8_t>, 3> planes;
  draw::MutableImageView view;
  std::vector<uint8_t> Bytes() const {
    std::vector<uint8_t> all;
    for (const auto& p : planes) all.insert(all.end(), p.begin(), p.end());
    return all;
  }
};
inline void MakeFrame(PixelFormat format, const RgbImage& rgb, OwnedFrame* f) {
  const int w = rgb.width, h = rgb.height;
  std::array<uint8_t*, 3> ptrs{};
  std::array<int, 3> strides{};
  for (int p = 0; p < PlaneCount(format); ++p) {
    strides[p] = ImageView::MinStride(format, w, p) + 8 * (p + 1);  // padded rows
    f->planes[p].assign(static_cast<size_t>(strides[p]) * ImageView::PlaneRows(format, h, p), 7);
    ptrs[p] = f->planes[p].data();
  }
  ASSERT_FALSE(draw::MutableImageView::Wrap(format, w, h, ptrs, strides, &f->view));
  render::RgbaImage img;
  img.Resize(w, h);
  for (int i = 0; i < w * h; ++i) {
    std::memcpy(&img.px[4 * i], &rgb.pixels[3 * i], 3);
    img.px[4 * i + 3] = 255;
  }
  render::WriteRgba(img, f->view, 0, 0);
}

}  // namespace fg::cuda_render_testing
