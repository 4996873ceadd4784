#include "engine/nn/ops/conv2d.h"

#include "engine/nn/ops/activation.h"

namespace fg::nn::ops {

void Conv2D(const Conv2DArgs& a, const float* input, const float* filter, const float* bias,
            const float* alpha, int64_t alpha_count, float* output) {
  for (int b = 0; b < a.batch; ++b) {
    for (int oy = 0; oy < a.out_h; ++oy) {
      for (int ox = 0; ox < a.out_w; ++ox) {
        float* out = output + ((static_cast<int64_t>(b) * a.out_h + oy) * a.out_w + ox) * a.out_c;
        for (int oc = 0; oc < a.out_c; ++oc) out[oc] = bias ? bias[oc] : 0.0f;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
          int iy = oy * a.stride_h + ky * a.dilation_h - a.pad_top;
          if (iy < 0 || iy >= a.in_h) continue;
          for (int kx = 0; kx < a.kernel_w; ++kx) {
            int ix = ox * a.stride_w + kx * a.dilation_w - a.pad_left;
            if (ix < 0 || ix >= a.in_w) continue;
            const float* in =
                input + ((static_cast<int64_t>(b) * a.in_h + iy) * a.in_w + ix) * a.in_c;
            const float* f =
                filter + (static_cast<int64_t>(ky) * a.kernel_w + kx) * a.in_c * a.out_c;
            for (int ic = 0; ic < a.in_c; ++ic) {
              float v = in[ic];
              const float* f_row = f + static_cast<int64_t>(ic) * a.out_c;
              for (int oc = 0; oc < a.out_c; ++oc) out[oc] += v * f_row[oc];
            }
          }
        }
        for (int oc = 0; oc < a.out_c; ++oc)
          out[oc] = ApplyActivation(out[oc], a.activation, alpha, alpha_count, oc);
      }
    }
  }
}

}  // namespace fg::nn::ops
