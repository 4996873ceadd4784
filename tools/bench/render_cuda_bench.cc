// render_cuda_bench: the CUDA renderer (cuda/render) against the CPU renderer at 640x480, in
// the same run, RGB and NV12 frames.
//
// Frame: the astronaut photo centred in 640x480 (as render_bench). Cases, medians / p90 over
// --frames frames after 10 warm-up frames:
//   render   the canonical face (468 vertices, 898 triangles), lit, turned 20 degrees,
//            rasterized into a 640x480 panel (replace layout) and composited into the frame.
//            cpu: Rasterizer Clear + Draw + WriteRgba, one thread; gpu: DeviceRasterizer
//            Clear + Draw + Composite into the frame in device memory, then Synchronize
//   warp     one face re-rendered by the piecewise-affine warp, the canonical face at 11 px/cm
//            over hers and a displaced target (mouth open, sideways shift with depth).
//            cpu: FrameCopy + FaceWarp::Warp; gpu: device-to-device frame copy (the source)
//            + DeviceFaceWarp::Warp + Synchronize
// Both GPU paths keep the frame on the device; the first result of each case is compared with
// the CPU's (the bench fails on a difference: run cuda_render_gpu_test).
//
//   render_cuda_bench [--frames=N]   (default 300)
// Without a CUDA device it prints "render_cuda_bench: no CUDA device: <reason>" and exits 77
// (nothing measured; the "skipped" status, as stgraph_cuda_bench); 1 is a real failure.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/render/device_rasterizer.h"
#include "cuda/render/device_warp.h"
#include "engine/geometry/canonical_face.h"
#include "engine/graph/latency.h"
#include "engine/io/png.h"
#include "engine/render/rasterizer.h"
#include "engine/render/warp.h"
#include "engine/tracking/head_pose.h"
#include "tests/test_paths.h"

namespace {

constexpr int kW = 640, kH = 480;

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "render_cuda_bench: %s\n", what.c_str());
  return 1;
}

// A frame of `format` in host memory and a device twin (same strides).
struct Frame {
  std::array<std::vector<uint8_t>, 3> planes;
  fg::draw::MutableImageView host, dev;
  std::array<uint8_t*, 3> dev_planes{};
  size_t bytes(int p) const { return planes[p].size(); }
  ~Frame() {
    for (uint8_t* p : dev_planes)
      if (p) cudaFree(p);
  }
};

bool MakeFrame(fg::PixelFormat format, const fg::RgbImage& rgb, Frame* f, std::string* err) {
  std::array<uint8_t*, 3> ptrs{};
  std::array<int, 3> strides{};
  for (int p = 0; p < fg::PlaneCount(format); ++p) {
    strides[p] = fg::ImageView::MinStride(format, kW, p);
    f->planes[p].resize(static_cast<size_t>(strides[p]) * fg::ImageView::PlaneRows(format, kH, p));
    ptrs[p] = f->planes[p].data();
  }
  if (auto e = fg::draw::MutableImageView::Wrap(format, kW, kH, ptrs, strides, &f->host)) return *err = *e, false;
  fg::render::RgbaImage img;
  img.Resize(kW, kH);
  for (int i = 0; i < kW * kH; ++i) {
    std::memcpy(&img.px[4 * i], &rgb.pixels[3 * i], 3);
    img.px[4 * i + 3] = 255;
  }
  fg::render::WriteRgba(img, f->host, 0, 0);
  f->dev = f->host;
  for (int p = 0; p < fg::PlaneCount(format); ++p) {
    if (cudaMalloc(reinterpret_cast<void**>(&f->dev_planes[p]), f->bytes(p)) != cudaSuccess)
      return *err = "cudaMalloc of a frame plane failed", false;
    f->dev.planes[p] = f->dev_planes[p];
  }
  return true;
}

bool Upload(const Frame& from, Frame* to) {
  for (int p = 0; p < fg::PlaneCount(from.host.format); ++p)
    if (cudaMemcpy(to->dev_planes[p], from.planes[p].data(), from.bytes(p), cudaMemcpyHostToDevice) != cudaSuccess)
      return false;
  return true;
}
bool SameAsDevice(const Frame& f) {
  for (int p = 0; p < fg::PlaneCount(f.host.format); ++p) {
    std::vector<uint8_t> got(f.bytes(p));
    if (cudaMemcpy(got.data(), f.dev_planes[p], got.size(), cudaMemcpyDeviceToHost) != cudaSuccess) return false;
    if (got != f.planes[p]) return false;
  }
  return true;
}

