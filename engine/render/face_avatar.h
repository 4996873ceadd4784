// FaceAvatar: the whole per-frame avatar pipeline behind the `faceavatar` element, as plain
// engine code (the element only maps properties and buffers onto it; tools/bench/render_bench
// drives it directly).
//
//   FrameFaces ──► MirrorSolver (per track) ──► mirror weights ─┐  (eased in/out when a face
//                                                                │   appears / disappears)
//   instruction (WeightCurve) ──► weights at t ──┐               │
//   timeline (Timeline)        ──► weights at t ─┴─ per-weight max ─► shown weights
//        │                                                           │
//        └── face.blendshapes (ARKit names) on every face            ▼
//   output replace | side-by-side | pip: morph the avatar (canonical face + basis, or a glTF
//        avatar's ARKit targets), turn it by the head rotation, rasterize, composite. The
//        canonical avatar wears engine/render/face_texture.h's face (eye whites, brows,
//        lips, the mouth's cavity), painted once at Create, and per frame
//        engine/render/face_features.h's iris and pupil at the face's gaze (tracker option
//        iris), clipped by the lids (eyeBlink closes them), and teeth and tongue in the
//        opened mouth; engine/render/avatar_head.h's hair, ears and neck around the mask.
//   output warp: deform each face's own landmarks by the basis deltas of the weights it
//        does not already show, piecewise-affine warp of the frame (engine/render/warp.h)
//
// Weights. Mirroring (options.mirror) gives each tracked face its own weights (the basis's
// 37, and the 15 ARKit blendshapes the mirror measures from the mesh: mirror.h step 6); an
// instruction and a timeline, when set, add theirs on top by per-weight maximum
// (timeline.h CombineWeights kMax), whether or not a face is in view. The instruction and
// the timeline share one clock: seconds since the first frame processed after either was
// last set (or after Reset()), so setting one restarts both. Every face of the frame gets
// `blendshapes` = its shown weights, all 52 ARKit names (faces not driving a slot included;
// the measured 15 are 0 without mirroring), so the JSON contract carries them. A glTF
// avatar's targets named like the measured 15 follow the mirror (tongueOut stays 0).
//
// Slots. faces = primary: one avatar, driven by the face with the lowest track id (the one
// tracked longest); faces = all: one avatar per face in view (up to max_slots), ordered by
// id, side by side within the panel. When the primary face leaves, the avatar eases its
// mirror weights and head rotation back to neutral over ease_s with the minimum-jerk step
// (engine/avatar/curve.h) and holds neutral; when a face comes back it eases from neutral
// to the live weights over ease_s. In `all` mode extra slots appear and disappear with
// their faces.
//
// Warp mode deforms each face (primary, or all) by the weights it does not already show:
// w_warp = shown - mirror (mirroring on; the photo already shows the person's expression),
// or shown (mirroring off: the photo is taken as neutral). The pose and scale come from
// FitHeadPose over the face's landmarks. Frames are copied once (FrameCopy) before warping.
//
// Threading: thread-compatible; one instance per stream. Allocation: per frame nothing once
// the frame size, the number of faces and the avatar are stable (the mirror solver sizes its
// buffers when a track appears).
//
// Example:
//   std::string err;
//   auto av = fg::render::FaceAvatar::Create(models_dir, &err);
//   if (!av) return err;
//   fg::InstructionError perr;
//   if (!av->SetInstruction("neutral, then very happy over 1 s", &perr)) ...;
//   av->Process(frame_faces, pts_ns, frame);   // writes blendshapes, renders
#pragma once

#include <array>
#include <cstdint>
#include <map>
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
#include "engine/avatar/mirror.h"
#include "engine/avatar/timeline.h"
#include "engine/draw/canvas.h"
#include "engine/face.h"
#include "engine/geometry/canonical_face.h"
#include "engine/render/avatar_head.h"
#include "engine/render/composite.h"
#include "engine/render/eyewear.h"
#include "engine/render/face_features.h"
#include "engine/render/face_texture.h"
#include "engine/render/gltf_avatar.h"
#include "engine/render/mouth.h"
#include "engine/render/rasterizer.h"
#include "engine/render/warp.h"

namespace fg::render {

enum class OutputMode { kReplace, kSideBySide, kPip, kWarp };
enum class FaceSelection { kPrimary, kAll };

struct FaceAvatarOptions {
  bool mirror = true;                  // mirroring on (the element's mode=mirror)
  // The mirror's appearance refinement (engine/avatar/appearance_refiner.h: Lucas-Kanade
  // on the skin texture, about 0.25 ms per face on this project's CPU). Off: the solve
  // reads the landmarks alone, 0.03 ms, and misses more (README "Avatar engine": jawOpen
  // 0.46 instead of 0.22 uncalibrated); for the smallest kiosks.
  bool refine = true;
  // Warp mode: redraw the inside of a mouth opened wider than the face's own
  // (engine/render/mouth.h: teeth move with their lips, a dark cavity between them). Off:
  // the plain piecewise-affine warp, which stretches the teeth.
  bool mouth_interior = true;
  // Warp mode: glasses keep their shape (engine/render/warp.h eyewear layer: the frame found
  // around the eyes stays where it is, the skin and brows move behind it by the full
  // deltas). Off (the default): the plain warp, which bends frames lying on moving brows.
  bool rigid_eyewear = false;
  OutputMode output = OutputMode::kPip;
  Shading shading = Shading::kLit;
  FaceSelection faces = FaceSelection::kPrimary;
  float pip_size = 0.3f;               // fraction of the frame's width and height
  double ease_s = 0.5;                 // face lost / found transitions
  std::array<uint8_t, 4> background{24, 26, 32, 255};
  int max_slots = 4;
};

class FaceAvatar {
 public:
  // Loads the canonical face from models_dir and builds the blendshape basis; errors name
  // the file.
  static std::unique_ptr<FaceAvatar> Create(const std::string& models_dir, std::string* err);

