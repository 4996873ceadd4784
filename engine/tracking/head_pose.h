// Head pose from face landmarks: a weighted rigid (similarity) fit of the 468 tracked
// landmarks to the canonical face (engine/geometry/canonical_face.h) with Umeyama's
// closed-form least squares, over MediaPipe's Procrustes landmark basis and weights.
//
// Camera model: weak perspective (scaled orthographic). FaceMesh landmarks are
// (x right, y down, z away from the camera) in pixels; they are mapped to a right-handed
// head-space frame (x right, y up, z towards the camera) before the fit. The fit gives
// rotation R, scale s (pixels per canonical centimetre) and the image position of the
// canonical origin. Distance is estimated from the scale with a pinhole of focal length
// focal length equal to the frame width (about a 53 degree horizontal field of view, typical
// of webcams) and the principal point at the frame centre: z_cm = width / s; translation
// is (x right, y down, z forward) in centimetres.
//
// Angles (degrees), R = Ry(yaw) * Rx(-pitch) * Rz(roll):
//   yaw   > 0: the face turns towards the image's right edge;
//   pitch > 0: the face tilts up;
//   roll  > 0: the face rotates counter-clockwise as seen in the image.
//
// Threading: stateless functions; reentrant.
//
// Example:
//   fg::HeadPoseFit fit = fg::FitHeadPose(canonical, face.landmarks, width, height);
//   face.pose = fit.pose;
#pragma once

#include <array>
#include <vector>

#include <Eigen/Core>

#include "engine/face.h"
#include "engine/geometry/canonical_face.h"

namespace fg {

struct HeadPoseFit {
  HeadPose pose;                   // yaw, pitch, roll (deg); translation (cm, camera frame)
  Eigen::Matrix3f rotation;        // head frame -> camera frame (x right, y up, z to camera)
  float scale = 0;                 // pixels per canonical centimetre
  Eigen::Vector2f origin_px;       // image position of the canonical origin
  float rms_px = 0;                // residual of the fit over the basis landmarks
};

HeadPoseFit FitHeadPose(const CanonicalFace& canonical,
                        const std::vector<std::array<float, 3>>& landmarks, int frame_width,
                        int frame_height);

// Euler angles of R under the convention above, and back.
std::array<float, 3> RotationToYawPitchRoll(const Eigen::Matrix3f& r);
Eigen::Matrix3f YawPitchRollToRotation(float yaw_deg, float pitch_deg, float roll_deg);

}  // namespace fg
