#include "engine/nn/xnnpack/reference_fallback.h"

#include <algorithm>
#include <string>

#include "engine/nn/ops/add.h"
#include "engine/nn/ops/concat.h"
#include "engine/nn/ops/maximum.h"
#include "engine/nn/ops/minimum.h"
#include "engine/nn/ops/mul.h"
#include "engine/nn/ops/prelu.h"
#include "engine/nn/ops/relu.h"
#include "engine/nn/ops/reshape.h"
#include "engine/nn/ops/sigmoid.h"
#include "engine/nn/ops/softmax.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn::xnnpack_internal {

Status PrepareFallback(const Model& model, int n, const std::vector<Shape>& shapes,
                       FallbackNode* f) {
  const Node& node = model.nodes[n];
  auto error = [&](const std::string& why) {
    return Status::Error(model.path + ": node '" + node.name + "' (" + node.tf_op +
                         "): XNNPACK backend, reference fallback: " + why);
  };
  const Shape& x = shapes[node.inputs[0]];
  const Shape& y = shapes[node.output];
  f->op = node.op;
  f->node = n;
  f->count = NumElements(y);
  switch (node.op) {
    case OpType::kIdentity:
    case OpType::kRelu:
    case OpType::kSigmoid:
    case OpType::kReshape:
      return Status::Ok();
    case OpType::kSoftmax:
      if (x.empty()) return error("Softmax of a scalar");
      f->depth = x.back();
      f->rows = f->depth == 0 ? 0 : f->count / f->depth;
      return Status::Ok();
    case OpType::kPrelu:
      if (x.empty()) return error("Prelu of a scalar");
      f->depth = x.back();
      f->alpha_count = NumElements(shapes[node.inputs[1]]);
      return Status::Ok();
    case OpType::kAdd:
    case OpType::kMul:
    case OpType::kMinimum:
    case OpType::kMaximum:
      if (!ops::MakeBroadcastArgs(x, shapes[node.inputs[1]], y, &f->broadcast))
        return error("shapes " + ShapeToString(x) + " and " +
                     ShapeToString(shapes[node.inputs[1]]) + " do not broadcast");
      return Status::Ok();
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      const ConvParams& p = node.conv;
      const Shape& w = shapes[node.inputs[1]];
      Window1D wy, wx;
      if (!ComputeWindow(p.padding, int(x[1]), int(w[0]), p.stride_h, p.dilation_h, p.pad_top,
                         p.pad_bottom, &wy) ||
          !ComputeWindow(p.padding, int(x[2]), int(w[1]), p.stride_w, p.dilation_w, p.pad_left,
                         p.pad_right, &wx))
        return error("window does not fit input " + ShapeToString(x));
      f->has_bias = p.has_bias;
      f->alpha_count = p.activation == Activation::kPrelu ? NumElements(shapes[node.inputs.back()]) : 0;
      if (node.op == OpType::kConv2D) {
        if (w[2] != x[3]) return error("grouped convolution has no reference op");
        f->conv = {int(x[0]), int(x[1]), int(x[2]), int(x[3]), int(y[1]), int(y[2]), int(y[3]),
                   int(w[0]), int(w[1]), p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                   wy.pad_before, wx.pad_before, p.activation};
      } else {
        f->dw = {int(x[0]), int(x[1]), int(x[2]), int(x[3]), int(y[1]), int(y[2]), int(w[3]),
                 int(w[0]), int(w[1]), p.stride_h, p.stride_w, p.dilation_h, p.dilation_w,
                 wy.pad_before, wx.pad_before, p.activation};
      }
      return Status::Ok();
    }
    case OpType::kMatMul: {
      const MatMulParams& p = node.matmul;
      const Shape& b = shapes[node.inputs[1]];
      f->matmul.m = p.transpose_a ? x[1] : x[0];
      f->matmul.k = p.transpose_a ? x[0] : x[1];
      f->matmul.n = p.transpose_b ? b[0] : b[1];
      f->matmul.transpose_a = p.transpose_a;
      f->matmul.transpose_b = p.transpose_b;
      f->matmul.activation = p.activation;
      f->has_bias = p.has_bias;
      f->alpha_count = p.activation == Activation::kPrelu ? NumElements(shapes[node.inputs.back()]) : 0;
      return Status::Ok();
    }
    case OpType::kMaxPool: {
      const PoolParams& p = node.pool;
      Window1D wy, wx;
      if (!ComputeWindow(p.padding, int(x[1]), p.kernel_h, p.stride_h, 1, p.pad_top, p.pad_bottom, &wy) ||
          !ComputeWindow(p.padding, int(x[2]), p.kernel_w, p.stride_w, 1, p.pad_left, p.pad_right, &wx))
        return error("window does not fit input " + ShapeToString(x));
      f->pool = {int(x[0]), int(x[1]), int(x[2]), int(x[3]), int(y[1]), int(y[2]), p.kernel_h,
                 p.kernel_w, p.stride_h, p.stride_w, wy.pad_before, wx.pad_before};
      return Status::Ok();
    }
    case OpType::kPad: {
      if (x.size() > static_cast<size_t>(kMaxRank)) return error("rank above kMaxRank");
      f->pad.rank = static_cast<int>(x.size());
      for (size_t d = 0; d < x.size(); ++d) {
        f->pad.in_dims[d] = x[d];
        f->pad.before[d] = node.pad_before[d];
        f->pad.out_dims[d] = y[d];
      }
      return Status::Ok();
    }
    case OpType::kMean: {
      if (x.size() > static_cast<size_t>(kMaxRank)) return error("rank above kMaxRank");
      f->mean.rank = static_cast<int>(x.size());
      f->mean.reduce_count = 1;
      for (size_t d = 0; d < x.size(); ++d) {
        f->mean.in_dims[d] = x[d];
        f->mean.reduce[d] = std::find(node.axes.begin(), node.axes.end(), int(d)) != node.axes.end();
        if (f->mean.reduce[d]) f->mean.reduce_count *= x[d];
      }
      f->mean.out_count = f->count;
      f->scratch_doubles = static_cast<size_t>(f->count);
      return Status::Ok();
    }
    case OpType::kConcat: {
      const int axis = node.axis;
      f->rows = 1;
      for (int d = 0; d < axis; ++d) f->rows *= y[d];
      for (int t : node.inputs) {
        const Shape& s = shapes[t];
        int64_t chunk = 1;
        for (size_t d = static_cast<size_t>(axis); d < s.size(); ++d) chunk *= s[d];
        f->chunks.push_back(chunk);
      }
      return Status::Ok();
    }
  }
  return error("op has no reference fallback");
}

