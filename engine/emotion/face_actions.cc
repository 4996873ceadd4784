#include "engine/emotion/face_actions.h"

#include <algorithm>
#include <cmath>

#include "engine/tracking/head_pose.h"

namespace fg {

namespace {

// FaceMesh indices (subject's right = image left on an unmirrored frame).
constexpr int kRightOuter = 33, kRightInner = 133, kRightUpper = 159, kRightLower = 145;
constexpr int kLeftInner = 362, kLeftOuter = 263, kLeftUpper = 386, kLeftLower = 374;
constexpr int kLipUpper = 13, kLipLower = 14, kMouthRight = 61, kMouthLeft = 291;
constexpr int kBrowRight = 105, kBrowLeft = 334;
constexpr int kChin = 152, kNoseTip = 1;

float Clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

}  // namespace

bool MeasureFaceActions(const std::vector<std::array<float, 3>>& lm,
                        const Eigen::Matrix3f& head_to_camera, FaceActionMeasures* out) {
  if (lm.size() < static_cast<size_t>(kMeshLandmarks)) return false;
  const Eigen::Matrix3f rt = head_to_camera.transpose();
  // Head-frame position (unscaled) of landmark i: R^T (x, -y, -z). Translation drops out
  // since only differences are used.
  auto H = [&](int i) -> Eigen::Vector3f {
    return rt * Eigen::Vector3f(lm[i][0], -lm[i][1], -lm[i][2]);
  };
  const Eigen::Vector3f ro = H(kRightOuter), ri = H(kRightInner), li = H(kLeftInner),
                        lo = H(kLeftOuter);
  const Eigen::Vector3f eye_r = 0.5f * (ro + ri), eye_l = 0.5f * (li + lo);
  const float iod = (eye_l - eye_r).norm();
  const float w_r = (ro - ri).norm(), w_l = (lo - li).norm();
  if (!(iod > 1e-6f) || !(w_r > 1e-6f) || !(w_l > 1e-6f)) return false;
  const Eigen::Vector3f lip_u = H(kLipUpper), lip_l = H(kLipLower);
  const Eigen::Vector3f m_r = H(kMouthRight), m_l = H(kMouthLeft);
  const float mouth_w = (m_l - m_r).norm();
  if (!(mouth_w > 1e-6f)) return false;

  out->eye_open_right = (H(kRightUpper).y() - H(kRightLower).y()) / w_r;
  out->eye_open_left = (H(kLeftUpper).y() - H(kLeftLower).y()) / w_l;
  out->mouth_open = (lip_u.y() - lip_l.y()) / mouth_w;
  out->smile = (0.5f * (m_r.y() + m_l.y()) - 0.5f * (lip_u.y() + lip_l.y())) / iod;
  out->brow = 0.5f * ((H(kBrowRight).y() - eye_r.y()) + (H(kBrowLeft).y() - eye_l.y())) / iod;
  out->jaw = (H(kChin) - H(kNoseTip)).norm() / iod;
  return true;
}

bool MeasureFaceActions(const Face& face, FaceActionMeasures* out) {
  const Eigen::Matrix3f r =
      face.pose ? YawPitchRollToRotation(face.pose->yaw, face.pose->pitch, face.pose->roll)
                : Eigen::Matrix3f::Identity();
  return MeasureFaceActions(face.landmarks, r, out);
}

FaceActionTracker::FaceActionTracker(const FaceActionOptions& opts, int64_t id) : opts_(opts) {
  a_.id = id;
  a_.neutral = opts_.prior;
  for (auto& s : samples_) s.reserve(kEvidenceSamples);
  scratch_.reserve(kEvidenceSamples);
}

namespace {
// Measures in a fixed order, and the percentile of each that a face at rest sits at.
constexpr float kRestPercentile[6] = {0.5f, 0.5f, 0.1f, 0.1f, 0.5f, 0.1f};
void ToArray(const FaceActionMeasures& m, float* v) {
  v[0] = m.eye_open_right, v[1] = m.eye_open_left, v[2] = m.mouth_open;
  v[3] = m.smile, v[4] = m.brow, v[5] = m.jaw;
}
}  // namespace

void FaceActionTracker::AddEvidence(const FaceActionMeasures& m) {
  float v[kMeasures];
  ToArray(m, v);
  const bool full = samples_[0].size() >= static_cast<size_t>(kEvidenceSamples);
  for (int k = 0; k < kMeasures; ++k) {
    if (full)
      samples_[k][sample_head_] = v[k];
    else
      samples_[k].push_back(v[k]);  // within reserve()
  }
  sample_head_ = (sample_head_ + 1) % kEvidenceSamples;
  for (int k = 0; k < kMeasures; ++k) {
    scratch_.assign(samples_[k].begin(), samples_[k].end());
    const size_t n = scratch_.size();
    // Linear interpolation between the two order statistics around q (n - 1).
    const double pos = kRestPercentile[k] * static_cast<double>(n - 1);
    const size_t lo = static_cast<size_t>(pos);
    std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(lo),
                     scratch_.end());
    float e = scratch_[lo];
    if (lo + 1 < n) {
      const float hi = *std::min_element(scratch_.begin() + static_cast<std::ptrdiff_t>(lo + 1),
                                         scratch_.end());
      e += static_cast<float>(pos - static_cast<double>(lo)) * (hi - e);
    }
    evidence_[k] = e;
  }
}

