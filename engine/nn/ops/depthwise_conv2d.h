// Reference DepthwiseConv2dNative (optionally fused): NHWC input, filter [kernel_h,
// kernel_w, in_c, multiplier], output channels in_c * multiplier ordered c * multiplier + m.
//
//   out[b, oy, ox, c*M + m] = act(bias[c*M + m] + sum_{ky, kx} in[b, iy, ix, c] * f[ky, kx, c, m])
//
// Threading: pure function. Never allocates.
#pragma once

#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

struct DepthwiseConv2DArgs {
  int batch = 1;
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0;
  int multiplier = 1;  // out_c = in_c * multiplier
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  Activation activation = Activation::kNone;
};

void DepthwiseConv2D(const DepthwiseConv2DArgs& args, const float* input, const float* filter,
                     const float* bias, const float* alpha, int64_t alpha_count, float* output);

}  // namespace fg::nn::ops
