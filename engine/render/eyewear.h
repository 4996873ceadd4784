// EyewearLayer: glasses keep their shape when warp mode moves the skin under them.
//
// A brow raise moves the forehead and brows by a bump-shaped field (engine/avatar/
// blendshapes.h); a photo's glasses lie on that skin, so the piecewise-affine warp would
// bend their rims with it (Grace Hopper's frames bowed upward in "surprise"). A frame is a
// rigid object in front of the face, so the layer treats it as one: FaceWarp (warp.h,
// SetEyewearLayer; faceavatar rigid-eyewear) finds it, warps the face without it, and lays
// it back unmoved.
//
// The brows keep their full FACS motion (AU1/AU2 raise, AU4 lower and draw together)
// while the frame does not bend: the layer leaves the displacement field alone and
// separates the picture:
//
//   source photo ──Find──> frame mask (alpha per pixel, around each eye)
//        │                     │
//        ├── FillSkin: the masked pixels filled in from the skin around them (a copy)
//        │        └── the warp samples this copy: the skin, brows included, moves freely
//        └── Composite: the ORIGINAL frame pixels laid back over the warped picture where
//                       they were (the frame moves with the head only: the landmarks
//                       already carry the head's pose, the deltas are expression only)
//
// Find, per eye, in the face's own axes (u from the right eye's outer corner 33 to the
// left's 263, v perpendicular, pointing down the face; ew = the mean eye width, corner to
// corner): the band from the brows' top - 0.35 ew to the lower lid + 0.75 ew, and from
// the midline (or 0.45 ew inside the inner corner if that is further) to 0.45 ew beyond
// the outer corner. A pixel is frame when
// its luma is below the band's skin median minus T (T = max(30, 0.3 x the median));
// inside the brow (the polygon of the brow's upper and lower landmarks, grown by 0.06 ew)
// it must also be darker than the brow's own median minus T/2 (a frame lying on a brow is
// darker than the hair); the eye itself (the ellipse through its corners, its lid gap
// + 0.12 ew up and down, 1.15 x its half width across) is never frame, so the lids, lashes
// and iris keep their motion. Only dark components whose extent is at least 0.35 ew and
// that do not reach the band's upper edge are kept (rims are long; pores, moles and
// shadows are not; hair and a hat's brim come in from above: the astronaut's fringe over
// her brow was taken for a frame before that rule). Alpha: 1 on those pixels, and
// within 2 px of them the pixel's own darkness (antialiased edges). A face without glasses
// usually yields nothing (then the warp is unchanged); what it does yield (hair at the
// temples, a dark shadow beside the nose) stays where it is, which is also what those do.
//
// What it does not do: frames much lighter than the skin (rimless or clear frames: nothing
// is found, the warp is unchanged), sunglasses' lenses larger than the eye ellipse (found as
// frame, so the lids behind them do not move: right for dark lenses), a frame lying
// exactly on brows as dark as itself (that part moves with the brow).
//
// Units: frame pixels. Threading: one instance per thread (scratch buffers). Allocation:
// grow-only buffers; none per face once grown to the largest face seen.
//
// Example (what FaceWarp::Warp does with SetEyewearLayer(true)):
//   fg::render::EyewearLayer layer;
//   if (layer.Find(src, landmarks) > 0) {
//     copy.Assign(src); layer.FillSkin(src, copy.mutable_view());  // warp samples `copy`
//     ... warp into an RGBA scratch whose top-left is frame pixel (bx, by) ...
//     layer.Composite(src, scratch, bx, by);
//   }
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/image.h"
#include "engine/render/composite.h"

namespace fg::render {

class EyewearLayer {
 public:
  // Finds the frame around both eyes of `landmarks` (468 FaceMesh points, frame px) in src.
  // Returns the number of pixels with alpha > 0 (0: no frame, or fewer than 468 points).
  int Find(const ImageView& src, std::span<const std::array<float, 3>> landmarks);

  // Writes the skin under the frame into dst (a copy of src, Find's picture): every pixel
  // with alpha > 0 is filled from the unmasked pixels around it (the inverse-distance mean
  // of the nearest ones left, right, above and below, then smoothed by 24 sweeps of the
  // four-neighbour mean: close to the harmonic fill, no streaks).
  void FillSkin(const ImageView& src, const draw::MutableImageView& dst);

  // Lays the frame (Find's src pixels, by alpha) over `scratch`, an RGBA region whose
  // top-left is frame pixel (bx, by); only pixels the warp wrote (alpha != 0) are blended.
  void Composite(const ImageView& src, RgbaImage& scratch, int bx, int by) const;

  // The frame's alpha at frame pixel (x, y) (0 outside the searched box); for tests.
  float alpha(int x, int y) const;

 private:
  int x0_ = 0, y0_ = 0, w_ = 0, h_ = 0;  // the searched box, frame px
  int found_ = 0;
  std::vector<uint8_t> luma_, cls_;      // per box pixel: luma; class (0 out, 1 skin, 2 brow,
                                         // 3 eye) | eye << 2 | on the upper edge << 3
  std::vector<uint8_t> core_;            // dark pixels, then the kept components
  std::vector<float> alpha_;
  std::vector<int> stack_, comp_;        // component labelling
  RgbaImage patch_;                      // FillSkin's filled pixels
  std::vector<float> fill_;              // FillSkin's colours, the box and a 1 px ring
};

}  // namespace fg::render
