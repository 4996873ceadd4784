#include "engine/nn/reference_backend.h"

#include <algorithm>
#include <new>

#include "engine/nn/memory_plan.h"
#include "engine/nn/ops/add.h"
#include "engine/nn/ops/concat.h"
#include "engine/nn/ops/conv2d.h"
#include "engine/nn/ops/depthwise_conv2d.h"
#include "engine/nn/ops/matmul.h"
#include "engine/nn/ops/max_pool.h"
#include "engine/nn/ops/maximum.h"
#include "engine/nn/ops/mean.h"
#include "engine/nn/ops/minimum.h"
#include "engine/nn/ops/mul.h"
#include "engine/nn/ops/pad.h"
#include "engine/nn/ops/prelu.h"
#include "engine/nn/ops/relu.h"
#include "engine/nn/ops/reshape.h"
#include "engine/nn/ops/sigmoid.h"
#include "engine/nn/ops/softmax.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn {
namespace {

// Activation arena limit (floats): 4 GiB. A corrupt or hostile model is refused at Prepare
// instead of exhausting memory in NewContext.
constexpr int64_t kMaxArenaElements = int64_t{1} << 30;

// Everything one node needs at run time, computed at prepare.
struct Step {
  OpType op = OpType::kIdentity;
  std::vector<int> inputs;  // tensor indices
  int output = -1;
  int64_t count = 0;  // output elements
  // Optional extra inputs (-1 when absent).
  int bias = -1, alpha = -1;
  int64_t alpha_count = 0;
  int64_t channels = 0;  // Prelu: last-axis size; Softmax: depth
  ops::Conv2DArgs conv;
  ops::DepthwiseConv2DArgs dw;
  ops::MaxPoolArgs pool;
  ops::BroadcastArgs broadcast;
  ops::PadArgs pad;
  ops::MeanArgs mean;
  ops::MatMulArgs matmul;
  std::vector<int64_t> concat_chunks;
  int64_t concat_outer = 0;
};

class ReferenceContext final : public RunContext {
 public:
  const void* owner = nullptr;
  std::vector<float> arena;
  std::vector<const float*> tensors;  // every tensor's data (constants, arena, inputs)
  std::vector<const float*> concat_scratch;
  std::vector<double> mean_scratch;
};

class ReferencePlan final : public Plan {
 public:
  ReferencePlan(const Model& model, std::vector<Shape> shapes, std::vector<Step> steps,
                ActivationPlan memory, std::vector<Shape> in_shapes, std::vector<Shape> out_shapes,
                size_t max_concat, int64_t max_mean)
      : model_(model),
        shapes_(std::move(shapes)),
        steps_(std::move(steps)),
        memory_(std::move(memory)),
        input_shapes_(std::move(in_shapes)),
        output_shapes_(std::move(out_shapes)),
        max_concat_(max_concat),
        max_mean_(max_mean) {}

  const std::vector<Shape>& input_shapes() const override { return input_shapes_; }
  const std::vector<Shape>& output_shapes() const override { return output_shapes_; }

