// The XNNPACK translation table: one Model node -> one (or a few) xnn_define_* calls.
// See xnnpack_backend.h for the contract. Written against the Debian XNNPACK snapshot
// 0.0~git20220216 (old argument orders: e.g. maximum2/minimum2 take no output range,
// depthwise filters are [1, kh, kw, C*M], conv filters [O, kh, kw, I], no concatenate).
//
// Plan layout (all built in Prepare):
//
//   graph input ─(bound in place, or copied to its arena slot: see Run)─┐
//                                                                        v
//        [XNNPACK segment 0] ──> arena ──> [reference op] ──> arena ──> [segment 1] ──> ...
//         one xnn_runtime;                  engine/nn/ops                     │
//         internal activations                                               v
//         live in XNNPACK's own memory                          arena ──copy──> outputs
//
// Only tensors that cross a segment boundary, feed or leave a reference op or a residual
// chain, or are graph inputs/outputs get an arena slot; everything else stays inside an XNNPACK
// runtime. The six Human models are one segment each (iris: one segment plus its trailing
// ConcatV2), except BlazeFace and FaceMesh on an AVX-512 CPU: their stem and body are one
// residual chain (engine/nn/cpu/residual_chain.h: XNNPACK's per-node passes are memory-bound
// there), their heads one segment. A chain runs on the calling thread whatever the thread count.
#include "engine/nn/xnnpack/xnnpack_backend.h"

#include <xnnpack.h>
#include <pthreadpool.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/nn/cpu/residual_chain.h"
#include "engine/nn/shape_inference.h"
#include "engine/nn/xnnpack/reference_fallback.h"

namespace fg::nn {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

const char* XnnStatusName(xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

// xnn_initialize is idempotent but not free; do it once per process and never deinitialize
// (plans may live until exit).
xnn_status InitializeXnnpackOnce() {
  static const xnn_status status = xnn_initialize(/*allocator=*/nullptr);
  return status;
}

// How one model node is executed.
enum class Exec {
  kAlias,     // Identity: its output is the same tensor as its input (no work)
  kXnn,       // one or more xnn_define_* calls inside a segment
  kFused,     // a Relu/Relu6 folded into its producer's output range
  kFallback,  // the reference op, between segments
  kNative,    // part of a residual-block chain run by engine/nn/cpu/residual_chain (AVX-512)
};

// XNNPACK wants dims as size_t, and rejects rank 0: scalars become [1].
std::vector<size_t> Dims(const Shape& s) {
  if (s.empty()) return {1};
  return std::vector<size_t>(s.begin(), s.end());
}

bool IsRank(const Shape& s, size_t r) { return s.size() == r; }

// Numpy broadcasting of a against b, as xnn_define_add2 & co. accept it.
bool Broadcastable(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return false;
  }
  return true;
}

// One XNNPACK runtime's worth of consecutive nodes.
struct Segment {
  std::vector<int> nodes;      // Exec::kXnn nodes, in model order
  std::vector<int> externals;  // external value id i <-> canonical tensor externals[i]
  std::vector<bool> is_output; // per external: written by the segment (else read)
};

struct Step {
  enum Kind { kXnn, kFallback, kNative };
  Kind kind = kXnn;  // invoke runtime `index` / reference op fallbacks_[index] / chains_[index]
  int index = 0;
};

// BlazeFace's residual blocks (DepthwiseConv2D 3x3 -> Conv2D 1x1 -> Add(x or its max-pool)
// -> Relu), a run of them executed by one cpu::ResidualChain (see residual_chain.h for why it
// beats XNNPACK's one-pass-per-node here).
struct ResidualMatch {
  int x = -1, y = -1;  // canonical input and output tensors; x < 0: no match
  int nodes = 0;       // model nodes in the block (consecutive)
  cpu::ResidualBlock block;
};

struct NativeChain {
  int first_node = 0, last_node = 0;  // model nodes [first, last], all Exec::kNative
  int input = 0, output = 0;          // canonical tensors, NHWC
  int batch = 1;
  int graph_input = -1;  // >= 0: the input is that model input, read from the caller's buffer
  std::unique_ptr<cpu::ResidualChain> chain;
};

using xnnpack_internal::FallbackNode;

// A float buffer with 64-byte alignment (XNNPACK's kernels prefer it) that never moves.
struct AlignedFloats {
  float* data = nullptr;
  explicit AlignedFloats(size_t n) {
    const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
    data = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
    if (data) std::memset(data, 0, bytes == 0 ? 64 : bytes);
  }
  ~AlignedFloats() { std::free(data); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
};

class XnnPlan;

class XnnContext final : public RunContext {
 public:
  XnnContext(const XnnPlan* plan, size_t arena_floats, size_t chain_floats)
      : plan_(plan), arena_(arena_floats), chain_scratch_(chain_floats) {}
  ~XnnContext() override {
    for (xnn_runtime_t rt : runtimes_) xnn_delete_runtime(rt);
    if (pool_) pthreadpool_destroy(pool_);
  }
  const XnnPlan* plan_;
  AlignedFloats arena_;
  AlignedFloats chain_scratch_;  // row rings of the residual chains (one chain at a time)
  // Only a multi-threaded context has a pool; a null pool makes XNNPACK run inline.
  pthreadpool_t pool_ = nullptr;
  std::vector<xnn_runtime_t> runtimes_;    // one per segment
  std::vector<const float*> fallback_in_;  // reference-op input pointers, sized at creation
  std::vector<double> scratch_;            // reference Mean accumulator
  // The external values each runtime is set up with, and the memory each graph input is
  // currently bound to (its arena slot, or the caller's buffer: see Run).
  std::vector<std::vector<xnn_external_value>> externals_;
  std::vector<const float*> bound_input_;
  std::vector<char> needs_setup_;  // per segment, scratch of Run
};

class XnnPlan final : public Plan {
 public:
  XnnPlan(const Model& model, int threads, bool own_kernels)
      : model_(model), threads_(threads), own_kernels_(own_kernels) {}
  ~XnnPlan() override {
    for (xnn_runtime_t rt : spare_runtimes_) xnn_delete_runtime(rt);
    if (spare_pool_) pthreadpool_destroy(spare_pool_);
  }

  Status Build(std::span<const Shape> input_shapes);

  const std::vector<Shape>& input_shapes() const override { return input_shapes_; }
  const std::vector<Shape>& output_shapes() const override { return output_shapes_; }
  std::unique_ptr<RunContext> NewContext() const override;
  Status Run(std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs,
             RunContext& ctx) const override;

  XnnpackPlanStats stats() const {
    XnnpackPlanStats s;
    s.segments = static_cast<int>(segments_.size());
    for (Exec e : exec_) {
      if (e == Exec::kXnn || e == Exec::kFused) ++s.xnn_nodes;
      if (e == Exec::kFallback) ++s.fallback_nodes;
      if (e == Exec::kNative) ++s.native_nodes;
    }
    s.native_chains = static_cast<int>(chains_.size());
    return s;
  }

 private:
  Status NodeError(int n, const std::string& why) const {
    const Node& node = model_.nodes[n];
    return Status::Error(model_.path + ": node '" + node.name + "' (" + node.tf_op +
                         "): XNNPACK backend: " + why);
  }
  int Canon(int t) const { return alias_[t]; }
  bool IsConst(int t) const { return model_.tensors[t].is_constant; }
  const float* ConstData(int t) const { return model_.tensors[t].f32.data(); }
  bool SupportedByXnn(int n) const;
  ResidualMatch MatchResidualBlock(int n, const std::vector<int>& consumers,
                                   const std::vector<bool>& is_graph_output) const;
  void FindResidualChains(const std::vector<int>& consumers,
                          const std::vector<bool>& is_graph_output);
  bool MatchStem(int p, int x, const std::vector<int>& consumers,
                 const std::vector<bool>& is_graph_output, cpu::StemConv* stem) const;
  Status PackWeights(int n);
  Result<xnn_runtime_t> CreateRuntime(int seg, pthreadpool_t pool) const;
  Status DefineNode(xnn_subgraph_t sg, int n, std::map<int, uint32_t>* values) const;
  float* Slot(XnnContext& c, int t) const { return c.arena_.data + slot_offset_[Canon(t)]; }

