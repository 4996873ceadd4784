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
// in cuda/nn/ops/ (the code tests/cuda_nn emulates on the CPU).
// cuDNN (cudnn_conv.h; UNVERIFIED until it has run on a GPU, docs/gpu.md): a convolution
// layer may run on cuDNN instead, chosen per layer at Prepare (CudaOptions). In kAuto (the
// default) Prepare runs the model once on a synthetic input and, for each convolution cuDNN
// supports, times the own kernel and cuDNN (5 runs each after a warm-up, CUDA events) and
// compares their outputs: cuDNN is used where it agrees within 1e-4 x max|own| and is faster.
// A padding cuDNN cannot express (TF's asymmetric SAME) goes through an explicit pad launch
// first (kernel.h ExplicitPadding).
// The choices and timings are GetCudnnReport(plan); they are cached per process (model path,
// shapes, layer), so the next Prepare of the same model costs no tuning.
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
#include <vector>
#include <utility>

#include "engine/nn/backend.h"

namespace fg::nn::gpu {

// Which convolution layers run on cuDNN.
enum class CudnnMode {
  kOff,   // the own kernels everywhere
  kAuto,  // per layer, the faster of the two where they agree (see above)
  kOn,    // cuDNN for every layer it supports (the tests of the cuDNN path)
};

struct CudaOptions {
  CudnnMode cudnn = CudnnMode::kAuto;
  // When not empty: exactly these layers on cuDNN (a launch's first node name, e.g. "conv2d_3"),
  // the others on the own kernels; overrides `cudnn`.
  std::vector<std::string> cudnn_layers;
  // $FG_CUDNN = off | auto | on (unset or empty: auto; any other value: off),
  // $FG_CUDNN_LAYERS = name,name,...
  static CudaOptions FromEnvironment();
};

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(CudaOptions options = CudaOptions::FromEnvironment())
      : options_(std::move(options)) {}
  std::string_view name() const override { return "cuda"; }
  Result<std::unique_ptr<Plan>> Prepare(const Model& model,
                                        std::span<const Shape> input_shapes) const override;

 private:
  CudaOptions options_;
};

// One convolution launch's cuDNN decision at Prepare.
struct CudnnLayer {
  std::string nodes;      // the launch ("conv2d_3 + add_4 + prelu_5")
  std::string kind;       // "conv2d" or "depthwise"
  bool cudnn = false;     // runs on cuDNN
  double own_ms = 0;      // per run, the own kernel with its fused epilogue (0: not timed)
  double cudnn_ms = 0;    // per run, cuDNN + the epilogue kernel (0: not timed)
  double max_diff = 0;    // max |cuDNN - own| over the layer's output
  double max_ref = 0;     // max |own|
  std::string algorithm;  // cuDNN's, when tuned
  std::string note;       // why not cuDNN, or how it was chosen
};
struct CudnnReport {
  std::string status;  // "cuDNN 9.19.0, auto: 12 of 40 layers", or why cuDNN is not used
  std::vector<CudnnLayer> layers;
};
// The cuDNN decisions of a plan this backend made (null for another backend's plan).
const CudnnReport* GetCudnnReport(const Plan& plan);

// Devices the CUDA runtime sees (0 when there is none or no driver).
int CudaDeviceCount();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)" for the current device; "" without one.
std::string CudaDeviceDescription();
// Device and pinned-host allocations the backend made so far (every cudaMalloc /
// cudaMallocHost goes through one counting wrapper): the no-allocation-per-Run tests.
int64_t CudaAllocationCount();

}  // namespace fg::nn::gpu
