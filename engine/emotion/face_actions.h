// Facial action measures from the 3D mesh, pose-normalised, per track: eye openness and
// blinks, mouth opening, smile, brow raise / lowering, jaw opening. Meant to drive an avatar.
//
//   Face (468 landmarks, pose) ──► MeasureFaceActions (head frame, IOD units) ──► raw
//   raw ──► FaceActionTracker (per track: neutral reference, intensities, blinks) ──► FaceActions
//
// Head frame. Landmarks (frame pixels: x right, y down, z away) become (x, -y, -z) (as in
// head_pose.h), are rotated by R^T, the inverse of the pose fit's head-to-camera rotation
// (from face.pose's yaw/pitch/roll, YawPitchRollToRotation), and divided by the 3D
// inter-ocular distance (eye centres = midpoints of 33/133 and 362/263). In that frame y is
// the face's own "up", whatever the head's yaw, pitch and roll. A face without a pose is
// measured with the identity rotation (frontal assumed).
//
// Raw measures (FaceActionMeasures; "height" = head-frame y):
//   eye_open_right   (height 159 - height 145) / |33 - 133|     subject's right eye
//   eye_open_left    (height 386 - height 374) / |362 - 263|    subject's left eye
//   mouth_open       (height 13 - height 14) / |61 - 291|       inner-lip gap over mouth width
//   smile            (mean height of 61, 291) - (mean height of 13, 14), / IOD: lip corners
//                    raised relative to the mouth centre
//   brow             mean over both sides of (height of 105 | 334) - (height of that eye's
//                    corner midpoint), / IOD
//   jaw              |152 - 1| / IOD: chin to nose tip
//
// Neutral reference: per track, the median of each raw measure over the track's first
// `calibration_s` seconds (by pts; at most kCalibrationSamples samples). The median ignores a
// blink or a brief expression inside that window; a face that holds an expression for the
// whole window gets that as its neutral (a known limit: the reference is not re-learned).
// Until the window has passed the median of what has been seen so far is used and
// `calibrated` is false.
//
// Intensities, each clamped to [0, 1]:
//   eye_open_{right,left}  raw / neutral  (1 = at least as open as neutral, 0 = shut)
//   mouth_open             (raw - neutral) / mouth_open_full
//   smile                  (raw - neutral) / smile_full
//   brow_raise             (raw - neutral) / brow_raise_full
//   brow_lower             (neutral - raw) / brow_lower_full
//   jaw_open               (raw - neutral) / jaw_open_full
// The full-scale values are in the raw measure's units (see FaceActionOptions).
//
// Blinks: on each eye's openness relative to neutral, with hysteresis: the eyes close when
// both are below blink_close and reopen when their mean is above blink_open; a closure that
// reopens within max_blink_s counts as one blink (longer ones are eyes shut, not blinks; a
// one-eyed wink never closes both). blink_rate_per_min = blinks in the
// last blink_rate_window_s seconds, per minute of that window (or of the track's age while
// younger).
//
// Eyelids and blinks need the tracker's Iris option (TrackerOptions::iris): FaceMesh's own
// eyelid points barely follow a closing eye. On the astronaut photo warped shut
// (tests/emotion/face_actions_photo_test.cc) the relative openness at full closure is about
// 0.3 with Iris and 0.7 without, so without Iris blink_close is never reached.
//
// Threading: thread-compatible; one instance per stream. Update on a known track does not
// allocate (buffers are sized when the track appears).
//
// Example:
//   fg::FaceActionTracks actions;
//   for (const fg::Face& f : frame_faces.faces) {
//     const fg::FaceActions& a = actions.Update(f, pts_ns);
//     avatar.SetJaw(a.jaw_open);
//   }
//   actions.EndStale(pts_ns);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "engine/face.h"

namespace fg {

struct FaceActionMeasures {
  float eye_open_right = 0, eye_open_left = 0;
  float mouth_open = 0;
  float smile = 0;
  float brow = 0;
  float jaw = 0;
};

// Raw measures of one face; false when there are fewer than 468 landmarks or the eyes
// coincide. head_to_camera: the pose fit's rotation (head_pose.h).
bool MeasureFaceActions(const std::vector<std::array<float, 3>>& landmarks,
                        const Eigen::Matrix3f& head_to_camera, FaceActionMeasures* out);
// The same with the rotation from face.pose (identity when absent).
bool MeasureFaceActions(const Face& face, FaceActionMeasures* out);

struct FaceActionOptions {
  double calibration_s = 2.0;  // neutral = median over the track's first seconds
  float blink_close = 0.5f;    // both eyes' relative openness below this: closed
  float blink_open = 0.7f;     // their mean above this: open again
  double max_blink_s = 1.0;
  double blink_rate_window_s = 60.0;
  // Change from neutral that gives intensity 1, in the raw measure's units.
  float mouth_open_full = 0.6f;   // lip gap / mouth width
  float smile_full = 0.10f;       // IOD
  float brow_raise_full = 0.12f;  // IOD
  float brow_lower_full = 0.08f;  // IOD
  float jaw_open_full = 0.30f;    // IOD
  double track_timeout_s = 1.0;   // FaceActionTracks::EndStale
};

struct FaceActions {
  int64_t id = -1;
  int64_t pts_ns = -1;
  FaceActionMeasures raw, neutral;
  bool calibrated = false;
  float eye_open_right = 1, eye_open_left = 1;
  float mouth_open = 0, smile = 0, brow_raise = 0, brow_lower = 0, jaw_open = 0;
  bool eyes_closed = false;
  uint32_t blinks = 0;
  float blink_rate_per_min = 0;
  uint64_t updates = 0;

  // The JSON contract's "actions" (face.h): eyeOpenLeft, eyeOpenRight, mouthOpen, smile,
  // browRaise, browLower, jawOpen (0..1), eyesClosed (0/1), blinks (count), blinkRate (per
  // minute). Writes nothing before the neutral reference is learned (`calibrated`).
  void ToMap(std::map<std::string, float>* out) const;
};

class FaceActionTracker {
 public:
  static constexpr int kCalibrationSamples = 256;
  static constexpr int kBlinkHistory = 128;

  explicit FaceActionTracker(const FaceActionOptions& opts = {}, int64_t id = -1);
  // Takes one frame's raw measures; a pts not after the previous one is ignored.
  const FaceActions& Update(const FaceActionMeasures& m, int64_t pts_ns);
  const FaceActions& state() const { return a_; }

 private:
  static constexpr int kMeasures = 6;
  void Calibrate(const FaceActionMeasures& m);

  FaceActionOptions opts_;
  FaceActions a_;
  int64_t start_ns_ = -1;
  int64_t closed_since_ns_ = 0;
  // Calibration samples per measure (fixed capacity) and a scratch copy for the median.
  std::vector<float> samples_[kMeasures];
  std::vector<float> scratch_;
  // Times of the last kBlinkHistory blinks (a ring).
  std::array<int64_t, kBlinkHistory> blink_ns_{};
  int blink_head_ = 0;
};

// One FaceActionTracker per track id.
class FaceActionTracks {
 public:
  explicit FaceActionTracks(const FaceActionOptions& opts = {}) : opts_(opts) {}
  // Measures the face and updates its track; nullptr when the face cannot be measured
  // (no mesh).
  const FaceActions* Update(const Face& face, int64_t pts_ns);
  const FaceActions* Get(int64_t id) const;
  bool End(int64_t id);
  size_t EndStale(int64_t now_ns);
  size_t size() const { return tracks_.size(); }

 private:
  FaceActionOptions opts_;
  std::map<int64_t, FaceActionTracker> tracks_;
};

}  // namespace fg
