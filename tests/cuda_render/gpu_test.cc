// The CUDA renderer (cuda/render) on a GPU against the CPU renderer, pixel for pixel on the
// cases of render_cases.h: DeviceRasterizer's target and depth equal render::Rasterizer's in
// every pose and shading; its Composite into a device frame equals WriteRgba in all seven
// formats; DeviceFaceWarp on a device frame equals FaceWarp in all seven formats; a morphed
// mesh (UpdatePositions) equals the CPU drawing the morphed positions; steady frames allocate
// no host memory. Without a CUDA device these tests report skipped (never passed), except the
// ones that check the errors, which need no device.
#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "cuda/render/device_rasterizer.h"
#include "cuda/render/device_warp.h"
#include "engine/render/warp.h"
#include "tests/alloc_counter.h"
#include "tests/cuda_render/render_cases.h"

namespace fg {
namespace {

using cuda::DeviceFaceWarp;
using cuda::DeviceRasterizer;
using namespace cuda_render_testing;

#define FG_REQUIRE_CUDA_DEVICE()                                                           \
  do {                                                                                     \
    std::string why;                                                                       \
    if (DeviceRasterizer::DeviceCount(&why) == 0) GTEST_SKIP() << "no CUDA device: " << why; \
  } while (0)

// An OwnedFrame's planes (same strides) in device memory.
struct DeviceFrame {
  std::array<uint8_t*, 3> planes{};
  draw::MutableImageView view;
  ~DeviceFrame() {
    for (uint8_t* p : planes)
      if (p) cudaFree(p);
  }
  void Upload(const OwnedFrame& f) {
    view = f.view;
    for (int p = 0; p < PlaneCount(f.view.format); ++p) {
      if (!planes[p]) {
        ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&planes[p]), f.planes[p].size()), cudaSuccess);
      }
      ASSERT_EQ(cudaMemcpy(planes[p], f.planes[p].data(), f.planes[p].size(), cudaMemcpyHostToDevice), cudaSuccess);
      view.planes[p] = planes[p];
    }
  }
  void Download(OwnedFrame* f) const {
    for (int p = 0; p < PlaneCount(f->view.format); ++p)
      ASSERT_EQ(cudaMemcpy(f->planes[p].data(), planes[p], f->planes[p].size(), cudaMemcpyDeviceToHost), cudaSuccess);
  }
};

TEST(CudaRender, WarpCreateRejectsANegativeIndex) {
  std::string err;
  EXPECT_FALSE(DeviceFaceWarp::Create({{0, 1, 2}, {3, -1, 4}}, &err));
  EXPECT_NE(err.find("triangle 1 has a negative index"), std::string::npos) << err;
}

TEST(CudaRender, WithoutADeviceCreateNamesTheFailingCall) {
  std::string why;
  if (DeviceRasterizer::DeviceCount(&why) > 0) GTEST_SKIP() << "a CUDA device is present";
  std::string err;
  EXPECT_FALSE(DeviceRasterizer::Create(&err));
  EXPECT_NE(err.find("cuda"), std::string::npos) << "the error should name the CUDA call: " << err;
  err.clear();
  EXPECT_FALSE(DeviceFaceWarp::Create({{0, 1, 2}}, &err));
  EXPECT_NE(err.find("cuda"), std::string::npos) << "the error should name the CUDA call: " << err;
  std::printf("[ cuda ] without a device: %s\n", err.c_str());
}

TEST(CudaRender, RasterizerEqualsTheCpuInEveryPoseAndShading) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  ASSERT_FALSE(c.poses.empty());
  std::string err;
  auto dev = DeviceRasterizer::Create(&err);
  ASSERT_TRUE(dev) << err;
  ASSERT_TRUE(dev->SetMesh({c.face.vertices, c.face.triangles, c.face.uvs}, &err)) << err;
  ASSERT_TRUE(dev->SetTexture(c.texture, &err)) << err;
  ASSERT_TRUE(dev->SetTarget(kW, kH, &err)) << err;
  render::Rasterizer cpu;
  cpu.SetTarget(kW, kH);
  render::RgbaImage got;
  std::vector<float> depth;
  for (const auto& p : c.poses)
    for (int s = 0; s < 3; ++s) {
      const render::Shading shading = s == 0 ? render::Shading::kFlat : render::Shading::kLit;
      render::Material m;
      if (s == 2) m.texture = &c.texture;
      const std::string what = p.name + (s == 0 ? " flat" : s == 1 ? " lit" : " textured");
      cpu.Clear({10, 20, 30, 0});
      cpu.Draw({c.face.vertices, c.face.triangles, c.face.uvs}, Rotation(p), CameraFor(p), m, render::Light{}, shading);
      ASSERT_TRUE(dev->Clear({10, 20, 30, 0}, &err)) << err;
      ASSERT_TRUE(dev->Draw(Rotation(p), CameraFor(p), m, render::Light{}, shading, &err)) << what << ": " << err;
      ASSERT_TRUE(dev->Download(&got, &depth, &err)) << err;
      ExpectSameImage(cpu.image(), got, what);
      int bad = 0;
      for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x) bad += !(cpu.depth(x, y) == depth[static_cast<size_t>(y) * kW + x]);
      EXPECT_EQ(bad, 0) << what << ": pixels of different depth";
    }
}

