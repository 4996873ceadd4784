// The default avatar's per-frame eyes and mouth (engine/render/face_features.h) on the real
// canonical face, rasterized frontal at 24 px/cm: iris-coloured pixels sit inside each eye
// when open, none remain when eyeBlink is 1 (the lids meet), and the iris follows the gaze
// (+-0.5 half-widths sideways moves its centroid by at least 2 px each way, up moves it
// up); a closed mouth shows no teeth or tongue, jawOpen 1 shows teeth (near-white) next to
// the upper lip, tongue colour in the lower half and cavity between (at rest nothing is
// drawn in the mouth: pixel-equal to the picture without the features). FACS wrinkles
// appear where their AU acts and nowhere at rest; the brows' paint rises and falls as AU1, AU2
// and AU4 say, the lip line turns down with AU15 and pressed lips keep a seam to the corners.
// GazeFromLandmarks
// reads a shifted iris landmark as gaze in the eye's own frame (a rolled head included),
// and zero without iris landmarks. Colour classes by distance to the drawn colours (<= 20
// per channel; lit lips (178, 88, 90 at most) stay outside the tongue class).
#include "engine/render/face_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/geometry/canonical_face.h"
#include "engine/render/face_texture.h"
#include "engine/render/mouth.h"
#include "engine/io/png.h"

#include "tests/avatar/avatar_test_util.h"

