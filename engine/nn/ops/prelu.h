// Reference Prelu: y = x > 0 ? x : alpha[c] * x, where c is the index on the last (channel)
// axis: x is [count / channels, channels] row-major. alpha has `channels` values or one
// value (alpha_count == 1, broadcast). x and y may alias. Never allocates.
#pragma once

#include <cstdint>

namespace fg::nn::ops {

void Prelu(const float* x, const float* alpha, int64_t alpha_count, float* y, int64_t count,
           int64_t channels);

}  // namespace fg::nn::ops
