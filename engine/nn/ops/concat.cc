#include "engine/nn/ops/concat.h"

namespace fg::nn::ops {

void Concat(std::span<const float* const> inputs, std::span<const int64_t> chunks, int64_t outer,
            float* output) {
  float* out = output;
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const float* src = inputs[i] + o * chunks[i];
      for (int64_t k = 0; k < chunks[i]; ++k) *out++ = src[k];
    }
  }
}

}  // namespace fg::nn::ops
