// stgraph_cuda_bench: the STGraph triangle sampling of every face of a 640x480 frame, the CUDA
// sampler's one launch (cuda/vitals/stgraph_sampler.h) against FaceSTGraph::SampleTriangles on
// one CPU core, in the same run, for 1, 4 and 16 faces, in RGB and NV12.
//
// Frame: the astronaut photo at x 64, rows 0..479; faces: FaceTracker's mesh of it, copied
// on a grid (1 face: as tracked; 4: 2x2 at half size; 16: 4x4 at quarter size, so the pixels
// sampled per frame stay about the same). Per frame, medians over --frames frames:
//   cpu        SampleTriangles for each face, one thread
//   gpu host   StgraphSampler::Sample: frame upload + landmarks up + one launch + results down
//   gpu dev    StgraphSampler::SampleDeviceFrame on a frame already on the device
//
//   stgraph_cuda_bench [--frames=N]   (default 300)
// Without a CUDA device it prints "stgraph_cuda_bench: no CUDA device: <reason>" and exits 77
// (nothing measured; the "skipped" status, as cuda_nn_bench); 1 is a real failure (models,
// tracker, CUDA error).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "cuda/vitals/stgraph_sampler.h"
#include "engine/face.h"
#include "engine/geometry/canonical_face.h"
#include "engine/graph/latency.h"
#include "engine/io/png.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/stgraph.h"
#include "tests/test_paths.h"

namespace {

constexpr int kW = 640, kH = 480, kOffX = 64;

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "stgraph_cuda_bench: %s\n", what.c_str());
  return 1;
}

