#include "engine/nn/shape_inference.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace fg::nn {
namespace {

// No tensor may exceed this many elements, so every dimension and every flat index of a
// tensor fits an int (the kernels index with int), and a corrupt model cannot ask for
// terabytes. Backends apply their own, lower, memory limits at Prepare.
constexpr int64_t kMaxElements = INT32_MAX;

class NodeError {
 public:
  NodeError(const Model& m, const Node& n) : m_(m), n_(n) {}
  Status operator()(const std::string& what) const {
    return Status::Error(m_.path + ": node '" + n_.name + "' (" + n_.tf_op + "): " + what);
  }

 private:
  const Model& m_;
  const Node& n_;
};

bool CheckedProduct(const Shape& s, int64_t* out) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return false;
    if (d != 0 && n > kMaxElements / d) return false;
    n *= d;
  }
  *out = n;
  return true;
}

Status Broadcast(const NodeError& err, const Shape& a, const Shape& b, Shape* out) {
  size_t rank = std::max(a.size(), b.size());
  out->assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return err("shapes " + ShapeToString(a) + " and " + ShapeToString(b) +
                 " cannot be broadcast");
    (*out)[i] = da == 1 ? db : da;
  }
  return Status::Ok();
}

// A per-channel parameter (bias, PReLU alpha) of `channels` elements.
Status CheckPerChannel(const NodeError& err, const char* what, const Shape& s, int64_t channels,
                       bool allow_scalar) {
  int64_t n = NumElements(s);
  if (n == channels && (s.empty() || s.back() == channels)) return Status::Ok();
  if (allow_scalar && n == 1) return Status::Ok();
  return err(std::string(what) + " shape " + ShapeToString(s) + " does not match " +
             std::to_string(channels) + " channels");
}

