#include "engine/tracking/head_pose.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <Eigen/Dense>

namespace fg {

namespace {
constexpr float kDeg = 180.0f / std::numbers::pi_v<float>;
}

Eigen::Matrix3f YawPitchRollToRotation(float yaw_deg, float pitch_deg, float roll_deg) {
  using Eigen::AngleAxisf;
  using Eigen::Vector3f;
  return (AngleAxisf(yaw_deg / kDeg, Vector3f::UnitY()) *
          AngleAxisf(-pitch_deg / kDeg, Vector3f::UnitX()) *
          AngleAxisf(roll_deg / kDeg, Vector3f::UnitZ()))
      .toRotationMatrix();
}

std::array<float, 3> RotationToYawPitchRoll(const Eigen::Matrix3f& r) {
  // R = Ry(a) Rx(b) Rz(c) with b = -pitch: R(1,2) = -sin b, R(0,2) = sin a cos b,
  // R(2,2) = cos a cos b, R(1,0) = cos b sin c, R(1,1) = cos b cos c.
  const float b = std::asin(std::clamp(-r(1, 2), -1.0f, 1.0f));
  const float a = std::atan2(r(0, 2), r(2, 2));
  const float c = std::atan2(r(1, 0), r(1, 1));
  return {a * kDeg, -b * kDeg, c * kDeg};
}

HeadPoseFit FitHeadPose(const CanonicalFace& canonical,
                        const std::vector<std::array<float, 3>>& landmarks, int frame_width,
                        int frame_height) {
  HeadPoseFit fit;
  fit.rotation.setIdentity();
  fit.origin_px.setZero();
  const auto& basis = canonical.procrustes_basis;
  if (landmarks.size() < canonical.vertices.size() || basis.empty()) return fit;

  // Weighted Umeyama: find s, R, t minimising sum w_i |s R p_i + t - q_i|^2.
  double wsum = 0;
  Eigen::Vector3d mp = Eigen::Vector3d::Zero(), mq = Eigen::Vector3d::Zero();
  auto P = [&](int i) {
    const auto& v = canonical.vertices[i];
    return Eigen::Vector3d(v[0], v[1], v[2]);
  };
  auto Q = [&](int i) {  // image (x right, y down, z away) -> (x right, y up, z to camera)
    const auto& l = landmarks[i];
    return Eigen::Vector3d(l[0], -l[1], -l[2]);
  };
  for (const auto& b : basis) {
    wsum += b.weight;
    mp += b.weight * P(b.landmark);
    mq += b.weight * Q(b.landmark);
  }
  if (wsum <= 0) return fit;
  mp /= wsum;
  mq /= wsum;
  Eigen::Matrix3d cov = Eigen::Matrix3d::Zero();
  double var_p = 0;
  for (const auto& b : basis) {
    const Eigen::Vector3d dp = P(b.landmark) - mp, dq = Q(b.landmark) - mq;
    cov += b.weight * dq * dp.transpose();
    var_p += b.weight * dp.squaredNorm();
  }
  cov /= wsum;
  var_p /= wsum;
  Eigen::JacobiSVD<Eigen::Matrix3d> svd(cov, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Eigen::Matrix3d d = Eigen::Matrix3d::Identity();
  if ((svd.matrixU() * svd.matrixV().transpose()).determinant() < 0) d(2, 2) = -1;  // no reflection
  const Eigen::Matrix3d r = svd.matrixU() * d * svd.matrixV().transpose();
  const double s = var_p > 0 ? (svd.singularValues().asDiagonal() * d).trace() / var_p : 0;
  const Eigen::Vector3d t = mq - s * r * mp;

  double err = 0;
  for (const auto& b : basis) err += b.weight * (s * r * P(b.landmark) + t - Q(b.landmark)).squaredNorm();

  fit.rotation = r.cast<float>();
  fit.scale = static_cast<float>(s);
  fit.origin_px = Eigen::Vector2f(static_cast<float>(t.x()), static_cast<float>(-t.y()));
  fit.rms_px = static_cast<float>(std::sqrt(err / wsum));
  const auto ypr = RotationToYawPitchRoll(fit.rotation);
  fit.pose.yaw = ypr[0];
  fit.pose.pitch = ypr[1];
  fit.pose.roll = ypr[2];
  if (s > 0 && frame_width > 0 && frame_height > 0) {
    // Pinhole with focal length = frame width and the principal point at the frame centre.
    const float cx = 0.5f * static_cast<float>(frame_width);
    const float cy = 0.5f * static_cast<float>(frame_height);
    fit.pose.translation = std::array<float, 3>{(fit.origin_px.x() - cx) / fit.scale,
                                                (fit.origin_px.y() - cy) / fit.scale,
                                                static_cast<float>(frame_width) / fit.scale};
  }
  return fit;
}

}  // namespace fg
