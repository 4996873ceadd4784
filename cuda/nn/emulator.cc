#include "cuda/nn/emulator.h"

#include <algorithm>
#include <new>

namespace fg::nn::gpu {
namespace {

class EmulatedContext final : public RunContext {
 public:
  const void* owner = nullptr;
  std::vector<float> arena;
  std::vector<KernelArgs> launches;  // bound to `arena` and the plan's weights
};

class EmulatedPlan final : public Plan {
 public:
  EmulatedPlan(const Model& model, LoweredModel lm) : model_(model), lm_(std::move(lm)) {}

  const std::vector<Shape>& input_shapes() const override { return lm_.input_shapes; }
  const std::vector<Shape>& output_shapes() const override { return lm_.output_shapes; }
  const LoweredModel& lowered() const { return lm_; }

  std::unique_ptr<RunContext> NewContext() const override {
    try {
      auto ctx = std::make_unique<EmulatedContext>();
      ctx->owner = this;
      ctx->arena.assign(size_t(lm_.arena_elements), 0.0f);
      for (const Launch& l : lm_.launches)
        ctx->launches.push_back(Bind(lm_, l, ctx->arena.data(), lm_.weights.data()));
      return ctx;
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }

  Status Run(std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs,
             RunContext& base) const override {
    auto* ctx = dynamic_cast<EmulatedContext*>(&base);
    if (!ctx || ctx->owner != this)
      return Status::Error(model_.path + ": RunContext was made by another plan");
    if (Status s = CheckRunBuffers(model_, lm_, inputs, outputs); !s.ok()) return s;
    // Host -> arena (the CUDA executor's input copies).
    for (size_t i = 0; i < inputs.size(); ++i)
      std::copy_n(inputs[i].data, inputs[i].count,
                  ctx->arena.data() + lm_.where[lm_.input_tensors[i]].offset);
    // Each launch: every index of its grid, through the kernel's own element function.
    for (const KernelArgs& a : ctx->launches) {
      VisitKind(a.kind, [&](auto kind) {
        for (int64_t i = 0; i < a.count; ++i) EvalElement<decltype(kind)::value>(a, i);
      });
    }
    // Arena / weights -> host (the output copies).
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Location& loc = lm_.where[lm_.output_tensors[i]];
      const float* base =
          loc.where == Location::kWeights ? lm_.weights.data() : ctx->arena.data();
      const float* src = base + loc.offset;
      std::copy_n(src, outputs[i].count, outputs[i].data);
    }
    return Status::Ok();
  }

 private:
  const Model& model_;
  LoweredModel lm_;
};

}  // namespace

Result<std::unique_ptr<Plan>> EmulatedCudaBackend::Prepare(
    const Model& model, std::span<const Shape> input_shapes) const {
  Result<LoweredModel> lm = Lower(model, input_shapes);
  if (!lm.ok()) return lm.status();
  return std::unique_ptr<Plan>(new EmulatedPlan(model, std::move(lm).value()));
}

const LoweredModel* GetLoweredModel(const Plan& plan) {
  const auto* p = dynamic_cast<const EmulatedPlan*>(&plan);
  return p ? &p->lowered() : nullptr;
}

Status CheckRunBuffers(const Model& model, const LoweredModel& lm,
                       std::span<const ConstBuffer> inputs,
                       std::span<const MutableBuffer> outputs) {
  if (inputs.size() != lm.input_shapes.size() || outputs.size() != lm.output_shapes.size())
    return Status::Error(model.path + ": Run expects " + std::to_string(lm.input_shapes.size()) +
                         " inputs and " + std::to_string(lm.output_shapes.size()) + " outputs");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].data || inputs[i].count != size_t(NumElements(lm.input_shapes[i])))
      return Status::Error(model.path + ": input '" + model.inputs[i].name + "' needs " +
                           std::to_string(NumElements(lm.input_shapes[i])) + " floats " +
                           ShapeToString(lm.input_shapes[i]));
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].data || outputs[i].count != size_t(NumElements(lm.output_shapes[i])))
      return Status::Error(model.path + ": output '" + model.outputs[i].name + "' needs " +
                           std::to_string(NumElements(lm.output_shapes[i])) + " floats " +
                           ShapeToString(lm.output_shapes[i]));
  return Status::Ok();
}

}  // namespace fg::nn::gpu
