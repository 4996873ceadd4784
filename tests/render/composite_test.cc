// Composition into frames: WriteRgba puts colours into every engine format (read back with
// ImageView::At: exact for the packed RGB formats, the BT.601 luma for GRAY8, within 3
// levels for YUV (4:2:0 and 4:2:2) after the limited-range round trip), leaves alpha-0 pixels,
// padding bytes (RGBx, ...), the unwritten pixel of a YUY2/UYVY pair and row padding alone, clips at every edge; the layouts put the panel where the README says; the shrunk
// video of side-by-side is the 2x2 mean of the original.
#include <gtest/gtest.h>

#include "engine/render/composite.h"
#include "tests/draw/draw_test_util.h"

namespace fg::render {
namespace {

using draw::testing::AllFormats;
using draw::testing::Describe;
using draw::testing::Frame;
using draw::testing::kBackground;

// A w x h panel: a colour block at [2, 8) x [1, 5) (alpha 255), the rest alpha 0.
RgbaImage Panel(std::array<uint8_t, 3> c) {
  RgbaImage p;
  p.Resize(10, 6);
  p.Fill({0, 0, 0, 0});
  for (int y = 1; y < 5; ++y)
    for (int x = 2; x < 8; ++x) {
      uint8_t* o = p.Row(y) + 4 * x;
      o[0] = c[0], o[1] = c[1], o[2] = c[2], o[3] = 255;
    }
  return p;
}

TEST(Composite, WriteRgbaInEveryFormat) {
  const std::array<uint8_t, 3> c{200, 60, 30};
  const RgbaImage panel = Panel(c);
  for (PixelFormat f : AllFormats()) {
    for (auto [x0, y0] : {std::pair{3, 4}, {4, 5}, {-4, -2}, {17, 13}}) {  // odd, even, clipped
      Frame frame(f, 21, 17);
      WriteRgba(panel, frame.img, x0, y0);
      const ImageView v = frame.img.view();
      for (int y = 0; y < 17; ++y)
        for (int x = 0; x < 21; ++x) {
          const int px = x - x0, py = y - y0;
          const bool in = px >= 2 && px < 8 && py >= 1 && py < 5;
          if (!in) {
            ASSERT_TRUE(frame.Untouched(x, y)) << Describe(f, 21, 17) << " at " << x << "," << y;
            continue;
          }
          const Rgb8 got = v.At(x, y);
          if (f == PixelFormat::kGRAY8) {
            const int luma = (77 * c[0] + 150 * c[1] + 29 * c[2] + 128) >> 8;
            ASSERT_EQ(got.r, luma) << x << "," << y;
          } else if (IsYuv(f)) {
            // Chroma blocks on the block's border mix in the old background chroma only
            // where the block holds no written pixel: interior blocks are the colour.
            if (px >= 4 && px < 6 && py >= 2 && py < 3) {
              ASSERT_NEAR(got.r, c[0], 3) << Describe(f, 21, 17) << " " << x << "," << y;
              ASSERT_NEAR(got.g, c[1], 3);
              ASSERT_NEAR(got.b, c[2], 3);
            }
          } else {
            ASSERT_EQ(got.r, c[0]);
            ASSERT_EQ(got.g, c[1]);
            ASSERT_EQ(got.b, c[2]);
            const PixelFormatInfo& info = FormatInfo(f);
            if (info.x >= 0 && !info.alpha) {  // padding byte kept
              ASSERT_EQ(frame.planes[0][static_cast<size_t>(y) * frame.strides[0] + info.bpp * x + info.x],
                        kBackground) << Describe(f, 21, 17) << " " << x << "," << y;
            }
          }
        }
      EXPECT_TRUE(frame.GuardsIntact()) << Describe(f, 21, 17);
    }
  }
}

TEST(Composite, Layouts) {
  const Layout r = ComputeLayout(CompositeMode::kReplace, 640, 480);
  EXPECT_EQ(r.panel.w, 640);
  EXPECT_EQ(r.panel.h, 480);
  const Layout s = ComputeLayout(CompositeMode::kSideBySide, 641, 480);
  EXPECT_EQ(s.panel.x, 320);
  EXPECT_EQ(s.panel.w, 321);
  EXPECT_EQ(s.video.w, 320);
  EXPECT_EQ(s.video.h, 240);
  EXPECT_EQ(s.video.y, 120);  // centred vertically
  const Layout p = ComputeLayout(CompositeMode::kPip, 640, 480, 0.25f);
  EXPECT_EQ(p.panel.w, 160);
  EXPECT_EQ(p.panel.h, 120);
  EXPECT_EQ(p.panel.x + p.panel.w, 640 - 12);  // 2% margin on the right
  EXPECT_EQ(p.panel.y, 9);
}

TEST(Composite, ShrinkVideoIsTheTwoByTwoMean) {
  // 8x6 RGB frame with pixel value (x * 10, y * 20, 7).
  std::vector<uint8_t> px(8 * 6 * 3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x) {
      px[(y * 8 + x) * 3] = static_cast<uint8_t>(x * 10);
      px[(y * 8 + x) * 3 + 1] = static_cast<uint8_t>(y * 20);
      px[(y * 8 + x) * 3 + 2] = 7;
    }
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, 8, 6, {px.data(), nullptr, nullptr}, {24, 0, 0}, &v));
  const Layout l = ComputeLayout(CompositeMode::kSideBySide, 8, 6);
  RgbaImage out;
  ShrinkVideo(v, l, {1, 2, 3, 255}, &out);
  ASSERT_EQ(out.width, 4);
  ASSERT_EQ(out.height, 6);
  // Video rows 2..4 (3 rows, 6/2), bars above and below.
  EXPECT_EQ(out.Row(0)[0], 1);
  EXPECT_EQ(out.Row(5)[2], 3);
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 4; ++i) {
      const uint8_t* o = out.Row(l.video.y + j) + 4 * i;
      EXPECT_EQ(o[0], (2 * i * 10 + (2 * i + 1) * 10 + 1) / 2) << i << "," << j;  // mean of x
      EXPECT_EQ(o[1], (2 * j * 20 + (2 * j + 1) * 20 + 1) / 2);
      EXPECT_EQ(o[2], 7);
      EXPECT_EQ(o[3], 255);
    }
}