void FaceActionTracker::UpdateNeutral(double dt_s) {
  float p[kMeasures];
  ToArray(opts_.prior, p);
  constexpr float kNone = 1e30f;
  const float eye = opts_.eye_band < 0 ? kNone : opts_.eye_band;
  const float up[kMeasures] = {eye * p[0],
                               eye * p[1],
                               opts_.mouth_band * opts_.mouth_open_full,
                               opts_.smile_band * opts_.smile_full,
                               opts_.brow_band * opts_.brow_raise_full,
                               opts_.jaw_band * opts_.jaw_open_full};
  const float down[kMeasures] = {eye * p[0], eye * p[1], kNone, kNone,
                                 opts_.brow_band * opts_.brow_lower_full, kNone};
  const float follow =
      opts_.beyond_band_tau_s > 0
          ? static_cast<float>(1.0 - std::exp(-std::max(0.0, dt_s) / opts_.beyond_band_tau_s))
          : 1.0f;
  float n[kMeasures];
  for (int k = 0; k < kMeasures; ++k) {
    const float e = evidence_[k];
    auto track = [&](float excess, float& allow) {
      if (excess > allow)
        allow += follow * (excess - allow);
      else
        allow = excess;
    };
    track(std::max(0.0f, e - (p[k] + up[k])), allow_up_[k]);
    track(down[k] >= kNone ? 0.0f : std::max(0.0f, (p[k] - down[k]) - e), allow_down_[k]);
    const float hi = up[k] >= kNone ? kNone : p[k] + up[k] + allow_up_[k];
    const float lo = down[k] >= kNone ? -kNone : p[k] - down[k] - allow_down_[k];
    n[k] = std::clamp(e, lo, hi);
  }
  a_.neutral = {n[0], n[1], n[2], n[3], n[4], n[5]};
}