Status InferNode(const Model& model, const Node& n, std::vector<Shape>& shapes,
                 std::vector<char>& known) {
  NodeError err(model, n);
  auto in = [&](size_t i) -> const Shape& { return shapes[n.inputs[i]]; };
  Shape& out = shapes[n.output];
  if (n.inputs.empty()) return err("node has no inputs");
  for (int t : n.inputs)
    if (t < 0 || t >= static_cast<int>(shapes.size())) return err("input index out of range");
  for (int t : n.inputs)
    if (!known[t])
      return err("input '" + model.tensors[t].name +
                 "' is neither a graph input, a constant nor computed earlier");
  if (n.output < 0 || n.output >= static_cast<int>(shapes.size()))
    return err("output index out of range");
  known[n.output] = 1;
  switch (n.op) {
    case OpType::kIdentity:
    case OpType::kRelu:
    case OpType::kSigmoid:
      out = in(0);
      break;
    case OpType::kSoftmax:
      if (in(0).empty()) return err("softmax of a scalar");
      out = in(0);
      break;
    case OpType::kAdd:
    case OpType::kMul:
    case OpType::kMinimum:
    case OpType::kMaximum: {
      Status s = Broadcast(err, in(0), in(1), &out);
      if (!s.ok()) return s;
      break;
    }
    case OpType::kPrelu: {
      if (in(0).empty()) return err("prelu of a scalar");
      int64_t c = in(0).back();
      if (in(1).size() > in(0).size())
        return err("alpha rank exceeds input rank: " + ShapeToString(in(1)));
      Status s = CheckPerChannel(err, "alpha", in(1), c, true);
      if (!s.ok()) return s;
      out = in(0);
      break;
    }
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      const ConvParams& p = n.conv;
      size_t expect = 2 + (p.has_bias ? 1 : 0) + (p.activation == Activation::kPrelu ? 1 : 0);
      if (n.inputs.size() != expect)
        return err("expected " + std::to_string(expect) + " inputs, got " +
                   std::to_string(n.inputs.size()));
      const Shape& x = in(0);
      const Shape& f = in(1);
      if (x.size() != 4) return err("input must be NHWC (rank 4), got " + ShapeToString(x));
      if (f.size() != 4) return err("filter must be rank 4, got " + ShapeToString(f));
      bool dw = n.op == OpType::kDepthwiseConv2D;
      if (f[2] != x[3])
        return err("filter shape " + ShapeToString(f) + " expects " + std::to_string(f[2]) +
                   " input channels but input " + ShapeToString(x) + " has " +
                   std::to_string(x[3]));
      int64_t oc = dw ? f[2] * f[3] : f[3];
      if (f[0] < 1 || f[1] < 1 || oc < 1) return err("empty filter " + ShapeToString(f));
      Window1D wh, ww;
      if (!ComputeWindow(p.padding, static_cast<int>(x[1]), static_cast<int>(f[0]), p.stride_h,
                         p.dilation_h, p.pad_top, p.pad_bottom, &wh) ||
          !ComputeWindow(p.padding, static_cast<int>(x[2]), static_cast<int>(f[1]), p.stride_w,
                         p.dilation_w, p.pad_left, p.pad_right, &ww))
        return err("filter " + ShapeToString(f) + " does not fit input " + ShapeToString(x));
      size_t next = 2;
      if (p.has_bias) {
        Status s = CheckPerChannel(err, "bias", in(next++), oc, false);
        if (!s.ok()) return s;
      }
      if (p.activation == Activation::kPrelu) {
        Status s = CheckPerChannel(err, "prelu alpha", in(next++), oc, true);
        if (!s.ok()) return s;
      }
      out = {x[0], wh.out, ww.out, oc};
      break;
    }
    case OpType::kMaxPool: {
      const PoolParams& p = n.pool;
      const Shape& x = in(0);
      if (x.size() != 4) return err("input must be NHWC (rank 4), got " + ShapeToString(x));
      Window1D wh, ww;
      if (!ComputeWindow(p.padding, static_cast<int>(x[1]), p.kernel_h, p.stride_h, 1, p.pad_top,
                         p.pad_bottom, &wh) ||
          !ComputeWindow(p.padding, static_cast<int>(x[2]), p.kernel_w, p.stride_w, 1, p.pad_left,
                         p.pad_right, &ww))
        return err("window does not fit input " + ShapeToString(x));
      out = {x[0], wh.out, ww.out, x[3]};
      break;
    }
    case OpType::kPad: {
      const Shape& x = in(0);
      if (n.pad_before.size() != x.size() || n.pad_after.size() != x.size())
        return err("paddings have " + std::to_string(n.pad_before.size()) + " rows but input " +
                   ShapeToString(x) + " has rank " + std::to_string(x.size()));
      out = x;
      for (size_t i = 0; i < x.size(); ++i) {
        if (n.pad_before[i] < 0 || n.pad_after[i] < 0) return err("negative padding");
        out[i] += n.pad_before[i] + n.pad_after[i];
      }
      break;
    }
    case OpType::kReshape: {
      int64_t total = NumElements(in(0));
      int64_t known = 1;
      int infer = -1;
      out = n.new_shape;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1) {
          if (infer >= 0) return err("more than one -1 in shape " + ShapeToString(n.new_shape));
          infer = static_cast<int>(i);
        } else if (out[i] < 0) {
          return err("bad target shape " + ShapeToString(n.new_shape));
        } else {
          if (out[i] != 0 && known > kMaxElements / out[i]) return err("target shape too large");
          known *= out[i];
        }
      }
      if (infer >= 0) {
        if (known == 0 || total % known != 0)
          return err("cannot reshape " + ShapeToString(in(0)) + " to " +
                     ShapeToString(n.new_shape));
        out[infer] = total / known;
      } else if (known != total) {
        return err("cannot reshape " + ShapeToString(in(0)) + " to " + ShapeToString(n.new_shape));
      }
      break;
    }
    case OpType::kMean: {
      const Shape& x = in(0);
      int rank = static_cast<int>(x.size());
      std::vector<bool> reduce(x.size(), false);
      for (int ax : n.axes) {
        int a = ax < 0 ? ax + rank : ax;
        if (a < 0 || a >= rank)
          return err("axis " + std::to_string(ax) + " out of range for " + ShapeToString(x));
        reduce[a] = true;
      }
      out.clear();
      for (int i = 0; i < rank; ++i) {
        if (!reduce[i]) {
          out.push_back(x[i]);
        } else if (n.keep_dims) {
          out.push_back(1);
        }
      }
      break;
    }
    case OpType::kConcat: {
      const Shape& x0 = in(0);
      int rank = static_cast<int>(x0.size());
      int axis = n.axis < 0 ? n.axis + rank : n.axis;
      if (axis < 0 || axis >= rank)
        return err("axis " + std::to_string(n.axis) + " out of range for " + ShapeToString(x0));
      out = x0;
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        const Shape& xi = in(i);
        if (static_cast<int>(xi.size()) != rank)
          return err("inputs " + ShapeToString(x0) + " and " + ShapeToString(xi) +
                     " differ in rank");
        for (int d = 0; d < rank; ++d)
          if (d != axis && xi[d] != x0[d])
            return err("inputs " + ShapeToString(x0) + " and " + ShapeToString(xi) +
                       " differ outside axis " + std::to_string(axis));
        out[axis] += xi[axis];
      }
      break;
    }
    case OpType::kMatMul: {
      const MatMulParams& p = n.matmul;
      size_t expect = 2 + (p.has_bias ? 1 : 0) + (p.activation == Activation::kPrelu ? 1 : 0);
      if (n.inputs.size() != expect)
        return err("expected " + std::to_string(expect) + " inputs, got " +
                   std::to_string(n.inputs.size()));
      const Shape& a = in(0);
      const Shape& b = in(1);
      if (a.size() != 2 || b.size() != 2)
        return err("operands must be 2-D, got " + ShapeToString(a) + " and " + ShapeToString(b));
      int64_t m = p.transpose_a ? a[1] : a[0];
      int64_t ka = p.transpose_a ? a[0] : a[1];
      int64_t kb = p.transpose_b ? b[1] : b[0];
      int64_t nn = p.transpose_b ? b[0] : b[1];
      if (ka != kb)
        return err("inner dimensions differ: " + ShapeToString(a) + " x " + ShapeToString(b) +
                   (p.transpose_a ? " (transpose_a)" : "") +
                   (p.transpose_b ? " (transpose_b)" : ""));
      size_t next = 2;
      if (p.has_bias) {
        Status s = CheckPerChannel(err, "bias", in(next++), nn, false);
        if (!s.ok()) return s;
      }
      if (p.activation == Activation::kPrelu) {
        Status s = CheckPerChannel(err, "prelu alpha", in(next++), nn, true);
        if (!s.ok()) return s;
      }
      out = {m, nn};
      break;
    }
  }
  if (out.size() > static_cast<size_t>(kMaxRank))
    return err("output rank " + std::to_string(out.size()) + " exceeds " +
               std::to_string(kMaxRank));
  int64_t count;
  if (!CheckedProduct(out, &count)) return err("output shape " + ShapeToString(out) + " too large");
  return Status::Ok();
}

}  // namespace

