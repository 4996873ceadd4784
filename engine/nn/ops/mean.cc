#include "engine/nn/ops/mean.h"

namespace fg::nn::ops {

void Mean(const MeanArgs& a, const float* input, double* acc, float* output) {
  for (int64_t j = 0; j < a.out_count; ++j) acc[j] = 0.0;
  // Output stride of each input axis (0 on reduced axes).
  std::array<int64_t, kMaxRank> out_strides{};
  int64_t stride = 1;
  for (int d = a.rank - 1; d >= 0; --d) {
    if (a.reduce[d]) continue;
    out_strides[d] = stride;
    stride *= a.in_dims[d];
  }
  int64_t in_count = 1;
  for (int d = 0; d < a.rank; ++d) in_count *= a.in_dims[d];
  std::array<int64_t, kMaxRank> index{};
  int64_t o = 0;
  for (int64_t i = 0; i < in_count; ++i) {
    acc[o] += input[i];
    for (int d = a.rank - 1; d >= 0; --d) {
      o += out_strides[d];
      if (++index[d] < a.in_dims[d]) break;
      o -= out_strides[d] * a.in_dims[d];
      index[d] = 0;
    }
  }
  double inv = a.reduce_count > 0 ? 1.0 / static_cast<double>(a.reduce_count) : 0.0;
  for (int64_t j = 0; j < a.out_count; ++j) output[j] = static_cast<float>(acc[j] * inv);
}

}  // namespace fg::nn::ops
