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
  // Bilinear sample at a sub-pixel position (pixel centres at integer + 0.5 convention is
  // NOT used: pixel (0,0) is at 0.0); positions outside the frame clamp to the border.
  // Returns floating RGB in [0,255].
  std::array<float, 3> Bilinear(float x, float y) const;
};

}  // namespace fg
