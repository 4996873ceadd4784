// Appearance refinement for the mirror solver (issue 7): where a face tracker's landmarks
// follow an expression only partly, the skin itself shows where the features went.
//
// FaceMesh's landmarks follow a raised brow, a closing lid or a smiling mouth corner by a
// fraction of the real displacement (the tracker's response, engine/synth/
// tracker_response.h; figures in docs/avatar-engine.md). This unit measures the rest from
// the picture: it maps the face's texture into the canonical face's frontal plane through
// the tracked mesh, compares it with the same track's neutral texture, and moves each
// expressive vertex to where its neutral texture has gone.
//
//   frame + 468 landmarks ──frontalise: texel u ─► sum_i b_i(u) landmark_i (x, y)──► T(u)
//       (piecewise affine over the canonical triangulation, texels_per_cm texels per
//        canonical cm, grey; outside the mesh the nearest triangle's affine map continues
//        for a margin, so features at the face's edge keep texture on both sides)
//   neutral frames (the mirror's calibration window) ──mean──► template T0, per track
//   per moving vertex v (a vertex some basis target moves), at its texel c_v:
//       Lucas-Kanade, inverse compositional, translation g + brightness offset b, over a
//       window x:  min_g,b  sum_x (T(c_v + g + x) - T0(c_v + x) - b)^2 + lambda |g|^2
//       (lambda = window texels x texture_floor^2: a window whose texture is weaker than
//        texture_floor grey levels per texel is pulled towards g = 0, the tracker's answer;
//        an edge moves the vertex across it only), coarse to fine over `levels` 2x levels.
//       The neutral material of v sits at texel c_v + g of the current mesh's map, so the
//       refined vertex is the current normalised mesh interpolated there:
//       p_v <- sum_i b_i(c_v + g) p_i   (barycentric in the texel plane).
//   A vertex keeps the tracker's position when its normal faces away from the camera
//   (cos < min_facing), the flow is longer than max_flow_cm, or the aligned window still
//   differs by more than max_residual grey levels RMS (occlusion, a hand, a reflection).
//
// Why texture and not more landmarks: the warp (and a real face) moves skin texture, and
// the template is the same person under the same light a second earlier, so alignment is
// precise where the tracker is vague. What it costs: lighting that changes across the face
// after the neutral is learned (a bias per window is fitted, a gradient is not), and
// self-occlusion at large yaw (the facing test). Without a frame the mirror solves from the
// landmarks alone, exactly as before.
//
// Threading: immutable after construction (share it); the per-track State is
// thread-compatible. Refine and AddNeutral do not allocate once State's grey scratch holds
// the face's box (sized by the first frames; it grows only when the face does).
//
// Example (what MirrorSolver does with a frame):
//   fg::AppearanceRefiner ref(canonical, basis);
//   auto st = ref.NewTrack();
//   for (neutral frames) ref.AddNeutral(st, frame, face.landmarks);
//   ref.Finish(st);
//   ref.Refine(st, frame, face.landmarks, rotation, normalised_points);  // in place
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/geometry/canonical_face.h"
#include "engine/image.h"

namespace fg {

inline constexpr int kMaxWindow = 15;

struct AppearanceOptions {
  float texels_per_cm = 6.0f;   // the frontal texture's resolution (level 0)
  int window = 7;               // odd, 3..kMaxWindow: the Lucas-Kanade window, texels per side
  int levels = 2;               // 1..3: coarse-to-fine levels (each half the previous)
  int iterations = 4;           // per level at most (stops earlier below 0.05 texel)
  float texture_floor = 2.0f;   // grey levels per texel (see lambda above)
  float max_flow_cm = 1.2f;     // longer flows are dropped
  float min_facing = 0.3f;      // cos(normal, view) below which a vertex is not refined
  float max_residual = 20.0f;   // grey levels RMS after alignment
  float moving_threshold_cm = 0.03f;  // vertices some target moves at least this far
};

class AppearanceRefiner {
 public:
  // Per-track state; made by NewTrack (all memory sized there).
  struct State {
    int neutral_frames = 0;
    bool ready = false;
    std::vector<float> sum;                       // level-0 accumulator of neutral textures
    std::vector<std::vector<float>> texture;      // per level: the current frame's texture
    std::vector<float> win, wgx, wgy;             // per level x moving vertex x window texel
    std::vector<std::array<float, 9>> hinv;       // per level x moving vertex: 3x3 inverse
    // Per moving vertex: the neutral texture's mean squared gradient over its level-0
    // window (gxx, gxy, gyy; grey levels per texel, squared): how well the window pins the
    // vertex in each direction (the Lucas-Kanade information, up to the noise). The
    // mirror weighs each vertex's x-y residual by it (mirror.h step 3).
    std::vector<std::array<float, 3>> info;
    std::vector<std::array<float, 3>> points;     // scratch: the unrefined points
    std::vector<float> pos;   // scratch: each frontalised texel's frame position
    std::vector<float> grey;  // scratch: the face's box in grey (grows with the face only)
    int last_refined = 0;                         // vertices moved by the last Refine
    // Per moving vertex, the last Refine's flow in level-0 texels (0, 0 where it was not
    // refined) and whether it was used.
    std::vector<std::array<float, 2>> flow;
    std::vector<uint8_t> used;
  };

