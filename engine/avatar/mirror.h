// Mirroring: the blendshape weights (and head rotation) that reproduce a tracked face's
// expression on the avatar, per track, every frame.
//
//   Face.landmarks (468, frame px) ──rigid fit──► canonical cm ──minus track neutral──► r
//   r ──bounded least squares over the basis deltas──► w (0..1) ──One Euro──► weights
//
// 1. Pose normalisation: a similarity (Umeyama) fit of the landmarks to the canonical face
//    (FitHeadPose, head_pose.h) over the "rigid" vertices only: those no basis target moves
//    by more than kRigidThreshold (0.01 cm; 112 of 468: forehead, nose, temples, jaw line),
//    so an expression does not tilt the fit. Every landmark is then mapped into canonical
//    cm: p = R^T (q - t) / s with q = (x, -y, -z) in pixels.
// 1b. Appearance (with a picture, MirrorOptions::appearance): FaceMesh's landmarks follow
//    an expression only partly (5. below). AppearanceRefiner (appearance_refiner.h) maps
//    the skin texture into the canonical frontal plane through the tracked mesh, aligns it
//    with the track's neutral texture (learned over the same window as the neutral mesh)
//    by Lucas-Kanade per expressive vertex, and moves each such vertex to where its
//    neutral texture went. The solve then sees the face's real displacement and the
//    geometric basis fits it (closed loop: tests/avatar/closed_loop_test).
// 2. Neutral (the baseline; docs/baselines.md): a person may arrive with an expression, so
//    the first second is not taken as neutral. Per track:
//    evidence E  the per-coordinate median of the stored frames at rest. Stored: every
//                frame of the first calibration_s (at least min_calibration_frames), then
//                one per evidence_period_s (2 s), the last kMaxCalibrationFrames (32, about
//                64 s). At rest: the frames whose activation is within 0.05 of the lowest
//                stored (at least 3), activation = the frame's facial action measures
//                (face_actions.h) over their full scales: |smile - prior| + |brow - prior|
//                + mouth and jaw opening above the lowest stored. E absorbs the person's
//                own face shape (and a blink); it follows the face to rest within a few
//                samples once it relaxes. The texture template of step 1b stays the one
//                learned over the first window.
//    The prior acts through scalar measures, not the mesh: FaceMesh's output on a real face
//    at rest differs from the canonical mesh by far more than an expression (figures:
//    docs/baselines.md), so the mesh itself cannot say "this is a smile". The facial action
//    measures (engine/emotion/face_actions.h: in IOD units, pose-free) are much closer
//    across faces. Per row of kPriorRows (smile -> mouthSmileLeft + mouthSmileRight,
//    jaw -> jawOpen):
//    m_E         the row's measure of E (MeasureFaceActions on the normalised mesh);
//    band        m_E may exceed the prior (kPopulationNeutral, the canonical face's measure)
//                by FaceActionOptions' band x prior_band_scale (2: the mirror's own rigid fit
//                tilts the smile measure by a few 0.001 IOD): 0.01 IOD for the smile,
//                0.3 IOD for the jaw, and be accepted as neutral;
//    allowance   follows the excess beyond the band with beyond_band_tau_s (300 s) while it
//                grows, drops to it at once when it shrinks (as in face_actions.h);
//    neutral N = E - sum_rows (excess / gain) sum_{row's targets} D_k, gain = the measure's
//                change for a unit weight on all the row's targets (from the solve's
//                deltas D, so a measured response basis gives the tracker's own gain).
//    A face that starts neutral has m_E inside the band: N = E, as before. A smile held
//    from the first frame keeps reading its size beyond the band, less the allowance (about
//    0.18 of it after 60 s); once the face relaxes for three samples (6 s), those frames
//    are E and the smile reads in full. Until the track has calibration_s and
//    min_calibration_frames of frames the weights are 0 and `calibrated` is false.
//    With use_prior false, N = E (the frames at rest are neutral, whatever they show: the
//    closed-loop tests, whose truth is relative to a smiling photo).
// 3. Solve: min_w 1/2 sum_v c_v |D(v) w - r(v)|^2 + ridge/2 |w|^2 + sparsity sum_i w_i,
//    0 <= w_i <= solve_upper, D the basis deltas (c_v = 1 for x and y, z_weight for z: FaceMesh's
//    depth is the noisiest). The sparsity term (an L1 penalty, linear on w >= 0) stops
//    antagonists (eyeBlink and eyeWide, mouthPress and mouthLowerDown, ...) from both
//    switching on to cancel each other and fit noise; it lowers a lone target's weight by
//    sparsity / |D_i|^2 (about 0.01 for the weakest targets at the default). The box is
//    [0, solve_upper] (1.2) and the outputs are clamped to [0, 1]: a bound at exactly 1
//    would clip noise on one side only and bias a target at full strength low. The normal matrix
//    D^T C D + ridge I is precomputed at construction; each frame forms D^T C r
//    (468 x 3 x n) and solves the box-constrained problem exactly with an active-set
//    method (BVLS, Stark & Parker 1995: Cholesky on the free targets, steps clipped to
//    the box, KKT check), warm-started from the track's previous active set.
//    eyeBlink and eyeWide of one eye are solved exclusively: when both come out active,
//    the problem is solved again with each held at 0 and the lower objective kept (one eye
//    after the other, a decided pair keeping its held target). Why: on real raised brows
//    and lids the L1 term alone lets eyeWide (whose delta drags the skin up to the brow)
//    and eyeBlink (putting the lid margin back) both switch on and cancel (real-face
//    figures: docs/avatar.md section 5).
//    With pictures (1b) each refined vertex's x-y residual is weighted by a 2x2 block,
//    I + (its window's texture structure tensor) / texture_floor^2: a vertex on a brow's or
//    a lid's edge pins the solve along the edge's normal, a vertex on bare skin counts as
//    before. That normal matrix (and the ridge and L1 terms, scaled by the mean weight) is
//    built per track once its texture template is learned.
// 4. Smoothing: a One Euro filter per weight (speed in weight units per second), little
//    lag on fast moves, no jitter at rest; clamped to [0, 1] again.
// 5. Tracker response (optional, SetResponseBasis): a tracker does not report the geometric
//    deltas. FaceMesh's landmarks follow a warped picture by a fraction of the displacement
//    that differs per target (figures: docs/avatar-engine.md, "Per-subject calibration"), so
//    the geometric basis reads every target low. A ResponseBasis holds,
//    per target, the displacement the tracker actually reports for a unit weight, in the
//    solver's own normalised canonical cm (step 1); with it the solve uses those vectors in
//    place of the basis deltas (targets it lacks keep theirs). Everything else (rigid fit,
//    neutral, bounds, sparsity, smoothing) is unchanged. Measured by MeasureTrackerResponse
//    (engine/synth/tracker_response.h); saved and loaded by Save/LoadResponseBasis (a small
//    binary file, see there). Without it the solver is exactly the geometric one.
// 6. The 15 ARKit blendshapes the basis lacks (eyeLook*, jawForward/Left/Right,
//    mouthRollUpper/Lower, mouthShrugUpper, tongueOut) are measured geometrically
//    (measured_blendshapes.h): the jaw and lip ones from the solve's residual at the chin and
//    the lips (the offsets minus the solved targets' displacement), the gaze from the iris
//    landmarks (478-point faces, the tracker's iris option) in the same normalised frame;
//    each One Euro smoothed like the solved weights. They are written to `measured` and into
//    `blendshapes` next to the 37, so the map carries all 52 ARKit names.
// Head rotation: the fit's rotation (head -> camera, x right, y up, z to camera) and its
// yaw/pitch/roll in head_pose.h's convention (not smoothed here: the tracker already
// smooths the landmarks).
//
// Threading: thread-compatible; one instance per stream. Update on a known track does not
// allocate (buffers are sized when the track appears).
//
// Example:
//   fg::MirrorSolver mirror(canonical, basis);
//   for (fg::Face& f : frame.faces)
//     if (const fg::MirrorResult* m = mirror.Update(f, pts_ns, width, height))
//       f.blendshapes = m->blendshapes;
//   mirror.DropStale(pts_ns);
// With the tracker-response calibration (5.):
//   auto r = fg::LoadResponseBasis(path, &err);   // or fg::MeasureTrackerResponse(...)
//   if (!r || !mirror.SetResponseBasis(*r, &err)) log(err);   // else: geometric solve
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/avatar/appearance_refiner.h"
#include "engine/avatar/blendshapes.h"
#include "engine/avatar/measured_blendshapes.h"
#include "engine/emotion/face_actions.h"
#include "engine/face.h"
#include "engine/geometry/canonical_face.h"
#include "engine/tracking/one_euro.h"

