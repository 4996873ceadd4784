// The piecewise-affine face warp on the astronaut photo with the canonical triangulation
// (a mesh laid over the face by projecting the canonical face): an identity target leaves the
// picture unchanged (max difference <= 1 grey level) in the packed formats; a target
// translated by a whole number of pixels moves the picture by exactly that (<= 1 level);
// pixels outside the target mesh are never touched; DisplaceLandmarks maps head-frame
// centimetres into image axes by the stated formula; the mouth interior (mouth.h) redraws
// an identity mouth as it was, opens a cavity only inside a lowered jaw's inner lips, and
// ignores short or non-finite meshes. The skirt (SetSkirt): an identity target still leaves
// the picture unchanged, band included; a face moved down fades into the unmoved ring with
// no tear (the source position each pixel samples is continuous across the face outline)
// and nothing beyond the ring changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/geometry/canonical_face.h"
#include "engine/io/png.h"
#include "engine/render/mouth.h"
#include "engine/render/warp.h"
#include "engine/tracking/head_pose.h"

namespace fg::render {
namespace {

std::string ModelsDir() {
  const char* env = std::getenv("FACEGRAPH_MODELS");
  return env ? env : FG_MODELS_DEFAULT_DIR;
}

class WarpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    auto face = LoadCanonicalFace(ModelsDir() + "/" + kCanonicalFaceFile, &err);
    ASSERT_TRUE(face) << err;
    canonical_ = *face;
    ASSERT_FALSE(ReadPngRgb(FG_ASTRONAUT, &photo_));
    // Landmarks: the canonical face (cm, y up) at 11 px/cm over the astronaut's face.
    for (const auto& v : canonical_.vertices)
      source_.push_back({225.f + 11.f * v[0], 125.f - 11.f * v[1], -11.f * v[2]});
  }

  // The photo copied (the warp's source) and a frame to write into.
  struct Frames {
    RgbImage src, dst;
    ImageView src_view;
    draw::MutableImageView dst_view;
  };
  void MakeFrames(Frames* f) {
    f->src = photo_;
    f->dst = photo_;
    f->src_view = f->src.View();
    ASSERT_FALSE(draw::MutableImageView::Wrap(PixelFormat::kRGB, photo_.width, photo_.height,
                                              {f->dst.pixels.data(), nullptr, nullptr},
                                              {photo_.width * 3, 0, 0}, &f->dst_view));
  }

  CanonicalFace canonical_;
  RgbImage photo_;
  std::vector<std::array<float, 3>> source_;
};

TEST_F(WarpTest, IdentityTargetLeavesThePictureUnchanged) {
  Frames f;
  MakeFrames(&f);
  // Blank the destination first, so that "unchanged" proves the warp wrote the face from
  // the source: every pixel is either still blank (outside the mesh) or the photo's.
  std::fill(f.dst.pixels.begin(), f.dst.pixels.end(), 0);
  FaceWarp warp(canonical_.triangles);
  warp.Warp(f.src_view, source_, source_, f.dst_view);
  int max_diff = 0, written = 0;
  for (size_t i = 0; i < f.dst.pixels.size(); i += 3) {
    if (f.dst.pixels[i] == 0 && f.dst.pixels[i + 1] == 0 && f.dst.pixels[i + 2] == 0) continue;
    ++written;
    for (int k = 0; k < 3; ++k)
      max_diff = std::max(max_diff, std::abs(int{photo_.pixels[i + k]} - int{f.dst.pixels[i + k]}));
  }
  EXPECT_LE(max_diff, 1);
  // The canonical face's frontal area is about 190 cm^2: at 11 px/cm, ~23000 pixels.
  EXPECT_GT(written, 15000);
  EXPECT_LT(written, 35000);
}

