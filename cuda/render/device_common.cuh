// What the CUDA renderer's two classes share (device_rasterizer.cu, device_warp.cu): the
// grow-only buffers of cuda/device_buffer.h and the composite launch (an RGBA panel in device memory into a device frame,
// render_stages.h CompositePackedStage / raster_kernel.h WriteYuvBlock).
//
// Threading: stateless functions; the buffers belong to their caller.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "engine/draw/canvas.h"

namespace fg::cuda::render_device {

using fg::cuda::Free;
using fg::cuda::Grow;
using fg::cuda::Mem;

// WriteRgba(panel, dst, x, y) with the panel (panel_w x panel_h RGBA, rows packed) and dst's
// planes in device memory; enqueued on `stream`.
bool LaunchComposite(const uint8_t* panel, int panel_w, int panel_h, const draw::MutableImageView& dst, int x, int y,
                     cudaStream_t stream, std::string* error);

// Blocks of kThreads threads covering n.
inline constexpr int kThreads = 128;
inline unsigned Blocks(size_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

}  // namespace fg::cuda::render_device