  std::unique_ptr<RunContext> NewContext() const override {
    try {
      return MakeContext();
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }

  std::unique_ptr<RunContext> MakeContext() const {
    auto ctx = std::make_unique<ReferenceContext>();
    ctx->owner = this;
    ctx->arena.assign(static_cast<size_t>(memory_.arena_elements), 0.0f);
    ctx->tensors.assign(model_.tensors.size(), nullptr);
    for (size_t t = 0; t < model_.tensors.size(); ++t) {
      if (model_.tensors[t].is_constant && model_.tensors[t].dtype == DType::kFloat32)
        ctx->tensors[t] = model_.tensors[t].f32.data();
      else if (memory_.offsets[t] >= 0)
        ctx->tensors[t] = ctx->arena.data() + memory_.offsets[t];
    }
    ctx->concat_scratch.assign(max_concat_, nullptr);
    ctx->mean_scratch.assign(static_cast<size_t>(max_mean_), 0.0);
    return ctx;
  }

  Status Run(std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs,
             RunContext& base_ctx) const override {
    auto* ctx_ptr = dynamic_cast<ReferenceContext*>(&base_ctx);
    if (!ctx_ptr || ctx_ptr->owner != this)
      return Status::Error(model_.path + ": RunContext was made by another plan");
    ReferenceContext& ctx = *ctx_ptr;
    if (inputs.size() != input_shapes_.size() || outputs.size() != output_shapes_.size())
      return Status::Error(model_.path + ": Run expects " + std::to_string(input_shapes_.size()) +
                           " inputs and " + std::to_string(output_shapes_.size()) + " outputs");
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].data || inputs[i].count != static_cast<size_t>(NumElements(input_shapes_[i])))
        return Status::Error(model_.path + ": input '" + model_.inputs[i].name + "' needs " +
                             std::to_string(NumElements(input_shapes_[i])) + " floats " +
                             ShapeToString(input_shapes_[i]));
      ctx.tensors[model_.inputs[i].tensor] = inputs[i].data;
    }
    for (size_t i = 0; i < outputs.size(); ++i)
      if (!outputs[i].data ||
          outputs[i].count != static_cast<size_t>(NumElements(output_shapes_[i])))
        return Status::Error(model_.path + ": output '" + model_.outputs[i].name + "' needs " +
                             std::to_string(NumElements(output_shapes_[i])) + " floats " +
                             ShapeToString(output_shapes_[i]));
    for (const Step& s : steps_) RunStep(s, ctx);
    for (size_t i = 0; i < outputs.size(); ++i)
      ops::Reshape(ctx.tensors[model_.outputs[i].tensor], outputs[i].data,
                   static_cast<int64_t>(outputs[i].count));
    return Status::Ok();
  }

 private:
  void RunStep(const Step& s, ReferenceContext& ctx) const {
    // Every node output has an arena slot (PlanActivations plans all of them).
    float* out = ctx.arena.data() + memory_.offsets[s.output];
    auto in = [&](size_t i) { return ctx.tensors[s.inputs[i]]; };
    const float* bias = s.bias >= 0 ? ctx.tensors[s.bias] : nullptr;
    const float* alpha = s.alpha >= 0 ? ctx.tensors[s.alpha] : nullptr;
    switch (s.op) {
      case OpType::kIdentity:
      case OpType::kReshape:
        ops::Reshape(in(0), out, s.count);
        break;
      case OpType::kConv2D:
        ops::Conv2D(s.conv, in(0), in(1), bias, alpha, s.alpha_count, out);
        break;
      case OpType::kDepthwiseConv2D:
        ops::DepthwiseConv2D(s.dw, in(0), in(1), bias, alpha, s.alpha_count, out);
        break;
      case OpType::kAdd:
        ops::Add(s.broadcast, in(0), in(1), out);
        break;
      case OpType::kMul:
        ops::Mul(s.broadcast, in(0), in(1), out);
        break;
      case OpType::kMinimum:
        ops::Minimum(s.broadcast, in(0), in(1), out);
        break;
      case OpType::kMaximum:
        ops::Maximum(s.broadcast, in(0), in(1), out);
        break;
      case OpType::kRelu:
        ops::Relu(in(0), out, s.count);
        break;
      case OpType::kPrelu:
        ops::Prelu(in(0), in(1), s.alpha_count, out, s.count, s.channels);
        break;
      case OpType::kSigmoid:
        ops::Sigmoid(in(0), out, s.count);
        break;
      case OpType::kSoftmax:
        ops::Softmax(in(0), out, s.channels ? s.count / s.channels : 0, s.channels);
        break;
      case OpType::kMaxPool:
        ops::MaxPool(s.pool, in(0), out);
        break;
      case OpType::kPad:
        ops::Pad(s.pad, in(0), out);
        break;
      case OpType::kMean:
        ops::Mean(s.mean, in(0), ctx.mean_scratch.data(), out);
        break;
      case OpType::kConcat:
        for (size_t i = 0; i < s.inputs.size(); ++i) ctx.concat_scratch[i] = in(i);
        ops::Concat(std::span<const float* const>(ctx.concat_scratch.data(), s.inputs.size()),
                    s.concat_chunks, s.concat_outer, out);
        break;
      case OpType::kMatMul:
        ops::MatMul(s.matmul, in(0), in(1), bias, alpha, s.alpha_count, out);
        break;
    }
  }

  const Model& model_;
  std::vector<Shape> shapes_;
  std::vector<Step> steps_;
  ActivationPlan memory_;
  std::vector<Shape> input_shapes_, output_shapes_;
  size_t max_concat_;
  int64_t max_mean_;
};

