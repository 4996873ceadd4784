// Liveness over time, per tracked face: the two model scores smoothed in time and a decision
// that does not flicker.
//
//   scores (real, live, pts) ──► LivenessSmoother (one per track id) ──► LivenessState
//
// Smoothing: a first-order low-pass in time (time constant tau = time_constant_s): with
// dt = pts - previous pts and a = 1 - exp(-dt / tau), s += a (x - s), per score; the first
// sample initialises s = x. A sample whose pts is not after the previous one is ignored. Both
// networks are single-frame classifiers that jump with pose, light and blur (on the astronaut
// photo antispoof reads 0.45, mirrored 0.71: tests/data/liveness), so one frame decides
// nothing: the decision waits for min_evidence_s of samples and reads the smoothed values.
//
// Decision, on the smoothed scores r (real) and l (live), with `use_real` / `use_live`
// saying which models count (both by default):
//   "unsure"  before min_evidence_s of samples (by pts, first to newest) or min_samples
//   "live"    every used score >= its threshold + margin
//   "spoof"   any used score < its threshold - margin
//   otherwise the previous decision stays (hysteresis; "unsure" at first).
// The thresholds are the operating point: tools/eval/eval-liveness measures APCER / BPCER
// at them (docs/eval/liveness.md); they were chosen on the development half of the data
// named in tools/eval/DATA.md, never on the test half.
//
// Threading: thread-compatible; one instance per stream.
// Allocation: Update on a known id does not allocate; a new id inserts one map node.
//
// Example:
//   fg::LivenessTracks tracks;
//   const fg::LivenessState& s = tracks.Update(face.id, {real, live}, pts_ns);
//   face.liveness = s.ToLiveness();
//   tracks.EndStale(pts_ns);
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "engine/face.h"
#include "engine/liveness/liveness_classifier.h"

namespace fg {

enum class LivenessDecision { kUnsure = 0, kLive = 1, kSpoof = 2 };
std::string_view LivenessDecisionName(LivenessDecision d);  // "unsure", "live", "spoof"

struct LivenessSmoothingOptions {
  double time_constant_s = 1.0;  // <= 0: no smoothing
  float real_threshold = 0.5f;
  float live_threshold = 0.5f;
  float margin = 0.05f;          // hysteresis half-width around each threshold
  bool use_real = true;          // antispoof counts in the decision
  bool use_live = true;          // liveness counts in the decision
  double min_evidence_s = 0.5;   // time spanned by the samples before any decision
  int min_samples = 3;
  double track_timeout_s = 1.0;  // EndStale drops tracks not seen for this long
};

struct LivenessState {
  int64_t id = -1;
  int64_t first_pts_ns = -1, pts_ns = -1;
  int64_t last_seen_ns = -1;
  LivenessScores smoothed, raw;
  LivenessDecision decision = LivenessDecision::kUnsure;
  uint64_t updates = 0, out_of_order = 0, decision_changes = 0;

  // face.h's Liveness: the smoothed scores and the decision (no challenge).
  Liveness ToLiveness() const;
};

class LivenessSmoother {
 public:
  explicit LivenessSmoother(const LivenessSmoothingOptions& opts = {}, int64_t id = -1)
      : opts_(opts) {
    s_.id = id;
  }
  const LivenessState& Update(const LivenessScores& x, int64_t pts_ns);
  const LivenessState& state() const { return s_; }
  void Seen(int64_t pts_ns) { s_.last_seen_ns = std::max(s_.last_seen_ns, pts_ns); }

 private:
  LivenessSmoothingOptions opts_;
  LivenessState s_;
};

class LivenessTracks {
 public:
  explicit LivenessTracks(const LivenessSmoothingOptions& opts = {}) : opts_(opts) {}
  const LivenessState& Update(int64_t id, const LivenessScores& x, int64_t pts_ns);
  const LivenessState* Get(int64_t id) const;
  void Seen(int64_t id, int64_t pts_ns);
  bool End(int64_t id);
  size_t EndStale(int64_t now_ns);
  size_t size() const { return tracks_.size(); }

 private:
  LivenessSmoothingOptions opts_;
  std::map<int64_t, LivenessSmoother> tracks_;
};

}  // namespace fg
