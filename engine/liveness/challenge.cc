#include "engine/liveness/challenge.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace fg {

std::string_view ChallengeStepName(ChallengeStep s) {
  switch (s) {
    case ChallengeStep::kBlink: return "blink";
    case ChallengeStep::kTurnLeft: return "turn-left";
    case ChallengeStep::kTurnRight: return "turn-right";
    case ChallengeStep::kSmile: return "smile";
  }
  return "?";
}

std::string_view ChallengeInstruction(ChallengeStep s) {
  switch (s) {
    case ChallengeStep::kBlink: return "Please blink";
    case ChallengeStep::kTurnLeft: return "Turn your head left";
    case ChallengeStep::kTurnRight: return "Turn your head right";
    case ChallengeStep::kSmile: return "Please smile";
  }
  return "?";
}

std::string_view ChallengeStateName(ChallengeState::State s) {
  switch (s) {
    case ChallengeState::kPassed: return "passed";
    case ChallengeState::kFailed: return "failed";
    default: return "asking";
  }
}

std::optional<std::vector<ChallengeStep>> ParseChallenge(std::string_view text, std::string* error) {
  std::vector<ChallengeStep> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || std::isspace(static_cast<unsigned char>(text[i])))) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ',' && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i) break;
    std::string w(text.substr(i, j - i));
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::replace(w.begin(), w.end(), '_', '-');
    if (w == "blink")
      out.push_back(ChallengeStep::kBlink);
    else if (w == "turn-left" || w == "left")
      out.push_back(ChallengeStep::kTurnLeft);
    else if (w == "turn-right" || w == "right")
      out.push_back(ChallengeStep::kTurnRight);
    else if (w == "smile")
      out.push_back(ChallengeStep::kSmile);
    else {
      *error = "unknown challenge step \"" + std::string(text.substr(i, j - i)) +
               "\" (known: blink, turn-left, turn-right, smile)";
      return std::nullopt;
    }
    i = j;
  }
  if (out.empty()) {
    *error = "empty challenge (give steps such as \"blink,turn-left\")";
    return std::nullopt;
  }
  return out;
}

LivenessChallenge ChallengeState::ToChallenge(const std::vector<ChallengeStep>& steps) const {
  LivenessChallenge c;
  const int n = static_cast<int>(steps.size());
  c.steps = n;
  c.step = std::min(step, n > 0 ? n - 1 : 0);
  c.ask = n > 0 ? std::string(ChallengeStepName(steps[c.step])) : std::string();
  c.state = std::string(ChallengeStateName(state));
  c.remaining_s = remaining_s;
  return c;
}

void ChallengeRun::StartStep(const Face& face, const FaceActions* actions, int64_t pts_ns) {
  s_.step_start_ns = pts_ns;
  s_.changed = true;
  held_ = 0;
  smile_rested_ = false;
  closed_ = false;
  have_yaw0_ = face.pose.has_value();
  yaw0_ = have_yaw0_ ? face.pose->yaw : 0.0f;
  have_blinks0_ = actions != nullptr;
  blinks0_ = actions ? actions->blinks : 0;
}

const ChallengeState& ChallengeRun::Update(const Face& face, const FaceActions* actions,
                                           int64_t pts_ns) {
  s_.changed = false;
  s_.last_seen_ns = std::max(s_.last_seen_ns, pts_ns);
  const int n = static_cast<int>(opts_.steps.size());
  if (s_.step_start_ns < 0) StartStep(face, actions, pts_ns);
  if (s_.state != ChallengeState::kAsking) return s_;
  if (n == 0) {
    s_.state = ChallengeState::kPassed;
    s_.changed = true;
    return s_;
  }
  // The references of this step that were missing when it began (no pose, no mesh yet).
  if (!have_yaw0_ && face.pose) {
    have_yaw0_ = true;
    yaw0_ = face.pose->yaw;
  }
  if (!have_blinks0_ && actions) {
    have_blinks0_ = true;
    blinks0_ = actions->blinks;
  }
  bool met = false, event = false;
  switch (opts_.steps[s_.step]) {
    case ChallengeStep::kBlink: {
      // The tracker's own blink count, or a closure of both eyes to blink_close of their
      // neutral openness that reopens (mean above blink_open) within max_blink_s.
      bool reopened = false;
      if (actions && actions->calibrated) {
        const float l = actions->eye_open_left, r = actions->eye_open_right;
        if (!closed_ && l < opts_.blink_close && r < opts_.blink_close) {
          closed_ = true;
          closed_since_ns_ = pts_ns;
        } else if (closed_ && 0.5f * (l + r) > opts_.blink_open) {
          closed_ = false;
          reopened = 1e-9 * static_cast<double>(pts_ns - closed_since_ns_) <= opts_.max_blink_s;
        }
      }
      met = event = reopened || (have_blinks0_ && actions && actions->blinks > blinks0_);
      break;
    }
    case ChallengeStep::kTurnLeft:
      met = have_yaw0_ && face.pose && face.pose->yaw >= yaw0_ + opts_.turn_deg;
      break;
    case ChallengeStep::kTurnRight:
      met = have_yaw0_ && face.pose && face.pose->yaw <= yaw0_ - opts_.turn_deg;
      break;
    case ChallengeStep::kSmile:
      if (actions && actions->calibrated && actions->smile < 0.5f * opts_.smile_min)
        smile_rested_ = true;
      met = smile_rested_ && actions && actions->calibrated && actions->smile >= opts_.smile_min;
      break;
  }
  held_ = met ? held_ + 1 : 0;
  const double elapsed_s = 1e-9 * static_cast<double>(pts_ns - s_.step_start_ns);
  if (met && (event || held_ >= opts_.hold_frames)) {
    ++s_.step;
    if (s_.step >= n) {
      s_.state = ChallengeState::kPassed;
      s_.remaining_s = 0;
      s_.changed = true;
      return s_;
    }
    StartStep(face, actions, pts_ns);
    s_.remaining_s = static_cast<float>(opts_.timeout_s);
    return s_;
  }
  if (elapsed_s > opts_.timeout_s) {
    s_.state = ChallengeState::kFailed;
    s_.remaining_s = 0;
    s_.changed = true;
    return s_;
  }
  s_.remaining_s = static_cast<float>(std::max(0.0, opts_.timeout_s - elapsed_s));
  return s_;
}

const ChallengeState& ChallengeTracks::Update(const Face& face, const FaceActions* actions,
                                              int64_t pts_ns) {
  auto it = tracks_.try_emplace(face.id, opts_, face.id).first;
  return it->second.Update(face, actions, pts_ns);
}

const ChallengeState* ChallengeTracks::Get(int64_t id) const {
  auto it = tracks_.find(id);
  return it == tracks_.end() ? nullptr : &it->second.state();
}

size_t ChallengeTracks::EndStale(int64_t now_ns) {
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