void RunFallback(const FallbackNode& f, std::span<const float* const> in, float* out,
                 double* scratch) {
  const float* alpha = f.alpha_count > 0 ? in.back() : nullptr;
  switch (f.op) {
    case OpType::kIdentity: std::copy(in[0], in[0] + f.count, out); return;
    case OpType::kReshape: ops::Reshape(in[0], out, f.count); return;
    case OpType::kRelu: ops::Relu(in[0], out, f.count); return;
    case OpType::kSigmoid: ops::Sigmoid(in[0], out, f.count); return;
    case OpType::kSoftmax: ops::Softmax(in[0], out, f.rows, f.depth); return;
    case OpType::kPrelu: ops::Prelu(in[0], in[1], f.alpha_count, out, f.count, f.depth); return;
    case OpType::kAdd: ops::Add(f.broadcast, in[0], in[1], out); return;
    case OpType::kMul: ops::Mul(f.broadcast, in[0], in[1], out); return;
    case OpType::kMinimum: ops::Minimum(f.broadcast, in[0], in[1], out); return;
    case OpType::kMaximum: ops::Maximum(f.broadcast, in[0], in[1], out); return;
    case OpType::kConv2D:
      ops::Conv2D(f.conv, in[0], in[1], f.has_bias ? in[2] : nullptr, alpha, f.alpha_count, out);
      return;
    case OpType::kDepthwiseConv2D:
      ops::DepthwiseConv2D(f.dw, in[0], in[1], f.has_bias ? in[2] : nullptr, alpha, f.alpha_count,
                           out);
      return;
    case OpType::kMatMul:
      ops::MatMul(f.matmul, in[0], in[1], f.has_bias ? in[2] : nullptr, alpha, f.alpha_count, out);
      return;
    case OpType::kMaxPool: ops::MaxPool(f.pool, in[0], out); return;
    case OpType::kPad: ops::Pad(f.pad, in[0], out); return;
    case OpType::kMean: ops::Mean(f.mean, in[0], scratch, out); return;
    case OpType::kConcat: ops::Concat(in, f.chunks, f.rows, out); return;
  }
}

}  // namespace fg::nn::xnnpack_internal
