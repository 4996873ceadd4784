// Reference Relu: y[i] = max(x[i], 0). x and y may alias. Never allocates.
#pragma once

#include <cstdint>

namespace fg::nn::ops {

void Relu(const float* x, float* y, int64_t count);

}  // namespace fg::nn::ops
