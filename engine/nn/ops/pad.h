// Reference Pad (constant 0): out has in_dims[d] + before[d] + after[d] on each axis and
// out[i + before] = in[i]; every other cell is 0. Rank up to kMaxRank.
// Threading: pure function. Never allocates.
#pragma once

#include <array>
#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

struct PadArgs {
  int rank = 0;
  std::array<int64_t, kMaxRank> in_dims{};
  std::array<int64_t, kMaxRank> before{};
  std::array<int64_t, kMaxRank> out_dims{};
};

void Pad(const PadArgs& args, const float* input, float* output);

}  // namespace fg::nn::ops
