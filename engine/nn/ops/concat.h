// Reference ConcatV2: inputs viewed as [outer, chunk_i] row-major, where outer is the
// product of the dimensions before the axis and chunk_i = dim_i(axis) * inner; the output
// row o is input 0's row o, then input 1's row o, ...
// Threading: pure function. Never allocates.
#pragma once

#include <cstdint>
#include <span>

namespace fg::nn::ops {

void Concat(std::span<const float* const> inputs, std::span<const int64_t> chunks, int64_t outer,
            float* output);

}  // namespace fg::nn::ops