TEST_F(WarpTest, IdentityInEveryPackedFormat) {
  for (PixelFormat fmt : {PixelFormat::kBGR, PixelFormat::kRGBA, PixelFormat::kBGRA, PixelFormat::kGRAY8}) {
    const int w = photo_.width, h = photo_.height;
    const int bpp = ImageView::MinStride(fmt, 1, 0);
    std::vector<uint8_t> src(static_cast<size_t>(w) * h * bpp);
    for (int i = 0; i < w * h; ++i) {
      const uint8_t* p = &photo_.pixels[3 * i];
      if (fmt == PixelFormat::kGRAY8) src[i] = p[1];
      else
        for (int k = 0; k < bpp; ++k) src[bpp * i + k] = k < 3 ? p[fmt == PixelFormat::kBGR || fmt == PixelFormat::kBGRA ? 2 - k : k] : 255;
    }
    std::vector<uint8_t> dst = src;
    ImageView sv;
    draw::MutableImageView dv;
    ASSERT_FALSE(ImageView::Wrap(fmt, w, h, {src.data(), nullptr, nullptr}, {w * bpp, 0, 0}, &sv));
    ASSERT_FALSE(draw::MutableImageView::Wrap(fmt, w, h, {dst.data(), nullptr, nullptr}, {w * bpp, 0, 0}, &dv));
    FaceWarp warp(canonical_.triangles);
    warp.Warp(sv, source_, source_, dv);
    int max_diff = 0;
    for (size_t i = 0; i < src.size(); ++i) max_diff = std::max(max_diff, std::abs(int{src[i]} - int{dst[i]}));
    EXPECT_LE(max_diff, 1) << PixelFormatName(fmt);
  }
}

TEST_F(WarpTest, TranslatedTargetMovesThePicture) {
  Frames f;
  MakeFrames(&f);
  const int dx = 7, dy = -4;
  std::vector<std::array<float, 3>> target = source_;
  for (auto& p : target) p[0] += dx, p[1] += dy;
  FaceWarp warp(canonical_.triangles);
  warp.Warp(f.src_view, source_, target, f.dst_view);
  // Inside the face (a box well within the mesh): dst(x, y) == src(x - dx, y - dy).
  int max_diff = 0, checked = 0;
  for (int y = 100; y < 150; ++y)
    for (int x = 200; x < 250; ++x) {
      for (int k = 0; k < 3; ++k) {
        const int a = f.dst.pixels[(y * photo_.width + x) * 3 + k];
        const int b = photo_.pixels[((y - dy) * photo_.width + (x - dx)) * 3 + k];
        max_diff = std::max(max_diff, std::abs(a - b));
      }
      ++checked;
    }
  EXPECT_LE(max_diff, 1);
  EXPECT_EQ(checked, 2500);
  // Outside the target mesh's box: untouched.
  for (int y = 0; y < photo_.height; y += 3)
    for (int x = 0; x < photo_.width; x += 3) {
      if (x > 100 && x < 350 && y > 0 && y < 260) continue;  // the face's surroundings
      for (int k = 0; k < 3; ++k)
        ASSERT_EQ(f.dst.pixels[(y * photo_.width + x) * 3 + k], photo_.pixels[(y * photo_.width + x) * 3 + k])
            << x << "," << y;
    }
}

// Pixels outside the target mesh but inside its box (e.g. beside the chin) are untouched:
// shrink the mesh to half size about its centre; the band between the two outlines keeps
// the original pixels.
TEST_F(WarpTest, OnlyPixelsInsideTheTargetChange) {
  Frames f;
  MakeFrames(&f);
  std::vector<std::array<float, 3>> target = source_;
  for (auto& p : target) p[0] = 225 + (p[0] - 225) * 0.5f, p[1] = 125 + (p[1] - 125) * 0.5f;
  FaceWarp warp(canonical_.triangles);
  warp.Warp(f.src_view, source_, target, f.dst_view);
  // The canonical face is about 15 cm wide: at half of 11 px/cm the target is ~83 px wide.
  // Columns 225 +- (50..80) px at the eye line are outside the shrunk mesh.
  for (int x : {150, 160, 290, 300})
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(f.dst.pixels[(110 * photo_.width + x) * 3 + k], photo_.pixels[(110 * photo_.width + x) * 3 + k]) << x;
  // Inside, the picture changed (it is the whole face, shrunk).
  int changed = 0;
  for (int x = 200; x < 250; ++x)
    changed += f.dst.pixels[(120 * photo_.width + x) * 3] != photo_.pixels[(120 * photo_.width + x) * 3];
  EXPECT_GT(changed, 25);
}

