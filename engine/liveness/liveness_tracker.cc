#include "engine/liveness/liveness_tracker.h"

#include <algorithm>
#include <cmath>

namespace fg {

std::string_view LivenessDecisionName(LivenessDecision d) {
  switch (d) {
    case LivenessDecision::kLive: return "live";
    case LivenessDecision::kSpoof: return "spoof";
    default: return "unsure";
  }
}

Liveness LivenessState::ToLiveness() const {
  Liveness l;
  l.real = smoothed.real;
  l.live = smoothed.live;
  l.decision = std::string(LivenessDecisionName(decision));
  return l;
}

const LivenessState& LivenessSmoother::Update(const LivenessScores& x, int64_t pts_ns) {
  if (s_.updates > 0 && pts_ns <= s_.pts_ns) {
    ++s_.out_of_order;
    return s_;
  }
  if (s_.updates == 0) {
    s_.smoothed = x;
    s_.first_pts_ns = pts_ns;
  } else {
    const double dt = 1e-9 * static_cast<double>(pts_ns - s_.pts_ns);
    const float a = opts_.time_constant_s > 0
                        ? static_cast<float>(1.0 - std::exp(-dt / opts_.time_constant_s))
                        : 1.0f;
    s_.smoothed.real += a * (x.real - s_.smoothed.real);
    s_.smoothed.live += a * (x.live - s_.smoothed.live);
  }
  s_.raw = x;
  s_.pts_ns = pts_ns;
  s_.last_seen_ns = std::max(s_.last_seen_ns, pts_ns);
  ++s_.updates;

  const double span_s = 1e-9 * static_cast<double>(pts_ns - s_.first_pts_ns);
  LivenessDecision d = s_.decision;
  if (span_s < opts_.min_evidence_s || s_.updates < static_cast<uint64_t>(opts_.min_samples)) {
    d = LivenessDecision::kUnsure;
  } else if (opts_.use_real || opts_.use_live) {
    const float r = s_.smoothed.real, l = s_.smoothed.live, m = opts_.margin;
    const bool all_above = (!opts_.use_real || r >= opts_.real_threshold + m) &&
                           (!opts_.use_live || l >= opts_.live_threshold + m);
    const bool any_below = (opts_.use_real && r < opts_.real_threshold - m) ||
                           (opts_.use_live && l < opts_.live_threshold - m);
    if (any_below)
      d = LivenessDecision::kSpoof;
    else if (all_above)
      d = LivenessDecision::kLive;
  }
  if (d != s_.decision) {
    s_.decision = d;
    ++s_.decision_changes;
  }
  return s_;
}

const LivenessState& LivenessTracks::Update(int64_t id, const LivenessScores& x, int64_t pts_ns) {
  auto it = tracks_.try_emplace(id, opts_, id).first;
  return it->second.Update(x, pts_ns);
}

const LivenessState* LivenessTracks::Get(int64_t id) const {
  auto it = tracks_.find(id);
  return it == tracks_.end() ? nullptr : &it->second.state();
}

void LivenessTracks::Seen(int64_t id, int64_t pts_ns) {
  if (auto it = tracks_.find(id); it != tracks_.end()) it->second.Seen(pts_ns);
}

bool LivenessTracks::End(int64_t id) { return tracks_.erase(id) > 0; }

size_t LivenessTracks::EndStale(int64_t now_ns) {
  const auto timeout = static_cast<int64_t>(opts_.track_timeout_s * 1e9);
  size_t n = 0;
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    if (now_ns - it->second.state().last_seen_ns > timeout) {
      it = tracks_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace fg
