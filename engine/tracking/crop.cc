#include "engine/tracking/crop.h"

#include <cmath>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
inline void YuvPixel(const uint8_t* const* planes, const int* strides, float fx, float fy,
                     float* rgb) {
  constexpr PixelFormatInfo I = kFormat<F>;
  const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);  // fx, fy > 0 here
  const int ax = static_cast<int>((fx - static_cast<float>(x0)) * 256.0f + 0.5f);
  const int ay = static_cast<int>((fy - static_cast<float>(y0)) * 256.0f + 0.5f);
  const int w00 = (256 - ax) * (256 - ay), w10 = ax * (256 - ay), w01 = (256 - ax) * ay, w11 = ax * ay;
  const uint8_t* l0 = LumaAddress<F>(planes, strides, x0, y0);
  const uint8_t* l1 = l0 + strides[0];
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
  rgb[0] = detail::Clamp8(static_cast<int>((c + 104597 * e + kHalf) >> 32));
  rgb[1] = detail::Clamp8(static_cast<int>((c - 25675 * d - 53279 * e + kHalf) >> 32));
  rgb[2] = detail::Clamp8(static_cast<int>((c + 132201 * d + kHalf) >> 32));
}

inline void StoreNormalized(const float* rgb, float scale, float offset, CropChannels ch, float*& out) {
  if (ch == CropChannels::kRgb) {
    *out++ = rgb[0] * scale + offset;
    *out++ = rgb[1] * scale + offset;
    *out++ = rgb[2] * scale + offset;
  } else {
    *out++ = (0.2989f * rgb[0] + 0.5870f * rgb[1] + 0.1140f * rgb[2]) * scale + offset;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FG_CROP_AVX2 1
bool HaveAvx2() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
}

#define FG_AVX2_FN __attribute__((target("avx2,fma"), always_inline)) inline
struct Weights4 {
  __m256i w00, w10, w01, w11;
};
FG_AVX2_FN __m256i Mix4(const Weights4& w, __m256i t0, __m256i t1, __m256i b0, __m256i b1) {
  return _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(t0, w.w00), _mm256_mullo_epi32(t1, w.w10)),
                          _mm256_add_epi32(_mm256_mullo_epi32(b0, w.w01), _mm256_mullo_epi32(b1, w.w11)));
}
// The bytes `sh` and `sh1` bits up in each lane of gathers h0 (top row) and h1 (bottom row).
FG_AVX2_FN __m256i MixShifted(const Weights4& w, __m256i h0, __m256i h1, __m256i sh, __m256i sh1) {
  const __m256i k255 = _mm256_set1_epi32(255);
  return Mix4(w, _mm256_and_si256(_mm256_srlv_epi32(h0, sh), k255), _mm256_and_si256(_mm256_srlv_epi32(h0, sh1), k255),
              _mm256_and_si256(_mm256_srlv_epi32(h1, sh), k255), _mm256_and_si256(_mm256_srlv_epi32(h1, sh1), k255));
}
FG_AVX2_FN __m256 Level(__m256 x) {
  return _mm256_min_ps(_mm256_max_ps(_mm256_floor_ps(_mm256_add_ps(x, _mm256_set1_ps(0.5f))), _mm256_setzero_ps()),
                       _mm256_set1_ps(255.0f));
}