TEST_F(WarpTest, SkirtFindsTheFaceOvalAndKeepsIdentity) {
  FaceWarp warp(canonical_.triangles);
  ASSERT_TRUE(warp.SetSkirt(kWarpSkirtScale));
  EXPECT_EQ(warp.boundary().size(), 36u);  // FaceMesh's face oval
  EXPECT_FALSE(FaceWarp({{0, 1, 2}}).SetSkirt(1.0f)) << "scale <= 1: off";
  Frames f;
  MakeFrames(&f);
  std::fill(f.dst.pixels.begin(), f.dst.pixels.end(), 0);
  warp.Warp(f.src_view, source_, source_, f.dst_view);
  int max_diff = 0, written = 0;
  for (size_t i = 0; i < f.dst.pixels.size(); i += 3) {
    if (f.dst.pixels[i] == 0 && f.dst.pixels[i + 1] == 0 && f.dst.pixels[i + 2] == 0) continue;
    ++written;
    for (int k = 0; k < 3; ++k)
      max_diff = std::max(max_diff, std::abs(int{photo_.pixels[i + k]} - int{f.dst.pixels[i + k]}));
  }
  EXPECT_LE(max_diff, 1);
  // The face (~23000 px, see IdentityTargetLeavesThePictureUnchanged) and its band: the ring
  // at 1.3x the outline adds 0.69 of the face's area.
  EXPECT_GT(written, 30000);
  EXPECT_LT(written, 60000);
}

// A picture that says where each pixel came from: R = x / 2, G = y / 2 (bilinear sampling of
// a linear ramp returns the sampled position). The whole face moves 12 px down (a chin
// dropping with the jaw moves its outline the same way). Down the face's middle column,
// from the moved chin to the bottom: without the skirt the sampled source row jumps by the
// full 12 px where the face ends (a tear: the old chin shows under the new one); with the
// skirt no step between neighbouring rows exceeds 2 px of source, and below the ring the
// picture is the original.
TEST_F(WarpTest, SkirtFadesAMovedOutlineWithoutATear) {
  const int w = photo_.width, h = photo_.height;
  RgbImage ramp{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &ramp.pixels[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x / 2), p[1] = static_cast<uint8_t>(y / 2), p[2] = 0;
    }
  std::vector<std::array<float, 3>> target = source_;
  for (auto& p : target) p[1] += 12;
  const int cx = 225;
  const int chin = static_cast<int>(target[152][1]);
  auto largest_step = [&](bool skirt, int* untouched_from) {
    RgbImage dst = ramp;
    draw::MutableImageView dv;
    EXPECT_FALSE(draw::MutableImageView::Wrap(PixelFormat::kRGB, w, h, {dst.pixels.data()},
                                              {3 * w}, &dv));
    FaceWarp warp(canonical_.triangles);
    if (skirt) warp.SetSkirt(kWarpSkirtScale);
    warp.Warp(ramp.View(), source_, target, dv);
    int step = 0;
    *untouched_from = h;
    for (int y = chin - 20; y + 1 < std::min(h, chin + 80); ++y) {
      const int a = dst.pixels[(static_cast<size_t>(y) * w + cx) * 3 + 1];
      const int b = dst.pixels[(static_cast<size_t>(y + 1) * w + cx) * 3 + 1];
      step = std::max(step, std::abs(b - a));
    }
    for (int y = h - 1; y > chin; --y) {
      bool same = true;
      for (int x = 0; x < w; ++x)
        for (int k = 0; k < 3; ++k)
          same &= dst.pixels[(static_cast<size_t>(y) * w + x) * 3 + k] ==
                  ramp.pixels[(static_cast<size_t>(y) * w + x) * 3 + k];
      if (!same) break;
      *untouched_from = y;
    }
    return step;  // in G levels: 1 level = 2 px of source
  };
  int plain_from = 0, skirt_from = 0;
  const int plain = largest_step(false, &plain_from);
  const int skirted = largest_step(true, &skirt_from);
  std::printf("largest source step below the chin: plain %d px, skirt %d px; unchanged from "
              "row %d (plain) / %d (skirt), chin at %d\n",
              2 * plain, 2 * skirted, plain_from, skirt_from, chin);
  EXPECT_GE(2 * plain, 10) << "the plain warp tears at the outline";
  EXPECT_LE(2 * skirted, 2) << "the skirt fades the move";
  // The ring: 1.3x the chin's distance from the outline's centre (about 9 cm of a 17.7 cm
  // face at 11 px/cm: ~30 px below the chin); nothing below it changes.
  EXPECT_LT(skirt_from, chin + 60);
}

