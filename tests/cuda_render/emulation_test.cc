// The CUDA renderer's algorithm, emulated on the CPU (runs everywhere, no GPU or nvcc needed):
// the kernels' per-thread functions (cuda/render/render_stages.h over engine/render/
// raster_kernel.h) called over their grids by cuda/render/emulator.cc, against the CPU renderer
// on real data (render_cases.h: the canonical face, the astronaut photo).
//
//   rasterizer   every pose x {flat, lit, textured}: colour bytes and depth identical to
//                render::Rasterizer, with pass 1 (the atomicMin depth keys) run in forward AND
//                reverse triangle order: the result must not depend on the order of the atomics
//   two draws    the same mesh drawn twice at the same pose in another colour: every tie
//                keeps the first draw (the CPU's "strictly nearer wins")
//   bad indices  triangles with an index out of range among the good ones: skipped alike
//   composite    EmulatedComposite == WriteRgba in all seven formats, panel clipped on every
//                side, odd offsets (NV12/I420 blocks half covered), alpha-0 holes
//   warp         FaceWarp on the astronaut with a displaced, folding mesh, all seven formats,
//                both orders: every plane byte identical
// Tolerance: none (pixel for pixel). Each case checks that it exercises what it is for (pixels
// drawn, overlapped pixels where the depth test decides).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/render/emulator.h"
#include "engine/render/warp.h"
#include "tests/cuda_render/render_cases.h"

