// CUDA Pad (constant 0), one output element per thread: engine/nn/ops/pad.h in gather form
// (each output cell reads its input cell or writes 0). Threading: pure FG_HD function.
#pragma once

#include <cstdint>

#include "cuda/nn/ops/nd.h"
#include "engine/hd.h"

namespace fg::nn::gpu {

struct PadArgs {
  int rank = 0;
  NdArray in_dims, out_dims, before;
};

FG_HD inline float PadElement(const PadArgs& p, const float* input, int64_t i) {
  int64_t coord[kMaxRank];
  Unravel(p.rank, p.out_dims, i, coord);
  int64_t in = 0;
  for (int d = 0; d < p.rank; ++d) {
    const int64_t x = coord[d] - p.before.v[d];
    if (x < 0 || x >= p.in_dims.v[d]) return 0.0f;
    in = in * p.in_dims.v[d] + x;
  }
  return input[in];
}

}  // namespace fg::nn::gpu
