// ExpressionTrack: a face photo made to pull known expressions, frame by frame, with the
// weights it was given as ground truth (issue 7's closed loop: tracking + mirroring must
// read them back).
//
//   photo ──FaceTracker (once, at Create)──► neutral mesh (468, frame px)
//                                            + FitHeadPose: rotation R, px per cm s
//   per frame:  weights (basis order; or WeightCurve / instruction at time t)
//      └─► deltas = sum_i w_i Delta_i (canonical cm, engine/avatar/blendshapes.h)
//      └─► target = DisplaceLandmarks(neutral, deltas, R, s)      (engine/render/warp.h)
//      └─► [placement: the 2D similarity that moved the photo into this frame, applied to
//           both meshes]
//      └─► FaceWarp: piecewise-affine from neutral to target, sampling `src` ──► dst
//
// The mesh deformation is the one of `faceavatar output=warp` with mirroring off (the
// photo is taken as neutral): the basis deltas posed by the head fit of the photo's own
// mesh; the picture is exactly that warp's (with its mouth interior; SetMouthCavity(false):
// faceavatar's mouth-interior=false). Pixels
// outside the target mesh are not written (dst keeps what it had: pass dst = a frame that
// already holds src's picture, e.g. the frame itself with src its copy).
//
// Mouth. Unless SetMouthCavity(false), the inside of the target's inner lips is redrawn
// after the warp (engine/render/mouth.h MouthInterior: the photo's teeth move with their
// lips, a dark cavity opens between them), as faceavatar's warp mode does by default.
//
// Placement: a synthesiser that moves the still photo (face_synth.h motion: shift, roll,
// scale about a centre) renders the frame first and then warps it. The neutral mesh was
// measured on the still scene, so the warp needs the same move: `placement` is the forward
// 2x3 map scene px -> frame px, x' = a0 x + a1 y + a2, y' = a3 x + a4 y + a5 (a similarity:
// z is scaled by its scale sqrt(a0 a4 - a1 a3)). Identity when not given.
//
// In FaceSynth (face_synth.h's "expression track" extension point): build the track once
// from the still scene (a frame rendered with no motion), then per frame render as before
// and warp the rendered frame in place from a copy of it, with the frame's motion as the
// placement (SimilarityPlacement(FaceCentre(), truth.dx, truth.dy, truth.roll_deg,
// truth.scale)); the pulse, noise and light are warped with the skin; the truth gains the
// weights RenderAt returns.
//
// Threading: thread-compatible (the warp keeps scratch buffers): one instance per stream.
// The geometry (neutral mesh, fit, basis) is immutable after Create. Render() does not
// allocate once the warp's scratch has grown to the face's box.
//
// Example (a still photo; src is the photo, dst a copy of it that gets the expression):
//   fg::ExpressionTrackOptions o;  o.models_dir = models;
//   auto track = fg::ExpressionTrack::Create(photo.view(), o, &err);  // err: no face / models
//   track->SetInstruction("neutral, hold 1 s, then very happy over 0.5 s", &perr);
//   std::vector<float> truth(track->basis().size());
//   for (int k = 0; k < 90; ++k) {
//     copy = photo;                                   // dst starts as the photo
//     track->RenderAt(k / 30.0, photo.view(), copy_view, truth);   // truth: weights used
//   }
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "engine/avatar/blendshapes.h"
#include "engine/avatar/curve.h"
#include "engine/avatar/instruction.h"
#include "engine/draw/canvas.h"
#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/render/composite.h"
#include "engine/render/eyewear.h"
#include "engine/render/mouth.h"
#include "engine/render/warp.h"
#include "engine/tracking/head_pose.h"

namespace fg {

struct ExpressionTrackOptions {
  std::string models_dir;         // blazeface, facemesh and the canonical face
  std::string backend = "auto";   // the tracker's NN backend
  // The tracker runs this many times on the photo (no smoothing); the neutral mesh is the
  // per-coordinate mean of all but the first run (the first crop comes from the detector,
  // the later ones from the landmarks, as on video).
  int tracker_frames = 4;
};

// 2x3 forward map, scene (still photo) px -> frame px; see "Placement" above.
using Placement = std::array<float, 6>;
// face_synth.h's head motion as a Placement: frame = C + d + s R(roll) (scene - C), roll
// counter-clockwise on screen (y down), about the centre C, continuous pixel coordinates
// (FaceSynth::FaceCentre() and SynthTruth dx, dy, roll_deg, scale).
Placement SimilarityPlacement(float centre_x, float centre_y, float dx, float dy,
                              float roll_deg, float scale);

class ExpressionTrack {
 public:
  // Runs FaceTracker on the photo; the face with the largest box is the one animated.
  // nullptr and *error (names the model file, or "no face found in the photo") on failure.
  static std::unique_ptr<ExpressionTrack> Create(const ImageView& photo,
                                                 const ExpressionTrackOptions& opts,
                                                 std::string* error);
  // From a mesh already measured (468+ landmarks in the photo's pixels; only the first 468
  // are used) and the canonical face. nullptr and *error when the mesh is short or the
  // canonical face is not the 468-vertex one.
  static std::unique_ptr<ExpressionTrack> FromLandmarks(
      const CanonicalFace& canonical, const std::vector<std::array<float, 3>>& landmarks,
      int width, int height, std::string* error);

