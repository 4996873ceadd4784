// CUDA MatMul, one output element per thread: engine/nn/ops/matmul.h for i = row * n + col,
// without bias or activation (epilogue.h). Threading: pure FG_HD function.
#pragma once

#include <cstdint>

#include "engine/hd.h"
#include "engine/nn/ops/matmul.h"

namespace fg::nn::gpu {

FG_HD inline float MatMulElement(const ops::MatMulArgs& p, const float* a, const float* b,
                                 int64_t i) {
  const int64_t row = i / p.n, col = i % p.n;
  float sum = 0.0f;
  for (int64_t k = 0; k < p.k; ++k) {
    const float av = p.transpose_a ? a[k * p.m + row] : a[row * p.k + k];
    const float bv = p.transpose_b ? b[col * p.k + k] : b[k * p.n + col];
    sum += av * bv;
  }
  return sum;
}

}  // namespace fg::nn::gpu