namespace fg {

inline constexpr float kRigidThreshold = 0.01f;  // cm
inline constexpr int kMaxCalibrationFrames = 32;
inline constexpr int kMaxTargets = 64;  // the solver's stack workspace (the basis has 37)

struct MirrorOptions {
  double calibration_s = 1.0;
  int min_calibration_frames = 5;
  // The baseline (step 2 above).
  bool use_prior = true;
  double evidence_period_s = 2.0;
  float prior_band_scale = 2.0f;     // x the rows' bands (FaceActionOptions' defaults)
  double beyond_band_tau_s = 300.0;  // the allowance's time constant
  float ridge = 1e-3f;      // in cm^2 per unit weight^2; keeps near-collinear targets stable
  float sparsity = 0.006f;  // L1 penalty in cm^2 per unit weight (see 3. above)
  // The solve's upper bound (outputs are clamped to 1): above 1 so that a target at full
  // strength is not biased below 1 by noise clipped on one side only.
  float solve_upper = 1.2f;
  float z_weight = 0.5f;  // weight of the z residual relative to x and y
  bool smoothing = true;
  OneEuroParams smoothing_params{.min_cutoff = 3.0, .beta = 5.0, .d_cutoff = 1.0};
  double track_timeout_s = 1.0;  // DropStale
  // Appearance refinement (step 1b above, engine/avatar/appearance_refiner.h): used on the
  // frames Update is given a picture with.
  bool appearance = true;
  AppearanceOptions appearance_options;
  // With refined frames, weigh each refined vertex's x-y residual by its texture (see
  // BuildTextureWeights); off: every coordinate counts as in the plain solve.
  bool texture_weights = true;
  // eyeBlink and eyeWide of one eye never both (step 3); false: the plain BVLS.
  bool exclusive_antagonists = true;
};

// Per target, the landmark displacement a tracker reports for a unit weight (see 5. above).
struct ResponseBasis {
  std::vector<std::string> names;                        // ARKit names
  std::vector<std::vector<std::array<float, 3>>> deltas;  // per name, 468 entries, cm
  std::string provenance;  // how it was measured (free text, kept in the file)
};
// File format (little-endian): "FGRB1\n", u32 target count, u32 vertex count (468),
// u32 provenance length + bytes, then per target u32 name length + name bytes +
// vertex count x 3 float32. 37 targets: about 210 kB. Errors name the file and the cause.
bool SaveResponseBasis(const ResponseBasis& r, const std::string& path, std::string* error);
std::optional<ResponseBasis> LoadResponseBasis(const std::string& path, std::string* error);
// The same from the file's bytes; `name` (a path) starts every error message.
std::optional<ResponseBasis> ParseResponseBasis(std::string_view bytes, std::string_view name,
                                                std::string* error);
// SetResponseBasis refuses a displacement beyond this (cm per unit weight, any axis).
inline constexpr float kMaxResponseCm = 20.0f;

struct MirrorResult {
  int64_t id = -1;
  int64_t pts_ns = -1;
  bool calibrated = false;
  std::vector<float> weights;                              // basis order, 0..1 (smoothed)
  // The measured 15 (step 6), kMeasuredBlendshapes order, 0..1 (smoothed).
  std::vector<float> measured;
  // ARKit name -> weight: the basis's 37 (same values as `weights`) and the measured 15.
  std::map<std::string, float> blendshapes;
  Eigen::Matrix3f rotation = Eigen::Matrix3f::Identity();  // head -> camera
  float yaw = 0, pitch = 0, roll = 0;                      // degrees (head_pose.h)
  // RMS of the solve's residual over all vertices (cm; with a picture, weighted as the
  // texture-weighted solve weighs each coordinate)
  float residual_cm = 0;
  uint64_t updates = 0;
};

class MirrorSolver {
 public:
  MirrorSolver(const CanonicalFace& canonical, const BlendshapeBasis& basis,
               const MirrorOptions& opts = {});

