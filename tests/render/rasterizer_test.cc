// Golden-image tests of the rasterizer against analytic expectations (nothing here is
// produced by the code under test): coverage of triangles against their exact area, the
// top-left rule (a fan covers every pixel of a polygon exactly once), Lambert colours from
// the formula for known normals, lights and head rotations, the z-buffer order of two
// overlapping triangles in both drawing orders, and bilinear texture sampling of a
// checkerboard at texel centres and edges.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/render/rasterizer.h"
#include "engine/render/triangle.h"
#include "engine/tracking/head_pose.h"

namespace fg::render {
namespace {

using V3 = std::array<float, 3>;

// A camera that maps model (x, y) straight to pixel (x, -y): pixel coordinates are model
// coordinates with y negated, so tests can place vertices in pixels.
Camera PixelCamera() {
  Camera c;
  c.scale = 1;
  c.cx = 0;
  c.cy = 0;
  return c;
}
V3 Px(float x, float y, float z = 0) { return {x, -y, z}; }

Light Unlit() {
  Light l;
  l.ambient = 1;
  l.diffuse = 0;
  return l;
}

int Drawn(const RgbaImage& img) {
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) n += img.Row(y)[4 * x + 3] == 255;
  return n;
}

// Coverage of arbitrary triangles equals the analytic area within 1% (plus the boundary
// term: the count of pixel centres inside a triangle differs from its area by at most about
// its perimeter / 2; the triangles are large enough for that to be under 1%).
TEST(Rasterizer, CoverageMatchesAnalyticArea) {
  const std::vector<std::array<std::array<float, 2>, 3>> tris = {
      {{{10.3f, 5.7f}, {290.1f, 20.2f}, {130.6f, 270.9f}}},
      {{{250.f, 10.f}, {20.f, 200.f}, {280.f, 290.f}}},
      {{{5.5f, 5.5f}, {295.5f, 5.5f}, {5.5f, 295.5f}}},
  };
  for (const auto& t : tris) {
    Rasterizer r;
    r.SetTarget(300, 300);
    r.Clear({0, 0, 0, 0});
    const std::vector<V3> p = {Px(t[0][0], t[0][1]), Px(t[1][0], t[1][1]), Px(t[2][0], t[2][1])};
    const std::vector<std::array<int, 3>> tri = {{0, 1, 2}};
    r.Draw({p, tri, {}}, Eigen::Matrix3f::Identity(), PixelCamera(), Material{}, Unlit(),
           Shading::kFlat);
    const double area = 0.5 * std::abs((t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) -
                                       (t[2][0] - t[0][0]) * (t[1][1] - t[0][1]));
    EXPECT_NEAR(Drawn(r.image()), area, 0.01 * area)
        << "triangle (" << t[0][0] << "," << t[0][1] << ") (" << t[1][0] << "," << t[1][1]
        << ") (" << t[2][0] << "," << t[2][1] << ")";
  }
}

// An axis-aligned rectangle [10.5, 50.5) x [20.5, 40.5) as two triangles covers exactly the
// pixels whose centres are inside: x 10..49, y 20..39 (left/top edges in, right/bottom out).
TEST(Rasterizer, QuadCoversExactlyItsPixelCentres) {
  Rasterizer r;
  r.SetTarget(64, 64);
  r.Clear({0, 0, 0, 0});
  const std::vector<V3> p = {Px(10.5f, 20.5f), Px(50.5f, 20.5f), Px(50.5f, 40.5f), Px(10.5f, 40.5f)};
  const std::vector<std::array<int, 3>> tris = {{0, 1, 2}, {0, 2, 3}};
  r.Draw({p, tris, {}}, Eigen::Matrix3f::Identity(), PixelCamera(), Material{}, Unlit(),
         Shading::kFlat);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const bool in = x >= 10 && x <= 49 && y >= 20 && y <= 39;
      ASSERT_EQ(r.image().Row(y)[4 * x + 3] == 255, in) << x << "," << y;
    }
}

