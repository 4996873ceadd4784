#include "tests/render/arkit_test_avatar.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/render/gltf_avatar.h"

namespace fgtest {

namespace {

using Vec3 = std::array<float, 3>;
constexpr int kFace = 468, kTongue = 8;
// Lid contours (FaceMesh landmarks), subject's left (+x) and right.
constexpr int kEyeL[] = {263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249};
constexpr int kEyeR[] = {33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7};

// Weight of a vertex for an eye: 1 on the lid contour and inside its box, fading to 0 at
// 0.5 cm beyond the contour's nearest point.
template <size_t N>
float EyeWeight(const std::vector<Vec3>& v, const int (&eye)[N], const Vec3& p) {
  float d = 1e9f;
  for (int i : eye) d = std::min(d, std::hypot(p[0] - v[i][0], p[1] - v[i][1]));
  return std::clamp(1.0f - d / 0.5f, 0.0f, 1.0f);
}

}  // namespace

GltfMesh ArkitTestAvatar(const fg::CanonicalFace& face, const fg::BlendshapeBasis& basis) {
  const std::vector<Vec3>& v = face.vertices;
  GltfMesh m;
  m.positions = v;
  m.triangles = face.triangles;
  // The tongue: a slab of two quads (top and bottom, 8 vertices) behind the lips.
  const float lip_y = 0.5f * (v[13][1] + v[14][1]), lip_z = 0.5f * (v[13][2] + v[14][2]);
  const float tz = lip_z - 1.6f;
  const Vec3 tongue[kTongue] = {{-1.2f, lip_y + 0.1f, tz},        {1.2f, lip_y + 0.1f, tz},
                                {-0.8f, lip_y + 0.1f, tz + 1.4f}, {0.8f, lip_y + 0.1f, tz + 1.4f},
                                {-1.2f, lip_y - 0.3f, tz},        {1.2f, lip_y - 0.3f, tz},
                                {-0.8f, lip_y - 0.3f, tz + 1.4f}, {0.8f, lip_y - 0.3f, tz + 1.4f}};
  for (const Vec3& p : tongue) m.positions.push_back(p);
  const int t0 = kFace;
  for (const auto& tri : std::initializer_list<std::array<int, 3>>{
           {0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {2, 6, 3}, {3, 6, 7}})
    m.triangles.push_back({t0 + tri[0], t0 + tri[1], t0 + tri[2]});

  const int jaw = basis.Index("jawOpen");
  float jaw_max = 0;
  for (const Vec3& d : basis.Delta(jaw)) jaw_max = std::max(jaw_max, std::hypot(d[1], d[2]));
  auto jaw_weight = [&](int i) {
    const Vec3& d = basis.Delta(jaw)[i];
    return jaw_max > 0 ? std::hypot(d[1], d[2]) / jaw_max : 0.0f;
  };

  const size_t n = m.positions.size();
  for (const std::string& name : fg::render::ArkitBlendshapeNames()) {
    GltfTarget t{name, std::vector<Vec3>(n, Vec3{0, 0, 0})};
    const int b = basis.Index(name);
    if (b >= 0) {
      for (int i = 0; i < kFace; ++i) t.deltas[i] = basis.Delta(b)[i];
    } else if (name.rfind("eyeLook", 0) == 0) {
      const bool left = name.ends_with("Left");
      Vec3 dir{0, 0, 0};
      if (name.find("Up") != std::string::npos) dir[1] = 0.25f;
      if (name.find("Down") != std::string::npos) dir[1] = -0.25f;
      // In = towards the nose: -x for the left eye (+x side), +x for the right.
      if (name.find("In") != std::string::npos) dir[0] = left ? -0.25f : 0.25f;
      if (name.find("Out") != std::string::npos) dir[0] = left ? 0.25f : -0.25f;
      for (int i = 0; i < kFace; ++i) {
        const float w = left ? EyeWeight(v, kEyeL, v[i]) : EyeWeight(v, kEyeR, v[i]);
        for (int c = 0; c < 3; ++c) t.deltas[i][c] = w * dir[c];
      }
    } else if (name == "jawForward" || name == "jawLeft" || name == "jawRight") {
      const int axis = name == "jawForward" ? 2 : 0;
      const float amount = name == "jawRight" ? -0.6f : 0.6f;
      for (int i = 0; i < kFace; ++i) t.deltas[i][axis] = amount * jaw_weight(i);
    } else if (name == "mouthRollUpper" || name == "mouthRollLower" || name == "mouthShrugUpper") {
      const bool upper = name != "mouthRollLower";
      for (int i = 0; i < kFace; ++i) {
        const float h = v[i][1] - lip_y;  // above the line > 0
        if ((upper && h <= 0) || (!upper && h >= 0) || std::abs(v[i][0]) > 2.6f) continue;
        const float w = std::clamp(1.0f - std::abs(h) / 0.8f, 0.0f, 1.0f) *
                        std::clamp((2.6f - std::abs(v[i][0])) / 0.6f, 0.0f, 1.0f);
        if (name == "mouthShrugUpper") {
          t.deltas[i] = {0, 0.25f * w, 0};
        } else {
          t.deltas[i] = {0, (upper ? -0.15f : 0.15f) * w, -0.3f * w};
        }
      }
    } else if (name == "tongueOut") {
      for (int k = 0; k < kTongue; ++k) t.deltas[kFace + k] = {0, -0.4f, 2.4f};
    }
    m.targets.push_back(std::move(t));
  }
  // glTF is in metres.
  for (Vec3& p : m.positions)
    for (float& c : p) c *= 0.01f;
  for (GltfTarget& t : m.targets)
    for (Vec3& d : t.deltas)
      for (float& c : d) c *= 0.01f;
  m.base_color = {0.89f, 0.74f, 0.64f, 1.0f};
  return m;
}

}  // namespace fgtest