  const Model& model_;
  const int threads_;
  const bool own_kernels_;
  std::vector<Shape> input_shapes_, output_shapes_;
  std::vector<Shape> shapes_;        // per tensor, for the prepared input shapes
  std::vector<int> alias_;           // tensor -> canonical tensor (through Identity chains)
  std::vector<Exec> exec_;           // per node
  std::vector<int> xnn_out_;         // per node: the tensor its XNNPACK output value is
  std::vector<float> out_min_, out_max_;  // per node: fused output range
  std::vector<std::vector<float>> packed_filter_;  // per node: OHWI conv / [n,k] matmul
  std::vector<std::vector<float>> zero_bias_;      // per node: conv without a bias
  std::vector<std::vector<float>> alpha_;          // per node: PReLU slope, one per channel
  std::vector<Segment> segments_;
  std::vector<Step> steps_;
  std::vector<size_t> slot_offset_;  // per canonical tensor: arena offset (floats)
  std::vector<bool> has_slot_;
  size_t arena_floats_ = 0;
  std::vector<FallbackNode> fallbacks_;
  std::vector<NativeChain> chains_;
  size_t chain_scratch_floats_ = 0;
  // Graph inputs read only by XNNPACK segments can be bound to the caller's buffer instead of
  // being copied into the arena (see Run). One entry per (input, segment, external id).
  struct InputBinding {
    int input, segment, external;
  };
  std::vector<bool> direct_input_;   // per model input
  std::vector<bool> chain_only_input_;  // per model input: read by residual chains alone
  std::vector<InputBinding> input_bindings_;
  uintptr_t page_size_ = 4096;
  size_t max_fallback_inputs_ = 0;
  size_t max_scratch_doubles_ = 0;

  // The runtimes built while validating in Prepare, handed to the first context so its
  // weights are packed only once, at load.
  mutable std::mutex spare_mu_;
  mutable std::vector<xnn_runtime_t> spare_runtimes_;
  mutable pthreadpool_t spare_pool_ = nullptr;
};

// ---------------------------------------------------------------------------------------
// What XNNPACK (this version) can take. Anything else becomes a reference-op step.
bool XnnPlan::SupportedByXnn(int n) const {
  const Node& node = model_.nodes[n];
  auto in_shape = [&](int i) -> const Shape& { return shapes_[node.inputs[i]]; };
  const Shape& out = shapes_[node.output];
  switch (node.op) {
    case OpType::kIdentity:
      return false;  // handled as an alias before this is asked
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      if (!IsRank(in_shape(0), 4) || !IsRank(out, 4)) return false;
      for (size_t i = 1; i < node.inputs.size(); ++i)
        if (!IsConst(node.inputs[i])) return false;
      const Shape& f = in_shape(1);
      if (!IsRank(f, 4)) return false;
      if (node.op == OpType::kConv2D && (f[2] == 0 || in_shape(0)[3] % f[2] != 0)) return false;
      return true;
    }
    case OpType::kAdd:
    case OpType::kMul:
    case OpType::kMinimum:
    case OpType::kMaximum:
      if (IsConst(node.inputs[0]) && IsConst(node.inputs[1])) return false;
      if (in_shape(0).size() > 4 || in_shape(1).size() > 4) return false;
      return Broadcastable(in_shape(0), in_shape(1));
    case OpType::kRelu:
    case OpType::kSigmoid:
      return true;
    case OpType::kSoftmax:
      return !in_shape(0).empty();
    case OpType::kPrelu: {
      const Shape& x = in_shape(0);
      const int64_t a = NumElements(in_shape(1));
      return IsConst(node.inputs[1]) && !x.empty() && x.size() <= 4 && (a == x.back() || a == 1);
    }
    case OpType::kMaxPool:
      // XNNPACK rejects 1x1 pooling windows (a strided copy); the reference op does it.
      return IsRank(in_shape(0), 4) && node.pool.kernel_h * node.pool.kernel_w > 1;
    case OpType::kPad:
      for (size_t d = 0; d < node.pad_before.size(); ++d)
        if (node.pad_before[d] < 0 || node.pad_after[d] < 0) return false;
      return !in_shape(0).empty() && in_shape(0).size() <= XNN_MAX_TENSOR_DIMS;
    case OpType::kReshape:
      return in_shape(0).size() <= XNN_MAX_TENSOR_DIMS && out.size() <= XNN_MAX_TENSOR_DIMS;
    case OpType::kMean:
      // Global average pooling is the only reduction this XNNPACK has.
      return IsRank(in_shape(0), 4) && node.axes == std::vector<int>{1, 2};
    case OpType::kConcat:
      return false;  // no xnn_define_concatenate* in this snapshot
    case OpType::kMatMul: {
      if (node.matmul.transpose_a || !IsRank(in_shape(0), 2)) return false;
      for (size_t i = 1; i < node.inputs.size(); ++i)
        if (!IsConst(node.inputs[i])) return false;
      return IsRank(in_shape(1), 2);
    }
  }
  return false;
}

// Weight layout changes, done once: TF HWIO -> XNNPACK OHWI; MatMul [k,n] -> [n,k].
// Depthwise filters need none: TF [kh,kw,C,M] is already XNNPACK's [1,kh,kw,C*M] in memory.
Status XnnPlan::PackWeights(int n) {
  const Node& node = model_.nodes[n];
  if (node.op == OpType::kConv2D) {
    const Shape& f = shapes_[node.inputs[1]];
    const int64_t kh = f[0], kw = f[1], ci = f[2], co = f[3];
    const float* src = ConstData(node.inputs[1]);
    std::vector<float>& dst = packed_filter_[n];
    dst.resize(static_cast<size_t>(NumElements(f)));
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t o = 0; o < co; ++o)
            dst[((o * kh + y) * kw + x) * ci + i] = src[((y * kw + x) * ci + i) * co + o];
    if (!node.conv.has_bias) zero_bias_[n].assign(static_cast<size_t>(co), 0.f);
  } else if (node.op == OpType::kMatMul) {
    const Shape& b = shapes_[node.inputs[1]];
    const float* src = ConstData(node.inputs[1]);
    std::vector<float>& dst = packed_filter_[n];
    dst.resize(static_cast<size_t>(NumElements(b)));
    if (node.matmul.transpose_b) {  // already [n,k]
      std::copy(src, src + dst.size(), dst.begin());
    } else {
      const int64_t k = b[0], nn = b[1];
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < nn; ++j) dst[j * k + i] = src[i * nn + j];
    }
  }
  // PReLU slopes: XNNPACK wants one per channel; TF also allows a single broadcast value.
  const bool conv_like = node.op == OpType::kConv2D || node.op == OpType::kDepthwiseConv2D;
  const bool has_prelu = node.op == OpType::kPrelu ||
                         (conv_like && node.conv.activation == Activation::kPrelu) ||
                         (node.op == OpType::kMatMul && node.matmul.activation == Activation::kPrelu);
  if (has_prelu) {
    const int a = node.inputs.back();
    const int64_t channels = shapes_[node.output].back();
    const int64_t count = NumElements(shapes_[a]);
    if (count != channels && count != 1)
      return NodeError(n, "PReLU alpha " + ShapeToString(shapes_[a]) +
                              " is neither per-channel nor scalar");
    alpha_[n].resize(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) alpha_[n][c] = ConstData(a)[count == 1 ? 0 : c];
  }
  return Status::Ok();
}