// Eight output pixels of a 4:2:0 format at a time (I420, NV12, NV21: what decoders give).
// Each 32-bit gather reads a tap and its right-hand neighbour at once (and, for chroma, the
// next block), so the caller guarantees three bytes of slack right of every tap: the crop's
// corners lie at least 8 pixels inside the right edge. Same fixed-point weights as YuvPixel;
// the conversion is done in float (YuvPixel's constants), so a result can differ from
// YuvPixel's by one level where the exact value is a rounding tie.
template <PixelFormat F>
__attribute__((target("avx2,fma"))) int YuvRow420Avx2(const uint8_t* const* planes, const int* strides,
                                                        float fx, float fy, float a, float d, int n,
                                                        float scale, float offset, CropChannels ch,
                                                        float*& out) {
  constexpr PixelFormatInfo I = kFormat<F>;
  constexpr bool kPlanar = I.layout == PixelLayout::kPlanar420;
  const __m256 iota = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i k256 = _mm256_set1_epi32(256);
  const __m256i ls = _mm256_set1_epi32(strides[0]), cs = _mm256_set1_epi32(strides[1]);
  const int* yp = reinterpret_cast<const int*>(planes[0]);
  const int* up = reinterpret_cast<const int*>(planes[1]);
  const int* vp = reinterpret_cast<const int*>(kPlanar ? planes[2] : planes[1]);
  const __m256 inv = _mm256_set1_ps(1.0f / 65536.0f);
  const __m256 ky = _mm256_set1_ps(76309.0f / 65536.0f), krv = _mm256_set1_ps(104597.0f / 65536.0f);
  const __m256 kgu = _mm256_set1_ps(25675.0f / 65536.0f), kgv = _mm256_set1_ps(53279.0f / 65536.0f);
  const __m256 kbu = _mm256_set1_ps(132201.0f / 65536.0f);
  const __m256 k16 = _mm256_set1_ps(16.0f), k128 = _mm256_set1_ps(128.0f), khalf = _mm256_set1_ps(0.5f);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 jj = _mm256_add_ps(_mm256_set1_ps(static_cast<float>(j)), iota);
    const __m256 px = _mm256_fmadd_ps(jj, _mm256_set1_ps(a), _mm256_set1_ps(fx));
    const __m256 py = _mm256_fmadd_ps(jj, _mm256_set1_ps(d), _mm256_set1_ps(fy));
    const __m256i x0 = _mm256_cvttps_epi32(px), y0 = _mm256_cvttps_epi32(py);
    const __m256 sub = _mm256_set1_ps(256.0f);
    const __m256i ax = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_sub_ps(px, _mm256_cvtepi32_ps(x0)), sub, khalf));
    const __m256i ay = _mm256_cvttps_epi32(_mm256_fmadd_ps(_mm256_sub_ps(py, _mm256_cvtepi32_ps(y0)), sub, khalf));
    const __m256i nax = _mm256_sub_epi32(k256, ax), nay = _mm256_sub_epi32(k256, ay);
    const Weights4 w{_mm256_mullo_epi32(nax, nay), _mm256_mullo_epi32(ax, nay),
                     _mm256_mullo_epi32(nax, ay), _mm256_mullo_epi32(ax, ay)};
    // Luma: bytes x0 and x0 + 1 of rows y0 and y0 + 1.
    const __m256i lo = _mm256_add_epi32(_mm256_mullo_epi32(y0, ls), x0);
    const __m256i g0 = _mm256_i32gather_epi32(yp, lo, 1);
    const __m256i g1 = _mm256_i32gather_epi32(yp, _mm256_add_epi32(lo, ls), 1);
    const __m256i ym = MixShifted(w, g0, g1, _mm256_setzero_si256(), _mm256_set1_epi32(8));
    // Chroma: blocks cx0 = x0 / 2 and cx1 = (x0 + 1) / 2 (cx0 or the next one) of block rows
    // y0 / 2 and (y0 + 1) / 2.
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i cx0 = _mm256_srli_epi32(x0, 1);
    const __m256i next = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_add_epi32(x0, one), 1), cx0);  // 0 or 1
    const __m256i cy0 = _mm256_srli_epi32(y0, 1), cy1 = _mm256_srli_epi32(_mm256_add_epi32(y0, one), 1);
    const __m256i bpc = _mm256_set1_epi32(kPlanar ? 1 : 2);  // bytes per chroma block
    const __m256i co = _mm256_mullo_epi32(cx0, bpc);
    const __m256i r0 = _mm256_add_epi32(_mm256_mullo_epi32(cy0, cs), co);
    const __m256i r1 = _mm256_add_epi32(_mm256_mullo_epi32(cy1, cs), co);
    const __m256i step = _mm256_slli_epi32(_mm256_mullo_epi32(next, bpc), 3);  // bits to the next block
    // U and V: byte `u`/`v` of a block (0 in a plane of their own), the next block `step` on.
    const int ub = kPlanar ? 0 : I.u, vb = kPlanar ? 0 : I.v;
    const __m256i um = MixShifted(w, _mm256_i32gather_epi32(up, r0, 1), _mm256_i32gather_epi32(up, r1, 1),
                                  _mm256_set1_epi32(8 * ub), _mm256_add_epi32(_mm256_set1_epi32(8 * ub), step));
    const __m256i vm = MixShifted(w, _mm256_i32gather_epi32(vp, r0, 1), _mm256_i32gather_epi32(vp, r1, 1),
                                  _mm256_set1_epi32(8 * vb), _mm256_add_epi32(_mm256_set1_epi32(8 * vb), step));
    const __m256 yf = _mm256_mul_ps(_mm256_cvtepi32_ps(ym), inv);
    const __m256 uf = _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(um), inv), k128);
    const __m256 vf = _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(vm), inv), k128);
    const __m256 c = _mm256_mul_ps(_mm256_sub_ps(yf, k16), ky);
    alignas(32) float r[8], g[8], b[8];
    _mm256_store_ps(r, Level(_mm256_fmadd_ps(vf, krv, c)));
    _mm256_store_ps(g, Level(_mm256_fnmadd_ps(vf, kgv, _mm256_fnmadd_ps(uf, kgu, c))));
    _mm256_store_ps(b, Level(_mm256_fmadd_ps(uf, kbu, c)));
    for (int k = 0; k < 8; ++k) {
      const float rgb[3] = {r[k], g[k], b[k]};
      StoreNormalized(rgb, scale, offset, ch, out);
    }
  }
  return j;
}
#endif

