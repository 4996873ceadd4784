// DeviceFaceWarp (device_warp.h): the kernels are thin wrappers over render_stages.h;
// everything else here is buffers and launches.
#include "cuda/render/device_warp.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "cuda/cuda_check.h"
#include "cuda/render/device_common.cuh"
#include "cuda/render/render_stages.h"

namespace fg::cuda {

namespace {

namespace rk = render::raster_kernel;
namespace rs = render_stages;
using render_device::Blocks;
using render_device::Grow;
using render_device::kThreads;
using render_device::Mem;

__global__ void WarpTriangleKernel(const int* __restrict__ triangles, const rk::V3* __restrict__ target, int bx,
                                   int by, int bw, int bh, rs::DrawTri* out, int nt) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (t < nt) rs::WarpTriangleStage(t, triangles, target, bx, by, bw, bh, out);
}

// Pass 1, as DeviceRasterizer's (render_stages.h DepthStage), key = the triangle's number.
__global__ void __launch_bounds__(rk::kLanes * rk::kTrianglesPerBlock)
    WarpDepthKernel(const rs::DrawTri* __restrict__ tris, int nt, int bw, uint64_t* keys) {
  unsigned long long* k = reinterpret_cast<unsigned long long*>(keys);
  rs::DepthStage(static_cast<int>(blockIdx.x), static_cast<int>(threadIdx.x), tris, nt, 0, bw,
                 [k](size_t p, uint64_t key) { atomicMin(k + p, static_cast<unsigned long long>(key)); });
}

template <PixelFormat F>
__global__ void WarpResolveKernel(int bw, int bh, const uint64_t* __restrict__ keys, const rs::DrawTri* __restrict__ tris,
                                  const rk::V3* __restrict__ source, ImageView src, uint8_t* scratch) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y);
  if (x < bw && y < bh) rs::WarpResolveStage<F>(x, y, bw, keys, tris, source, src, scratch);
}

template <PixelFormat F>
void Resolve(int bw, int bh, const uint64_t* keys, const rs::DrawTri* tris, const rk::V3* source, const ImageView& src,
             uint8_t* scratch, cudaStream_t stream) {
  const dim3 grid(Blocks(bw), static_cast<unsigned>(bh));
  WarpResolveKernel<F><<<grid, kThreads, 0, stream>>>(bw, bh, keys, tris, source, src, scratch);
}

}  // namespace

struct DeviceFaceWarp::Impl {
  cudaStream_t stream = nullptr;
  cudaEvent_t staged = nullptr;  // the last upload from h_lm has been read
  int nt = 0;
  int max_index = -1;  // INT_MAX when an index is negative: nothing is ever drawn
  int* d_tris = nullptr;
  rs::DrawTri* d_drawtris = nullptr;
  rk::V3* d_lm = nullptr;  // source then target landmarks
  rk::V3* h_lm = nullptr;  // pinned staging of the same
  uint64_t* d_keys = nullptr;
  uint8_t* d_scratch = nullptr;
  size_t lm_cap = 0, h_lm_cap = 0, keys_cap = 0, scratch_cap = 0;

  ~Impl() {
    if (stream) cudaStreamSynchronize(stream);  // nothing queued may still use the buffers
    if (d_tris) cudaFree(d_tris);
    if (d_drawtris) cudaFree(d_drawtris);
    if (d_lm) cudaFree(d_lm);
    if (d_keys) cudaFree(d_keys);
    if (d_scratch) cudaFree(d_scratch);
    if (h_lm) cudaFreeHost(h_lm);
    if (staged) cudaEventDestroy(staged);
    if (stream) cudaStreamDestroy(stream);
  }
};

DeviceFaceWarp::DeviceFaceWarp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceFaceWarp::~DeviceFaceWarp() = default;

