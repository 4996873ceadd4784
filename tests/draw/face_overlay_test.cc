// engine/draw/face_overlay.h: each part draws where the face data says and nowhere else,
// each switch turns its part off, and broken face data (NaN, huge, short landmark lists)
// draws nothing outside the frame.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/draw/face_overlay.h"
#include "engine/draw/font.h"
#include "tests/draw/draw_test_util.h"

namespace fg::draw {
namespace {

using testing::AllFormats;
using testing::Frame;

OverlayOptions Only(bool box, bool id, MeshStyle mesh, bool iris, bool pose) {
  OverlayOptions o;
  o.box = box, o.id = id, o.mesh = mesh, o.iris = iris, o.pose = pose;
  o.color = Color::FromArgb(0xffffffff);
  return o;
}

// A synthetic face: box (40,50) 60x70, landmarks on a grid inside it, iris points, pose.
FrameFaces SampleFaces(bool with_iris) {
  Face f;
  f.id = 42;
  f.box = {40.f, 50.f, 60.f, 70.f};
  f.score = 0.9f;
  for (int i = 0; i < kMeshLandmarks; ++i)
    f.landmarks.push_back({45.f + (i % 26) * 2.f, 55.f + (i / 26) * 3.f, 0.f});
  if (with_iris)
    for (int eye = 0; eye < 2; ++eye) {
      const float cx = eye ? 85.f : 55.f, cy = 70.f;
      f.landmarks.push_back({cx, cy, 0.f});
      for (auto [dx, dy] : {std::pair{4.f, 0.f}, {0.f, 4.f}, {-4.f, 0.f}, {0.f, -4.f}})
        f.landmarks.push_back({cx + dx, cy + dy, 0.f});
    }
  f.pose = HeadPose{10.f, 5.f, 0.f, std::nullopt};
  FrameFaces faces;
  faces.faces.push_back(f);
  return faces;
}

int CountPainted(const Frame& fr) {
  int n = 0;
  for (int y = 0; y < fr.h; ++y)
    for (int x = 0; x < fr.w; ++x) n += !fr.Untouched(x, y);
  return n;
}

TEST(MeshEdges, UniqueSortedEdgesOfTriangles) {
  const auto e = MeshEdges({{0, 1, 2}, {2, 1, 3}});
  const std::vector<std::array<int, 2>> want{{0, 1}, {0, 2}, {1, 2}, {1, 3}, {2, 3}};
  EXPECT_EQ(e, want);
}

TEST(FaceOverlay, BoxIsTheRectangleAndNothingElse) {
  for (PixelFormat f : AllFormats()) {
    Frame fr(f, 161, 121);
    FaceOverlay().Draw(fr.img, SampleFaces(false), Only(true, false, MeshStyle::kNone, false, false));
    const Pen pen = testing::WhitePen(f);
    // Box (40,50) 60x70 -> pixels x 40..99, y 50..119, 2 px inwards.
    EXPECT_EQ(fr.Check(pen, [&] {
      std::vector<bool> m(161 * 121);
      for (int y = 0; y < 121; ++y)
        for (int x = 0; x < 161; ++x) {
          const bool in = x >= 40 && x <= 99 && y >= 50 && y <= 119;
          const bool inner = x >= 42 && x <= 97 && y >= 52 && y <= 117;
          m[y * 161 + x] = in && !inner;
        }
      return m;
    }()), "") << PixelFormatName(f);
  }
}

TEST(FaceOverlay, EachPartDrawsOnlyWhenSwitchedOn) {
  const FrameFaces faces = SampleFaces(true);
  auto painted = [&](const OverlayOptions& o, const FaceOverlay& ov) {
    Frame fr(PixelFormat::kRGB, 160, 130);
    ov.Draw(fr.img, faces, o);
    EXPECT_TRUE(fr.GuardsIntact());
    return CountPainted(fr);
  };
  const FaceOverlay plain;
  const FaceOverlay wired(MeshEdges({{0, 1, 27}, {27, 28, 1}}));
  EXPECT_EQ(painted(Only(false, false, MeshStyle::kNone, false, false), plain), 0);
  EXPECT_GT(painted(Only(true, false, MeshStyle::kNone, false, false), plain), 0);
  EXPECT_GT(painted(Only(false, true, MeshStyle::kNone, false, false), plain), 0);
  EXPECT_EQ(painted(Only(false, false, MeshStyle::kPoints, false, false), plain), kMeshLandmarks);
  EXPECT_GT(painted(Only(false, false, MeshStyle::kNone, true, false), plain), 0);
  EXPECT_GT(painted(Only(false, false, MeshStyle::kNone, false, true), plain), 0);
  // Wireframe: the lines between the edge ends (more than their 4 end points), not points.
  const int wire = painted(Only(false, false, MeshStyle::kWireframe, false, false), wired);
  EXPECT_GT(wire, 4);
  EXPECT_LT(wire, 40);
  // Without edges the wireframe falls back to points.
  EXPECT_EQ(painted(Only(false, false, MeshStyle::kWireframe, false, false), plain), kMeshLandmarks);
  // Iris needs the 10 iris landmarks.
  Frame fr(PixelFormat::kRGB, 160, 130);
  plain.Draw(fr.img, SampleFaces(false), Only(false, false, MeshStyle::kNone, true, false));
  EXPECT_EQ(CountPainted(fr), 0);
}

TEST(FaceOverlay, IdLabelAboveTheBox) {
  Frame fr(PixelFormat::kGRAY8, 160, 130);
  FaceOverlay().Draw(fr.img, SampleFaces(false), Only(false, true, MeshStyle::kNone, false, false));
  // "#42" at scale 2, 3 px above the box: rows 50-3-14 .. 50-4.
  for (int y = 0; y < 130; ++y)
    for (int x = 0; x < 160; ++x)
      if (!fr.Untouched(x, y)) {
        EXPECT_GE(y, 33);
        EXPECT_LE(y, 46);
        EXPECT_GE(x, 40);
        EXPECT_LT(x, 40 + TextWidth("#42", 2));
      }
}

TEST(FaceOverlay, BrokenFaceDataStaysInTheFrame) {
  for (PixelFormat f : AllFormats()) {
    Frame fr(f, 33, 17);
    FrameFaces faces = SampleFaces(true);
    Face bad = faces.faces[0];
    bad.box = {NAN, 3.f, 1e30f, -5.f};
    for (auto& p : bad.landmarks) p = {1e20f, -1e20f, NAN};
    bad.landmarks[4] = {10.f, 10.f, 0.f};
    bad.pose = HeadPose{NAN, 1e9f, 0.f, std::nullopt};
    faces.faces.push_back(bad);
    Face short_lm = faces.faces[0];
    short_lm.landmarks.resize(3);
    short_lm.box = {-1e9f, -1e9f, 2e9f, 2e9f};
    faces.faces.push_back(short_lm);
    FaceOverlay(MeshEdges({{0, 1, 2}, {400, 467, 3}})).Draw(fr.img, faces, OverlayOptions{});
    for (MeshStyle m : {MeshStyle::kPoints, MeshStyle::kWireframe}) {
      OverlayOptions o;
      o.mesh = m;
      FaceOverlay(MeshEdges({{0, 1, 2}, {400, 467, 3}})).Draw(fr.img, faces, o);
    }
    EXPECT_TRUE(fr.GuardsIntact()) << PixelFormatName(f);
  }
}

}  // namespace
}  // namespace fg::draw
