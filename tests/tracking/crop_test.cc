// Crop sampling from every pixel format through affine maps.
#include "engine/tracking/crop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "engine/tracking/blazeface.h"

namespace fg {
namespace {

// A w x h test frame in every format, built from one RGB pattern (YUV via BT.601).
struct Frames {
  int w, h;
  std::vector<uint8_t> rgb, bgr, rgba, bgra, gray, y, uv, u, v;
  std::vector<uint8_t> vu, yuy2, uyvy, rgbx, bgrx, xrgb, xbgr;  // padding bytes 0
  std::vector<ImageView> views;
  Frames(int w_, int h_) : w(w_), h(h_) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    rgb.resize(3 * w * h), bgr.resize(3 * w * h), rgba.resize(4 * w * h), bgra.resize(4 * w * h);
    gray.resize(w * h), y.resize(w * h), uv.resize(2 * cw * ch), u.resize(cw * ch), v.resize(cw * ch);
    vu.resize(2 * cw * ch), yuy2.resize(4 * cw * h), uyvy.resize(4 * cw * h);
    rgbx.resize(4 * w * h), bgrx.resize(4 * w * h), xrgb.resize(4 * w * h), xbgr.resize(4 * w * h);
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < w; ++i) {
        const uint8_t r = static_cast<uint8_t>(7 * i + 3 * j), g = static_cast<uint8_t>(200 - 2 * i),
                      b = static_cast<uint8_t>(11 * j);
        const int k = j * w + i;
        rgb[3 * k] = r, rgb[3 * k + 1] = g, rgb[3 * k + 2] = b;
        bgr[3 * k] = b, bgr[3 * k + 1] = g, bgr[3 * k + 2] = r;
        rgba[4 * k] = r, rgba[4 * k + 1] = g, rgba[4 * k + 2] = b, rgba[4 * k + 3] = 255;
        bgra[4 * k] = b, bgra[4 * k + 1] = g, bgra[4 * k + 2] = r, bgra[4 * k + 3] = 255;
        rgbx[4 * k] = r, rgbx[4 * k + 1] = g, rgbx[4 * k + 2] = b;
        bgrx[4 * k] = b, bgrx[4 * k + 1] = g, bgrx[4 * k + 2] = r;
        xrgb[4 * k + 1] = r, xrgb[4 * k + 2] = g, xrgb[4 * k + 3] = b;
        xbgr[4 * k + 1] = b, xbgr[4 * k + 2] = g, xbgr[4 * k + 3] = r;
        gray[k] = r;
        y[k] = static_cast<uint8_t>(16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256);
      }
    for (int j = 0; j < ch; ++j)
      for (int i = 0; i < cw; ++i) {
        const int k = (2 * j) * w + 2 * i;
        const double r = rgb[3 * k], g = rgb[3 * k + 1], b = rgb[3 * k + 2];
        u[j * cw + i] = uv[2 * (j * cw + i)] = static_cast<uint8_t>(128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256);
        v[j * cw + i] = uv[2 * (j * cw + i) + 1] = static_cast<uint8_t>(128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256);
        vu[2 * (j * cw + i)] = v[j * cw + i], vu[2 * (j * cw + i) + 1] = u[j * cw + i];
      }
    // 4:2:2: chroma of each pair from its left pixel; Y0 U Y1 V (YUY2), U Y0 V Y1 (UYVY).
    for (int j = 0; j < h; ++j)
      for (int i = 0; i < cw; ++i) {
        const int k = j * w + 2 * i;
        const double r = rgb[3 * k], g = rgb[3 * k + 1], b = rgb[3 * k + 2];
        uint8_t* m2 = &yuy2[4 * (j * cw + i)];
        uint8_t* m1 = &uyvy[4 * (j * cw + i)];
        m2[0] = m1[1] = y[k];
        if (2 * i + 1 < w) m2[2] = m1[3] = y[k + 1];
        m2[1] = m1[0] = static_cast<uint8_t>(128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256);
        m2[3] = m1[2] = static_cast<uint8_t>(128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256);
      }
    auto add = [&](PixelFormat f, std::array<const uint8_t*, 3> p, std::array<int, 3> s) {
      ImageView iv;
      EXPECT_FALSE(ImageView::Wrap(f, w, h, p, s, &iv).has_value());
      views.push_back(iv);
    };
    add(PixelFormat::kRGB, {rgb.data()}, {3 * w});
    add(PixelFormat::kBGR, {bgr.data()}, {3 * w});
    add(PixelFormat::kRGBA, {rgba.data()}, {4 * w});
    add(PixelFormat::kBGRA, {bgra.data()}, {4 * w});
    add(PixelFormat::kGRAY8, {gray.data()}, {w});
    add(PixelFormat::kNV12, {y.data(), uv.data()}, {w, 2 * cw});
    add(PixelFormat::kI420, {y.data(), u.data(), v.data()}, {w, cw, cw});
    add(PixelFormat::kYUY2, {yuy2.data()}, {4 * cw});
    add(PixelFormat::kUYVY, {uyvy.data()}, {4 * cw});
    add(PixelFormat::kNV21, {y.data(), vu.data()}, {w, 2 * cw});
    add(PixelFormat::kRGBx, {rgbx.data()}, {4 * w});
    add(PixelFormat::kBGRx, {bgrx.data()}, {4 * w});
    add(PixelFormat::kxRGB, {xrgb.data()}, {4 * w});
    add(PixelFormat::kxBGR, {xbgr.data()}, {4 * w});
  }
};