// Nodes n.. as one residual block (cpu/residual_chain.h), with no other reader of its inner
// tensors. Stride 1, four nodes:
//   x -> DepthwiseConv2D 3x3 /1 (pads 1) -> Conv2D 1x1 C->C -> Add(x, .) -> Relu
// Stride 2 (even H, W), five or six nodes:
//   x -> DepthwiseConv2D 3x3 /2 (pads 0, 1), x -> MaxPool 2x2 /2, Conv2D 1x1 C->C' on the
//   depthwise, [Pad of the pool's channels C -> C' with zeros after], Add, Relu
// (BlazeFace); FaceMesh orders them MaxPool, depthwise, Pad, 1x1, and its Relu is a Prelu
// with one constant slope per output channel: both accepted.
ResidualMatch XnnPlan::MatchResidualBlock(int n, const std::vector<int>& consumers,
                                          const std::vector<bool>& is_graph_output) const {
  const int num_n = static_cast<int>(model_.nodes.size());
  ResidualMatch no;
  auto node_at = [&](int i) -> const Node* {
    return i < num_n && exec_[i] == Exec::kXnn ? &model_.nodes[i] : nullptr;
  };
  int i = n;
  const Node* lead_pool = node_at(i);
  if (lead_pool != nullptr && lead_pool->op == OpType::kMaxPool)
    ++i;
  else
    lead_pool = nullptr;
  const Node* dw = node_at(i++);
  if (dw == nullptr || dw->op != OpType::kDepthwiseConv2D) return no;
  const int x = Canon(dw->inputs[0]);
  const Shape& xs = shapes_[x];
  if (!IsRank(xs, 4) || NumElements(xs) == 0) return no;
  const int64_t h = xs[1], w = xs[2], c = xs[3];
  const int stride = dw->conv.stride_h;
  if ((stride != 1 && stride != 2) || dw->conv.stride_w != stride) return no;
  if (lead_pool != nullptr && stride != 2) return no;
  if (stride == 2 && (h % 2 != 0 || w % 2 != 0)) return no;
  const int pad_lo = stride == 1 ? 1 : 0;
  auto plain_conv = [&](const Node& node, int64_t k, int s, int lo, int hi) {
    const ConvParams& p = node.conv;
    if (p.stride_h != s || p.stride_w != s || p.dilation_h != 1 || p.dilation_w != 1 ||
        p.activation != Activation::kNone)
      return false;
    for (size_t i = 1; i < node.inputs.size(); ++i)
      if (!IsConst(node.inputs[i])) return false;
    Window1D wy, wx;
    if (!ComputeWindow(p.padding, static_cast<int>(h), static_cast<int>(k), s, 1, p.pad_top,
                       p.pad_bottom, &wy) ||
        !ComputeWindow(p.padding, static_cast<int>(w), static_cast<int>(k), s, 1, p.pad_left,
                       p.pad_right, &wx))
      return false;
    return wy.pad_before == lo && wy.pad_after == hi && wx.pad_before == lo && wx.pad_after == hi;
  };
  auto inner = [&](int t) { return consumers[t] == 1 && !is_graph_output[t]; };
  if (shapes_[dw->inputs[1]] != Shape{3, 3, c, 1} || !plain_conv(*dw, 3, stride, pad_lo, 1))
    return no;
  const int t_dw = Canon(dw->output);
  if (!inner(t_dw)) return no;
  int t_res = x;  // the residual the Add reads
  if (stride == 2) {
    const Node* pool = lead_pool != nullptr ? lead_pool : node_at(i++);
    if (pool == nullptr || pool->op != OpType::kMaxPool || Canon(pool->inputs[0]) != x) return no;
    const PoolParams& pp = pool->pool;
    if (pp.kernel_h != 2 || pp.kernel_w != 2 || pp.stride_h != 2 || pp.stride_w != 2) return no;
    Window1D wy, wx;
    if (!ComputeWindow(pp.padding, static_cast<int>(h), 2, 2, 1, pp.pad_top, pp.pad_bottom, &wy) ||
        !ComputeWindow(pp.padding, static_cast<int>(w), 2, 2, 1, pp.pad_left, pp.pad_right, &wx) ||
        wy.pad_before + wy.pad_after + wx.pad_before + wx.pad_after != 0)
      return no;
    t_res = Canon(pool->output);
    if (!inner(t_res)) return no;
  }
  // The channel Pad of the pool's output may come before the 1x1 (FaceMesh) or after it.
  const Node* pad = nullptr;
  if (stride == 2) {
    const Node* next = node_at(i);
    if (next != nullptr && next->op == OpType::kPad) {
      pad = next;
      ++i;
    }
  }
  const Node* pw = node_at(i++);
  if (pw == nullptr || pw->op != OpType::kConv2D || Canon(pw->inputs[0]) != t_dw) return no;
  const Shape& pf = shapes_[pw->inputs[1]];
  if (!IsRank(pf, 4) || pf[0] != 1 || pf[1] != 1 || pf[2] != c || pf[3] < c) return no;
  if (stride == 1 && pf[3] != c) return no;
  const int64_t c_out = pf[3];
  {
    // The 1x1's window is over the depthwise output, whose size differs at stride 2.
    const ConvParams& p = pw->conv;
    if (p.stride_h != 1 || p.stride_w != 1 || p.dilation_h != 1 || p.dilation_w != 1 ||
        p.activation != Activation::kNone)
      return no;
    for (size_t k = 1; k < pw->inputs.size(); ++k)
      if (!IsConst(pw->inputs[k])) return no;
    if (p.padding == Padding::kExplicit &&
        (p.pad_top | p.pad_bottom | p.pad_left | p.pad_right) != 0)
      return no;
  }
  const int t_pw = Canon(pw->output);
  if (!inner(t_pw)) return no;
  if (c_out != c) {
    if (pad == nullptr) pad = node_at(i++);
    if (pad == nullptr || pad->op != OpType::kPad || Canon(pad->inputs[0]) != t_res) return no;
    if (pad->pad_before != std::vector<int>{0, 0, 0, 0} ||
        pad->pad_after != std::vector<int>{0, 0, 0, static_cast<int>(c_out - c)})
      return no;
    t_res = Canon(pad->output);
    if (!inner(t_res)) return no;
  } else if (pad != nullptr) {
    return no;
  }
  const Node* add = node_at(i++);
  if (add == nullptr || add->op != OpType::kAdd) return no;
  const int a0 = Canon(add->inputs[0]), a1 = Canon(add->inputs[1]);
  if (!((a0 == t_res && a1 == t_pw) || (a0 == t_pw && a1 == t_res))) return no;
  if (shapes_[a0] != shapes_[a1]) return no;
  const int t_add = Canon(add->output);
  if (!inner(t_add)) return no;
  const Node* relu = node_at(i++);
  if (relu == nullptr || Canon(relu->inputs[0]) != t_add) return no;
  const float* alpha = nullptr;
  if (relu->op == OpType::kPrelu) {
    const int a = relu->inputs.back();
    if (relu->inputs.size() != 2 || !IsConst(a) || NumElements(shapes_[a]) != c_out) return no;
    alpha = ConstData(a);
  } else if (relu->op != OpType::kRelu) {
    return no;
  }
  ResidualMatch m;
  m.x = x;
  m.y = Canon(relu->output);
  m.nodes = i - n;
  m.block.dw_filter = ConstData(dw->inputs[1]);
  m.block.dw_bias = dw->conv.has_bias ? ConstData(dw->inputs[2]) : nullptr;
  m.block.pw_filter = ConstData(pw->inputs[1]);
  m.block.pw_bias = pw->conv.has_bias ? ConstData(pw->inputs[2]) : nullptr;
  m.block.stride = stride;
  m.block.out_channels = static_cast<int>(c_out);
  m.block.prelu_alpha = alpha;
  return m;
}

