// ImageView: layout validation, per-format pixel access (odd sizes, padded strides), bilinear,
// and the format table (engine/pixel_format.h). Byte layouts here are written out by hand, not
// through the table, so a wrong offset in a table row fails a read-back.
#include "engine/image.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <iterator>
#include <string>
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
  EXPECT_FALSE(PixelFormatFromName("p010").has_value());
  for (const PixelFormatInfo& info : kPixelFormats) {
    EXPECT_EQ(PixelFormatFromName(info.name), info.format) << info.name;
    EXPECT_EQ(&FormatInfo(info.format), &info) << info.name;
  }
}

// The layout rule of every format at an odd width (5) and height (3): bytes of each plane's
// row and rows of each plane (what GStreamer allocates for the same caps).
TEST(ImageView, MinStrideAndPlaneRowsOfEveryFormat) {
  struct Case { PixelFormat f; int planes; std::array<int, 3> stride, rows; };
  const Case cases[] = {
      {PixelFormat::kRGB, 1, {15, 0, 0}, {3, 0, 0}},   {PixelFormat::kBGR, 1, {15, 0, 0}, {3, 0, 0}},
      {PixelFormat::kRGBA, 1, {20, 0, 0}, {3, 0, 0}},  {PixelFormat::kBGRA, 1, {20, 0, 0}, {3, 0, 0}},
      {PixelFormat::kRGBx, 1, {20, 0, 0}, {3, 0, 0}},  {PixelFormat::kBGRx, 1, {20, 0, 0}, {3, 0, 0}},
      {PixelFormat::kxRGB, 1, {20, 0, 0}, {3, 0, 0}},  {PixelFormat::kxBGR, 1, {20, 0, 0}, {3, 0, 0}},
      {PixelFormat::kGRAY8, 1, {5, 0, 0}, {3, 0, 0}},  {PixelFormat::kNV12, 2, {5, 6, 0}, {3, 2, 0}},
      {PixelFormat::kNV21, 2, {5, 6, 0}, {3, 2, 0}},   {PixelFormat::kI420, 3, {5, 3, 3}, {3, 2, 2}},
      {PixelFormat::kYUY2, 1, {12, 0, 0}, {3, 0, 0}},  {PixelFormat::kUYVY, 1, {12, 0, 0}, {3, 0, 0}},
  };
  EXPECT_EQ(std::size(cases), static_cast<size_t>(kPixelFormatCount));
  for (const Case& c : cases) {
    EXPECT_EQ(PlaneCount(c.f), c.planes) << PixelFormatName(c.f);
    for (int p = 0; p < c.planes; ++p) {
      EXPECT_EQ(ImageView::MinStride(c.f, 5, p), c.stride[p]) << PixelFormatName(c.f) << " plane " << p;
      EXPECT_EQ(ImageView::PlaneRows(c.f, 3, p), c.rows[p]) << PixelFormatName(c.f) << " plane " << p;
    }
  }
}

// Errors name the format, the plane and the numbers; an odd-width YUY2/UYVY row that stops
// after the last pixel's 2 bytes says the whole pair is needed.
TEST(ImageView, NewFormatsRejectBadLayoutsWithAReason) {
  std::vector<uint8_t> buf(200);
  ImageView v;
  for (PixelFormat f : {PixelFormat::kYUY2, PixelFormat::kUYVY}) {
    auto err = ImageView::Wrap(f, 5, 2, {buf.data()}, {10}, &v);
    ASSERT_TRUE(err.has_value()) << PixelFormatName(f);
    EXPECT_NE(err->find(std::string("image ") + std::string(PixelFormatName(f)) + " 5x2: stride of plane 0 is 10 bytes, less than one row (12)"),
              std::string::npos) << *err;
    EXPECT_NE(err->find("odd width needs the whole last pair"), std::string::npos) << *err;
    EXPECT_FALSE(ImageView::Wrap(f, 5, 2, {buf.data()}, {12}, &v).has_value());
    EXPECT_FALSE(ImageView::Wrap(f, 5, 2, {buf.data()}, {17}, &v).has_value());  // padded, odd
    err = ImageView::Wrap(f, 4, 2, {buf.data()}, {7}, &v);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->find("odd width"), std::string::npos) << *err;  // even width: just short
    EXPECT_NE(err->find("(8)"), std::string::npos) << *err;
  }
  auto err = ImageView::Wrap(PixelFormat::kNV21, 4, 4, {buf.data(), nullptr}, {4, 4}, &v);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("image nv21: plane 1 is null"), std::string::npos) << *err;
  err = ImageView::Wrap(PixelFormat::kNV21, 5, 3, {buf.data(), buf.data()}, {5, 5}, &v);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("stride of plane 1 is 5 bytes, less than one row (6)"), std::string::npos) << *err;
  for (PixelFormat f : {PixelFormat::kRGBx, PixelFormat::kBGRx, PixelFormat::kxRGB, PixelFormat::kxBGR}) {
    err = ImageView::Wrap(f, 5, 2, {buf.data()}, {19}, &v);
    ASSERT_TRUE(err.has_value()) << PixelFormatName(f);
    EXPECT_NE(err->find("is 19 bytes, less than one row (20)"), std::string::npos) << *err;
  }
  err = ImageView::Wrap(static_cast<PixelFormat>(kPixelFormatCount), 4, 4, {buf.data()}, {64}, &v);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("unknown pixel format"), std::string::npos) << *err;
}

