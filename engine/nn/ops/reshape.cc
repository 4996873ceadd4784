#include "engine/nn/ops/reshape.h"

namespace fg::nn::ops {

void Reshape(const float* input, float* output, int64_t count) {
  if (input == output) return;
  for (int64_t i = 0; i < count; ++i) output[i] = input[i];
}

}  // namespace fg::nn::ops
