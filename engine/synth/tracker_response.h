// Tracker response calibration for MirrorSolver (issue 7, engine/avatar/mirror.h step 5):
// per blendshape target, the landmark displacement a FaceTracker actually reports when a
// face photo is warped by that target, in the mirror's normalised canonical cm, per unit
// weight.
//
//   photo ──[calibration rendering: mirrored left-right, scaled, rolled about its centre]──► P
//   P ──ExpressionTrack (its own FaceTracker fit of P)──► warp by target i at weight w
//     ──FaceTracker (the options given: same models, smoothing, iris as at run time)──►
//     ──MirrorSolver::Normalise──► mean over the held frames minus P's neutral = d_i(w)
//   response_i = sum_w w d_i(w) / sum_w w^2          (least squares through 0 over weights)
//   [several views: their mean; support_cm: zero outside the target's own region]
//   [symmetrise: response_L(v) = 1/2 (response_L(v) + mirror(response_R)(mirror v)), and
//    the twin likewise, as the basis's own L/R pairs are exact mirrors]
//
// The tracker runs as on video: a neutral lead-in, then for each target and weight
// settle_frames frames (the crop follows the landmarks) before frames_per_weight frames
// are averaged, then neutral frames again. The rendering is deliberately NOT the one a
// closed-loop test uses (the default mirrors the photo, scales it by 0.9 and rolls it by 8
// degrees, and drives weights 0.5 and 1.0), so a test on the original photo measures
// transfer, not a fit to its own frames. Mirroring also makes the face's two sides swap
// roles (near/far side of her slight turn); symmetrising averages them.
//
// What it buys is measured on the astronaut by tests/avatar/closed_loop_test (the window
// MAE per target with and without the calibration: docs/avatar.md, "Closed-loop figures").
// support_cm > 0 sharpened the blinks but coupled the smiles (FaceMesh moves both mouth
// corners for one), so it is off.
//
// Cost per view: lead_in_frames + targets x (weights x (settle_frames + frames_per_weight) +
// settle_frames) tracker runs and warps; all 37 targets with the defaults: 563 frames, about
// 2 s on one core (iris on).
//
// Threading: a plain function; creates its own tracker and warp.
//
// Example:
//   fg::ResponseCalibrationOptions o;  o.tracker = tracker_opts;  // as the pipeline runs it
//   auto r = fg::MeasureTrackerResponse(photo, o, &err);
//   fg::SaveResponseBasis(*r, cache_dir + "/facemesh_response.fgrb", &err);
//   mirror.SetResponseBasis(*r, &err);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/avatar/mirror.h"
#include "engine/image.h"
#include "engine/tracking/face_tracker.h"

namespace fg {

struct ResponseCalibrationOptions {
  TrackerOptions tracker;              // models_dir must be set; smoothing/iris as at run time
  std::vector<float> weights{0.5f, 1.0f};
  std::vector<std::string> targets;    // ARKit names; empty = every target of the basis
  // The calibration renderings of the photo (about its centre): mirrored left-right,
  // scaled, rolled counter-clockwise on screen (degrees). The response is their mean.
  struct View {
    bool mirror = true;
    float scale = 0.9f;
    float roll_deg = 8.0f;
  };
  std::vector<View> views{{true, 0.9f, 8.0f}};
  // Support: a target's response is kept only where its geometric delta is at least this
  // long (cm; 0 keeps every vertex). Elsewhere the tracker's reply is mostly the rendering's
  // own quirks (a rigid-fit wobble, a neighbouring feature dragged along) that would let
  // targets cancel each other.
  float support_cm = 0.0f;
  int lead_in_frames = 8;              // neutral frames first (the neutral: all but the first 3)
  int settle_frames = 3;               // per weight, before averaging (and neutral after)
  int frames_per_weight = 3;
  bool symmetrise = true;              // average each L/R pair with its mirror image
  // Measure through the appearance refinement (mirror.h step 1b) as the mirror runs with
  // pictures: the response is then that of tracker + refinement. Off: the tracker alone
  // (for a mirror that is given no pictures).
  bool appearance = true;
  AppearanceOptions appearance_options;
};

// A per-subject calibration (what tools/avatar/avatar-calibrate and the closed-loop test
// use): three unmirrored renderings of the subject's own neutral photo (rolled +5 and -5
// degrees at its own size, and 0.95x unrolled), measured through the appearance
// refinement, not symmetrised (a real face's two sides answer differently). The mirror
// then solves against how this tracker reads this face, as a user would record a few
// expressions once. Take the photo where the subject will be seen from: the reply to some
// targets depends on the face's size in the picture (on the astronaut, browInnerUp
// calibrated at 1.1x her size reads 0.19 MAE off, at her size 0.04).
ResponseCalibrationOptions SubjectCalibrationOptions(const TrackerOptions& tracker);

// nullopt and *error (names the model file, "no face", a target not in the basis, or the
// tracker losing the face at a named target and weight) on failure. The result's
// provenance records the options.
std::optional<ResponseBasis> MeasureTrackerResponse(const ImageView& photo,
                                                    const ResponseCalibrationOptions& opts,
                                                    std::string* error);

// The calibration rendering alone (RGB, the photo's size): for tools and tests.
std::vector<uint8_t> CalibrationRendering(const ImageView& photo, bool mirror, float scale,
                                          float roll_deg);

}  // namespace fg
