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

// Every engine format (engine/pixel_format.h), in table order.
inline const std::vector<PixelFormat>& AllFormats() {
  static const std::vector<PixelFormat> f = [] {
    std::vector<PixelFormat> v;
    for (const PixelFormatInfo& info : kPixelFormats) v.push_back(info.format);
    return v;
  }();
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

  const PixelFormatInfo& info() const { return FormatInfo(format); }
  uint8_t* const* ptrs() const { return img.planes.data(); }

  // Whether pixel (x, y) carries the pen: the bytes of a packed RGB pixel (a padding byte must
  // still be the background: drawers keep it), the grey, or the luma of a YUV pixel.
  bool Painted(const Pen& pen, int x, int y) const {
    return VisitPixelFormat(format, [&]<PixelFormat F>() {
      constexpr PixelFormatInfo I = kFormat<F>;
      if constexpr (I.layout == PixelLayout::kPackedRgb) {
        const uint8_t* p = PixelAddress<F>(ptrs(), strides.data(), x, y);
        bool ok = p[I.r] == pen.packed[I.r] && p[I.g] == pen.packed[I.g] && p[I.b] == pen.packed[I.b];
        if constexpr (I.x >= 0) ok &= p[I.x] == (I.alpha ? pen.packed[I.x] : kBackground);
        return ok;
      } else if constexpr (I.layout == PixelLayout::kGray) {
        return *PixelAddress<F>(ptrs(), strides.data(), x, y) == pen.packed[0];
      } else {
        return *LumaAddress<F>(ptrs(), strides.data(), x, y) == pen.y;
      }
    });
  }
  // Whether pixel (x, y) is as it was: every byte of a packed pixel, the luma of a YUV one.
  bool Untouched(int x, int y) const {
    return VisitPixelFormat(format, [&]<PixelFormat F>() {
      if constexpr (IsYuv(F)) {
        return *LumaAddress<F>(ptrs(), strides.data(), x, y) == kBackground;
      } else {
        const uint8_t* p = PixelAddress<F>(ptrs(), strides.data(), x, y);
        for (int k = 0; k < kFormat<F>.bpp; ++k)
          if (p[k] != kBackground) return false;
        return true;
      }
    });
  }
  // U and V of chroma block (cx, cy) (YUV formats).
  std::pair<uint8_t, uint8_t> Chroma(int cx, int cy) const {
    return VisitPixelFormat(format, [&]<PixelFormat F>() {
      if constexpr (IsYuv(F)) {
        uint8_t *u, *v;
        ChromaAddress<F>(ptrs(), strides.data(), cx, cy, &u, &v);
        return std::pair<uint8_t, uint8_t>(*u, *v);
      } else {
        return std::pair<uint8_t, uint8_t>(0, 0);
      }
    });
  }
  // Row padding untouched; for YUY2/UYVY at an odd width also the unused Y1 of each row's
  // last macropixel (no pixel owns it).
  bool GuardsIntact() const {
    if (info().layout == PixelLayout::kPackedYuv422 && w % 2 == 1)
      for (int y = 0; y < h; ++y)
        if (planes[0][static_cast<size_t>(y) * strides[0] + 2 * w + info().y] != kBackground) return false;
    for (int p = 0; p < PlaneCount(format); ++p) {
      const int row = ImageView::MinStride(format, w, p);
      for (int y = 0; y < ImageView::PlaneRows(format, h, p); ++y)
        for (int x = row; x < strides[p]; ++x)
          if (planes[p][static_cast<size_t>(y) * strides[p] + x] != kGuard) return false;
    }
    return true;
  }

  // Every pixel painted exactly where mask (w*h, row-major) says; every other pixel as it
  // was; YUV chroma set exactly for the chroma blocks (2x2 or 2x1) holding a painted pixel;
  // guards intact.
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
    if (IsYuv(format)) {
      const int bw = 1 << info().sub_x, bh = 1 << info().sub_y;
      for (int cy = 0; cy < (h + bh - 1) / bh; ++cy)
        for (int cx = 0; cx < (w + bw - 1) / bw; ++cx) {
          bool any = false;
          for (int dy = 0; dy < bh; ++dy)
            for (int dx = 0; dx < bw; ++dx) {
              const int x = bw * cx + dx, y = bh * cy + dy;
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
