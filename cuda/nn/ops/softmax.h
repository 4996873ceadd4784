// CUDA Softmax over the last axis, one row per thread: engine/nn/ops/softmax.h (max shift,
// exp, double sum, multiply by the float inverse). Rows are short in these models (<= 1000).
// Threading: pure FG_HD function.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/hd.h"

namespace fg::nn::gpu {

FG_HD inline void SoftmaxRow(int64_t depth, const float* x, float* y, int64_t row) {
  const float* in = x + row * depth;
  float* out = y + row * depth;
  float max_v = in[0];
  for (int64_t j = 1; j < depth; ++j) max_v = in[j] > max_v ? in[j] : max_v;
  double sum = 0.0;
  for (int64_t j = 0; j < depth; ++j) {
    out[j] = expf(in[j] - max_v);
    sum += out[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < depth; ++j) out[j] *= inv;
}

}  // namespace fg::nn::gpu
