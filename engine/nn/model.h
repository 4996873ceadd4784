// IR-READY
// The parsed TF.js graph model: the one in-memory form every backend prepares from.
//
// A Model is what LoadModel (loader.h) returns: the graph is already validated (every op
// known, every attribute typed and checked, every weight's shape checked against its
// consumer, shapes inferred once with batch 1) and weights are dequantized to float32.
// Backends never look at JSON; they read only this header.
//
//   tensors[]  every value in the graph: graph inputs (Placeholder), constants (weights,
//              already float32 / int32) and one activation per compute node.
//   nodes[]    compute nodes only (no Const, no Placeholder), in a valid execution order
//              (every input is a graph input, a constant, or an earlier node's output).
//   inputs[] / outputs[]  the graph's interface, in TF.js order: from the model's "signature"
//              block (or userDefinedMetadata.signature) when present, else the Placeholder
//              nodes and the unconsumed Identity nodes in file order.
//
// Int32 constants that only parameterise an op (Reshape's shape, Mean's axes, Pad's
// paddings, ConcatV2's axis) are folded into the node's typed fields below and are NOT
// listed in Node::inputs. Node::inputs hold only float tensors: activations and weights.
//
// Layout: NHWC activations; Conv2D filters HWIO [kh, kw, in_c, out_c]; depthwise filters
// [kh, kw, in_c, multiplier]; MatMul operands 2-D row-major.
//
// Threading: immutable after loading; share one Model between any number of threads
// and backends. Lifetime: a Plan prepared from a Model may keep pointers into its constant
// data (see backend.h), so the Model must outlive its Plans.
//
// Example:
//   auto model = fg::nn::LoadModel("/models/blazeface.json");
//   if (!model.ok()) { log(model.status().message()); return; }
//   for (const fg::nn::Node& n : model->nodes) printf("%s %s\n", OpName(n.op), n.name.c_str());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fg::nn {

// Dimension sizes. In Model::inputs/outputs a -1 means "any" (the batch); everywhere else
// (Tensor::shape, the result of shape inference) every size is known and >= 0.
using Shape = std::vector<int64_t>;

// Most dimensions any tensor may have (kernels use fixed-size index arrays of this length).
inline constexpr int kMaxRank = 6;

// Number of elements; 1 for a scalar (rank 0).
int64_t NumElements(const Shape& shape);
// "[1,256,256,3]"; used in every shape error message.
std::string ShapeToString(const Shape& shape);

enum class DType { kFloat32, kInt32 };
std::string_view DTypeName(DType t);

enum class OpType {
  kIdentity,         // [x] -> copy of x
  kConv2D,           // [x, filter, (bias), (prelu alpha)]  Conv2D and _FusedConv2D
  kDepthwiseConv2D,  // [x, filter, (bias), (prelu alpha)]  DepthwiseConv2dNative (+ fused)
  kAdd,              // [a, b] broadcasting (Add, AddV2)
  kMul,              // [a, b] broadcasting
  kMinimum,          // [a, b] broadcasting
  kMaximum,          // [a, b] broadcasting
  kRelu,             // [x]
  kPrelu,            // [x, alpha]  y = x > 0 ? x : alpha[c] * x, alpha over the last axis
  kSigmoid,          // [x]
  kSoftmax,          // [x] over the last axis
  kMaxPool,          // [x] NHWC
  kPad,              // [x] constant 0 padding, Node::pad_before/pad_after
  kReshape,          // [x] to Node::new_shape (same element order)
  kMean,             // [x] over Node::axes, Node::keep_dims
  kConcat,           // [x0, x1, ...] along Node::axis
  kMatMul,           // [a, b, (bias), (prelu alpha)]  _FusedMatMul / MatMul, 2-D
};
// "Conv2D", "Add", ... (our names, not TF's: kAdd covers Add and AddV2).
std::string_view OpName(OpType op);

enum class Padding { kValid, kSame, kExplicit };

// Activation fused into Conv2D / DepthwiseConv2D / MatMul, applied after the bias.
enum class Activation { kNone, kRelu, kRelu6, kPrelu };

struct Tensor {
  std::string name;  // the producing node's name (TF "name:0" without ":0")
  DType dtype = DType::kFloat32;
  // Shape inferred at load for batch 1 (for constants: the manifest shape). Backends
  // re-infer for their actual input shapes with InferShapes (shape_inference.h).
  Shape shape;
  bool is_constant = false;
  // Constant data, row-major; exactly one is non-empty for a constant with elements.
  std::vector<float> f32;    // dtype kFloat32 (float16 / uint8 / uint16 dequantized at load)
  std::vector<int32_t> i32;  // dtype kInt32
};

// Conv2D and DepthwiseConv2D attributes (data_format is always NHWC: others are rejected).
struct ConvParams {
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::kValid;
  // Only for Padding::kExplicit (from explicit_paddings); SAME/VALID are resolved per input
  // size by shape inference (SAME: pad_before = total / 2, the rest after, as TF).
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  bool has_bias = false;                      // inputs[2] is the bias [out_c]
  Activation activation = Activation::kNone;  // kPrelu: the last input is alpha (out_c elems)
};

struct PoolParams {
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::kValid;  // SAME pads with -inf (padded cells never win)
  int pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;  // kExplicit only
};

struct MatMulParams {
  bool transpose_a = false, transpose_b = false;
  bool has_bias = false;                      // inputs[2] is the bias [n]
  Activation activation = Activation::kNone;  // kPrelu: the last input is alpha (n elems)
};

struct Node {
  std::string name;   // TF node name, used in every error message
  std::string tf_op;  // the op as written in model.json ("AddV2", "_FusedConv2D", ...)
  OpType op = OpType::kIdentity;
  std::vector<int> inputs;  // indices into Model::tensors (float tensors only; see above)
  int output = -1;          // index into Model::tensors

  // Typed attributes; only the ones for `op` are meaningful.
  ConvParams conv;                         // kConv2D, kDepthwiseConv2D
  PoolParams pool;                         // kMaxPool
  MatMulParams matmul;                     // kMatMul
  std::vector<int> axes;                   // kMean: non-negative, sorted, unique
  bool keep_dims = false;                  // kMean
  int axis = 0;                            // kConcat: non-negative
  std::vector<int> pad_before, pad_after;  // kPad: one entry per input dimension
  Shape new_shape;                         // kReshape: as written in the model (may hold one -1)
};

// One graph input or output.
struct IoSpec {
  std::string name;   // tensor name ("input_1", "Identity_2"): what reference files use
  std::string alias;  // signature key ("output_mesh") or the name when there is none
  int tensor = -1;    // index into Model::tensors
  Shape shape;        // declared shape; -1 = any size (the batch)
};

struct Model {
  std::string path;  // the model.json it came from (or a label), for error messages
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  std::vector<IoSpec> inputs;
  std::vector<IoSpec> outputs;

  // Index into tensors, or -1.
  int FindTensor(std::string_view name) const;
  // Index into inputs / outputs by name or alias, or -1.
  int FindInput(std::string_view name_or_alias) const;
  int FindOutput(std::string_view name_or_alias) const;
};

}  // namespace fg::nn
