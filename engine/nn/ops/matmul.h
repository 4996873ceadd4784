// Reference MatMul / _FusedMatMul: out[m, n] = act(bias[n] + sum_k A[m, k] * B[k, n]) where
// A = transpose_a ? a^T : a, B = transpose_b ? b^T : b (a, b row-major 2-D as stored).
// Threading: pure function. Never allocates.
#pragma once

#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

struct MatMulArgs {
  int64_t m = 0, k = 0, n = 0;
  bool transpose_a = false, transpose_b = false;
  Activation activation = Activation::kNone;
};

void MatMul(const MatMulArgs& args, const float* a, const float* b, const float* bias,
            const float* alpha, int64_t alpha_count, float* output);

}  // namespace fg::nn::ops
