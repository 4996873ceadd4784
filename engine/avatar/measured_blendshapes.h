// The 15 ARKit blendshapes the expression basis (blendshapes.h, 37 targets) has no morph
// target for, measured directly from the tracked mesh by geometric definitions. The mirror
// (mirror.h) solves the 37 by least squares; these 15 are read from what that solve leaves
// unexplained (the residual), or, for the eyes, from the iris landmarks.
//
// Inputs, all in the mirror's normalised canonical frame (centimetres; +x the subject's
// left, +y up, +z towards the camera; mirror.h step 1):
//   residual   per vertex, the tracked mesh minus the track's neutral minus the solved
//              basis targets' displacement (sum_k w_k D_k). Only kMeasuredVertices are read.
//   points     the normalised mesh itself (468 entries; eye corners for the gaze).
//   iris       the two iris centres (FaceMesh + Iris landmarks 468 = the subject's left,
//              473 = the right, normalised the same way), or none.
//
// Definitions (weights clamped to 0..1; "full" is the displacement at weight 1):
//   eyeLook{In,Out,Up,Down}{Left,Right}
//              per eye, the iris centre's offset from the middle of its corners
//              (263/362 left, 33/133 right), across along the corner axis (h) and up,
//              perpendicular to it in the x-y plane (v). An eyeball of 1.2 cm radius turned
//              by 30 degrees moves the iris centre 0.6 cm: full across = 0.6 cm, full up or
//              down = 0.5 cm (about 25 degrees; the vertical range is smaller). Out = away
//              from the nose (+x for the left eye, -x for the right), In = towards it.
//              The rest position is the corners' middle, as on the canonical face (its
//              lid middles 386/374 sit midway between the corners, to 0.01 cm). Without
//              iris landmarks all eight are 0.
//   jawLeft / jawRight
//              the mean x residual of the chin (152 and its neighbours 148, 377, 176, 400):
//              towards +x = jawLeft (the subject's left). Full = 1.0 cm, the mandible's
//              normal maximal lateral excursion (8-12 mm, e.g. Posselt's envelope; clinical
//              norm about 10 mm).
//   jawForward the mean z residual of the same chin vertices, forward. Full = 0.8 cm (normal
//              maximal protrusion 7-10 mm).
//   mouthRollUpper
//              the upper lip's red part rolling in: its height (outer contour 0 / 37 / 267
//              above inner 13 / 82 / 312) shrinking, from the residual: full = 0.35 cm, 60 %
//              of the canonical face's 0.58 cm (a lip rolled in shows little red).
//   mouthRollLower
//              the same for the lower lip (inner 14 / 87 / 317 above outer 17 / 84 / 314):
//              full = 0.5 cm, 60 % of its 0.83 cm.
//   mouthShrugUpper
//              the upper lip pushed up as a whole (both its contours: 0, 37, 267, 13, 82,
//              312): the mean y residual, up; full = 0.3 cm (chosen: about mouthShrugLower's
//              0.3 cm lift of the chin boss, which pushes it).
//   tongueOut  always 0: FaceMesh has no tongue landmark, so the mesh cannot show it.
// Where a "full" amount says "chosen", no published figure was at hand.
//
// Threading: plain functions, no state. Allocation: none.
//
// Example (inside the mirror, after the solve):
//   float w[fg::kMeasuredCount];
//   fg::MeasureBlendshapes(residual, points, iris_ok ? &iris : nullptr, w);
#pragma once

#include <array>
#include <span>

namespace fg {

inline constexpr int kMeasuredCount = 15;
// ARKit names, in output order.
inline constexpr std::array<const char*, kMeasuredCount> kMeasuredBlendshapes = {
    "eyeLookDownLeft", "eyeLookInLeft",   "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "jawForward",      "jawLeft",         "jawRight",       "mouthRollLower",
    "mouthRollUpper",  "mouthShrugUpper", "tongueOut"};

// The vertices whose residual MeasureBlendshapes reads.
inline constexpr std::array<int, 17> kMeasuredVertices = {152, 148, 377, 176, 400, 0,  37, 267, 13,
                                                          82,  312, 14,  87,  317, 17, 84, 314};

// Full-weight displacements (cm), as documented above.
inline constexpr float kGazeAcrossFullCm = 0.6f;
inline constexpr float kGazeVerticalFullCm = 0.5f;
inline constexpr float kJawSideFullCm = 1.0f;
inline constexpr float kJawForwardFullCm = 0.8f;
inline constexpr float kRollUpperFullCm = 0.35f;
inline constexpr float kRollLowerFullCm = 0.5f;
inline constexpr float kShrugUpperFullCm = 0.3f;

// residual: 468 entries (only kMeasuredVertices read); points: 468; iris: [0] the subject's
// left iris centre, [1] the right, or nullptr; out: kMeasuredCount weights in
// kMeasuredBlendshapes order. Fewer than 468 entries: all 0.
void MeasureBlendshapes(std::span<const std::array<float, 3>> residual,
                        std::span<const std::array<float, 3>> points,
                        const std::array<std::array<float, 3>, 2>* iris, std::span<float> out);

}  // namespace fg
