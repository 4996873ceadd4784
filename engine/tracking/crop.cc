#include "engine/tracking/crop.h"

#include <cmath>

namespace fg {

Affine2D Affine2D::Inverse() const {
  const float det = a * e - b * d;
  const float id = det != 0 ? 1.0f / det : 0.0f;
  Affine2D r;
  r.a = e * id;
  r.b = -b * id;
  r.d = -d * id;
  r.e = a * id;
  r.c = -(r.a * c + r.b * f);
  r.f = -(r.d * c + r.e * f);
  return r;
}

Affine2D Affine2D::SquareCrop(float cx, float cy, float side, float angle, int out_size) {
  const float s = side / static_cast<float>(out_size);
  const float cs = std::cos(angle) * s, sn = std::sin(angle) * s;
  const float h = 0.5f * static_cast<float>(out_size);
  // Image y points down, so a counter-clockwise rotation on screen is (x, y) -> (x cos + y sin,
  // -x sin + y cos) in pixel coordinates.
  Affine2D m;
  m.a = cs;
  m.b = sn;
  m.d = -sn;
  m.e = cs;
  m.c = cx - (m.a * h + m.b * h);
  m.f = cy - (m.d * h + m.e * h);
  return m;
}

namespace {

template <PixelFormat F>
void Sample(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
            float offset, CropChannels ch, float* out) {
  const int w = v.width, h = v.height;
  auto fetch = [&](int x, int y, float* rgb) {
    if (x < 0 || y < 0 || x >= w || y >= h) {
      rgb[0] = rgb[1] = rgb[2] = 0;
      return;
    }
    const Rgb8 p = v.AtAs<F>(x, y);  // format fixed per crop: no switch per pixel
    rgb[0] = p.r;
    rgb[1] = p.g;
    rgb[2] = p.b;
  };
  for (int i = 0; i < out_h; ++i) {
    for (int j = 0; j < out_w; ++j) {
      const auto [sx, sy] = m.Apply(static_cast<float>(j) + 0.5f, static_cast<float>(i) + 0.5f);
      const float fx = sx - 0.5f, fy = sy - 0.5f;
      const float x0f = std::floor(fx), y0f = std::floor(fy);
      const int x0 = static_cast<int>(x0f), y0 = static_cast<int>(y0f);
      const float ax = fx - x0f, ay = fy - y0f;
      float p00[3], p10[3], p01[3], p11[3];
      fetch(x0, y0, p00);
      fetch(x0 + 1, y0, p10);
      fetch(x0, y0 + 1, p01);
      fetch(x0 + 1, y0 + 1, p11);
      float rgb[3];
      for (int k = 0; k < 3; ++k) {
        const float top = p00[k] + (p10[k] - p00[k]) * ax;
        const float bot = p01[k] + (p11[k] - p01[k]) * ax;
        rgb[k] = top + (bot - top) * ay;
      }
      if (ch == CropChannels::kRgb) {
        for (int k = 0; k < 3; ++k) *out++ = rgb[k] * scale + offset;
      } else {
        const float g = 0.2989f * rgb[0] + 0.5870f * rgb[1] + 0.1140f * rgb[2];
        *out++ = g * scale + offset;
      }
    }
  }
}

}  // namespace

void SampleCrop(const ImageView& frame, const Affine2D& m, int out_w, int out_h, CropNorm norm,
                CropChannels channels, float* out) {
  const float scale = norm == CropNorm::kUnit ? 1.0f / 255.0f : 1.0f / 127.5f;
  const float offset = norm == CropNorm::kUnit ? 0.0f : -1.0f;
  switch (frame.format) {
#define FG_CASE(F) \
  case F: return Sample<F>(frame, m, out_w, out_h, scale, offset, channels, out);
    FG_CASE(PixelFormat::kRGB)
    FG_CASE(PixelFormat::kBGR)
    FG_CASE(PixelFormat::kRGBA)
    FG_CASE(PixelFormat::kBGRA)
    FG_CASE(PixelFormat::kGRAY8)
    FG_CASE(PixelFormat::kNV12)
    FG_CASE(PixelFormat::kI420)
#undef FG_CASE
  }
}

}  // namespace fg
