// ImageView: layout validation, per-format pixel access (odd sizes, padded strides), bilinear.
#include "engine/image.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace fg {
namespace {

TEST(ImageView, RejectsBadLayoutsWithAReason) {
  std::vector<uint8_t> buf(100);
  ImageView v;
  auto err = ImageView::Wrap(PixelFormat::kRGB, 10, 2, {buf.data()}, {29}, &v);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("stride of plane 0 is 29"), std::string::npos) << *err;
  EXPECT_NE(err->find("(30)"), std::string::npos) << *err;
  err = ImageView::Wrap(PixelFormat::kNV12, 4, 4, {buf.data(), nullptr}, {4, 4}, &v);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("plane 1 is null"), std::string::npos) << *err;
  err = ImageView::Wrap(PixelFormat::kGRAY8, 0, 4, {buf.data()}, {4}, &v);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("not positive"), std::string::npos) << *err;
  EXPECT_FALSE(ImageView::Wrap(PixelFormat::kGRAY8, 4, 4, {buf.data()}, {7}, &v).has_value());
}

TEST(ImageView, FormatNamesRoundTrip) {
  for (auto f : {PixelFormat::kRGB, PixelFormat::kBGR, PixelFormat::kRGBA, PixelFormat::kBGRA,
                 PixelFormat::kGRAY8, PixelFormat::kNV12, PixelFormat::kI420})
    EXPECT_EQ(PixelFormatFromName(PixelFormatName(f)), f);
  EXPECT_FALSE(PixelFormatFromName("yuy2").has_value());
}

// Packed formats at an odd width with a padded stride: each pixel reads back its own value.
TEST(ImageView, PackedFormatsOddWidthPaddedStride) {
  const int w = 5, h = 3;
  struct Case { PixelFormat f; int bpp; int r, g, b; };
  for (Case c : {Case{PixelFormat::kRGB, 3, 0, 1, 2}, Case{PixelFormat::kBGR, 3, 2, 1, 0},
                 Case{PixelFormat::kRGBA, 4, 0, 1, 2}, Case{PixelFormat::kBGRA, 4, 2, 1, 0}}) {
    const int stride = w * c.bpp + 7;  // padded
    std::vector<uint8_t> buf(stride * h, 0xEE);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        uint8_t* p = &buf[y * stride + x * c.bpp];
        p[c.r] = static_cast<uint8_t>(10 * x + y);
        p[c.g] = static_cast<uint8_t>(100 + x);
        p[c.b] = static_cast<uint8_t>(200 + y);
      }
    ImageView v;
    ASSERT_FALSE(ImageView::Wrap(c.f, w, h, {buf.data()}, {stride}, &v).has_value());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        Rgb8 p = v.At(x, y);
        EXPECT_EQ(p.r, 10 * x + y) << PixelFormatName(c.f) << " x=" << x << " y=" << y;
        EXPECT_EQ(p.g, 100 + x) << PixelFormatName(c.f);
        EXPECT_EQ(p.b, 200 + y) << PixelFormatName(c.f);
      }
  }
}

// BT.601 limited range: Y=81 U=90 V=240 is pure red, Y=145 U=54 V=34 pure green,
// Y=41 U=240 V=110 pure blue (standard table values); tolerance 2 levels for rounding.
TEST(ImageView, YuvFormatsConvertBt601AndIndexChromaForOddSizes) {
  const int w = 3, h = 3;  // odd: chroma is 2x2
  struct Yuv { uint8_t y, u, v; Rgb8 rgb; };
  const Yuv red{81, 90, 240, {255, 0, 0}}, green{145, 54, 34, {0, 255, 0}},
      blue{41, 240, 110, {0, 0, 255}}, white{235, 128, 128, {255, 255, 255}};
  const Yuv blocks[2][2] = {{red, green}, {blue, white}};  // chroma block (bx, by)
  auto expect_near = [](Rgb8 got, Rgb8 want, const char* fmt, int x, int y) {
    EXPECT_LE(std::abs(got.r - want.r), 2) << fmt << " x=" << x << " y=" << y;
    EXPECT_LE(std::abs(got.g - want.g), 2) << fmt << " x=" << x << " y=" << y;
    EXPECT_LE(std::abs(got.b - want.b), 2) << fmt << " x=" << x << " y=" << y;
  };
  // NV12 with padded strides.
  const int ys = 8, uvs = 6;
  std::vector<uint8_t> yp(ys * h), uv(uvs * 2);
  std::vector<uint8_t> u(5 * 2), vv(5 * 2);  // I420 chroma, stride 5
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) yp[y * ys + x] = blocks[y / 2][x / 2].y;
  for (int by = 0; by < 2; ++by)
    for (int bx = 0; bx < 2; ++bx) {
      uv[by * uvs + 2 * bx] = blocks[by][bx].u;
      uv[by * uvs + 2 * bx + 1] = blocks[by][bx].v;
      u[by * 5 + bx] = blocks[by][bx].u;
      vv[by * 5 + bx] = blocks[by][bx].v;
    }
  ImageView nv12, i420;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kNV12, w, h, {yp.data(), uv.data()}, {ys, uvs}, &nv12));
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kI420, w, h, {yp.data(), u.data(), vv.data()}, {ys, 5, 5}, &i420));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      expect_near(nv12.At(x, y), blocks[y / 2][x / 2].rgb, "nv12", x, y);
      expect_near(i420.At(x, y), blocks[y / 2][x / 2].rgb, "i420", x, y);
    }
}

TEST(ImageView, GrayAndBilinear) {
  const uint8_t px[4] = {0, 100, 50, 150};  // 2x2
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kGRAY8, 2, 2, {px}, {2}, &v));
  EXPECT_EQ(v.At(1, 0).g, 100);
  auto mid = v.Bilinear(0.5f, 0.5f);
  EXPECT_FLOAT_EQ(mid[0], 75.0f);
  auto edge = v.Bilinear(1.0f, 0.25f);  // right column: 100 -> 150
  EXPECT_FLOAT_EQ(edge[1], 112.5f);
  auto outside = v.Bilinear(-5.0f, 9.0f);  // clamps to (0,1)
  EXPECT_FLOAT_EQ(outside[2], 50.0f);
}

}  // namespace
}  // namespace fg