template <PixelFormat F>
void SampleYuvInside(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
                     float offset, CropChannels ch, float* out, bool simd_slack) {
  [[maybe_unused]] constexpr PixelFormatInfo I = kFormat<F>;  // used by the AVX2 branch only
  const uint8_t* const* planes = v.planes.data();
  const int* strides = v.strides.data();
  for (int i = 0; i < out_h; ++i) {
    const float fx0 = m.a * 0.5f + m.b * (static_cast<float>(i) + 0.5f) + m.c - 0.5f;
    const float fy0 = m.d * 0.5f + m.e * (static_cast<float>(i) + 0.5f) + m.f - 0.5f;
    int j = 0;
#ifdef FG_CROP_AVX2
    if constexpr (I.layout == PixelLayout::kPlanar420 || I.layout == PixelLayout::kSemiPlanar420)
      if (simd_slack && HaveAvx2())
        j = YuvRow420Avx2<F>(planes, strides, fx0, fy0, m.a, m.d, out_w, scale, offset, ch, out);
#endif
    (void)simd_slack;
    for (; j < out_w; ++j) {
      float rgb[3];
      YuvPixel<F>(planes, strides, fx0 + static_cast<float>(j) * m.a, fy0 + static_cast<float>(j) * m.d, rgb);
      StoreNormalized(rgb, scale, offset, ch, out);
    }
  }
}

template <PixelFormat F>
void Sample(const ImageView& v, const Affine2D& m, int out_w, int out_h, float scale,
            float offset, CropChannels ch, float* out) {
  // Taps reach from floor(p) to floor(p) + 1 around each sample point p: inside when every
  // corner sample point lies in [0, w - 1) x [0, h - 1) (with a small margin for rounding).
  // slack: also 8 pixels clear of the right edge, for the gathers of YuvRow420Avx2.
  bool inside = true, slack = true;
  for (const float cy : {0.5f, static_cast<float>(out_h) - 0.5f})
    for (const float cx : {0.5f, static_cast<float>(out_w) - 0.5f}) {
      const auto p = m.Apply(cx, cy);
      const float x = p[0] - 0.5f, y = p[1] - 0.5f;
      inside &= x >= 0.01f && y >= 0.01f && x < static_cast<float>(v.width) - 1.01f &&
                y < static_cast<float>(v.height) - 1.01f;
      slack &= x < static_cast<float>(v.width) - 8.01f;
    }
  if (inside) {
    constexpr PixelFormatInfo I = kFormat<F>;
    if constexpr (I.layout == PixelLayout::kPackedRgb)
      SamplePackedInside<I.bpp, I.r, I.g, I.b>(v, m, out_w, out_h, scale, offset, ch, out);
    else if constexpr (IsYuv(F))
      SampleYuvInside<F>(v, m, out_w, out_h, scale, offset, ch, out, slack);
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
