// ReferenceBackend: the ground-truth backend. Plain loops from engine/nn/ops/, one op per
// file, no SIMD, no threads; every other backend is tested against it.
//
// Prepare: InferShapes, per-node kernel arguments, an activation memory plan
// (memory_plan.h). NewContext: allocates the arena (one block) and the pointer table.
// Run: binds the caller's inputs, runs the nodes in order, copies the outputs out; it
// allocates nothing.
//
// Threading: see backend.h (one RunContext per concurrent caller).
//
// Example:
//   fg::nn::ReferenceBackend ref;
//   auto plan = ref.Prepare(model, fg::nn::NativeInputShapes(model, /*batch=*/1));
#pragma once

#include "engine/nn/backend.h"

namespace fg::nn {

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }
  Result<std::unique_ptr<Plan>> Prepare(const Model& model,
                                        std::span<const Shape> input_shapes) const override;
};

}  // namespace fg::nn
