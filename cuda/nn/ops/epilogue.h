// The fused epilogue every CUDA NN kernel but softmax ends with: out = act2(act(v + bias[c]) +
// residual[i]), where v is the kernel's own value for output i and c = i % channels.
//
// The lowering (cuda/nn/lowering.h) fills it from the op's own fused BiasAdd / activation and
// then absorbs the nodes that follow it when they are elementwise and private to it: an Add
// of a same-shape residual, a Relu / Prelu before or after that Add. Null pointers and
// Activation::kNone switch a stage off. Activations match engine/nn/ops/activation.h.
//
// Threading: pure FG_HD functions (engine/hd.h): nvcc's kernels and the host emulation run
// the same code.
#pragma once

#include <cstdint>

#include "engine/hd.h"
#include "engine/nn/model.h"

namespace fg::nn::gpu {

struct Epilogue {
  int64_t channels = 1;  // size of the last axis: per-channel bias and PReLU alpha
  const float* bias = nullptr;
  Activation act = Activation::kNone;
  const float* alpha = nullptr;  // act == kPrelu: alpha_count values (1 or channels)
  int64_t alpha_count = 0;
  const float* residual = nullptr;  // same shape as the output
  Activation act2 = Activation::kNone;
  const float* alpha2 = nullptr;
  int64_t alpha2_count = 0;
};

FG_HD inline float Activate(float v, Activation act, const float* alpha, int64_t alpha_count,
                            int64_t c) {
  switch (act) {
    case Activation::kNone:
      return v;
    case Activation::kRelu:
      return v > 0.0f ? v : 0.0f;
    case Activation::kRelu6:
      return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
    case Activation::kPrelu:
      return v > 0.0f ? v : alpha[alpha_count == 1 ? 0 : c] * v;
  }
  return v;
}

FG_HD inline float ApplyEpilogue(const Epilogue& e, float v, int64_t i) {
  const int64_t c = i % e.channels;
  if (e.bias) v += e.bias[c];
  v = Activate(v, e.act, e.alpha, e.alpha_count, c);
  if (e.residual) v += e.residual[i];
  return Activate(v, e.act2, e.alpha2, e.alpha2_count, c);
}

}  // namespace fg::nn::gpu
