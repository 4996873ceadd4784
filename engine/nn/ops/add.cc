#include "engine/nn/ops/add.h"

#include <algorithm>

namespace fg::nn::ops {

void Add(const BroadcastArgs& args, const float* a, const float* b, float* out) {
  BroadcastBinary(args, a, b, out, [](float a, float b) { return a + b; });
}

}  // namespace fg::nn::ops
