// Image views over caller memory: the one way pixels enter the engine.
//
// An ImageView describes a frame that somebody else owns (a mapped GstBuffer, a camera
// buffer, a cv::Mat): format, size, up to three planes and their strides. Nothing is copied
// on the way in; analyses sample only the pixels they need (crops) straight from the
// original format, so a 1080p NV12 frame is never converted whole.
//
// Threading: a view is a value type; it is as thread-safe as the memory it points to.
// Lifetime: the view must not outlive the memory.
//
// Example:
//   fg::ImageView v;
//   if (auto err = fg::ImageView::Wrap(fg::PixelFormat::kNV12, w, h, planes, strides, &v))
//     return *err;                        // names what is wrong with the layout
//   fg::Rgb8 p = v.At(x, y);              // one pixel, converted to RGB (BT.601 limited range)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/hd.h"

namespace fg {

enum class PixelFormat { kRGB, kBGR, kRGBA, kBGRA, kGRAY8, kNV12, kI420 };

// Canonical lower-case names ("rgb", "nv12", ...), as used in errors and in caps mapping.
std::string_view PixelFormatName(PixelFormat f);
std::optional<PixelFormat> PixelFormatFromName(std::string_view name);
int PlaneCount(PixelFormat f);

struct Rgb8 {
  uint8_t r, g, b;
};

struct ImageView {
  PixelFormat format = PixelFormat::kRGB;
  int width = 0;
  int height = 0;
  std::array<const uint8_t*, 3> planes{};
  std::array<int, 3> strides{};  // bytes per row of each plane

  // Validates a layout and fills *out. Returns an error message (naming the plane and the
  // offending number) when the layout cannot be right: non-positive size, a null plane, a
  // stride smaller than a row. Odd widths and heights are allowed for every format (chroma
  // planes of NV12/I420 are ceil(w/2) x ceil(h/2)).
  static std::optional<std::string> Wrap(PixelFormat format, int width, int height,
                                         const std::array<const uint8_t*, 3>& planes,
                                         const std::array<int, 3>& strides, ImageView* out);

  // Minimum stride of plane p for this format and width (bytes).
  static int MinStride(PixelFormat format, int width, int plane);
  // Rows of plane p.
  static int PlaneRows(PixelFormat format, int height, int plane);

  // One pixel as 8-bit RGB. YUV formats use BT.601 limited range (what V4L2 cameras and
  // most decoders deliver unless colorimetry says otherwise). Coordinates must be in range.
  Rgb8 At(int x, int y) const;
  // The same with the format known at compile time: for inner loops that dispatch on the
  // format once (see engine/tracking/crop.cc). F must equal `format`. FG_HD: CUDA kernels
  // call it on a view whose planes are in device memory (cuda/vitals/stgraph_sampler.cu).
  template <PixelFormat F>
  FG_HD Rgb8 AtAs(int x, int y) const;
  // Bilinear sample at a sub-pixel position (pixel centres at integer + 0.5 convention is
  // NOT used: pixel (0,0) is at 0.0); positions outside the frame clamp to the border.
  // Returns floating RGB in [0,255].
  std::array<float, 3> Bilinear(float x, float y) const;
};

namespace detail {
FG_HD inline uint8_t Clamp8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }
// BT.601 limited range, integer arithmetic (16.16 fixed point).
FG_HD inline Rgb8 YuvToRgb(int y, int u, int v) {
  const int c = (y - 16) * 76309;  // 1.164 * 65536
  const int d = u - 128;
  const int e = v - 128;
  return Rgb8{Clamp8((c + 104597 * e + 32768) >> 16),
              Clamp8((c - 25675 * d - 53279 * e + 32768) >> 16),
              Clamp8((c + 132201 * d + 32768) >> 16)};
}
}  // namespace detail

template <PixelFormat F>
FG_HD inline Rgb8 ImageView::AtAs(int x, int y) const {
  const uint8_t* row = planes[0] + static_cast<std::ptrdiff_t>(y) * strides[0];
  if constexpr (F == PixelFormat::kRGB) return {row[3 * x], row[3 * x + 1], row[3 * x + 2]};
  if constexpr (F == PixelFormat::kBGR) return {row[3 * x + 2], row[3 * x + 1], row[3 * x]};
  if constexpr (F == PixelFormat::kRGBA) return {row[4 * x], row[4 * x + 1], row[4 * x + 2]};
  if constexpr (F == PixelFormat::kBGRA) return {row[4 * x + 2], row[4 * x + 1], row[4 * x]};
  if constexpr (F == PixelFormat::kGRAY8) return {row[x], row[x], row[x]};
  if constexpr (F == PixelFormat::kNV12) {
    const uint8_t* uv = planes[1] + static_cast<std::ptrdiff_t>(y / 2) * strides[1];
    return detail::YuvToRgb(row[x], uv[2 * (x / 2)], uv[2 * (x / 2) + 1]);
  }
  if constexpr (F == PixelFormat::kI420) {
    const uint8_t* u = planes[1] + static_cast<std::ptrdiff_t>(y / 2) * strides[1];
    const uint8_t* v = planes[2] + static_cast<std::ptrdiff_t>(y / 2) * strides[2];
    return detail::YuvToRgb(row[x], u[x / 2], v[x / 2]);
  }
}

}  // namespace fg
