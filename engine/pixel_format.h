// Pixel formats: the one description of every format the engine reads and writes.
//
// Each format is one row of kPixelFormats: its planes, bytes per pixel, chroma subsampling
// and where each component sits. Three things are derived from the row and nothing else:
//   - the address rule (PixelAddress / LumaAddress / ChromaAddress below): where pixel (x, y)
//     or chroma block (cx, cy) lives. ImageView::AtAs reads through it; draw::Span,
//     render::WriteRgba and the CUDA composite write through it;
//   - the layout rule (ImageView::MinStride / PlaneRows / Wrap);
//   - the dispatch: VisitPixelFormat(format, [&]<PixelFormat F>() { ... }) turns the runtime
//     format into a compile-time one, once per crop / frame, so inner loops carry no switch.
// Adding a format is one enumerator, one row here (same order), one GstVideoFormat row in
// plugins/gstformats.h and one row in tests/engine/image_test.cc.
//
// Conventions shared by every YUV format: BT.601 limited range (what V4L2 cameras and most
// decoders deliver unless colorimetry says otherwise). A chroma block is
// (1 << sub_x) x (1 << sub_y) pixels; at an odd width or height the last block covers the
// pixels that exist. Packed 4:2:2 (YUY2, UYVY) at an odd width: the row still holds the whole
// last macropixel (what GStreamer allocates); the last pixel is its Y0, its Y1 is padding that
// is never read nor written.
//
// Padding bytes (RGBx, BGRx, xRGB, xBGR) are never read and never written: a drawer keeps
// whatever the producer put there. Alpha bytes (RGBA, BGRA) are written opaque by drawers.
//
// Threading: constants and pure functions only.
//
// Example:
//   fg::VisitPixelFormat(view.format, [&]<fg::PixelFormat F>() { Loop<F>(view); });
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "engine/hd.h"

