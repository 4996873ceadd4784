// Reference MaxPool, NHWC: out[b, oy, ox, c] = max over the window of in[b, iy, ix, c];
// padded cells (SAME / EXPLICIT) never take part (as TF: they act as -infinity).
// Threading: pure function. Never allocates.
#pragma once

namespace fg::nn::ops {

struct MaxPoolArgs {
  int batch = 1;
  int in_h = 0, in_w = 0, channels = 0;
  int out_h = 0, out_w = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0;
};

void MaxPool(const MaxPoolArgs& args, const float* input, float* output);

}  // namespace fg::nn::ops
