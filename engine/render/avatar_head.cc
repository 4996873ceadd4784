#include "engine/render/avatar_head.h"

#include <algorithm>
#include <cmath>

namespace fg::render {

namespace {

using V3 = std::array<float, 3>;

int Add(AvatarHead& h, int anchor, V3 offset) {
  h.anchor.push_back(anchor);
  h.offset.push_back(offset);
  return static_cast<int>(h.anchor.size()) - 1;
}

}  // namespace

AvatarHead MakeAvatarHead(const CanonicalFace& face) {
  AvatarHead h;
  h.hair.colour = kHairColour;
  h.ears.colour = kEarColour;
  h.neck.colour = kNeckColour;
  if (face.vertices.size() < 468) return h;
  const auto& v = face.vertices;
  constexpr float kPi = 3.14159265f;

  // Hair: oval positions 29 (127) .. 35, 0 (10) .. 7 (356), four rings each, one point
  // behind the head closing the cap. Directions from the oval's middle (0, 0.5 cm).
  constexpr int kRings = 4;
  std::vector<int> strip;
  for (int j = 0; j < 15; ++j) strip.push_back(kFaceOval[(29 + j) % 36]);
  const int first = static_cast<int>(h.anchor.size());
  for (int a : strip) {
    const V3& p = v[a];
    const float dx = p[0], dy = p[1] - 0.5f, len = std::max(1e-3f, std::hypot(dx, dy));
    const float ux = dx / len, uy = dy / len;
    // The hair's volume beyond the oval: 2 cm over the forehead (the oval above 4 cm),
    // tapering to 0.6 cm where it meets the temples (356 / 127, 2.4 cm up).
    const float vol = 0.6f + 1.4f * std::clamp((p[1] - 2.36f) / (4.0f - 2.36f), 0.0f, 1.0f);
    Add(h, a, {0, 0, 0});                                    // on the face's edge
    Add(h, a, {0.45f * vol * ux, 0.45f * vol * uy, -0.6f});  // the hair's front
    Add(h, a, {vol * ux, vol * uy, -2.5f});                  // its widest
    Add(h, a, {0.7f * vol * ux, 0.7f * vol * uy, -6.5f});    // going back
  }
  const int back = Add(h, -1, {0, 3.0f, -11.0f});
  for (int j = 0; j + 1 < static_cast<int>(strip.size()); ++j) {
    const int a = first + j * kRings, b = a + kRings;
    for (int k = 0; k + 1 < kRings; ++k) {
      h.hair.triangles.push_back({a + k, b + k, a + k + 1});
      h.hair.triangles.push_back({b + k, b + k + 1, a + k + 1});
    }
    h.hair.triangles.push_back({a + kRings - 1, b + kRings - 1, back});
  }

  // Ears: attached 0.6 cm behind the oval's widest points, angled 30 degrees outward.
  for (int side : {1, -1}) {
    const int a = side > 0 ? 454 : 234;
    const V3 attach = {v[a][0], v[a][1] + 0.3f, v[a][2] - 0.6f};
    const V3 w = {side * std::sin(kPi / 6), 0, -std::cos(kPi / 6)};  // out and back
    const V3 c = {attach[0] + 1.3f * w[0], attach[1], attach[2] + 1.3f * w[2]};
    const int centre = Add(h, a, {c[0] - v[a][0], c[1] - v[a][1], c[2] - v[a][2]});
    constexpr int kRim = 16;
    for (int t = 0; t < kRim; ++t) {
      const float ang = 2 * kPi * t / kRim;
      const V3 p = {c[0] + 1.3f * std::cos(ang) * w[0], c[1] + 2.8f * std::sin(ang),
                    c[2] + 1.3f * std::cos(ang) * w[2]};
      Add(h, a, {p[0] - v[a][0], p[1] - v[a][1], p[2] - v[a][2]});
    }
    for (int t = 0; t < kRim; ++t)
      h.ears.triangles.push_back({centre, centre + 1 + t, centre + 1 + (t + 1) % kRim});
  }

  // Neck: the front half of an elliptic cylinder (fixed: the jaw moves in front of it).
  constexpr float kRowY[] = {-2.5f, -5.0f, -8.0f, -12.0f, -16.0f};
  constexpr float kHalfW[] = {6.5f, 6.0f, 5.3f, 5.2f, 5.2f};
  constexpr int kCols = 13;  // -100 .. 100 degrees
  const int neck0 = static_cast<int>(h.anchor.size());
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < kCols; ++c) {
      const float th = (-100.0f + 200.0f * c / (kCols - 1)) * kPi / 180;
      Add(h, -1, {kHalfW[r] * std::sin(th), kRowY[r], -2.5f + 4.5f * std::cos(th)});
    }
  for (int r = 0; r + 1 < 5; ++r)
    for (int c = 0; c + 1 < kCols; ++c) {
      const int a = neck0 + r * kCols + c, b = a + kCols;
      h.neck.triangles.push_back({a, a + 1, b});
      h.neck.triangles.push_back({a + 1, b + 1, b});
    }
  return h;
}

void DrawAvatarHead(Rasterizer& raster, const AvatarHead& head,
                    std::span<const std::array<float, 3>> morphed,
                    std::span<std::array<float, 3>> scratch, const Eigen::Matrix3f& rotation,
                    const Camera& camera, const Light& light, Shading shading) {
  if (head.anchor.empty() || scratch.size() != head.vertex_count()) return;
  for (size_t i = 0; i < head.anchor.size(); ++i) {
    const int a = head.anchor[i];
    if (a >= static_cast<int>(morphed.size())) return;  // not the face it was made for
    for (int c = 0; c < 3; ++c) scratch[i][c] = (a >= 0 ? morphed[a][c] : 0.0f) + head.offset[i][c];
  }
  for (const AvatarHead::Part* part : {&head.hair, &head.ears, &head.neck}) {
    Material m;
    m.color = part->colour;
    raster.Draw({scratch, part->triangles, {}}, rotation, camera, m, light, shading);
  }
}

}  // namespace fg::render
