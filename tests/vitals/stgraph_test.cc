// FaceSTGraph: topology and skin mask of the canonical face; per-triangle sampling on frames
// painted with known colours (the canonical face projected into the frame), visibility of
// back-facing triangles, every pixel format, odd sizes and faces partly outside (run under
// ASan by the FG_SANITIZE=address build); the per-face per-frame cost.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include "engine/io/png.h"
#include "engine/vitals/stgraph.h"
#include "engine/vitals/vitals_estimator.h"
#include "tests/vitals/vitals_test_util.h"

namespace fg {
namespace {

using vitals_testing::AllFormats;
using vitals_testing::Canonical;
using vitals_testing::MakeAllFormats;
using vitals_testing::Project;

std::unique_ptr<FaceSTGraph> MakeGraph() {
  std::string err;
  auto g = FaceSTGraph::Create(Canonical(), &err);
  EXPECT_TRUE(g) << err;
  return g;
}

// Canonical normal of triangle t rotated by R, z towards the camera.
float ExpectedCos(const std::array<int, 3>& tr, const Eigen::Matrix3f& r) {
  const auto& V = Canonical().vertices;
  Eigen::Vector3f a(V[tr[0]][0], V[tr[0]][1], V[tr[0]][2]), b(V[tr[1]][0], V[tr[1]][1], V[tr[1]][2]),
      c(V[tr[2]][0], V[tr[2]][1], V[tr[2]][2]);
  const Eigen::Vector3f n = (r * (b - a).cross(c - a)).normalized();
  return n.z();
}

TEST(STGraph, TopologyAdjacencySkinMaskAndRegions) {
  auto g = MakeGraph();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->num_triangles(), 898);
  int adj_edges = 0;
  for (int t = 0; t < g->num_triangles(); ++t) {
    const auto& n = g->TriangleNeighbours(t);
    EXPECT_LE(n.size(), 3u) << "triangle " << t;
    adj_edges += static_cast<int>(n.size());
    for (int u : n) {
      const auto& back = g->TriangleNeighbours(u);
      EXPECT_NE(std::find(back.begin(), back.end(), t), back.end()) << t << " <-> " << u;
      // They share exactly two vertices.
      int shared = 0;
      for (int a : g->triangles()[t])
        for (int b : g->triangles()[u]) shared += a == b;
      EXPECT_EQ(shared, 2);
    }
  }
  // Eye, lip and nostril landmarks never belong to a skin triangle; brow landmarks at most
  // once per skin triangle (the brow band itself is out).
  const std::set<int> features = {33, 133, 263, 362, 159, 386, 61, 291, 13, 14, 0, 17, 98, 327};
  const std::set<int> brows = {276, 283, 282, 295, 285, 300, 293, 334, 296, 336,
                               46,  53,  52,  65,  55,  70,  63,  105, 66,  107};
  std::array<int, kFaceRegions> per_region{};
  for (int t = 0; t < g->num_triangles(); ++t) {
    if (!g->IsSkin(t)) continue;
    int on_brow = 0;
    for (int v : g->triangles()[t]) {
      EXPECT_FALSE(features.count(v)) << "skin triangle " << t << " touches " << v;
      on_brow += static_cast<int>(brows.count(v));
    }
    EXPECT_LE(on_brow, 1) << "skin triangle " << t << " is on the brow";
    ++per_region[static_cast<int>(g->RegionOfTriangle(t))];
    EXPECT_EQ(g->RegionOfPatch(g->PatchOf(t)), g->RegionOfTriangle(t));
  }
  std::printf("[ stgraph ] %d triangles, %d edge adjacencies, %d skin triangles in %d patches;",
              g->num_triangles(), adj_edges / 2, g->num_skin_triangles(), g->num_patches());
  for (int r = 0; r < kFaceRegions; ++r) {
    std::printf(" %s %d", std::string(FaceRegionName(static_cast<FaceRegion>(r))).c_str(), per_region[r]);
    EXPECT_GE(per_region[r], 20) << FaceRegionName(static_cast<FaceRegion>(r));
  }
  std::printf("\n");
  EXPECT_GT(g->num_skin_triangles(), 400);
  EXPECT_LT(g->num_skin_triangles(), 850);
  // Patches are connected to something.
  for (int p = 0; p < g->num_patches(); ++p) EXPECT_FALSE(g->PatchNeighbours(p).empty()) << "patch " << p;
  // Region sides: the left cheek is on the image's left of a frontal face.
  const auto lm = Project(0, 0, 0, 10, 320, 240);
  double lx = 0, rx = 0;
  int ln = 0, rn = 0;
  for (int t = 0; t < g->num_triangles(); ++t) {
    const float x = (lm[g->triangles()[t][0]][0] + lm[g->triangles()[t][1]][0] + lm[g->triangles()[t][2]][0]) / 3;
    if (g->RegionOfTriangle(t) == FaceRegion::kLeftCheek) lx += x, ++ln;
    if (g->RegionOfTriangle(t) == FaceRegion::kRightCheek) rx += x, ++rn;
  }
  EXPECT_LT(lx / ln, 320);
  EXPECT_GT(rx / rn, 320);
}

TEST(STGraph, RegionPicture) {
  // A frontal face 400 px high, every skin triangle in its region's colour (patches in
  // alternating shades), non-skin triangles dark. Written when FG_VITALS_PICTURE names a
  // PNG file: the way to review the skin mask and the regions by eye.
  auto g = MakeGraph();
  ASSERT_TRUE(g);
  const auto lm = Project(0, 0, 0, 25, 320, 240);
  const std::array<std::array<int, 3>, kFaceRegions> colours = {
      {{230, 80, 80}, {80, 200, 80}, {80, 120, 230}, {230, 200, 60}, {200, 90, 220}}};
  RgbImage img;
  img.width = 640, img.height = 480;
  img.pixels.assign(640 * 480 * 3, 255);
  int painted = 0;
  for (int t = 0; t < g->num_triangles(); ++t) {
    const auto& tr = g->triangles()[t];
    std::array<int, 3> c = {40, 40, 40};
    if (g->IsSkin(t)) {
      c = colours[static_cast<int>(g->RegionOfTriangle(t))];
      if (g->PatchOf(t) % 2) c = {c[0] * 3 / 4, c[1] * 3 / 4, c[2] * 3 / 4};
    }
    const double ax = lm[tr[0]][0], ay = lm[tr[0]][1], bx = lm[tr[1]][0], by = lm[tr[1]][1],
                 cx = lm[tr[2]][0], cy = lm[tr[2]][1];
    const double area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (std::abs(area) < 1e-9) continue;
    for (int y = static_cast<int>(std::min({ay, by, cy})); y <= static_cast<int>(std::max({ay, by, cy})); ++y)
      for (int x = static_cast<int>(std::min({ax, bx, cx})); x <= static_cast<int>(std::max({ax, bx, cx})); ++x) {
        if (x < 0 || y < 0 || x >= 640 || y >= 480) continue;
        const double px = x + 0.5, py = y + 0.5;
        const double l0 = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
        const double l1 = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area;
        if (l0 < 0 || l1 < 0 || l0 + l1 > 1) continue;
        const bool edge = l0 < 0.04 || l1 < 0.04 || l0 + l1 > 0.96;
        for (int k = 0; k < 3; ++k) img.pixels[3 * (y * 640 + x) + k] = static_cast<uint8_t>(edge ? c[k] / 2 : c[k]);
        ++painted;
      }
  }
  EXPECT_GT(painted, 50000);
  if (const char* path = std::getenv("FG_VITALS_PICTURE")) {
    auto err = WritePngRgb(path, img);
    EXPECT_FALSE(err) << *err;
  }
}

TEST(STGraph, CreateRejectsAnIncompleteMesh) {
  CanonicalFace bad;
  std::string err;
  EXPECT_FALSE(FaceSTGraph::Create(bad, &err));
  EXPECT_NE(err.find("468"), std::string::npos) << err;
  bad = Canonical();
  bad.triangles[3][1] = 999;
  EXPECT_FALSE(FaceSTGraph::Create(bad, &err));
  EXPECT_NE(err.find("999"), std::string::npos) << err;
}

// Paints every front-facing triangle of a projected face with its own colour (pixel centres
// inside by exact barycentric tests, independent of the sampler's rasteriser) and returns,
// per triangle, the colour, or -1 where a pixel is claimed by two triangles (folds).
struct Painted {
  std::vector<uint8_t> rgb;
  std::vector<std::array<uint8_t, 3>> colour;
  std::vector<bool> ambiguous;
  std::vector<int> pixels;
};

Painted Paint(const FaceSTGraph& g, const std::vector<std::array<float, 3>>& lm, int w, int h) {
  Painted p;
  p.rgb.assign(w * h * 3, 40);
  const int nt = g.num_triangles();
  p.colour.resize(nt);
  p.ambiguous.assign(nt, false);
  p.pixels.assign(nt, 0);
  std::vector<int> owner(w * h, -1);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> c(30, 230);
  for (int t = 0; t < nt; ++t) {
    p.colour[t] = {static_cast<uint8_t>(c(rng)), static_cast<uint8_t>(c(rng)), static_cast<uint8_t>(c(rng))};
    const auto& tr = g.triangles()[t];
    const double ax = lm[tr[0]][0], ay = lm[tr[0]][1], bx = lm[tr[1]][0], by = lm[tr[1]][1],
                 cx = lm[tr[2]][0], cy = lm[tr[2]][1];
    const double area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
    if (std::abs(area) < 1e-9) continue;
    const int x0 = std::max(0, static_cast<int>(std::min({ax, bx, cx})) - 1);
    const int x1 = std::min(w - 1, static_cast<int>(std::max({ax, bx, cx})) + 1);
    const int y0 = std::max(0, static_cast<int>(std::min({ay, by, cy})) - 1);
    const int y1 = std::min(h - 1, static_cast<int>(std::max({ay, by, cy})) + 1);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const double px = x + 0.5, py = y + 0.5;
        const double l0 = ((bx - px) * (cy - py) - (by - py) * (cx - px)) / area;
        const double l1 = ((cx - px) * (ay - py) - (cy - py) * (ax - px)) / area;
        const double l2 = 1 - l0 - l1;
        if (l0 <= 0 || l1 <= 0 || l2 <= 0) continue;
        int& o = owner[y * w + x];
        if (o >= 0) p.ambiguous[o] = p.ambiguous[t] = true;
        o = t;
        ++p.pixels[t];
        for (int k = 0; k < 3; ++k) p.rgb[3 * (y * w + x) + k] = p.colour[t][k];
      }
  }
  return p;
}

