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
  const int r = c.r, g = c.g, b = c.b;
  switch (format) {
    case PixelFormat::kRGB: p.packed = {c.r, c.g, c.b, 0}; break;
    case PixelFormat::kBGR: p.packed = {c.b, c.g, c.r, 0}; break;
    case PixelFormat::kRGBA: p.packed = {c.r, c.g, c.b, c.a}; break;
    case PixelFormat::kBGRA: p.packed = {c.b, c.g, c.r, c.a}; break;
    case PixelFormat::kGRAY8:
      p.packed[0] = static_cast<uint8_t>((77 * r + 150 * g + 29 * b + 128) >> 8);
      break;
    case PixelFormat::kNV12:
    case PixelFormat::kI420:
      // BT.601 limited range, the inverse of detail::YuvToRgb (engine/image.h).
      p.y = detail::Clamp8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
      p.u = detail::Clamp8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
      p.v = detail::Clamp8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
      break;
  }
  return p;
}

namespace {

int BytesPerPixel(PixelFormat f) {
  switch (f) {
    case PixelFormat::kRGB:
    case PixelFormat::kBGR: return 3;
    case PixelFormat::kRGBA:
    case PixelFormat::kBGRA: return 4;
    default: return 1;
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
  uint8_t* row = img.planes[0] + static_cast<std::ptrdiff_t>(y) * img.strides[0];
  switch (img.format) {
    case PixelFormat::kRGB:
    case PixelFormat::kBGR:
    case PixelFormat::kRGBA:
    case PixelFormat::kBGRA: {
      const int bpp = BytesPerPixel(img.format);
      for (int x = x0; x <= x1; ++x) std::memcpy(row + bpp * x, pen.packed.data(), bpp);
      break;
    }
    case PixelFormat::kGRAY8: std::memset(row + x0, pen.packed[0], x1 - x0 + 1); break;
    case PixelFormat::kNV12: {
      std::memset(row + x0, pen.y, x1 - x0 + 1);
      uint8_t* uv = img.planes[1] + static_cast<std::ptrdiff_t>(y / 2) * img.strides[1];
      for (int cx = x0 / 2; cx <= x1 / 2; ++cx) uv[2 * cx] = pen.u, uv[2 * cx + 1] = pen.v;
      break;
    }
    case PixelFormat::kI420: {
      std::memset(row + x0, pen.y, x1 - x0 + 1);
      const int n = x1 / 2 - x0 / 2 + 1;
      std::memset(img.planes[1] + static_cast<std::ptrdiff_t>(y / 2) * img.strides[1] + x0 / 2, pen.u, n);
      std::memset(img.planes[2] + static_cast<std::ptrdiff_t>(y / 2) * img.strides[2] + x0 / 2, pen.v, n);
      break;
    }
  }
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
