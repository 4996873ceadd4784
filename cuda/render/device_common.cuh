// What the CUDA renderer's two classes share (device_rasterizer.cu, device_warp.cu): grow-only
// buffers and the composite launch (an RGBA panel in device memory into a device frame,
// render_stages.h CompositePackedStage / raster_kernel.h WriteYuvBlock).
//
// Threading: stateless functions; the buffers belong to their caller.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cuda/cuda_check.h"
#include "engine/draw/canvas.h"

namespace fg::cuda::render_device {

// Grow-only buffers of T: device memory, or pinned host memory (staging for async copies).
enum class Mem { kDevice, kPinned };
template <typename T>
bool Grow(Mem where, T** p, size_t* cap, size_t need, std::string* error) {
  if (need <= *cap) return true;
  if (*p) where == Mem::kDevice ? cudaFree(*p) : cudaFreeHost(*p);
  *p = nullptr, *cap = 0;
  void** vp = reinterpret_cast<void**>(p);
  if (where == Mem::kDevice)
    FG_CUDA_CHECK(cudaMalloc(vp, need * sizeof(T)), error);
  else
    FG_CUDA_CHECK(cudaMallocHost(vp, need * sizeof(T)), error);
  *cap = need;
  return true;
}
template <typename T>
void Free(Mem where, T* p) {
  if (p) where == Mem::kDevice ? cudaFree(p) : cudaFreeHost(p);
}

// WriteRgba(panel, dst, x, y) with the panel (panel_w x panel_h RGBA, rows packed) and dst's
// planes in device memory; enqueued on `stream`.
bool LaunchComposite(const uint8_t* panel, int panel_w, int panel_h, const draw::MutableImageView& dst, int x, int y,
                     cudaStream_t stream, std::string* error);

// Blocks of kThreads threads covering n.
inline constexpr int kThreads = 128;
inline unsigned Blocks(size_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

}  // namespace fg::cuda::render_device