TEST(STGraph, PaintedTrianglesGiveTheirColours) {
  auto g = MakeGraph();
  ASSERT_TRUE(g);
  constexpr int kW = 640, kH = 480;
  // A 150 px wide face, slightly turned so that the mesh has no exactly vertical edges.
  const auto lm = Project(8, 5, 3, 10, 320, 240);
  const Painted p = Paint(*g, lm, kW, kH);
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {p.rgb.data()}, {3 * kW}, &v));
  TriangleSamples s;
  g->SampleTriangles(v, lm, &s);
  int checked = 0, exact_count = 0;
  for (int t = 0; t < g->num_triangles(); ++t) {
    if (p.ambiguous[t] || p.pixels[t] < 3 || s.visibility[t] <= 0.2f) continue;
    ++checked;
    exact_count += s.pixels[t] == p.pixels[t];
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(s.rgb[t][k], p.colour[t][k], 1e-3) << "triangle " << t << " channel " << k
                                                     << " pixels " << s.pixels[t] << " painted " << p.pixels[t];
  }
  std::printf("[ painted ] %d triangles checked, %d with the painter's exact pixel count\n", checked, exact_count);
  EXPECT_GT(checked, 500);
  EXPECT_GE(exact_count, checked * 95 / 100);  // only pixel centres exactly on an edge may differ
}

