#include "engine/nn/ops/minimum.h"

#include <algorithm>

namespace fg::nn::ops {

void Minimum(const BroadcastArgs& args, const float* a, const float* b, float* out) {
  BroadcastBinary(args, a, b, out, [](float a, float b) { return std::min(a, b); });
}

}  // namespace fg::nn::ops