namespace fg {
namespace {

using cuda::EmulatedOrder;
using namespace cuda_render_testing;

struct ShadeCase {
  const char* name;
  render::Shading shading;
  bool textured;
};
constexpr ShadeCase kShades[] = {
    {"flat", render::Shading::kFlat, false}, {"lit", render::Shading::kLit, false}, {"textured", render::Shading::kLit, true}};

TEST(CudaRenderEmulation, CasesCoverTheirPurpose) {
  const auto& c = Cases();
  ASSERT_EQ(c.face.vertices.size(), 468u);
  ASSERT_GT(c.face.triangles.size(), 800u);
  // The turned head folds: the depth test decides pixels there.
  for (const auto& p : c.poses) {
    const int overlapped = OverlappedPixels(ScreenPositions(p), c.face.triangles, kW, kH);
    std::printf("[ cases ] pose %-10s overlapped pixels %d\n", p.name.c_str(), overlapped);
    if (p.name == "yaw70") {
      EXPECT_GT(overlapped, 500) << p.name;
    }
  }
  std::vector<std::array<float, 2>> xy;
  for (const auto& t : c.warp_target) xy.push_back({t[0], t[1]});
  const int warp_overlap = OverlappedPixels(xy, c.face.triangles, c.photo.width, c.photo.height);
  std::printf("[ cases ] warp target overlapped pixels %d\n", warp_overlap);
  EXPECT_GT(warp_overlap, 100);
}

TEST(CudaRenderEmulation, RasterizerEqualsTheCpuInEveryPoseAndShading) {
  const auto& c = Cases();
  ASSERT_FALSE(c.poses.empty());
  render::Rasterizer cpu;
  cuda::EmulatedRasterizer emu;
  emu.SetMesh({c.face.vertices, c.face.triangles, c.face.uvs});
  emu.SetTexture(c.texture);
  cpu.SetTarget(kW, kH);
  emu.SetTarget(kW, kH);
  for (const auto& p : c.poses)
    for (const ShadeCase& s : kShades) {
      render::Material m;
      if (s.textured) m.texture = &c.texture;
      const render::Light light;
      cpu.Clear({10, 20, 30, 0});
      cpu.Draw({c.face.vertices, c.face.triangles, c.face.uvs}, Rotation(p), CameraFor(p), m, light, s.shading);
      const int drawn = Drawn(cpu.image());
      EXPECT_GT(drawn, p.name == "tiny" ? 20 : 5000) << p.name;
      for (EmulatedOrder order : {EmulatedOrder::kForward, EmulatedOrder::kReverse}) {
        const std::string what = p.name + " " + s.name + (order == EmulatedOrder::kForward ? " forward" : " reverse");
        emu.Clear({10, 20, 30, 0});
        emu.Draw(Rotation(p), CameraFor(p), m, light, s.shading, order);
        ExpectSameImage(cpu.image(), emu.image(), what);
        int bad_depth = 0;
        for (int y = 0; y < kH; ++y)
          for (int x = 0; x < kW; ++x)
            if (!(cpu.depth(x, y) == emu.depth(x, y)) && ++bad_depth <= 3)
              ADD_FAILURE() << what << ": depth at (" << x << ", " << y << ") cpu " << cpu.depth(x, y) << " emulated "
                            << emu.depth(x, y);
        EXPECT_EQ(bad_depth, 0) << what;
      }
    }
}

TEST(CudaRenderEmulation, SecondDrawLosesEveryTieLikeTheCpu) {
  const auto& c = Cases();
  ASSERT_FALSE(c.poses.empty());
  const Pose& p = c.poses[1];  // yaw70
  render::Rasterizer cpu;
  cuda::EmulatedRasterizer emu;
  emu.SetMesh({c.face.vertices, c.face.triangles, c.face.uvs});
  cpu.SetTarget(kW, kH);
  emu.SetTarget(kW, kH);
  cpu.Clear({0, 0, 0, 0});
  emu.Clear({0, 0, 0, 0});
  render::Material first, second, nearer;
  second.color = {20, 200, 40};
  nearer.color = {200, 30, 30};
  const render::Light light;
  render::Camera moved = CameraFor(p);
  moved.cx += 60;
  moved.pivot[2] -= 0.5f;  // half a centimetre nearer: wins where it overlaps
  for (EmulatedOrder order : {EmulatedOrder::kReverse, EmulatedOrder::kForward}) {
    cpu.Clear({0, 0, 0, 0});
    emu.Clear({0, 0, 0, 0});
    cpu.Draw({c.face.vertices, c.face.triangles, c.face.uvs}, Rotation(p), CameraFor(p), first, light, render::Shading::kLit);
    emu.Draw(Rotation(p), CameraFor(p), first, light, render::Shading::kLit, order);
    const render::RgbaImage once = cpu.image();
    cpu.Draw({c.face.vertices, c.face.triangles, c.face.uvs}, Rotation(p), CameraFor(p), second, light, render::Shading::kLit);
    emu.Draw(Rotation(p), CameraFor(p), second, light, render::Shading::kLit, order);
    ExpectSameImage(once, cpu.image(), "cpu: an equal second draw changes nothing");
    ExpectSameImage(cpu.image(), emu.image(), "same pose twice");
    cpu.Draw({c.face.vertices, c.face.triangles, c.face.uvs}, Rotation(p), moved, nearer, light, render::Shading::kFlat);
    emu.Draw(Rotation(p), moved, nearer, light, render::Shading::kFlat, order);
    ExpectSameImage(cpu.image(), emu.image(), "a third, nearer draw");
  }
}

TEST(CudaRenderEmulation, TrianglesWithBadIndicesAreSkippedLikeTheCpu) {
  const auto& c = Cases();
  ASSERT_GT(c.face.triangles.size(), 400u);
  // Bad triangles among the good ones (the device packs the mesh without them; the CPU skips
  // them while drawing): the lit normals and the tie order must not shift.
  std::vector<std::array<int, 3>> tris = c.face.triangles;
  tris.insert(tris.begin() + 100, {0, 1, 468});
  tris.insert(tris.begin() + 300, {-1, 2, 3});
  const Pose& p = c.poses[1];
  render::Rasterizer cpu;
  cuda::EmulatedRasterizer emu;
  emu.SetMesh({c.face.vertices, tris, c.face.uvs});
  emu.SetTexture(c.texture);
  cpu.SetTarget(kW, kH);
  emu.SetTarget(kW, kH);
  render::Material m;
  m.texture = &c.texture;
  cpu.Clear({0, 0, 0, 0});
  emu.Clear({0, 0, 0, 0});
  cpu.Draw({c.face.vertices, tris, c.face.uvs}, Rotation(p), CameraFor(p), m, render::Light{}, render::Shading::kLit);
  emu.Draw(Rotation(p), CameraFor(p), m, render::Light{}, render::Shading::kLit);
  EXPECT_GT(Drawn(cpu.image()), 5000);
  ExpectSameImage(cpu.image(), emu.image(), "bad triangles skipped");
}

TEST(CudaRenderEmulation, CompositeEqualsWriteRgbaInEveryFormat) {
  const auto& c = Cases();
  ASSERT_GT(c.photo.width, 0);
  // A 101 x 77 panel with a gradient and alpha-0 holes.
  render::RgbaImage panel;
  panel.Resize(101, 77);
  for (int y = 0; y < panel.height; ++y)
    for (int x = 0; x < panel.width; ++x) {
      uint8_t* o = panel.Row(y) + 4 * x;
      o[0] = static_cast<uint8_t>(2 * x), o[1] = static_cast<uint8_t>(3 * y), o[2] = static_cast<uint8_t>(x * y);
      o[3] = ((x / 7 + y / 5) % 3 == 0) ? 0 : 255;
    }
  const std::array<int, 2> offsets[] = {{13, 21}, {-30, -11}, {450, 470}, {-50, 300}, {0, 0}};
  for (int f = 0; f < kPixelFormatCount; ++f) {
    const PixelFormat format = static_cast<PixelFormat>(f);
    for (const auto& at : offsets) {
      OwnedFrame want, got;
      MakeFrame(format, c.photo, &want);
      MakeFrame(format, c.photo, &got);
      render::WriteRgba(panel, want.view, at[0], at[1]);
      cuda::EmulatedComposite(panel, got.view, at[0], at[1]);
      EXPECT_TRUE(want.Bytes() == got.Bytes())
          << PixelFormatName(format) << " panel at (" << at[0] << ", " << at[1] << ")";
    }
  }
}

TEST(CudaRenderEmulation, WarpEqualsTheCpuInEveryFormat) {
  const auto& c = Cases();
  ASSERT_EQ(c.warp_source.size(), 468u);
  render::FaceWarp cpu(c.face.triangles);
  cuda::EmulatedFaceWarp emu(c.face.triangles);
  for (int f = 0; f < kPixelFormatCount; ++f) {
    const PixelFormat format = static_cast<PixelFormat>(f);
    OwnedFrame src, want, got;
    MakeFrame(format, c.photo, &src);
    MakeFrame(format, c.photo, &want);
    cpu.Warp(src.view.view(), c.warp_source, c.warp_target, want.view);
    const std::vector<uint8_t> original = src.Bytes(), warped = want.Bytes();
    int changed = 0;
    for (size_t i = 0; i < original.size(); ++i) changed += original[i] != warped[i];
    EXPECT_GT(changed, 2000) << PixelFormatName(format) << ": the warp must change the picture";
    for (EmulatedOrder order : {EmulatedOrder::kForward, EmulatedOrder::kReverse}) {
      MakeFrame(format, c.photo, &got);
      emu.Warp(src.view.view(), c.warp_source, c.warp_target, got.view, order);
      EXPECT_TRUE(warped == got.Bytes()) << PixelFormatName(format)
                                         << (order == EmulatedOrder::kForward ? " forward" : " reverse");
    }
  }
}

TEST(CudaRenderEmulation, WarpRefusesWhatTheCpuRefuses) {
  const auto& c = Cases();
  ASSERT_EQ(c.warp_source.size(), 468u);
  cuda::EmulatedFaceWarp emu(c.face.triangles);
  OwnedFrame src, got;
  MakeFrame(PixelFormat::kRGB, c.photo, &src);
  MakeFrame(PixelFormat::kRGB, c.photo, &got);
  const std::vector<uint8_t> before = got.Bytes();
  // Fewer landmarks than the triangulation needs; source and target of different sizes; a
  // target of NaNs only: nothing is drawn (as FaceWarp::Warp).
  std::vector<std::array<float, 3>> few(c.warp_source.begin(), c.warp_source.begin() + 100);
  emu.Warp(src.view.view(), few, few, got.view);
  emu.Warp(src.view.view(), c.warp_source, few, got.view);
  std::vector<std::array<float, 3>> nan(c.warp_source.size(), {NAN, NAN, NAN});
  emu.Warp(src.view.view(), c.warp_source, nan, got.view);
  EXPECT_TRUE(before == got.Bytes());
}

}  // namespace
}  // namespace fg
