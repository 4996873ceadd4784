// Glasses keep their shape in warp mode while the brows move by their full FACS amplitude
// (engine/render/eyewear.h EyewearLayer, warp.h SetEyewearLayer; issue 15).
//
// A generated face: light skin (200), each brow the polygon of its mesh landmarks filled
// grey (110), and a glasses frame per eye drawn dark (20), 3 px wide: top rim 0.3 cm below
// the brow's lowest point (so AU4 lowers the brow to it and behind it), bottom rim 1 cm
// below the lower lid, sides 1.0 cm from the midline and 0.7 cm beyond the outer corner;
// the bridge joins the inner sides at the top rim's height. The brow AUs at full intensity (AU1 + AU2: browInnerUp,
// browOuterUp*; AU4: browDown*) and the six prototypes are warped with the layer on.
// Targets: every rim within 1 px of straight and its centre line within 1 px of where it
// was (tolerance: a third of the 3 px line's width; the plain warp's bends are printed);
// each brow's upper edge, at its landmark's target column, moved by the FACS amplitude of
// tests/avatar/facs_amplitude_test.cc (AU1 336 up 0.85 cm, AU2 334 / 300 up 0.8 cm, AU4 336 down 0.65 cm,
// 334 down 0.45 cm) within 0.1 cm (1.6 px: the edge is found to a pixel on each side).
#include "engine/render/eyewear.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/avatar/blendshapes.h"
#include "engine/geometry/canonical_face.h"
#include "engine/render/warp.h"

#include "tests/avatar/avatar_test_util.h"

namespace fg::render {
namespace {

using Vec3 = std::array<float, 3>;
constexpr float kScale = 16, kCx = 240, kCy = 200;  // px per cm, where the face's origin lands
constexpr int kW = 480, kH = 420;

// The real canonical face and its basis: tests/avatar's shared fixture.
const CanonicalFace& Face() { return avatar_testing::Canonical(); }
using avatar_testing::Basis;

float Px(float x_cm) { return kCx + kScale * x_cm; }
float Py(float y_cm) { return kCy - kScale * y_cm; }

// A rim: from (x0, y0) to (x1, y1) in canonical cm, horizontal or vertical.
struct Rim {
  const char* name;
  float x0, y0, x1, y1;
  bool horizontal() const { return y0 == y1; }
};

// The frame's rims (per eye: top, bottom, outer side, inner side; then the bridge).
std::vector<Rim> FrameRims() {
  const auto& v = Face().vertices;
  float brow_low = 1e9f;
  for (int i : {285, 295, 282, 283, 276}) brow_low = std::min(brow_low, v[i][1]);
  const float top = brow_low - 0.3f, bottom = v[374][1] - 1.0f;
  const float outer = v[263][0] + 0.7f, inner = 1.0f;
  return {{"left top rim", inner, top, outer, top},
          {"left bottom rim", inner, bottom, outer, bottom},
          {"left outer side", outer, bottom, outer, top},
          {"left inner side", inner, bottom, inner, top},
          {"right top rim", -outer, top, -inner, top},
          {"right bottom rim", -outer, bottom, -inner, bottom},
          {"right outer side", -outer, bottom, -outer, top},
          {"right inner side", -inner, bottom, -inner, top},
          {"bridge", -inner, top, inner, top}};
}

constexpr std::array<int, 5> kBrowUp[2] = {{336, 296, 334, 293, 300}, {107, 66, 105, 63, 70}};
constexpr std::array<int, 5> kBrowLow[2] = {{285, 295, 282, 283, 276}, {55, 65, 52, 53, 46}};

// Fills the polygon (frame px) with `value` (pixel centres inside, even-odd rule).
void FillPolygon(std::vector<uint8_t>& px, const std::vector<std::array<float, 2>>& poly, uint8_t value) {
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const float fx = x + 0.5f, fy = y + 0.5f;
      bool in = false;
      for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
        const auto& a = poly[i];
        const auto& b = poly[j];
        if ((a[1] > fy) != (b[1] > fy) && fx < (b[0] - a[0]) * (fy - a[1]) / (b[1] - a[1]) + a[0])
          in = !in;
      }
      if (in)
        for (int c = 0; c < 3; ++c) px[(static_cast<size_t>(y) * kW + x) * 3 + c] = value;
    }
}

