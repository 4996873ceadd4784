// FaceEvents: turns the stream of per-frame face results (fg::FrameFaces) into the events a
// monitoring system wants on their own broker topics, so that nobody has to diff frame lines:
//
//   appear      a track id is seen for the first time
//               {"event":"appear","id":3,"pts":..,"box":[x,y,w,h],"score":0.97}
//   leave       a track id seen in the previous frame is absent (the tracker has already
//               spent its own grace on it), or the stream ended ("reason": "lost" | "end")
//               {"event":"leave","id":3,"pts":..,"reason":"lost","first_pts":..,"last_pts":..,
//                "frames":120}
//   emotion     the emotion label of a track changes (its first label included,
//               "previous": null)
//               {"event":"emotion","id":3,"pts":..,"label":"happy","previous":"neutral",
//                "confidence":0.8}
//   heart_rate  a track's heart rate, at most once per `heart_rate_interval_s` of pts (every
//               change of bpm when frames have no pts)
//               {"event":"heart_rate","id":3,"pts":..,"bpm":71.8,"confidence":0.9,"snr":6.1,
//                "session_bpm":72.0,"session_confidence":0.95}   (session_* when known)
//
// "pts" is the frame's PTS in ns (-1: none), as in the JSON lines (engine/json.h). Keys are
// never renamed; new keys may be added.
//
// Threading: thread-compatible; one instance per stream (the streaming thread).
//
//   fg::FaceEvents events;
//   std::vector<fg::FaceEvent> out;
//   events.Update(frame, &out);          // for every frame, in order
//   events.Finish(last_pts, &out);       // at end of stream: "leave" for every live track
//   for (auto& e : out) publish(topic_prefix + "/events/" + e.kind, e.json);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/face.h"

namespace fg {

struct FaceEvent {
  std::string kind;  // "appear", "leave", "emotion", "heart_rate" (the topic's last level)
  std::string json;  // one JSON object, no newline
};

class FaceEvents {
 public:
  struct Options {
    double heart_rate_interval_s = 1.0;  // >= 0; 0: every frame with vitals
  };
  FaceEvents() = default;
  explicit FaceEvents(Options options) : options_(options) {}

  // Appends this frame's events to *out (leaves first, then appears, emotions, heart rates;
  // within a kind by id).
  void Update(const FrameFaces& frame, std::vector<FaceEvent>* out);
  // End of stream: a "leave" with "reason": "end" for every track still present.
  void Finish(int64_t pts_ns, std::vector<FaceEvent>* out);
  // Forgets every track (a new stream: flush, seek, caps change).
  void Reset() { tracks_.clear(); }

  size_t live_tracks() const { return tracks_.size(); }

 private:
  struct Track {
    int64_t first_pts = -1, last_pts = -1;
    uint64_t frames = 0;
    std::string label;            // last emotion label; empty: none yet
    bool hr_sent = false;
    int64_t hr_pts = -1;          // pts of the last heart_rate event
    float hr_bpm = 0;             // bpm of the last heart_rate event
  };
  void Leave(int64_t id, const Track& t, int64_t pts, const char* reason,
             std::vector<FaceEvent>* out) const;

  Options options_;
  std::map<int64_t, Track> tracks_;  // present in the previous frame
};

}  // namespace fg