  // The weights over time for RenderAt/WeightsAt: an instruction (instruction.h; false and
  // *error on a parse error, the previous curve kept) or a curve. Without either, every
  // weight is 0 at every t.
  bool SetInstruction(std::string_view text, InstructionError* error);
  void SetCurve(WeightCurve curve) { curve_ = std::move(curve); }
  const WeightCurve& curve() const { return curve_; }
  // The curve at t (basis().size() entries written; fewer if `out` is shorter).
  void WeightsAt(double t_s, std::span<float> out) const;

  // dst = src's picture with the face deformed by `weights` (basis order; shorter = the rest
  // 0; values are used as given, clamp them to 0..1 for a plausible face). src and dst must
  // have the same size and must not alias (any formats of image.h). Pixels outside the
  // deformed face are not written. False (nothing written) on a size mismatch.
  bool Render(const ImageView& src, std::span<const float> weights,
              const draw::MutableImageView& dst, const Placement* placement = nullptr);
  // WeightsAt(t) into `weights_out` (basis().size() entries), then Render: the weights are
  // the frame's ground truth.
  bool RenderAt(double t_s, const ImageView& src, const draw::MutableImageView& dst,
                std::span<float> weights_out, const Placement* placement = nullptr);

  // The target mesh Render would warp to (468 entries, frame px), without drawing.
  void TargetLandmarks(std::span<const float> weights, std::span<std::array<float, 3>> out,
                       const Placement* placement = nullptr);

  // The opened mouth's inside (see "Mouth" above); on by default, as in faceavatar. Off:
  // the plain warp.
  void SetMouthCavity(bool on) { mouth_cavity_ = on; }
  // Neutralise: the photo's own expression taken away before the weights are applied.
  // Every vertex first moves to the canonical face's neutral position, posed by the
  // photo's head fit (rotation and px per cm of FitHeadPose; the origin that puts the
  // canonical face's rigid Procrustes landmarks on the photo's on average), so the mouth
  // closes over the teeth and the identity's shape becomes the canonical one. Off by
  // default (the photo is taken as neutral, as faceavatar does). Used by the prototype
  // check (prototype_check.h) to show what the warp can and cannot change.
  void SetNeutralise(bool on) { neutralise_ = on; }
  // Glasses keep their shape: the warp's eyewear layer (engine/render/warp.h, eyewear.h
  // EyewearLayer: the frame stays rigid, the brows move behind it by the full deltas), as
  // faceavatar rigid-eyewear (off by default there and here).
  void SetRigidEyewear(bool on) { warp_->SetEyewearLayer(on); }

  const BlendshapeBasis& basis() const { return *basis_; }
  const CanonicalFace& canonical() const { return canonical_; }
  // The photo's neutral mesh (468, photo px) and its head fit.
  const std::vector<std::array<float, 3>>& neutral() const { return neutral_; }
  const HeadPoseFit& fit() const { return fit_; }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  ExpressionTrack() = default;
  void Place(const Placement& a, std::span<std::array<float, 3>> points) const;

  CanonicalFace canonical_;
  std::optional<BlendshapeBasis> basis_;
  std::vector<std::array<float, 3>> neutral_;
  HeadPoseFit fit_;
  int width_ = 0, height_ = 0;
  WeightCurve curve_;
  std::unique_ptr<render::FaceWarp> warp_;
  bool mouth_cavity_ = true;
  bool neutralise_ = false;
  std::vector<std::array<float, 3>> own_;  // canonical - photo, canonical cm (SetNeutralise)
  render::MouthInterior mouth_;
  // Scratch, sized at creation (Render does not allocate).
  std::vector<std::array<float, 3>> deltas_, source_, target_;
};

}  // namespace fg
