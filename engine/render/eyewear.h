// RigidEyewear: keeps glasses' frames straight when warp mode moves the skin under them.
//
// A brow raise moves the forehead and brows by a bump-shaped field (engine/avatar/
// blendshapes.h); a photo's glasses lie on that skin, so the piecewise-affine warp bends
// their rims with it (Grace Hopper's cat-eye frames bowed upward in "surprise"). A frame is
// a rigid object: where it lies, the picture may only move by a map that keeps straight
// lines straight. RigidEyewear replaces the displacement in the periocular band of each
// eye by its best AFFINE fit there (an affine map keeps every line straight), blended back
// to the unchanged field at the band's edges and near the lids:
//
//           brow top + 0.9 cm ─┬──────────────┐ ┌──────────────┬─ fades out over 0.6 cm
//                              │  w = 1:      │ │              │
//                              │  affine fit  │ │   (per eye)  │
//           the lid contour ── │   (  eye  )  │ │  (  eye  )   │  w = 0 within 1.25 x the
//                              │   w -> 0     │ │              │  eye's ellipse (half width
//        lower lid - 1.3 cm ───┴──────────────┘ └──────────────┴─ x lid gap), 1 from 1.75 x
//                            0.4..1.0 cm from the midline        outer corner + 0.8..1.6 cm
//
// So the lids still blink, widen and squint (they are excluded), the brows and forehead
// still rise or fall on average per eye (a tilt per eye keeps sad's slant), and straight
// lines of a frame stay straight where w = 1; the transitions bend them a little (tested:
// tests/render/eyewear_test). What is lost: the brows' own curvature change within one eye
// (a brow bump becomes a tilt and a stretch). Faces without glasses lose the same, so it is
// an option of warp mode (FaceAvatarOptions::rigid_eyewear, faceavatar rigid-eyewear).
//
// Units: canonical centimetres (the deltas DisplaceLandmarks takes), +x the subject's left.
//
// Threading: immutable after construction; Apply is const, allocation-free, reentrant.
//
// Example:
//   fg::render::RigidEyewear eyewear(canonical);
//   eyewear.Apply(deltas_cm);                       // before DisplaceLandmarks
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/render/composite.h"

namespace fg::render {

class RigidEyewear {
 public:
  // Needs the 468-vertex canonical face; with anything else Apply changes nothing.
  explicit RigidEyewear(const CanonicalFace& face);

  // Per-eye affine fit of (dx, dy) over the band, blended in by each vertex's weight; dz is
  // kept. deltas: one per canonical vertex (shorter: nothing changes).
  void Apply(std::span<std::array<float, 3>> deltas) const;

  // The blend weight of a vertex (0 outside the band, 1 inside it); for tests and docs.
  float weight(int vertex) const { return vertex < static_cast<int>(w_.size()) ? w_[vertex] : 0; }

 private:
  std::vector<std::array<float, 3>> v_;  // canonical positions
  std::vector<float> w_;                 // blend weight per vertex
  std::vector<int8_t> side_;             // +1 subject's left eye band, -1 right, 0 none
};

// EyewearLayer: glasses as a rigid layer in front of the warped face, so the brows keep
// their full FACS motion (AU1/AU2 raise, AU4 lower and draw together) while the frame does
// not bend. RigidEyewear above straightens the skin's field and so flattens the brows; the
// layer instead leaves the field alone and separates the picture:
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
// 0.45 ew inside the inner corner to 0.45 ew beyond the outer one. A pixel is frame when
// its luma is below the band's skin median minus T (T = max(30, 0.3 x the median));
// inside the brow (the polygon of the brow's upper and lower landmarks, grown by 0.06 ew)
// it must also be darker than the brow's own median minus T/2 (a frame lying on a brow is
// darker than the hair); the eye itself (the ellipse through its corners, its lid gap
// + 0.12 ew up and down, 1.15 x its half width across) is never frame, so the lids, lashes
// and iris keep their motion. Only dark components whose extent is at least 0.35 ew are
// kept (rims are long; pores, moles and shadows are not). Alpha: 1 on those pixels, and
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
class EyewearLayer {
 public:
  // Finds the frame around both eyes of `landmarks` (468 FaceMesh points, frame px) in src.
  // Returns the number of pixels with alpha > 0 (0: no frame, or fewer than 468 points).
  int Find(const ImageView& src, std::span<const std::array<float, 3>> landmarks);

  // Writes the skin under the frame into dst (a copy of src, Find's picture): every pixel
  // with alpha > 0 becomes the inverse-distance mean of the nearest unmasked pixels left,
  // right, above and below it.
  void FillSkin(const ImageView& src, const draw::MutableImageView& dst);

  // Lays the frame (Find's src pixels, by alpha) over `scratch`, an RGBA region whose
  // top-left is frame pixel (bx, by); only pixels the warp wrote (alpha != 0) are blended.
  void Composite(const ImageView& src, RgbaImage& scratch, int bx, int by) const;

  // The frame's alpha at frame pixel (x, y) (0 outside the searched box); for tests.
  float alpha(int x, int y) const;

 private:
  int x0_ = 0, y0_ = 0, w_ = 0, h_ = 0;  // the searched box, frame px
  int found_ = 0;
  std::vector<uint8_t> luma_, cls_;      // per box pixel: luma; 0 out, 1 skin, 2 brow, 3 eye
  std::vector<uint8_t> core_;            // dark pixels, then the kept components
  std::vector<float> alpha_;
  std::vector<int> stack_, comp_;        // component labelling
  RgbaImage patch_;                      // FillSkin's filled pixels
};

}  // namespace fg::render