// With the identity map every output pixel is exactly one frame pixel, in every format,
// equal to what ImageView::At reads (whose own conversions are tested in image_test).
TEST(Crop, IdentityMapReadsEachPixelInEveryFormat) {
  Frames fr(9, 7);  // odd sizes
  std::vector<float> out(9 * 7 * 3);
  for (const ImageView& v : fr.views) {
    SampleCrop(v, Affine2D{}, 9, 7, CropNorm::kUnit, CropChannels::kRgb, out.data());
    for (int j = 0; j < 7; ++j)
      for (int i = 0; i < 9; ++i) {
        const Rgb8 p = v.At(i, j);
        const float* o = &out[3 * (j * 9 + i)];
        EXPECT_FLOAT_EQ(o[0], p.r / 255.0f) << PixelFormatName(v.format) << " " << i << "," << j;
        EXPECT_FLOAT_EQ(o[1], p.g / 255.0f) << PixelFormatName(v.format);
        EXPECT_FLOAT_EQ(o[2], p.b / 255.0f) << PixelFormatName(v.format);
      }
  }
}

// A rotated, scaled crop wholly inside the frame (the fast fixed-point path for packed
// formats) against ImageView::Bilinear, an independent float implementation. Tolerance: one
// grey level (the fast path rounds its weights to 1/256 px; this frame has jumps of ~250
// levels between neighbours, where that rounding is worth up to half a level per axis).
TEST(Crop, InsideCropMatchesFloatBilinearInPackedFormats) {
  Frames fr(64, 48);
  const Affine2D m = Affine2D::SquareCrop(30.3f, 22.7f, 20.0f, 0.4f, 16);
  std::vector<float> out(16 * 16 * 3);
  for (const ImageView& v : fr.views) {
    if (FormatInfo(v.format).layout != PixelLayout::kPackedRgb) continue;  // RGB, BGR, RGBA, RGBx, ...
    SampleCrop(v, m, 16, 16, CropNorm::kUnit, CropChannels::kRgb, out.data());
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 16; ++j) {
        const auto p = m.Apply(j + 0.5f, i + 0.5f);
        const auto want = v.Bilinear(p[0] - 0.5f, p[1] - 0.5f);
        for (int k = 0; k < 3; ++k)
          EXPECT_NEAR(out[3 * (16 * i + j) + k] * 255, want[k], 1.0)
              << PixelFormatName(v.format) << " i=" << i << " j=" << j << " k=" << k;
      }
  }
}

// The same crop from the YUV formats against an independent float reference: each tap's Y
// and its own chroma block's U and V (as ImageView::AtAs reads them) mixed bilinearly, then
// BT.601 limited range in floating point, clipped to 0..255. The fast path mixes with 8-bit
// fixed-point weights and rounds the result to whole levels: tolerance one level. Mixing
// before converting is what the fast path promises (it differs from converting each tap,
// ImageView::Bilinear, only where a tap's colour is clipped; this frame's saturated chroma
// edges have many such taps). The padded RGB formats give exactly RGB's crop.
// Sizes 16 and 13: the 4:2:0 formats go 8 pixels at a time where the CPU has AVX2 (13 leaves
// a tail of 5 for the scalar path); the crop centred at x 30 of 63 keeps the 8 pixels of
// slack that path needs, the one at x 47 does not (scalar only).
TEST(Crop, InsideCropOfYuvAndPaddedFormats) {
  Frames fr(63, 47);  // odd: YUY2/UYVY rows end in a half-used macropixel
  for (const auto& [n, cx] : {std::pair{16, 30.3f}, std::pair{13, 30.3f}, std::pair{16, 47.0f}})
  {
  const Affine2D m = Affine2D::SquareCrop(cx, 22.7f, 20.0f, 0.4f, n);
  std::vector<float> out(n * n * 3), rgb(n * n * 3);
  SampleCrop(fr.views[0], m, n, n, CropNorm::kUnit, CropChannels::kRgb, rgb.data());
  for (const ImageView& v : fr.views) {
    SampleCrop(v, m, n, n, CropNorm::kUnit, CropChannels::kRgb, out.data());
    if (FormatInfo(v.format).layout == PixelLayout::kPackedRgb) {
      EXPECT_TRUE(out == rgb) << PixelFormatName(v.format);
      continue;
    }
    if (!IsYuv(v.format)) continue;
    // Y, U, V of pixel (x, y) from the frame's planar copies (fr.y, fr.u, fr.v for 4:2:0;
    // 4:2:2 keeps a chroma pair per two pixels of every row).
    const bool is422 = FormatInfo(v.format).layout == PixelLayout::kPackedYuv422;
    const int cw = (fr.w + 1) / 2;
    auto yuv = [&](int x, int y, double* o) {
      o[0] = fr.y[y * fr.w + x];
      if (is422) {
        const uint8_t* mp = &fr.yuy2[4 * (y * cw + x / 2)];
        o[1] = mp[1], o[2] = mp[3];
      } else {
        o[1] = fr.u[(y / 2) * cw + x / 2], o[2] = fr.v[(y / 2) * cw + x / 2];
      }
    };
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const auto p = m.Apply(j + 0.5f, i + 0.5f);
        const double fx = p[0] - 0.5, fy = p[1] - 0.5;
        const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
        const double ax = fx - x0, ay = fy - y0;
        double t00[3], t10[3], t01[3], t11[3], mix[3];
        yuv(x0, y0, t00), yuv(x0 + 1, y0, t10), yuv(x0, y0 + 1, t01), yuv(x0 + 1, y0 + 1, t11);
        for (int k = 0; k < 3; ++k)
          mix[k] = (1 - ay) * ((1 - ax) * t00[k] + ax * t10[k]) + ay * ((1 - ax) * t01[k] + ax * t11[k]);
        const double c = 1.164 * (mix[0] - 16), d = mix[1] - 128, e = mix[2] - 128;
        const double want[3] = {std::clamp(c + 1.596 * e, 0.0, 255.0),
                                std::clamp(c - 0.392 * d - 0.813 * e, 0.0, 255.0),
                                std::clamp(c + 2.017 * d, 0.0, 255.0)};
        for (int k = 0; k < 3; ++k)
          EXPECT_NEAR(out[3 * (n * i + j) + k] * 255, want[k], 1.0)
              << PixelFormatName(v.format) << " n=" << n << " cx=" << cx << " i=" << i << " j=" << j << " k=" << k;
      }
  }
  }
}


