#include "engine/image.h"

#include <algorithm>
#include <cmath>

namespace fg {

namespace {
constexpr std::array<std::pair<PixelFormat, std::string_view>, 7> kNames{{
    {PixelFormat::kRGB, "rgb"},
    {PixelFormat::kBGR, "bgr"},
    {PixelFormat::kRGBA, "rgba"},
    {PixelFormat::kBGRA, "bgra"},
    {PixelFormat::kGRAY8, "gray8"},
    {PixelFormat::kNV12, "nv12"},
    {PixelFormat::kI420, "i420"},
}};

}  // namespace

std::string_view PixelFormatName(PixelFormat f) {
  for (const auto& [fmt, name] : kNames)
    if (fmt == f) return name;
  return "unknown";
}

std::optional<PixelFormat> PixelFormatFromName(std::string_view name) {
  for (const auto& [fmt, n] : kNames)
    if (n == name) return fmt;
  return std::nullopt;
}

int PlaneCount(PixelFormat f) {
  switch (f) {
    case PixelFormat::kNV12: return 2;
    case PixelFormat::kI420: return 3;
    default: return 1;
  }
}

int ImageView::MinStride(PixelFormat format, int width, int plane) {
  const int half = (width + 1) / 2;
  switch (format) {
    case PixelFormat::kRGB:
    case PixelFormat::kBGR: return 3 * width;
    case PixelFormat::kRGBA:
    case PixelFormat::kBGRA: return 4 * width;
    case PixelFormat::kGRAY8: return width;
    case PixelFormat::kNV12: return plane == 0 ? width : 2 * half;
    case PixelFormat::kI420: return plane == 0 ? width : half;
  }
  return 0;
}

int ImageView::PlaneRows(PixelFormat /*format*/, int height, int plane) {
  if (plane == 0) return height;
  return (height + 1) / 2;
}

std::optional<std::string> ImageView::Wrap(PixelFormat format, int width, int height,
                                           const std::array<const uint8_t*, 3>& planes,
                                           const std::array<int, 3>& strides, ImageView* out) {
  const std::string fmt(PixelFormatName(format));
  if (width <= 0 || height <= 0)
    return "image " + fmt + ": size " + std::to_string(width) + "x" + std::to_string(height) +
           " is not positive";
  for (int p = 0; p < PlaneCount(format); ++p) {
    if (planes[p] == nullptr)
      return "image " + fmt + ": plane " + std::to_string(p) + " is null";
    const int min = MinStride(format, width, p);
    if (strides[p] < min)
      return "image " + fmt + " " + std::to_string(width) + "x" + std::to_string(height) +
             ": stride of plane " + std::to_string(p) + " is " + std::to_string(strides[p]) +
             " bytes, less than one row (" + std::to_string(min) + ")";
  }
  out->format = format;
  out->width = width;
  out->height = height;
  out->planes = planes;
  out->strides = strides;
  return std::nullopt;
}

Rgb8 ImageView::At(int x, int y) const {
  switch (format) {
    case PixelFormat::kRGB: return AtAs<PixelFormat::kRGB>(x, y);
    case PixelFormat::kBGR: return AtAs<PixelFormat::kBGR>(x, y);
    case PixelFormat::kRGBA: return AtAs<PixelFormat::kRGBA>(x, y);
    case PixelFormat::kBGRA: return AtAs<PixelFormat::kBGRA>(x, y);
    case PixelFormat::kGRAY8: return AtAs<PixelFormat::kGRAY8>(x, y);
    case PixelFormat::kNV12: return AtAs<PixelFormat::kNV12>(x, y);
    case PixelFormat::kI420: return AtAs<PixelFormat::kI420>(x, y);
  }
  return {0, 0, 0};
}

std::array<float, 3> ImageView::Bilinear(float x, float y) const {
  x = std::clamp(x, 0.0f, static_cast<float>(width - 1));
  y = std::clamp(y, 0.0f, static_cast<float>(height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, width - 1), y1 = std::min(y0 + 1, height - 1);
  const float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
  const Rgb8 a = At(x0, y0), b = At(x1, y0), c = At(x0, y1), d = At(x1, y1);
  auto mix = [&](uint8_t pa, uint8_t pb, uint8_t pc, uint8_t pd) {
    const float top = pa + (pb - pa) * fx;
    const float bot = pc + (pd - pc) * fx;
    return top + (bot - top) * fy;
  };
  return {mix(a.r, b.r, c.r, d.r), mix(a.g, b.g, c.g, d.g), mix(a.b, b.b, c.b, d.b)};
}

}  // namespace fg
