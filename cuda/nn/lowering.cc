#include "cuda/nn/lowering.h"

#include <algorithm>
#include <array>

#include "engine/nn/memory_plan.h"
#include "engine/nn/ops/broadcast.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn::gpu {
namespace {

// Activation arena limit (floats, 4 GiB): a hostile model is refused at Prepare.
constexpr int64_t kMaxArenaElements = int64_t{1} << 30;

// Both spatial windows of an NHWC conv / pool over x (ComputeWindow, TF's arithmetic).
// kernel, stride, dilation: {h, w}; explicit_pads: {top, bottom, left, right}.
bool Windows(Padding padding, const Shape& x, std::array<int, 2> kernel, std::array<int, 2> stride,
             std::array<int, 2> dilation, std::array<int, 4> explicit_pads, Window1D* wh,
             Window1D* ww) {
  return ComputeWindow(padding, int(x[1]), kernel[0], stride[0], dilation[0], explicit_pads[0],
                       explicit_pads[1], wh) &&
         ComputeWindow(padding, int(x[2]), kernel[1], stride[1], dilation[1], explicit_pads[2],
                       explicit_pads[3], ww);
}

class Lowerer {
 public:
  Lowerer(const Model& m, std::vector<Shape> shapes) : m_(m), shapes_(std::move(shapes)) {
    const size_t nt = m.tensors.size();
    root_.resize(nt);
    for (size_t t = 0; t < nt; ++t) root_[t] = static_cast<int>(t);
    producer_.assign(nt, -1);
    uses_.assign(nt, 0);
    consumer_.assign(nt, -1);
    is_output_.assign(nt, false);
    for (size_t i = 0; i < m.nodes.size(); ++i) {
      const Node& n = m.nodes[i];
      producer_[n.output] = static_cast<int>(i);
      for (int t : n.inputs) {
        ++uses_[t];
        consumer_[t] = static_cast<int>(i);
      }
    }
    for (const IoSpec& io : m.outputs) is_output_[io.tensor] = true;
  }

  Status Run(LoweredModel* lm) {
    lm->path = m_.path;
    std::vector<bool> absorbed(m_.nodes.size(), false);
    for (size_t i = 0; i < m_.nodes.size(); ++i) {
      const Node& n = m_.nodes[i];
      if (n.op == OpType::kIdentity || n.op == OpType::kReshape) {
        root_[n.output] = root_[n.inputs[0]];
        ++lm->alias_nodes;
        continue;
      }
      if (absorbed[i]) continue;
      Launch l;
      if (Status s = Base(n, &l); !s.ok()) return s;
      if (Fusable(l.args.kind)) lm->fused_nodes += Absorb(static_cast<int>(i), &l, &absorbed);
      lm->launches.push_back(std::move(l));
    }
    PlaceWeights(lm);
    if (Status s = PlaceArena(lm); !s.ok()) return s;
    return Status::Ok();
  }

 private:
  Status Fail(const Node& n, const std::string& what) const {
    return Status::Error(m_.path + ": node '" + n.name + "' (" + n.tf_op + "): " + what);
  }
  // A softmax thread writes a whole row: no per-element epilogue.
  static bool Fusable(Kind k) { return k != Kind::kSoftmax; }
  const Shape& S(int t) const { return shapes_[t]; }

