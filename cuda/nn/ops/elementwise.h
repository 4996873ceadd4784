// CUDA elementwise ops, one output element per thread: the broadcasting binary ops of
// engine/nn/ops/{add,mul,minimum,maximum}.h (strides 0 on broadcast axes, as
// ops::MakeBroadcastArgs computes them) and Sigmoid (engine/nn/ops/sigmoid.h, the same
// overflow-free split). Relu, Prelu, Identity and Reshape need no kernel of their own: they
// are copies with an epilogue (epilogue.h) or aliases (lowering.h).
// Threading: pure FG_HD functions.
#pragma once

#include <cmath>
#include <cstdint>

#include "cuda/nn/ops/nd.h"
#include "engine/hd.h"

namespace fg::nn::gpu {

enum class BinaryOp : int { kAdd, kMul, kMinimum, kMaximum };

struct BinaryArgs {
  BinaryOp op = BinaryOp::kAdd;
  int rank = 0;
  NdArray out_dims, a_strides, b_strides;
};

FG_HD inline float BinaryElement(const BinaryArgs& p, const float* a, const float* b, int64_t i) {
  int64_t a_off = 0, b_off = 0, r = i;
  for (int d = p.rank - 1; d >= 0; --d) {
    const int64_t x = r % p.out_dims.v[d];
    r /= p.out_dims.v[d];
    a_off += x * p.a_strides.v[d];
    b_off += x * p.b_strides.v[d];
  }
  const float x = a[a_off], y = b[b_off];
  switch (p.op) {
    case BinaryOp::kAdd:
      return x + y;
    case BinaryOp::kMul:
      return x * y;
    case BinaryOp::kMinimum:
      return x < y ? x : y;
    case BinaryOp::kMaximum:
      return x > y ? x : y;
  }
  return x;
}

FG_HD inline float SigmoidElement(float v) {
  if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
  const float e = expf(v);  // exp of a negative: no overflow
  return e / (1.0f + e);
}

}  // namespace fg::nn::gpu
