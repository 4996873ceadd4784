// glTF avatars: a mesh with morph targets written by the test's own writer (gltf_writer.h,
// not tinygltf) as .gltf and .glb loads with its geometry; targets with ARKit names are kept,
// the others and the wanted names the file lacks are named in ONE warning; morphing moves
// exactly the vertices a target moves, by weight; the loaded avatar renders and its picture
// changes with the weight; bad files give errors naming the file.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>  // getpid

#include "engine/render/gltf_avatar.h"
#include "tests/render/gltf_writer.h"

namespace fg::render {
namespace {

// A 5x5 grid in the x-y plane (4 cm side, z 0) with three targets: jawOpen lowers the
// bottom row by 1 cm, eyeBlinkLeft pushes the centre vertex 0.5 cm forward, "wobble" (not
// an ARKit name) moves everything.
fgtest::GltfMesh Grid() {
  fgtest::GltfMesh m;
  for (int j = 0; j < 5; ++j)
    for (int i = 0; i < 5; ++i) m.positions.push_back({i - 2.f, 2.f - j, 0.f});
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) {
      const int a = j * 5 + i;
      m.triangles.push_back({a, a + 5, a + 1});
      m.triangles.push_back({a + 1, a + 5, a + 6});
    }
  fgtest::GltfTarget jaw{"jawOpen", std::vector<std::array<float, 3>>(25, {0, 0, 0})};
  for (int i = 20; i < 25; ++i) jaw.deltas[i] = {0, -1, 0};
  fgtest::GltfTarget blink{"eyeBlinkLeft", std::vector<std::array<float, 3>>(25, {0, 0, 0})};
  blink.deltas[12] = {0, 0, 0.5f};
  fgtest::GltfTarget wobble{"wobble", std::vector<std::array<float, 3>>(25, {0.1f, 0.1f, 0.1f})};
  m.targets = {jaw, wobble, blink};
  m.base_color = {0.5f, 0.25f, 1.0f, 1.0f};
  return m;
}

std::string TempPath(const std::string& name) {
  // Per process: ctest runs the tests of this binary as parallel processes.
  return ::testing::TempDir() + "/fg_render_" + std::to_string(getpid()) + "_" + name;
}

class GltfAvatarTest : public ::testing::TestWithParam<bool> {};

TEST_P(GltfAvatarTest, LoadsGeometryAndArkitTargets) {
  if (!GltfSupported()) GTEST_SKIP() << "built without libtinygltf";
  const bool binary = GetParam();
  const std::string path = TempPath(binary ? "grid.glb" : "grid.gltf");
  ASSERT_EQ(fgtest::WriteGltf(path, Grid(), binary), "");
  std::string err, warn;
  const std::vector<std::string> wanted = {"jawOpen", "eyeBlinkLeft", "mouthSmileLeft"};
  auto a = LoadGltfAvatar(path, wanted, &err, &warn);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->positions.size(), 25u);
  EXPECT_EQ(a->triangles.size(), 32u);
  EXPECT_EQ(a->positions[24][0], 2.f);
  EXPECT_EQ(a->positions[24][1], -2.f);
  ASSERT_EQ(a->target_names, (std::vector<std::string>{"jawOpen", "eyeBlinkLeft"}));
  EXPECT_EQ(a->base_color[0], 128);  // 0.5 * 255 rounded
  EXPECT_EQ(a->base_color[2], 255);
  // One warning, one line, naming the missing ARKit target and the unknown one.
  EXPECT_NE(warn.find("mouthSmileLeft"), std::string::npos) << warn;
  EXPECT_NE(warn.find("wobble"), std::string::npos) << warn;
  EXPECT_EQ(warn.find('\n'), std::string::npos) << warn;
  EXPECT_NE(warn.find(path), std::string::npos) << warn;

  // Morphing: jawOpen at 0.3 moves exactly the bottom row by -0.3 cm in y; eyeBlinkLeft at 1
  // moves the centre by +0.5 in z.
  std::vector<std::array<float, 3>> out(25);
  std::vector<float> w = {0.3f, 1.0f};
  a->Apply(w, out);
  for (int i = 0; i < 25; ++i) {
    const auto& p = a->positions[i];
    EXPECT_FLOAT_EQ(out[i][0], p[0]) << i;
    EXPECT_FLOAT_EQ(out[i][1], p[1] - (i >= 20 ? 0.3f : 0.f)) << i;
    EXPECT_FLOAT_EQ(out[i][2], p[2] + (i == 12 ? 0.5f : 0.f)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(TextAndBinary, GltfAvatarTest, ::testing::Bool());

TEST(GltfAvatar, AnimatedAvatarRendersDifferently) {
  if (!GltfSupported()) GTEST_SKIP() << "built without libtinygltf";
  const std::string path = TempPath("anim.glb");
  ASSERT_EQ(fgtest::WriteGltf(path, Grid(), true), "");
  std::string err, warn;
  auto a = LoadGltfAvatar(path, {}, &err, &warn);
  ASSERT_TRUE(a) << err;
  Rasterizer r;
  const Camera cam = Camera::Fit(a->positions, 100, 100, 0.8f);
  std::vector<std::array<float, 3>> morphed(a->positions.size());
  auto covered = [&](float jaw) {
    std::vector<float> w(a->target_names.size(), 0.f);
    w[a->TargetIndex("jawOpen")] = jaw;
    a->Apply(w, morphed);
    r.SetTarget(100, 100);
    r.Clear({0, 0, 0, 0});
    r.Draw(a->mesh(morphed), Eigen::Matrix3f::Identity(), cam, Material{a->base_color, nullptr},
           Light{}, Shading::kLit);
    int n = 0;
    for (int y = 0; y < 100; ++y)
      for (int x = 0; x < 100; ++x) n += r.image().Row(y)[4 * x + 3] == 255;
    return n;
  };
  const int closed = covered(0), open = covered(1);
  // The bottom row drops 1 cm of a 4 cm grid: the area grows by a quarter (1 of 4 rows
  // stretched to double height), within 2%.
  EXPECT_NEAR(static_cast<double>(open) / closed, 1.25, 0.02 * 1.25);
}

TEST(GltfAvatar, ErrorsNameTheFile) {
  std::string err, warn;
  EXPECT_FALSE(LoadGltfAvatar("/nonexistent/face.glb", {}, &err, &warn));
  EXPECT_NE(err.find("/nonexistent/face.glb"), std::string::npos) << err;
  if (!GltfSupported()) return;
  const std::string path = TempPath("bad.gltf");
  std::ofstream(path) << "{\"asset\": {\"version\": \"2.0\"}}";
  EXPECT_FALSE(LoadGltfAvatar(path, {}, &err, &warn));
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("no mesh"), std::string::npos) << err;
  std::ofstream(path) << "not json";
  EXPECT_FALSE(LoadGltfAvatar(path, {}, &err, &warn));
  EXPECT_NE(err.find(path), std::string::npos) << err;
}

}  // namespace
}  // namespace fg::render
