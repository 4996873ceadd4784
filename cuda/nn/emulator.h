// EmulatedCudaBackend ("cuda-emulated"): the CUDA backend's plan (lowering.h) run on the host,
// each launch emulated by calling its kernel's per-element function (kernel.h EvalElement)
// for every index of its grid, in launch order, on a host arena laid out by the same memory
// plan. It is how the CUDA backend's lowering, fusion, memory plan and arithmetic are tested
// without a GPU (tests/cuda_nn); it is not a fast CPU backend.
//
// What it does not emulate: concurrency inside a launch (every kernel computes each output
// from inputs no launch element writes, so order inside a launch cannot matter), device
// expf / FMA contraction (covered by the stated tolerance), CUDA graphs and copies.
//
// Threading: as backend.h. Example:
//   fg::nn::gpu::EmulatedCudaBackend emu;
//   auto plan = emu.Prepare(model, fg::nn::NativeInputShapes(model, 1));
#pragma once

#include "cuda/nn/lowering.h"
#include "engine/nn/backend.h"

namespace fg::nn::gpu {

class EmulatedCudaBackend final : public Backend {
 public:
  std::string_view name() const override { return "cuda-emulated"; }
  Result<std::unique_ptr<Plan>> Prepare(const Model& model,
                                        std::span<const Shape> input_shapes) const override;
};

// The lowering behind a plan this backend made (null for another backend's plan): lets tests
// check what was fused and how large the arena is.
const LoweredModel* GetLoweredModel(const Plan& plan);

// Checks the Run arguments against the plan's shapes; the message names the model and the
// offending input or output. Shared by the emulated and the real CUDA plans.
Status CheckRunBuffers(const Model& model, const LoweredModel& lm,
                       std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs);

}  // namespace fg::nn::gpu