  // One face of one frame (pts in ns, increasing per track). nullptr when the face has no
  // 468-point mesh. The result stays valid until the track is dropped. With `frame` (the
  // picture the landmarks were found in, its size frame_width x frame_height) and
  // opts.appearance, the expressive vertices are refined from the skin texture (step 1b);
  // a track whose neutral was learned without pictures solves from the landmarks alone.
  const MirrorResult* Update(const Face& face, int64_t pts_ns, int frame_width, int frame_height,
                             const ImageView* frame = nullptr);
  const MirrorResult* Get(int64_t id) const;
  bool DropTrack(int64_t id);
  // Drops tracks not updated within track_timeout_s of now; returns how many.
  size_t DropStale(int64_t now_ns);
  size_t size() const { return tracks_.size(); }

  // The parts, for tests and tools:
  // Landmarks (frame px) -> canonical cm (out: 468 entries); the fit's rotation and scale.
  // `translation` (optional): the fit's t, so that any landmark q (frame px) maps to
  // R^T ((q.x, -q.y, -q.z) - t) / s.
  bool Normalise(const std::vector<std::array<float, 3>>& landmarks, int frame_width,
                 int frame_height, std::span<std::array<float, 3>> out, Eigen::Matrix3f* rotation,
                 float* scale, Eigen::Vector3f* translation = nullptr) const;
  // Bounded least squares for offsets from neutral (canonical cm, 468 entries); weights
  // (basis.size() entries) hold the warm start on entry and the solution on return, in
  // [0, solve_upper] (Update clamps to [0, 1] after smoothing). Returns the RMS residual in
  // cm (the "C"-weighted one, z counted at z_weight).
  float Solve(std::span<const std::array<float, 3>> offsets, std::span<float> weights) const;