std::vector<uint8_t> FaceWithGlasses() {
  std::vector<uint8_t> px(static_cast<size_t>(kW) * kH * 3, 200);
  const auto& v = Face().vertices;
  for (int s = 0; s < 2; ++s) {
    std::vector<std::array<float, 2>> poly;
    for (int k = 0; k < 5; ++k) poly.push_back({Px(v[kBrowUp[s][k]][0]), Py(v[kBrowUp[s][k]][1])});
    for (int k = 4; k >= 0; --k) poly.push_back({Px(v[kBrowLow[s][k]][0]), Py(v[kBrowLow[s][k]][1])});
    FillPolygon(px, poly, 110);
  }
  for (const Rim& r : FrameRims()) {
    const int x0 = static_cast<int>(std::lround(Px(r.x0))), x1 = static_cast<int>(std::lround(Px(r.x1)));
    const int y0 = static_cast<int>(std::lround(Py(r.y0))), y1 = static_cast<int>(std::lround(Py(r.y1)));
    for (int y = std::min(y0, y1) - 1; y <= std::max(y0, y1) + 1; ++y)
      for (int x = std::min(x0, x1) - 1; x <= std::max(x0, x1) + 1; ++x)
        for (int c = 0; c < 3; ++c) px[(static_cast<size_t>(y) * kW + x) * 3 + c] = 20;
  }
  return px;
}

// A rim's centre line (darkness below 80, so the grey brows do not count) per column (per
// row for a side) over the middle 70 % of its length, within 12 px across: its straightness
// (largest deviation from the fitted line) and its mean offset from where it was drawn.
struct RimFit {
  float bend = 1e9f, offset = 1e9f;
};
RimFit MeasureRim(const std::vector<uint8_t>& px, const Rim& r) {
  std::vector<std::pair<float, float>> pts;
  const bool h = r.horizontal();
  const float a0 = h ? Px(std::min(r.x0, r.x1)) : Py(std::max(r.y0, r.y1));
  const float a1 = h ? Px(std::max(r.x0, r.x1)) : Py(std::min(r.y0, r.y1));
  const float across = std::round(h ? Py(r.y0) : Px(r.x0));
  const float len = a1 - a0;
  for (int a = static_cast<int>(a0 + 0.15f * len); a <= static_cast<int>(a1 - 0.15f * len); ++a) {
    double sw = 0, s = 0;
    for (int d = static_cast<int>(across) - 12; d <= static_cast<int>(across) + 12; ++d) {
      const int x = h ? a : d, y = h ? d : a;
      const double dark = 80.0 - px[(static_cast<size_t>(y) * kW + x) * 3];
      if (dark > 0) sw += dark, s += dark * d;
    }
    if (sw > 0) pts.push_back({static_cast<float>(a), static_cast<float>(s / sw)});
  }
  RimFit f;
  if (pts.size() < 5) return f;  // the rim was lost: fails any bound
  double n = pts.size(), sa = 0, sc = 0, saa = 0, sac = 0;
  for (auto [a, c] : pts) sa += a, sc += c, saa += a * a, sac += a * c;
  const double k = (n * sac - sa * sc) / (n * saa - sa * sa), b = (sc - k * sa) / n;
  f.bend = 0;
  for (auto [a, c] : pts)
    f.bend = std::max(f.bend, static_cast<float>(std::abs(c - (k * a + b)) / std::sqrt(1 + k * k)));
  f.offset = static_cast<float>(sc / n - across);
  return f;
}