TEST(CudaRender, CompositeIntoADeviceFrameEqualsWriteRgba) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  ASSERT_FALSE(c.poses.empty());
  std::string err;
  auto dev = DeviceRasterizer::Create(&err);
  ASSERT_TRUE(dev) << err;
  ASSERT_TRUE(dev->SetMesh({c.face.vertices, c.face.triangles, c.face.uvs}, &err)) << err;
  ASSERT_TRUE(dev->SetTarget(301, 223, &err)) << err;  // odd sizes, placed at odd offsets
  ASSERT_TRUE(dev->Clear({0, 0, 0, 0}, &err)) << err;
  const Pose& p = c.poses[1];
  render::Camera cam = render::Camera::Fit(c.face.vertices, 301, 223, 0.9f);
  ASSERT_TRUE(dev->Draw(Rotation(p), cam, render::Material{}, render::Light{}, render::Shading::kLit, &err)) << err;
  render::RgbaImage panel;
  ASSERT_TRUE(dev->Download(&panel, nullptr, &err)) << err;
  ASSERT_GT(Drawn(panel), 1000);
  for (int f = 0; f < kPixelFormatCount; ++f) {
    const PixelFormat format = static_cast<PixelFormat>(f);
    for (const auto& at : {std::array<int, 2>{13, 21}, std::array<int, 2>{-31, -9}, std::array<int, 2>{400, 350}}) {
      OwnedFrame want, got;
      MakeFrame(format, c.photo, &want);
      MakeFrame(format, c.photo, &got);
      DeviceFrame d;
      d.Upload(got);
      render::WriteRgba(panel, want.view, at[0], at[1]);
      ASSERT_TRUE(dev->Composite(d.view, at[0], at[1], &err)) << err;
      ASSERT_TRUE(dev->Synchronize(&err)) << err;
      d.Download(&got);
      EXPECT_TRUE(want.Bytes() == got.Bytes()) << PixelFormatName(format) << " at (" << at[0] << ", " << at[1] << ")";
    }
  }
}

TEST(CudaRender, WarpOnADeviceFrameEqualsTheCpuInEveryFormat) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  ASSERT_EQ(c.warp_source.size(), 468u);
  std::string err;
  auto dev = DeviceFaceWarp::Create(c.face.triangles, &err);
  ASSERT_TRUE(dev) << err;
  render::FaceWarp cpu(c.face.triangles);
  for (int f = 0; f < kPixelFormatCount; ++f) {
    const PixelFormat format = static_cast<PixelFormat>(f);
    OwnedFrame src, want, got;
    MakeFrame(format, c.photo, &src);
    MakeFrame(format, c.photo, &want);
    MakeFrame(format, c.photo, &got);
    cpu.Warp(src.view.view(), c.warp_source, c.warp_target, want.view);
    DeviceFrame dsrc, ddst;
    dsrc.Upload(src);
    ddst.Upload(got);
    ASSERT_TRUE(dev->Warp(dsrc.view.view(), c.warp_source, c.warp_target, ddst.view, &err)) << err;
    ASSERT_TRUE(dev->Synchronize(&err)) << err;
    ddst.Download(&got);
    EXPECT_TRUE(want.Bytes() == got.Bytes()) << PixelFormatName(format);
    EXPECT_FALSE(want.Bytes() == src.Bytes()) << PixelFormatName(format) << ": the warp must change the picture";
  }
}

TEST(CudaRender, MorphedMeshEqualsTheCpuAndSteadyFramesAllocateNothing) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  ASSERT_FALSE(c.poses.empty());
  std::string err;
  auto dev = DeviceRasterizer::Create(&err);
  ASSERT_TRUE(dev) << err;
  ASSERT_TRUE(dev->SetMesh({c.face.vertices, c.face.triangles, c.face.uvs}, &err)) << err;
  ASSERT_TRUE(dev->SetTarget(kW, kH, &err)) << err;
  auto warp = DeviceFaceWarp::Create(c.face.triangles, &err);
  ASSERT_TRUE(warp) << err;
  std::vector<std::array<float, 3>> morphed = c.face.vertices;
  for (auto& v : morphed)
    if (v[1] < -2.0f) v[1] -= 0.2f * (-2.0f - v[1]);  // the jaw drops
  OwnedFrame src, frame;
  MakeFrame(PixelFormat::kNV12, c.photo, &src);
  MakeFrame(PixelFormat::kNV12, c.photo, &frame);
  DeviceFrame dsrc, dframe;
  dsrc.Upload(src);
  dframe.Upload(frame);
  const Pose& p = c.poses[2];
  auto one_frame = [&] {
    return dev->UpdatePositions(morphed, &err) && dev->Clear({0, 0, 0, 0}, &err) &&
           dev->Draw(Rotation(p), CameraFor(p), render::Material{}, render::Light{}, render::Shading::kLit, &err) &&
           dev->Composite(dframe.view, 0, 0, &err) &&
           warp->Warp(dsrc.view.view(), c.warp_source, c.warp_target, dframe.view, &err) && dev->Synchronize(&err) &&
           warp->Synchronize(&err);
  };
  ASSERT_TRUE(one_frame()) << err;  // warm-up: buffers grow
  {
    fg::testing::AllocationCount count;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(one_frame()) << err;
    EXPECT_EQ(count.Stop(), 0);
  }
  render::Rasterizer cpu;
  cpu.SetTarget(kW, kH);
  cpu.Clear({0, 0, 0, 0});
  cpu.Draw({morphed, c.face.triangles, c.face.uvs}, Rotation(p), CameraFor(p), render::Material{}, render::Light{},
           render::Shading::kLit);
  render::RgbaImage got;
  ASSERT_TRUE(dev->Download(&got, nullptr, &err)) << err;
  ExpectSameImage(cpu.image(), got, "morphed");
}

}  // namespace
}  // namespace fg
