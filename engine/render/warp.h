// Warp mode: re-renders a face photo with a new expression by deforming the face's own mesh.
//
//   source landmarks (468, frame px, from tracking)      target landmarks (source + deltas)
//          \                                                 /
//           +--- per target triangle: inverse affine map ---+
//                 dst pixel centre -> barycentrics in the target triangle -> the same
//                 barycentrics in the source triangle -> bilinear sample of the ORIGINAL
//                 frame (a copy: the frame itself is being written)
//
// Piecewise-affine over the canonical triangulation (engine/geometry/canonical_face.h).
// Pixels are covered by the top-left rule at pixel centres (engine/render/triangle.h), so
// adjacent triangles never write a pixel twice; where the target mesh folds over itself
// (a turned head, the nose), the triangle nearer the camera (smaller interpolated target z)
// wins. Pixels outside the target mesh are not touched. Sampling positions are continuous
// frame coordinates (pixel (x, y) covers [x, x+1)), so an identity target reproduces the
// frame (within rounding of the 1/256-pixel vertex snap) and a translated target moves the
// picture by exactly the translation.
//
// Skirt (SetSkirt, off by default). Without it the warp stops at the mesh's outer boundary
// (the face oval): a boundary vertex that moves (the chin of an opening jaw, the forehead
// under raised brows) leaves the photo's old pixels beside the new ones: a tear, and
// whatever crosses the boundary (glasses' temples, hair) breaks there. With a skirt, a band
// of triangles joins every vertex of the outer boundary loop to a ring point `scale` times
// as far from the source mesh's centre (x and y, the centre being the mean of the boundary
// loop's points); ring points do not move, so the band's piecewise-affine warp fades the
// boundary's displacement linearly to zero at the ring, and pixels beyond the ring stay
// the photo's. The band is drawn only where the face mesh did not draw (it lies behind
// every face triangle).
//
// Eyewear layer (SetEyewearLayer, off by default; needs the 468-point FaceMesh): glasses
// are a rigid layer in front of the face (engine/render/eyewear.h EyewearLayer). Each Warp
// finds the frame around the eyes of `source` in src, warps a copy of src in which the
// frame is filled in with the skin around it (so brows and forehead move behind the frame
// by the full deltas), then lays the frame's own pixels back where they were (the frame
// moves with the head only: the landmarks carry the pose, the deltas only the expression).
// When no frame is found the warp is the plain one. Costs a copy of the frame per Warp.
//
// Target landmarks from blendshape deltas: DisplaceLandmarks() adds to each source landmark
// its delta (canonical centimetres, head frame: x right, y up, z towards the camera) rotated
// by the head rotation and scaled by the fit's pixels per centimetre (engine/tracking/
// head_pose.h HeadPoseFit), mapped to FaceMesh's image axes (x right, y down, z away).
//
// Output in the frame's own format through engine/render/composite.h WriteRgba (YUV: chroma
// of each touched chroma block is the mean of its warped pixels).
//
// The per-pixel arithmetic is engine/render/raster_kernel.h (FG_HD), shared with the CUDA warp
// (cuda/render/device_warp.h), which warps a frame in device memory to the same pixels.
//
// Threading: a FaceWarp holds scratch buffers; one per thread. Allocation: none per face
// once the scratch has grown to the largest face box seen.
//
// Example:
//   fg::render::FaceWarp warp(canonical.triangles);
//   copy.Assign(frame.view());                               // the original picture
//   fg::render::DisplaceLandmarks(face.landmarks, deltas, fit.rotation, fit.scale, target);
//   warp.Warp(copy.view(), face.landmarks, target, frame);
#pragma once

#include <array>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "engine/draw/canvas.h"
#include "engine/image.h"
#include "engine/render/composite.h"
#include "engine/render/eyewear.h"

namespace fg::render {

// The skirt ring's distance from the face centre, in multiples of the face boundary's (what
// warp mode and ExpressionTrack use): wide enough that the largest boundary move (the chin
// of a full jawOpen, about 2 cm on a 9 cm radius) leaves the band well inside its ring.
inline constexpr float kWarpSkirtScale = 1.3f;

class FaceWarp {
 public:
  explicit FaceWarp(std::vector<std::array<int, 3>> triangles);

  // source and target hold the same number of points (>= the largest triangle index + 1;
  // fewer: nothing is drawn). src and dst have the same size; src must not alias dst.
  void Warp(const ImageView& src, std::span<const std::array<float, 3>> source,
            std::span<const std::array<float, 3>> target, const draw::MutableImageView& dst);

  const std::vector<std::array<int, 3>>& triangles() const { return triangles_; }

  // The skirt (see above): scale > 1 turns it on (ring at scale x the boundary's distance
  // from the centre), anything else turns it off. Found once from the triangles: the
  // longest loop of edges used by one triangle only. Returns false (skirt off) when the
  // triangles have no boundary loop.
  bool SetSkirt(float scale);
  float skirt() const { return skirt_scale_; }
  // The outer boundary loop (vertex indices, in order); empty before SetSkirt.
  const std::vector<int>& boundary() const { return boundary_; }

  // The eyewear layer (see above): glasses stay rigid while the skin under them moves.
  void SetEyewearLayer(bool on) { eyewear_on_ = on; }
  bool eyewear_layer() const { return eyewear_on_; }
  // The last Warp's frame finder (its alpha: for tests); meaningful only with the layer on.
  const EyewearLayer& eyewear() const { return eyewear_; }

 private:
  std::vector<std::array<int, 3>> triangles_;
  int max_index_ = -1;
  RgbaImage scratch_;
  std::vector<float> depth_;
  // Skirt: the boundary loop, the band's triangles over [boundary copies | ring points],
  // and the band's point buffers (sized once in SetSkirt).
  float skirt_scale_ = 0;
  std::vector<int> boundary_;
  std::vector<std::array<int, 3>> band_;
  std::vector<std::array<float, 3>> band_source_, band_target_;
  // Eyewear layer: the finder and the copy of src with the frame filled in.
  bool eyewear_on_ = false;
  EyewearLayer eyewear_;
  FrameCopy skin_;
};

// target[i] = source[i] + (s * (R d).x, -s * (R d).y, -s * (R d).z), d = deltas_cm[i].
// Sizes: target.size() == source.size(); deltas beyond source.size() are ignored, missing
// ones count as zero.
void DisplaceLandmarks(std::span<const std::array<float, 3>> source,
                       std::span<const std::array<float, 3>> deltas_cm,
                       const Eigen::Matrix3f& rotation, float scale_px_per_cm,
                       std::span<std::array<float, 3>> target);

}  // namespace fg::render
