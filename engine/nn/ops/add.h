// Reference Add: out = a + b elementwise, TF/numpy broadcasting (see broadcast.h).
// Threading: pure function. Never allocates.
#pragma once

#include "engine/nn/ops/broadcast.h"

namespace fg::nn::ops {

void Add(const BroadcastArgs& args, const float* a, const float* b, float* out);

}  // namespace fg::nn::ops
