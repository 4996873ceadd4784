// A JSON timeline of facial actions, e.g.
//   [{"action": "blink", "at": 1.2},
//    {"action": "smile", "start": 2, "end": 4, "intensity": 0.7, "ease": 0.3},
//    {"action": "surprised", "start": 3.5, "end": 5},
//    {"action": "jawOpen", "start": 4, "end": 4.6, "intensity": 0.4}]
// (a bare array, or an object {"actions": [...]}); entries overlap freely.
//
// Entry keys:
//   action     (required) one of: "blink" (both eyeBlinks), "blinkLeft"/"winkLeft",
//              "blinkRight"/"winkRight", "smile" (mouthSmileLeft/Right), "frown"
//              (mouthFrownLeft/Right), "browRaise" (browInnerUp + browOuterUps), any
//              expression name or synonym of the instruction language (instruction.h:
//              "happy", "surprised", ...), or an ARKit blendshape name of the basis.
//   start,end  seconds, 0 <= start < end. For "blink"/"wink" actions "at" may replace them
//              (start = at, end = at + kBlinkDuration = 0.2 s).
//   intensity  0..1 (default 1).
//   ease       seconds of the minimum-jerk ramp (curve.h) up after start and down before
//              end (default 0.2 s; 0.08 s for blinks); clamped to half the entry's length.
//   track      optional label (a string), kept for tools; tracks do not change evaluation.
// Unknown keys are errors (a typo would otherwise silently do nothing).
//
// Evaluation at t: each entry contributes intensity x envelope(t) x its weights, where the
// envelope is 0 outside [start, end], rises with the minimum-jerk step over `ease`, holds 1,
// and falls symmetrically. Entries combine by per-weight maximum.
//
// Combination with an instruction curve or with mirroring (CombineWeights): per-weight
// maximum by default (a timeline blink closes the eyes whatever the base does, and a
// timeline smile never makes a smiling face smile less or more than either asks), or
// additive clamped to [0, 1] (kAdd: the timeline adds on top of the base).
//
// Errors name the entry (0-based index) and the key: "timeline entry 1, key \"end\": must be
// greater than start (1.4 <= 2)".
//
// Threading: immutable after Parse; Evaluate is const and allocation-free.
//
// Example:
//   std::string err;
//   auto tl = fg::Timeline::Parse(json_text, basis, &err);
//   if (!tl) return err;
//   tl->Evaluate(t, timeline_w);
//   fg::CombineWeights(mirror_w, timeline_w, fg::CombineRule::kMax, out_w);
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/avatar/blendshapes.h"

namespace fg {

inline constexpr double kBlinkDuration = 0.2;

struct TimelineEntry {
  std::string action;
  std::string track;
  double start = 0, end = 0;
  float intensity = 1;
  double ease = 0.2;
  std::vector<float> weights;  // basis order, at intensity 1
};

class Timeline {
 public:
  // Parses and validates the JSON text; nullopt and *err (entry index and key) on error.
  static std::optional<Timeline> Parse(std::string_view json, const BlendshapeBasis& basis,
                                       std::string* err);

  const std::vector<TimelineEntry>& entries() const { return entries_; }
  int dims() const { return dims_; }
  // The last entry's end (0 when empty).
  double end() const;
  // Writes min(dims(), out.size()) weights at time t (zeros where no entry is active).
  void Evaluate(double t, std::span<float> out) const;

 private:
  std::vector<TimelineEntry> entries_;
  int dims_ = 0;
};

enum class CombineRule { kMax, kAdd };

// out[i] = max(base[i], overlay[i]) or clamp(base[i] + overlay[i], 0, 1), over
// min(base, overlay, out) sizes. out may alias base.
void CombineWeights(std::span<const float> base, std::span<const float> overlay, CombineRule rule,
                    std::span<float> out);

}  // namespace fg
