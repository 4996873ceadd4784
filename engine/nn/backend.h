// The backend interface: how a Model becomes something that runs frames.
//
//   Backend::Prepare(model, input shapes)   once, at load / when the input size changes:
//        shape inference, weight packing, memory planning. May allocate, may fail (Status
//        naming the node).
//   Plan::NewContext()                      once per stream / thread: allocates the
//        activation arena and whatever per-run scratch the backend needs.
//   Plan::Run(inputs, outputs, ctx) const   per frame: no allocation, no parsing, no
//        logging. Only returns an error for caller mistakes (wrong buffer count or size).
//
// Implementations: ReferenceBackend (reference_backend.h, plain loops, the ground truth),
// the XNNPACK backend (engine/nn/xnnpack/) and the CUDA backend (cuda/nn/).
//
// Threading: a Backend is stateless and thread-safe. A Plan is immutable after Prepare;
// Run may be called concurrently from several threads provided each uses its own
// RunContext. A RunContext is thread-compatible (one per stream).
// Lifetime: the Model must outlive the Plan (plans may point into its constants); the Plan
// must outlive its contexts.
//
// Example:
//   fg::nn::ReferenceBackend backend;
//   auto plan = backend.Prepare(model, fg::nn::NativeInputShapes(model));
//   if (!plan.ok()) return plan.status();
//   auto ctx = (*plan)->NewContext();
//   std::vector<float> in(NumElements((*plan)->input_shapes()[0]));
//   std::vector<float> out(NumElements((*plan)->output_shapes()[0]));
//   fg::nn::ConstBuffer ins[] = {{in.data(), in.size()}};
//   fg::nn::MutableBuffer outs[] = {{out.data(), out.size()}};
//   fg::nn::Status s = (*plan)->Run(ins, outs, *ctx);
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/nn/model.h"
#include "engine/nn/status.h"

namespace fg::nn {

// Caller-owned float32 memory, dense row-major (NHWC) in the shape the Plan reports.
struct ConstBuffer {
  const float* data = nullptr;
  size_t count = 0;  // elements
};
struct MutableBuffer {
  float* data = nullptr;
  size_t count = 0;  // elements
};

// Per-stream state made by Plan::NewContext (arena, scratch, backend runtime objects).
// Backends derive from it; a context may only be passed to the Plan that made it.
class RunContext {
 public:
  virtual ~RunContext() = default;
};

class Plan {
 public:
  virtual ~Plan() = default;

  // Shapes fixed at Prepare, in Model::inputs / Model::outputs order.
  virtual const std::vector<Shape>& input_shapes() const = 0;
  virtual const std::vector<Shape>& output_shapes() const = 0;

  // Allocates everything Run needs for one stream. Returns null (never throws) when that
  // memory cannot be had.
  virtual std::unique_ptr<RunContext> NewContext() const = 0;

  // inputs[i] / outputs[i] correspond to Model::inputs[i] / Model::outputs[i]; each count
  // must equal NumElements of the matching shape. Outputs are fully overwritten. Inputs and
  // outputs must not overlap. Never allocates on success.
  virtual Status Run(std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs,
                     RunContext& ctx) const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "reference", "xnnpack", "cuda".
  virtual std::string_view name() const = 0;
  // input_shapes: one per Model::inputs entry, all sizes known (see NativeInputShapes).
  virtual Result<std::unique_ptr<Plan>> Prepare(const Model& model,
                                                std::span<const Shape> input_shapes) const = 0;
};

}  // namespace fg::nn
