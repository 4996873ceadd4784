// engine/draw/canvas.h: every primitive in every pixel format, against a plain reference
// mask, with odd sizes, clipping at each edge and wild coordinates. Nothing outside the
// frame may be written: planes are exact-size heap blocks (ASan) and rows carry guards.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <tuple>

#include "engine/draw/canvas.h"
#include "tests/draw/draw_test_util.h"

namespace fg::draw {
namespace {

using testing::AllFormats;
using testing::Describe;
using testing::Frame;
using testing::WhitePen;

using Mask = std::vector<bool>;

Mask MaskOf(int w, int h, const std::function<bool(int, int)>& inside) {
  Mask m(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m[static_cast<size_t>(y) * w + x] = inside(x, y);
  return m;
}

// The reference Bresenham walk (unclipped), for lines whose ends are inside the frame.
Mask LineMask(int w, int h, int x0, int y0, int x1, int y1, int t) {
  Mask m(static_cast<size_t>(w) * h);
  const int lo = -(t - 1) / 2, hi = t / 2;
  int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1,
      sy = y0 < y1 ? 1 : -1, err = dx + dy;
  for (;;) {
    for (int oy = lo; oy <= hi; ++oy)
      for (int ox = lo; ox <= hi; ++ox) {
        const int x = x0 + ox, y = y0 + oy;
        if (x >= 0 && x < w && y >= 0 && y < h) m[static_cast<size_t>(y) * w + x] = true;
      }
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
  return m;
}

class CanvasTest : public ::testing::TestWithParam<std::tuple<PixelFormat, int, int>> {
 protected:
  PixelFormat f() const { return std::get<0>(GetParam()); }
  int w() const { return std::get<1>(GetParam()); }
  int h() const { return std::get<2>(GetParam()); }
};

TEST_P(CanvasTest, PointSetsExactlyOnePixelAndIgnoresOutside) {
  for (int y = -1; y <= h(); ++y)
    for (int x = -1; x <= w(); ++x) {
      Frame fr(f(), w(), h());
      const Pen pen = WhitePen(f());
      Point(fr.img, pen, x, y);
      const std::string diff = fr.Check(pen, MaskOf(w(), h(), [&](int px, int py) {
        return px == x && py == y;
      }));
      ASSERT_EQ(diff, "") << Describe(f(), w(), h()) << " point (" << x << "," << y << ")";
    }
}

TEST_P(CanvasTest, FillRectClippedAtEveryEdge) {
  // Corners inside, on and past every edge, in both orders.
  const int xs[] = {-1000, -1, 0, 1, w() / 2, w() - 2, w() - 1, w(), w() + 1000};
  const int ys[] = {-1000, -1, 0, 1, h() / 2, h() - 2, h() - 1, h(), h() + 1000};
  for (int x0 : xs)
    for (int x1 : xs)
      for (int y0 : {ys[0], ys[2], ys[4], ys[6], ys[8]})
        for (int y1 : {ys[1], ys[3], ys[5], ys[7]}) {
          Frame fr(f(), w(), h());
          const Pen pen = WhitePen(f());
          FillRect(fr.img, pen, x0, y0, x1, y1);
          const std::string diff = fr.Check(pen, MaskOf(w(), h(), [&](int x, int y) {
            return x >= std::min(x0, x1) && x <= std::max(x0, x1) && y >= std::min(y0, y1) &&
                   y <= std::max(y0, y1);
          }));
          ASSERT_EQ(diff, "") << Describe(f(), w(), h()) << " rect " << x0 << "," << y0
                              << " - " << x1 << "," << y1;
        }
}

TEST_P(CanvasTest, RectOutlineDrawsInwards) {
  for (int t = 1; t <= 3; ++t)
    for (int x : {-3, 0, 2})
      for (int y : {-2, 0, 1}) {
        const int rw = w() + 1, rh = h();
        Frame fr(f(), w(), h());
        const Pen pen = WhitePen(f());
        Rect(fr.img, pen, x, y, rw, rh, t);
        const int tt = std::min({t, rw, rh});
        const std::string diff = fr.Check(pen, MaskOf(w(), h(), [&](int px, int py) {
          const bool in = px >= x && px < x + rw && py >= y && py < y + rh;
          const bool inner = px >= x + tt && px < x + rw - tt && py >= y + tt && py < y + rh - tt;
          return in && !inner;
        }));
        ASSERT_EQ(diff, "") << Describe(f(), w(), h()) << " rect at " << x << "," << y
                            << " thickness " << t;
      }
}

TEST_P(CanvasTest, LinesInsideMatchBresenham) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> rx(0, w() - 1), ry(0, h() - 1);
  for (int i = 0; i < 60; ++i) {
    const int x0 = rx(rng), y0 = ry(rng), x1 = rx(rng), y1 = ry(rng), t = 1 + i % 3;
    Frame fr(f(), w(), h());
    const Pen pen = WhitePen(f());
    Line(fr.img, pen, x0, y0, x1, y1, t);
    ASSERT_EQ(fr.Check(pen, LineMask(w(), h(), x0, y0, x1, y1, t)), "")
        << Describe(f(), w(), h()) << " line " << x0 << "," << y0 << " - " << x1 << "," << y1
        << " t " << t;
  }
}

TEST_P(CanvasTest, LinesPastTheEdgesAreClipped) {
  // Axis-aligned lines far past both ends cover exactly their row / column.
  for (int t = 1; t <= 3; ++t) {
    const int lo = -(t - 1) / 2, hi = t / 2;
    const int ry = h() / 2, cx = w() / 2;
    Frame row(f(), w(), h());
    const Pen pen = WhitePen(f());
    Line(row.img, pen, -100000, ry, 100000 + w(), ry, t);
    ASSERT_EQ(row.Check(pen, MaskOf(w(), h(), [&](int, int y) { return y >= ry + lo && y <= ry + hi; })), "")
        << Describe(f(), w(), h()) << " row, t " << t;
    Frame col(f(), w(), h());
    Line(col.img, pen, cx, 1 << 29, cx, -(1 << 29), t);
    ASSERT_EQ(col.Check(pen, MaskOf(w(), h(), [&](int x, int) { return x >= cx + lo && x <= cx + hi; })), "")
        << Describe(f(), w(), h()) << " column, t " << t;
  }
  // Lines entirely outside draw nothing.
  Frame none(f(), w(), h());
  const Pen pen = WhitePen(f());
  Line(none.img, pen, -10, -10, -10 - w(), h() + 50, 3);
  Line(none.img, pen, w() + 3, -5, w() + 3, h() + 5, 3);
  Line(none.img, pen, -5, h() + 2, w() + 5, h() + 2, 1);
  ASSERT_EQ(none.Check(pen, Mask(static_cast<size_t>(w()) * h())), "") << Describe(f(), w(), h());
}

TEST_P(CanvasTest, FillCircleIsTheDiscEvenWhenClipped) {
  for (int r : {0, 1, 2, 5, 40})
    for (int cx : {-3, 0, w() / 2, w() - 1, w() + 2})
      for (int cy : {-2, 0, h() / 2, h() - 1, h() + 1}) {
        Frame fr(f(), w(), h());
        const Pen pen = WhitePen(f());
        FillCircle(fr.img, pen, cx, cy, r);
        const double rr = (r + 0.5) * (r + 0.5);
        const std::string diff = fr.Check(pen, MaskOf(w(), h(), [&](int x, int y) {
          return double(x - cx) * (x - cx) + double(y - cy) * (y - cy) <= rr;
        }));
        ASSERT_EQ(diff, "") << Describe(f(), w(), h()) << " disc " << cx << "," << cy << " r " << r;
      }
}

TEST_P(CanvasTest, CircleOutlineStaysOnTheRing) {
  for (int r : {0, 1, 3, 7})
    for (int cx : {-1, w() / 2, w()})
      for (int cy : {0, h() / 2}) {
        Frame fr(f(), w(), h());
        const Pen pen = WhitePen(f());
        Circle(fr.img, pen, cx, cy, r);
        for (int y = 0; y < h(); ++y)
          for (int x = 0; x < w(); ++x)
            if (fr.Painted(pen, x, y)) {
              const double d = std::hypot(x - cx, y - cy);
              ASSERT_LE(std::abs(d - r), 1.0) << Describe(f(), w(), h()) << " (" << x << "," << y << ")";
            }
        // Points on the axes are on every midpoint circle.
        if (cx >= 0 && cx < w() && cy + r < h()) {
          EXPECT_TRUE(fr.Painted(pen, cx, cy + r));
        }
        ASSERT_TRUE(fr.GuardsIntact());
      }
}

TEST_P(CanvasTest, WildCoordinatesNeverWriteOutside) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> wild(-(1 << 30), 1 << 30);
  std::uniform_int_distribution<int> near(-20, 60);
  Frame fr(f(), w(), h());
  const Pen pen = Pen::Make(f(), Color{10, 200, 30, 128});
  for (int i = 0; i < 400; ++i) {
    auto c = [&] { return i % 2 ? wild(rng) : near(rng); };
    switch (i % 6) {
      case 0: Line(fr.img, pen, c(), c(), c(), c(), 1 + i % 3); break;
      case 1: FillRect(fr.img, pen, c(), c(), c(), c()); break;
      case 2: Rect(fr.img, pen, near(rng), near(rng), c() & 0xffff, c() & 0xffff, 1 + i % 3); break;
      case 3: FillCircle(fr.img, pen, c(), c(), near(rng)); break;
      case 4: Circle(fr.img, pen, c(), c(), near(rng) + 20); break;
      case 5: Point(fr.img, pen, c(), c()); break;
    }
  }
  EXPECT_TRUE(fr.GuardsIntact()) << Describe(f(), w(), h());
}

INSTANTIATE_TEST_SUITE_P(
    AllFormats, CanvasTest,
    ::testing::Combine(::testing::ValuesIn(AllFormats()), ::testing::Values(1, 7, 32),
                       ::testing::Values(1, 5, 18)),
    [](const auto& info) {
      return std::string(PixelFormatName(std::get<0>(info.param))) + "_" +
             std::to_string(std::get<1>(info.param)) + "x" + std::to_string(std::get<2>(info.param));
    });

TEST(Pen, ColoursRoundTripThroughTheFormats) {
  for (PixelFormat f : AllFormats())
    for (Color c : {Color{255, 0, 0, 255}, Color{0, 255, 0, 255}, Color{0, 0, 255, 255},
                    Color{255, 255, 255, 255}, Color{0, 0, 0, 255}, Color{90, 140, 200, 255}}) {
      Frame fr(f, 3, 3);
      const Pen pen = Pen::Make(f, c);
      Point(fr.img, pen, 1, 1);
      const Rgb8 got = fr.img.view().At(1, 1);
      if (f == PixelFormat::kGRAY8) {
        const int grey = (77 * c.r + 150 * c.g + 29 * c.b + 128) >> 8;
        EXPECT_EQ(got.r, grey);
        continue;
      }
      const int tol = IsYuv(f) ? 3 : 0;
      EXPECT_NEAR(got.r, c.r, tol) << PixelFormatName(f);
      EXPECT_NEAR(got.g, c.g, tol) << PixelFormatName(f);
      EXPECT_NEAR(got.b, c.b, tol) << PixelFormatName(f);
    }
}

TEST(Pen, AlphaIsWrittenInRgbaAndBgra) {
  const Color c = Color::FromArgb(0x80102030);
  EXPECT_EQ(c.a, 0x80);
  EXPECT_EQ(c.r, 0x10);
  EXPECT_EQ(c.g, 0x20);
  EXPECT_EQ(c.b, 0x30);
  EXPECT_EQ(Pen::Make(PixelFormat::kRGBA, c).packed, (std::array<uint8_t, 4>{0x10, 0x20, 0x30, 0x80}));
  EXPECT_EQ(Pen::Make(PixelFormat::kBGRA, c).packed, (std::array<uint8_t, 4>{0x30, 0x20, 0x10, 0x80}));
  EXPECT_EQ(Pen::Make(PixelFormat::kBGR, c).packed[0], 0x30);
}

TEST(ToPixel, FloorsAndRejectsNonFinite) {
  EXPECT_EQ(ToPixel(2.7f), 2);
  EXPECT_EQ(ToPixel(-0.5f), -1);
  EXPECT_EQ(ToPixel(1e30f), 1 << 24);
  EXPECT_EQ(ToPixel(-1e30f), -(1 << 24));
  EXPECT_FALSE(ToPixel(std::nanf("")));
  EXPECT_FALSE(ToPixel(INFINITY));
}

TEST(MutableImageView, RejectsBadLayoutsLikeImageView) {
  uint8_t buf[64] = {};
  MutableImageView v;
  EXPECT_TRUE(MutableImageView::Wrap(PixelFormat::kRGB, 4, 2, {buf, nullptr, nullptr}, {11, 0, 0}, &v));
  EXPECT_FALSE(MutableImageView::Wrap(PixelFormat::kRGB, 4, 2, {buf, nullptr, nullptr}, {12, 0, 0}, &v));
  EXPECT_EQ(v.view().planes[0], buf);
  EXPECT_EQ(v.view().width, 4);
}

}  // namespace
}  // namespace fg::draw
