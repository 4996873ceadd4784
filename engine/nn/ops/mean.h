// Reference Mean over a set of axes: out[j] = sum of the inputs mapping to j / count, where
// an input index maps to j by dropping (or zeroing, keep_dims) the reduced axes. keep_dims
// only changes the output shape, not the data. Sums in double.
// Threading: pure function. Never allocates.
#pragma once

#include <array>
#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

struct MeanArgs {
  int rank = 0;
  std::array<int64_t, kMaxRank> in_dims{};
  std::array<bool, kMaxRank> reduce{};
  int64_t out_count = 0;
  int64_t reduce_count = 1;  // elements averaged into each output
};

// `accumulator` must hold out_count doubles (scratch owned by the caller's context).
void Mean(const MeanArgs& args, const float* input, double* accumulator, float* output);

}  // namespace fg::nn::ops
