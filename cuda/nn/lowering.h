// The CUDA NN backend's plan, in plain host C++: which launches a Model becomes, what each
// fuses, where every tensor lives. The CUDA executor (cuda_backend.cu) and its CPU emulation
// (emulator.h) both run exactly this plan, so a test without a GPU checks the lowering, the
// fusion, the memory plan and every kernel's arithmetic (kernel.h) against TF.js.
//
//   Lower(model, input shapes):
//     - InferShapes at those shapes (batch N: Prepare with [N, H, W, C]);
//     - Reshape / Identity become aliases (no launch, the output shares the input's memory);
//     - each other node becomes one launch (kernel.h Kind); every launch but a softmax then
//       absorbs, into its epilogue (ops/epilogue.h), the nodes that only it feeds: a Relu /
//       Prelu, an Add of a same-shape tensor already computed (the residual), and a Relu /
//       Prelu after that Add. FaceMesh's "1x1 conv + AddV2 + Prelu" block tails and
//       BlazeFace's "channel Pad + AddV2 + Relu" are one launch each;
//     - every float constant a launch reads is packed into one weights blob (uploaded once);
//     - graph inputs and launch outputs get offsets in one activation arena, planned with
//       PlanBuffers (engine/nn/memory_plan.h) over the launches' own lifetimes.
//   Bind(plan, launch, arena, weights): the launch's KernelArgs with real pointers.
//
// Errors (Status) name the model file and the node. Threading: Lower is reentrant; a
// LoweredModel is immutable and shareable.
//
// Example:
//   auto lm = fg::nn::gpu::Lower(model, fg::nn::NativeInputShapes(model, 64));
//   if (!lm.ok()) return lm.status();
//   for (const auto& l : lm->launches) printf("%s\n", l.nodes.c_str());
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cuda/nn/kernel.h"
#include "engine/nn/model.h"
#include "engine/nn/status.h"

namespace fg::nn::gpu {

// Floats between buffer starts in the arena and the weights blob (256 bytes: coalescing).
inline constexpr int64_t kBufferAlignment = 64;

struct Location {
  enum Where : uint8_t { kNowhere, kArena, kWeights };
  Where where = kNowhere;
  int64_t offset = 0;  // floats from the start of the arena / weights blob
};

struct Launch {
  std::string nodes;  // "conv_3 + add_4 + prelu_5": the model nodes it runs, for errors
  KernelArgs args;    // every pointer null: Bind fills them
  int output = -1;    // tensor indices (alias roots) of what it writes and reads
  int inputs[kMaxKernelInputs] = {-1, -1, -1, -1, -1, -1, -1, -1};
  int bias = -1, alpha = -1, residual = -1, alpha2 = -1;
};

struct LoweredModel {
  std::string path;  // the model's, for messages
  std::vector<Launch> launches;
  std::vector<Location> where;  // per Model::tensors entry (an alias: its root's)
  std::vector<float> weights;   // the blob the Location::kWeights offsets point into
  int64_t arena_elements = 0;
  std::vector<Shape> input_shapes, output_shapes;
  std::vector<int> input_tensors, output_tensors;  // Model::inputs / outputs order
  int fused_nodes = 0;  // model nodes folded into another launch's epilogue
  int alias_nodes = 0;  // Reshape / Identity nodes (no launch)
};

Result<LoweredModel> Lower(const Model& model, std::span<const Shape> input_shapes);

KernelArgs Bind(const LoweredModel& plan, const Launch& launch, float* arena,
                const float* weights);

}  // namespace fg::nn::gpu
