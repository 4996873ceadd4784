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

#include "engine/geometry/canonical_face.h"

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

}  // namespace fg::render
