// The JSON output contract: one JSON object per frame, one line each (JSON Lines).
//
//   {"pts": <ns>, "faces": [{"id", "box": [x,y,w,h], "score",
//     "landmarks": [[x,y,z],...], "pose": {"yaw","pitch","roll"},
//     "emotion": {"label","scores":{...},"confidence","valence","arousal"},
//     "vitals": {"bpm","snr","confidence", optional "sdnn_ms","rmssd_ms","respiration_bpm",
//                "session_bpm","session_confidence" (the whole session so far),
//                "bvp": [...] with "bvp_fs" (only when the waveform is attached)},
//     "blendshapes": {"jawOpen", ...},
//     "actions": {"eyeOpenLeft", ...},
//     "liveness": {"real","live","decision", optional "challenge": {"ask","state","step",
//                  "steps","remaining_s"}}}]}
//
// Absent parts are omitted. Keys are never renamed; new keys may be added. Readers must
// ignore keys they do not know. Floats are written with enough digits to round-trip.
//
// Threading: free functions, reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/face.h"

namespace fg {

// One line of JSON, no trailing newline.
std::string ToJsonLine(const FrameFaces& frame);

// Parses one line written by ToJsonLine (or by a newer version: unknown keys are ignored).
// On error returns nullopt and sets *error to a message naming the key that is wrong.
std::optional<FrameFaces> FromJsonLine(std::string_view line, std::string* error);

}  // namespace fg
