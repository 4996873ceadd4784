// Composition: putting rendered RGBA pixels into a video frame in the frame's own format,
// and laying out the avatar panel against the video (replace, side-by-side,
// picture-in-picture).
//
//   RgbaImage   an owned RGBA8 buffer (what the rasterizer and the warp render into); alpha
//               is coverage: 0 = leave the frame's pixel as it is, anything else = write
//               the colour (no blending: the panel is opaque where it is drawn)
//   WriteRgba   one RGBA region into a MutableImageView at (x, y), clipped to the frame.
//               Packed RGB formats and GRAY8 per pixel (GRAY8: full-range BT.601 luma, alpha
//               written as 255 in RGBA/BGRA, padding of RGBx/xRGB/... kept); YUV formats:
//               luma per written pixel and, for each chroma block (2x2, or the 2x1 pair of
//               YUY2/UYVY) holding a written pixel, U/V of the mean colour of the block's
//               written pixels (BT.601 limited range, the inverse of ImageView::At)
//   FrameCopy   an owned copy of a frame's planes (the ORIGINAL picture that side-by-side and
//               warp sample from while the frame itself is being written)
//   Layout      where the avatar panel and the video go, per composite mode:
//
//     replace         side-by-side (same frame size)       pip (corner, fraction f)
//     +-----------+   +-----------+-----------+            +-----------+
//     |           |   |  (bars)   |           |            |     +----+|
//     |  avatar   |   |  video/2  |  avatar   |            |video|avat||
//     |           |   |  (bars)   |           |            |     +----+|
//     +-----------+   +-----------+-----------+            +-----------+
//
//   Side-by-side keeps the frame size (the element's caps never change, so it stays an
//   in-place filter that any pipeline accepts): the video is shrunk by 1/2 (aspect kept,
//   2x2 box filter) into the left half, centred vertically between bars of the background,
//   and the avatar fills the right half. Picture-in-picture puts a panel of `pip_fraction` of
//   the frame's width and height in the top-right corner, 2% margins.
//
// Threading: plain functions and value types; an RgbaImage / FrameCopy belongs to one thread.
// Allocation: Resize/Assign allocate only when the size grows, so per-frame calls with a
// constant frame size do not allocate.
//
// Example:
//   fg::render::Layout l = fg::render::ComputeLayout(fg::render::CompositeMode::kPip, w, h, 0.3f);
//   ... render the avatar into an RgbaImage of l.panel.w x l.panel.h ...
//   fg::render::WriteRgba(panel, frame, l.panel.x, l.panel.y);
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/image.h"

namespace fg::render {

struct RgbaImage {
  int width = 0, height = 0;
  std::vector<uint8_t> px;  // width * height * 4, rows packed
  // Sets the size; allocates only when it grows.
  void Resize(int w, int h);
  uint8_t* Row(int y) { return px.data() + static_cast<size_t>(y) * width * 4; }
  const uint8_t* Row(int y) const { return px.data() + static_cast<size_t>(y) * width * 4; }
  void Fill(std::array<uint8_t, 4> rgba);
};

// Writes `src` (alpha 0 = skip) into `dst` with its top-left at (x, y); clipped.
void WriteRgba(const RgbaImage& src, const draw::MutableImageView& dst, int x, int y);

class FrameCopy {
 public:
  // Copies the frame's visible rows (the planes' padding is not kept). Allocates only when
  // the frame grows.
  void Assign(const ImageView& frame);
  // The copy (valid until the next Assign).
  const ImageView& view() const { return view_; }
  // The same planes, writable (EyewearLayer fills the skin under glasses into a copy).
  const draw::MutableImageView& mutable_view() const { return mutable_; }

 private:
  std::array<std::vector<uint8_t>, 3> planes_;
  ImageView view_;
  draw::MutableImageView mutable_;
};

enum class CompositeMode { kReplace, kSideBySide, kPip };

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};

struct Layout {
  CompositeMode mode = CompositeMode::kReplace;
  Rect panel;  // the avatar's render target within the frame
  Rect video;  // side-by-side: where the shrunk video goes (w = h = 0 otherwise)
};

// pip_fraction is clamped to [0.1, 1].
Layout ComputeLayout(CompositeMode mode, int frame_w, int frame_h, float pip_fraction = 0.3f);

// Side-by-side: fills `out` (layout.video's size rounded into the left half: frame_w/2 x
// frame_h) with the background and the 1/2-scaled video (2x2 box filter over `src`).
void ShrinkVideo(const ImageView& src, const Layout& layout, std::array<uint8_t, 4> background,
                 RgbaImage* out);

}  // namespace fg::render
