// Fused activations shared by the reference conv2d, depthwise_conv2d and matmul kernels.
//
// Applied after the bias, per output channel c: kRelu max(v, 0); kRelu6 min(max(v, 0), 6);
// kPrelu v > 0 ? v : alpha[c] * v, where alpha has one value per channel or a single value
// (alpha_count == 1). Threading: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>

#include "engine/nn/model.h"

namespace fg::nn::ops {

inline float ApplyActivation(float v, Activation act, const float* alpha, int64_t alpha_count,
                             int64_t channel) {
  switch (act) {
    case Activation::kNone:
      return v;
    case Activation::kRelu:
      return std::max(v, 0.0f);
    case Activation::kRelu6:
      return std::min(std::max(v, 0.0f), 6.0f);
    case Activation::kPrelu:
      return v > 0.0f ? v : alpha[alpha_count == 1 ? 0 : channel] * v;
  }
  return v;
}

}  // namespace fg::nn::ops