// Node p as a chain's stem (cpu::StemConv): a Conv2D k x k (k odd <= 7), stride 2, SAME, on
// an input of even H and W, at most 24 output channels, bias, no activation, ReLU or a
// per-channel PReLU, whose output is the chain's input x and read by nothing else.
bool XnnPlan::MatchStem(int p, int x, const std::vector<int>& consumers,
                        const std::vector<bool>& is_graph_output, cpu::StemConv* stem) const {
  if (p < 0 || exec_[p] != Exec::kXnn) return false;
  const Node& node = model_.nodes[p];
  if (node.op != OpType::kConv2D || Canon(node.output) != x) return false;
  // x feeds the first block only: its depthwise and its Add or MaxPool.
  if (consumers[x] != 2 || is_graph_output[x]) return false;
  const ConvParams& c = node.conv;
  if (c.stride_h != 2 || c.stride_w != 2 || c.dilation_h != 1 || c.dilation_w != 1) return false;
  if (c.activation != Activation::kNone && c.activation != Activation::kRelu &&
      c.activation != Activation::kPrelu)
    return false;
  for (size_t i = 1; i < node.inputs.size(); ++i)
    if (!IsConst(node.inputs[i])) return false;
  const Shape& in = shapes_[Canon(node.inputs[0])];
  const Shape& f = shapes_[node.inputs[1]];
  const Shape& out = shapes_[x];
  if (!IsRank(in, 4) || !IsRank(f, 4) || NumElements(in) == 0) return false;
  const int64_t k = f[0];
  if (f[1] != k || k % 2 == 0 || k > 7 || f[2] != in[3] || f[3] > 24 || f[3] != out[3]) return false;
  if (in[1] % 2 != 0 || in[2] % 2 != 0 || out[1] * 2 != in[1] || out[2] * 2 != in[2]) return false;
  Window1D wy, wx;
  if (!ComputeWindow(c.padding, static_cast<int>(in[1]), static_cast<int>(k), 2, 1, c.pad_top,
                     c.pad_bottom, &wy) ||
      !ComputeWindow(c.padding, static_cast<int>(in[2]), static_cast<int>(k), 2, 1, c.pad_left,
                     c.pad_right, &wx))
    return false;
  stem->filter = ConstData(node.inputs[1]);
  stem->bias = c.has_bias ? ConstData(node.inputs[2]) : nullptr;
  stem->channels = static_cast<int>(f[3]);
  stem->kernel = static_cast<int>(k);
  stem->pad_top = wy.pad_before;
  stem->pad_left = wx.pad_before;
  stem->relu = c.activation == Activation::kRelu;
  stem->prelu_alpha = nullptr;
  if (c.activation == Activation::kPrelu) {
    if (NumElements(shapes_[node.inputs.back()]) != f[3]) return false;
    stem->prelu_alpha = ConstData(node.inputs.back());
  }
  return true;
}

// Marks maximal runs of residual blocks (each block's output read only by the next block)
// Exec::kNative, one NativeChain each. Only where the AVX-512 kernel can run.
void XnnPlan::FindResidualChains(const std::vector<int>& consumers,
                                 const std::vector<bool>& is_graph_output) {
  if (!own_kernels_ || !cpu::ResidualChain::Supported()) return;
  const int num_n = static_cast<int>(model_.nodes.size());
  for (int n = 0; n < num_n;) {
    ResidualMatch b = MatchResidualBlock(n, consumers, is_graph_output);
    if (b.x < 0) {
      ++n;
      continue;
    }
    NativeChain ch;
    ch.first_node = n;
    ch.input = b.x;
    std::vector<cpu::ResidualBlock> blocks;
    int m = n;
    for (;;) {
      blocks.push_back(b.block);
      m += b.nodes;
      const int y = b.y;
      // The next block continues the chain when it alone reads y (its depthwise and its
      // Add or MaxPool), up to the kernel's block limit (then a new chain starts).
      if (consumers[y] == 2 && !is_graph_output[y] &&
          static_cast<int>(blocks.size()) < cpu::detail::kMaxChainBlocks) {
        b = MatchResidualBlock(m, consumers, is_graph_output);
        if (b.x == y) continue;
      }
      ch.output = y;
      break;
    }
    ch.last_node = m - 1;
    const Shape& xs = shapes_[ch.input];
    ch.batch = static_cast<int>(xs[0]);
    cpu::StemConv stem;
    if (MatchStem(n - 1, ch.input, consumers, is_graph_output, &stem)) {
      // The node right before the chain computes its input: it joins as the stem.
      --n;
      ch.first_node = n;
      ch.input = Canon(model_.nodes[n].inputs[0]);
      const Shape& ss = shapes_[ch.input];
      ch.chain = std::make_unique<cpu::ResidualChain>(static_cast<int>(ss[1]), static_cast<int>(ss[2]),
                                                      static_cast<int>(ss[3]), stem, blocks);
    } else {
      ch.chain = std::make_unique<cpu::ResidualChain>(static_cast<int>(xs[1]), static_cast<int>(xs[2]),
                                                      static_cast<int>(xs[3]), blocks);
    }
    chain_scratch_floats_ = std::max(chain_scratch_floats_, ch.chain->scratch_floats());
    for (int i = n; i < m; ++i) exec_[i] = Exec::kNative;
    chains_.push_back(std::move(ch));
    n = m;
  }
}

