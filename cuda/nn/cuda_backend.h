// CudaBackend ("cuda"): the TF.js graph models on an NVIDIA GPU. Plain C++ header (no CUDA
// include): engine/nn/session.cc offers it by name when the build has it (FG_HAVE_CUDA_NN).
//
//   Prepare(model, shapes)  Lower (lowering.h: launches with fused epilogues, memory plan),
//                           then every weight uploaded once into one device buffer.
//                           Fails (naming the CUDA call) when no device is present.
//   NewContext()            a stream, the device activation arena (one cudaMalloc), pinned
//                           host staging for the inputs and outputs.
//   Run(in, out, ctx)       host inputs -> pinned staging; the first Run captures the whole
//                           model (input copies, one launch per lowered step, output copies)
//                           into a CUDA graph on the context's stream; every Run replays it
//                           (cudaGraphLaunch), waits, and copies pinned staging -> host
//                           outputs. Nothing is allocated after the first Run.
// Batch N: Prepare with [N, H, W, C]; the graph is specific to the prepared shapes.
// Kernels: cuda_backend.cu, one template per kernel.h Kind around the FG_HD element functions
// in cuda/nn/ops/ (the code tests/cuda_nn emulates on the CPU). No cuDNN yet.
// Errors name the CUDA call, the model file and the node (the launch).
//
// Threading: as backend.h; each context has its own stream and graph. The device is the
// calling thread's current one at Prepare; contexts and runs must use that device.
//
// Example:
//   fg::nn::gpu::CudaBackend cuda;
//   auto plan = cuda.Prepare(model, fg::nn::NativeInputShapes(model, 64));
#pragma once

#include <cstdint>
#include <string>

#include "engine/nn/backend.h"

namespace fg::nn::gpu {

class CudaBackend final : public Backend {
 public:
  std::string_view name() const override { return "cuda"; }
  Result<std::unique_ptr<Plan>> Prepare(const Model& model,
                                        std::span<const Shape> input_shapes) const override;
};

// Devices the CUDA runtime sees (0 when there is none or no driver).
int CudaDeviceCount();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)" for the current device; "" without one.
std::string CudaDeviceDescription();
// Device and pinned-host allocations the backend made so far (every cudaMalloc /
// cudaMallocHost goes through one counting wrapper): the no-allocation-per-Run tests.
int64_t CudaAllocationCount();

}  // namespace fg::nn::gpu