  AppearanceRefiner(const CanonicalFace& canonical, const BlendshapeBasis& basis,
                    const AppearanceOptions& opts = {});

  State NewTrack() const;
  // A neutral frame: its texture is added to the template's mean. False (nothing added)
  // when the landmarks are not 468 or hold a non-finite x or y.
  bool AddNeutral(State& s, const ImageView& frame,
                  const std::vector<std::array<float, 3>>& landmarks) const;
  // Builds the template from the neutral frames added; false when there were none.
  bool Finish(State& s) const;
  // Moves the expressive vertices of `points` (the same landmarks normalised to canonical
  // cm, as MirrorSolver::Normalise gives them) to where their neutral texture is now.
  // `rotation`: head -> camera (the facing test). Returns how many vertices moved; 0 and
  // `points` untouched when the state is not ready or the landmarks are not 468 finite
  // points.
  int Refine(State& s, const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
             const Eigen::Matrix3f& rotation, std::span<std::array<float, 3>> points) const;

  // The level-0 frontal texture of a frame (width() x height() grey values; texels the map
  // does not reach are 0). For tests and tools.
  void Frontalise(const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
                  std::span<float> out) const;
  int width() const { return w_; }
  int height() const { return h_; }
  // Level-0 texel position of a vertex, and the vertices refined.
  std::array<float, 2> TexelOf(int vertex) const { return uv_[vertex]; }
  const std::vector<int>& moving() const { return moving_; }
  const AppearanceOptions& options() const { return opts_; }

 private:
  // The texel's triangle (-1: unmapped) and barycentric weights (possibly negative in the
  // margin: the nearest triangle's affine map, extended).
  struct TexelMap {
    int tri = -1;
    float b[3] = {0, 0, 0};
  };
  bool Barycentric(int tri, float x, float y, float b[3]) const;
  int TriangleAt(float x, float y) const;
  // The triangle to interpolate vertex v's surface at texel q: one of v's own triangles that
  // contains q (so a zero flow gives v back exactly, and a fold seen from the front does
  // not pull v onto the surface in front of it), else the front-most one at q.
  int TriangleFor(int v, float qx, float qy, float b[3]) const;
  void FrontaliseWith(const ImageView& frame, const std::vector<std::array<float, 3>>& lm,
                      std::span<float> out, std::vector<float>& pos,
                      std::vector<float>& grey) const;
  void Downsample(const std::vector<float>& src, int sw, int sh, std::vector<float>& dst, int dw,
                  int dh) const;
  int LevelWidth(int l) const { return w_ >> l; }
  int LevelHeight(int l) const { return h_ >> l; }

  AppearanceOptions opts_;
  std::vector<std::array<int, 3>> tris_;
  std::vector<std::array<float, 2>> uv_;  // per vertex, level-0 texel position
  std::vector<std::array<float, 3>> normals_;  // per vertex, canonical, towards the viewer
  int w_ = 0, h_ = 0;
  std::vector<TexelMap> map_;
  std::vector<int> mapped_;  // texels frontalised: mapped (tri >= 0) and within a window's reach
  std::vector<int> moving_;
  std::vector<std::vector<int>> incident_;  // per vertex, the triangles that use it
  int half_ = 3;
};

}  // namespace fg