TEST(STGraph, BackFacingTrianglesGetZeroVisibility) {
  auto g = MakeGraph();
  ASSERT_TRUE(g);
  constexpr int kW = 640, kH = 480;
  std::vector<uint8_t> rgb(kW * kH * 3, 128);
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {rgb.data()}, {3 * kW}, &v));
  for (float yaw : {0.0f, 40.0f, 100.0f, -100.0f}) {
    const auto lm = Project(yaw, 0, 0, 10, 320, 240);
    const Eigen::Matrix3f r = YawPitchRollToRotation(yaw, 0, 0);
    TriangleSamples s;
    g->SampleTriangles(v, lm, &s);
    int back = 0, front = 0;
    for (int t = 0; t < g->num_triangles(); ++t) {
      const float want = ExpectedCos(g->triangles()[t], r);
      if (want <= 0) {
        ++back;
        EXPECT_EQ(s.visibility[t], 0.0f) << "yaw " << yaw << " triangle " << t;
      } else {
        ++front;
        EXPECT_NEAR(s.visibility[t], want, 1e-3) << "yaw " << yaw << " triangle " << t;
      }
    }
    std::printf("[ visibility ] yaw %+.0f: %d front-facing, %d back-facing\n", yaw, front, back);
    if (std::abs(yaw) == 100) {
      EXPECT_GT(back, 300) << "a face turned 100 degrees shows its far side";
    }
    if (yaw == 0) {
      EXPECT_GT(front, 800);
    }
  }
}

