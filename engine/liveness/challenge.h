// LivenessChallenge: the active check of a kiosk. The person is asked to do a short sequence
// of actions (blink, turn the head left or right, smile), one at a time, each within a time
// limit; the check passes only when the tracked face does every one in order.
//
//   Face (pose, 468 landmarks) + FaceActions (blinks, smile; engine/emotion/face_actions.h)
//     ──► ChallengeRun (one per track id) ──► ChallengeState: ask, state, step, remaining
//
// Steps ("blink,turn-left,turn-right,smile"; ParseChallenge):
//   blink       both eyes close and reopen during the step (see blink_close below), or the
//               track's blink count (FaceActions::blinks) grows. Blinks need the tracker's
//               Iris option (facetrack iris=true): without it FaceMesh's eyelids barely
//               move (face_actions.h).
//   turn-left   the person turns to THEIR left: head yaw (face.pose, head_pose.h: > 0 turns
//               the face towards the image's right, which is the subject's left on an
//               unmirrored camera) reaches its value when the step began + turn_deg
//               (relative, so a person who stands a little turned is neither passed nor
//               blocked by it)
//   turn-right  the same with yaw falling by turn_deg
//   smile       the smile intensity (FaceActions::smile, 0..1 against the track's neutral)
//               is first seen below smile_min / 2 during the step (a face at rest) and
//               then reaches smile_min: a smile held all along (a photo of a smiling
//               person) never passes, the smile must be made when asked
// A step must be met on hold_frames consecutive frames (a single noisy frame does not pass
// it; blink counts are events and pass at once). A step that is not met within timeout_s
// (by pts) of the moment it was asked fails the whole check ("failed"); when the last step
// is met the check has "passed". Both are final for the track (Restart() starts it over); a
// new track id (a new person) gets its own check from the first step.
// Before the face actions are calibrated (FaceActions::calibrated, the first 2 s of a track)
// smiles and eye closures are not read, so those steps cannot pass in that time; the clock
// still runs (give the first step at least 2 s more than the person needs).
//
// Threading: thread-compatible; one ChallengeTracks per stream. Update on a known id does
// not allocate.
//
// Example:
//   std::string err;
//   auto steps = fg::ParseChallenge("blink,turn-left", &err);   // nullopt + err on a bad word
//   fg::ChallengeTracks checks({.steps = *steps, .timeout_s = 5});
//   const fg::ChallengeState& c = checks.Update(face, actions, pts_ns);
//   if (c.state == fg::ChallengeState::kPassed) open_the_door();
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/emotion/face_actions.h"
#include "engine/face.h"

namespace fg {

enum class ChallengeStep { kBlink, kTurnLeft, kTurnRight, kSmile };
std::string_view ChallengeStepName(ChallengeStep s);  // "blink", "turn-left", ...
// The instruction shown to the person: "Please blink", "Turn your head left", ...
std::string_view ChallengeInstruction(ChallengeStep s);

// "blink,turn-left,turn-right,smile" (comma- or space-separated, case-insensitive; "left"
// and "right" alone are accepted for the turns). nullopt and *error naming the word when a
// word is unknown or the list is empty.
std::optional<std::vector<ChallengeStep>> ParseChallenge(std::string_view text, std::string* error);

struct ChallengeOptions {
  std::vector<ChallengeStep> steps;
  double timeout_s = 5.0;   // per step, from the moment it is asked
  float turn_deg = 15.0f;   // yaw change for a turn
  // Smile intensity for a smile. FaceSynth's "very happy" on Grace Hopper's neutral portrait
  // reads about 0.55 through the tracker, rest about 0.01 (tests/plugins/faceliveness_test);
  // 0.4 asks for a clear smile, not a grin.
  float smile_min = 0.4f;
  int hold_frames = 2;      // consecutive frames a turn or smile must hold
  // A blink for the check: both eyes below blink_close of their neutral openness
  // (FaceActions::eye_open_*), then their mean above blink_open, within max_blink_s. Looser
  // than FaceActions' own blink count (0.5 / 0.7) on purpose: FaceMesh with Iris reports a
  // fully closed lid at 0.3-0.8 of the open one depending on the face and its warp (the
  // astronaut photo warped shut: 0.3, face_actions.h; FaceSynth's full eyeBlink on it, through
  // the tracker: 0.70 / 0.78), and a person asked to blink must not fail on the measure.
  float blink_close = 0.85f;
  float blink_open = 0.92f;
  double max_blink_s = 1.0;
  double track_timeout_s = 1.0;  // EndStale
};

struct ChallengeState {
  enum State { kAsking, kPassed, kFailed };
  int64_t id = -1;
  State state = kAsking;
  int step = 0;                // index of the step being asked (steps.size() once passed)
  int64_t step_start_ns = -1;  // pts when the current step was asked
  int64_t last_seen_ns = -1;
  float remaining_s = 0;       // time left for the current step
  bool changed = false;        // the last Update moved to another step or state

  // face.h's LivenessChallenge for these steps.
  LivenessChallenge ToChallenge(const std::vector<ChallengeStep>& steps) const;
};
std::string_view ChallengeStateName(ChallengeState::State s);  // "asking", "passed", "failed"

class ChallengeRun {
 public:
  ChallengeRun(const ChallengeOptions& opts, int64_t id) : opts_(opts) { s_.id = id; }
  // One frame of the track. `actions` may be null (no mesh): nothing is met on that frame.
  const ChallengeState& Update(const Face& face, const FaceActions* actions, int64_t pts_ns);
  const ChallengeState& state() const { return s_; }

 private:
  void StartStep(const Face& face, const FaceActions* actions, int64_t pts_ns);
  ChallengeOptions opts_;  // a copy: a track outlives no options object
  ChallengeState s_;
  float yaw0_ = 0;          // yaw when the step began
  bool have_yaw0_ = false;
  uint32_t blinks0_ = 0;    // blink count when the step began
  bool have_blinks0_ = false;
  int held_ = 0;
  bool smile_rested_ = false;  // the smile was below smile_min / 2 during this step
  bool closed_ = false;        // both eyes below blink_close (a blink under way)
  int64_t closed_since_ns_ = 0;
};

class ChallengeTracks {
 public:
  explicit ChallengeTracks(ChallengeOptions opts) : opts_(std::move(opts)) {}
  const ChallengeState& Update(const Face& face, const FaceActions* actions, int64_t pts_ns);
  const ChallengeState* Get(int64_t id) const;
  // Starts the track's check over on its next Update.
  void Restart(int64_t id) { tracks_.erase(id); }
  size_t EndStale(int64_t now_ns);
  const ChallengeOptions& options() const { return opts_; }

 private:
  ChallengeOptions opts_;
  std::map<int64_t, ChallengeRun> tracks_;
};

}  // namespace fg
