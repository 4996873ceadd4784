#include "engine/nn/ops/matmul.h"

#include "engine/nn/ops/activation.h"

namespace fg::nn::ops {

void MatMul(const MatMulArgs& p, const float* a, const float* b, const float* bias,
            const float* alpha, int64_t alpha_count, float* output) {
  for (int64_t row = 0; row < p.m; ++row) {
    for (int64_t col = 0; col < p.n; ++col) {
      float sum = bias ? bias[col] : 0.0f;
      for (int64_t k = 0; k < p.k; ++k) {
        float av = p.transpose_a ? a[k * p.m + row] : a[row * p.k + k];
        float bv = p.transpose_b ? b[col * p.k + k] : b[k * p.n + col];
        sum += av * bv;
      }
      output[row * p.n + col] = ApplyActivation(sum, p.activation, alpha, alpha_count, col);
    }
  }
}

}  // namespace fg::nn::ops
