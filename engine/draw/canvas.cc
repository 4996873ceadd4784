#include "engine/draw/canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace fg::draw {

std::optional<std::string> MutableImageView::Wrap(PixelFormat format, int width, int height,
                                                  const std::array<uint8_t*, 3>& planes,
                                                  const std::array<int, 3>& strides,
                                                  MutableImageView* out) {
  ImageView v;
  if (auto err = ImageView::Wrap(format, width, height, {planes[0], planes[1], planes[2]},
                                 strides, &v))
    return err;
  out->format = format;
  out->width = width;
  out->height = height;
  out->planes = planes;
  out->strides = strides;
  return std::nullopt;
}

ImageView MutableImageView::view() const {
  ImageView v;
  v.format = format;
  v.width = width;
  v.height = height;
  v.planes = {planes[0], planes[1], planes[2]};
  v.strides = strides;
  return v;
}

Pen Pen::Make(PixelFormat format, Color c) {
  Pen p;
  p.format = format;
  const PixelFormatInfo& f = FormatInfo(format);
  const int r = c.r, g = c.g, b = c.b;
  if (f.layout == PixelLayout::kPackedRgb) {
    p.packed[f.r] = c.r, p.packed[f.g] = c.g, p.packed[f.b] = c.b;
    if (f.alpha) p.packed[f.x] = c.a;
  } else if (f.layout == PixelLayout::kGray) {
    p.packed[0] = static_cast<uint8_t>((77 * r + 150 * g + 29 * b + 128) >> 8);
  } else {
    // BT.601 limited range, the inverse of detail::YuvToRgb (engine/image.h).
    p.y = detail::Clamp8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
    p.u = detail::Clamp8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
    p.v = detail::Clamp8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
  }
  return p;
}

namespace {

// Pixels [x0, x1] of row y (already clipped) in format F. Packed RGB: the pen's bytes, a
// padding byte kept; YUV: the luma of each pixel (the other pixel of a 4:2:2 pair or 2x2 block
// keeps its own) and the pen's U/V in every chroma block the span touches.
template <PixelFormat F>
void SpanAs(const MutableImageView& img, const Pen& pen, int y, int x0, int x1) {
  constexpr PixelFormatInfo I = kFormat<F>;
  uint8_t* const* planes = img.planes.data();
  const int* strides = img.strides.data();
  if constexpr (I.layout == PixelLayout::kPackedRgb) {
    uint8_t* p = PixelAddress<F>(planes, strides, x0, y);
    for (int x = x0; x <= x1; ++x, p += I.bpp) {
      if constexpr (I.x < 0 || I.alpha) {
        std::memcpy(p, pen.packed.data(), I.bpp);
      } else {
        p[I.r] = pen.packed[I.r], p[I.g] = pen.packed[I.g], p[I.b] = pen.packed[I.b];
      }
    }
  } else if constexpr (I.layout == PixelLayout::kGray) {
    std::memset(PixelAddress<F>(planes, strides, x0, y), pen.packed[0], x1 - x0 + 1);
  } else {
    if constexpr (I.bpp == 1) {
      std::memset(LumaAddress<F>(planes, strides, x0, y), pen.y, x1 - x0 + 1);
    } else {
      for (int x = x0; x <= x1; ++x) *LumaAddress<F>(planes, strides, x, y) = pen.y;
    }
    for (int cx = x0 >> I.sub_x; cx <= x1 >> I.sub_x; ++cx) {
      uint8_t *u, *v;
      ChromaAddress<F>(planes, strides, cx, y >> I.sub_y, &u, &v);
      *u = pen.u, *v = pen.v;
    }
  }
}

// Sets a thickness x thickness square at (x, y) (see Line).
void Dot(const MutableImageView& img, const Pen& pen, int x, int y, int thickness) {
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  for (int dy = lo; dy <= hi; ++dy) Span(img, pen, y + dy, x + lo, x + hi);
}

// Liang-Barsky: clips the segment to [xmin, xmax] x [ymin, ymax]; false when nothing is left.
bool ClipSegment(double& x0, double& y0, double& x1, double& y1, double xmin, double ymin,
                 double xmax, double ymax) {
  double t0 = 0, t1 = 1;
  const double dx = x1 - x0, dy = y1 - y0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - xmin, xmax - x0, y0 - ymin, ymax - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;  // parallel to this edge and outside it
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
  }
  const double ox = x0, oy = y0;
  x0 = ox + t0 * dx, y0 = oy + t0 * dy;
  x1 = ox + t1 * dx, y1 = oy + t1 * dy;
  return true;
}

}  // namespace

void Span(const MutableImageView& img, const Pen& pen, int y, int x0, int x1) {
  if (y < 0 || y >= img.height) return;
  if (x0 > x1) std::swap(x0, x1);
  x0 = std::max(x0, 0);
  x1 = std::min(x1, img.width - 1);
  if (x0 > x1) return;
  VisitPixelFormat(img.format, [&]<PixelFormat F>() { SpanAs<F>(img, pen, y, x0, x1); });
}

