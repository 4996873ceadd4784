// Activation memory planning: one arena per context, buffers reused between tensors whose
// lifetimes do not overlap. Shared by every backend that manages its own activations.
//
// Greedy by size (largest first), each buffer at the lowest aligned offset that does not
// collide with an already placed buffer alive at the same time (TFLite's "simple planner").
// Lifetimes are in node positions: a tensor produced by step i and last read by step j
// lives over [i, j]; graph outputs live to the end.
//
// Threading: free functions, reentrant. Allocates (prepare time only).
//
// Example:
//   ActivationPlan p = PlanActivations(model, shapes, /*alignment=*/16);
//   std::vector<float> arena(p.arena_elements);
//   float* t = arena.data() + p.offsets[tensor];   // p.offsets[t] < 0: not in the arena
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/nn/model.h"

namespace fg::nn {

struct BufferRequest {
  int64_t size = 0;   // elements
  int first_use = 0;  // inclusive
  int last_use = 0;   // inclusive
};

// Offsets (elements, multiples of alignment) for each request; *arena_size gets the total.
std::vector<int64_t> PlanBuffers(std::span<const BufferRequest> requests, int64_t alignment,
                                 int64_t* arena_size);

struct ActivationPlan {
  std::vector<int64_t> offsets;  // per Model::tensors entry; -1 for constants and graph inputs
  int64_t arena_elements = 0;
};

// Plans every node output of `model` at the given tensor shapes (from InferShapes).
ActivationPlan PlanActivations(const Model& model, std::span<const Shape> shapes,
                               int64_t alignment);

}  // namespace fg::nn
