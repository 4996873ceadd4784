// Per-frame face metadata: what every analysis reads and writes, and what the JSON output
// contract (engine/json.h, README "JSON output") serialises.
//
// One FrameFaces per video frame; one Face per tracked person. Optional parts are
// std::optional / empty and are omitted from JSON when absent, so an element that runs only
// tracking writes no "emotion" key. Later analyses may add fields; the names in the JSON
// contract never change.
//
// Threading: plain values; copy them between threads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fg {

inline constexpr int kMeshLandmarks = 468;

struct Box {
  float x = 0, y = 0, w = 0, h = 0;  // frame pixels, top-left origin
  friend bool operator==(const Box&, const Box&) = default;
};

struct HeadPose {
  float yaw = 0, pitch = 0, roll = 0;  // degrees
  std::optional<std::array<float, 3>> translation;  // camera frame, same unit as the fit
  friend bool operator==(const HeadPose&, const HeadPose&) = default;
};

struct Emotion {
  std::string label;
  std::map<std::string, float> scores;  // class name -> probability
  std::optional<float> confidence;      // 0..1, of the label (after smoothing)
  std::optional<float> valence;         // -1..1 (unpleasant..pleasant)
  std::optional<float> arousal;         // -1..1 (calm..excited)
  friend bool operator==(const Emotion&, const Emotion&) = default;
};

struct Vitals {
  float bpm = 0;
  float snr = 0;         // dB
  float confidence = 0;  // 0..1
  // HRV over the inter-beat intervals (present once enough data, see vitals_estimator.h).
  std::optional<float> sdnn_ms, rmssd_ms;
  std::optional<float> respiration_bpm;  // breaths per minute, where its SNR allows
  // The whole session of the track so far (all its spectra combined, vitals_estimator.h):
  // heart rate and its confidence 0..1.
  std::optional<float> session_bpm, session_confidence;
  // The newest pulse waveform (unit variance, oldest first, uniformly sampled at bvp_fs Hz):
  // for overlays and consumers that want the trace. Empty when not asked for.
  std::vector<float> bvp;
  float bvp_fs = 0;
  friend bool operator==(const Vitals&, const Vitals&) = default;
};

// Liveness of a tracked face (engine/liveness/liveness_tracker.h, challenge.h): the smoothed
// scores of Human 3.3.6's antispoof ("real") and liveness ("live") models, a decision, and
// the state of an active check when one is asked for.
struct LivenessChallenge {
  std::string ask;      // the current instruction: "blink", "turn-left", "turn-right", "smile"
  std::string state;    // "asking", "passed" (every step done), "failed" (time ran out)
  int step = 0;         // 0-based index of `ask` among the steps
  int steps = 0;
  float remaining_s = 0;  // time left for the current step
  friend bool operator==(const LivenessChallenge&, const LivenessChallenge&) = default;
};

struct Liveness {
  std::optional<float> real, live;  // 0..1, smoothed; absent when the models are off
  std::string decision;             // "live", "spoof" or "unsure"
  std::optional<LivenessChallenge> challenge;
  friend bool operator==(const Liveness&, const Liveness&) = default;
};

struct Face {
  int64_t id = -1;  // stable track id; -1 = untracked
  Box box;
  float score = 0;
  // 468 x (x, y, z) in frame pixels (z in the same scale as x); empty when no mesh was run.
  std::vector<std::array<float, 3>> landmarks;
  std::optional<HeadPose> pose;
  std::optional<Emotion> emotion;
  std::optional<Vitals> vitals;
  std::map<std::string, float> blendshapes;  // ARKit names -> 0..1
  // Facial action measures (engine/emotion/face_actions.h): name -> value, e.g.
  // "eyeOpenLeft" 0..1, "mouthOpen" 0..1, "smile" 0..1, "blinks" (count), "blinkRate" (/min).
  std::map<std::string, float> actions;
  std::optional<Liveness> liveness;
  friend bool operator==(const Face&, const Face&) = default;
};

struct FrameFaces {
  int64_t pts_ns = -1;  // presentation timestamp; -1 = none
  std::vector<Face> faces;
  friend bool operator==(const FrameFaces&, const FrameFaces&) = default;
};

}  // namespace fg