// The brow's upper edge (frame px, y) at column x: the first pixel from 40 px above `near_y`
// downwards darker than 155 (between skin 200 and brow 110); NaN when none within 80 px.
float BrowTopEdge(const std::vector<uint8_t>& px, float x, float near_y) {
  const int cx = static_cast<int>(x);
  for (int y = static_cast<int>(near_y) - 40; y < static_cast<int>(near_y) + 40; ++y) {
    const int prev = px[(static_cast<size_t>(y - 1) * kW + cx) * 3], cur = px[(static_cast<size_t>(y) * kW + cx) * 3];
    if (prev >= 155 && cur < 155) return static_cast<float>(y);
  }
  return std::nanf("");
}

std::vector<float> Weights(std::initializer_list<std::pair<const char*, float>> ws) {
  std::vector<float> w(Basis().size(), 0.0f);
  for (auto [name, value] : ws) w[Basis().Index(name)] = value;
  return w;
}

// The picture warped by `weights` (FaceWarp with the skirt, as warp mode), the layer on or
// off; `target` gets the target landmarks.
std::vector<uint8_t> WarpedBy(const std::vector<uint8_t>& src, const std::vector<float>& weights,
                              bool layer, std::vector<Vec3>* target, int* found = nullptr) {
  std::vector<Vec3> m(Basis().vertex_count());
  Basis().Apply(weights, m);
  for (size_t i = 0; i < m.size(); ++i)
    for (int c = 0; c < 3; ++c) m[i][c] -= Basis().neutral()[i][c];
  std::vector<Vec3> source;
  for (const Vec3& v : Face().vertices) source.push_back({Px(v[0]), Py(v[1]), -kScale * v[2]});
  target->assign(source.size(), {});
  DisplaceLandmarks(source, m, Eigen::Matrix3f::Identity(), kScale, *target);
  std::vector<uint8_t> dst = src;
  ImageView sv;
  EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {src.data(), nullptr, nullptr},
                               {kW * 3, 0, 0}, &sv));
  draw::MutableImageView dv;
  EXPECT_FALSE(draw::MutableImageView::Wrap(PixelFormat::kRGB, kW, kH, {dst.data(), nullptr, nullptr},
                                            {kW * 3, 0, 0}, &dv));
  FaceWarp warp(Face().triangles);
  warp.SetSkirt(kWarpSkirtScale);
  warp.SetEyewearLayer(layer);
  warp.Warp(sv, source, *target, dv);
  if (found) {
    *found = 0;
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) *found += warp.eyewear().alpha(x, y) > 0;
  }
  return dst;
}

TEST(EyewearLayer, FindsTheFrameAndNotTheBrows) {
  const auto src = FaceWithGlasses();
  ImageView sv;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {src.data(), nullptr, nullptr},
                               {kW * 3, 0, 0}, &sv));
  std::vector<Vec3> lm;
  for (const Vec3& v : Face().vertices) lm.push_back({Px(v[0]), Py(v[1]), -kScale * v[2]});
  EyewearLayer layer;
  ASSERT_GT(layer.Find(sv, lm), 0);
  int frame = 0, frame_found = 0, brow = 0, brow_found = 0;
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const uint8_t p = src[(static_cast<size_t>(y) * kW + x) * 3];
      if (p == 20) ++frame, frame_found += layer.alpha(x, y) == 1.0f;
      if (p == 110) ++brow, brow_found += layer.alpha(x, y) > 0;
    }
  std::printf("  frame pixels found %d of %d; brow pixels taken as frame %d of %d\n", frame_found,
              frame, brow_found, brow);
  // Targets: 95 % of the frame found; at most 5 % of the brows (the 2 px edge band where a
  // rim meets a brow) taken as frame.
  EXPECT_GE(frame_found, 0.95 * frame);
  EXPECT_LE(brow_found, 0.05 * brow);
  // No glasses: the plain face with its brows yields nothing.
  std::vector<uint8_t> bare(static_cast<size_t>(kW) * kH * 3, 200);
  const auto& v = Face().vertices;
  for (int s = 0; s < 2; ++s) {
    std::vector<std::array<float, 2>> poly;
    for (int k = 0; k < 5; ++k) poly.push_back({Px(v[kBrowUp[s][k]][0]), Py(v[kBrowUp[s][k]][1])});
    for (int k = 4; k >= 0; --k) poly.push_back({Px(v[kBrowLow[s][k]][0]), Py(v[kBrowLow[s][k]][1])});
    FillPolygon(bare, poly, 110);
  }
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {bare.data(), nullptr, nullptr},
                               {kW * 3, 0, 0}, &sv));
  EXPECT_EQ(layer.Find(sv, lm), 0) << "a face without glasses has no frame";
  // Hair: a dark fringe coming down over the left brow from above the band is not a frame.
  for (int y = static_cast<int>(Py(v[334][1] + 2.0f)); y < static_cast<int>(Py(v[334][1] - 0.1f)); ++y)
    for (int x = static_cast<int>(Px(2.0f)); x < static_cast<int>(Px(4.5f)); ++x)
      for (int c = 0; c < 3; ++c) bare[(static_cast<size_t>(y) * kW + x) * 3 + c] = 40;
  EXPECT_EQ(layer.Find(sv, lm), 0) << "hair over a brow is not a frame";
  // Too few landmarks: nothing.
  EXPECT_EQ(layer.Find(sv, std::span(lm).first(100)), 0);
}