// Top-left rule: a fan of 7 triangles around an interior point, vertices on pixel centres
// and on edges through pixel centres, covers each pixel of the polygon exactly once.
TEST(Rasterizer, FanCoversEveryPixelOnce) {
  const int w = 80, h = 80;
  const std::array<float, 2> centre{40.5f, 40.5f};
  std::vector<std::array<float, 2>> ring;
  for (int k = 0; k < 7; ++k) {
    const double a = 2 * M_PI * k / 7;
    ring.push_back({static_cast<float>(std::round(40 + 35 * std::cos(a)) + 0.5),
                    static_cast<float>(std::round(40 + 35 * std::sin(a)) + 0.5)});
  }
  std::vector<int> hits(w * h, 0);
  int total = 0;
  for (int k = 0; k < 7; ++k)
    ForEachPixel(centre, ring[k], ring[(k + 1) % 7], w, h, [&](int x, int y, float, float, float) {
      ++hits[y * w + x];
      ++total;
    });
  int max_hits = 0;
  for (int v : hits) max_hits = std::max(max_hits, v);
  EXPECT_EQ(max_hits, 1) << "a pixel was covered by two triangles of the fan";
  // The union's area by the shoelace formula: the pixel count is within its perimeter.
  double area = 0;
  for (int k = 0; k < 7; ++k)
    area += ring[k][0] * ring[(k + 1) % 7][1] - ring[(k + 1) % 7][0] * ring[k][1];
  area = std::abs(area) / 2;
  EXPECT_NEAR(total, area, 0.01 * area);
}

// Lambert: colour = base * (ambient + diffuse * max(0, n.l)).
TEST(Rasterizer, LambertColourFromTheFormula) {
  struct Case {
    V3 light;
    float yaw;
    double cos_nl;  // analytic n.l
  };
  const std::vector<Case> cases = {
      {{0, 0, 1}, 0, 1.0},                 // facing the light
      {{1, 0, 1}, 0, std::sqrt(0.5)},      // light 45 degrees to the side
      {{0, 0, 1}, 60, 0.5},                // head turned 60 degrees: cos 60
      {{0, 1, 0}, 0, 0.0},                 // light grazing from above: ambient only
  };
  const Material m{{200, 150, 100}, nullptr};
  for (Shading shading : {Shading::kFlat, Shading::kLit}) {
    for (const Case& c : cases) {
      Rasterizer r;
      r.SetTarget(100, 100);
      r.Clear({0, 0, 0, 0});
      Light light;
      light.direction = c.light;
      light.ambient = 0.2f;
      light.diffuse = 0.7f;
      // A flat square in the model's x-y plane (normal +z), centred on the pivot.
      Camera cam = PixelCamera();
      cam.cx = 50;
      cam.cy = 50;
      const std::vector<V3> p = {{-30, -30, 0}, {30, -30, 0}, {30, 30, 0}, {-30, 30, 0}};
      const std::vector<std::array<int, 3>> tris = {{0, 1, 2}, {0, 2, 3}};
      r.Draw({p, tris, {}}, YawPitchRollToRotation(c.yaw, 0, 0), cam, m, light, shading);
      const uint8_t* px = r.image().Row(50) + 4 * 50;
      ASSERT_EQ(px[3], 255);
      const double k = 0.2 + 0.7 * c.cos_nl;
      for (int ch = 0; ch < 3; ++ch)
        EXPECT_NEAR(px[ch], m.color[ch] * k, 1.0)
            << "shading " << static_cast<int>(shading) << " yaw " << c.yaw << " channel " << ch;
    }
  }
}

// The pose turns the mesh: a square of width 60 turned 60 degrees about y projects to
// width 60 * cos 60 = 30 (orthographic).
TEST(Rasterizer, YawShrinksWidthByCosine) {
  Rasterizer r;
  r.SetTarget(100, 100);
  r.Clear({0, 0, 0, 0});
  Camera cam = PixelCamera();
  cam.cx = 50;
  cam.cy = 50;
  const std::vector<V3> p = {{-30, -30, 0}, {30, -30, 0}, {30, 30, 0}, {-30, 30, 0}};
  const std::vector<std::array<int, 3>> tris = {{0, 1, 2}, {0, 2, 3}};
  r.Draw({p, tris, {}}, YawPitchRollToRotation(60, 0, 0), cam, Material{}, Unlit(), Shading::kFlat);
  EXPECT_NEAR(Drawn(r.image()), 30 * 60, 0.01 * 30 * 60);
}