void Point(const MutableImageView& img, const Pen& pen, int x, int y) { Span(img, pen, y, x, x); }

void FillRect(const MutableImageView& img, const Pen& pen, int x0, int y0, int x1, int y1) {
  if (y0 > y1) std::swap(y0, y1);
  y0 = std::max(y0, 0);
  y1 = std::min(y1, img.height - 1);
  for (int y = y0; y <= y1; ++y) Span(img, pen, y, x0, x1);
}

void Rect(const MutableImageView& img, const Pen& pen, int x, int y, int w, int h,
          int thickness) {
  if (w <= 0 || h <= 0 || thickness <= 0) return;
  // int64: x + w may exceed INT_MAX for absurd boxes.
  const int x1 = static_cast<int>(std::min<int64_t>(int64_t{x} + w - 1, img.width + 4));
  const int y1 = static_cast<int>(std::min<int64_t>(int64_t{y} + h - 1, img.height + 4));
  const int t = std::min({thickness, w, h});
  FillRect(img, pen, x, y, x1, y + t - 1);       // top
  FillRect(img, pen, x, y1 - t + 1, x1, y1);     // bottom
  FillRect(img, pen, x, y, x + t - 1, y1);       // left
  FillRect(img, pen, x1 - t + 1, y, x1, y1);     // right
}

void Line(const MutableImageView& img, const Pen& pen, int x0, int y0, int x1, int y1,
          int thickness) {
  thickness = std::clamp(thickness, 1, 3);
  // Clip to the frame grown by the pen's reach, so clipped ends still cover edge pixels.
  double fx0 = x0, fy0 = y0, fx1 = x1, fy1 = y1;
  const double pad = thickness;
  if (!ClipSegment(fx0, fy0, fx1, fy1, -pad, -pad, img.width - 1 + pad, img.height - 1 + pad))
    return;
  // Unclipped ends stay exact; clipped ones are rounded to the nearest pixel.
  int ax = static_cast<int>(std::lround(fx0)), ay = static_cast<int>(std::lround(fy0));
  const int bx = static_cast<int>(std::lround(fx1)), by = static_cast<int>(std::lround(fy1));
  const int dx = std::abs(bx - ax), dy = -std::abs(by - ay);
  const int sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    Dot(img, pen, ax, ay, thickness);
    if (ax == bx && ay == by) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, ax += sx;
    if (e2 <= dx) err += dx, ay += sy;
  }
}

void Circle(const MutableImageView& img, const Pen& pen, int cx, int cy, int radius) {
  if (radius < 0) return;
  // Entirely outside: nothing to walk (also bounds the walk for huge radii far away).
  if (int64_t{cx} + radius < 0 || int64_t{cx} - radius >= img.width ||
      int64_t{cy} + radius < 0 || int64_t{cy} - radius >= img.height)
    return;
  radius = std::min(radius, 1 << 16);
  int x = radius, y = 0, err = 1 - radius;
  while (x >= y) {
    const int px[8] = {cx + x, cx - x, cx + x, cx - x, cx + y, cx - y, cx + y, cx - y};
    const int py[8] = {cy + y, cy + y, cy - y, cy - y, cy + x, cy + x, cy - x, cy - x};
    for (int k = 0; k < 8; ++k) Point(img, pen, px[k], py[k]);
    ++y;
    if (err < 0) {
      err += 2 * y + 1;
    } else {
      --x;
      err += 2 * (y - x) + 1;
    }
  }
}

void FillCircle(const MutableImageView& img, const Pen& pen, int cx, int cy, int radius) {
  if (radius < 0) return;
  const int64_t r = radius;
  const int64_t y_lo = std::max<int64_t>(-r, -int64_t{cy});
  const int64_t y_hi = std::min<int64_t>(r, int64_t{img.height} - 1 - cy);
  const double rr = (r + 0.5) * (r + 0.5);
  for (int64_t dy = y_lo; dy <= y_hi; ++dy) {
    const auto half = static_cast<int64_t>(std::floor(std::sqrt(rr - static_cast<double>(dy * dy))));
    const int64_t xa = std::max<int64_t>(int64_t{cx} - half, -1);
    const int64_t xb = std::min<int64_t>(int64_t{cx} + half, img.width);
    if (xa > xb) continue;
    Span(img, pen, static_cast<int>(cy + dy), static_cast<int>(xa), static_cast<int>(xb));
  }
}

std::optional<int> ToPixel(float v) {
  if (!std::isfinite(v)) return std::nullopt;
  constexpr float kMax = 16777216.0f;  // 2^24
  return static_cast<int>(std::floor(std::clamp(v, -kMax, kMax)));
}

}  // namespace fg::draw