  // The launch for node n alone: kind, geometry, its own bias / activation.
  Status Base(const Node& n, Launch* l) {
    KernelArgs& a = l->args;
    l->nodes = n.name;
    l->output = n.output;
    const Shape& out = S(n.output);
    a.count = NumElements(out);
    a.ep.channels = out.empty() || out.back() == 0 ? 1 : out.back();
    for (size_t k = 0; k < n.inputs.size() && k < 2; ++k) l->inputs[k] = root_[n.inputs[k]];
    auto fused = [&](bool has_bias, Activation act) {
      size_t next = 2;
      if (has_bias) l->bias = root_[n.inputs[next++]];
      a.ep.act = act;
      if (act == Activation::kPrelu) {
        l->alpha = root_[n.inputs[next]];
        a.ep.alpha_count = NumElements(S(n.inputs[next]));
      }
    };
    switch (n.op) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        const Shape& x = S(n.inputs[0]);
        const Shape& f = S(n.inputs[1]);
        const ConvParams& p = n.conv;
        Window1D wh, ww;
        if (!Windows(p.padding, x, {int(f[0]), int(f[1])}, {p.stride_h, p.stride_w},
                     {p.dilation_h, p.dilation_w},
                     {p.pad_top, p.pad_bottom, p.pad_left, p.pad_right}, &wh, &ww))
          return Fail(n, "window does not fit");
        fused(p.has_bias, p.activation);
        // One geometry, copied into the args of whichever kind this is.
        auto geometry = [&](auto& g) {
          g.batch = int(x[0]);
          g.in_h = int(x[1]);
          g.in_w = int(x[2]);
          g.in_c = int(x[3]);
          g.out_h = wh.out;
          g.out_w = ww.out;
          g.kernel_h = int(f[0]);
          g.kernel_w = int(f[1]);
          g.stride_h = p.stride_h;
          g.stride_w = p.stride_w;
          g.dilation_h = p.dilation_h;
          g.dilation_w = p.dilation_w;
          g.pad_top = wh.pad_before;
          g.pad_left = ww.pad_before;
          g.activation = Activation::kNone;  // applied by the epilogue
        };
        if (n.op == OpType::kConv2D) {
          a.kind = Kind::kConv2D;
          geometry(a.conv);
          a.conv.out_c = int(f[3]);
        } else {
          a.kind = Kind::kDepthwise;
          geometry(a.dw);
          a.dw.multiplier = int(f[3]);
        }
        break;
      }
      case OpType::kMatMul: {
        const Shape& x = S(n.inputs[0]);
        a.kind = Kind::kMatMul;
        a.matmul.transpose_a = n.matmul.transpose_a;
        a.matmul.transpose_b = n.matmul.transpose_b;
        a.matmul.m = out[0];
        a.matmul.n = out[1];
        a.matmul.k = n.matmul.transpose_a ? x[0] : x[1];
        fused(n.matmul.has_bias, n.matmul.activation);
        break;
      }
      case OpType::kAdd:
      case OpType::kMul:
      case OpType::kMinimum:
      case OpType::kMaximum: {
        ops::BroadcastArgs b;
        if (!ops::MakeBroadcastArgs(S(n.inputs[0]), S(n.inputs[1]), out, &b))
          return Fail(n, "cannot broadcast " + ShapeToString(S(n.inputs[0])) + " with " +
                             ShapeToString(S(n.inputs[1])));
        a.kind = Kind::kBinary;
        a.binary.op = n.op == OpType::kAdd   ? BinaryOp::kAdd
                      : n.op == OpType::kMul ? BinaryOp::kMul
                      : n.op == OpType::kMinimum ? BinaryOp::kMinimum
                                                 : BinaryOp::kMaximum;
        a.binary.rank = b.rank;
        for (int d = 0; d < b.rank; ++d) {
          a.binary.out_dims.v[d] = b.out_dims[d];
          a.binary.a_strides.v[d] = b.a_strides[d];
          a.binary.b_strides.v[d] = b.b_strides[d];
        }
        break;
      }
      case OpType::kRelu:
        a.kind = Kind::kCopy;
        a.ep.act = Activation::kRelu;
        break;
      case OpType::kPrelu:
        a.kind = Kind::kCopy;
        a.ep.act = Activation::kPrelu;
        l->alpha = root_[n.inputs[1]];
        l->inputs[1] = -1;
        a.ep.alpha_count = NumElements(S(n.inputs[1]));
        break;
      case OpType::kSigmoid:
        a.kind = Kind::kSigmoid;
        break;
      case OpType::kSoftmax:
        a.kind = Kind::kSoftmax;
        a.depth = out.empty() ? 1 : out.back();
        a.count = a.depth ? a.count / a.depth : 0;
        break;
      case OpType::kMaxPool: {
        const Shape& x = S(n.inputs[0]);
        const PoolParams& p = n.pool;
        Window1D wh, ww;
        if (!Windows(p.padding, x, {p.kernel_h, p.kernel_w}, {p.stride_h, p.stride_w}, {1, 1},
                     {p.pad_top, p.pad_bottom, p.pad_left, p.pad_right}, &wh, &ww))
          return Fail(n, "window does not fit");
        a.kind = Kind::kMaxPool;
        a.pool = {int(x[0]), int(x[1]),  int(x[2]),  int(x[3]),  wh.out,         ww.out,
                  p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, wh.pad_before, ww.pad_before};
        break;
      }
      case OpType::kPad: {
        const Shape& x = S(n.inputs[0]);
        if (x.size() > size_t(kMaxRank)) return Fail(n, "rank above " + std::to_string(kMaxRank));
        a.kind = Kind::kPad;
        a.pad.rank = int(x.size());
        for (size_t d = 0; d < x.size(); ++d) {
          a.pad.in_dims.v[d] = x[d];
          a.pad.out_dims.v[d] = out[d];
          a.pad.before.v[d] = n.pad_before[d];
        }
        break;
      }
      case OpType::kMean: {
        const Shape& x = S(n.inputs[0]);
        if (x.size() > size_t(kMaxRank)) return Fail(n, "rank above " + std::to_string(kMaxRank));
        a.kind = Kind::kMean;
        a.mean.rank = int(x.size());
        for (size_t d = 0; d < x.size(); ++d) a.mean.in_dims.v[d] = x[d];
        for (int ax : n.axes) a.mean.reduce[ax < 0 ? ax + int(x.size()) : ax] = true;
        for (size_t d = 0; d < x.size(); ++d)
          if (a.mean.reduce[d]) a.mean.reduce_count *= x[d];
        break;
      }
      case OpType::kConcat: {
        if (n.inputs.size() > size_t(kMaxKernelInputs))
          return Fail(n, std::to_string(n.inputs.size()) + " inputs, the CUDA concat takes " +
                             std::to_string(kMaxKernelInputs));
        const Shape& x0 = S(n.inputs[0]);
        const int axis = n.axis < 0 ? n.axis + int(x0.size()) : n.axis;
        a.kind = Kind::kConcat;
        a.concat.inputs = int(n.inputs.size());
        for (size_t k = 0; k < n.inputs.size(); ++k) {
          l->inputs[k] = root_[n.inputs[k]];
          int64_t chunk = 1;
          for (size_t d = axis; d < S(n.inputs[k]).size(); ++d) chunk *= S(n.inputs[k])[d];
          a.concat.chunks[k] = chunk;
          a.concat.row += chunk;
        }
        if (a.concat.row == 0) a.count = 0;  // nothing to copy (and no division by 0)
        break;
      }
      case OpType::kIdentity:
      case OpType::kReshape:
        return Fail(n, "internal: an alias reached Base");
    }
    return Status::Ok();
  }

  // Computed before node `pos` runs: a constant, a graph input or an earlier node's output.
  bool Ready(int t, int pos) const {
    const int r = root_[t];
    return producer_[r] < pos;
  }

  // Folds the nodes that only this launch feeds into its epilogue; returns how many.
  int Absorb(int pos, Launch* l, std::vector<bool>* absorbed) {
    Epilogue& e = l->args.ep;
    int count = 0;
    for (int cur = l->output;;) {
      if (uses_[cur] != 1 || is_output_[cur]) break;
      const int j = consumer_[cur];
      const Node& c = m_.nodes[j];
      if (c.op == OpType::kRelu || c.op == OpType::kPrelu) {
        int64_t alpha_count = 0;
        if (c.op == OpType::kPrelu) {
          alpha_count = NumElements(S(c.inputs[1]));
          if (!Ready(c.inputs[1], pos) || (alpha_count != 1 && alpha_count != e.channels)) break;
        }
        const Activation act = c.op == OpType::kRelu ? Activation::kRelu : Activation::kPrelu;
        const int alpha = c.op == OpType::kPrelu ? root_[c.inputs[1]] : -1;
        if (l->residual < 0 && e.act == Activation::kNone) {
          e.act = act;
          l->alpha = alpha;
          e.alpha_count = alpha_count;
        } else if (e.act2 == Activation::kNone) {
          e.act2 = act;
          l->alpha2 = alpha;
          e.alpha2_count = alpha_count;
        } else {
          break;
        }
      } else if (c.op == OpType::kAdd) {
        const int other = c.inputs[0] == cur ? c.inputs[1] : c.inputs[0];
        if (other == cur || l->residual >= 0 || e.act2 != Activation::kNone ||
            S(other) != S(cur) || S(c.output) != S(cur) || !Ready(other, pos))
          break;
        l->residual = root_[other];
      } else {
        break;
      }
      (*absorbed)[j] = true;
      l->nodes += " + " + c.name;
      l->output = c.output;
      cur = c.output;
      ++count;
    }
    return count;
  }

  // Every float constant a launch reads, once, into the blob.
  void PlaceWeights(LoweredModel* lm) {
    lm->where.assign(m_.tensors.size(), Location{});
    auto place = [&](int t) {
      if (t < 0 || !m_.tensors[t].is_constant || lm->where[t].where != Location::kNowhere) return;
      const std::vector<float>& v = m_.tensors[t].f32;
      const int64_t off = (int64_t(lm->weights.size()) + kBufferAlignment - 1) /
                          kBufferAlignment * kBufferAlignment;
      lm->weights.resize(size_t(off), 0.0f);
      lm->weights.insert(lm->weights.end(), v.begin(), v.end());
      lm->where[t] = {Location::kWeights, off};
    };
    for (const Launch& l : lm->launches) {
      for (int t : l.inputs) place(t);
      for (int t : {l.bias, l.alpha, l.residual, l.alpha2}) place(t);
    }
    for (const IoSpec& io : m_.outputs) place(root_[io.tensor]);
  }

  // Graph inputs and launch outputs in one arena; lifetimes in launch positions: inputs from
  // 0, launch k at k + 1, graph outputs read at launches + 1.
  Status PlaceArena(LoweredModel* lm) {
    const int end = int(lm->launches.size()) + 1;
    std::vector<int> first(m_.tensors.size(), -1), last(m_.tensors.size(), -1);
    auto read = [&](int t, int pos) {
      if (t >= 0) last[t] = std::max(last[t], pos);
    };
    for (const IoSpec& io : m_.inputs) first[io.tensor] = 0;
    for (size_t k = 0; k < lm->launches.size(); ++k) {
      const Launch& l = lm->launches[k];
      const int pos = int(k) + 1;
      first[l.output] = pos;
      read(l.output, pos);
      for (int t : l.inputs) read(t, pos);
      for (int t : {l.bias, l.alpha, l.residual, l.alpha2}) read(t, pos);
    }
    for (const IoSpec& io : m_.outputs) read(root_[io.tensor], end);
    std::vector<BufferRequest> requests;
    std::vector<int> tensor_of;
    for (size_t t = 0; t < m_.tensors.size(); ++t) {
      if (first[t] < 0 || m_.tensors[t].is_constant) continue;
      requests.push_back({NumElements(S(int(t))), first[t], std::max(first[t], last[t])});
      tensor_of.push_back(int(t));
    }
    const std::vector<int64_t> offsets =
        PlanBuffers(requests, kBufferAlignment, &lm->arena_elements);
    if (lm->arena_elements > kMaxArenaElements)
      return Status::Error(m_.path + ": activations need " +
                           std::to_string(lm->arena_elements * 4 >> 20) + " MiB at input shape " +
                           ShapeToString(lm->input_shapes.empty() ? Shape{} : lm->input_shapes[0]) +
                           ", more than the CUDA backend's limit of " +
                           std::to_string(kMaxArenaElements * 4 >> 20) + " MiB");
    for (size_t r = 0; r < requests.size(); ++r)
      lm->where[tensor_of[r]] = {Location::kArena, offsets[r]};
    for (size_t t = 0; t < m_.tensors.size(); ++t)
      if (root_[t] != int(t)) lm->where[t] = lm->where[root_[t]];
    for (const IoSpec& io : m_.inputs) lm->input_tensors.push_back(io.tensor);
    for (const IoSpec& io : m_.outputs) lm->output_tensors.push_back(root_[io.tensor]);
    return Status::Ok();
  }

  const Model& m_;
  std::vector<Shape> shapes_;
  std::vector<int> root_, producer_, uses_, consumer_;
  std::vector<bool> is_output_;
};

}  // namespace

