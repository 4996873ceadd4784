// Head pose: known rotations of the real canonical face, projected the way FaceMesh reports
// landmarks (pixels, y down, z away), must be recovered.
#include "engine/tracking/head_pose.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace fg {
namespace {

CanonicalFace LoadFace() {
  const char* env = std::getenv("FACEGRAPH_MODELS");
  std::string err;
  auto f = LoadCanonicalFace(std::string(env ? env : FG_MODELS_DEFAULT_DIR) + "/" + kCanonicalFaceFile, &err);
  EXPECT_TRUE(f.has_value()) << err;
  return f.value_or(CanonicalFace{});
}

// Places the canonical face with rotation R, scale s (px/cm) at image point (u, v).
std::vector<std::array<float, 3>> Project(const CanonicalFace& f, const Eigen::Matrix3f& r, float s,
                                          float u, float v, float noise_px, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, noise_px);
  std::vector<std::array<float, 3>> out;
  for (const auto& p : f.vertices) {
    Eigen::Vector3f q = s * r * Eigen::Vector3f(p[0], p[1], p[2]);
    out.push_back({u + q.x() + n(rng), v - q.y() + n(rng), -q.z() + n(rng)});
  }
  return out;
}

TEST(HeadPose, EulerConventionRoundTrips) {
  for (float yaw : {-40.f, 0.f, 25.f})
    for (float pitch : {-20.f, 0.f, 30.f})
      for (float roll : {-30.f, 5.f}) {
        auto ypr = RotationToYawPitchRoll(YawPitchRollToRotation(yaw, pitch, roll));
        EXPECT_NEAR(ypr[0], yaw, 1e-3) << yaw << " " << pitch << " " << roll;
        EXPECT_NEAR(ypr[1], pitch, 1e-3);
        EXPECT_NEAR(ypr[2], roll, 1e-3);
      }
}

TEST(HeadPose, SignsMeanWhatTheHeaderSays) {
  const Eigen::Vector3f forward(0, 0, 1);  // the face's normal in head space
  EXPECT_GT((YawPitchRollToRotation(20, 0, 0) * forward).x(), 0.1f) << "yaw>0 turns to image right";
  EXPECT_GT((YawPitchRollToRotation(0, 20, 0) * forward).y(), 0.1f) << "pitch>0 tilts up (y up)";
  const Eigen::Vector3f right(1, 0, 0);
  EXPECT_GT((YawPitchRollToRotation(0, 0, 20) * right).y(), 0.1f) << "roll>0 is counter-clockwise";
}

// Tolerance: 0.5 degree with 0.5 px landmark noise on a face ~ 150 px wide.
TEST(HeadPose, RecoversKnownPoseFromNoisyLandmarks) {
  const CanonicalFace face = LoadFace();
  ASSERT_EQ(face.vertices.size(), 468u);
  uint32_t seed = 1;
  for (float yaw : {-30.f, 0.f, 30.f})
    for (float pitch : {-20.f, 10.f})
      for (float roll : {-30.f, 0.f, 30.f}) {
        const float s = 10.0f;  // px per cm: ~155 px between the outer eye corners
        auto lm = Project(face, YawPitchRollToRotation(yaw, pitch, roll), s, 400, 260, 0.5f, seed++);
        HeadPoseFit fit = FitHeadPose(face, lm, 640, 480);
        EXPECT_NEAR(fit.pose.yaw, yaw, 0.5) << yaw << " " << pitch << " " << roll;
        EXPECT_NEAR(fit.pose.pitch, pitch, 0.5) << yaw << " " << pitch << " " << roll;
        EXPECT_NEAR(fit.pose.roll, roll, 0.5) << yaw << " " << pitch << " " << roll;
        EXPECT_NEAR(fit.scale, s, 0.05f);
        EXPECT_NEAR(fit.origin_px.x(), 400, 0.5);
        EXPECT_NEAR(fit.origin_px.y(), 260, 0.5);
        ASSERT_TRUE(fit.pose.translation.has_value());
        EXPECT_NEAR((*fit.pose.translation)[0], (400 - 320) / s, 0.1);
        EXPECT_NEAR((*fit.pose.translation)[2], 640 / s, 0.5);
        EXPECT_LT(fit.rms_px, 1.5f);
      }
}

TEST(HeadPose, TooFewLandmarksGiveIdentityNotGarbage) {
  const CanonicalFace face = LoadFace();
  HeadPoseFit fit = FitHeadPose(face, {}, 640, 480);
  EXPECT_EQ(fit.scale, 0.0f);
  EXPECT_FALSE(fit.pose.translation.has_value());
}

}  // namespace
}  // namespace fg
