// CUDA MaxPool, one output element per thread: engine/nn/ops/max_pool.h (cells outside the
// input never win; SAME windows are never empty). Threading: pure FG_HD function.
#pragma once

#include <cmath>
#include <cstdint>

#include "cuda/nn/ops/nd.h"
#include "engine/hd.h"
#include "engine/nn/ops/max_pool.h"

namespace fg::nn::gpu {

FG_HD inline float MaxPoolElement(const ops::MaxPoolArgs& a, const float* input, int64_t i) {
  const NhwcIndex o = UnravelNhwc(i, a.out_h, a.out_w, a.channels);
  const int64_t b = o.b;
  const int oy = o.y, ox = o.x, c = o.c;
  float best = -INFINITY;
  ForEachTap(a, oy, ox, 1, 1, [&](int iy, int ix, int, int) {
    const float v = input[((b * a.in_h + iy) * a.in_w + ix) * a.channels + c];
    best = v > best ? v : best;
  });
  return best;
}

}  // namespace fg::nn::gpu