Result<LoweredModel> Lower(const Model& model, std::span<const Shape> input_shapes) {
  std::vector<Shape> shapes;
  if (Status s = InferShapes(model, input_shapes, &shapes); !s.ok()) return s;
  LoweredModel lm;
  lm.input_shapes.assign(input_shapes.begin(), input_shapes.end());
  for (const IoSpec& io : model.outputs) lm.output_shapes.push_back(shapes[io.tensor]);
  Lowerer lowerer(model, std::move(shapes));
  if (Status s = lowerer.Run(&lm); !s.ok()) return s;
  return lm;
}

KernelArgs Bind(const LoweredModel& plan, const Launch& l, float* arena, const float* weights) {
  auto ptr = [&](int t) -> const float* {
    if (t < 0) return nullptr;
    const Location& loc = plan.where[t];
    if (loc.where == Location::kArena) return arena + loc.offset;
    if (loc.where == Location::kWeights) return weights + loc.offset;
    return nullptr;
  };
  KernelArgs a = l.args;
  for (int k = 0; k < kMaxKernelInputs; ++k) a.in[k] = ptr(l.inputs[k]);
  a.out = arena + plan.where[l.output].offset;
  a.ep.bias = ptr(l.bias);
  a.ep.alpha = ptr(l.alpha);
  a.ep.residual = ptr(l.residual);
  a.ep.alpha2 = ptr(l.alpha2);
  return a;
}

}  // namespace fg::nn::gpu
