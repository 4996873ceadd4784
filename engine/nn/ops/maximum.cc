#include "engine/nn/ops/maximum.h"

#include <algorithm>

namespace fg::nn::ops {

void Maximum(const BroadcastArgs& args, const float* a, const float* b, float* out) {
  BroadcastBinary(args, a, b, out, [](float a, float b) { return std::max(a, b); });
}

}  // namespace fg::nn::ops