Status PrepareStep(const Model& model, const Node& n, const std::vector<Shape>& shapes, Step* s) {
  auto fail = [&](const std::string& what) {
    return Status::Error(model.path + ": node '" + n.name + "' (" + n.tf_op + "): " + what);
  };
  s->op = n.op;
  s->inputs = n.inputs;
  s->output = n.output;
  const Shape& out = shapes[n.output];
  s->count = NumElements(out);
  auto in_shape = [&](size_t i) -> const Shape& { return shapes[n.inputs[i]]; };
  auto optional_inputs = [&](bool has_bias, Activation act) {
    size_t next = 2;
    if (has_bias) s->bias = n.inputs[next++];
    if (act == Activation::kPrelu) {
      s->alpha = n.inputs[next];
      s->alpha_count = NumElements(shapes[s->alpha]);
    }
  };
  switch (n.op) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      const Shape& x = in_shape(0);
      const Shape& f = in_shape(1);
      Window1D wh, ww;
      if (!ComputeWindow(n.conv.padding, static_cast<int>(x[1]), static_cast<int>(f[0]),
                         n.conv.stride_h, n.conv.dilation_h, n.conv.pad_top, n.conv.pad_bottom,
                         &wh) ||
          !ComputeWindow(n.conv.padding, static_cast<int>(x[2]), static_cast<int>(f[1]),
                         n.conv.stride_w, n.conv.dilation_w, n.conv.pad_left, n.conv.pad_right,
                         &ww))
        return fail("window does not fit");
      optional_inputs(n.conv.has_bias, n.conv.activation);
      if (n.op == OpType::kConv2D) {
        ops::Conv2DArgs& a = s->conv;
        a.batch = static_cast<int>(x[0]);
        a.in_h = static_cast<int>(x[1]);
        a.in_w = static_cast<int>(x[2]);
        a.in_c = static_cast<int>(x[3]);
        a.out_h = wh.out;
        a.out_w = ww.out;
        a.out_c = static_cast<int>(f[3]);
        a.kernel_h = static_cast<int>(f[0]);
        a.kernel_w = static_cast<int>(f[1]);
        a.stride_h = n.conv.stride_h;
        a.stride_w = n.conv.stride_w;
        a.dilation_h = n.conv.dilation_h;
        a.dilation_w = n.conv.dilation_w;
        a.pad_top = wh.pad_before;
        a.pad_left = ww.pad_before;
        a.activation = n.conv.activation;
      } else {
        ops::DepthwiseConv2DArgs& a = s->dw;
        a.batch = static_cast<int>(x[0]);
        a.in_h = static_cast<int>(x[1]);
        a.in_w = static_cast<int>(x[2]);
        a.in_c = static_cast<int>(x[3]);
        a.out_h = wh.out;
        a.out_w = ww.out;
        a.multiplier = static_cast<int>(f[3]);
        a.kernel_h = static_cast<int>(f[0]);
        a.kernel_w = static_cast<int>(f[1]);
        a.stride_h = n.conv.stride_h;
        a.stride_w = n.conv.stride_w;
        a.dilation_h = n.conv.dilation_h;
        a.dilation_w = n.conv.dilation_w;
        a.pad_top = wh.pad_before;
        a.pad_left = ww.pad_before;
        a.activation = n.conv.activation;
      }
      break;
    }
    case OpType::kMaxPool: {
      const Shape& x = in_shape(0);
      const PoolParams& p = n.pool;
      Window1D wh, ww;
      if (!ComputeWindow(p.padding, static_cast<int>(x[1]), p.kernel_h, p.stride_h, 1, p.pad_top,
                         p.pad_bottom, &wh) ||
          !ComputeWindow(p.padding, static_cast<int>(x[2]), p.kernel_w, p.stride_w, 1, p.pad_left,
                         p.pad_right, &ww))
        return fail("window does not fit");
      ops::MaxPoolArgs& a = s->pool;
      a.batch = static_cast<int>(x[0]);
      a.in_h = static_cast<int>(x[1]);
      a.in_w = static_cast<int>(x[2]);
      a.channels = static_cast<int>(x[3]);
      a.out_h = wh.out;
      a.out_w = ww.out;
      a.kernel_h = p.kernel_h;
      a.kernel_w = p.kernel_w;
      a.stride_h = p.stride_h;
      a.stride_w = p.stride_w;
      a.pad_top = wh.pad_before;
      a.pad_left = ww.pad_before;
      break;
    }
    case OpType::kAdd:
    case OpType::kMul:
    case OpType::kMinimum:
    case OpType::kMaximum:
      if (!ops::MakeBroadcastArgs(in_shape(0), in_shape(1), out, &s->broadcast))
        return fail("cannot broadcast " + ShapeToString(in_shape(0)) + " with " +
                    ShapeToString(in_shape(1)));
      break;
    case OpType::kPrelu:
      s->channels = in_shape(0).back();
      s->alpha_count = NumElements(in_shape(1));
      break;
    case OpType::kSoftmax:
      s->channels = in_shape(0).back();
      break;
    case OpType::kPad: {
      const Shape& x = in_shape(0);
      s->pad.rank = static_cast<int>(x.size());
      for (size_t d = 0; d < x.size(); ++d) {
        s->pad.in_dims[d] = x[d];
        s->pad.before[d] = n.pad_before[d];
        s->pad.out_dims[d] = out[d];
      }
      break;
    }
    case OpType::kMean: {
      const Shape& x = in_shape(0);
      s->mean.rank = static_cast<int>(x.size());
      s->mean.reduce_count = 1;
      for (size_t d = 0; d < x.size(); ++d) s->mean.in_dims[d] = x[d];
      for (int ax : n.axes) {
        int a = ax < 0 ? ax + static_cast<int>(x.size()) : ax;
        s->mean.reduce[a] = true;
      }
      for (size_t d = 0; d < x.size(); ++d)
        if (s->mean.reduce[d]) s->mean.reduce_count *= x[d];
      s->mean.out_count = s->count;
      break;
    }
    case OpType::kConcat: {
      const Shape& x0 = in_shape(0);
      int axis = n.axis < 0 ? n.axis + static_cast<int>(x0.size()) : n.axis;
      s->concat_outer = 1;
      for (int d = 0; d < axis; ++d) s->concat_outer *= x0[d];
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        int64_t chunk = 1;
        const Shape& xi = in_shape(i);
        for (size_t d = axis; d < xi.size(); ++d) chunk *= xi[d];
        s->concat_chunks.push_back(chunk);
      }
      break;
    }
    case OpType::kMatMul: {
      const Shape& a = in_shape(0);
      s->matmul.transpose_a = n.matmul.transpose_a;
      s->matmul.transpose_b = n.matmul.transpose_b;
      s->matmul.m = out[0];
      s->matmul.n = out[1];
      s->matmul.k = n.matmul.transpose_a ? a[0] : a[1];
      s->matmul.activation = n.matmul.activation;
      optional_inputs(n.matmul.has_bias, n.matmul.activation);
      break;
    }
    case OpType::kIdentity:
    case OpType::kReshape:
    case OpType::kRelu:
    case OpType::kSigmoid:
      break;
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Plan>> ReferenceBackend::Prepare(const Model& model,
                                                        std::span<const Shape> input_shapes) const {
  std::vector<Shape> shapes;
  Status st = InferShapes(model, input_shapes, &shapes);
  if (!st.ok()) return st;
  std::vector<Step> steps(model.nodes.size());
  size_t max_concat = 0;
  int64_t max_mean = 0;
  for (size_t i = 0; i < model.nodes.size(); ++i) {
    if (!(st = PrepareStep(model, model.nodes[i], shapes, &steps[i])).ok()) return st;
    if (steps[i].op == OpType::kConcat) max_concat = std::max(max_concat, steps[i].inputs.size());
    if (steps[i].op == OpType::kMean) max_mean = std::max(max_mean, steps[i].count);
  }
  ActivationPlan memory = PlanActivations(model, shapes, /*alignment=*/16);
  if (memory.arena_elements > kMaxArenaElements)
    return Status::Error(
        model.path + ": activations need " + std::to_string(memory.arena_elements * 4 >> 20) +
        " MiB at input shape " +
        (input_shapes.empty() ? std::string("[]") : ShapeToString(input_shapes[0])) +
        ", more than the reference backend's limit of " +
        std::to_string(kMaxArenaElements * 4 >> 20) + " MiB");
  std::vector<Shape> in_shapes(input_shapes.begin(), input_shapes.end());
  std::vector<Shape> out_shapes;
  for (const IoSpec& io : model.outputs) out_shapes.push_back(shapes[io.tensor]);
  return std::unique_ptr<Plan>(new ReferencePlan(model, std::move(shapes), std::move(steps),
                                                 std::move(memory), std::move(in_shapes),
                                                 std::move(out_shapes), max_concat, max_mean));
}

}  // namespace fg::nn
