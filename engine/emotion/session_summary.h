// SessionSummary: per-track totals over a whole stream, accumulated from each frame's face
// metadata (fg::FrameFaces): time per emotion label, time-weighted mean valence and arousal,
// blinks and blinks per minute. What facejson writes as its last line on EOS (the JSON
// contract's "summary" line, README) and what tools/demo prints.
//
//   FrameFaces (pts, faces) ──► Add() ... Add() ──► Finish() ──► tracks() / ToJsonLine()
//
// Time is by timestamps, not frame counts: a frame lasts from its pts to the next frame's
// pts (the next frame of the stream, whether or not the face is in it). The last frame,
// and a frame whose successor has no pts or a pts not after its own, lasts the median of
// the stream's valid frame intervals (of the last kIntervalWindow of them); a stream with
// one frame (no interval at all) has no duration. Every face in a frame is credited that
// frame's duration:
//   seconds           sum of the durations of the frames the track is in
//   frames            how many frames the track is in
//   first/last_pts_ns the pts of its first and last frame (-1 when those had none)
//   emotion_seconds   label -> sum of the durations of the frames whose face carries that
//                     emotion label (frames before the track's first classification carry
//                     none and count in no label)
//   emotion_share     label -> emotion_seconds / the sum of emotion_seconds (0..1; share of
//                     the time the track had a label)
//   valence, arousal  means over the frames that carry them, weighted by duration; absent
//                     when none did (or they add up to no time)
//   blinks            from the face's actions "blinks" (engine/emotion/face_actions.h: the
//                     track's running count): the sum of its increases; a count that drops
//                     (the action tracker restarted, e.g. after a flush) starts over from 0,
//                     so its new value is added
//   blinks_per_minute blinks / seconds * 60; absent when the track has no "blinks" or no time
//   vitals_bpm,       the track's whole-session heart rate and its confidence 0..1: the
//   vitals_confidence newest frame's vitals.session_bpm / session_confidence (facevitals
//                     combines the spectra of the whole session, engine/vitals/
//                     vitals_estimator.h); absent when no frame carried them
// Faces without an id (-1) are not summarised (they are not a person over time).
// Tracks are listed by id.
//
// Threading: thread-compatible; one instance per stream, fed from one thread. Memory: a few
// hundred bytes per track plus the interval window; Add() keeps only the previous frame's
// per-face values, not its landmarks.
//
// Example:
//   fg::SessionSummary summary;
//   for (const fg::FrameFaces& f : frames) summary.Add(f);
//   summary.Finish();
//   std::puts(summary.ToJsonLine().c_str());  // {"summary": {"tracks": [...]}}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/face.h"

namespace fg {

struct TrackSummary {
  int64_t id = -1;
  uint64_t frames = 0;
  double seconds = 0;
  int64_t first_pts_ns = -1, last_pts_ns = -1;
  std::map<std::string, double> emotion_seconds;
  std::map<std::string, double> emotion_share;
  std::optional<double> valence, arousal;
  std::optional<uint64_t> blinks;
  std::optional<double> blinks_per_minute;
  std::optional<double> vitals_bpm, vitals_confidence;
};

class SessionSummary {
 public:
  static constexpr size_t kIntervalWindow = 4096;

  // Takes one frame (in stream order). Accounts the previous frame, now that its duration is
  // known. After Finish(), Add() starts nothing new: call Reset() first.
  void Add(const FrameFaces& frame);
  // Accounts the last frame (median interval) and fills the derived fields (shares, means,
  // rates). Idempotent.
  void Finish();
  // Forgets everything (a new stream).
  void Reset();

  // Per track, ordered by id; complete only after Finish().
  std::vector<TrackSummary> tracks() const;
  uint64_t frames() const { return frames_; }
  bool finished() const { return finished_; }
  // The median frame interval used for the last frame, in ns (0 when none was seen).
  int64_t median_interval_ns() const;

  // {"summary": {"tracks": [{"id", "frames", "seconds", "first_pts", "last_pts",
  //   "emotion_seconds": {...}, "emotion_share": {...}, "valence", "arousal", "blinks",
  //   "blinks_per_minute", "vitals": {"bpm", "confidence"}}, ...]}} on one line, no
  // newline. Absent optional values are omitted; finish first.
  std::string ToJsonLine() const;

 private:
  // What is kept of a face until its frame's duration is known.
  struct Pending {
    int64_t id;
    std::string label;  // empty: no emotion
    std::optional<float> valence, arousal, blinks;
  };
  struct Acc {
    TrackSummary s;
    double valence_sum = 0, valence_seconds = 0, arousal_sum = 0, arousal_seconds = 0;
    std::optional<float> last_blinks;  // the previous "blinks" value seen
    uint64_t blinks = 0;
  };
  void Account(double seconds);

  std::map<int64_t, Acc> tracks_;
  std::vector<Pending> pending_;
  int64_t pending_pts_ = -1;
  bool have_pending_ = false;
  std::vector<int64_t> intervals_;  // a ring of the last kIntervalWindow valid intervals
  size_t interval_next_ = 0;
  uint64_t frames_ = 0;
  bool finished_ = false;
};

}  // namespace fg