TEST(Crop, SignedNormAndGrayAndOutsideIsBlack) {
  Frames fr(4, 4);
  const ImageView& rgb = fr.views[0];
  std::vector<float> out(6 * 6);
  Affine2D shift;  // output (i, j) reads frame (i - 1, j - 1): a 1-pixel black border
  shift.c = -1;
  shift.f = -1;
  SampleCrop(rgb, shift, 6, 6, CropNorm::kSigned, CropChannels::kGray, out.data());
  EXPECT_FLOAT_EQ(out[0], -1.0f) << "outside the frame reads black";
  const Rgb8 p = rgb.At(0, 0);
  const float g = 0.2989f * p.r + 0.5870f * p.g + 0.1140f * p.b;
  EXPECT_NEAR(out[1 * 6 + 1], g / 127.5f - 1.0f, 1e-6);
}

TEST(Crop, SquareCropRotatesCounterClockwise) {
  // Lay a 2x2 output square on the centre of a 4x4 frame, rotated 90 degrees counter-
  // clockwise on screen: its top-left corner moves to the bottom-left, so output (0,0) reads
  // the bottom-left pixel of the central square.
  Frames fr(4, 4);
  const ImageView& rgb = fr.views[0];
  const float pi = std::acos(-1.0f);
  Affine2D m = Affine2D::SquareCrop(2.0f, 2.0f, 2.0f, pi / 2, 2);
  std::vector<float> out(2 * 2 * 3);
  SampleCrop(rgb, m, 2, 2, CropNorm::kUnit, CropChannels::kRgb, out.data());
  const Rgb8 tr = rgb.At(1, 2);  // bottom-left pixel of the central 2x2 square
  EXPECT_NEAR(out[0] * 255, tr.r, 1e-3);
  EXPECT_NEAR(out[1] * 255, tr.g, 1e-3);
  auto back = m.Inverse().Apply(m.Apply(0.3f, 1.7f)[0], m.Apply(0.3f, 1.7f)[1]);
  EXPECT_NEAR(back[0], 0.3f, 1e-5);
  EXPECT_NEAR(back[1], 1.7f, 1e-5);
}

TEST(Crop, LetterboxMapsFrameIntoTheSquare) {
  LetterBox lb = LetterBox::Fit(640, 480, 256);
  EXPECT_FLOAT_EQ(lb.scale, 0.4f);
  // Pads to 1e-4 px, as the mappings below: with FMA contraction (GCC's default on aarch64)
  // 256 - 640 * 0.4 comes out as -1.9e-6, not the 0 that FLOAT_EQ's 4 ULPs around zero need.
  EXPECT_NEAR(lb.pad_x, 0.0f, 1e-4);
  EXPECT_NEAR(lb.pad_y, 32.0f, 1e-4);
  auto p = lb.ToFrame().Apply(128, 32);
  EXPECT_NEAR(p[0], 320, 1e-4);
  EXPECT_NEAR(p[1], 0, 1e-4);
  Detection d;
  d.box = {100, 60, 40, 40};
  Detection f = lb.MapToFrame(d);
  EXPECT_NEAR(f.box.x, 250, 1e-3);
  EXPECT_NEAR(f.box.y, 70, 1e-3);
  EXPECT_NEAR(f.box.w, 100, 1e-3);
}

}  // namespace
}  // namespace fg
