// Reference Softmax over the last axis: x is [outer, depth] row-major;
// y[o, j] = exp(x[o, j] - max_o) / sum_k exp(x[o, k] - max_o). x and y may alias.
// Never allocates.
#pragma once

#include <cstdint>

namespace fg::nn::ops {

void Softmax(const float* x, float* y, int64_t outer, int64_t depth);

}  // namespace fg::nn::ops
