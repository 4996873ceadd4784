// CUDA ConcatV2, one output element per thread: engine/nn/ops/concat.h in gather form. The
// output is `outer` rows of sum(chunks) values; row o's segment k comes from input k's row o.
// Threading: pure FG_HD function.
#pragma once

#include <cstdint>

#include "engine/hd.h"

namespace fg::nn::gpu {

// Inputs one launch takes (the lowering refuses more, naming the node; the six models use 3).
inline constexpr int kMaxKernelInputs = 8;

struct ConcatArgs {
  int inputs = 0;
  int64_t chunks[kMaxKernelInputs] = {};
  int64_t row = 0;  // sum of chunks
};

FG_HD inline float ConcatElement(const ConcatArgs& p, const float* const* in, int64_t i) {
  const int64_t o = i / p.row;
  int64_t r = i % p.row;
  int k = 0;
  while (k + 1 < p.inputs && r >= p.chunks[k]) r -= p.chunks[k++];
  return in[k][o * p.chunks[k] + r];
}

}  // namespace fg::nn::gpu