void Row(const char* what, const char* fmt, const std::vector<double>& cpu, const std::vector<double>& gpu) {
  std::printf("  %-7s %-5s  %7.3f / %7.3f  %7.3f / %7.3f  %7.1fx\n", what, fmt, fg::Percentile(cpu, 0.5),
              fg::Percentile(cpu, 0.9), fg::Percentile(gpu, 0.5), fg::Percentile(gpu, 0.9),
              fg::Percentile(cpu, 0.5) / fg::Percentile(gpu, 0.5));
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 300;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--frames=", 9) == 0) frames = std::max(10, std::atoi(argv[i] + 9));
  std::string why;
  if (fg::cuda::DeviceRasterizer::DeviceCount(&why) == 0) {
    std::printf("render_cuda_bench: no CUDA device: %s; nothing measured\n", why.c_str());
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::string err;
  auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
  if (!canonical) return Fail(err);
  fg::RgbImage photo;
  if (auto e = fg::ReadPngRgb(fg::testing::AstronautPath(), &photo)) return Fail(*e);
  fg::RgbImage rgb;
  rgb.width = kW, rgb.height = kH;
  rgb.pixels.assign(kW * kH * 3, 40);
  for (int y = 0; y < kH && y + 16 < photo.height; ++y)
    std::memcpy(&rgb.pixels[(y * kW + 64) * 3], &photo.pixels[(y + 16) * photo.width * 3], photo.width * 3);

  // Render: the avatar panel fills the frame (replace layout).
  const auto& mesh = canonical->vertices;
  const Eigen::Matrix3f rot = fg::YawPitchRollToRotation(20, 0, 0);
  const fg::render::Camera cam = fg::render::Camera::Fit(mesh, kW, kH, 0.9f);
  auto dev = fg::cuda::DeviceRasterizer::Create(&err);
  if (!dev || !dev->SetMesh({mesh, canonical->triangles, canonical->uvs}, &err) || !dev->SetTarget(kW, kH, &err))
    return Fail(err);
  fg::render::Rasterizer cpu;
  cpu.SetTarget(kW, kH);
  // Warp: the canonical face over hers (photo (225, 125) -> frame (289, 109)), displaced.
  std::vector<std::array<float, 3>> source, target;
  for (const auto& v : mesh) {
    const std::array<float, 3> s{289.f + 11.f * v[0], 109.f - 11.f * v[1], -11.f * v[2]};
    std::array<float, 3> t = s;
    if (v[1] < -2.0f) t[1] += 1.5f * (-2.0f - v[1]);
    t[0] += 0.45f * s[2];
    source.push_back(s), target.push_back(t);
  }
  fg::render::FaceWarp cpu_warp(canonical->triangles);
  auto dev_warp = fg::cuda::DeviceFaceWarp::Create(canonical->triangles, &err);
  if (!dev_warp) return Fail(err);
  fg::render::FrameCopy copy;

  std::printf("render_cuda_bench: %s, 640x480, %zu triangles, %d frames a row; ms per frame (median / p90)\n",
              prop.name, canonical->triangles.size(), frames);
  std::printf("  %-7s %-5s  %17s  %17s  %8s\n", "case", "fmt", "cpu (1 core)", "gpu (device frame)", "cpu/gpu");
  for (fg::PixelFormat format : {fg::PixelFormat::kRGB, fg::PixelFormat::kNV12}) {
    const std::string fmt(fg::PixelFormatName(format));
    Frame clean, frame, src;
    if (!MakeFrame(format, rgb, &clean, &err) || !MakeFrame(format, rgb, &frame, &err) ||
        !MakeFrame(format, rgb, &src, &err))
      return Fail(err);
    if (!Upload(clean, &clean)) return Fail("frame upload failed");
    std::vector<double> c_ms, g_ms;
    for (int i = 0; i < frames + 10; ++i) {
      frame.planes = clean.planes;  // same sizes: no allocation
      auto t0 = std::chrono::steady_clock::now();
      cpu.Clear({20, 20, 30, 255});
      cpu.Draw({mesh, canonical->triangles, canonical->uvs}, rot, cam, fg::render::Material{}, fg::render::Light{},
               fg::render::Shading::kLit);
      fg::render::WriteRgba(cpu.image(), frame.host, 0, 0);
      const double c = Ms(t0);
      for (int p = 0; p < fg::PlaneCount(format); ++p)
        cudaMemcpy(frame.dev_planes[p], clean.dev_planes[p], frame.bytes(p), cudaMemcpyDeviceToDevice);
      t0 = std::chrono::steady_clock::now();
      if (!dev->Clear({20, 20, 30, 255}, &err) ||
          !dev->Draw(rot, cam, fg::render::Material{}, fg::render::Light{}, fg::render::Shading::kLit, &err) ||
          !dev->Composite(frame.dev, 0, 0, &err) || !dev->Synchronize(&err))
        return Fail(err);
      const double g = Ms(t0);
      if (i == 0 && !SameAsDevice(frame)) return Fail("render: GPU and CPU frames differ (run cuda_render_gpu_test)");
      if (i >= 10) c_ms.push_back(c), g_ms.push_back(g);
    }
    Row("render", fmt.c_str(), c_ms, g_ms);
    c_ms.clear(), g_ms.clear();
    for (int i = 0; i < frames + 10; ++i) {
      frame.planes = clean.planes;
      auto t0 = std::chrono::steady_clock::now();
      copy.Assign(frame.host.view());
      cpu_warp.Warp(copy.view(), source, target, frame.host);
      const double c = Ms(t0);
      for (int p = 0; p < fg::PlaneCount(format); ++p)
        cudaMemcpy(frame.dev_planes[p], clean.dev_planes[p], frame.bytes(p), cudaMemcpyDeviceToDevice);
      t0 = std::chrono::steady_clock::now();
      for (int p = 0; p < fg::PlaneCount(format); ++p)  // the warp's source: a device copy of the frame
        cudaMemcpyAsync(src.dev_planes[p], frame.dev_planes[p], frame.bytes(p), cudaMemcpyDeviceToDevice, nullptr);
      cudaStreamSynchronize(nullptr);
      if (!dev_warp->Warp(src.dev.view(), source, target, frame.dev, &err) || !dev_warp->Synchronize(&err))
        return Fail(err);
      const double g = Ms(t0);
      if (i == 0 && !SameAsDevice(frame)) return Fail("warp: GPU and CPU frames differ (run cuda_render_gpu_test)");
      if (i >= 10) c_ms.push_back(c), g_ms.push_back(g);
    }
    Row("warp", fmt.c_str(), c_ms, g_ms);
  }
  return 0;
}