Status XnnPlan::Build(std::span<const Shape> input_shapes) {
  if (InitializeXnnpackOnce() != xnn_status_success)
    return Status::Error(model_.path + ": XNNPACK backend: xnn_initialize failed (" +
                         XnnStatusName(InitializeXnnpackOnce()) + ")");
  if (Status s = InferShapes(model_, input_shapes, &shapes_); !s.ok()) return s;
  for (const IoSpec& io : model_.inputs) input_shapes_.push_back(shapes_[io.tensor]);
  for (const IoSpec& io : model_.outputs) output_shapes_.push_back(shapes_[io.tensor]);

  const int num_t = static_cast<int>(model_.tensors.size());
  const int num_n = static_cast<int>(model_.nodes.size());
  for (int t = 0; t < num_t; ++t) {
    if (model_.tensors[t].dtype != DType::kFloat32 && !model_.tensors[t].is_constant)
      return Status::Error(model_.path + ": XNNPACK backend: tensor '" + model_.tensors[t].name +
                           "' is not float32");
  }
  alias_.resize(num_t);
  for (int t = 0; t < num_t; ++t) alias_[t] = t;
  exec_.assign(num_n, Exec::kXnn);
  xnn_out_.assign(num_n, -1);
  out_min_.assign(num_n, -kInf);
  out_max_.assign(num_n, kInf);
  packed_filter_.resize(num_n);
  zero_bias_.resize(num_n);
  alpha_.resize(num_n);

  // 1. Identity chains become aliases; everything else is XNNPACK or a reference op.
  std::vector<int> producer(num_t, -1);
  for (int n = 0; n < num_n; ++n) {
    const Node& node = model_.nodes[n];
    if (node.op == OpType::kIdentity) {
      exec_[n] = Exec::kAlias;
      alias_[node.output] = alias_[node.inputs[0]];
      continue;
    }
    exec_[n] = SupportedByXnn(n) ? Exec::kXnn : Exec::kFallback;
    xnn_out_[n] = node.output;
    producer[node.output] = n;
  }
  for (const IoSpec& io : model_.outputs)
    if (IsConst(Canon(io.tensor)))
      return Status::Error(model_.path + ": XNNPACK backend: output '" + io.name +
                           "' is a constant");

  // 2. Consumers per canonical tensor (a graph output counts as one).
  std::vector<int> consumers(num_t, 0);
  std::vector<bool> is_graph_output(num_t, false);
  for (int n = 0; n < num_n; ++n) {
    if (exec_[n] == Exec::kAlias) continue;
    for (int t : model_.nodes[n].inputs) ++consumers[Canon(t)];
  }
  for (const IoSpec& io : model_.outputs) {
    ++consumers[Canon(io.tensor)];
    is_graph_output[Canon(io.tensor)] = true;
  }

  // 2b. Residual-block chains go to the own AVX-512 kernel (before fusion: their Relus stay).
  FindResidualChains(consumers, is_graph_output);

  // 3. Fuse Relu / Relu6 into the output range of a conv / add / mul / matmul that feeds
  //    only it (XNNPACK clamps in the kernel's epilogue: one pass over memory fewer).
  for (int n = 0; n < num_n; ++n) {
    const Node& node = model_.nodes[n];
    if (node.op != OpType::kRelu || exec_[n] != Exec::kXnn) continue;
    const int t = Canon(node.inputs[0]);
    const int p = producer[t];
    if (p < 0 || exec_[p] != Exec::kXnn || consumers[t] != 1 || is_graph_output[t]) continue;
    const Node& pn = model_.nodes[p];
    const bool conv_like = pn.op == OpType::kConv2D || pn.op == OpType::kDepthwiseConv2D;
    const Activation act = conv_like ? pn.conv.activation
                           : pn.op == OpType::kMatMul ? pn.matmul.activation
                                                      : Activation::kNone;
    const bool fusable = conv_like || pn.op == OpType::kMatMul || pn.op == OpType::kAdd ||
                         pn.op == OpType::kMul;
    if (!fusable || act == Activation::kPrelu) continue;
    exec_[n] = Exec::kFused;
    xnn_out_[p] = node.output;
    out_min_[p] = std::max(out_min_[p], 0.f);
    producer[node.output] = p;
  }
  // Activations fused in the model itself.
  for (int n = 0; n < num_n; ++n) {
    if (exec_[n] != Exec::kXnn) continue;
    const Node& node = model_.nodes[n];
    Activation act = Activation::kNone;
    if (node.op == OpType::kConv2D || node.op == OpType::kDepthwiseConv2D) act = node.conv.activation;
    if (node.op == OpType::kMatMul) act = node.matmul.activation;
    if (act == Activation::kRelu) out_min_[n] = std::max(out_min_[n], 0.f);
    if (act == Activation::kRelu6) {
      out_min_[n] = std::max(out_min_[n], 0.f);
      out_max_[n] = std::min(out_max_[n], 6.f);
    }
    if (Status s = PackWeights(n); !s.ok()) return s;
  }

  // 4. Segments: maximal runs of XNNPACK nodes in model order; reference ops between them.
  std::vector<int> segment_of(num_n, -1);
  size_t next_chain = 0;
  for (int n = 0; n < num_n; ++n) {
    if (exec_[n] == Exec::kNative) {
      if (next_chain < chains_.size() && chains_[next_chain].first_node == n)
        steps_.push_back({Step::kNative, static_cast<int>(next_chain++)});
      continue;
    }
    if (exec_[n] == Exec::kXnn) {
      if (steps_.empty() || steps_.back().kind != Step::kXnn) {
        steps_.push_back({Step::kXnn, static_cast<int>(segments_.size())});
        segments_.emplace_back();
      }
      segments_.back().nodes.push_back(n);
      segment_of[n] = static_cast<int>(segments_.size()) - 1;
    } else if (exec_[n] == Exec::kFallback) {
      FallbackNode f;
      if (Status s = xnnpack_internal::PrepareFallback(model_, n, shapes_, &f); !s.ok()) return s;
      max_fallback_inputs_ = std::max(max_fallback_inputs_, model_.nodes[n].inputs.size());
      max_scratch_doubles_ = std::max(max_scratch_doubles_, f.scratch_doubles);
      steps_.push_back({Step::kFallback, static_cast<int>(fallbacks_.size())});
      fallbacks_.push_back(std::move(f));
    }
  }

  // 5. Which canonical tensors need an arena slot, and each segment's external values.
  has_slot_.assign(num_t, false);
  for (const IoSpec& io : model_.inputs) has_slot_[Canon(io.tensor)] = true;
  for (const IoSpec& io : model_.outputs) has_slot_[Canon(io.tensor)] = true;
  for (int n = 0; n < num_n; ++n) {
    if (exec_[n] != Exec::kFallback) continue;
    for (int t : model_.nodes[n].inputs)
      if (!IsConst(Canon(t))) has_slot_[Canon(t)] = true;
    has_slot_[model_.nodes[n].output] = true;
  }
  for (const NativeChain& ch : chains_) {
    has_slot_[ch.input] = true;
    has_slot_[ch.output] = true;
  }
  // segment producing each canonical tensor (-1: graph input or reference op)
  std::vector<int> produced_in(num_t, -1);
  for (int n = 0; n < num_n; ++n)
    if (exec_[n] == Exec::kXnn) produced_in[xnn_out_[n]] = segment_of[n];
  for (int n = 0; n < num_n; ++n) {
    if (exec_[n] == Exec::kAlias || exec_[n] == Exec::kFused || exec_[n] == Exec::kNative) continue;
    for (int t : model_.nodes[n].inputs) {
      const int c = Canon(t);
      if (IsConst(c)) continue;
      // Read in another segment (or by a reference op) than the one that wrote it.
      if (exec_[n] == Exec::kFallback || produced_in[c] != segment_of[n]) has_slot_[c] = true;
    }
  }
  for (size_t s = 0; s < segments_.size(); ++s) {
    Segment& seg = segments_[s];
    std::vector<bool> seen(num_t, false);
    auto add_external = [&](int c, bool is_output) {
      if (seen[c]) return;
      seen[c] = true;
      seg.externals.push_back(c);
      seg.is_output.push_back(is_output);
    };
    for (int n : seg.nodes) {
      for (int t : model_.nodes[n].inputs) {
        const int c = Canon(t);
        if (!IsConst(c) && produced_in[c] != static_cast<int>(s)) add_external(c, false);
      }
      if (has_slot_[xnn_out_[n]]) add_external(xnn_out_[n], true);
    }
  }
  direct_input_.assign(model_.inputs.size(), false);
  chain_only_input_.assign(model_.inputs.size(), false);
  for (size_t i = 0; i < model_.inputs.size(); ++i) {
    const int c = Canon(model_.inputs[i].tensor);
    bool direct = !is_graph_output[c];
    for (int n = 0; n < num_n; ++n)
      if (exec_[n] == Exec::kFallback)
        for (int t : model_.nodes[n].inputs) direct = direct && Canon(t) != c;
    bool fed_twice = false;
    for (size_t j = 0; j < model_.inputs.size(); ++j)  // the same tensor fed twice: keep copies
      if (j != i && Canon(model_.inputs[j].tensor) == c) fed_twice = true;
    // A chain reads exactly its input's elements, from the caller's buffer (see Run).
    bool chain_reads = false;
    for (NativeChain& ch : chains_)
      if (ch.input == c && !fed_twice) {
        ch.graph_input = static_cast<int>(i);
        chain_reads = true;
      }
    direct_input_[i] = direct && !fed_twice;
    const size_t bindings_before = input_bindings_.size();
    for (size_t s = 0; s < segments_.size(); ++s)
      for (size_t e = 0; e < segments_[s].externals.size(); ++e)
        if (segments_[s].externals[e] == c)
          input_bindings_.push_back({int(i), int(s), int(e)});
    // Read by chains only: its arena slot is never read, so Run skips the copy.
    bool other_reader = is_graph_output[c] || fed_twice || input_bindings_.size() != bindings_before;
    for (int n = 0; n < num_n; ++n)
      if (exec_[n] == Exec::kFallback)
        for (int t : model_.nodes[n].inputs) other_reader = other_reader || Canon(t) == c;
    chain_only_input_[i] = chain_reads && !other_reader;
  }
  if (const long ps = sysconf(_SC_PAGESIZE); ps > 0) page_size_ = static_cast<uintptr_t>(ps);
  slot_offset_.assign(num_t, 0);
  // 16 floats = 64 bytes between slots: keeps each slot 64-byte aligned and covers the
  // XNN_EXTRA_BYTES XNNPACK may read past the end of an input.
  static_assert(XNN_EXTRA_BYTES <= 64);
  for (int t = 0; t < num_t; ++t) {
    if (!has_slot_[t]) continue;
    slot_offset_[t] = arena_floats_;
    arena_floats_ += (static_cast<size_t>(NumElements(shapes_[t])) + 15) / 16 * 16 + 16;
  }

  // 6. Build every runtime now: an XNNPACK rejection is a load error naming the node, and
  //    the packed weights are kept for the first context.
  if (threads_ > 1) spare_pool_ = pthreadpool_create(static_cast<size_t>(threads_));
  for (size_t s = 0; s < segments_.size(); ++s) {
    Result<xnn_runtime_t> rt = CreateRuntime(static_cast<int>(s), spare_pool_);
    if (!rt.ok()) return rt.status();
    spare_runtimes_.push_back(rt.value());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// The translation table.
Status XnnPlan::DefineNode(xnn_subgraph_t sg, int n, std::map<int, uint32_t>* values) const {
  const Node& node = model_.nodes[n];
  auto fail = [&](const char* what, xnn_status st) {
    return NodeError(n, std::string(what) + " failed (" + XnnStatusName(st) + ")");
  };
  // Value of a model tensor: external/internal activation (already in *values) or a static
  // constant pointing into the Model.
  auto value = [&](int t, uint32_t* id) -> xnn_status {
    const int c = Canon(t);
    if (auto it = values->find(c); it != values->end()) {
      *id = it->second;
      return xnn_status_success;
    }
    const std::vector<size_t> dims = Dims(shapes_[c]);
    const void* data = IsConst(c) ? ConstData(c) : nullptr;
    xnn_status st = xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(), data,
                                            XNN_INVALID_VALUE_ID, 0, id);
    if (st == xnn_status_success) (*values)[c] = *id;
    return st;
  };
  // A value of the given shape that only lives inside this segment.
  auto temp = [&](const Shape& shape, uint32_t* id) {
    const std::vector<size_t> dims = Dims(shape);
    return xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(), nullptr,
                                   XNN_INVALID_VALUE_ID, 0, id);
  };
  auto static_value = [&](std::vector<size_t> dims, const float* data, uint32_t* id) {
    return xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(), data,
                                   XNN_INVALID_VALUE_ID, 0, id);
  };
  // PReLU over the last axis. This XNNPACK only takes a 4-D input; other ranks are reshaped
  // to [rows, 1, 1, C] around it (free: reshape is a view).
  auto prelu = [&](uint32_t in, const Shape& shape, uint32_t out) -> Status {
    uint32_t slope;
    const size_t c = static_cast<size_t>(shape.back());
    if (xnn_status st = static_value({c}, alpha_[n].data(), &slope); st != xnn_status_success)
      return fail("xnn_define_tensor_value(prelu slope)", st);
    if (shape.size() == 4) {
      if (xnn_status st = xnn_define_prelu(sg, in, slope, out, 0); st != xnn_status_success)
        return fail("xnn_define_prelu", st);
      return Status::Ok();
    }
    const Shape s4 = {NumElements(shape) / shape.back(), 1, 1, shape.back()};
    const std::vector<size_t> d4 = Dims(s4), dn = Dims(shape);
    uint32_t a, b;
    xnn_status st = temp(s4, &a);
    if (st == xnn_status_success) st = temp(s4, &b);
    if (st == xnn_status_success) st = xnn_define_static_reshape(sg, 4, d4.data(), in, a, 0);
    if (st == xnn_status_success) st = xnn_define_prelu(sg, a, slope, b, 0);
    if (st == xnn_status_success) st = xnn_define_static_reshape(sg, dn.size(), dn.data(), b, out, 0);
    if (st != xnn_status_success) return fail("xnn_define_prelu (rank != 4, reshaped)", st);
    return Status::Ok();
  };

  uint32_t x, y;
  if (xnn_status st = value(node.inputs[0], &x); st != xnn_status_success)
    return fail("xnn_define_tensor_value(input)", st);
  if (xnn_status st = value(xnn_out_[n], &y); st != xnn_status_success)
    return fail("xnn_define_tensor_value(output)", st);
  const Shape& xs = shapes_[node.inputs[0]];
  const Shape& ys = shapes_[node.output];
  const float lo = out_min_[n], hi = out_max_[n];

  switch (node.op) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      const ConvParams& p = node.conv;
      const Shape& f = shapes_[node.inputs[1]];
      Window1D wy, wx;
      if (!ComputeWindow(p.padding, static_cast<int>(xs[1]), static_cast<int>(f[0]), p.stride_h,
                         p.dilation_h, p.pad_top, p.pad_bottom, &wy) ||
          !ComputeWindow(p.padding, static_cast<int>(xs[2]), static_cast<int>(f[1]), p.stride_w,
                         p.dilation_w, p.pad_left, p.pad_right, &wx))
        return NodeError(n, "window does not fit input " + ShapeToString(xs));
      // The conv writes y directly, or a temporary that PReLU then reads.
      const bool has_prelu = p.activation == Activation::kPrelu;
      uint32_t conv_out = y;
      if (has_prelu) {
        if (xnn_status st = temp(ys, &conv_out); st != xnn_status_success)
          return fail("xnn_define_tensor_value(conv output)", st);
      }
      uint32_t filter, bias = XNN_INVALID_VALUE_ID;
      xnn_status st;
      if (node.op == OpType::kConv2D) {
        const size_t co = static_cast<size_t>(f[3]), ci = static_cast<size_t>(f[2]);
        const uint32_t groups = static_cast<uint32_t>(xs[3] / f[2]);
        st = static_value({co, size_t(f[0]), size_t(f[1]), ci}, packed_filter_[n].data(), &filter);
        if (st != xnn_status_success) return fail("xnn_define_tensor_value(filter)", st);
        const float* b = p.has_bias ? ConstData(node.inputs[2]) : zero_bias_[n].data();
        st = static_value({co}, b, &bias);
        if (st != xnn_status_success) return fail("xnn_define_tensor_value(bias)", st);
        st = xnn_define_convolution_2d(
            sg, wy.pad_before, wx.pad_after, wy.pad_after, wx.pad_before, uint32_t(f[0]),
            uint32_t(f[1]), p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, groups, ci,
            co / groups, lo, hi, x, filter, bias, conv_out, /*flags=*/0);
        if (st != xnn_status_success) return fail("xnn_define_convolution_2d", st);
      } else {
        const size_t c = static_cast<size_t>(f[2]), m = static_cast<size_t>(f[3]);
        st = static_value({1, size_t(f[0]), size_t(f[1]), c * m}, ConstData(node.inputs[1]), &filter);
        if (st != xnn_status_success) return fail("xnn_define_tensor_value(filter)", st);
        if (p.has_bias) {
          st = static_value({c * m}, ConstData(node.inputs[2]), &bias);
          if (st != xnn_status_success) return fail("xnn_define_tensor_value(bias)", st);
        }
        st = xnn_define_depthwise_convolution_2d(
            sg, wy.pad_before, wx.pad_after, wy.pad_after, wx.pad_before, uint32_t(f[0]),
            uint32_t(f[1]), p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, uint32_t(m), c,
            lo, hi, x, filter, bias, conv_out, /*flags=*/0);
        if (st != xnn_status_success) return fail("xnn_define_depthwise_convolution_2d", st);
      }
      if (has_prelu) return prelu(conv_out, ys, y);
      return Status::Ok();
    }
    case OpType::kMatMul: {
      const MatMulParams& p = node.matmul;
      const Shape& b = shapes_[node.inputs[1]];
      const size_t k = size_t(p.transpose_b ? b[1] : b[0]), nn = size_t(p.transpose_b ? b[0] : b[1]);
      const bool has_prelu = p.activation == Activation::kPrelu;
      uint32_t mm_out = y, filter, bias = XNN_INVALID_VALUE_ID;
      xnn_status st = has_prelu ? temp(ys, &mm_out) : xnn_status_success;
      if (st == xnn_status_success) st = static_value({nn, k}, packed_filter_[n].data(), &filter);
      if (st == xnn_status_success && p.has_bias)
        st = static_value({nn}, ConstData(node.inputs[2]), &bias);
      if (st != xnn_status_success) return fail("xnn_define_tensor_value(matmul weights)", st);
      st = xnn_define_fully_connected(sg, lo, hi, x, filter, bias, mm_out, /*flags=*/0);
      if (st != xnn_status_success) return fail("xnn_define_fully_connected", st);
      if (has_prelu) return prelu(mm_out, ys, y);
      return Status::Ok();
    }
    case OpType::kAdd:
    case OpType::kMul:
    case OpType::kMinimum:
    case OpType::kMaximum: {
      uint32_t x2;
      if (xnn_status st = value(node.inputs[1], &x2); st != xnn_status_success)
        return fail("xnn_define_tensor_value(second input)", st);
      xnn_status st;
      switch (node.op) {
        case OpType::kAdd: st = xnn_define_add2(sg, lo, hi, x, x2, y, 0); break;
        case OpType::kMul: st = xnn_define_multiply2(sg, lo, hi, x, x2, y, 0); break;
        case OpType::kMinimum: st = xnn_define_minimum2(sg, x, x2, y, 0); break;
        default: st = xnn_define_maximum2(sg, x, x2, y, 0); break;
      }
      if (st != xnn_status_success) return fail("xnn_define_{add2,multiply2,minimum2,maximum2}", st);
      return Status::Ok();
    }
    case OpType::kRelu:
      if (xnn_status st = xnn_define_clamp(sg, 0.f, kInf, x, y, 0); st != xnn_status_success)
        return fail("xnn_define_clamp", st);
      return Status::Ok();
    case OpType::kPrelu:
      return prelu(x, xs, y);
    case OpType::kSigmoid:
      if (xnn_status st = xnn_define_sigmoid(sg, x, y, 0); st != xnn_status_success)
        return fail("xnn_define_sigmoid", st);
      return Status::Ok();
    case OpType::kSoftmax:
      if (xnn_status st = xnn_define_softmax(sg, x, y, 0); st != xnn_status_success)
        return fail("xnn_define_softmax", st);
      return Status::Ok();
    case OpType::kMaxPool: {
      const PoolParams& p = node.pool;
      Window1D wy, wx;
      if (!ComputeWindow(p.padding, static_cast<int>(xs[1]), p.kernel_h, p.stride_h, 1, p.pad_top,
                         p.pad_bottom, &wy) ||
          !ComputeWindow(p.padding, static_cast<int>(xs[2]), p.kernel_w, p.stride_w, 1, p.pad_left,
                         p.pad_right, &wx))
        return NodeError(n, "window does not fit input " + ShapeToString(xs));
      // XNNPACK clamps padded taps to the nearest real pixel, which for a max equals TF's
      // "padding never wins".
      if (xnn_status st = xnn_define_max_pooling_2d(sg, wy.pad_before, wx.pad_after, wy.pad_after,
                                                    wx.pad_before, p.kernel_h, p.kernel_w,
                                                    p.stride_h, p.stride_w, 1, 1, -kInf, kInf, x,
                                                    y, 0);
          st != xnn_status_success)
        return fail("xnn_define_max_pooling_2d", st);
      return Status::Ok();
    }
    case OpType::kPad: {
      std::vector<size_t> pre(node.pad_before.begin(), node.pad_before.end());
      std::vector<size_t> post(node.pad_after.begin(), node.pad_after.end());
      if (xnn_status st = xnn_define_static_constant_pad(sg, pre.data(), post.data(), 0.f, x, y, 0);
          st != xnn_status_success)
        return fail("xnn_define_static_constant_pad", st);
      return Status::Ok();
    }
    case OpType::kReshape: {
      const std::vector<size_t> d = Dims(ys);
      if (xnn_status st = xnn_define_static_reshape(sg, d.size(), d.data(), x, y, 0);
          st != xnn_status_success)
        return fail("xnn_define_static_reshape", st);
      return Status::Ok();
    }
    case OpType::kMean: {
      // Global average pooling always yields [N,1,1,C]; reshape when keep_dims is false.
      const Shape pooled = {xs[0], 1, 1, xs[3]};
      uint32_t gap_out = y;
      xnn_status st = node.keep_dims ? xnn_status_success : temp(pooled, &gap_out);
      if (st == xnn_status_success)
        st = xnn_define_global_average_pooling_2d(sg, -kInf, kInf, x, gap_out, 0);
      if (st == xnn_status_success && !node.keep_dims) {
        const std::vector<size_t> d = Dims(ys);
        st = xnn_define_static_reshape(sg, d.size(), d.data(), gap_out, y, 0);
      }
      if (st != xnn_status_success) return fail("xnn_define_global_average_pooling_2d", st);
      return Status::Ok();
    }
    case OpType::kIdentity:
    case OpType::kConcat:
      break;
  }
  return NodeError(n, "internal: op has no XNNPACK mapping");
}

