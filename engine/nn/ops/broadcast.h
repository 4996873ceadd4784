// Numpy/TF broadcasting for the reference binary ops (add, mul, minimum, maximum).
//
// MakeBroadcastArgs runs at prepare time (it checks and fills fixed-size arrays, no heap);
// BroadcastBinary walks the output once with an odometer index. Shapes are right-aligned,
// a dimension of 1 repeats. Threading: pure functions.
#pragma once

#include <array>
#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

struct BroadcastArgs {
  int rank = 0;
  int64_t count = 0;  // output elements
  std::array<int64_t, kMaxRank> out_dims{};
  std::array<int64_t, kMaxRank> a_strides{};  // 0 on broadcast dimensions
  std::array<int64_t, kMaxRank> b_strides{};
  bool same_shape = false;  // fast path: a, b and out all equal
};

// False when the shapes do not broadcast to `out` or exceed kMaxRank.
bool MakeBroadcastArgs(const Shape& a, const Shape& b, const Shape& out, BroadcastArgs* args);

template <typename F>
void BroadcastBinary(const BroadcastArgs& args, const float* a, const float* b, float* out, F f) {
  if (args.same_shape) {
    for (int64_t i = 0; i < args.count; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  std::array<int64_t, kMaxRank> index{};
  int64_t a_off = 0, b_off = 0;
  for (int64_t i = 0; i < args.count; ++i) {
    out[i] = f(a[a_off], b[b_off]);
    // Odometer increment over out_dims, innermost dimension first.
    for (int d = args.rank - 1; d >= 0; --d) {
      a_off += args.a_strides[d];
      b_off += args.b_strides[d];
      if (++index[d] < args.out_dims[d]) break;
      a_off -= args.a_strides[d] * args.out_dims[d];
      b_off -= args.b_strides[d] * args.out_dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace fg::nn::ops
