// Emotion over time, per tracked face: smoothed probabilities, a label that does not flicker,
// a confidence, and valence / arousal.
//
//   classification (probs, pts) ──► EmotionSmoother (one per track id) ──► EmotionState
//
// Smoothing: a first-order low-pass in time, not in samples (time constant tau =
// time_constant_s): ds/dt = (u - s) / tau, where u is the classifier output, taken as linear
// between consecutive classifications p0 (at t0) and p1 (at t1 = t0 + dt) of the track. The
// exact solution over the step is, with e = exp(-dt / tau) and k = tau (1 - e) / dt:
//   s1 = e s0 + (k - e) p0 + (1 - k) p1
// (a convex combination: probabilities stay probabilities). A track classified at 15 Hz and
// one classified at 60 Hz trace the same curve for the same input (exactly, for inputs linear
// between the slower rate's samples; tests/emotion checks it), and a skipped or rate-limited
// classification just makes the next step longer. The first classification initialises
// s = p. A sample whose pts is not after the previous one is ignored (`out_of_order`).
//
// Label with hysteresis: the first label is argmax(s). Later a challenger c = argmax(s)
// replaces the current label L only after s[c] >= s[L] + switch_margin has held
// continuously for switch_hold_s (by pts); when the condition breaks, the wait starts over.
// So a face hovering between two classes keeps one label.
// Confidence: s[L], the smoothed probability of the reported label.
//
// Valence / arousal (each in [-1, 1]): sum_i s_i * (v_i, a_i), where (v_i, a_i) is class i's
// place on Russell's circumplex, taken as the pleasure and arousal coordinates of the
// emotion terms' PAD ratings (Russell & Mehrabian 1977, as commonly cited in affective
// computing; written down from the literature, not re-checked against the paper here):
//   angry (-0.51, 0.59)  disgust (-0.60, 0.35)  fear (-0.64, 0.60)  happy (0.81, 0.51)
//   sad (-0.63, -0.27)   surprise (0.40, 0.67)  neutral (0, 0)
// These are coarse averages over people, good enough to drive an avatar's mood; they are not
// a measurement of this person's feelings. kEmotionCircumplex holds them: one table to revise.
//
// EmotionTracks keeps one smoother per track id. A track's state goes when the caller says
// the track ended (End), or when it has had no update for track_timeout_s (EndStale): the
// tracker keeps a lost id for a grace period and hands it back if the face returns, so the
// timeout must exceed that grace (FaceTracker: 15 frames, 0.5 s at 30 fps).
//
// Threading: thread-compatible; one instance per stream, used from one thread at a time.
// Allocation: Update on a known id does not allocate; a new id inserts one map node.
//
// Example:
//   fg::EmotionTracks tracks({.time_constant_s = 0.5});
//   const fg::EmotionState& s = tracks.Update(face.id, probs, pts_ns);
//   face.emotion = s.ToEmotion();
//   tracks.EndStale(pts_ns);
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>

#include "engine/emotion/emotion_classifier.h"
#include "engine/face.h"

namespace fg {

struct EmotionSmoothingOptions {
  double time_constant_s = 0.5;  // tau of the exponential smoothing; <= 0: no smoothing
  float switch_margin = 0.10f;   // a new label must beat the current one by this much...
  double switch_hold_s = 0.4;    // ...for this long
  double track_timeout_s = 1.0;  // EndStale drops tracks not updated for this long
};

struct Circumplex {
  float valence, arousal;
};
inline constexpr std::array<Circumplex, kEmotionClasses> kEmotionCircumplex = {{
    {-0.51f, 0.59f},  // angry
    {-0.60f, 0.35f},  // disgust
    {-0.64f, 0.60f},  // fear
    {0.81f, 0.51f},   // happy
    {-0.63f, -0.27f}, // sad
    {0.40f, 0.67f},   // surprise
    {0.0f, 0.0f},     // neutral
}};

struct EmotionState {
  int64_t id = -1;
  int64_t pts_ns = -1;     // pts of the newest classification that went in
  int64_t last_seen_ns = -1;  // newest of pts_ns and EmotionTracks::Seen (for EndStale)
  EmotionProbs probs{};    // smoothed
  EmotionProbs raw{};      // the newest classification, as the network gave it
  int label = -1;          // index into kEmotionNames; -1 before the first update
  float confidence = 0;    // probs[label]
  float valence = 0, arousal = 0;
  uint64_t updates = 0;       // classifications taken in
  uint64_t out_of_order = 0;  // classifications ignored (pts not increasing)
  uint64_t label_changes = 0;

  // face.h's Emotion: label name, the smoothed probability of every class, and (once there
  // is a label) its confidence, valence and arousal.
  Emotion ToEmotion() const;
};

// One track.
class EmotionSmoother {
 public:
  explicit EmotionSmoother(const EmotionSmoothingOptions& opts = {}, int64_t id = -1)
      : opts_(opts) {
    s_.id = id;
  }
  const EmotionState& Update(const EmotionProbs& p, int64_t pts_ns);
  const EmotionState& state() const { return s_; }
  void Seen(int64_t pts_ns) { s_.last_seen_ns = std::max(s_.last_seen_ns, pts_ns); }

 private:
  EmotionSmoothingOptions opts_;
  EmotionState s_;
  int pending_ = -1;          // challenger label waiting out switch_hold_s
  int64_t pending_since_ = 0;  // pts when it started to lead by the margin
};

// valence, arousal of a probability vector (see above).
Circumplex ValenceArousal(const EmotionProbs& p);

// One smoother per track id.
class EmotionTracks {
 public:
  explicit EmotionTracks(const EmotionSmoothingOptions& opts = {}) : opts_(opts) {}
  const EmotionState& Update(int64_t id, const EmotionProbs& p, int64_t pts_ns);
  // nullptr when the id has no state (never classified, or ended).
  const EmotionState* Get(int64_t id) const;
  // The face was on a frame at pts_ns (classified or not): keeps its state from EndStale.
  // No-op for an id without state.
  void Seen(int64_t id, int64_t pts_ns);
  // Drops a track's state; returns whether it had one.
  bool End(int64_t id);
  // Drops every track neither updated nor Seen for track_timeout_s at now_ns; returns how
  // many.
  size_t EndStale(int64_t now_ns);
  size_t size() const { return tracks_.size(); }
  const EmotionSmoothingOptions& options() const { return opts_; }

 private:
  EmotionSmoothingOptions opts_;
  std::map<int64_t, EmotionSmoother> tracks_;
};

}  // namespace fg
