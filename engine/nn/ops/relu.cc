#include "engine/nn/ops/relu.h"

namespace fg::nn::ops {

void Relu(const float* x, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

}  // namespace fg::nn::ops
