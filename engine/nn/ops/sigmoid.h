// Reference Sigmoid: y[i] = 1 / (1 + exp(-x[i])), computed so that it does not overflow for
// large |x|. x and y may alias. Never allocates.
#pragma once

#include <cstdint>

namespace fg::nn::ops {

void Sigmoid(const float* x, float* y, int64_t count);

}  // namespace fg::nn::ops