namespace fg {

enum class PixelFormat : uint8_t {
  kRGB, kBGR, kRGBA, kBGRA, kGRAY8, kNV12, kI420,
  kYUY2, kUYVY, kNV21, kRGBx, kBGRx, kxRGB, kxBGR,
};
inline constexpr int kPixelFormatCount = 14;

enum class PixelLayout : uint8_t {
  kPackedRgb,      // one plane; bpp bytes per pixel: R, G, B and maybe an alpha or padding byte
  kGray,           // one plane; one byte of full-range luma per pixel
  kPackedYuv422,   // one plane; a 4-byte macropixel per 2 pixels holding Y0, Y1, U, V
  kSemiPlanar420,  // Y plane + one plane of interleaved U/V pairs, one pair per 2x2 block
  kPlanar420,      // Y, U, V planes; one U and one V per 2x2 block
};

struct PixelFormatInfo {
  PixelFormat format;
  const char* name;  // canonical lower-case name, as in errors ("rgb", "yuy2", ...)
  PixelLayout layout;
  int8_t planes = 1;
  int8_t bpp = 1;               // bytes of plane 0 per pixel (packed 4:2:2: 2, 4 per pair)
  int8_t sub_x = 0, sub_y = 0;  // chroma subsampling as shifts: 4:2:0 is 1, 1; 4:2:2 is 1, 0
  // kPackedRgb: byte offsets of R, G, B within a pixel and of the fourth byte (-1: none).
  int8_t r = -1, g = -1, b = -1, x = -1;
  bool alpha = false;  // the fourth byte is alpha (drawers write it opaque), else padding (kept)
  // YUV: offset of Y within its pixel (packed 4:2:2: of Y0 within the macropixel, Y1 is two
  // bytes on), and of U and V within the chroma pair / macropixel (planar: 0, planes 1 and 2).
  int8_t y = -1, u = -1, v = -1;
};

// Row i describes PixelFormat(i).
inline constexpr std::array<PixelFormatInfo, kPixelFormatCount> kPixelFormats{{
    {.format = PixelFormat::kRGB, .name = "rgb", .layout = PixelLayout::kPackedRgb, .bpp = 3, .r = 0, .g = 1, .b = 2},
    {.format = PixelFormat::kBGR, .name = "bgr", .layout = PixelLayout::kPackedRgb, .bpp = 3, .r = 2, .g = 1, .b = 0},
    {.format = PixelFormat::kRGBA, .name = "rgba", .layout = PixelLayout::kPackedRgb, .bpp = 4, .r = 0, .g = 1, .b = 2, .x = 3, .alpha = true},
    {.format = PixelFormat::kBGRA, .name = "bgra", .layout = PixelLayout::kPackedRgb, .bpp = 4, .r = 2, .g = 1, .b = 0, .x = 3, .alpha = true},
    {.format = PixelFormat::kGRAY8, .name = "gray8", .layout = PixelLayout::kGray, .bpp = 1},
    {.format = PixelFormat::kNV12, .name = "nv12", .layout = PixelLayout::kSemiPlanar420, .planes = 2, .bpp = 1, .sub_x = 1, .sub_y = 1, .y = 0, .u = 0, .v = 1},
    {.format = PixelFormat::kI420, .name = "i420", .layout = PixelLayout::kPlanar420, .planes = 3, .bpp = 1, .sub_x = 1, .sub_y = 1, .y = 0, .u = 0, .v = 0},
    {.format = PixelFormat::kYUY2, .name = "yuy2", .layout = PixelLayout::kPackedYuv422, .bpp = 2, .sub_x = 1, .y = 0, .u = 1, .v = 3},
    {.format = PixelFormat::kUYVY, .name = "uyvy", .layout = PixelLayout::kPackedYuv422, .bpp = 2, .sub_x = 1, .y = 1, .u = 0, .v = 2},
    {.format = PixelFormat::kNV21, .name = "nv21", .layout = PixelLayout::kSemiPlanar420, .planes = 2, .bpp = 1, .sub_x = 1, .sub_y = 1, .y = 0, .u = 1, .v = 0},
    {.format = PixelFormat::kRGBx, .name = "rgbx", .layout = PixelLayout::kPackedRgb, .bpp = 4, .r = 0, .g = 1, .b = 2, .x = 3},
    {.format = PixelFormat::kBGRx, .name = "bgrx", .layout = PixelLayout::kPackedRgb, .bpp = 4, .r = 2, .g = 1, .b = 0, .x = 3},
    {.format = PixelFormat::kxRGB, .name = "xrgb", .layout = PixelLayout::kPackedRgb, .bpp = 4, .r = 1, .g = 2, .b = 3, .x = 0},
    {.format = PixelFormat::kxBGR, .name = "xbgr", .layout = PixelLayout::kPackedRgb, .bpp = 4, .r = 3, .g = 2, .b = 1, .x = 0},
}};

constexpr bool PixelFormatTableInOrder() {
  for (int i = 0; i < kPixelFormatCount; ++i)
    if (static_cast<int>(kPixelFormats[i].format) != i) return false;
  return true;
}
static_assert(PixelFormatTableInOrder(), "kPixelFormats: row i must describe PixelFormat(i)");

constexpr const PixelFormatInfo& FormatInfo(PixelFormat f) { return kPixelFormats[static_cast<size_t>(f)]; }
// The row of a compile-time format (usable in device code: a constant expression).
template <PixelFormat F>
inline constexpr PixelFormatInfo kFormat = kPixelFormats[static_cast<size_t>(F)];

constexpr int PlaneCount(PixelFormat f) { return FormatInfo(f).planes; }
constexpr bool IsYuv(PixelFormat f) {
  const PixelLayout l = FormatInfo(f).layout;
  return l != PixelLayout::kPackedRgb && l != PixelLayout::kGray;
}
// Canonical lower-case names ("rgb", "nv12", ...), as used in errors and in caps mapping.
std::string_view PixelFormatName(PixelFormat f);
std::optional<PixelFormat> PixelFormatFromName(std::string_view name);

// ---- the dispatch ----

namespace detail {
template <typename Fn, size_t... I>
decltype(auto) VisitPixelFormatImpl(PixelFormat f, Fn& fn, std::index_sequence<I...>) {
  using R = decltype(fn.template operator()<PixelFormat::kRGB>());
  if constexpr (std::is_void_v<R>) {
    (void)((f == static_cast<PixelFormat>(I) ? (fn.template operator()<static_cast<PixelFormat>(I)>(), true)
                                              : false) || ...);
  } else {
    R r{};
    (void)((f == static_cast<PixelFormat>(I) ? (r = fn.template operator()<static_cast<PixelFormat>(I)>(), true)
                                              : false) || ...);
    return r;
  }
}
}  // namespace detail

// Calls fn.template operator()<F>() with F == f, the one place a runtime format becomes a
// compile-time one (host code; once per crop, frame or launch, not per pixel). A non-void
// result must be default-constructible (returned for a value outside the enum).
template <typename Fn>
decltype(auto) VisitPixelFormat(PixelFormat f, Fn&& fn) {
  return detail::VisitPixelFormatImpl(f, fn, std::make_index_sequence<kPixelFormatCount>());
}

// ---- the address rule (T is uint8_t to write, const uint8_t to read) ----

// kPackedRgb / kGray: the first byte of pixel (x, y).
template <PixelFormat F, typename T>
FG_HD inline T* PixelAddress(T* const* planes, const int* strides, int x, int y) {
  static_assert(!IsYuv(F), "PixelAddress: packed RGB or grey formats only");
  return planes[0] + static_cast<std::ptrdiff_t>(y) * strides[0] + kFormat<F>.bpp * x;
}

// YUV: the luma byte of pixel (x, y).
template <PixelFormat F, typename T>
FG_HD inline T* LumaAddress(T* const* planes, const int* strides, int x, int y) {
  static_assert(IsYuv(F), "LumaAddress: YUV formats only");
  // Packed 4:2:2: macropixel 4 * (x / 2), Y0 or Y1 two bytes apart: byte 2 * x + y offset.
  return planes[0] + static_cast<std::ptrdiff_t>(y) * strides[0] + kFormat<F>.bpp * x + kFormat<F>.y;
}

// YUV: the U and V bytes of chroma block (cx, cy) (pixels x >> sub_x == cx, y >> sub_y == cy).
template <PixelFormat F, typename T>
FG_HD inline void ChromaAddress(T* const* planes, const int* strides, int cx, int cy, T** u, T** v) {
  constexpr PixelLayout kLayout = kFormat<F>.layout;
  if constexpr (kLayout == PixelLayout::kPackedYuv422) {
    T* m = planes[0] + static_cast<std::ptrdiff_t>(cy) * strides[0] + 4 * cx;
    *u = m + kFormat<F>.u, *v = m + kFormat<F>.v;
  } else if constexpr (kLayout == PixelLayout::kSemiPlanar420) {
    T* c = planes[1] + static_cast<std::ptrdiff_t>(cy) * strides[1] + 2 * cx;
    *u = c + kFormat<F>.u, *v = c + kFormat<F>.v;
  } else {
    *u = planes[1] + static_cast<std::ptrdiff_t>(cy) * strides[1] + cx;
    *v = planes[2] + static_cast<std::ptrdiff_t>(cy) * strides[2] + cx;
  }
}

}  // namespace fg
