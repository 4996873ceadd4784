// Facial action measures on synthetic landmark sequences with known truth: MediaPipe's
// canonical face (engine/geometry/canonical_face.h) deformed by known amounts in its own
// (head) frame with smooth local displacement fields, rotated by known head poses, scaled and
// projected to frame pixels the way FaceMesh reports them, with pixel noise. The pose given to
// the measures is the one FitHeadPose recovers from the landmarks, as in the tracker.
//
// Not covered here: real FaceMesh output on a face that really blinks or opens its mouth (the
// photo-warping variant of this test was not done; see the report).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <Eigen/Geometry>

#include "engine/emotion/face_actions.h"
#include "engine/geometry/canonical_face.h"
#include "engine/tracking/head_pose.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

constexpr int64_t kSec = 1'000'000'000;
using Verts = std::vector<std::array<float, 3>>;

const CanonicalFace& Canonical() {
  static CanonicalFace c = [] {
    std::string err;
    auto f = LoadCanonicalFace(nn::testing::ModelsDir() + "/" + kCanonicalFaceFile, &err);
    EXPECT_TRUE(f) << err;
    return f ? *f : CanonicalFace{};
  }();
  return c;
}

// Known deformations, in canonical centimetres (y up).
struct Deform {
  float eye_close = 0;   // fraction of each eye's lid gap closed (0 open .. 1 shut)
  float mouth_open = 0;  // cm the jaw (everything below the lower lip's top) drops
  float smile = 0;       // cm the lip corners rise
  float brow = 0;        // cm the brows rise (negative: lowered)
};

float Gauss(const std::array<float, 3>& p, const std::array<float, 3>& c, float sigma) {
  const float dx = p[0] - c[0], dy = p[1] - c[1], dz = p[2] - c[2];
  return std::exp(-(dx * dx + dy * dy + dz * dz) / (2 * sigma * sigma));
}

Verts Deformed(const Deform& d) {
  const Verts& v0 = Canonical().vertices;
  Verts v = v0;
  // Eyelids: the upper lid region (vertices above the eye's corner line, near the lid's middle
  // 159 / 386) moves down by eye_close x the lid gap, with a Gaussian falloff (sigma 0.35 cm)
  // whose weight is exactly 1 at the lid's middle.
  struct Eye { int upper, lower, a, b; };
  for (const Eye e : {Eye{159, 145, 33, 133}, Eye{386, 374, 362, 263}}) {
    const float gap = v0[e.upper][1] - v0[e.lower][1];
    const float line = 0.5f * (v0[e.a][1] + v0[e.b][1]);
    for (size_t i = 0; i < v.size(); ++i)
      if (v0[i][1] > line) v[i][1] -= d.eye_close * gap * Gauss(v0[i], v0[e.upper], 0.35f);
  }
  // Jaw: the lower lip (14) and everything below it drops rigidly.
  const float lower_lip = v0[14][1];
  for (size_t i = 0; i < v.size(); ++i)
    if (v0[i][1] <= lower_lip + 1e-4f) v[i][1] -= d.mouth_open;
  // Smile: lip corners 61 / 291 rise, Gaussian falloff sigma 0.5 cm.
  for (const int c : {61, 291})
    for (size_t i = 0; i < v.size(); ++i) v[i][1] += d.smile * Gauss(v0[i], v0[c], 0.5f);
  // Brows: 105 / 334 and their neighbourhood (sigma 0.8 cm) rise.
  for (const int b : {105, 334})
    for (size_t i = 0; i < v.size(); ++i)
      if (v0[i][1] > v0[b][1] - 1.0f) v[i][1] += d.brow * Gauss(v0[i], v0[b], 0.8f);
  return v;
}

struct Pose {
  float yaw = 0, pitch = 0, roll = 0;  // degrees
  float scale = 10;                    // pixels per cm
  float cx = 320, cy = 240;
};

