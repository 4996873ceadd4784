// CUDA DepthwiseConv2D, one output element per thread: engine/nn/ops/depthwise_conv2d.h for
// output index i = ((b * out_h + oy) * out_w + ox) * (in_c * multiplier) + oc, input channel
// oc / multiplier, without bias or activation (epilogue.h). Threading: pure FG_HD function.
#pragma once

#include <cstdint>

#include "cuda/nn/ops/nd.h"
#include "engine/hd.h"
#include "engine/nn/ops/depthwise_conv2d.h"

namespace fg::nn::gpu {

FG_HD inline float DepthwiseConv2DElement(const ops::DepthwiseConv2DArgs& a, const float* input,
                                          const float* filter, int64_t i) {
  const int out_c = a.in_c * a.multiplier;
  const NhwcIndex o = UnravelNhwc(i, a.out_h, a.out_w, out_c);
  const int64_t b = o.b;
  const int oy = o.y, ox = o.x, oc = o.c, c = oc / a.multiplier;
  float sum = 0.0f;
  ForEachTap(a, oy, ox, a.dilation_h, a.dilation_w, [&](int iy, int ix, int ky, int kx) {
    sum += input[((b * a.in_h + iy) * a.in_w + ix) * a.in_c + c] *
           filter[(static_cast<int64_t>(ky) * a.kernel_w + kx) * out_c + oc];
  });
  return sum;
}

}  // namespace fg::nn::gpu
