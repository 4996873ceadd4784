// STGraph: the face mesh as a spatiotemporal graph for remote photoplethysmography.
//
// Nodes are the triangles of the canonical face (engine/geometry/canonical_face.h: 898
// triangles over the 468 FaceMesh landmarks); spatial edges join triangles that share a mesh
// edge; the temporal axis is the per-track ring buffer of samples (vitals_estimator.h).
//
//   landmarks (468 x 3, frame px) ──► rasterise every triangle ──► mean RGB, pixel count,
//   frame (any PixelFormat)               (format dispatched once)    visibility (normal·view)
//                                                                          │
//        skin triangles grouped into patches ◄─────────────────────────────┘
//        (region x UV cell), patches into regions (forehead, cheeks, nose, chin)
//
// Skin mask: a triangle is left out when any of its three vertices is on one of the
// contours in kExcludedContours (stgraph.cc): both eyes (MediaPipe's FACEMESH_LEFT_EYE /
// RIGHT_EYE loops), the outer and inner lip loops, and the nostril / alar rim landmarks.
// "Touching" is deliberate: the ring of triangles around an eye or the lips (eyelids, lip
// border) moves with blinks and speech and is left out with the feature. Eyebrows (the
// FACEMESH_LEFT/RIGHT_EYEBROW sets) leave out triangles with two or more brow vertices: the
// brow band and its edge neighbours; "touching" would take half of the coarse forehead.
// The test STGraph.RegionPicture draws the result (FG_VITALS_PICTURE=file.png).
//
// Regions (canonical space: cm, +y up, x to the image's right for a frontal face): by each
// triangle's centroid against landmark heights of the canonical face itself: forehead above
// the brows, chin below the lower lip, nose between the inner eye corners above the
// subnasale, left/right cheek by the sign of x for the rest (the upper lip's skin joins the
// cheeks). Patches split each region on a UV grid (kPatchGrid cells per side) so that the
// graph Laplacian of vitals_estimator.h smooths over ~50 spatially coherent nodes rather than
// 550 noisy triangles; patch adjacency comes from triangle adjacency.
//
// Visibility: the triangle's normal from the 3D landmarks (FaceMesh: x right, y down, z away
// from the camera, weak perspective) against the viewing direction (0, 0, -1): cos of the
// angle, 0 for back-facing triangles. Occlusion by other parts of the face (the nose at large
// yaw) is not modelled; such triangles are mostly grazing and get a small weight anyway.
//
// Rasterisation: pixel (x, y) covers [x, x+1) x [y, y+1) (FaceTracker's convention) and
// belongs to a triangle when its centre (x+0.5, y+0.5) is inside, with a top-left rule on
// shared edges so that each pixel of a watertight mesh is counted once. A triangle too small
// to cover a pixel centre is sampled at the pixel under its centroid. Everything is clipped
// to the frame: faces partly outside are safe, their outside triangles get no pixels.
// The per-triangle arithmetic is stgraph_kernel.h (FG_HD), which the CUDA sampler
// (cuda/vitals/stgraph_sampler.h: every face of a frame in one launch) runs too.
//
// Threading: FaceSTGraph is immutable after Create(); share it. SampleTriangles() is
// reentrant (the caller owns `out`); it does not allocate once `out` has been used.
//
// Example:
//   std::string err;
//   auto g = fg::FaceSTGraph::Create(canonical, &err);
//   fg::TriangleSamples s;
//   g->SampleTriangles(view, face.landmarks, &s);   // s.rgb[t], s.pixels[t], s.visibility[t]
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/geometry/canonical_face.h"
#include "engine/image.h"

namespace fg {

enum class FaceRegion : int { kForehead = 0, kLeftCheek, kRightCheek, kNose, kChin };
inline constexpr int kFaceRegions = 5;
// "forehead", "left_cheek" (the image's left), "right_cheek", "nose", "chin".
std::string_view FaceRegionName(FaceRegion r);

// Per-frame samples of one face, indexed by triangle.
struct TriangleSamples {
  std::vector<std::array<float, 3>> rgb;  // mean RGB over the triangle's pixels, [0,255]
  std::vector<int> pixels;                // pixels averaged (1 for a sub-pixel triangle; 0 = none)
  std::vector<float> visibility;          // cos(normal, view) in [0,1]; 0 = back-facing
};

// Per-frame samples aggregated per patch: the node signals stored per track.
struct PatchSamples {
  std::vector<std::array<float, 3>> rgb;  // weighted mean RGB of the patch's skin triangles
  std::vector<float> weight;              // sum of pixels x visibility; 0 = not seen
};

class FaceSTGraph {
 public:
  // UV cells per side used to split regions into patches.
  static constexpr int kPatchGrid = 6;

  static std::unique_ptr<FaceSTGraph> Create(const CanonicalFace& canonical, std::string* error);

  int num_triangles() const { return static_cast<int>(triangles_.size()); }
  int num_patches() const { return static_cast<int>(patch_region_.size()); }
  const std::vector<std::array<int, 3>>& triangles() const { return triangles_; }
  // Triangles sharing an edge with triangle t (at most 3 in a manifold mesh).
  const std::vector<int>& TriangleNeighbours(int t) const { return tri_adj_[t]; }
  bool IsSkin(int t) const { return tri_patch_[t] >= 0; }
  // -1 for non-skin triangles.
  int PatchOf(int t) const { return tri_patch_[t]; }
  FaceRegion RegionOfPatch(int p) const { return patch_region_[p]; }
  FaceRegion RegionOfTriangle(int t) const { return tri_region_[t]; }
  const std::vector<int>& PatchNeighbours(int p) const { return patch_adj_[p]; }
  int num_skin_triangles() const { return num_skin_; }

  // Means, pixel counts and visibility of every triangle (non-skin ones included: the mask is
  // applied by AggregatePatches). `landmarks` must hold at least 468 points; fewer gives all
  // zeros. Reentrant; `out` is resized once and reused.
  void SampleTriangles(const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
                       TriangleSamples* out) const;
  // Skin triangles into patches, weighted by pixels x visibility.
  void AggregatePatches(const TriangleSamples& tri, PatchSamples* out) const;

 private:
  FaceSTGraph() = default;
  std::vector<std::array<int, 3>> triangles_;
  std::vector<std::vector<int>> tri_adj_;
  std::vector<int> tri_patch_;
  std::vector<FaceRegion> tri_region_;
  std::vector<FaceRegion> patch_region_;
  std::vector<std::vector<int>> patch_adj_;
  int num_skin_ = 0;
};

}  // namespace fg
