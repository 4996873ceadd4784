#include "engine/emotion/emotion_tracker.h"

#include <cmath>

namespace fg {

Emotion EmotionState::ToEmotion() const {
  Emotion e;
  if (label >= 0) e.label = std::string(kEmotionNames[label]);
  for (int i = 0; i < kEmotionClasses; ++i) e.scores[std::string(kEmotionNames[i])] = probs[i];
  if (label >= 0) {
    e.confidence = confidence;
    e.valence = valence;
    e.arousal = arousal;
  }
  return e;
}

Circumplex ValenceArousal(const EmotionProbs& p) {
  Circumplex c{0, 0};
  for (int i = 0; i < kEmotionClasses; ++i) {
    c.valence += p[i] * kEmotionCircumplex[i].valence;
    c.arousal += p[i] * kEmotionCircumplex[i].arousal;
  }
  return c;
}

const EmotionState& EmotionSmoother::Update(const EmotionProbs& p, int64_t pts_ns) {
  if (s_.updates > 0 && pts_ns <= s_.pts_ns) {
    ++s_.out_of_order;
    return s_;
  }
  if (s_.updates == 0 || opts_.time_constant_s <= 0) {
    s_.probs = p;
  } else {
    // Exact first-order low-pass over a linear input segment from s_.raw (previous sample)
    // to p (see the header). In double: e and k are close to 1 for short steps.
    const double x = 1e-9 * static_cast<double>(pts_ns - s_.pts_ns) / opts_.time_constant_s;
    const double e = std::exp(-x), k = -std::expm1(-x) / x;
    for (int i = 0; i < kEmotionClasses; ++i)
      s_.probs[i] = static_cast<float>(e * s_.probs[i] + (k - e) * s_.raw[i] + (1 - k) * p[i]);
  }
  s_.raw = p;
  s_.pts_ns = pts_ns;
  s_.last_seen_ns = std::max(s_.last_seen_ns, pts_ns);
  ++s_.updates;

  const int top = ArgMax(s_.probs);
  if (s_.label < 0) {
    s_.label = top;
  } else if (top != s_.label && s_.probs[top] >= s_.probs[s_.label] + opts_.switch_margin) {
    if (pending_ != top) pending_ = top, pending_since_ = pts_ns;
    if (1e-9 * static_cast<double>(pts_ns - pending_since_) >= opts_.switch_hold_s) {
      s_.label = top;
      ++s_.label_changes;
      pending_ = -1;
    }
  } else {
    pending_ = -1;
  }
  s_.confidence = s_.probs[s_.label];
  const Circumplex va = ValenceArousal(s_.probs);
  s_.valence = va.valence;
  s_.arousal = va.arousal;
  return s_;
}

const EmotionState& EmotionTracks::Update(int64_t id, const EmotionProbs& p, int64_t pts_ns) {
  auto it = tracks_.find(id);
  if (it == tracks_.end()) it = tracks_.emplace(id, EmotionSmoother(opts_, id)).first;
  return it->second.Update(p, pts_ns);
}

void EmotionTracks::Seen(int64_t id, int64_t pts_ns) {
  if (auto it = tracks_.find(id); it != tracks_.end()) it->second.Seen(pts_ns);
}

const EmotionState* EmotionTracks::Get(int64_t id) const {
  auto it = tracks_.find(id);
  return it == tracks_.end() ? nullptr : &it->second.state();
}

bool EmotionTracks::End(int64_t id) { return tracks_.erase(id) > 0; }

size_t EmotionTracks::EndStale(int64_t now_ns) {
  const auto timeout = static_cast<int64_t>(opts_.track_timeout_s * 1e9);
  return std::erase_if(tracks_, [&](const auto& kv) {
    return now_ns - kv.second.state().last_seen_ns > timeout;
  });
}

}  // namespace fg
