// Drawing straight into a frame's own memory, in its own pixel format: what overlays use to
// put boxes, landmarks and labels on video without converting the frame.
//
//   MutableImageView  a writable ImageView (same formats, same layout rules, same validation)
//   Pen               a colour converted once to the frame's format: packed bytes for
//                     the packed RGB formats, a grey level for GRAY8, Y/U/V for YUV
//   primitives        Span (the one routine that writes), Point, FillRect, Rect, Line
//                     (Bresenham, thickness 1..3), Circle (outline), FillCircle; text is in
//                     engine/draw/font.h
//
// Every primitive is clipped to the frame: any coordinates (negative, past the edges, huge)
// are accepted, and nothing is ever written outside the frame's rows (tests/draw runs under
// AddressSanitizer). Lines are clipped to the frame before they are walked, so a line to
// (1e9, 1e9) costs what its visible part costs.
//
// YUV formats: the luma of each covered pixel is set; the chroma sample of the block that
// contains the pixel is set too: 2x2 for 4:2:0 (NV12, NV21, I420), the 2x1 pair for 4:2:2
// (YUY2, UYVY). Chroma is subsampled, so a one-pixel line tints its block neighbours (the
// usual trade-off of drawing into subsampled video without converting); their luma is kept.
// Alpha (RGBA/BGRA) is written as the pen's alpha; padding (RGBx, BGRx, xRGB, xBGR) is kept;
// nothing is blended. Formats are described in engine/pixel_format.h.
//
// Threading: plain functions over caller memory; two threads may draw into different frames.
// Nothing allocates.
//
// Example:
//   fg::draw::MutableImageView img;
//   if (auto err = fg::draw::MutableImageView::Wrap(fg::PixelFormat::kNV12, w, h, planes,
//                                                   strides, &img)) return *err;
//   const fg::draw::Pen green = fg::draw::Pen::Make(img.format, fg::draw::Color::FromArgb(0xff00ff00));
//   fg::draw::Rect(img, green, 10, 10, 100, 80, 2);
//   fg::draw::Line(img, green, 0, 0, 639, 479, 1);
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/image.h"

namespace fg::draw {

struct MutableImageView {
  PixelFormat format = PixelFormat::kRGB;
  int width = 0;
  int height = 0;
  std::array<uint8_t*, 3> planes{};
  std::array<int, 3> strides{};

  // Same validation as ImageView::Wrap (its message on failure).
  static std::optional<std::string> Wrap(PixelFormat format, int width, int height,
                                         const std::array<uint8_t*, 3>& planes,
                                         const std::array<int, 3>& strides,
                                         MutableImageView* out);
  // The read-only view of the same memory (for analyses that also read).
  ImageView view() const;
};

struct Color {
  uint8_t r = 0, g = 0, b = 0, a = 255;
  // 0xAARRGGBB, as GStreamer overlay elements take colours.
  static constexpr Color FromArgb(uint32_t argb) {
    return {static_cast<uint8_t>(argb >> 16), static_cast<uint8_t>(argb >> 8),
            static_cast<uint8_t>(argb), static_cast<uint8_t>(argb >> 24)};
  }
};

struct Pen {
  PixelFormat format = PixelFormat::kRGB;
  // Packed RGB formats: the bytes of one pixel in the format's order (a padding byte, as in
  // RGBx, is 0 here and never written); GRAY8: the grey in [0].
  std::array<uint8_t, 4> packed{};
  uint8_t y = 0, u = 128, v = 128;  // YUV formats: BT.601 limited range
  // Converts once; GRAY8 takes the BT.601 luma (full range), YUV the limited-range Y/U/V
  // (the inverse of ImageView::At, within rounding).
  static Pen Make(PixelFormat format, Color c);
};

// Pixels [x0, x1] (inclusive) of row y. The primitive every other one is built on.
void Span(const MutableImageView& img, const Pen& pen, int y, int x0, int x1);
void Point(const MutableImageView& img, const Pen& pen, int x, int y);
// Filled rectangle with corners (x0, y0) and (x1, y1), inclusive, in any order.
void FillRect(const MutableImageView& img, const Pen& pen, int x0, int y0, int x1, int y1);
// Rectangle outline: top-left (x, y), size w x h, `thickness` pixels drawn inwards.
void Rect(const MutableImageView& img, const Pen& pen, int x, int y, int w, int h,
          int thickness = 1);
// Line from (x0, y0) to (x1, y1), both ends included. Thickness 1..3 (clamped): each step
// of the Bresenham walk sets a thickness x thickness square (centred; for 2, the extra pixel
// goes right and down).
void Line(const MutableImageView& img, const Pen& pen, int x0, int y0, int x1, int y1,
          int thickness = 1);
// Circle outline (midpoint algorithm) and filled disc: every pixel whose centre is within
// radius + 0.5 of (cx, cy). Radius 0 is one pixel; negative radii draw nothing.
void Circle(const MutableImageView& img, const Pen& pen, int cx, int cy, int radius);
void FillCircle(const MutableImageView& img, const Pen& pen, int cx, int cy, int radius);

// Float frame coordinates (face.h: pixel (0,0) covers [0,1)) to the pixel that holds them;
// nullopt for NaN/inf, and values past +-2^24 are clamped (so int arithmetic cannot
// overflow in the primitives).
std::optional<int> ToPixel(float v);

}  // namespace fg::draw
