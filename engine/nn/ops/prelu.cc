#include "engine/nn/ops/prelu.h"

namespace fg::nn::ops {

void Prelu(const float* x, const float* alpha, int64_t alpha_count, float* y, int64_t count,
           int64_t channels) {
  if (channels <= 0) return;
  int64_t rows = count / channels;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < channels; ++c) {
      int64_t i = r * channels + c;
      float a = alpha[alpha_count == 1 ? 0 : c];
      y[i] = x[i] > 0.0f ? x[i] : a * x[i];
    }
  }
}

}  // namespace fg::nn::ops
