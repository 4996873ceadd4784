// engine/draw/font.h: glyph coverage, exact pixels at scale 1 and 3 in every format, and
// clipping at every edge.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/draw/font.h"
#include "tests/draw/draw_test_util.h"

namespace fg::draw {
namespace {

using testing::AllFormats;
using testing::Frame;
using testing::WhitePen;

// The mask `text` should produce at (x, y) and `scale`, from the glyph rows.
std::vector<bool> TextMask(int w, int h, int x, int y, const std::string& text, int scale) {
  std::vector<bool> m(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto& rows = Glyph(text[i]);
    for (int r = 0; r < kGlyphHeight; ++r)
      for (int c = 0; c < kGlyphWidth; ++c) {
        if (!(rows[r] & (0x10 >> c))) continue;
        for (int dy = 0; dy < scale; ++dy)
          for (int dx = 0; dx < scale; ++dx) {
            const int px = x + static_cast<int>(i) * kGlyphAdvance * scale + c * scale + dx;
            const int py = y + r * scale + dy;
            if (px >= 0 && px < w && py >= 0 && py < h) m[static_cast<size_t>(py) * w + px] = true;
          }
      }
  }
  return m;
}

TEST(Font, CoversDigitsLettersAndSymbols) {
  std::string all;
  for (char c = '0'; c <= '9'; ++c) all += c;
  for (char c = 'A'; c <= 'Z'; ++c) all += c;
  for (char c = 'a'; c <= 'z'; ++c) all += c;
  all += " .,:;-+#%/()[]=_?!<>*'\"";
  std::set<std::array<uint8_t, kGlyphHeight>> distinct;
  for (char c : all) {
    EXPECT_TRUE(HasGlyph(c)) << "'" << c << "'";
    for (uint8_t row : Glyph(c)) EXPECT_EQ(row & ~0x1F, 0) << "'" << c << "' wider than 5";
    distinct.insert(Glyph(c));
  }
  // Every glyph is its own shape (the space is the only blank one).
  EXPECT_EQ(distinct.size(), all.size());
  EXPECT_FALSE(HasGlyph('\x01'));
  EXPECT_FALSE(HasGlyph('\xe9'));
  EXPECT_EQ(Glyph('\x01'), Glyph('?'));
}

TEST(Font, TextWidthIsTheAdvanceWithoutTrailingSpace) {
  EXPECT_EQ(TextWidth("", 2), 0);
  EXPECT_EQ(TextWidth("7", 1), 5);
  EXPECT_EQ(TextWidth("#12", 1), 17);
  EXPECT_EQ(TextWidth("#12", 3), 51);
  EXPECT_EQ(TextHeight(2), 14);
}

TEST(Font, PixelsExactlyWhereTheGlyphsSayInEveryFormat) {
  for (PixelFormat f : AllFormats())
    for (int scale : {1, 3}) {
      const std::string text = "Id #42 ok?";
      Frame fr(f, 200, 31);
      const Pen pen = WhitePen(f);
      EXPECT_EQ(Text(fr.img, pen, 3, 2, text, scale), TextWidth(text, scale));
      EXPECT_EQ(fr.Check(pen, TextMask(200, 31, 3, 2, text, scale)), "")
          << PixelFormatName(f) << " scale " << scale;
    }
}

TEST(Font, ClippedAtEveryEdge) {
  const int w = 23, h = 11;  // odd sizes
  for (PixelFormat f : AllFormats())
    for (int x : {-40, -7, -1, 0, 5, 20, 22, 23, 500})
      for (int y : {-20, -3, 0, 4, 10, 11}) {
        Frame fr(f, w, h);
        const Pen pen = WhitePen(f);
        Text(fr.img, pen, x, y, "Wy8%", 2);
        ASSERT_EQ(fr.Check(pen, TextMask(w, h, x, y, "Wy8%", 2)), "")
            << PixelFormatName(f) << " at " << x << "," << y;
      }
}

TEST(Font, FarAwayAndLongTextIsCheap) {
  Frame fr(PixelFormat::kRGB, 8, 8);
  const Pen pen = WhitePen(PixelFormat::kRGB);
  const std::string text(10000, 'M');
  Text(fr.img, pen, -(1 << 30), 0, text, 16);
  Text(fr.img, pen, (1 << 30), 0, text, 16);
  Text(fr.img, pen, 0, (1 << 30), text, 16);
  EXPECT_EQ(fr.Check(pen, std::vector<bool>(64)), "");
}

}  // namespace
}  // namespace fg::draw