Result<xnn_runtime_t> XnnPlan::CreateRuntime(int s, pthreadpool_t pool) const {
  const Segment& seg = segments_[s];
  xnn_subgraph_t sg = nullptr;
  if (xnn_status st = xnn_create_subgraph(static_cast<uint32_t>(seg.externals.size()), 0, &sg);
      st != xnn_status_success)
    return Status::Error(model_.path + ": XNNPACK backend: xnn_create_subgraph failed (" +
                         XnnStatusName(st) + ")");
  std::unique_ptr<xnn_subgraph, xnn_status (*)(xnn_subgraph_t)> guard(sg, xnn_delete_subgraph);
  std::map<int, uint32_t> values;
  for (size_t i = 0; i < seg.externals.size(); ++i) {
    const int t = seg.externals[i];
    const std::vector<size_t> dims = Dims(shapes_[t]);
    uint32_t id;
    const uint32_t flags =
        seg.is_output[i] ? XNN_VALUE_FLAG_EXTERNAL_OUTPUT : XNN_VALUE_FLAG_EXTERNAL_INPUT;
    if (xnn_status st = xnn_define_tensor_value(sg, xnn_datatype_fp32, dims.size(), dims.data(),
                                                nullptr, static_cast<uint32_t>(i), flags, &id);
        st != xnn_status_success)
      return Status::Error(model_.path + ": XNNPACK backend: external tensor '" +
                           model_.tensors[t].name + "' " + ShapeToString(shapes_[t]) +
                           " rejected (" + XnnStatusName(st) + ")");
    values[t] = id;
  }
  for (int n : seg.nodes)
    if (Status st = DefineNode(sg, n, &values); !st.ok()) return st;
  xnn_runtime_t rt = nullptr;
  // With a pool, let its workers sleep after the last operator instead of spinning: a frame
  // pipeline runs other stages (and other contexts' pools) on the same cores between runs.
  const uint32_t flags = pool ? XNN_FLAG_YIELD_WORKERS : 0;
  if (xnn_status st = xnn_create_runtime_v2(sg, pool, flags, &rt); st != xnn_status_success) {
    std::string names;
    for (int n : seg.nodes) names += (names.empty() ? "'" : ", '") + model_.nodes[n].name + "'";
    return Status::Error(model_.path + ": XNNPACK backend: xnn_create_runtime_v2 failed (" +
                         XnnStatusName(st) + ") for the segment of nodes " + names);
  }
  return rt;
}

