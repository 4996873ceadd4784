// The inside of a mouth that a warp opens wider than the photo's own (warp mode: faceavatar
// output=warp, engine/synth/expression_track.h).
//
// The canonical mesh closes the mouth with triangles between the inner lips, so a
// piecewise-affine warp alone stretches whatever the photo shows there (teeth) over an
// opening jaw: a tall grin, not an open mouth. MouthInterior redraws the inside of the
// target's inner lip contour (landmarks 78..308) after the warp: across the mouth at each
// u (0 at corner 78, 1 at corner 308), the part next to the upper lip, as tall as half the
// photo's own opening there, is the photo's, moving with the upper lip (upper teeth stay
// with the skull); the part next to the lower lip likewise moves with the jaw; what opens
// between them is a dark cavity colour (shadowed oral cavity). Where the opening does not
// grow, the photo's opening is scaled to fit (lips pressing, the jaw closing).
//
//   source mesh (the photo's)  ─┐
//   target mesh (warped)       ─┼─► per pixel inside the target's inner lips:
//   src picture (the original) ─┘     upper band / cavity / lower band ─► RGBA ─► dst
//
// Coordinates: continuous frame pixels (pixel (x, y) covers [x, x+1)), as engine/render/
// warp.h. Any pixel format of image.h in and out (through WriteRgba).
//
// Threading: one instance per thread (scratch panel). Allocation: none once the panel has
// grown to the largest mouth seen.
//
// Example (after FaceWarp::Warp(copy, source, target, frame)):
//   fg::render::MouthInterior mouth;
//   mouth.Draw(copy.view(), source, target, frame);
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "engine/draw/canvas.h"
#include "engine/image.h"
#include "engine/render/composite.h"

namespace fg::render {

// The colour of the opened mouth's inside (dark, a little red).
inline constexpr std::array<uint8_t, 4> kMouthCavity = {52, 24, 26, 255};

class MouthInterior {
 public:
  // source and target: at least 468 points (FaceMesh order; fewer: nothing is drawn). src
  // is the picture the source mesh was measured on (not aliasing dst), the same size as dst.
  void Draw(const ImageView& src, std::span<const std::array<float, 3>> source,
            std::span<const std::array<float, 3>> target, const draw::MutableImageView& dst);

 private:
  RgbaImage panel_;
};

}  // namespace fg::render
