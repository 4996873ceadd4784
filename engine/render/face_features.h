// The default avatar's moving details, drawn over the rasterized canonical face each frame
// (faceavatar's panel without a glTF file; tools/avatar/avatar-prototypes --avatar-sheet):
//
//   eyes   iris (0.21 of the eye's width in radius) and pupil at the tracked gaze, clipped
//          to the morphed lid contour (16 points per eye), so they follow the eyes when
//          the face's iris landmarks are there (tracker option iris) and vanish as
//          eyeBlink brings the lids together. The texture carries the white (MakeFaceTexture
//          with iris = false).
//   mouth  inside the morphed inner-lip contour (78 .. 308 .. 78), where it has opened:
//          per column across the mouth, the upper teeth hang from the upper lip (up to
//          0.45 cm, at most 45 % of the opening, with a gap line between teeth every
//          0.55 cm), the lower teeth stand on the lower lip (up to 0.25 cm, at most 25 %),
//          the tongue (a rounded mound, up to 40 % of the opening, from the lower teeth
//          up) and the dark cavity (mouth.h kMouthCavity) between. Only columns opened
//          beyond the rest pose's own gap (neutral 13 - 14) are drawn, and nothing when the
//          mouth opens less than 0.05 cm beyond it.
//   blink  the iris fades out as the lids' middle gap closes from 0.15 cm to 0.
//
//   wrinkles  FACS's appearance changes as soft dark lines on the surface, each as strong
//          as the mesh's own motion says its AU is (none at rest): AU4 vertical furrows
//          between the brows (inner brows drawn in, 0.4 cm = full), AU1/2 three horizontal
//          forehead lines (brows' mean rise, 0.8 cm = full), AU9 creases across the nose's
//          bridge (nose wings' rise, 0.45 cm = full), AU12 the nasolabial furrow from the
//          nose wing to beyond the lip corner (the corner's upward move, 0.97 cm = full).
//
// Depth: a pixel is drawn only where the rasterized face's depth there is within 0.8 cm of
// the feature's own (the nose hides the far eye of a turned head).
//
// Gaze: per eye, the iris centre's offset from the middle of the eye corners in eye
// half-widths, +x towards the subject's left (canonical +x), +y up; clamped to +-0.6.
// GazeFromLandmarks reads it from a face's 478 landmarks (FaceMesh + Iris: 468..472 the
// subject's left iris, 473..477 the right), in each eye's own corner frame (so head roll
// does not count as gaze); fewer landmarks: zero (eyes forward).
//
// Threading: plain functions; DrawFaceFeatures writes only `panel`. Allocation: none.
//
// Example (after raster.Draw(mesh of `morphed`, rot, cam, ...)):
//   panel = raster.image();                      // a copy to draw on
//   fg::render::DrawFaceFeatures(raster, morphed, canonical.vertices, rot, cam,
//                                GazeFromLandmarks(face.landmarks), panel);
#pragma once

#include <array>
#include <span>

#include <Eigen/Core>

#include "engine/render/composite.h"
#include "engine/render/rasterizer.h"

namespace fg::render {

struct EyeGaze {
  float x = 0, y = 0;
};
// [0] the subject's left eye (landmarks 263/362), [1] the right (33/133).
using Gaze = std::array<EyeGaze, 2>;

Gaze GazeFromLandmarks(std::span<const std::array<float, 3>> landmarks);

// morphed: the 468 canonical vertices as drawn (fewer: nothing is drawn); neutral: the
// unmorphed canonical vertices (the mouth's rest gap); rotation and camera: as given to
// Rasterizer::Draw; panel: raster's image (same size) to draw into.
void DrawFaceFeatures(const Rasterizer& raster, std::span<const std::array<float, 3>> morphed,
                      std::span<const std::array<float, 3>> neutral,
                      const Eigen::Matrix3f& rotation, const Camera& camera, const Gaze& gaze,
                      RgbaImage& panel);

// Colours (RGB), for tests.
inline constexpr std::array<uint8_t, 3> kIrisColour = {78, 104, 128};
inline constexpr std::array<uint8_t, 3> kPupilColour = {18, 16, 18};
inline constexpr std::array<uint8_t, 3> kTeethColour = {236, 232, 218};
inline constexpr std::array<uint8_t, 3> kTongueColour = {214, 120, 128};

}  // namespace fg::render