// Head frame -> FaceMesh-style frame pixels (x right, y down, z away), plus pixel noise.
Verts Project(const Verts& v, const Pose& p, float noise = 0, std::mt19937* rng = nullptr) {
  const Eigen::Matrix3f r = YawPitchRollToRotation(p.yaw, p.pitch, p.roll);
  std::normal_distribution<float> n(0, noise);
  Verts out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const Eigen::Vector3f q = p.scale * (r * Eigen::Vector3f(v[i][0], v[i][1], v[i][2]));
    out[i] = {q.x() + p.cx, -q.y() + p.cy, -q.z()};
    if (rng)
      for (float& c : out[i]) c += n(*rng);
  }
  return out;
}

// What the tracker would output: landmarks and the pose fitted to them.
Face MakeFace(const Verts& lm, int64_t id = 1) {
  Face f;
  f.id = id;
  f.landmarks = lm;
  f.pose = FitHeadPose(Canonical(), lm, 640, 480).pose;
  return f;
}

FaceActionMeasures Measure(const Face& f) {
  FaceActionMeasures m;
  EXPECT_TRUE(MeasureFaceActions(f, &m));
  return m;
}

float Iod() {
  const Verts& v = Canonical().vertices;
  float d2 = 0;
  for (int k = 0; k < 3; ++k) {
    const float d = 0.5f * (v[362][k] + v[263][k]) - 0.5f * (v[33][k] + v[133][k]);
    d2 += d * d;
  }
  return std::sqrt(d2);
}

TEST(FaceActions, CanonicalFaceMeasures) {
  ASSERT_EQ(Canonical().vertices.size(), 468u);
  FaceActionMeasures m;
  // In FaceMesh's convention (y down, z away), frontal, 1 px per cm.
  ASSERT_TRUE(MeasureFaceActions(Project(Canonical().vertices, {0, 0, 0, 1, 0, 0}),
                                 Eigen::Matrix3f::Identity(), &m));
  std::printf("[ canonical ] IOD %.2f cm; eye open R %.3f L %.3f, mouth %.3f, smile %.3f, "
              "brow %.3f, jaw %.3f\n", Iod(), m.eye_open_right, m.eye_open_left, m.mouth_open,
              m.smile, m.brow, m.jaw);
  EXPECT_GT(m.eye_open_right, 0.05f);
  EXPECT_NEAR(m.eye_open_right, m.eye_open_left, 0.02f) << "symmetric face";
  EXPECT_GT(m.brow, 0.2f);
  EXPECT_GT(m.jaw, 0.5f);
  std::vector<std::array<float, 3>> few(10);
  EXPECT_FALSE(MeasureFaceActions(few, Eigen::Matrix3f::Identity(), &m));
}

// The same deformed face under many head poses gives the same measures: the pose fit's
// rotation is undone. Without it (identity rotation) pitch and roll corrupt them.
TEST(FaceActions, PoseNormalised) {
  const Deform d{.eye_close = 0.3f, .mouth_open = 0.8f, .smile = 0.4f, .brow = 0.3f};
  const Verts v = Deformed(d);
  FaceActionMeasures truth;
  ASSERT_TRUE(MeasureFaceActions(Project(v, {0, 0, 0, 1, 0, 0}), Eigen::Matrix3f::Identity(), &truth));
  double worst = 0, worst_unnormalised = 0;
  for (float yaw : {-35.f, 0.f, 35.f})
    for (float pitch : {-25.f, 0.f, 25.f})
      for (float roll : {-40.f, 0.f, 40.f}) {
        const Pose p{yaw, pitch, roll, 8.0f, 300, 250};
        const Face f = MakeFace(Project(v, p));
        const FaceActionMeasures m = Measure(f);
        FaceActionMeasures raw;  // same landmarks, no pose normalisation
        ASSERT_TRUE(MeasureFaceActions(f.landmarks, Eigen::Matrix3f::Identity(), &raw));
        const float a[] = {m.eye_open_right - truth.eye_open_right, m.eye_open_left - truth.eye_open_left,
                           m.mouth_open - truth.mouth_open, m.smile - truth.smile,
                           m.brow - truth.brow, m.jaw - truth.jaw};
        const float b[] = {raw.smile - truth.smile, raw.brow - truth.brow, raw.mouth_open - truth.mouth_open};
        for (float e : a) worst = std::max(worst, static_cast<double>(std::abs(e)));
        for (float e : b) worst_unnormalised = std::max(worst_unnormalised, static_cast<double>(std::abs(e)));
      }
  std::printf("[ pose ] 27 poses (yaw +-35, pitch +-25, roll +-40): max error %.2g "
              "(without pose normalisation: %.2g)\n", worst, worst_unnormalised);
  EXPECT_LE(worst, 0.01);
  EXPECT_GT(worst_unnormalised, 0.05) << "the test poses must matter";
}

