#include "engine/nn/ops/depthwise_conv2d.h"

#include "engine/nn/ops/activation.h"

namespace fg::nn::ops {

void DepthwiseConv2D(const DepthwiseConv2DArgs& a, const float* input, const float* filter,
                     const float* bias, const float* alpha, int64_t alpha_count, float* output) {
  const int out_c = a.in_c * a.multiplier;
  for (int b = 0; b < a.batch; ++b) {
    for (int oy = 0; oy < a.out_h; ++oy) {
      for (int ox = 0; ox < a.out_w; ++ox) {
        float* out = output + ((static_cast<int64_t>(b) * a.out_h + oy) * a.out_w + ox) * out_c;
        for (int oc = 0; oc < out_c; ++oc) out[oc] = bias ? bias[oc] : 0.0f;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
          int iy = oy * a.stride_h + ky * a.dilation_h - a.pad_top;
          if (iy < 0 || iy >= a.in_h) continue;
          for (int kx = 0; kx < a.kernel_w; ++kx) {
            int ix = ox * a.stride_w + kx * a.dilation_w - a.pad_left;
            if (ix < 0 || ix >= a.in_w) continue;
            const float* in =
                input + ((static_cast<int64_t>(b) * a.in_h + iy) * a.in_w + ix) * a.in_c;
            const float* f = filter + (static_cast<int64_t>(ky) * a.kernel_w + kx) * out_c;
            for (int c = 0; c < a.in_c; ++c)
              for (int m = 0; m < a.multiplier; ++m)
                out[c * a.multiplier + m] += in[c] * f[c * a.multiplier + m];
          }
        }
        for (int oc = 0; oc < out_c; ++oc)
          out[oc] = ApplyActivation(out[oc], a.activation, alpha, alpha_count, oc);
      }
    }
  }
}

}  // namespace fg::nn::ops