TEST(STGraph, EveryPixelFormatGivesTheSameMeans) {
  auto g = MakeGraph();
  ASSERT_TRUE(g);
  constexpr int kW = 640, kH = 480;
  std::vector<uint8_t> rgb(kW * kH * 3);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      uint8_t* p = &rgb[3 * (y * kW + x)];
      p[0] = static_cast<uint8_t>(150 + 60 * std::sin(x / 40.0));
      p[1] = static_cast<uint8_t>(110 + 50 * std::cos(y / 35.0));
      p[2] = static_cast<uint8_t>(90 + 40 * std::sin((x + y) / 50.0));
    }
  AllFormats f;
  MakeAllFormats(rgb, kW, kH, &f);
  const auto lm = Project(10, -5, 8, 10, 300, 250);
  TriangleSamples ref;
  g->SampleTriangles(f.views[0], lm, &ref);
  for (const ImageView& v : f.views) {
    TriangleSamples s;
    g->SampleTriangles(v, lm, &s);
    const bool yuv = IsYuv(v.format);
    double worst = 0;
    for (int t = 0; t < g->num_triangles(); ++t) {
      EXPECT_EQ(s.pixels[t], ref.pixels[t]);
      EXPECT_EQ(s.visibility[t], ref.visibility[t]);
      if (ref.pixels[t] < 4) continue;
      for (int k = 0; k < 3; ++k) {
        float want = ref.rgb[t][k];
        if (v.format == PixelFormat::kGRAY8)
          want = 0.299f * ref.rgb[t][0] + 0.587f * ref.rgb[t][1] + 0.114f * ref.rgb[t][2];
        worst = std::max(worst, static_cast<double>(std::abs(s.rgb[t][k] - want)));
      }
    }
    // RGB-family formats (padded ones included) are exact; gray is the rounded luma; YUV
    // (4:2:0 and 4:2:2): limited-range rounding and chroma subsampling on a smooth picture.
    const double tol = yuv ? 3.0 : (v.format == PixelFormat::kGRAY8 ? 0.5 : 1e-4);
    std::printf("[ formats ] %-5s worst |mean - rgb mean| %.3f (tolerance %.1f)\n",
                std::string(PixelFormatName(v.format)).c_str(), worst, tol);
    EXPECT_LE(worst, tol) << PixelFormatName(v.format);
  }
}

TEST(STGraph, OddSizesAndFacesPartlyOutsideAreSafe) {
  auto g = MakeGraph();
  ASSERT_TRUE(g);
  struct Case {
    int w, h;
    float cx, cy, scale;
  };
  const Case cases[] = {{641, 479, 5, 7, 10},     {37, 23, 18, 11, 10},  {1, 1, 0, 0, 10},
                        {333, 211, 330, 200, 30}, {99, 77, -40, 50, 8},   {640, 480, 320, -60, 10},
                        {640, 480, 2000, 240, 10}, {17, 9, 8, 4, 0.2f}};
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> px(0, 255);
  for (const Case& c : cases) {
    std::vector<uint8_t> rgb(c.w * c.h * 3);
    for (auto& b : rgb) b = static_cast<uint8_t>(px(rng));
    AllFormats f;
    MakeAllFormats(rgb, c.w, c.h, &f);
    const auto lm = Project(20, 10, -15, c.scale, c.cx, c.cy);
    for (const ImageView& v : f.views) {
      TriangleSamples s;
      g->SampleTriangles(v, lm, &s);
      long total = 0;
      for (int t = 0; t < g->num_triangles(); ++t) {
        total += s.pixels[t];
        for (int k = 0; k < 3; ++k) {
          EXPECT_GE(s.rgb[t][k], 0.0f);
          EXPECT_LE(s.rgb[t][k], 255.0f);
        }
      }
      // No more pixels than the frame has, bar sub-pixel triangles counted at their centroid.
      EXPECT_LE(total, static_cast<long>(c.w) * c.h + g->num_triangles())
          << c.w << "x" << c.h << " " << PixelFormatName(v.format);
    }
  }
  // Wild landmarks: NaN, infinity, huge.
  std::vector<uint8_t> rgb(64 * 48 * 3, 100);
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, 64, 48, {rgb.data()}, {64 * 3}, &v));
  for (float bad : {std::nanf(""), INFINITY, -1e30f, 1e30f}) {
    auto lm = Project(0, 0, 0, 3, 32, 24);
    for (int i = 0; i < 468; i += 5) lm[i][i % 3] = bad;
    TriangleSamples s;
    g->SampleTriangles(v, lm, &s);
    for (int t = 0; t < g->num_triangles(); ++t) EXPECT_LE(s.pixels[t], 64 * 48);
  }
  // Too few landmarks: all zero.
  TriangleSamples s;
  g->SampleTriangles(v, std::vector<std::array<float, 3>>(10), &s);
  for (int t = 0; t < g->num_triangles(); ++t) EXPECT_EQ(s.pixels[t], 0);
}

// The per-face per-frame cost is measured by tools/bench/vitals_bench (README Speed), not
// asserted here: timed assertions on shared CI cores only measure the neighbours.

}  // namespace
}  // namespace fg