// Known amounts in, intensities out: smile and brow are linear in the raise.
TEST(FaceActions, IntensitiesFollowKnownAmounts) {
  FaceActionOptions o;
  FaceActionTracker t(o);
  const Pose p{20, -10, 15, 9};
  for (int k = 0; k < 75; ++k) t.Update(Measure(MakeFace(Project(Deformed({}), p))), k * kSec / 30);
  ASSERT_TRUE(t.state().calibrated);
  const float iod = Iod();
  for (float u : {0.1f, 0.2f, 0.4f}) {
    const FaceActions& a = t.Update(Measure(MakeFace(Project(Deformed({.smile = u}), p))), t.state().pts_ns + kSec / 30);
    EXPECT_NEAR(a.smile, std::min(1.0f, u / iod / o.smile_full), 0.03f) << "smile " << u << " cm";
    EXPECT_LT(a.brow_raise, 0.05f);
  }
  for (float b : {0.2f, 0.4f}) {
    const FaceActions& a = t.Update(Measure(MakeFace(Project(Deformed({.brow = b}), p))), t.state().pts_ns + kSec / 30);
    EXPECT_NEAR(a.brow_raise, std::min(1.0f, b / iod / o.brow_raise_full), 0.05f) << "brow " << b;
    EXPECT_EQ(a.brow_lower, 0);
  }
  const FaceActions& a = t.Update(Measure(MakeFace(Project(Deformed({.brow = -0.3f}), p))), t.state().pts_ns + kSec / 30);
  EXPECT_NEAR(a.brow_lower, std::min(1.0f, 0.3f / iod / o.brow_lower_full), 0.05f);
  EXPECT_EQ(a.brow_raise, 0);
}

// Mouth opening by known amounts (head moving, landmark noise): the intensity is monotone in
// the true opening, and so is jaw_open.
TEST(FaceActions, MouthOpeningMonotone) {
  std::mt19937 rng(7);
  FaceActionTracker t;
  int64_t ts = 0;
  for (int k = 0; k < 75; ++k, ts += kSec / 30)  // 2.5 s neutral: calibration
    t.Update(Measure(MakeFace(Project(Deformed({}), {10.0f * std::sin(k * 0.1f), 5, -8, 9}, 0.3f, &rng))), ts);
  ASSERT_TRUE(t.state().calibrated);
  float last_mouth = -1, last_jaw = -1;
  std::printf("[ mouth ] opening cm -> mouth_open, jaw_open:");
  for (int s = 0; s <= 10; ++s) {
    const float open = 0.25f * s;
    // Average a few noisy frames per level (as a slowly opening mouth would be sampled).
    float mouth = 0, jaw = 0;
    for (int r = 0; r < 5; ++r, ts += kSec / 30) {
      const Pose p{-20.0f + 4 * s, 10, 5, 9};
      const FaceActions& a = t.Update(Measure(MakeFace(Project(Deformed({.mouth_open = open}), p, 0.3f, &rng))), ts);
      mouth += a.mouth_open / 5, jaw += a.jaw_open / 5;
    }
    std::printf(" %.2f->%.2f,%.2f", open, mouth, jaw);
    if (s > 0) {
      EXPECT_GT(mouth, last_mouth) << "opening " << open;
      if (jaw < 1) {  // jaw_open saturates at 1 (0.30 IOD) before the mouth does
        EXPECT_GT(jaw, last_jaw) << "opening " << open;
      }
    } else {
      EXPECT_LT(mouth, 0.05f);
    }
    last_mouth = mouth, last_jaw = jaw;
  }
  std::printf("\n");
  EXPECT_GT(last_mouth, 0.8f);
}