// Packed formats at an odd width with a padded stride: each pixel reads back its own value.
TEST(ImageView, PackedFormatsOddWidthPaddedStride) {
  const int w = 5, h = 3;
  struct Case { PixelFormat f; int bpp; int r, g, b; };
  for (Case c : {Case{PixelFormat::kRGB, 3, 0, 1, 2}, Case{PixelFormat::kBGR, 3, 2, 1, 0},
                 Case{PixelFormat::kRGBA, 4, 0, 1, 2}, Case{PixelFormat::kBGRA, 4, 2, 1, 0},
                 Case{PixelFormat::kRGBx, 4, 0, 1, 2}, Case{PixelFormat::kBGRx, 4, 2, 1, 0},
                 Case{PixelFormat::kxRGB, 4, 1, 2, 3}, Case{PixelFormat::kxBGR, 4, 3, 2, 1}}) {
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
  std::vector<uint8_t> yp(ys * h), uv(uvs * 2), vu(uvs * 2);  // NV21: V first
  std::vector<uint8_t> u(5 * 2), vv(5 * 2);  // I420 chroma, stride 5
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) yp[y * ys + x] = blocks[y / 2][x / 2].y;
  for (int by = 0; by < 2; ++by)
    for (int bx = 0; bx < 2; ++bx) {
      uv[by * uvs + 2 * bx] = blocks[by][bx].u;
      uv[by * uvs + 2 * bx + 1] = blocks[by][bx].v;
      vu[by * uvs + 2 * bx] = blocks[by][bx].v;
      vu[by * uvs + 2 * bx + 1] = blocks[by][bx].u;
      u[by * 5 + bx] = blocks[by][bx].u;
      vv[by * 5 + bx] = blocks[by][bx].v;
    }
  ImageView nv12, i420, nv21;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kNV12, w, h, {yp.data(), uv.data()}, {ys, uvs}, &nv12));
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kNV21, w, h, {yp.data(), vu.data()}, {ys, uvs}, &nv21));
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kI420, w, h, {yp.data(), u.data(), vv.data()}, {ys, 5, 5}, &i420));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      expect_near(nv12.At(x, y), blocks[y / 2][x / 2].rgb, "nv12", x, y);
      expect_near(i420.At(x, y), blocks[y / 2][x / 2].rgb, "i420", x, y);
      expect_near(nv21.At(x, y), blocks[y / 2][x / 2].rgb, "nv21", x, y);
    }
}

// Packed 4:2:2 at an odd width (5: three macropixels, the last one's Y1 unused) with a padded
// stride: each pixel reads its own Y and its pair's U/V; the unused Y1 (poisoned) is never read.
TEST(ImageView, PackedYuv422OddWidthPaddedStride) {
  const int w = 5, h = 2, stride = 12 + 6;
  struct Yuv { uint8_t y, u, v; Rgb8 rgb; };
  const Yuv red{81, 90, 240, {255, 0, 0}}, green{145, 54, 34, {0, 255, 0}},
      blue{41, 240, 110, {0, 0, 255}};
  const Yuv pairs[2][3] = {{red, green, blue}, {blue, red, green}};  // chroma of pair (x / 2, y)
  auto luma = [&](int x, int y) { return static_cast<uint8_t>(pairs[y][x / 2].y + (x % 2 ? 3 : 0)); };
  struct Order { PixelFormat f; int y0, u, y1, v; };
  for (Order o : {Order{PixelFormat::kYUY2, 0, 1, 2, 3}, Order{PixelFormat::kUYVY, 1, 0, 3, 2}}) {
    std::vector<uint8_t> buf(stride * h, 0xEE);
    for (int y = 0; y < h; ++y)
      for (int m = 0; m < 3; ++m) {
        uint8_t* p = &buf[y * stride + 4 * m];
        p[o.u] = pairs[y][m].u, p[o.v] = pairs[y][m].v;
        p[o.y0] = luma(2 * m, y);
        p[o.y1] = 2 * m + 1 < w ? luma(2 * m + 1, y) : 0;  // poison: would read as a dark pixel
      }
    ImageView v;
    ASSERT_FALSE(ImageView::Wrap(o.f, w, h, {buf.data()}, {stride}, &v));
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const Yuv& c = pairs[y][x / 2];
        const Rgb8 want = detail::YuvToRgb(luma(x, y), c.u, c.v);
        const Rgb8 got = v.At(x, y);
        EXPECT_TRUE(got.r == want.r && got.g == want.g && got.b == want.b)
            << PixelFormatName(o.f) << " x=" << x << " y=" << y;
        if (x % 2 == 0) {  // the pair's own luma: the named colour within 2 levels
          EXPECT_LE(std::abs(got.r - c.rgb.r), 2) << PixelFormatName(o.f) << " x=" << x;
          EXPECT_LE(std::abs(got.g - c.rgb.g), 2) << PixelFormatName(o.f) << " x=" << x;
          EXPECT_LE(std::abs(got.b - c.rgb.b), 2) << PixelFormatName(o.f) << " x=" << x;
        }
      }
    // Bilinear at the right edge clamps to the last real pixel, never the unused Y1.
    const auto edge = v.Bilinear(10.0f, 0.0f);
    const Rgb8 last = v.At(w - 1, 0);
    EXPECT_FLOAT_EQ(edge[0], last.r) << PixelFormatName(o.f);
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