// NV12/NV21/I420 shrink: each output pixel is one 2x2 luma block with its chroma sample, converted
// once: a frame of Y = 16 + 2x (x = column), U 90, V 170 shrinks to YuvToRgb(mean Y, 90, 170).
TEST(Composite, ShrinkVideoYuv) {
  for (PixelFormat f : {PixelFormat::kNV12, PixelFormat::kNV21, PixelFormat::kI420}) {
    const int w = 8, h = 4;
    std::vector<uint8_t> y(w * h), c1, c2;
    for (int r = 0; r < h; ++r)
      for (int x = 0; x < w; ++x) y[r * w + x] = static_cast<uint8_t>(16 + 2 * x);
    std::array<const uint8_t*, 3> planes{y.data(), nullptr, nullptr};
    std::array<int, 3> strides{w, 0, 0};
    if (f == PixelFormat::kNV12 || f == PixelFormat::kNV21) {
      const bool u_first = f == PixelFormat::kNV12;
      for (int i = 0; i < w / 2 * h / 2; ++i) c1.push_back(u_first ? 90 : 170), c1.push_back(u_first ? 170 : 90);
      planes[1] = c1.data();
      strides[1] = w;
    } else {
      c1.assign(w / 2 * h / 2, 90);
      c2.assign(w / 2 * h / 2, 170);
      planes[1] = c1.data();
      planes[2] = c2.data();
      strides[1] = strides[2] = w / 2;
    }
    ImageView v;
    ASSERT_FALSE(ImageView::Wrap(f, w, h, planes, strides, &v));
    const Layout l = ComputeLayout(CompositeMode::kSideBySide, w, h);
    RgbaImage out;
    ShrinkVideo(v, l, {0, 0, 0, 255}, &out);
    for (int i = 0; i < l.video.w; ++i) {
      const int mean_y = 16 + 2 * (2 * i) + 1;  // (16+4i) and (18+4i), twice each, rounded
      const Rgb8 want = detail::YuvToRgb(mean_y, 90, 170);
      const uint8_t* o = out.Row(l.video.y) + 4 * i;
      EXPECT_EQ(o[0], want.r) << PixelFormatName(f) << " " << i;
      EXPECT_EQ(o[1], want.g);
      EXPECT_EQ(o[2], want.b);
    }
  }
}

TEST(Composite, FrameCopyDropsPaddingAndKeepsPixels) {
  for (PixelFormat f : AllFormats()) {
    Frame frame(f, 13, 7);
    FrameCopy copy;
    copy.Assign(frame.img.view());
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 13; ++x) {
        const Rgb8 a = frame.img.view().At(x, y), b = copy.view().At(x, y);
        ASSERT_EQ(a.r, b.r);
        ASSERT_EQ(a.g, b.g);
        ASSERT_EQ(a.b, b.b);
      }
    EXPECT_EQ(copy.view().strides[0], ImageView::MinStride(f, 13, 0)) << Describe(f, 13, 7);
    (void)kBackground;
  }
}

}  // namespace
}  // namespace fg::render