namespace fg::render {
namespace {

using Vec3 = std::array<float, 3>;

// The real canonical face and its basis: tests/avatar's shared fixture.
const CanonicalFace& Face() { return avatar_testing::Canonical(); }
using avatar_testing::Basis;

struct Picture {
  RgbaImage img;
  Camera cam;
};

Picture Render(std::initializer_list<std::pair<const char*, float>> weights, Gaze gaze = {},
               bool features = true, const WrinkleDrive* drive = nullptr) {
  static const Texture tex = MakeFaceTexture(Face(), 512, /*iris=*/false);
  std::vector<float> w(Basis().size(), 0.0f);
  for (auto [name, value] : weights) w[Basis().Index(name)] = value;
  std::vector<Vec3> m(Basis().vertex_count());
  Basis().Apply(w, m);
  Rasterizer r;
  r.SetTarget(480, 480);
  r.Clear({90, 90, 90, 255});
  Camera cam;
  cam.scale = 24, cam.cx = 240, cam.cy = 240;
  Material mat;
  mat.texture = &tex;
  r.Draw({m, Face().triangles, Face().uvs}, Eigen::Matrix3f::Identity(), cam, mat, Light{},
         Shading::kLit);
  Picture p{r.image(), cam};
  if (features)
    DrawFaceFeatures(r, m, Face().vertices, Eigen::Matrix3f::Identity(), cam, gaze, p.img, drive);
  if (const char* dump = std::getenv("FG_DUMP_FEATURES")) {
    static int k = 0;
    RgbImage out{p.img.width, p.img.height, {}};
    for (int y = 0; y < p.img.height; ++y)
      for (int x = 0; x < p.img.width; ++x)
        for (int c = 0; c < 3; ++c) out.pixels.push_back(p.img.Row(y)[4 * x + c]);
    WritePngRgb(std::string(dump) + "/features" + std::to_string(k++) + ".png", out);
  }
  return p;
}

bool Near(const uint8_t* p, const std::array<uint8_t, 3>& c) {
  return std::abs(p[0] - c[0]) <= 20 && std::abs(p[1] - c[1]) <= 20 && std::abs(p[2] - c[2]) <= 20;
}

// Pixels of colour c within the box around landmarks (cm margin), and their centroid.
struct Count {
  int n = 0;
  float cx = 0, cy = 0;
};
Count CountIn(const Picture& p, std::initializer_list<int> ids, float margin_cm,
              const std::array<uint8_t, 3>& c) {
  float x0 = 1e9f, x1 = -1e9f, y0 = 1e9f, y1 = -1e9f;
  for (int i : ids) {
    const Vec3& v = Face().vertices[i];
    x0 = std::min(x0, v[0]), x1 = std::max(x1, v[0]), y0 = std::min(y0, v[1]), y1 = std::max(y1, v[1]);
  }
  Count out;
  const auto& cam = p.cam;
  for (int y = static_cast<int>(cam.cy - cam.scale * (y1 + margin_cm));
       y <= static_cast<int>(cam.cy - cam.scale * (y0 - margin_cm)); ++y)
    for (int x = static_cast<int>(cam.cx + cam.scale * (x0 - margin_cm));
         x <= static_cast<int>(cam.cx + cam.scale * (x1 + margin_cm)); ++x)
      if (Near(p.img.Row(y) + 4 * x, c)) ++out.n, out.cx += x, out.cy += y;
  if (out.n) out.cx /= out.n, out.cy /= out.n;
  return out;
}

// Pixels of colour c that the features drew (differ from the picture without them): a
// shaded skin pixel near the iris colour does not count.
int CountDrawn(const Picture& with, const Picture& without, std::initializer_list<int> ids,
               float margin_cm, const std::array<uint8_t, 3>& c) {
  Picture diff = with;
  for (size_t i = 0; i < diff.img.px.size(); i += 4)
    if (std::equal(&with.img.px[i], &with.img.px[i] + 3, &without.img.px[i]))
      diff.img.px[i] = diff.img.px[i + 1] = diff.img.px[i + 2] = 0;  // not drawn: no class
  return CountIn(diff, ids, margin_cm, c).n;
}

TEST(FaceFeatures, IrisShowsWhenOpenAndVanishesWithTheBlink) {
  const auto open = Render({});
  const auto shut = Render({{"eyeBlinkLeft", 1}, {"eyeBlinkRight", 1}});
  const auto shut_bare = Render({{"eyeBlinkLeft", 1}, {"eyeBlinkRight", 1}}, {}, false);
  for (auto eye : {std::initializer_list<int>{263, 362, 386, 374}, {33, 133, 159, 145}}) {
    const Count o = CountIn(open, eye, 0.3f, kIrisColour);
    const Count c{CountDrawn(shut, shut_bare, eye, 0.3f, kIrisColour)};
    std::printf("  iris pixels: open %d, blink 1: %d\n", o.n, c.n);
    EXPECT_GE(o.n, 60);
    EXPECT_EQ(c.n, 0);
    EXPECT_GE(CountIn(open, eye, 0.3f, kPupilColour).n, 10);
  }
}

TEST(FaceFeatures, IrisFollowsTheGaze) {
  const std::initializer_list<int> eye = {263, 362, 386, 374};
  const Count mid = CountIn(Render({}), eye, 0.3f, kIrisColour);
  const Count left = CountIn(Render({}, {{{0.5f, 0}, {0.5f, 0}}}), eye, 0.3f, kIrisColour);
  const Count right = CountIn(Render({}, {{{-0.5f, 0}, {-0.5f, 0}}}), eye, 0.3f, kIrisColour);
  const Count up = CountIn(Render({{"eyeWideLeft", 1}}, {{{0, 0.4f}, {0, 0.4f}}}), eye, 0.3f, kIrisColour);
  const Count level = CountIn(Render({{"eyeWideLeft", 1}}), eye, 0.3f, kIrisColour);
  std::printf("  iris centroid x: %.1f (gaze +0.5) %.1f (0) %.1f (-0.5); y %.1f (up) %.1f\n",
              left.cx, mid.cx, right.cx, up.cy, level.cy);
  // Subject's left = +x = the picture's right.
  EXPECT_GE(left.cx - mid.cx, 2.0f);
  EXPECT_GE(mid.cx - right.cx, 2.0f);
  EXPECT_LE(up.cy - level.cy, -1.0f);
}

TEST(FaceFeatures, OpenMouthShowsTeethTongueAndCavity) {
  const std::initializer_list<int> mouth = {61, 291, 0, 17, 13, 14};
  // At rest (the canonical lips' own small gap) the features draw nothing in the mouth:
  // the picture equals the one without them, pixel for pixel.
  const auto closed = Render({});
  const auto bare = Render({}, {}, /*features=*/false);
  for (int y = 0; y < closed.img.height; ++y)
    for (int x = 0; x < closed.img.width; ++x)
      for (int c = 0; c < 3; ++c)
        if (y > closed.cam.cy + 1.5f * closed.cam.scale) {  // below the eyes: the mouth's half
          ASSERT_EQ(closed.img.Row(y)[4 * x + c], bare.img.Row(y)[4 * x + c]) << x << "," << y;
        }
  const auto open = Render({{"jawOpen", 1}});
  const Count teeth = CountIn(open, mouth, 1.5f, kTeethColour);
  const Count tongue = CountIn(open, mouth, 1.5f, kTongueColour);
  const std::array<uint8_t, 3> cavity = {kMouthCavity[0], kMouthCavity[1], kMouthCavity[2]};
  const Count dark = CountIn(open, mouth, 1.5f, cavity);
  std::printf("  jawOpen 1: teeth %d px (centroid y %.1f), tongue %d (y %.1f), cavity %d\n",
              teeth.n, teeth.cy, tongue.n, tongue.cy, dark.n);
  EXPECT_GE(teeth.n, 100);
  EXPECT_GE(tongue.n, 100);
  EXPECT_GE(dark.n, 50);
  EXPECT_LT(teeth.cy, tongue.cy);  // teeth hang from the upper lip, the tongue lies below
}

// Pixels at least 15 levels darker (red channel) with the features than without, in a box
// of canonical cm.
int Darker(const Picture& with, const Picture& without, float x0, float y0, float x1, float y1) {
  const Camera& cam = with.cam;
  int n = 0;
  for (int y = static_cast<int>(cam.cy - cam.scale * y1); y <= static_cast<int>(cam.cy - cam.scale * y0); ++y)
    for (int x = static_cast<int>(cam.cx + cam.scale * x0); x <= static_cast<int>(cam.cx + cam.scale * x1); ++x)
      n += without.img.Row(y)[4 * x] - with.img.Row(y)[4 * x] >= 15;
  return n;
}

// FACS's wrinkles, each where its AU acts and only when it acts: AU4 between the brows,
// AU1+2 on the forehead, AU9 across the nose, AU12 beside the mouth, AU6 beyond the outer
// eye corner (>= 30 pixels darkened by >= 15 levels at 24 px/cm in the region, 0 at rest in
// the same regions).
TEST(FaceFeatures, WrinklesShowTheirActionUnits) {
  const auto& v = Face().vertices;
  struct Case {
    const char* au;
    std::initializer_list<std::pair<const char*, float>> weights;
    float x0, y0, x1, y1;
  };
  const float brow = v[334][1], nose = v[6][1];
  const Case cases[] = {
      {"AU4", {{"browDownLeft", 1}, {"browDownRight", 1}}, -0.8f, v[9][1] - 0.8f, 0.8f, v[9][1] + 0.8f},
      // AU4's oblique fold, up and in from the (lowered, drawn-in) inner brow.
      {"AU4o", {{"browDownLeft", 1}, {"browDownRight", 1}}, 0.6f, v[336][1] - 0.6f, 1.3f, v[336][1]},
      {"AU1+2", {{"browInnerUp", 1}, {"browOuterUpLeft", 1}, {"browOuterUpRight", 1}}, -3, brow + 1.2f, 3,
       brow + 3.2f},
      {"AU9", {{"noseSneerLeft", 1}, {"noseSneerRight", 1}}, -0.8f, nose - 1.2f, 0.8f, nose + 0.5f},
      {"AU12", {{"mouthSmileLeft", 1}, {"mouthSmileRight", 1}}, v[327][0], v[291][1] - 0.5f,
       v[291][0] + 1.5f, v[327][1] + 0.3f},
      // Crow's feet beyond the outer eye corner.
      {"AU6", {{"cheekSquintLeft", 1}, {"cheekSquintRight", 1}}, v[263][0] + 0.2f, v[263][1] - 0.7f,
       v[263][0] + 1.1f, v[263][1] + 0.7f},
  };
  const auto rest = Render({}), rest_bare = Render({}, {}, false);
  for (const Case& c : cases) {
    const auto with = Render(c.weights), without = Render(c.weights, {}, false);
    const int n = Darker(with, without, c.x0, c.y0, c.x1, c.y1);
    const int at_rest = Darker(rest, rest_bare, c.x0, c.y0, c.x1, c.y1);
    std::printf("  %-5s wrinkle pixels %d (at rest %d)\n", c.au, n, at_rest);
    EXPECT_GE(n, 30) << c.au;
    EXPECT_EQ(at_rest, 0) << c.au;
  }
}

// Driven by the weights (WrinkleDriveFromWeights), each AU's lines lie only where FACS puts
// them: AU1's in the middle of the forehead (none over its outer parts), AU2's over the
// outer parts (none in the middle); browInnerUp alone drives AU1 only.
TEST(FaceFeatures, WrinklesFromWeightsOnlyWhereFacsPutsThem) {
  const auto& v = Face().vertices;
  const float brow = v[334][1];
  std::vector<float> w(Basis().size(), 0.0f);
  w[Basis().Index("browInnerUp")] = 1;
  const WrinkleDrive from_weights = WrinkleDriveFromWeights(Basis(), w);
  EXPECT_EQ(from_weights.au1, 1.0f);
  EXPECT_EQ(from_weights.au2, 0.0f);
  EXPECT_EQ(from_weights.au4, 0.0f);
  WrinkleDrive au1, au2;
  au1.au1 = 1;
  au2.au2 = 1;
  const auto bare = Render({}, {}, false);
  const auto one = Render({}, {}, true, &au1), two = Render({}, {}, true, &au2);
  const int one_mid = Darker(one, bare, -1.0f, brow + 0.8f, 1.0f, brow + 2.5f);
  const int one_out = Darker(one, bare, 2.2f, brow + 0.5f, 3.4f, brow + 2.5f) +
                      Darker(one, bare, -3.4f, brow + 0.5f, -2.2f, brow + 2.5f);
  const int two_mid = Darker(two, bare, -0.8f, brow + 0.8f, 0.8f, brow + 2.5f);
  const int two_out = Darker(two, bare, 2.2f, brow + 0.5f, 3.4f, brow + 2.5f) +
                      Darker(two, bare, -3.4f, brow + 0.5f, -2.2f, brow + 2.5f);
  std::printf("  AU1 lines: middle %d, outer %d px; AU2 lines: middle %d, outer %d px\n", one_mid,
              one_out, two_mid, two_out);
  EXPECT_GE(one_mid, 30);
  EXPECT_EQ(one_out, 0);
  EXPECT_EQ(two_mid, 0);
  EXPECT_GE(two_out, 30);
  // Fear's 1+2+4: the lines stay in the centre (Ekman & Friesen), none over the outer parts.
  WrinkleDrive fear;
  fear.au1 = fear.au2 = fear.au4 = 1;
  const auto f = Render({}, {}, true, &fear);
  const int fear_mid = Darker(f, bare, -1.0f, brow + 0.8f, 1.0f, brow + 2.5f);
  const int fear_out = Darker(f, bare, 2.2f, brow + 0.5f, 3.4f, brow + 2.5f) +
                       Darker(f, bare, -3.4f, brow + 0.5f, -2.2f, brow + 2.5f);
  std::printf("  AU1+2+4 lines: middle %d, outer %d px\n", fear_mid, fear_out);
  EXPECT_GE(fear_mid, 30);
  EXPECT_EQ(fear_out, 0);
}

// AU23/24 (mouthPress, driven by the weights) narrows the lips' red: fewer lip-coloured
// pixels (red above green by 40+) around the mouth, by at least a quarter; none of this
// without the drive.
TEST(FaceFeatures, PressedLipsShowLessRed) {
  std::vector<float> w(Basis().size(), 0.0f);
  w[Basis().Index("mouthPressLeft")] = w[Basis().Index("mouthPressRight")] = 1;
  const WrinkleDrive pressed = WrinkleDriveFromWeights(Basis(), w);
  EXPECT_EQ(pressed.au23, 1.0f);
  const auto plain = Render({{"mouthPressLeft", 1}, {"mouthPressRight", 1}});
  const auto drawn = Render({{"mouthPressLeft", 1}, {"mouthPressRight", 1}}, {}, true, &pressed);
  auto red = [&](const Picture& p) {
    int n = 0;
    const auto& v = Face().vertices;
    const Camera& cam = p.cam;
    for (int y = static_cast<int>(cam.cy - cam.scale * (v[0][1] + 0.5f));
         y <= static_cast<int>(cam.cy - cam.scale * (v[17][1] - 0.5f)); ++y)
      for (int x = static_cast<int>(cam.cx + cam.scale * (v[61][0] - 0.5f));
           x <= static_cast<int>(cam.cx + cam.scale * (v[291][0] + 0.5f)); ++x) {
        const uint8_t* q = p.img.Row(y) + 4 * x;
        n += q[0] > q[1] + 40;
      }
    return n;
  };
  const int before = red(plain), after = red(drawn);
  std::printf("  lip-red pixels: %d without the drive, %d with mouthPress 1\n", before, after);
  EXPECT_GT(before, 300);
  EXPECT_LE(after, before * 3 / 4);
  // The pressed lips' seam runs to the corners: 0.4 cm inside each corner, the darkest pixel
  // of the column across the mouth is darker by at least 15 levels than without the drive.
  const auto& v = Face().vertices;
  auto darkest = [&](const Picture& p, float x_cm) {
    const Camera& c = p.cam;
    const int x = static_cast<int>(c.cx + c.scale * x_cm);
    int best = 255;
    for (int y = static_cast<int>(c.cy - c.scale * (v[61][1] + 0.6f));
         y <= static_cast<int>(c.cy - c.scale * (v[61][1] - 0.6f)); ++y)
      best = std::min(best, static_cast<int>(p.img.Row(y)[4 * x]));
    return best;
  };
  for (int corner : {61, 291}) {
    const float x = v[corner][0] - (v[corner][0] > 0 ? 0.4f : -0.4f);
    std::printf("  seam 0.4 cm inside corner %d: darkest red level %d -> %d\n", corner,
                darkest(plain, x), darkest(drawn, x));
    EXPECT_LE(darkest(drawn, x), darkest(plain, x) - 15) << corner;
  }
}

// The AU1+4 corrective: sadness's inner brows (336 / 107) end up at least 0.4 cm above rest
// (the plain sum: 0.15 cm), still drawn in towards the midline; AU4 alone (anger's brows)
// and AU1 alone are unchanged.
TEST(FaceFeatures, BrowCorrectiveRaisesTheInnerBrowsInSadness) {
  const auto& n = Face().vertices;
  auto shape = [&](std::initializer_list<std::pair<const char*, float>> weights) {
    std::vector<float> w(Basis().size(), 0.0f);
    for (auto [name, value] : weights) w[Basis().Index(name)] = value;
    std::vector<Vec3> plain(Basis().vertex_count()), corrected(Basis().vertex_count());
    Basis().Apply(w, plain);
    corrected = plain;
    ApplyBrowCorrective(Basis(), w, corrected);
    return std::pair{plain, corrected};
  };
  const auto [sum, sad] = shape({{"browInnerUp", 1}, {"browDownLeft", 1}, {"browDownRight", 1}});
  for (int v : {336, 107}) {
    std::printf("  inner brow %d: plain sum %+.2f cm, corrected %+.2f cm up; x %+.2f -> %+.2f\n", v,
                sum[v][1] - n[v][1], sad[v][1] - n[v][1], n[v][0], sad[v][0]);
    EXPECT_GE(sad[v][1] - n[v][1], 0.4f) << v;
    EXPECT_LT(std::abs(sad[v][0]), std::abs(n[v][0]) - 0.2f) << v << ": still drawn in";
  }
  for (auto weights : {std::initializer_list<std::pair<const char*, float>>{{"browDownLeft", 1}, {"browDownRight", 1}},
                       {{"browInnerUp", 1}}}) {
    const auto [plain, corrected] = shape(weights);
    for (int v = 0; v < 468; ++v)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(plain[v][c], corrected[v][c]) << v;
  }
}

// Luma of a pixel (the FER network's grey).
float Luma(const Picture& p, int x, int y) {
  const uint8_t* q = p.img.Row(y) + 4 * x;
  return 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2];
}

// The brow in one column (canonical x, cm): its dark pixels (luma < 80: the brow paint, not
// skin in the brow's shadow) between 3.4 and
// 8 cm up (above the lashes, below the hairline), as the centroid height and the height
// covered (cm); the innermost dark pixel's |x| (cm) over the band, for the inner end.
struct BrowColumn {
  float y = 0, tall = 0;
};
BrowColumn Brow(const Picture& p, float x_cm) {
  const Camera& c = p.cam;
  const int x = static_cast<int>(c.cx + c.scale * x_cm);
  BrowColumn b;
  int n = 0;
  const int top = static_cast<int>(c.cy - c.scale * 8.0f), bottom = static_cast<int>(c.cy - c.scale * 3.4f);
  for (int y = top; y <= bottom; ++y)
    if (Luma(p, x, y) < 80) ++n, b.y += (c.cy - (y + 0.5f)) / c.scale;
  if (n) b.y /= n;
  b.tall = n / c.scale;
  return b;
}
float InnerBrowEnd(const Picture& p, float side) {
  const Camera& c = p.cam;
  float inner = 1e9f;
  const int top = static_cast<int>(c.cy - c.scale * 7.0f), bottom = static_cast<int>(c.cy - c.scale * 3.6f);
  for (int y = top; y <= bottom; ++y)
    for (float xc = 0.0f; xc < 3.0f; xc += 1.0f / c.scale) {
      const int x = static_cast<int>(c.cx + c.scale * side * xc);
      if (Luma(p, x, y) < 80) {
        inner = std::min(inner, xc);
        break;
      }
    }
  return inner;
}

// The rendered brows behave as FACS says (the brows' paint rides on the mesh): at rest each
// is a full band at least 0.7 cm tall at its middle (105 / 334); AU1 (browInnerUp) raises
// the inner part (column 2.1 cm from the midline) by at least 0.5 cm and leaves the outer
// part (5 cm out) within 0.2 cm; AU2 (browOuterUp) raises the outer part by at least 0.5 cm;
// AU4 (browDown) lowers the inner part by at least 0.35 cm and draws the inner ends at least
// 0.2 cm towards the midline. (The amplitudes: 0.85, 0.8, 0.7 / 0.4 cm, blendshapes.h.)
TEST(FaceFeatures, BrowsFollowTheirActionUnits) {
  const auto rest = Render({});
  const auto au1 = Render({{"browInnerUp", 1}});
  const auto au2 = Render({{"browOuterUpLeft", 1}, {"browOuterUpRight", 1}});
  const auto au4 = Render({{"browDownLeft", 1}, {"browDownRight", 1}});
  for (float side : {-1.0f, 1.0f}) {
    const float mid = side * 3.99f, inner = side * 2.1f, outer = side * 5.0f;
    const BrowColumn r_mid = Brow(rest, mid), r_in = Brow(rest, inner), r_out = Brow(rest, outer);
    const float up1_in = Brow(au1, inner).y - r_in.y, up1_out = Brow(au1, outer).y - r_out.y;
    const float up2_out = Brow(au2, outer).y - r_out.y, down4_in = r_in.y - Brow(au4, inner).y;
    const float end_rest = InnerBrowEnd(rest, side), end4 = InnerBrowEnd(au4, side);
    std::printf("  side %+.0f: brow %.2f cm tall at its middle; AU1 inner %+.2f outer %+.2f cm; "
                "AU2 outer %+.2f cm; AU4 inner %+.2f cm, inner end %.2f -> %.2f cm from the midline\n",
                side, r_mid.tall, up1_in, up1_out, up2_out, -down4_in, end_rest, end4);
    EXPECT_GE(r_mid.tall, 0.7f);
    EXPECT_GE(up1_in, 0.5f);
    EXPECT_LT(std::abs(up1_out), 0.2f);
    EXPECT_GE(up2_out, 0.5f);
    EXPECT_GE(down4_in, 0.35f);
    EXPECT_GE(end_rest - end4, 0.2f);
  }
}

// AU15 (mouthFrown) as FACS describes it: the lip corners go down, so the line between the
// lips (its darkest pixel in a column 0.3 cm inside each corner) is at least 0.3 cm lower;
// and the lip line angles down past the corner: beyond and below each moved corner, at
// least 40 pixels darker (by 15+ levels) than the same face without the features, none at
// rest.
TEST(FaceFeatures, LipCornersTurnDownWithMouthFrown) {
  const auto& v = Face().vertices;
  const auto rest = Render({}), rest_bare = Render({}, {}, false);
  const auto frown = Render({{"mouthFrownLeft", 1}, {"mouthFrownRight", 1}});
  const auto frown_bare = Render({{"mouthFrownLeft", 1}, {"mouthFrownRight", 1}}, {}, false);
  auto lip_line = [&](const Picture& p, float x_cm) {
    const Camera& c = p.cam;
    const int x = static_cast<int>(c.cx + c.scale * x_cm);
    float best = 1e9f, at = 0;
    for (int y = static_cast<int>(c.cy - c.scale * (v[61][1] + 1.0f));
         y <= static_cast<int>(c.cy - c.scale * (v[61][1] - 1.2f)); ++y)
      if (Luma(p, x, y) < best) best = Luma(p, x, y), at = (c.cy - (y + 0.5f)) / c.scale;
    return at;
  };
  for (int corner : {61, 291}) {
    const float sx = v[corner][0] > 0 ? 1.0f : -1.0f, x = v[corner][0] - sx * 0.3f;
    const float down = lip_line(rest, x) - lip_line(frown, x);
    const float cy = v[corner][1] - 0.5f;  // the corner moved 0.5 cm down
    const float x0 = sx > 0 ? v[corner][0] + 0.1f : v[corner][0] - 0.55f;
    const int beyond = Darker(frown, frown_bare, x0, cy - 0.45f, x0 + 0.45f, cy + 0.05f);
    const int beyond_rest = Darker(rest, rest_bare, x0, cy - 0.45f, x0 + 0.45f, cy + 0.05f);
    std::printf("  corner %d: lip line %.2f cm lower; %d pixels darker beyond it (at rest %d)\n",
                corner, down, beyond, beyond_rest);
    EXPECT_GE(down, 0.3f);
    EXPECT_GE(beyond, 40);
    EXPECT_EQ(beyond_rest, 0);
  }
}

TEST(FaceFeatures, GazeFromIrisLandmarks) {
  std::vector<Vec3> lm(478, Vec3{0, 0, 0});
  // Left eye corners at image x 100 and 140 (y 50), right eye at 20..60; irises centred.
  lm[362] = {100, 50, 0}, lm[263] = {140, 50, 0}, lm[33] = {20, 50, 0}, lm[133] = {60, 50, 0};
  lm[468] = {130, 46, 0};  // 10 px right of the middle (half-width 20: 0.5), 4 px up (0.2)
  lm[473] = {40, 50, 0};
  Gaze g = GazeFromLandmarks(lm);
  EXPECT_NEAR(g[0].x, 0.5f, 1e-5f);
  EXPECT_NEAR(g[0].y, 0.2f, 1e-5f);
  EXPECT_NEAR(g[1].x, 0.0f, 1e-5f);
  // The same face rolled 90 degrees (eye axis pointing down the image): the same gaze.
  std::vector<Vec3> r(478, Vec3{0, 0, 0});
  for (int i : {362, 263, 33, 133, 468, 473}) r[i] = {-lm[i][1], lm[i][0], 0};
  g = GazeFromLandmarks(r);
  EXPECT_NEAR(g[0].x, 0.5f, 1e-5f);
  EXPECT_NEAR(g[0].y, 0.2f, 1e-5f);
  // FaceMesh alone (468): eyes forward.
  g = GazeFromLandmarks(std::span<const Vec3>(lm.data(), 468));
  EXPECT_EQ(g[0].x, 0.0f);
  EXPECT_EQ(g[1].y, 0.0f);
}

}  // namespace
}  // namespace fg::render
