// CUDA Conv2D, one output element per thread: the dot product of engine/nn/ops/conv2d.h for
// output index i = ((b * out_h + oy) * out_w + ox) * out_c + oc, without bias or activation
// (those are the epilogue's, epilogue.h). NHWC input, HWIO filter: consecutive threads take
// consecutive oc, so a warp reads one input value (broadcast) and 32 adjacent weights.
// Threading: pure FG_HD function.
#pragma once

#include <cstdint>

#include "cuda/nn/ops/nd.h"
#include "engine/hd.h"
#include "engine/nn/ops/conv2d.h"

namespace fg::nn::gpu {

FG_HD inline float Conv2DElement(const ops::Conv2DArgs& a, const float* input, const float* filter,
                                 int64_t i) {
  const NhwcIndex o = UnravelNhwc(i, a.out_h, a.out_w, a.out_c);
  const int64_t b = o.b;
  const int oy = o.y, ox = o.x, oc = o.c;
  float sum = 0.0f;
  ForEachTap(a, oy, ox, a.dilation_h, a.dilation_w, [&](int iy, int ix, int ky, int kx) {
    const float* in = input + ((b * a.in_h + iy) * a.in_w + ix) * a.in_c;
    const float* f = filter + (static_cast<int64_t>(ky) * a.kernel_w + kx) * a.in_c * a.out_c + oc;
    for (int ic = 0; ic < a.in_c; ++ic) sum += in[ic] * f[static_cast<int64_t>(ic) * a.out_c];
  });
  return sum;
}

}  // namespace fg::nn::gpu
