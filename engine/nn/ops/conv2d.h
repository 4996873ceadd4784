// Reference Conv2D (plain and fused): NHWC input, HWIO filter [kernel_h, kernel_w, in_c,
// out_c], optional bias [out_c], then the fused activation (activation.h).
//
//   out[b, oy, ox, oc] = act(bias[oc] + sum_{ky, kx, ic} in[b, iy, ix, ic] * f[ky, kx, ic, oc])
//   iy = oy * stride_h + ky * dilation_h - pad_top  (cells outside the input count as 0)
//
// Geometry comes from ComputeWindow (shape_inference.h) so SAME splits exactly as TF.
// Threading: pure function. Never allocates.
#pragma once

#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

struct Conv2DArgs {
  int batch = 1;
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  Activation activation = Activation::kNone;
};

// bias may be null; alpha is read only for Activation::kPrelu (alpha_count = out_c or 1).
void Conv2D(const Conv2DArgs& args, const float* input, const float* filter, const float* bias,
            const float* alpha, int64_t alpha_count, float* output);

}  // namespace fg::nn::ops
