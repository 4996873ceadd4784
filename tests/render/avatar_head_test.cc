// The default avatar's head beyond the face mask (engine/render/avatar_head.h) on the real
// canonical face, rasterized at 16 px/cm on a grey background: hair above the forehead's
// top and beside the temples, an ear beside each side of the face at eye-to-nose height, a
// neck below the chin, background beyond the hair; the face itself keeps every pixel it
// drew (the head lies behind it), frontal and turned; the hair's front edge rides on the
// face's outline.
#include "engine/render/avatar_head.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/render/face_features.h"
#include "engine/render/face_texture.h"
#include "engine/tracking/head_pose.h"
#include "tests/avatar/avatar_test_util.h"

namespace fg::render {
namespace {

using avatar_testing::Basis;
using avatar_testing::Canonical;
using Vec3 = std::array<float, 3>;

constexpr std::array<uint8_t, 4> kBackground = {90, 110, 130, 255};

struct Picture {
  RgbaImage img;
  Camera cam;
  std::vector<float> depth;  // the face's depth before the head was drawn
};

Picture Render(bool head, const Eigen::Matrix3f& rot = Eigen::Matrix3f::Identity(),
               std::span<const Vec3> morphed = {}) {
  static const Texture tex = MakeFaceTexture(Canonical(), 256, /*iris=*/false);
  static const AvatarHead h = MakeAvatarHead(Canonical());
  const std::span<const Vec3> m =
      morphed.empty() ? std::span<const Vec3>(Canonical().vertices) : morphed;
  Rasterizer r;
  r.SetTarget(400, 400);
  r.Clear(kBackground);
  Camera cam;
  cam.scale = 16, cam.cx = 200, cam.cy = 200;
  Material mat;
  mat.texture = &tex;
  r.Draw({m, Canonical().triangles, Canonical().uvs}, rot, cam, mat, kAvatarLight, Shading::kLit);
  Picture p{{}, cam, {}};
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 400; ++x) p.depth.push_back(r.depth(x, y));
  if (head) {
    std::vector<Vec3> scratch(h.vertex_count());
    DrawAvatarHead(r, h, m, scratch, rot, cam, kAvatarLight, Shading::kLit);
  }
  p.img = r.image();
  return p;
}

const uint8_t* At(const Picture& p, float x_cm, float y_cm) {
  const int x = static_cast<int>(p.cam.cx + p.cam.scale * x_cm);
  const int y = static_cast<int>(p.cam.cy - p.cam.scale * y_cm);
  return p.img.Row(y) + 4 * x;
}
bool IsBackground(const uint8_t* q) {
  return q[0] == kBackground[0] && q[1] == kBackground[1] && q[2] == kBackground[2];
}
float Luma(const uint8_t* q) { return 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2]; }

TEST(AvatarHead, HairEarsAndNeckSurroundTheFace) {
  const auto& v = Canonical().vertices;
  const AvatarHead h = MakeAvatarHead(Canonical());
  ASSERT_GT(h.vertex_count(), 0u);
  const Picture bare = Render(false), head = Render(true);
  // Hair: 1 cm above the forehead's top (10), and 0.5 cm beyond the oval at the temples
  // (251 / 21, 5.4 cm up): dark (luma < 80) where the bare face shows background.
  const float top = v[10][1];
  for (const auto& [x, y] : {std::pair{0.0f, top + 1.0f}, std::pair{v[251][0] + 0.5f, v[251][1]},
                             std::pair{v[21][0] - 0.5f, v[21][1]}}) {
    EXPECT_TRUE(IsBackground(At(bare, x, y))) << x << ", " << y;
    EXPECT_LT(Luma(At(head, x, y)), 80.0f) << "hair at " << x << ", " << y;
  }
  // Beyond the hair: background (3 cm above the forehead's top).
  EXPECT_TRUE(IsBackground(At(head, 0, top + 3.0f)));
  // Ears: 0.6 cm beyond the oval's widest points (454 / 234), skin-red (R above B by 25+),
  // and not the hair.
  for (int a : {454, 234}) {
    const float x = v[a][0] + (v[a][0] > 0 ? 0.6f : -0.6f), y = v[a][1];
    const uint8_t* q = At(head, x, y);
    EXPECT_TRUE(IsBackground(At(bare, x, y)));
    EXPECT_GT(q[0], q[2] + 25) << "ear beside " << a;
    EXPECT_GT(Luma(q), 80.0f) << "ear beside " << a;
  }
  // Neck: 1 cm below the chin (152), and 4 cm to either side of the midline there.
  for (float x : {0.0f, -4.0f, 4.0f}) {
    const uint8_t* q = At(head, x, v[152][1] - 1.0f);
    EXPECT_TRUE(IsBackground(At(bare, x, v[152][1] - 1.0f)));
    EXPECT_GT(q[0], q[2] + 40) << "neck at x " << x;
  }
}