TEST(DisplaceLandmarks, HeadFrameToImageAxes) {
  const std::vector<std::array<float, 3>> src = {{100, 50, 3}, {10, 20, 0}};
  const std::vector<std::array<float, 3>> d = {{1, 2, 3}};
  std::vector<std::array<float, 3>> out(2);
  DisplaceLandmarks(src, d, Eigen::Matrix3f::Identity(), 10, out);
  EXPECT_FLOAT_EQ(out[0][0], 110);  // x right
  EXPECT_FLOAT_EQ(out[0][1], 30);   // y up in the head frame = y down in the image
  EXPECT_FLOAT_EQ(out[0][2], -27);  // z towards the camera = smaller image z
  EXPECT_FLOAT_EQ(out[1][0], 10);   // no delta: unchanged
  // Roll 90 degrees (counter-clockwise on screen): head +x points up in the image.
  DisplaceLandmarks(src, std::vector<std::array<float, 3>>{{1, 0, 0}}, YawPitchRollToRotation(0, 0, 90), 10, out);
  EXPECT_NEAR(out[0][0], 100, 1e-4);
  EXPECT_NEAR(out[0][1], 40, 1e-4);
}

// MouthInterior with target = source: every redrawn pixel is sampled where it is, so the
// picture stays within 1 level. Then the lower lip and chin drop by 8 px (a jaw opening on
// a closed synthetic mouth): cavity-coloured pixels appear, all inside the target's inner
// lip box, and nothing outside that box changes.
TEST_F(WarpTest, MouthInteriorOpensACavityOnlyInsideTheLips) {
  Frames f;
  MakeFrames(&f);
  MouthInterior mouth;
  mouth.Draw(f.src_view, source_, source_, f.dst_view);
  int worst = 0;
  for (size_t i = 0; i < f.dst.pixels.size(); ++i)
    worst = std::max(worst, std::abs(f.dst.pixels[i] - photo_.pixels[i]));
  EXPECT_LE(worst, 1) << "an unchanged mouth is redrawn as it was";

  // Lower inner lip (and everything below the mouth line) down 8 px.
  const float line = 0.5f * (source_[13][1] + source_[14][1]);
  std::vector<std::array<float, 3>> target = source_;
  for (auto& p : target)
    if (p[1] > line) p[1] += 8.0f;
  MakeFrames(&f);
  mouth.Draw(f.src_view, source_, target, f.dst_view);
  float x0 = 1e9f, x1 = -1e9f, y0 = 1e9f, y1 = -1e9f;
  for (int i : {78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 95, 88, 178, 87, 14, 317, 402,
                318, 324}) {
    x0 = std::min(x0, target[i][0]), x1 = std::max(x1, target[i][0]);
    y0 = std::min(y0, target[i][1]), y1 = std::max(y1, target[i][1]);
  }
  int cavity = 0;
  for (int y = 0; y < photo_.height; ++y)
    for (int x = 0; x < photo_.width; ++x) {
      const uint8_t* p = &f.dst.pixels[(static_cast<size_t>(y) * photo_.width + x) * 3];
      const uint8_t* o = &photo_.pixels[(static_cast<size_t>(y) * photo_.width + x) * 3];
      const bool inside = x >= x0 - 1 && x <= x1 + 1 && y >= y0 - 1 && y <= y1 + 1;
      if (!inside) {
        ASSERT_TRUE(p[0] == o[0] && p[1] == o[1] && p[2] == o[2]) << "changed at " << x << "," << y;
      }
      cavity += p[0] == kMouthCavity[0] && p[1] == kMouthCavity[1] && p[2] == kMouthCavity[2];
    }
  // The opening is about 8 px tall over most of the mouth's width (4.5 cm at 11 px/cm),
  // minus the photo's own thin opening kept with the lips.
  EXPECT_GT(cavity, 100);

  // A short or non-finite mesh draws nothing.
  MakeFrames(&f);
  mouth.Draw(f.src_view, std::span(source_).first(100), target, f.dst_view);
  target[14][1] = std::nanf("");
  mouth.Draw(f.src_view, source_, target, f.dst_view);
  EXPECT_EQ(f.dst.pixels, photo_.pixels);
}

}  // namespace
}  // namespace fg::render
