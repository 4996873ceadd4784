#include "engine/nn/ops/max_pool.h"

#include <cstdint>
#include <limits>

namespace fg::nn::ops {

void MaxPool(const MaxPoolArgs& a, const float* input, float* output) {
  const float lowest = -std::numeric_limits<float>::infinity();
  for (int b = 0; b < a.batch; ++b) {
    for (int oy = 0; oy < a.out_h; ++oy) {
      for (int ox = 0; ox < a.out_w; ++ox) {
        float* out =
            output + ((static_cast<int64_t>(b) * a.out_h + oy) * a.out_w + ox) * a.channels;
        for (int c = 0; c < a.channels; ++c) out[c] = lowest;
        for (int ky = 0; ky < a.kernel_h; ++ky) {
          int iy = oy * a.stride_h + ky - a.pad_top;
          if (iy < 0 || iy >= a.in_h) continue;
          for (int kx = 0; kx < a.kernel_w; ++kx) {
            int ix = ox * a.stride_w + kx - a.pad_left;
            if (ix < 0 || ix >= a.in_w) continue;
            const float* in =
                input + ((static_cast<int64_t>(b) * a.in_h + iy) * a.in_w + ix) * a.channels;
            for (int c = 0; c < a.channels; ++c) out[c] = in[c] > out[c] ? in[c] : out[c];
          }
        }
      }
    }
  }
}

}  // namespace fg::nn::ops
