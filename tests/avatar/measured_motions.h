// Shared by tests/avatar and tests/render: the canonical face moved by known amounts for
// the 15 measured ARKit blendshapes (engine/avatar/measured_blendshapes.h), and posed as
// 478 FaceMesh + Iris landmarks in a 640x480 frame.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include <Eigen/Core>

#include "engine/avatar/measured_blendshapes.h"
#include "engine/tracking/head_pose.h"
#include "tests/avatar/avatar_test_util.h"

namespace fg::avatar_testing {

using V3 = std::array<float, 3>;

// The iris centres at the eye corners' middle (the rest position), plus offsets.
inline std::array<V3, 2> Irises(V3 left_offset, V3 right_offset) {
  const auto& v = Canonical().vertices;
  std::array<V3, 2> c;
  const int corners[2][2] = {{362, 263}, {133, 33}};
  const V3 off[2] = {left_offset, right_offset};
  for (int e = 0; e < 2; ++e)
    for (int k = 0; k < 3; ++k)
      c[e][k] = 0.5f * (v[corners[e][0]][k] + v[corners[e][1]][k]) + off[e][k];
  return c;
}

// The weight of a vertex in the jaw's moving part (jawOpen's delta over its largest), as the
// generated glTF test avatar moves its jaw.
inline float JawWeight(int v) {
  const int jaw = Basis().Index("jawOpen");
  static const float most = [&] {
    float m = 0;
    for (const V3& d : Basis().Delta(jaw)) m = std::max(m, std::hypot(d[1], d[2]));
    return m;
  }();
  const V3& d = Basis().Delta(jaw)[v];
  return std::hypot(d[1], d[2]) / most;
}

struct Motion {
  const char* name;
  float want;  // the known amount, as a weight
  std::vector<V3> delta;  // per vertex, canonical cm
  V3 iris_left{0, 0, 0}, iris_right{0, 0, 0};
};

inline std::vector<Motion> Motions() {
  const auto& v = Canonical().vertices;
  std::vector<Motion> out;
  auto blank = [] { return std::vector<V3>(468, V3{0, 0, 0}); };
  {
    Motion m{"jawLeft", 0.6f, blank()};
    for (int i = 0; i < 468; ++i) m.delta[i][0] = 0.6f * kJawSideFullCm * JawWeight(i);
    out.push_back(m);
    Motion r{"jawRight", 0.6f, blank()};
    for (int i = 0; i < 468; ++i) r.delta[i][0] = -0.6f * kJawSideFullCm * JawWeight(i);
    out.push_back(r);
    Motion f{"jawForward", 0.5f, blank()};
    for (int i = 0; i < 468; ++i) f.delta[i][2] = 0.5f * kJawForwardFullCm * JawWeight(i);
    out.push_back(f);
  }
  // The lips: between the inner line (13 / 14) and the outer (0 / 17), the part towards the
  // outer line moves, fading over 0.5 cm beyond it, within 2.2 cm of the midline.
  const float up_in = v[13][1], up_out = v[0][1], lo_in = v[14][1], lo_out = v[17][1];
  auto lip = [&](int i, bool upper) {
    if (std::abs(v[i][0]) > 2.2f) return 0.0f;
    const float y = v[i][1];
    const float in = upper ? up_in : lo_in, outer = upper ? up_out : lo_out;
    const float t = (y - in) / (outer - in);  // 0 at the inner line, 1 at the outer
    if (t < 0) return 0.0f;
    return t <= 1 ? t : std::max(0.0f, 1 - std::abs(y - outer) / 0.5f);
  };
  {
    Motion m{"mouthRollUpper", 0.6f, blank()};
    for (int i = 0; i < 468; ++i) m.delta[i][1] = -0.6f * kRollUpperFullCm * lip(i, true);
    out.push_back(m);
    Motion l{"mouthRollLower", 0.6f, blank()};
    for (int i = 0; i < 468; ++i) l.delta[i][1] = 0.6f * kRollLowerFullCm * lip(i, false);
    out.push_back(l);
    // The shrug: the whole upper lip (inner line included) and the skin above it.
    Motion s{"mouthShrugUpper", 0.6f, blank()};
    for (int i = 0; i < 468; ++i) {
      const float y = v[i][1];
      if (std::abs(v[i][0]) > 2.2f || y < up_in - 0.05f) continue;
      s.delta[i][1] = 0.6f * kShrugUpperFullCm * std::clamp(1 - (y - up_out) / 0.8f, 0.0f, 1.0f);
    }
    out.push_back(s);
  }
  {
    Motion m{"eyeLookOutLeft", 0.5f, blank(), {0.5f * kGazeAcrossFullCm, 0, 0},
             {0.5f * kGazeAcrossFullCm, 0, 0}};
    out.push_back(m);
    Motion u{"eyeLookUpRight", 0.5f, blank(), {0, 0.5f * kGazeVerticalFullCm, 0},
             {0, 0.5f * kGazeVerticalFullCm, 0}};
    out.push_back(u);
  }
  return out;
}

// 478 landmarks of the canonical face moved by `delta` (and the irises), posed in the frame.
inline std::vector<V3> Posed(const std::vector<V3>& mesh, const std::array<V3, 2>& iris,
                              std::mt19937& rng, float noise_px = 0.3f) {
  const Eigen::Matrix3f r = YawPitchRollToRotation(12, -4, 3);
  std::normal_distribution<float> n(0.0f, std::max(noise_px, 1e-9f));
  const bool noisy = noise_px > 0;
  std::vector<V3> out;
  auto put = [&](const V3& m) {
    const Eigen::Vector3f q = 16.0f * (r * Eigen::Vector3f(m[0], m[1], m[2]));
    out.push_back({320 + q.x() + (noisy ? n(rng) : 0.f), 240 - q.y() + (noisy ? n(rng) : 0.f),
                   300 - q.z() + (noisy ? n(rng) : 0.f)});
  };
  for (const V3& m : mesh) put(m);
  for (int e = 0; e < 2; ++e)  // 468 .. 472 the left iris (centre first), 473 .. 477 the right
    for (int k = 0; k < 5; ++k) {
      V3 p = iris[e];
      if (k > 0) p[k % 2 ? 0 : 1] += (k < 3 ? 0.55f : -0.55f);
      put(p);
    }
  return out;
}


}  // namespace fg::avatar_testing