// n faces (1, 4 or 16) copied from `face` onto a sqrt(n) x sqrt(n) grid over the frame.
std::vector<fg::cuda::StgraphSampler::Landmarks> Tile(const std::vector<std::array<float, 3>>& face, int n) {
  const int side = n == 1 ? 1 : (n == 4 ? 2 : 4);
  float mx = 0, my = 0;
  for (int i = 0; i < fg::kMeshLandmarks; ++i) mx += face[i][0] / fg::kMeshLandmarks, my += face[i][1] / fg::kMeshLandmarks;
  std::vector<fg::cuda::StgraphSampler::Landmarks> out;
  for (int gy = 0; gy < side; ++gy)
    for (int gx = 0; gx < side; ++gx) {
      const float cx = side == 1 ? mx : kW * (gx + 0.5f) / side, cy = side == 1 ? my : kH * (gy + 0.5f) / side;
      fg::cuda::StgraphSampler::Landmarks lm(face.begin(), face.begin() + fg::kMeshLandmarks);
      for (auto& p : lm) p = {cx + (p[0] - mx) / side, cy + (p[1] - my) / side, p[2] / side};
      out.push_back(std::move(lm));
    }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 300;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--frames=", 9) == 0) frames = std::max(10, std::atoi(argv[i] + 9));
  std::string why;
  if (fg::cuda::StgraphSampler::DeviceCount(&why) == 0) {
    std::printf("stgraph_cuda_bench: no CUDA device: %s; nothing measured\n", why.c_str());
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::string err;
  auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
  if (!canonical) return Fail(err);
  auto graph = fg::FaceSTGraph::Create(*canonical, &err);
  if (!graph) return Fail(err);
  fg::RgbImage img;
  if (auto e = fg::ReadPngRgb(fg::testing::AstronautPath(), &img)) return Fail(*e);
  std::vector<uint8_t> rgb(kW * kH * 3, 90);
  for (int y = 0; y < kH && y < img.height; ++y)
    for (int x = 0; x < img.width && x + kOffX < kW; ++x)
      std::memcpy(&rgb[3 * (y * kW + x + kOffX)], &img.pixels[3 * (y * img.width + x)], 3);
  // NV12 by BT.601 limited range (chroma from each 2x2 block's top-left pixel).
  std::vector<uint8_t> nv12(kW * kH * 3 / 2);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const uint8_t* p = &rgb[3 * (y * kW + x)];
      nv12[y * kW + x] = static_cast<uint8_t>(16.5 + (65.738 * p[0] + 129.057 * p[1] + 25.064 * p[2]) / 256);
      if (x % 2 == 0 && y % 2 == 0) {
        uint8_t* uv = &nv12[kW * kH + (y / 2) * kW + x];
        uv[0] = static_cast<uint8_t>(128.5 + (-37.945 * p[0] - 74.494 * p[1] + 112.439 * p[2]) / 256);
        uv[1] = static_cast<uint8_t>(128.5 + (112.439 * p[0] - 94.154 * p[1] - 18.285 * p[2]) / 256);
      }
    }
  fg::ImageView views[2];
  if (auto e = fg::ImageView::Wrap(fg::PixelFormat::kRGB, kW, kH, {rgb.data()}, {3 * kW}, &views[0])) return Fail(*e);
  if (auto e = fg::ImageView::Wrap(fg::PixelFormat::kNV12, kW, kH, {nv12.data(), nv12.data() + kW * kH}, {kW, kW},
                                   &views[1]))
    return Fail(*e);

  fg::TrackerOptions to;
  to.models_dir = models;
  to.async_detect = false;
  auto tracker = fg::FaceTracker::Create(to, &err);
  if (!tracker) return Fail(err);
  const fg::FrameFaces ff = tracker->Process(views[0], 0);
  if (ff.faces.size() != 1 || ff.faces[0].landmarks.size() < static_cast<size_t>(fg::kMeshLandmarks))
    return Fail("the tracker found no face in the astronaut frame");

  auto sampler = fg::cuda::StgraphSampler::Create(graph->triangles(), 16, &err);
  if (!sampler) return Fail(err);
  std::printf("stgraph_cuda_bench: %s, 640x480, %d triangles a face, %d frames a row; ms per frame (median / p90)\n",
              prop.name, graph->num_triangles(), frames);
  std::printf("  %-5s %5s  %17s  %17s  %17s  %8s\n", "fmt", "faces", "cpu (1 core)", "gpu host frame", "gpu device frame",
              "cpu/gpu");
  for (const fg::ImageView& host : views) {
    // The same frame on the device, for SampleDeviceFrame.
    const size_t bytes = host.format == fg::PixelFormat::kRGB ? rgb.size() : nv12.size();
    uint8_t* dev = nullptr;
    if (cudaMalloc(reinterpret_cast<void**>(&dev), bytes) != cudaSuccess) return Fail("cudaMalloc of the frame failed");
    cudaMemcpy(dev, host.planes[0], bytes, cudaMemcpyHostToDevice);
    fg::ImageView dv = host;
    dv.planes[0] = dev;
    if (host.format == fg::PixelFormat::kNV12) dv.planes[1] = dev + kW * kH;
    for (int n : {1, 4, 16}) {
      const auto faces = Tile(ff.faces[0].landmarks, n);
      std::vector<fg::TriangleSamples> cpu_out(faces.size()), gpu_out;
      std::vector<double> cpu, gpu_host, gpu_dev;
      for (int i = 0; i < frames + 10; ++i) {  // the first 10 of each are warm-up
        auto t0 = std::chrono::steady_clock::now();
        for (size_t k = 0; k < faces.size(); ++k) graph->SampleTriangles(host, faces[k], &cpu_out[k]);
        const double c = Ms(t0);
        t0 = std::chrono::steady_clock::now();
        if (!sampler->Sample(host, faces, &gpu_out, &err)) return Fail(err);
        const double g = Ms(t0);
        t0 = std::chrono::steady_clock::now();
        if (!sampler->SampleDeviceFrame(dv, faces, &gpu_out, &err)) return Fail(err);
        const double d = Ms(t0);
        if (i >= 10) cpu.push_back(c), gpu_host.push_back(g), gpu_dev.push_back(d);
      }
      for (size_t k = 0; k < faces.size(); ++k)
        if (gpu_out[k].pixels != cpu_out[k].pixels) return Fail("GPU and CPU pixel counts differ (run cuda_vitals_gpu_test)");
      std::printf("  %-5s %5d  %7.3f / %7.3f  %7.3f / %7.3f  %7.3f / %7.3f  %7.1fx\n",
                  std::string(fg::PixelFormatName(host.format)).c_str(), n, fg::Percentile(cpu, 0.5),
                  fg::Percentile(cpu, 0.9), fg::Percentile(gpu_host, 0.5), fg::Percentile(gpu_host, 0.9),
                  fg::Percentile(gpu_dev, 0.5), fg::Percentile(gpu_dev, 0.9),
                  fg::Percentile(cpu, 0.5) / fg::Percentile(gpu_host, 0.5));
    }
    cudaFree(dev);
  }
  return 0;
}