bool ComputeWindow(Padding padding, int in, int kernel, int stride, int dilation,
                   int explicit_before, int explicit_after, Window1D* w) {
  if (in < 1 || kernel < 1 || stride < 1 || dilation < 1) return false;
  int64_t eff = static_cast<int64_t>(kernel - 1) * dilation + 1;
  // Keeps pads and every window index (out * stride + k * dilation) far inside int.
  constexpr int64_t kLimit = int64_t{1} << 24;
  if (eff > kLimit || in > kLimit || stride > kLimit || explicit_before > kLimit ||
      explicit_after > kLimit)
    return false;
  switch (padding) {
    case Padding::kValid:
      if (eff > in) return false;
      w->out = static_cast<int>((in - eff + stride) / stride);
      w->pad_before = w->pad_after = 0;
      return true;
    case Padding::kSame: {
      w->out = (in + stride - 1) / stride;
      int64_t total = std::max<int64_t>((int64_t{w->out} - 1) * stride + eff - in, 0);
      w->pad_before = static_cast<int>(total / 2);
      w->pad_after = static_cast<int>(total - total / 2);
      return true;
    }
    case Padding::kExplicit: {
      if (explicit_before < 0 || explicit_after < 0) return false;
      int64_t padded = int64_t{in} + explicit_before + explicit_after;
      if (eff > padded) return false;
      w->out = static_cast<int>((padded - eff) / stride + 1);
      w->pad_before = explicit_before;
      w->pad_after = explicit_after;
      return true;
    }
  }
  return false;
}

std::vector<Shape> NativeInputShapes(const Model& model, int64_t batch) {
  std::vector<Shape> shapes;
  for (const IoSpec& io : model.inputs) {
    Shape s = io.shape;
    for (int64_t& d : s)
      if (d < 0) d = batch;
    shapes.push_back(std::move(s));
  }
  return shapes;
}

Status InferShapes(const Model& model, std::span<const Shape> input_shapes,
                   std::vector<Shape>* shapes) {
  if (input_shapes.size() != model.inputs.size())
    return Status::Error(model.path + ": expected " + std::to_string(model.inputs.size()) +
                         " input shape(s), got " + std::to_string(input_shapes.size()));
  shapes->assign(model.tensors.size(), Shape{});
  std::vector<char> known(model.tensors.size(), 0);
  for (size_t t = 0; t < model.tensors.size(); ++t)
    if (model.tensors[t].is_constant) {
      (*shapes)[t] = model.tensors[t].shape;
      known[t] = 1;
    }
  for (size_t i = 0; i < input_shapes.size(); ++i) {
    const IoSpec& io = model.inputs[i];
    const Shape& given = input_shapes[i];
    bool ok = given.size() == io.shape.size();
    for (size_t d = 0; ok && d < given.size(); ++d)
      ok = given[d] >= 1 && given[d] <= (int64_t{1} << 24) &&
           (io.shape[d] < 0 || io.shape[d] == given[d]);
    int64_t count;
    if (!ok || !CheckedProduct(given, &count))
      return Status::Error(model.path + ": input '" + io.name + "' has shape " +
                           ShapeToString(given) + " but the model expects " +
                           ShapeToString(io.shape) + " (-1 = any size)");
    (*shapes)[io.tensor] = given;
    known[io.tensor] = 1;
  }
  for (const Node& n : model.nodes) {
    Status s = InferNode(model, n, *shapes, known);
    if (!s.ok()) return s;
  }
  for (const IoSpec& io : model.outputs)
    if (io.tensor < 0 || io.tensor >= static_cast<int>(known.size()) || !known[io.tensor])
      return Status::Error(model.path + ": output '" + io.name + "' is never computed");
  return Status::Ok();
}

}  // namespace fg::nn