  // Solves against `r` instead of the geometric deltas (targets of the basis that `r` lacks
  // keep their deltas; names `r` has that the basis lacks are ignored). False and *error
  // (naming the target) when an entry does not have 468 vertices or holds a non-finite
  // value, or `r` matches no target; the solver is then unchanged. Existing tracks keep
  // their neutral.
  bool SetResponseBasis(const ResponseBasis& r, std::string* error);
  // How many targets solve against a measured response (0: the geometric solver).
  int response_targets() const { return response_targets_; }
  // Vertices the appearance refinement moved on the track's last update (0: none, or no
  // picture, or not calibrated yet).
  int refined_vertices(int64_t id) const;

  const BlendshapeBasis& basis() const { return basis_; }
  const std::vector<int>& rigid_vertices() const { return rigid_; }

 private:
  struct Track {
    MirrorResult result;
    int64_t start_ns = -1;
    int calib_count = 0;       // stored frames (up to kMaxCalibrationFrames)
    int calib_head = 0;        // the ring's next slot once full
    int64_t last_sample_ns = 0;
    std::vector<float> calib;  // kMaxCalibrationFrames x (468*3) normalised meshes (a ring)
    std::vector<FaceActionMeasures> measures;  // per stored frame (its activation's input)
    std::vector<float> activation;             // per stored frame (step 2)
    std::array<float, 2> allowance{};          // per prior row
    std::vector<int> order;                    // scratch: stored frames by activation
    std::vector<float> column;                 // scratch: one coordinate's values
    std::vector<std::array<float, 3>> lm;      // scratch: E as landmarks, for the measures
    std::vector<std::array<float, 3>> neutral, points, offsets;
    std::vector<float> raw;  // unsmoothed solution (the warm start)
    std::vector<OneEuroFilter> filters;
    std::vector<std::array<float, 3>> residual;  // step 6: kMeasuredVertices filled, rest 0
    std::vector<OneEuroFilter> measured_filters;
    AppearanceRefiner::State appearance;  // sized when the track appears (with a refiner)
    // The texture-weighted solve (step 3 with a picture), built when the template is.
    std::vector<float> wdt, wnormal, wsparsity, wridge;
    std::vector<std::array<float, 3>> wc;  // per vertex: cxx, cxy, cyy
    double wc_sum = 0;                     // sum of the diagonal weights (z at z_weight)
  };
  void BuildTextureWeights(Track& t) const;
  float WeightedResidual(const Track& t, const float* b, const float* r) const;
  // Stores t.points as evidence (the ring) with its activation.
  void AddEvidence(Track& t) const;
  // The neutral from the evidence, the prior and the allowances (dt_s: time since the last
  // neutral; step 2).
  void Calibrate(Track& t, double dt_s) const;
  void BoundedSolve(const float* b, std::span<float> w, const float* normal,
                    const float* sparsity) const;
  // One BVLS; targets whose bit is set in `pinned` are held at 0.
  void BoundedSolveOnce(const float* b, std::span<float> w, const float* normal,
                        const float* sparsity, uint64_t pinned) const;
  // dt_ and normal_ from the solve deltas (468 x 3 per target).
  void BuildNormal(const std::vector<const std::vector<std::array<float, 3>>*>& deltas);

  MirrorOptions opts_;
  CanonicalFace fit_face_;  // the canonical face with the rigid vertices as its fit basis
  BlendshapeBasis basis_;
  std::vector<int> rigid_;
  int n_ = 0;                  // targets
  std::vector<float> dt_;      // n x (468*3): C D^T, row-major (target, coordinate)
  std::vector<float> d_;       // n x (468*3): D, the solve's deltas
  // Per prior row (step 2): its targets' indices (-1: not in the basis) and the measure's
  // change for a unit weight on all of them.
  std::array<std::array<int, 2>, 2> prior_targets_{};
  std::array<float, 2> prior_gain_{};
  std::vector<float> normal_;  // n x n: D^T C D + ridge I
  std::vector<std::pair<int, int>> exclusive_;  // antagonist pairs solved exclusively
  std::vector<float> ridge_, sparsity_;  // per target (scaled for a response, see BuildNormal)
  int response_targets_ = 0;
  std::shared_ptr<const AppearanceRefiner> refiner_;  // null: opts_.appearance off
  std::map<int64_t, Track> tracks_;
};

}  // namespace fg