TEST(EyewearLayer, FrameStaysPutWhileBrowsMoveByTheirFacsAmplitude) {
  const auto src = FaceWithGlasses();
  std::vector<Vec3> target;
  for (const Rim& r : FrameRims()) {
    const RimFit f = MeasureRim(src, r);
    EXPECT_LE(f.bend, 0.05f) << "the drawn " << r.name << " (the measure's own floor)";
    EXPECT_LE(std::abs(f.offset), 0.05f) << r.name;
  }
  struct Case {
    const char* name;
    std::vector<float> w;
    std::vector<std::pair<int, float>> brow_moves;  // landmark, FACS amplitude (cm, + up)
  };
  const std::vector<Case> cases = {
      {"AU1+AU2", Weights({{"browInnerUp", 1}, {"browOuterUpLeft", 1}, {"browOuterUpRight", 1}}),
       {{336, 0.85f}, {107, 0.85f}, {334, 0.80f}, {105, 0.80f}, {300, 0.80f}, {70, 0.80f}}},
      {"AU4", Weights({{"browDownLeft", 1}, {"browDownRight", 1}}),
       {{336, -0.65f}, {107, -0.65f}, {334, -0.45f}, {105, -0.45f}}},
  };
  const auto& v = Face().vertices;
  for (const Case& c : cases) {
    int found = 0;
    const auto plain = WarpedBy(src, c.w, false, &target);
    const auto out = WarpedBy(src, c.w, true, &target, &found);
    EXPECT_GT(found, 0) << c.name;
    for (const Rim& r : FrameRims()) {
      const RimFit f0 = MeasureRim(plain, r), f = MeasureRim(out, r);
      std::printf("  %-8s %-17s bend %.2f px, moved %+.2f px (plain warp: %.2f, %+.2f)\n", c.name,
                  r.name, f.bend, f.offset, f0.bend, f0.offset);
      EXPECT_LE(f.bend, 1.0f) << c.name << ", " << r.name;
      EXPECT_LE(std::abs(f.offset), 1.0f) << c.name << ", " << r.name;
    }
    for (auto [lm, amp] : c.brow_moves) {
      // 0.15 cm from the vertex towards the brow's middle (the column through an end vertex
      // grazes the brow's corner), before at the source column, after at the moved one.
      const float in = 0.15f * kScale * (std::abs(v[lm][0]) > std::abs(v[334][0]) ? -1.0f : 1.0f) *
                       (v[lm][0] > 0 ? 1.0f : -1.0f);
      const float before = BrowTopEdge(src, Px(v[lm][0]) + in, Py(v[lm][1]));
      const float after = BrowTopEdge(out, target[lm][0] + in, target[lm][1]);
      const float moved_cm = (before - after) / kScale;  // up is +
      std::printf("  %-8s brow %3d upper edge moved %+.2f cm (FACS %+.2f)\n", c.name, lm, moved_cm,
                  amp);
      EXPECT_NEAR(moved_cm, amp, 0.1f) << c.name << " brow " << lm;
    }
  }
  // The six prototypes: the frame stays straight and in place in every one.
  for (const char* e : {"happy", "sad", "surprise", "fear", "anger", "disgust"}) {
    const auto out = WarpedBy(src, ExpressionWeights(*FindExpression(e), Basis()), true, &target);
    for (const Rim& r : FrameRims()) {
      const RimFit f = MeasureRim(out, r);
      EXPECT_LE(f.bend, 1.0f) << e << ", " << r.name;
      EXPECT_LE(std::abs(f.offset), 1.0f) << e << ", " << r.name;
    }
  }
}

