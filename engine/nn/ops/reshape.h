// Reference Reshape: the element order does not change, so it is a copy of `count` floats
// (shape checking happens in shape inference). Also used for Identity.
// Threading: pure function. Never allocates.
#pragma once

#include <cstdint>

namespace fg::nn::ops {

void Reshape(const float* input, float* output, int64_t count);

}  // namespace fg::nn::ops
