#include "engine/image.h"

#include <algorithm>
#include <cmath>

namespace fg {

std::string_view PixelFormatName(PixelFormat f) {
  const auto i = static_cast<size_t>(f);
  return i < kPixelFormats.size() ? kPixelFormats[i].name : "unknown";
}

std::optional<PixelFormat> PixelFormatFromName(std::string_view name) {
  for (const PixelFormatInfo& info : kPixelFormats)
    if (info.name == name) return info.format;
  return std::nullopt;
}

int ImageView::MinStride(PixelFormat format, int width, int plane) {
  const PixelFormatInfo& f = FormatInfo(format);
  if (plane >= f.planes) return 0;
  const int chroma_w = (width + (1 << f.sub_x) - 1) >> f.sub_x;  // chroma blocks per row
  if (plane == 0) return f.layout == PixelLayout::kPackedYuv422 ? 4 * chroma_w : f.bpp * width;
  return f.layout == PixelLayout::kSemiPlanar420 ? 2 * chroma_w : chroma_w;
}

int ImageView::PlaneRows(PixelFormat format, int height, int plane) {
  if (plane == 0) return height;
  const int sub_y = FormatInfo(format).sub_y;
  return (height + (1 << sub_y) - 1) >> sub_y;
}

std::optional<std::string> ImageView::Wrap(PixelFormat format, int width, int height,
                                           const std::array<const uint8_t*, 3>& planes,
                                           const std::array<int, 3>& strides, ImageView* out) {
  if (static_cast<int>(format) >= kPixelFormatCount)
    return "image: unknown pixel format " + std::to_string(static_cast<int>(format));
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
             " bytes, less than one row (" + std::to_string(min) + ")" +
             (FormatInfo(format).layout == PixelLayout::kPackedYuv422 && width % 2 == 1
                  ? "; " + fmt + " packs 2 pixels in 4 bytes, so an odd width needs the whole last pair"
                  : std::string());
  }
  out->format = format;
  out->width = width;
  out->height = height;
  out->planes = planes;
  out->strides = strides;
  return std::nullopt;
}

Rgb8 ImageView::At(int x, int y) const {
  return VisitPixelFormat(format, [&]<PixelFormat F>() { return AtAs<F>(x, y); });
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
