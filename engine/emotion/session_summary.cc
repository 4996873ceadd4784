#include "engine/emotion/session_summary.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace fg {
namespace {

constexpr double kNsPerSecond = 1e9;

// A blink count as an integer (the contract writes it as a float).
uint64_t Count(float v) { return std::isfinite(v) && v > 0 ? static_cast<uint64_t>(std::llround(v)) : 0; }

}  // namespace

int64_t SessionSummary::median_interval_ns() const {
  if (intervals_.empty()) return 0;
  std::vector<int64_t> v = intervals_;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  if (v.size() % 2) return v[mid];
  const int64_t upper = v[mid];
  const int64_t lower = *std::max_element(v.begin(), v.begin() + mid);
  return lower + (upper - lower) / 2;
}

void SessionSummary::Account(double seconds) {
  for (const Pending& p : pending_) {
    Acc& a = tracks_[p.id];
    a.s.seconds += seconds;
    if (!p.label.empty()) a.s.emotion_seconds[p.label] += seconds;
    if (p.valence && std::isfinite(*p.valence)) {
      a.valence_sum += *p.valence * seconds;
      a.valence_seconds += seconds;
    }
    if (p.arousal && std::isfinite(*p.arousal)) {
      a.arousal_sum += *p.arousal * seconds;
      a.arousal_seconds += seconds;
    }
  }
  pending_.clear();
}

void SessionSummary::Add(const FrameFaces& frame) {
  if (finished_) return;
  ++frames_;
  if (have_pending_) {
    const int64_t pts = frame.pts_ns;
    double seconds = 0;
    if (pts >= 0 && pending_pts_ >= 0 && pts > pending_pts_) {
      const int64_t interval = pts - pending_pts_;
      if (intervals_.size() < kIntervalWindow) {
        intervals_.push_back(interval);
      } else {
        intervals_[interval_next_] = interval;
        interval_next_ = (interval_next_ + 1) % kIntervalWindow;
      }
      seconds = interval / kNsPerSecond;
    } else {
      seconds = median_interval_ns() / kNsPerSecond;  // the median so far
    }
    Account(seconds);
  }
  pending_pts_ = frame.pts_ns;
  have_pending_ = true;
  for (const Face& f : frame.faces) {
    if (f.id < 0) continue;
    Acc& a = tracks_[f.id];
    if (a.s.frames++ == 0) {
      a.s.id = f.id;
      a.s.first_pts_ns = frame.pts_ns;
    }
    a.s.last_pts_ns = frame.pts_ns;
    Pending p{f.id, {}, std::nullopt, std::nullopt, std::nullopt};
    if (f.emotion) {
      p.label = f.emotion->label;
      p.valence = f.emotion->valence;
      p.arousal = f.emotion->arousal;
    }
    if (auto it = f.actions.find("blinks"); it != f.actions.end()) {
      const uint64_t now = Count(it->second);
      if (!a.last_blinks) {
        a.blinks += now;
      } else {
        const uint64_t before = Count(*a.last_blinks);
        a.blinks += now >= before ? now - before : now;  // a drop: the count restarted
      }
      a.last_blinks = it->second;
    }
    if (f.vitals && f.vitals->session_bpm && f.vitals->session_confidence) {
      a.s.vitals_bpm = *f.vitals->session_bpm;
      a.s.vitals_confidence = *f.vitals->session_confidence;
    }
    pending_.push_back(std::move(p));
  }
}

void SessionSummary::Finish() {
  if (finished_) return;
  if (have_pending_) Account(median_interval_ns() / kNsPerSecond);
  have_pending_ = false;
  for (auto& [id, a] : tracks_) {
    TrackSummary& s = a.s;
    double labelled = 0;
    for (const auto& [label, sec] : s.emotion_seconds) labelled += sec;
    s.emotion_share.clear();
    if (labelled > 0)
      for (const auto& [label, sec] : s.emotion_seconds) s.emotion_share[label] = sec / labelled;
    if (a.valence_seconds > 0) s.valence = a.valence_sum / a.valence_seconds;
    if (a.arousal_seconds > 0) s.arousal = a.arousal_sum / a.arousal_seconds;
    if (a.last_blinks) {
      s.blinks = a.blinks;
      if (s.seconds > 0) s.blinks_per_minute = a.blinks / s.seconds * 60.0;
    }
  }
  finished_ = true;
}

void SessionSummary::Reset() { *this = SessionSummary(); }

std::vector<TrackSummary> SessionSummary::tracks() const {
  std::vector<TrackSummary> out;
  out.reserve(tracks_.size());
  for (const auto& [id, a] : tracks_) out.push_back(a.s);
  return out;
}

std::string SessionSummary::ToJsonLine() const {
  using nlohmann::json;
  json tracks = json::array();
  for (const TrackSummary& s : this->tracks()) {
    json t = {{"id", s.id},
              {"frames", s.frames},
              {"seconds", s.seconds},
              {"first_pts", s.first_pts_ns},
              {"last_pts", s.last_pts_ns},
              {"emotion_seconds", json::object()},
              {"emotion_share", json::object()}};
    for (const auto& [label, sec] : s.emotion_seconds) t["emotion_seconds"][label] = sec;
    for (const auto& [label, share] : s.emotion_share) t["emotion_share"][label] = share;
    if (s.valence) t["valence"] = *s.valence;
    if (s.arousal) t["arousal"] = *s.arousal;
    if (s.blinks) t["blinks"] = *s.blinks;
    if (s.blinks_per_minute) t["blinks_per_minute"] = *s.blinks_per_minute;
    if (s.vitals_bpm && s.vitals_confidence)
      t["vitals"] = {{"bpm", *s.vitals_bpm}, {"confidence", *s.vitals_confidence}};
    tracks.push_back(std::move(t));
  }
  return json{{"summary", {{"tracks", std::move(tracks)}}}}.dump();
}

}  // namespace fg