const FaceActions& FaceActionTracker::Update(const FaceActionMeasures& m, int64_t pts_ns) {
  if (a_.updates > 0 && pts_ns <= a_.pts_ns) return a_;
  if (start_ns_ < 0) start_ns_ = pts_ns;
  const double age_s = 1e-9 * static_cast<double>(pts_ns - start_ns_);
  // A gap (the face lost a while) is not time the allowance may follow the evidence.
  const double dt_s =
      a_.updates > 0 ? std::min(1.0, 1e-9 * static_cast<double>(pts_ns - a_.pts_ns)) : 0.0;
  a_.raw = m;
  a_.pts_ns = pts_ns;
  ++a_.updates;
  if (age_s <= opts_.calibration_s || a_.updates == 1 ||
      1e-9 * static_cast<double>(pts_ns - last_sample_ns_) >= opts_.evidence_period_s) {
    AddEvidence(m);
    last_sample_ns_ = pts_ns;
  }
  UpdateNeutral(dt_s);
  if (age_s > opts_.calibration_s) a_.calibrated = true;
  const FaceActionMeasures& n = a_.neutral;
  auto rel = [](float v, float ref) { return ref > 1e-6f ? v / ref : 1.0f; };
  const float open_r = rel(m.eye_open_right, n.eye_open_right);
  const float open_l = rel(m.eye_open_left, n.eye_open_left);
  a_.eye_open_right = Clamp01(open_r);
  a_.eye_open_left = Clamp01(open_l);
  a_.mouth_open = Clamp01((m.mouth_open - n.mouth_open) / opts_.mouth_open_full);
  a_.smile = Clamp01((m.smile - n.smile) / opts_.smile_full);
  a_.brow_raise = Clamp01((m.brow - n.brow) / opts_.brow_raise_full);
  a_.brow_lower = Clamp01((n.brow - m.brow) / opts_.brow_lower_full);
  a_.jaw_open = Clamp01((m.jaw - n.jaw) / opts_.jaw_open_full);

  // Blinks: hysteresis on relative openness; closed needs both eyes below blink_close (a
  // wink is one eye), open again needs their mean above blink_open.
  if (!a_.eyes_closed && std::max(open_r, open_l) < opts_.blink_close) {
    a_.eyes_closed = true;
    closed_since_ns_ = pts_ns;
  } else if (a_.eyes_closed && 0.5f * (open_r + open_l) > opts_.blink_open) {
    a_.eyes_closed = false;
    if (1e-9 * static_cast<double>(pts_ns - closed_since_ns_) <= opts_.max_blink_s) {
      ++a_.blinks;
      blink_ns_[blink_head_] = pts_ns;
      blink_head_ = (blink_head_ + 1) % kBlinkHistory;
    }
  }
  const double window = std::min(opts_.blink_rate_window_s, age_s);
  if (window > 0) {
    const auto from = pts_ns - static_cast<int64_t>(opts_.blink_rate_window_s * 1e9);
    const int stored = static_cast<int>(std::min<uint32_t>(a_.blinks, kBlinkHistory));
    int recent = 0;
    for (int i = 0; i < stored; ++i) recent += blink_ns_[i] > from;
    a_.blink_rate_per_min = static_cast<float>(recent * 60.0 / window);
  }
  return a_;
}

const FaceActions* FaceActionTracks::Update(const Face& face, int64_t pts_ns) {
  FaceActionMeasures m;
  if (!MeasureFaceActions(face, &m)) return nullptr;
  auto it = tracks_.find(face.id);
  if (it == tracks_.end()) it = tracks_.emplace(face.id, FaceActionTracker(opts_, face.id)).first;
  return &it->second.Update(m, pts_ns);
}

const FaceActions* FaceActionTracks::Get(int64_t id) const {
  auto it = tracks_.find(id);
  return it == tracks_.end() ? nullptr : &it->second.state();
}

bool FaceActionTracks::End(int64_t id) { return tracks_.erase(id) > 0; }

size_t FaceActionTracks::EndStale(int64_t now_ns) {
  const auto timeout = static_cast<int64_t>(opts_.track_timeout_s * 1e9);
  return std::erase_if(tracks_, [&](const auto& kv) { return now_ns - kv.second.state().pts_ns > timeout; });
}

void FaceActions::ToMap(std::map<std::string, float>* out) const {
  if (!calibrated) return;
  (*out)["eyeOpenLeft"] = eye_open_left;
  (*out)["eyeOpenRight"] = eye_open_right;
  (*out)["mouthOpen"] = mouth_open;
  (*out)["smile"] = smile;
  (*out)["browRaise"] = brow_raise;
  (*out)["browLower"] = brow_lower;
  (*out)["jawOpen"] = jaw_open;
  (*out)["eyesClosed"] = eyes_closed ? 1.0f : 0.0f;
  (*out)["blinks"] = static_cast<float>(blinks);
  (*out)["blinkRate"] = blink_rate_per_min;
}

}  // namespace fg
