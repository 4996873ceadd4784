// ReferenceFallback: one model node prepared to run in the reference ops (engine/nn/ops),
// for the nodes the installed XNNPACK cannot express (e.g. ConcatV2: this snapshot has no
// concatenate node). Used only by xnnpack_backend.cc.
//
// PrepareFallback computes every op argument once (windows, broadcast strides, concat
// chunks) so RunFallback is a plain call: no allocation, no failure. Mean needs a double
// accumulator of scratch_doubles elements, owned by the caller's context.
//
// Threading: FallbackNode is immutable after prepare; RunFallback is reentrant.
//
// Example:
//   FallbackNode f;
//   if (Status s = PrepareFallback(model, n, shapes, &f); !s.ok()) return s;
//   ...
//   RunFallback(f, input_pointers, output, scratch);   // per frame
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/nn/model.h"
#include "engine/nn/ops/broadcast.h"
#include "engine/nn/ops/conv2d.h"
#include "engine/nn/ops/depthwise_conv2d.h"
#include "engine/nn/ops/matmul.h"
#include "engine/nn/ops/max_pool.h"
#include "engine/nn/ops/mean.h"
#include "engine/nn/ops/pad.h"
#include "engine/nn/status.h"

namespace fg::nn::xnnpack_internal {

struct FallbackNode {
  OpType op = OpType::kIdentity;
  int node = -1;                // index into Model::nodes
  int64_t count = 0;            // output elements
  int64_t alpha_count = 0;      // fused / standalone PReLU alpha elements
  int64_t rows = 0, depth = 0;  // Softmax [rows, depth]; Prelu [count/depth, depth]; Concat outer
  ops::Conv2DArgs conv;
  ops::DepthwiseConv2DArgs dw;
  ops::MatMulArgs matmul;
  ops::MaxPoolArgs pool;
  ops::PadArgs pad;
  ops::MeanArgs mean;
  ops::BroadcastArgs broadcast;
  std::vector<int64_t> chunks;  // Concat: per input, elements per outer row
  bool has_bias = false;
  size_t scratch_doubles = 0;   // Mean accumulator
};

// shapes: per Model::tensors entry, for the prepared input shapes.
Status PrepareFallback(const Model& model, int node, const std::vector<Shape>& shapes,
                       FallbackNode* out);

// inputs: one pointer per Node::inputs entry (constants included), in order.
void RunFallback(const FallbackNode& f, std::span<const float* const> inputs, float* output,
                 double* scratch);

}  // namespace fg::nn::xnnpack_internal