// z-buffer: the triangle nearer the viewer (larger model z) wins in the overlap whatever the
// drawing order; each keeps its own pixels elsewhere.
TEST(Rasterizer, DepthOrderOfOverlappingTriangles) {
  for (bool near_first : {true, false}) {
    Rasterizer r;
    r.SetTarget(100, 100);
    r.Clear({0, 0, 0, 0});
    const std::vector<V3> near_tri = {Px(10, 10, 5), Px(70, 10, 5), Px(10, 70, 5)};
    const std::vector<V3> far_tri = {Px(30, 30, -5), Px(90, 30, -5), Px(30, 90, -5)};
    const std::vector<std::array<int, 3>> tri = {{0, 1, 2}};
    const Material red{{255, 0, 0}, nullptr}, blue{{0, 0, 255}, nullptr};
    auto draw_near = [&] {
      r.Draw({near_tri, tri, {}}, Eigen::Matrix3f::Identity(), PixelCamera(), red, Unlit(), Shading::kFlat);
    };
    auto draw_far = [&] {
      r.Draw({far_tri, tri, {}}, Eigen::Matrix3f::Identity(), PixelCamera(), blue, Unlit(), Shading::kFlat);
    };
    if (near_first) draw_near(), draw_far();
    else draw_far(), draw_near();
    const uint8_t* overlap = r.image().Row(35) + 4 * 35;  // inside both
    EXPECT_EQ(overlap[0], 255) << "near_first " << near_first;
    EXPECT_EQ(overlap[2], 0) << "near_first " << near_first;
    EXPECT_FLOAT_EQ(r.depth(35, 35), -5.0f);  // depth = -scale * z of the near one
    const uint8_t* far_only = r.image().Row(80) + 4 * 35;
    EXPECT_EQ(far_only[2], 255);
    const uint8_t* near_only = r.image().Row(15) + 4 * 15;
    EXPECT_EQ(near_only[0], 255);
  }
}

// Texture: a 4x4 checkerboard (black/white texels) on a quad whose pixel centres x = 20 i + 9
// fall exactly on texel centres: those pixels are the texel's colour; the pixel halfway
// between two texels is their mean (bilinear), 127.5 +- 1.
TEST(Rasterizer, CheckerboardTextureSampling) {
  Texture tex;
  tex.width = tex.height = 4;
  tex.rgba.resize(4 * 4 * 4);
  auto white = [](int i, int j) { return (i + j) % 2 == 0; };
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < 4; ++k) tex.rgba[(j * 4 + i) * 4 + k] = white(i, j) ? 255 : 0;
  // Quad [-0.5, 79.5)^2, uv (0,0) top-left: pixel centre x + 0.5 = -0.5 + 80 u.
  const std::vector<V3> p = {Px(-0.5f, -0.5f), Px(79.5f, -0.5f), Px(79.5f, 79.5f), Px(-0.5f, 79.5f)};
  const std::vector<std::array<float, 2>> uv = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
  const std::vector<std::array<int, 3>> tris = {{0, 1, 2}, {0, 2, 3}};
  Rasterizer r;
  r.SetTarget(80, 80);
  r.Clear({0, 0, 0, 0});
  Material m;
  m.texture = &tex;
  r.Draw({p, tris, uv}, Eigen::Matrix3f::Identity(), PixelCamera(), m, Unlit(), Shading::kFlat);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) {
      const uint8_t* px = r.image().Row(20 * j + 9) + 4 * (20 * i + 9);
      EXPECT_NEAR(px[0], white(i, j) ? 255 : 0, 1) << "texel " << i << "," << j;
    }
  // Halfway between texel (0,0) (white) and (1,0) (black) along x, at texel row 0's centre.
  EXPECT_NEAR(r.image().Row(9)[4 * 19], 127.5, 1.0);
}

// Nothing is drawn outside the target, whatever the coordinates (huge, negative, NaN).
TEST(Rasterizer, ClipsAndSurvivesWildCoordinates) {
  Rasterizer r;
  r.SetTarget(50, 40);
  r.Clear({0, 0, 0, 0});
  const std::vector<V3> p = {Px(-1e9f, -1e9f), Px(1e9f, 20), Px(25, 1e9f), Px(NAN, 3), Px(4, 4)};
  const std::vector<std::array<int, 3>> tris = {{0, 1, 2}, {3, 4, 0}, {0, 1, 7}};
  r.Draw({p, tris, {}}, Eigen::Matrix3f::Identity(), PixelCamera(), Material{}, Unlit(), Shading::kLit);
  EXPECT_GT(Drawn(r.image()), 0);
}

}  // namespace
}  // namespace fg::render