// The head is behind the face: every pixel the face drew is unchanged, frontal and turned
// (yaw 30 degrees, pitch -10: the far ear is hidden, the face still wins).
TEST(AvatarHead, TheFaceKeepsEveryPixelItDrew) {
  for (const Eigen::Matrix3f& rot : {Eigen::Matrix3f(Eigen::Matrix3f::Identity()),
                                     YawPitchRollToRotation(30.0f, -10.0f, 0.0f)}) {
    const Picture bare = Render(false, rot), head = Render(true, rot);
    int face = 0, changed = 0, added = 0;
    for (int y = 0; y < 400; ++y)
      for (int x = 0; x < 400; ++x) {
        const size_t i = static_cast<size_t>(y) * 400 + x;
        const uint8_t* a = bare.img.Row(y) + 4 * x;
        const uint8_t* b = head.img.Row(y) + 4 * x;
        const bool same = a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
        if (std::isfinite(bare.depth[i])) {
          ++face;
          changed += !same;
        } else {
          added += !same;
        }
      }
    std::printf("  face pixels %d, changed %d; head pixels added %d\n", face, changed, added);
    EXPECT_GT(face, 10000);
    EXPECT_EQ(changed, 0);
    EXPECT_GT(added, face / 4) << "the head adds at least a quarter of the face's area";
  }
}

// The hair rides on the face's outline: the whole face moved 1 cm up (every vertex), the
// hair above the forehead moves with it (its top edge 1 cm higher, within a pixel).
TEST(AvatarHead, TheHairFollowsTheFaceOutline) {
  std::vector<Vec3> up = Canonical().vertices;
  for (Vec3& p : up) p[1] += 1.0f;
  auto hair_top = [](const Picture& p) {  // highest non-background row in the middle column
    for (int y = 0; y < 400; ++y)
      if (!IsBackground(p.img.Row(y) + 4 * 200)) return y;
    return 400;
  };
  const Picture rest = Render(true), moved = Render(true, Eigen::Matrix3f::Identity(), up);
  const int dy = hair_top(rest) - hair_top(moved);
  std::printf("  hair top: row %d at rest, %d moved (16 px = 1 cm)\n", hair_top(rest),
              hair_top(moved));
  EXPECT_NEAR(dy, 16, 1);
}

TEST(AvatarHead, NoFaceNoHead) {
  const AvatarHead h = MakeAvatarHead(CanonicalFace{});
  EXPECT_EQ(h.vertex_count(), 0u);
  Rasterizer r;
  r.SetTarget(8, 8);
  r.Clear(kBackground);
  std::vector<Vec3> scratch;
  DrawAvatarHead(r, h, Canonical().vertices, scratch, Eigen::Matrix3f::Identity(), Camera{},
                 kAvatarLight, Shading::kLit);
  EXPECT_TRUE(IsBackground(r.image().Row(4) + 16));
}

}  // namespace
}  // namespace fg::render
