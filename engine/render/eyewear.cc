#include "engine/render/eyewear.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

namespace fg::render {

namespace {

float Smoothstep(float x) {
  x = std::clamp(x, 0.0f, 1.0f);
  return x * x * (3 - 2 * x);
}

// FaceMesh anchors, subject's left; the right eye's are their mirror images.
constexpr int kEyeOuter = 263, kEyeInner = 362, kLidUpper = 386, kLidLower = 374;
constexpr int kBrowOuter = 300, kBrowMiddle = 334, kBrowInner = 336;

}  // namespace

RigidEyewear::RigidEyewear(const CanonicalFace& face) {
  if (face.vertices.size() != 468) return;
  v_ = face.vertices;
  const auto& v = v_;
  const float outer = std::abs(v[kEyeOuter][0]), inner = std::abs(v[kEyeInner][0]);
  const float eye_cx = 0.5f * (outer + inner), half_w = 0.5f * (outer - inner);
  const float eye_cy = 0.5f * (v[kLidUpper][1] + v[kLidLower][1]);
  const float half_h = std::max(0.1f, 0.5f * (v[kLidUpper][1] - v[kLidLower][1]));
  const float brow_top =
      std::max({v[kBrowOuter][1], v[kBrowMiddle][1], v[kBrowInner][1]});
  const float y_high = brow_top + 0.9f, y_low = v[kLidLower][1] - 1.3f;
  w_.assign(v.size(), 0.0f);
  side_.assign(v.size(), 0);
  for (size_t i = 0; i < v.size(); ++i) {
    const float ax = std::abs(v[i][0]), y = v[i][1];
    const float wx = Smoothstep((ax - 0.4f) / 0.6f) * (1 - Smoothstep((ax - outer - 0.8f) / 0.8f));
    const float wy = Smoothstep((y - (y_low - 0.5f)) / 0.5f) * (1 - Smoothstep((y - y_high) / 0.6f));
    // The lids keep their own motion: nothing within 1.25 of the eye's ellipse (half its
    // width across, its lid gap up and down: the lid margins and the fold), full weight from
    // 1.75 on.
    const float e = std::hypot((ax - eye_cx) / half_w, (y - eye_cy) / (2.0f * half_h));
    const float lids = Smoothstep((e - 1.25f) / 0.5f);
    w_[i] = wx * wy * lids;
    side_[i] = w_[i] > 0 ? (v[i][0] > 0 ? 1 : -1) : 0;
  }
}

void RigidEyewear::Apply(std::span<std::array<float, 3>> deltas) const {
  if (v_.empty() || deltas.size() < v_.size()) return;
  for (int s : {1, -1}) {
    // Weighted least squares: d ~ a0 + a1 x + a2 y, for dx and dy (fixed-size: no heap).
    Eigen::Matrix3d ata = Eigen::Matrix3d::Zero();
    Eigen::Vector3d bx = Eigen::Vector3d::Zero(), by = Eigen::Vector3d::Zero();
    for (size_t i = 0; i < v_.size(); ++i) {
      if (side_[i] != s) continue;
      const double w = w_[i];
      const Eigen::Vector3d r(1.0, v_[i][0], v_[i][1]);
      ata += w * r * r.transpose();
      bx += w * deltas[i][0] * r;
      by += w * deltas[i][1] * r;
    }
    if (!(ata.determinant() > 1e-9)) continue;
    const Eigen::Matrix3d inv = ata.inverse();
    const Eigen::Vector3d cx = inv * bx, cy = inv * by;
    for (size_t i = 0; i < v_.size(); ++i) {
      if (side_[i] != s) continue;
      const float w = w_[i];
      const float fx = static_cast<float>(cx[0] + cx[1] * v_[i][0] + cx[2] * v_[i][1]);
      const float fy = static_cast<float>(cy[0] + cy[1] * v_[i][0] + cy[2] * v_[i][1]);
      deltas[i][0] += w * (fx - deltas[i][0]);
      deltas[i][1] += w * (fy - deltas[i][1]);
    }
  }
}

}  // namespace fg::render
