#include "engine/nn/ops/pad.h"

namespace fg::nn::ops {

void Pad(const PadArgs& a, const float* input, float* output) {
  int64_t out_count = 1;
  for (int d = 0; d < a.rank; ++d) out_count *= a.out_dims[d];
  for (int64_t i = 0; i < out_count; ++i) output[i] = 0.0f;
  int64_t in_count = 1;
  for (int d = 0; d < a.rank; ++d) in_count *= a.in_dims[d];
  if (in_count == 0) return;
  // Out strides, then walk the input with an odometer and scatter.
  std::array<int64_t, kMaxRank> out_strides{};
  int64_t stride = 1;
  for (int d = a.rank - 1; d >= 0; --d) {
    out_strides[d] = stride;
    stride *= a.out_dims[d];
  }
  std::array<int64_t, kMaxRank> index{};
  for (int64_t i = 0; i < in_count; ++i) {
    int64_t o = 0;
    for (int d = 0; d < a.rank; ++d) o += (index[d] + a.before[d]) * out_strides[d];
    output[o] = input[i];
    for (int d = a.rank - 1; d >= 0; --d) {
      if (++index[d] < a.in_dims[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace fg::nn::ops
