// One launch of the CUDA NN backend: its arguments (KernelArgs, plain data copied by value
// into the launch) and EvalElement<K>, the per-output-element work of each kernel kind.
//
//   lowering.h   decides the launches (which Kind, which epilogue, which buffers)
//   executor     cuda_backend.cu: StepKernel<K><<<...>>>(args) calls EvalElement<K>(args, i)
//   emulator     emulator.h: calls EvalElement<K>(args, i) for every i on the host
//
// so the GPU and its CPU emulation share every line of arithmetic (FG_HD, engine/hd.h).
// Index space: args.count outputs (Kind::kSoftmax: rows); element i writes args.out[i]
// (a softmax row writes its row).
//
// Threading: pure functions over caller-owned memory.
#pragma once

#include <cstdint>
#include <type_traits>

#include "cuda/nn/ops/concat.h"
#include "cuda/nn/ops/conv2d.h"
#include "cuda/nn/ops/depthwise_conv2d.h"
#include "cuda/nn/ops/elementwise.h"
#include "cuda/nn/ops/epilogue.h"
#include "cuda/nn/ops/matmul.h"
#include "cuda/nn/ops/max_pool.h"
#include "cuda/nn/ops/mean.h"
#include "cuda/nn/ops/pad.h"
#include "cuda/nn/ops/softmax.h"
#include "engine/hd.h"

namespace fg::nn::gpu {

enum class Kind : int {
  kCopy,       // in[0] through the epilogue (Relu, Prelu, a copy to a graph output)
  kConv2D,     // in[0] x, in[1] HWIO filter
  kDepthwise,  // in[0] x, in[1] [kh, kw, c, multiplier] filter
  kMatMul,     // in[0] a, in[1] b
  kBinary,     // in[0] a, in[1] b, broadcasting
  kSigmoid,    // in[0]
  kMaxPool,    // in[0]
  kPad,        // in[0]
  kMean,       // in[0]
  kConcat,     // in[0..inputs)
  kSoftmax,    // in[0], one row per index
};
inline constexpr int kNumKinds = 11;

struct KernelArgs {
  Kind kind = Kind::kCopy;
  int64_t count = 0;
  const float* in[kMaxKernelInputs] = {};
  float* out = nullptr;
  Epilogue ep;  // every kind but kSoftmax (empty: a plain store)
  ops::Conv2DArgs conv;
  ops::DepthwiseConv2DArgs dw;
  ops::MatMulArgs matmul;
  ops::MaxPoolArgs pool;
  BinaryArgs binary;
  PadArgs pad;
  MeanArgs mean;
  ConcatArgs concat;
  int64_t depth = 0;  // kSoftmax
};

template <Kind K>
FG_HD inline void EvalElement(const KernelArgs& a, int64_t i) {
  if constexpr (K == Kind::kCopy) {
    a.out[i] = ApplyEpilogue(a.ep, a.in[0][i], i);
  } else if constexpr (K == Kind::kConv2D) {
    a.out[i] = ApplyEpilogue(a.ep, Conv2DElement(a.conv, a.in[0], a.in[1], i), i);
  } else if constexpr (K == Kind::kDepthwise) {
    a.out[i] = ApplyEpilogue(a.ep, DepthwiseConv2DElement(a.dw, a.in[0], a.in[1], i), i);
  } else if constexpr (K == Kind::kMatMul) {
    a.out[i] = ApplyEpilogue(a.ep, MatMulElement(a.matmul, a.in[0], a.in[1], i), i);
  } else if constexpr (K == Kind::kBinary) {
    a.out[i] = ApplyEpilogue(a.ep, BinaryElement(a.binary, a.in[0], a.in[1], i), i);
  } else if constexpr (K == Kind::kSigmoid) {
    a.out[i] = ApplyEpilogue(a.ep, SigmoidElement(a.in[0][i]), i);
  } else if constexpr (K == Kind::kMaxPool) {
    a.out[i] = ApplyEpilogue(a.ep, MaxPoolElement(a.pool, a.in[0], i), i);
  } else if constexpr (K == Kind::kPad) {
    a.out[i] = ApplyEpilogue(a.ep, PadElement(a.pad, a.in[0], i), i);
  } else if constexpr (K == Kind::kMean) {
    a.out[i] = ApplyEpilogue(a.ep, MeanElement(a.mean, a.in[0], i), i);
  } else if constexpr (K == Kind::kConcat) {
    a.out[i] = ApplyEpilogue(a.ep, ConcatElement(a.concat, a.in, i), i);
  } else {
    static_assert(K == Kind::kSoftmax);
    SoftmaxRow(a.depth, a.in[0], a.out, i);
  }
}

// The epilogue of launch `a` alone, in place over a.out: what follows a convolution that
// another library computed into a.out without it (the cuDNN path, cudnn_conv.h). A kCopy whose
// element i reads and writes only out[i]; count 0 (no launch) when the epilogue is empty.
// tests/cuda_nn checks that conv-without-epilogue + this equals the fused launch, bit for bit.
inline KernelArgs EpilogueInPlace(const KernelArgs& a) {
  KernelArgs e = a;
  e.kind = Kind::kCopy;
  e.in[0] = a.out;
  const Epilogue& ep = a.ep;
  if (!ep.bias && ep.act == Activation::kNone && !ep.residual && ep.act2 == Activation::kNone) e.count = 0;
  return e;
}

// Calls f(std::integral_constant<Kind, K>{}) for the runtime `kind`: the one place a Kind
// becomes a template argument (host code: the CUDA launcher and the emulator both use it).
template <class F>
void VisitKind(Kind kind, F&& f) {
  switch (kind) {
#define FG_NN_GPU_KIND(K) \
  case Kind::K:           \
    f(std::integral_constant<Kind, Kind::K>{}); \
    break;
    FG_NN_GPU_KIND(kCopy)
    FG_NN_GPU_KIND(kConv2D)
    FG_NN_GPU_KIND(kDepthwise)
    FG_NN_GPU_KIND(kMatMul)
    FG_NN_GPU_KIND(kBinary)
    FG_NN_GPU_KIND(kSigmoid)
    FG_NN_GPU_KIND(kMaxPool)
    FG_NN_GPU_KIND(kPad)
    FG_NN_GPU_KIND(kMean)
    FG_NN_GPU_KIND(kConcat)
    FG_NN_GPU_KIND(kSoftmax)
#undef FG_NN_GPU_KIND
  }
}

}  // namespace fg::nn::gpu
