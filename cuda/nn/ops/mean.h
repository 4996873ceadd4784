// CUDA Mean, one output element per thread: engine/nn/ops/mean.h in gather form. Output j
// fixes the kept axes; the thread walks the reduced axes with an odometer and sums in double
// like the reference. keep_dims changes only the shape. Threading: pure FG_HD function.
#pragma once

#include <cstdint>

#include "cuda/nn/ops/nd.h"
#include "engine/hd.h"

namespace fg::nn::gpu {

struct MeanArgs {
  int rank = 0;
  NdArray in_dims;
  bool reduce[kMaxRank] = {};
  int64_t reduce_count = 1;
};

FG_HD inline float MeanElement(const MeanArgs& p, const float* input, int64_t j) {
  int64_t coord[kMaxRank] = {};
  for (int d = p.rank - 1; d >= 0; --d) {  // the kept axes from j (row-major over them)
    if (p.reduce[d]) continue;
    coord[d] = j % p.in_dims.v[d];
    j /= p.in_dims.v[d];
  }
  double sum = 0.0;
  for (int64_t n = 0; n < p.reduce_count; ++n) {
    int64_t at = 0;
    for (int d = 0; d < p.rank; ++d) at = at * p.in_dims.v[d] + coord[d];
    sum += input[at];
    for (int d = p.rank - 1; d >= 0; --d) {  // next reduced cell, innermost first
      if (!p.reduce[d]) continue;
      if (++coord[d] < p.in_dims.v[d]) break;
      coord[d] = 0;
    }
  }
  return p.reduce_count > 0 ? static_cast<float>(sum / static_cast<double>(p.reduce_count)) : 0.0f;
}

}  // namespace fg::nn::gpu
