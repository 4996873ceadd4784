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
#include "engine/pixel_format.h"

namespace fg {

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
  // planes of NV12/NV21/I420 are ceil(w/2) x ceil(h/2); a YUY2/UYVY row holds ceil(w/2)
  // whole macropixels, see engine/pixel_format.h). Strides may be padded freely.
  static std::optional<std::string> Wrap(PixelFormat format, int width, int height,
                                         const std::array<const uint8_t*, 3>& planes,
                                         const std::array<int, 3>& strides, ImageView* out);

  // Minimum stride of plane p for this format and width (bytes; from the format's row).
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

// Every format through its row in kPixelFormats and the address rule (engine/pixel_format.h).
template <PixelFormat F>
FG_HD inline Rgb8 ImageView::AtAs(int x, int y) const {
  constexpr PixelLayout kLayout = kFormat<F>.layout;
  if constexpr (kLayout == PixelLayout::kPackedRgb) {
    const uint8_t* p = PixelAddress<F>(planes.data(), strides.data(), x, y);
    return {p[kFormat<F>.r], p[kFormat<F>.g], p[kFormat<F>.b]};
  } else if constexpr (kLayout == PixelLayout::kGray) {
    const uint8_t g = *PixelAddress<F>(planes.data(), strides.data(), x, y);
    return {g, g, g};
  } else {
    const uint8_t *u, *v;
    ChromaAddress<F>(planes.data(), strides.data(), x >> kFormat<F>.sub_x, y >> kFormat<F>.sub_y, &u, &v);
    return detail::YuvToRgb(*LumaAddress<F>(planes.data(), strides.data(), x, y), *u, *v);
  }
}

}  // namespace fg
