#include "engine/tracking/crop.h"

#include <cmath>
#include <cstdint>

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

// kInside: every tap of every output pixel is inside the frame (checked once per crop from
// the four corners, since an affine map sends the output square to a parallelogram), so the
// per-tap bounds checks are skipped. The format is a template parameter: no switch per pixel.
template <PixelFormat F, bool kInside>
void SampleRows(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
                float offset, CropChannels ch, float* out) {
  const int w = v.width, h = v.height;
  auto fetch = [&](int x, int y, float* rgb) {
    if constexpr (!kInside) {
      if (x < 0 || y < 0 || x >= w || y >= h) {
        rgb[0] = rgb[1] = rgb[2] = 0;
        return;
      }
    }
    const Rgb8 p = v.AtAs<F>(x, y);
    rgb[0] = p.r;
    rgb[1] = p.g;
    rgb[2] = p.b;
  };
  for (int i = 0; i < out_h; ++i) {
    // Position of output pixel (0, i)'s centre, minus the half-pixel (index coordinates);
    // stepping j adds (a, d).
    float fx = m.a * 0.5f + m.b * (static_cast<float>(i) + 0.5f) + m.c - 0.5f;
    float fy = m.d * 0.5f + m.e * (static_cast<float>(i) + 0.5f) + m.f - 0.5f;
    for (int j = 0; j < out_w; ++j, fx += m.a, fy += m.d) {
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

// The common case made cheap: a packed 3- or 4-byte RGB format (byte offsets from its row in
// kPixelFormats), every tap inside the frame.
// Weights are 8-bit fixed point (1/256 px: far below what a 192 px crop of a face resolves),
// channels are read straight from the two source rows.
template <int kBpp, int kR, int kG, int kB>
void SamplePackedInside(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
                        float offset, CropChannels ch, float* out) {
  const uint8_t* base = v.planes[0];
  const std::ptrdiff_t stride = v.strides[0];
  const float s = scale * (1.0f / 65536.0f);
  for (int i = 0; i < out_h; ++i) {
    float fx = m.a * 0.5f + m.b * (static_cast<float>(i) + 0.5f) + m.c - 0.5f;
    float fy = m.d * 0.5f + m.e * (static_cast<float>(i) + 0.5f) + m.f - 0.5f;
    for (int j = 0; j < out_w; ++j, fx += m.a, fy += m.d) {
      const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);  // fx, fy > 0 here
      const int ax = static_cast<int>((fx - static_cast<float>(x0)) * 256.0f + 0.5f);
      const int ay = static_cast<int>((fy - static_cast<float>(y0)) * 256.0f + 0.5f);
      const int w00 = (256 - ax) * (256 - ay), w10 = ax * (256 - ay), w01 = (256 - ax) * ay, w11 = ax * ay;
      const uint8_t* p0 = base + y0 * stride + x0 * kBpp;
      const uint8_t* p1 = p0 + stride;
      auto mix = [&](int c) {
        return static_cast<float>(p0[c] * w00 + p0[c + kBpp] * w10 + p1[c] * w01 + p1[c + kBpp] * w11);
      };
      if (ch == CropChannels::kRgb) {
        *out++ = mix(kR) * s + offset;
        *out++ = mix(kG) * s + offset;
        *out++ = mix(kB) * s + offset;
      } else {
        *out++ = (0.2989f * mix(kR) + 0.5870f * mix(kG) + 0.1140f * mix(kB)) * s + offset;
      }
    }
  }
}

// The same for the YUV formats (I420 and NV12 are what decoders give, YUY2 what webcams give):
// the four taps' Y, U and V are mixed with the 8-bit fixed-point weights and converted to RGB
// once per output pixel, where the general path converts every tap (four BT.601 conversions
// per pixel). The conversion is affine, so mixing first equals converting first except where
// a tap's RGB leaves 0..255 and is clipped (saturated colours at a chroma edge); a weight of
// one on a single tap gives exactly detail::YuvToRgb. Each tap's chroma is that of its own
// chroma block, as ImageView::AtAs reads it.
template <PixelFormat F>
void SampleYuvInside(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
                     float offset, CropChannels ch, float* out) {
  constexpr PixelFormatInfo I = kFormat<F>;
  const uint8_t* const* planes = v.planes.data();
  const int* strides = v.strides.data();
  const std::ptrdiff_t luma_stride = strides[0];
  for (int i = 0; i < out_h; ++i) {
    float fx = m.a * 0.5f + m.b * (static_cast<float>(i) + 0.5f) + m.c - 0.5f;
    float fy = m.d * 0.5f + m.e * (static_cast<float>(i) + 0.5f) + m.f - 0.5f;
    for (int j = 0; j < out_w; ++j, fx += m.a, fy += m.d) {
      const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);  // fx, fy > 0 here
      const int ax = static_cast<int>((fx - static_cast<float>(x0)) * 256.0f + 0.5f);
      const int ay = static_cast<int>((fy - static_cast<float>(y0)) * 256.0f + 0.5f);
      const int w00 = (256 - ax) * (256 - ay), w10 = ax * (256 - ay), w01 = (256 - ax) * ay, w11 = ax * ay;
      const uint8_t* l0 = LumaAddress<F>(planes, strides, x0, y0);
      const uint8_t* l1 = l0 + luma_stride;
      const int ym = l0[0] * w00 + l0[I.bpp] * w10 + l1[0] * w01 + l1[I.bpp] * w11;
      const int cx0 = x0 >> I.sub_x, cx1 = (x0 + 1) >> I.sub_x;
      const int cy0 = y0 >> I.sub_y, cy1 = (y0 + 1) >> I.sub_y;
      const uint8_t *u00, *v00, *u10, *v10, *u01, *v01, *u11, *v11;
      ChromaAddress<F>(planes, strides, cx0, cy0, &u00, &v00);
      ChromaAddress<F>(planes, strides, cx1, cy0, &u10, &v10);
      ChromaAddress<F>(planes, strides, cx0, cy1, &u01, &v01);
      ChromaAddress<F>(planes, strides, cx1, cy1, &u11, &v11);
      const int um = *u00 * w00 + *u10 * w10 + *u01 * w01 + *u11 * w11;
      const int vm = *v00 * w00 + *v10 * w10 + *v01 * w01 + *v11 * w11;
      // detail::YuvToRgb's 16.16 constants on values carrying 16 more fraction bits.
      const int64_t c = static_cast<int64_t>(ym - (16 << 16)) * 76309;
      const int64_t d = um - (128 << 16), e = vm - (128 << 16);
      constexpr int64_t kHalf = int64_t{1} << 31;
      const float r = detail::Clamp8(static_cast<int>((c + 104597 * e + kHalf) >> 32));
      const float g = detail::Clamp8(static_cast<int>((c - 25675 * d - 53279 * e + kHalf) >> 32));
      const float b = detail::Clamp8(static_cast<int>((c + 132201 * d + kHalf) >> 32));
      if (ch == CropChannels::kRgb) {
        *out++ = r * scale + offset;
        *out++ = g * scale + offset;
        *out++ = b * scale + offset;
      } else {
        *out++ = (0.2989f * r + 0.5870f * g + 0.1140f * b) * scale + offset;
      }
    }
  }
}

template <PixelFormat F>
void Sample(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
            float offset, CropChannels ch, float* out) {
  // Taps reach from floor(p) to floor(p) + 1 around each sample point p: inside when every
  // corner sample point lies in [0, w - 1) x [0, h - 1) (with a small margin for rounding).
  bool inside = true;
  for (const float cy : {0.5f, static_cast<float>(out_h) - 0.5f})
    for (const float cx : {0.5f, static_cast<float>(out_w) - 0.5f}) {
      const auto p = m.Apply(cx, cy);
      const float x = p[0] - 0.5f, y = p[1] - 0.5f;
      inside &= x >= 0.01f && y >= 0.01f && x < static_cast<float>(v.width) - 1.01f &&
                y < static_cast<float>(v.height) - 1.01f;
    }
  if (inside) {
    constexpr PixelFormatInfo I = kFormat<F>;
    if constexpr (I.layout == PixelLayout::kPackedRgb)
      SamplePackedInside<I.bpp, I.r, I.g, I.b>(v, m, out_w, out_h, scale, offset, ch, out);
    else if constexpr (IsYuv(F))
      SampleYuvInside<F>(v, m, out_w, out_h, scale, offset, ch, out);
    else
      SampleRows<F, true>(v, m, out_w, out_h, scale, offset, ch, out);
  }
  else
    SampleRows<F, false>(v, m, out_w, out_h, scale, offset, ch, out);
}

}  // namespace

void SampleCrop(const ImageView& frame, const Affine2D& m, int out_w, int out_h, CropNorm norm,
                CropChannels channels, float* out) {
  const float scale = norm == CropNorm::kUnit ? 1.0f / 255.0f : 1.0f / 127.5f;
  const float offset = norm == CropNorm::kUnit ? 0.0f : -1.0f;
  VisitPixelFormat(frame.format, [&]<PixelFormat F>() {
    Sample<F>(frame, m, out_w, out_h, scale, offset, channels, out);
  });
}

}  // namespace fg