// The same in NV12 (the layer reads pixels through ImageView::At and writes the filled-in
// skin through WriteRgba, both per format): the grey picture as limited-range luma with
// neutral chroma, AU1 + AU2 warped with the layer, read back as grey. Same targets.
TEST(EyewearLayer, WorksOnNv12) {
  const auto rgb = FaceWithGlasses();
  auto to_y = [](int g) { return static_cast<uint8_t>(16 + (219 * g + 127) / 255); };
  std::vector<uint8_t> y(static_cast<size_t>(kW) * kH), uv(static_cast<size_t>(kW) * kH / 2, 128);
  for (size_t i = 0; i < y.size(); ++i) y[i] = to_y(rgb[3 * i]);
  std::vector<uint8_t> oy = y, ouv = uv;
  ImageView sv;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kNV12, kW, kH, {y.data(), uv.data(), nullptr},
                               {kW, kW, 0}, &sv));
  draw::MutableImageView dv;
  ASSERT_FALSE(draw::MutableImageView::Wrap(PixelFormat::kNV12, kW, kH,
                                            {oy.data(), ouv.data(), nullptr}, {kW, kW, 0}, &dv));
  std::vector<Vec3> source, target;
  for (const Vec3& v : Face().vertices) source.push_back({Px(v[0]), Py(v[1]), -kScale * v[2]});
  const auto w = Weights({{"browInnerUp", 1}, {"browOuterUpLeft", 1}, {"browOuterUpRight", 1}});
  std::vector<Vec3> m(Basis().vertex_count());
  Basis().Apply(w, m);
  for (size_t i = 0; i < m.size(); ++i)
    for (int c = 0; c < 3; ++c) m[i][c] -= Basis().neutral()[i][c];
  target.resize(source.size());
  DisplaceLandmarks(source, m, Eigen::Matrix3f::Identity(), kScale, target);
  FaceWarp warp(Face().triangles);
  warp.SetSkirt(kWarpSkirtScale);
  warp.SetEyewearLayer(true);
  warp.Warp(sv, source, target, dv);
  std::vector<uint8_t> grey(rgb.size());
  for (size_t i = 0; i < oy.size(); ++i) {
    const int g = std::clamp((oy[i] - 16) * 255 / 219, 0, 255);
    grey[3 * i] = grey[3 * i + 1] = grey[3 * i + 2] = static_cast<uint8_t>(g);
  }
  for (const Rim& r : FrameRims()) {
    const RimFit f = MeasureRim(grey, r);
    EXPECT_LE(f.bend, 1.0f) << r.name;
    EXPECT_LE(std::abs(f.offset), 1.0f) << r.name;
  }
  const auto& v = Face().vertices;
  for (auto [lm, amp] : {std::pair{334, 0.80f}, std::pair{105, 0.80f}}) {
    const float before = BrowTopEdge(rgb, Px(v[lm][0]), Py(v[lm][1]));
    const float after = BrowTopEdge(grey, target[lm][0], target[lm][1]);
    EXPECT_NEAR((before - after) / kScale, amp, 0.1f) << "brow " << lm;
  }
}

}  // namespace
}  // namespace fg::render
