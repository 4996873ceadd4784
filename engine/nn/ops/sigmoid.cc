#include "engine/nn/ops/sigmoid.h"

#include <cmath>

namespace fg::nn::ops {

void Sigmoid(const float* x, float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    float v = x[i];
    if (v >= 0.0f) {
      y[i] = 1.0f / (1.0f + std::exp(-v));
    } else {
      float e = std::exp(v);  // exp of a negative: no overflow
      y[i] = e / (1.0f + e);
    }
  }
}

}  // namespace fg::nn::ops