// N synthetic blinks -> N counted, through head motion and pixel noise; a blink inside the
// calibration window does not spoil the neutral; a half closure, a wink and a long closure
// (eyes shut 2 s) are not blinks.
TEST(FaceActions, BlinkCountExact) {
  std::mt19937 rng(11);
  FaceActionTracker t;
  // Blink start times (s) and durations (s); closure profile: a triangle down to full
  // closure and back (0.1-0.3 s, as real blinks).
  const std::vector<std::pair<double, double>> blinks = {
      {1.0, 0.15}, {4.0, 0.2}, {6.5, 0.1}, {9.0, 0.3}, {12.0, 0.15}, {14.2, 0.12}, {18.0, 0.25}};
  auto closure = [&](double s) -> std::pair<float, float> {  // (right, left) eye_close
    for (auto [b, d] : blinks)
      if (s >= b && s <= b + d) {
        const float c = static_cast<float>(1 - std::abs(2 * (s - b) / d - 1));
        return {c, c};
      }
    if (s >= 2.5 && s <= 3.0) return {0.35f, 0.35f};            // a half closure (squint)
    if (s >= 8.0 && s <= 8.2) return {0.0f, 1.0f};              // a wink
    if (s >= 15.5 && s <= 17.5) return {1.0f, 1.0f};            // eyes shut, 2 s
    return {0.0f, 0.0f};
  };
  for (int fps : {30, 60}) {
    FaceActionTracker tr;
    int closed_frames = 0;
    for (int k = 0; k <= 20 * fps; ++k) {
      const double s = static_cast<double>(k) / fps;
      const auto [cr, cl] = closure(s);
      // Eyes close separately: deform each eye on its own.
      Verts v = Deformed({.eye_close = cr});
      const Verts vl = Deformed({.eye_close = cl});
      for (size_t i = 0; i < v.size(); ++i)
        if (v[i][0] > 0) v[i] = vl[i];  // +x: the subject's left half (canonical frame)
      const Pose p{15.0f * static_cast<float>(std::sin(s)), 8.0f * static_cast<float>(std::cos(0.7 * s)),
                   10.0f * static_cast<float>(std::sin(0.3 * s)), 9, 320, 240};
      const FaceActions& a = tr.Update(Measure(MakeFace(Project(v, p, 0.3f, &rng))), k * kSec / fps);
      closed_frames += a.eyes_closed;
    }
    std::printf("[ blinks ] %d fps: %u blinks counted (%zu made), rate %.1f/min, neutral "
                "openness %.3f/%.3f, frames closed %d\n", fps, tr.state().blinks, blinks.size(),
                tr.state().blink_rate_per_min, tr.state().neutral.eye_open_right,
                tr.state().neutral.eye_open_left, closed_frames);
    EXPECT_EQ(tr.state().blinks, blinks.size()) << fps << " fps";
    // 7 blinks in the 20 s the track has lived: 21 per minute.
    EXPECT_NEAR(tr.state().blink_rate_per_min, 7 * 60.0 / 20, 0.5);
  }
}

TEST(FaceActions, PerTrackStateEnds) {
  FaceActionTracks tracks;
  const Verts lm = Project(Deformed({}), {});
  Face a = MakeFace(lm, 1), b = MakeFace(lm, 2);
  for (int k = 0; k < 10; ++k) {
    ASSERT_TRUE(tracks.Update(a, k * kSec / 30));
    ASSERT_TRUE(tracks.Update(b, k * kSec / 30));
  }
  EXPECT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks.Get(1)->id, 1);
  EXPECT_EQ(tracks.Get(2)->updates, 10u);
  EXPECT_TRUE(tracks.End(1));
  EXPECT_EQ(tracks.Get(1), nullptr);
  EXPECT_EQ(tracks.EndStale(10 * kSec / 30 + kSec / 2), 0u);  // track 2 seen 0.5 s ago
  EXPECT_EQ(tracks.EndStale(3 * kSec), 1u);
  EXPECT_EQ(tracks.size(), 0u);
  Face none;
  none.id = 3;
  EXPECT_EQ(tracks.Update(none, 0), nullptr) << "no mesh, no measures";
}

}  // namespace
}  // namespace fg
