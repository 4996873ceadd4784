// The default avatar's moving details, drawn over the rasterized canonical face each frame
// (faceavatar's panel without a glTF file; tools/avatar/avatar-prototypes --avatar-sheet):
//
//   eyes   iris (0.21 of the eye's width in radius, a darker limbus ring) and pupil at the
//          tracked gaze, centred on the eye's rest position (the eyeball does not move with
//          the lids: eyeWide bares the white above it, eyeSquint covers its bottom), clipped
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
//   wrinkles  FACS's appearance changes (Ekman & Friesen's FACS manual, per AU), which a
//          smooth avatar's geometry cannot show, as soft lines on the surface (a fine
//          wrinkle darkens at most 22 %; a furrow deep enough to hold a shadow, AU4's, AU9's,
//          the nasolabial furrow and AU15's fold, 40 %), each only where FACS puts it and as
//          strong as its AU (none at rest):
//            AU1   horizontal lines in the middle of the forehead only
//            AU2   horizontal lines over the outer forehead (fading with AU4: fear's
//                  1+2+4 wrinkles the centre only)
//            AU4   short vertical furrows between the brows; an oblique fold running up
//                  and in from each inner brow
//            AU6   crow's feet fanning from the outer eye corners; the furrow below the
//                  lower lid
//            AU9   creases across the root of the nose and along its sides
//            AU12  the nasolabial furrow deepened from the nose wing to beyond the lip
//                  corner (AU9/AU10 deepen its upper part)
//            AU15  a short fold below and beside each lip corner, and the lip line
//                  angled down past each corner (0.4 cm out, 0.3 cm down)
//            AU23/24  (weights only) the lips' red narrowed: the outer 45 % of each lip's
//                  red takes the skin's colour from just outside it; the seam between the
//                  pressed lips a firm dark line from corner to corner
//          Intensities come from the weights (WrinkleDriveFromWeights: browInnerUp,
//          browOuterUp*, browDown*, cheekSquint*, noseSneer*, mouthUpperUp*, mouthSmile*,
//          mouthFrown*),
//          or, without them, from the mesh's own motion (inner brows drawn in 0.4 cm = AU4
//          full, inner / outer brows raised 0.8 cm = AU1 / AU2 full, nose wings raised
//          0.45 cm = AU9 full, lip corner moved up 0.97 cm = AU12 full, down 0.5 cm = AU15
//          full, cheek raised 0.5 cm = AU6 full).
//
//   brow shadow  under light from above, a brow lowered towards the eye (AU4) shades the
//          upper lid: the band between the brow's lower edge and the upper lid darkens by up
//          to 35 %, in proportion to how far the brow came down towards the lid (0.5 cm =
//          full), most under the brow.
//
// Light: the default avatar is lit from above and in front (kAvatarLight: 35 degrees up,
// slightly from the subject's left), as faces usually are (a ceiling light, the sky), so the
// mesh's own relief shows as it does in a photograph: the brow ridge over the eyes, the
// underside of the nose, a cheek pushed up by a smile.
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
//   const fg::render::WrinkleDrive aus = fg::render::WrinkleDriveFromWeights(basis, w);
//   fg::render::DrawFaceFeatures(raster, morphed, canonical.vertices, rot, cam,
//                                GazeFromLandmarks(face.landmarks), panel, &aus);
#pragma once

#include <array>
#include <span>

#include <Eigen/Core>

#include "engine/avatar/blendshapes.h"
#include "engine/render/composite.h"
#include "engine/render/rasterizer.h"

namespace fg::render {

struct EyeGaze {
  float x = 0, y = 0;
};
// [0] the subject's left eye (landmarks 263/362), [1] the right (33/133).
using Gaze = std::array<EyeGaze, 2>;

Gaze GazeFromLandmarks(std::span<const std::array<float, 3>> landmarks);

inline constexpr Light kAvatarLight{{0.15f, 0.7f, 1.0f}, 0.3f, 0.7f};

// Action-unit intensities (0..1) that drive the wrinkles.
struct WrinkleDrive {
  float au1 = 0, au2 = 0, au4 = 0, au6 = 0, au9 = 0, au10 = 0, au12 = 0, au15 = 0;
  float au23 = 0;  // lips pressed (mouthPress*): drawn only when driven by the weights
};
// From blendshape weights in basis order (the L/R pairs averaged).
WrinkleDrive WrinkleDriveFromWeights(const BlendshapeBasis& basis, std::span<const float> weights);

// The default avatar's AU1 + AU4 corrective (a combination shape, as FACS rigs use): FACS
// describes 1+4 (sadness, fear) as the inner brows raised AND drawn together, but the sum
// of the two linear targets cancels at the inner brow (AU4 is strongest there, as anger
// needs: 0.85 up - 0.7 down = 0.15 cm). Where both act, per side c = min(browInnerUp,
// browDown), 60 % of browDown's downward pull is given back in proportion to how much
// browInnerUp moves each vertex (its delta over its largest): the inner brow rises about
// 0.4 cm more in sadness, still drawn in; AU4 alone (anger) is unchanged. The 60 % is a
// design choice (no measured figure). `mesh` = basis.Apply(weights) on entry.
void ApplyBrowCorrective(const BlendshapeBasis& basis, std::span<const float> weights,
                         std::span<std::array<float, 3>> mesh);

// morphed: the 468 canonical vertices as drawn (fewer: nothing is drawn); neutral: the
// unmorphed canonical vertices (the mouth's rest gap); rotation and camera: as given to
// Rasterizer::Draw; panel: raster's image (same size) to draw into.
void DrawFaceFeatures(const Rasterizer& raster, std::span<const std::array<float, 3>> morphed,
                      std::span<const std::array<float, 3>> neutral,
                      const Eigen::Matrix3f& rotation, const Camera& camera, const Gaze& gaze,
                      RgbaImage& panel, const WrinkleDrive* drive = nullptr);

// Colours (RGB), for tests.
inline constexpr std::array<uint8_t, 3> kIrisColour = {74, 82, 94};
inline constexpr std::array<uint8_t, 3> kLimbusColour = {40, 44, 52};
inline constexpr std::array<uint8_t, 3> kPupilColour = {18, 16, 18};
inline constexpr std::array<uint8_t, 3> kTeethColour = {236, 232, 218};
inline constexpr std::array<uint8_t, 3> kTongueColour = {214, 120, 128};

}  // namespace fg::render
