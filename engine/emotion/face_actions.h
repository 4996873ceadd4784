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
// Neutral reference (the baseline; docs/baselines.md): a person may arrive smiling, so the
// first seconds are not taken as neutral. Per track and per measure k:
//   prior P_k      the population's neutral: the canonical face's own measures
//                  (kPopulationNeutral; identity-only scaling is already in the units: IOD,
//                  eye width, mouth width)
//   evidence E_k   a percentile of the measure over a long window: one sample per
//                  evidence_period_s (0.25 s; every frame during the first calibration_s),
//                  the last kEvidenceSamples (256, about 64 s). The percentile is where a
//                  face at rest sits in that measure's distribution: the 10th for the
//                  one-sided measures an expression only raises (mouth_open, smile, jaw), the
//                  median for eyes (a blink is brief; a squint or a stare lasts) and brow
//                  (raised and lowered are both expressions).
//   band           how far a person's own neutral may sit from the prior and be accepted at
//                  once, in the measure's full scale: above P_k by smile_band 0.05 (0.005
//                  IOD), mouth_band 0.2, brow_band 0.5, jaw_band 0.5; below P_k by brow_band
//                  for the brow, without limit for the one-sided measures (their low
//                  percentile below the prior is itself evidence of a lower neutral). The
//                  eyes have no prior by default (eye_band < 0; with eye_band >= 0: within
//                  +-eye_band x P_k): FaceMesh's lid gap differs between faces and with or
//                  without Iris far more than a squint moves it (the astronaut: +36 % on the
//                  canonical face without Iris, +56 % with), and a neutral clamped too low
//                  would stop every blink being seen; their median over the window is the
//                  rest state, since eyes are open most of the time. The smile's band is
//                  narrow because FaceMesh reports little of a smile (a quarter of the
//                  geometric change on the FaceSynth test's "very happy"): a wider band would
//                  swallow a real smile held from the start. The figures, and the offsets from
//                  the prior measured at rest on the two photos, are in docs/baselines.md.
//   allowance A_k  evidence that stays beyond the band is accepted slowly: A_k follows
//                  excess_k = distance of E_k beyond the band with time constant
//                  beyond_band_tau_s (300 s) while excess_k > A_k, and drops to excess_k at
//                  once when the evidence comes back (evidence of neutrality is immediate).
//   neutral N_k = clamp(E_k, band widened by A_k on each side).
// So a face that starts neutral reads as before (its evidence is inside the band: the
// neutral is its own median / low percentile); a full smile held from the first frame keeps
// reading its size beyond the band less A (A is about 0.18 of the excess after 60 s, 0.63
// after 5 min); the moment it relaxes for a tenth of the window (6 s of the last 64 s) the evidence, and
// with it the neutral, is the relaxed face. A neutral beyond the band (a naturally open mouth,
// low-set brows) is reached with the 300 s time constant. Until the track is calibration_s
// old `calibrated` is false (ToMap writes nothing); the neutral is the prior's band-clamped
// evidence from the first frame on.
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
// Limit: a frown held at the start is taken as the smile's neutral (the low percentile),
// so the relaxed face then reads a small smile until the frown leaves the window.
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

// The canonical face's measures (MeasureFaceActions on canonical_face.h's vertices, frontal;
// tests/emotion/face_actions_test.cc checks them against the model file).
inline constexpr FaceActionMeasures kPopulationNeutral{.eye_open_right = 0.2522f,
                                                        .eye_open_left = 0.2522f,
                                                        .mouth_open = 0.1115f,
                                                        .smile = -0.0118f,
                                                        .brow = 0.3943f,
                                                        .jaw = 1.4086f};

struct FaceActionOptions {
  double calibration_s = 2.0;  // evidence needed before `calibrated` (see the baseline above)
  FaceActionMeasures prior = kPopulationNeutral;
  double evidence_period_s = 0.25;  // one evidence sample per period after calibration_s
  // The band (see above), per measure, x its full scale (eyes: x the prior's openness).
  float smile_band = 0.05f;
  float mouth_band = 0.2f;
  float brow_band = 0.5f;
  float jaw_band = 0.5f;
  float eye_band = -1.0f;  // < 0: no prior for the eyes (see above)
  double beyond_band_tau_s = 300.0; // the allowance's time constant
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
  static constexpr int kEvidenceSamples = 256;
  static constexpr int kBlinkHistory = 128;

  explicit FaceActionTracker(const FaceActionOptions& opts = {}, int64_t id = -1);
  // Takes one frame's raw measures; a pts not after the previous one is ignored.
  const FaceActions& Update(const FaceActionMeasures& m, int64_t pts_ns);
  const FaceActions& state() const { return a_; }

 private:
  static constexpr int kMeasures = 6;
  void AddEvidence(const FaceActionMeasures& m);
  void UpdateNeutral(double dt_s);

  FaceActionOptions opts_;
  FaceActions a_;
  int64_t start_ns_ = -1;
  int64_t closed_since_ns_ = 0;
  int64_t last_sample_ns_ = 0;
  // Evidence samples per measure: a ring of kEvidenceSamples (fixed capacity), its next
  // slot, a scratch copy for the percentile, the evidence and the allowances (see above).
  std::vector<float> samples_[kMeasures];
  int sample_head_ = 0;
  std::vector<float> scratch_;
  float evidence_[kMeasures] = {};
  float allow_up_[kMeasures] = {}, allow_down_[kMeasures] = {};
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
