// The default avatar's face (engine/render/face_texture.h) on the real canonical face: the
// texture holds white, iris and pupil inside each eye's lid contour, brow colour between
// the brow rows, lip colour between the lip contours and the cavity inside the inner lips,
// skin elsewhere; rendered by the rasterizer, the eyes show white and iris when open and
// none when eyeBlink closes them (the lids' own vertices carry the eye), and jawOpen opens
// the dark cavity. Colour tests are by hue class, with the margins stated per check.
#include "engine/render/face_texture.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/geometry/canonical_face.h"
#include "engine/render/mouth.h"
#include "engine/render/rasterizer.h"

namespace fg::render {
namespace {

const CanonicalFace& Face() {
  static const CanonicalFace face = [] {
    const char* env = std::getenv("FACEGRAPH_MODELS");
    std::string err;
    auto f = LoadCanonicalFace(std::string(env ? env : FG_MODELS_DEFAULT_DIR) + "/" +
                                   kCanonicalFaceFile,
                               &err);
    EXPECT_TRUE(f) << err;
    return f ? *f : CanonicalFace{};
  }();
  return face;
}

std::array<int, 3> Texel(const Texture& t, float u, float v) {
  const int x = std::min(t.width - 1, static_cast<int>(u * t.width));
  const int y = std::min(t.height - 1, static_cast<int>(v * t.height));
  const uint8_t* p = &t.rgba[(static_cast<size_t>(y) * t.width + x) * 4];
  return {p[0], p[1], p[2]};
}
// The texel at the mean UV of some landmarks.
std::array<int, 3> At(const Texture& t, std::initializer_list<int> ids) {
  float u = 0, v = 0;
  for (int i : ids) u += Face().uvs[i][0] / ids.size(), v += Face().uvs[i][1] / ids.size();
  return Texel(t, u, v);
}

TEST(FaceTexture, FeaturesSitAtTheirLandmarks) {
  ASSERT_EQ(Face().uvs.size(), 468u);
  const Texture t = MakeFaceTexture(Face(), 512);
  ASSERT_EQ(t.width, 512);
  ASSERT_EQ(t.rgba.size(), 512u * 512 * 4);
  // The pupil at the middle of the left eye (lid middles 386/374, corners 263/362): dark.
  const auto pupil = At(t, {386, 374});
  EXPECT_LT(pupil[0] + pupil[1] + pupil[2], 150);
  // The eye's white near its outer corner (a fifth of the way from corner 263 to the eye's
  // middle): bright, grey.
  const auto& uv = Face().uvs;
  const float mu = 0.5f * (uv[386][0] + uv[374][0]), mv = 0.5f * (uv[386][1] + uv[374][1]);
  const auto white = Texel(t, uv[263][0] + 0.2f * (mu - uv[263][0]), uv[263][1] + 0.2f * (mv - uv[263][1]));
  EXPECT_GT(white[0], 200);
  EXPECT_NEAR(white[0], white[2], 20);
  // Brow (middle of 334 above 296... the brow's middle, upper and lower rows): dark brown.
  const auto brow = At(t, {334, 282});
  EXPECT_LT(brow[0], 130);
  EXPECT_GT(brow[0], brow[2]);
  // The lower lip (between 14 and 17): red clearly above green.
  const auto lip = At(t, {14, 17});
  EXPECT_GT(lip[0], lip[1] + 50);
  // Inside the inner lips at their middle (13/14): the cavity colour within 30 levels.
  const auto cavity = At(t, {13, 14});
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(cavity[c], kMouthCavity[c], 30) << c;
  // Forehead (10 and 151): skin.
  const auto skin = At(t, {151, 9});
  EXPECT_GT(skin[0], 200);
  EXPECT_GT(skin[0], skin[2] + 30);
}

// Rendered frontally: count eye-white and cavity pixels with and without the weights.
struct Counts {
  int white = 0, cavity = 0;
};
Counts Render(const std::vector<std::pair<const char*, float>>& weights) {
  std::string err;
  auto basis = BlendshapeBasis::Create(Face(), &err);
  EXPECT_TRUE(basis) << err;
  std::vector<float> w(basis->size(), 0.0f);
  for (const auto& [n, v] : weights) w[basis->Index(n)] = v;
  std::vector<std::array<float, 3>> mesh(basis->vertex_count());
  basis->Apply(w, mesh);
  const Texture tex = MakeFaceTexture(Face());
  Material m;
  m.texture = &tex;
  Rasterizer r;
  r.SetTarget(400, 400);
  r.Clear({0, 0, 255, 255});
  r.Draw({mesh, Face().triangles, Face().uvs}, Eigen::Matrix3f::Identity(),
         Camera::Fit(Face().vertices, 400, 400, 0.95f), m, Light{}, Shading::kFlat);
  Counts c;
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 400; ++x) {
      const uint8_t* p = r.image().Row(y) + 4 * x;
      // Lit white: bright and grey (skin is bright but red over blue by 40+).
      if (p[0] > 150 && std::abs(p[0] - p[2]) < 20 && p[2] < 250) ++c.white;
      // The cavity, lit: dark, red over green by 15+ (the pupils and lashes are grey-dark),
      // in the lower half (the mouth).
      if (y > 200 && p[0] < 70 && p[0] > p[1] + 15 && p[2] < 45) ++c.cavity;
    }
  return c;
}

TEST(FaceTexture, EyesCloseWithTheBlinkAndTheMouthOpensWithTheJaw) {
  const Counts open = Render({});
  const Counts blink = Render({{"eyeBlinkLeft", 1}, {"eyeBlinkRight", 1}});
  const Counts jaw = Render({{"jawOpen", 1}});
  std::printf("eye white px: open %d, blink %d; cavity px: closed %d, jawOpen 1 %d\n",
              open.white, blink.white, open.cavity, jaw.cavity);
  EXPECT_GT(open.white, 100) << "both eyes show their whites";
  EXPECT_LT(blink.white, open.white / 5) << "closed lids cover at least 80% of the whites";
  EXPECT_GT(jaw.cavity, 3 * std::max(open.cavity, 100)) << "the opened jaw shows the cavity";
}

}  // namespace
}  // namespace fg::render