  // "" = the canonical face. A glTF file's targets are matched to the basis by ARKit name;
  // *warning names the ones ignored (one line; empty when none).
  bool SetAvatar(const std::string& path, std::string* err, std::string* warning);
  // The mirror's tracker-response calibration (engine/avatar/mirror.h step 5): a file from
  // tools/avatar/avatar-calibrate (SaveResponseBasis); "" = the geometric solve. Tracks
  // start over (their neutral is learned again). Errors name the file.
  bool SetCalibration(const std::string& path, std::string* err);
  // "" = none. Parse errors come back in *error (column, word, message).
  bool SetInstruction(std::string_view text, InstructionError* error);
  // JSON text of a timeline ("" = none); errors name the entry and key.
  bool SetTimeline(std::string_view json, std::string* err);
  void SetOptions(const FaceAvatarOptions& o) { opts_ = o; }
  const FaceAvatarOptions& options() const { return opts_; }

  // One frame: fills every face's blendshapes and draws into `frame` (its size and format
  // may change between calls). pts_ns < 0: 30 fps frame counting.
  void Process(FrameFaces& faces, int64_t pts_ns, const draw::MutableImageView& frame);
  // Forgets tracks, slots and clocks (flushing seek, new stream).
  void Reset();

  const BlendshapeBasis& basis() const { return *basis_; }
  // A glTF avatar's morph weights as last drawn, in its target order, and those targets'
  // names (both empty without one).
  const std::vector<float>& avatar_weights() const { return gltf_w_; }
  std::span<const std::string> avatar_target_names() const {
    return gltf_ ? std::span<const std::string>(gltf_->target_names) : std::span<const std::string>();
  }
  const CanonicalFace& canonical() const { return canonical_; }

 private:
  struct Slot {
    int64_t id = -1;          // face driving it; -1 = none in view
    bool present = false;
    double change_s = -1e9;   // when present last changed
    std::vector<float> from;  // mirror weights when the ease started
    Eigen::Matrix3f from_rot = Eigen::Matrix3f::Identity();
    std::vector<float> mirror;  // eased mirror weights shown now
    Eigen::Matrix3f rot = Eigen::Matrix3f::Identity();
    std::vector<float> shown;   // final weights
    // The mirror's measured 15 (mirror.h step 6), eased like `mirror`; they drive a glTF
    // avatar's targets of those names (the canonical avatar has none).
    std::array<float, kMeasuredCount> measured{}, from_measured{};
    Gaze gaze{};                // the driving face's (face_features.h); zero without iris
  };

  FaceAvatar() = default;
  double Seconds(int64_t pts_ns);
  void UpdateSlot(Slot& s, const MirrorResult* live, double t);
  void RenderPanel(const draw::MutableImageView& frame);
  void WarpFaces(FrameFaces& faces, const draw::MutableImageView& frame);

  FaceAvatarOptions opts_;
  CanonicalFace canonical_;
  std::optional<BlendshapeBasis> basis_;
  std::unique_ptr<MirrorSolver> mirror_;
  WeightCurve instruction_;
  std::optional<Timeline> timeline_;
  std::optional<GltfAvatar> gltf_;
  Texture face_texture_;  // the canonical avatar's (MakeFaceTexture)
  AvatarHead head_;       // and its hair, ears and neck (MakeAvatarHead)
  std::vector<std::array<float, 3>> head_scratch_;
  std::vector<int> gltf_index_;  // basis target -> avatar target (-1: none)
  std::array<int, kMeasuredCount> gltf_measured_index_{};  // measured -> avatar target (-1)
  std::vector<std::string> measured_names_;  // kMeasuredBlendshapes as strings

  // Clocks.
  int64_t frames_ = 0;
  std::optional<int64_t> first_pts_;
  double overlay_origin_s_ = 0;
  bool overlay_origin_pending_ = true;

  std::vector<Slot> slots_;
  std::vector<float> overlay_, scratch_w_;
  std::vector<float> gltf_w_;
  std::vector<std::array<float, 3>> morphed_, deltas_, target_;
  Rasterizer raster_;
  RgbaImage left_, panel_;  // panel_: the rasterized panel with the face's features
  FrameCopy copy_;
  std::unique_ptr<FaceWarp> warp_;
  MouthInterior mouth_;
};

}  // namespace fg::render
