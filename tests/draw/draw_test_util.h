// Test frames for tests/draw: each plane its own exact-size heap block (so AddressSanitizer
// sees any write past a plane), rows padded with guard bytes that must stay untouched, and
// a per-pixel "painted" mask read back in the frame's own format.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"

namespace fg::draw::testing {

inline constexpr uint8_t kBackground = 0x11;
inline constexpr uint8_t kGuard = 0xA5;
inline constexpr int kPad = 5;  // guard bytes after each row

inline const std::vector<PixelFormat>& AllFormats() {
  static const std::vector<PixelFormat> f{PixelFormat::kRGB,   PixelFormat::kBGR,
                                          PixelFormat::kRGBA,  PixelFormat::kBGRA,
                                          PixelFormat::kGRAY8, PixelFormat::kNV12,
                                          PixelFormat::kI420};
  return f;
}

struct Frame {
  PixelFormat format;
  int w, h;
  std::vector<std::vector<uint8_t>> planes;  // exact size: rows * stride
  std::array<int, 3> strides{};
  MutableImageView img;

  Frame(PixelFormat f, int width, int height) : format(f), w(width), h(height) {
    std::array<uint8_t*, 3> ptrs{};
    for (int p = 0; p < PlaneCount(f); ++p) {
      const int row = ImageView::MinStride(f, w, p);
      strides[p] = row + kPad;
      planes.emplace_back(static_cast<size_t>(strides[p]) * ImageView::PlaneRows(f, h, p));
      for (int y = 0; y < ImageView::PlaneRows(f, h, p); ++y)
        for (int x = 0; x < strides[p]; ++x)
          planes[p][static_cast<size_t>(y) * strides[p] + x] = x < row ? kBackground : kGuard;
    }
    for (int p = 0; p < PlaneCount(f); ++p) ptrs[p] = planes[p].data();
    auto err = MutableImageView::Wrap(f, w, h, ptrs, strides, &img);
    EXPECT_FALSE(err) << *err;
  }

  // Whether pixel (x, y) carries the pen (luma/grey/all bytes of the pixel).
  bool Painted(const Pen& pen, int x, int y) const {
    const uint8_t* row = planes[0].data() + static_cast<size_t>(y) * strides[0];
    switch (format) {
      case PixelFormat::kRGB:
      case PixelFormat::kBGR:
        return row[3 * x] == pen.packed[0] && row[3 * x + 1] == pen.packed[1] &&
               row[3 * x + 2] == pen.packed[2];
      case PixelFormat::kRGBA:
      case PixelFormat::kBGRA:
        return row[4 * x] == pen.packed[0] && row[4 * x + 1] == pen.packed[1] &&
               row[4 * x + 2] == pen.packed[2] && row[4 * x + 3] == pen.packed[3];
      case PixelFormat::kGRAY8: return row[x] == pen.packed[0];
      default: return row[x] == pen.y;
    }
  }
  bool Untouched(int x, int y) const {
    const uint8_t* row = planes[0].data() + static_cast<size_t>(y) * strides[0];
    const int bpp = ImageView::MinStride(format, 1, 0);
    for (int k = 0; k < bpp; ++k)
      if (row[bpp * x + k] != kBackground) return false;
    return true;
  }
  std::pair<uint8_t, uint8_t> Chroma(int cx, int cy) const {
    if (format == PixelFormat::kNV12) {
      const uint8_t* uv = planes[1].data() + static_cast<size_t>(cy) * strides[1];
      return {uv[2 * cx], uv[2 * cx + 1]};
    }
    return {planes[1][static_cast<size_t>(cy) * strides[1] + cx],
            planes[2][static_cast<size_t>(cy) * strides[2] + cx]};
  }
  bool GuardsIntact() const {
    for (int p = 0; p < PlaneCount(format); ++p) {
      const int row = ImageView::MinStride(format, w, p);
      for (int y = 0; y < ImageView::PlaneRows(format, h, p); ++y)
        for (int x = row; x < strides[p]; ++x)
          if (planes[p][static_cast<size_t>(y) * strides[p] + x] != kGuard) return false;
    }
    return true;
  }

  // Every pixel painted exactly where mask (w*h, row-major) says; every other pixel as it
  // was; YUV chroma set exactly for the 2x2 blocks holding a painted pixel; guards intact.
  // Returns "" or what differs (the first few).
  std::string Check(const Pen& pen, const std::vector<bool>& mask) const {
    std::string out;
    int errors = 0;
    auto report = [&](const std::string& s) {
      if (++errors <= 5) out += s + "\n";
    };
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const bool want = mask[static_cast<size_t>(y) * w + x];
        if (want && !Painted(pen, x, y))
          report("(" + std::to_string(x) + "," + std::to_string(y) + ") not painted");
        if (!want && !Untouched(x, y))
          report("(" + std::to_string(x) + "," + std::to_string(y) + ") painted");
      }
    if (format == PixelFormat::kNV12 || format == PixelFormat::kI420) {
      for (int cy = 0; cy < (h + 1) / 2; ++cy)
        for (int cx = 0; cx < (w + 1) / 2; ++cx) {
          bool any = false;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
              const int x = 2 * cx + dx, y = 2 * cy + dy;
              if (x < w && y < h && mask[static_cast<size_t>(y) * w + x]) any = true;
            }
          const auto [u, v] = Chroma(cx, cy);
          const bool set = u == pen.u && v == pen.v;
          const bool clean = u == kBackground && v == kBackground;
          if (any && !set) report("chroma block (" + std::to_string(cx) + "," + std::to_string(cy) + ") not set");
          if (!any && !clean) report("chroma block (" + std::to_string(cx) + "," + std::to_string(cy) + ") set");
        }
    }
    if (!GuardsIntact()) report("row padding written");
    if (errors > 5) out += "... " + std::to_string(errors) + " differences\n";
    return out;
  }
};

inline std::string Describe(PixelFormat f, int w, int h) {
  return std::string(PixelFormatName(f)) + " " + std::to_string(w) + "x" + std::to_string(h);
}

// White: distinct from the background in every format (Y 235, U/V 128, grey 255).
inline Pen WhitePen(PixelFormat f) { return Pen::Make(f, Color{255, 255, 255, 255}); }

}  // namespace fg::draw::testing