// ---------------------------------------------------------------------------------------
std::unique_ptr<RunContext> XnnPlan::NewContext() const {
  auto ctx = std::make_unique<XnnContext>(this, arena_floats_, chain_scratch_floats_);
  if (ctx->arena_.data == nullptr || ctx->chain_scratch_.data == nullptr) return nullptr;
  {
    std::lock_guard<std::mutex> lock(spare_mu_);
    if (!spare_runtimes_.empty()) {
      ctx->runtimes_ = std::move(spare_runtimes_);
      spare_runtimes_.clear();
      ctx->pool_ = spare_pool_;  // the runtimes were created with this pool
      spare_pool_ = nullptr;
    }
  }
  if (ctx->runtimes_.empty()) {
    if (threads_ > 1) ctx->pool_ = pthreadpool_create(static_cast<size_t>(threads_));
    for (size_t s = 0; s < segments_.size(); ++s) {
      // Prepare already built the same runtimes once, so this only fails on out-of-memory.
      Result<xnn_runtime_t> rt = CreateRuntime(static_cast<int>(s), ctx->pool_);
      if (!rt.ok()) return nullptr;
      ctx->runtimes_.push_back(rt.value());
    }
  }
  // Bind every external value to its arena slot once; Run only invokes.
  ctx->externals_.resize(segments_.size());
  for (size_t s = 0; s < segments_.size(); ++s) {
    std::vector<xnn_external_value>& ext = ctx->externals_[s];
    const Segment& seg = segments_[s];
    for (size_t i = 0; i < seg.externals.size(); ++i)
      ext.push_back({static_cast<uint32_t>(i), Slot(*ctx, seg.externals[i])});
    if (xnn_setup_runtime(ctx->runtimes_[s], ext.size(), ext.data()) != xnn_status_success)
      return nullptr;
  }
  for (const IoSpec& io : model_.inputs) ctx->bound_input_.push_back(Slot(*ctx, io.tensor));
  ctx->needs_setup_.assign(segments_.size(), 0);
  ctx->fallback_in_.resize(max_fallback_inputs_);
  ctx->scratch_.resize(max_scratch_doubles_);
  return ctx;
}

