// Index arithmetic for the CUDA NN kernels: UnravelNhwc (thread -> output pixel of a conv /
// pool), ForEachTap (the window taps inside the input) and, for the kernels that work on
// whole shapes (broadcast, pad, mean), fixed-size plain arrays (kernel arguments are copied by
// value into the launch) and Unravel (row-major flat index -> coordinates).
// Threading: pure FG_HD functions.
#pragma once

#include <cstdint>

#include "engine/hd.h"
#include "engine/nn/model.h"

namespace fg::nn::gpu {

struct NdArray {
  int64_t v[kMaxRank] = {};
};

// coord[d] for d < rank from the row-major index i into dims.
FG_HD inline void Unravel(int rank, const NdArray& dims, int64_t i, int64_t* coord) {
  for (int d = rank - 1; d >= 0; --d) {
    coord[d] = i % dims.v[d];
    i /= dims.v[d];
  }
}

// Output position of NHWC index i in a [batch, h, w, c] tensor (the kernels' thread -> pixel).
struct NhwcIndex {
  int64_t b;
  int y, x, c;
};
FG_HD inline NhwcIndex UnravelNhwc(int64_t i, int h, int w, int c) {
  NhwcIndex p;
  p.c = static_cast<int>(i % c);
  i /= c;
  p.x = static_cast<int>(i % w);
  i /= w;
  p.y = static_cast<int>(i % h);
  p.b = i / h;
  return p;
}

// Calls tap(iy, ix, ky, kx) for each window tap of output pixel (oy, ox) that falls inside
// the input (the others are padding: zero for a conv, never the max for a pool). `g` is any
// of ops::Conv2DArgs / DepthwiseConv2DArgs / MaxPoolArgs (pools pass dilation 1).
template <class Geometry, class Tap>
FG_HD inline void ForEachTap(const Geometry& g, int oy, int ox, int dilation_h, int dilation_w,
                             Tap&& tap) {
  for (int ky = 0; ky < g.kernel_h; ++ky) {
    const int iy = oy * g.stride_h + ky * dilation_h - g.pad_top;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int kx = 0; kx < g.kernel_w; ++kx) {
      const int ix = ox * g.stride_w + kx * dilation_w - g.pad_left;
      if (ix < 0 || ix >= g.in_w) continue;
      tap(iy, ix, ky, kx);
    }
  }
}

}  // namespace fg::nn::gpu
