#include "engine/nn/ops/softmax.h"

#include <cmath>

namespace fg::nn::ops {

void Softmax(const float* x, float* y, int64_t outer, int64_t depth) {
  for (int64_t o = 0; o < outer; ++o) {
    const float* row = x + o * depth;
    float* out = y + o * depth;
    float max_v = row[0];
    for (int64_t j = 1; j < depth; ++j) max_v = row[j] > max_v ? row[j] : max_v;
    double sum = 0.0;
    for (int64_t j = 0; j < depth; ++j) {
      out[j] = std::exp(row[j] - max_v);
      sum += out[j];
    }
    float inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < depth; ++j) out[j] *= inv;
  }
}

}  // namespace fg::nn::ops