Status XnnPlan::Run(std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs,
                    RunContext& rc) const {
  auto* ctx = dynamic_cast<XnnContext*>(&rc);
  if (ctx == nullptr || ctx->plan_ != this)
    return Status::Error(model_.path + ": XNNPACK Run: context was not made by this plan");
  if (inputs.size() != model_.inputs.size() || outputs.size() != model_.outputs.size())
    return Status::Error(model_.path + ": XNNPACK Run: wrong number of inputs or outputs");
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].data == nullptr ||
        inputs[i].count != static_cast<size_t>(NumElements(input_shapes_[i])))
      return Status::Error(model_.path + ": XNNPACK Run: input " + std::to_string(i) +
                           " has the wrong element count");
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].data == nullptr ||
        outputs[i].count != static_cast<size_t>(NumElements(output_shapes_[i])))
      return Status::Error(model_.path + ": XNNPACK Run: output " + std::to_string(i) +
                           " has the wrong element count");

  // Inputs: XNNPACK may read up to XNN_EXTRA_BYTES past a tensor. An input read only by
  // XNNPACK is bound to the caller's buffer when that over-read stays inside the page of its
  // last element (so it cannot fault; the bytes are never used); otherwise it is copied into
  // its arena slot, which has the slack. Re-binding only calls xnn_setup_runtime, which for an
  // unchanged shape recomputes pointers and allocates nothing (nn_xnnpack_alloc_test).
  bool rebind = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (chain_only_input_[i]) continue;  // the chain reads inputs[i] itself
    const float* want = Slot(*ctx, model_.inputs[i].tensor);
    const uintptr_t last = reinterpret_cast<uintptr_t>(inputs[i].data + inputs[i].count) - 1;
    if (direct_input_[i] && (last + XNN_EXTRA_BYTES) / page_size_ == last / page_size_)
      want = inputs[i].data;
    else
      std::memcpy(Slot(*ctx, model_.inputs[i].tensor), inputs[i].data,
                  inputs[i].count * sizeof(float));
    if (want == ctx->bound_input_[i]) continue;
    ctx->bound_input_[i] = want;
    for (const InputBinding& b : input_bindings_)
      if (b.input == static_cast<int>(i)) {
        ctx->externals_[b.segment][b.external].data = const_cast<float*>(want);
        ctx->needs_setup_[b.segment] = 1;
        rebind = true;
      }
  }
  if (rebind) {
    for (size_t s = 0; s < segments_.size(); ++s) {
      if (!ctx->needs_setup_[s]) continue;
      ctx->needs_setup_[s] = 0;
      if (xnn_setup_runtime(ctx->runtimes_[s], ctx->externals_[s].size(),
                            ctx->externals_[s].data()) != xnn_status_success)
        return Status::Error(model_.path + ": XNNPACK Run: xnn_setup_runtime failed");
    }
  }
  for (const Step& step : steps_) {
    if (step.kind == Step::kNative) {
      const NativeChain& ch = chains_[step.index];
      const float* in = ch.graph_input >= 0 ? inputs[ch.graph_input].data : Slot(*ctx, ch.input);
      ch.chain->Run(in, Slot(*ctx, ch.output), ch.batch, ctx->chain_scratch_.data);
      continue;
    }
    if (step.kind == Step::kXnn) {
      if (xnn_invoke_runtime(ctx->runtimes_[step.index]) != xnn_status_success)
        return Status::Error(model_.path + ": XNNPACK Run: xnn_invoke_runtime failed");
      continue;
    }
    const FallbackNode& f = fallbacks_[step.index];
    const Node& node = model_.nodes[f.node];
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int c = Canon(node.inputs[i]);
      ctx->fallback_in_[i] = IsConst(c) ? ConstData(c) : Slot(*ctx, c);
    }
    xnnpack_internal::RunFallback(
        f, std::span<const float* const>(ctx->fallback_in_.data(), node.inputs.size()),
        Slot(*ctx, node.output), ctx->scratch_.data());
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    std::memcpy(outputs[i].data, Slot(*ctx, model_.outputs[i].tensor),
                outputs[i].count * sizeof(float));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Plan>> XnnpackBackend::Prepare(const Model& model,
                                                      std::span<const Shape> input_shapes) const {
  auto plan = std::make_unique<XnnPlan>(model, threads_, own_kernels_);
  if (Status s = plan->Build(input_shapes); !s.ok()) return s;
  return std::unique_ptr<Plan>(std::move(plan));
}

bool GetXnnpackPlanStats(const Plan& plan, XnnpackPlanStats* stats) {
  const auto* p = dynamic_cast<const XnnPlan*>(&plan);
  if (p == nullptr) return false;
  *stats = p->stats();
  return true;
}

}  // namespace fg::nn