std::unique_ptr<DeviceFaceWarp> DeviceFaceWarp::Create(const std::vector<std::array<int, 3>>& triangles,
                                                       std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->nt = static_cast<int>(triangles.size());
  for (const auto& t : triangles) {
    impl->max_index = std::max({impl->max_index, t[0], t[1], t[2]});
    if (std::min({t[0], t[1], t[2]}) < 0) {
      if (error)
        *error = "DeviceFaceWarp: triangle " + std::to_string(&t - triangles.data()) + " has a negative index";
      return nullptr;
    }
  }
  auto init = [&]() -> bool {
    FG_CUDA_CHECK(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking), error);
    FG_CUDA_CHECK(cudaEventCreateWithFlags(&impl->staged, cudaEventDisableTiming), error);
    FG_CUDA_CHECK(cudaEventRecord(impl->staged, impl->stream), error);
    if (impl->nt == 0) return true;
    FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&impl->d_tris), triangles.size() * 3 * sizeof(int)), error);
    FG_CUDA_CHECK(cudaMemcpy(impl->d_tris, triangles.data(), triangles.size() * 3 * sizeof(int), cudaMemcpyHostToDevice),
                  error);
    FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&impl->d_drawtris), triangles.size() * sizeof(rs::DrawTri)), error);
    return true;
  };
  if (!init()) return nullptr;
  return std::unique_ptr<DeviceFaceWarp>(new DeviceFaceWarp(std::move(impl)));
}

bool DeviceFaceWarp::Warp(const ImageView& device_src, std::span<const std::array<float, 3>> source,
                          std::span<const std::array<float, 3>> target, const draw::MutableImageView& device_dst,
                          std::string* error) {
  Impl& m = *impl_;
  // FaceWarp::Warp's refusals: nothing drawn.
  if (source.size() != target.size() || m.max_index < 0 || static_cast<size_t>(m.max_index) >= source.size())
    return true;
  if (device_src.width != device_dst.width || device_src.height != device_dst.height) return true;
  rk::Box box;
  if (!rk::WarpBox(target.data(), target.size(), device_dst.width, device_dst.height, &box)) return true;
  const int bw = box.x1 - box.x0, bh = box.y1 - box.y0;
  const size_t n = source.size(), pixels = static_cast<size_t>(bw) * bh;
  if (!Grow(Mem::kDevice, &m.d_lm, &m.lm_cap, 2 * n, m.stream, error) || !Grow(Mem::kPinned, &m.h_lm, &m.h_lm_cap, 2 * n, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_keys, &m.keys_cap, pixels, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_scratch, &m.scratch_cap, 4 * pixels, m.stream, error))
    return false;
  FG_CUDA_CHECK(cudaEventSynchronize(m.staged), error);  // the previous upload has left h_lm
  std::memcpy(m.h_lm, source.data(), n * sizeof(rk::V3));
  std::memcpy(m.h_lm + n, target.data(), n * sizeof(rk::V3));
  FG_CUDA_CHECK(cudaMemcpyAsync(m.d_lm, m.h_lm, 2 * n * sizeof(rk::V3), cudaMemcpyHostToDevice, m.stream), error);
  FG_CUDA_CHECK(cudaEventRecord(m.staged, m.stream), error);
  FG_CUDA_CHECK(cudaMemsetAsync(m.d_keys, 0xff, pixels * sizeof(uint64_t), m.stream), error);  // kEmptyKey
  WarpTriangleKernel<<<Blocks(m.nt), kThreads, 0, m.stream>>>(m.d_tris, m.d_lm + n, box.x0, box.y0, bw, bh,
                                                              m.d_drawtris, m.nt);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  const unsigned depth_blocks = static_cast<unsigned>(rs::DepthBlocks(m.nt));
  WarpDepthKernel<<<depth_blocks, rk::kLanes * rk::kTrianglesPerBlock, 0, m.stream>>>(m.d_drawtris, m.nt, bw, m.d_keys);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  const rk::V3* src_lm = m.d_lm;
  VisitPixelFormat(device_src.format, [&]<PixelFormat F>() { Resolve<F>(bw, bh, m.d_keys, m.d_drawtris, src_lm, device_src, m.d_scratch, m.stream); });
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  return render_device::LaunchComposite(m.d_scratch, bw, bh, device_dst, box.x0, box.y0, m.stream, error);
}

bool DeviceFaceWarp::Synchronize(std::string* error) {
  FG_CUDA_CHECK(cudaStreamSynchronize(impl_->stream), error);
  return true;
}

}  // namespace fg::cuda
