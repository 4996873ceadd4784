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

// A convolution launch with its padding made explicit: `pad` (a kPad launch from a.in[0] into a
// buffer of pad.count floats: exactly the rows and columns the windows cover, zeros outside the
// input) then `conv` (the same convolution and epilogue over that buffer, padding 0). For the
// cuDNN path where cuDNN cannot express the padding (TF's asymmetric SAME). The caller sets
// pad.out and conv.in[0] to the buffer. False when `a` is not a convolution.
// tests/cuda_nn checks that pad + conv equals the launch, bit for bit.
struct PaddedConv {
  KernelArgs pad, conv;
};
inline bool ExplicitPadding(const KernelArgs& a, PaddedConv* out) {
  auto make = [&](const auto& g, int in_c, auto* padded) {
    const int h = (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
    const int w = (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
    KernelArgs& p = out->pad;
    p = KernelArgs{};
    p.kind = Kind::kPad;
    p.in[0] = a.in[0];
    p.count = int64_t(g.batch) * h * w * in_c;
    p.ep.channels = in_c;  // empty epilogue: a plain store
    p.pad.rank = 4;
    const int64_t in_dims[4] = {g.batch, g.in_h, g.in_w, in_c}, out_dims[4] = {g.batch, h, w, in_c},
                  before[4] = {0, g.pad_top, g.pad_left, 0};
    for (int d = 0; d < 4; ++d)
      p.pad.in_dims.v[d] = in_dims[d], p.pad.out_dims.v[d] = out_dims[d], p.pad.before.v[d] = before[d];
    out->conv = a;
    out->conv.in[0] = nullptr;
    padded->in_h = h, padded->in_w = w, padded->pad_top = 0, padded->pad_left = 0;
  };
  if (a.kind == Kind::kConv2D) {
    make(a.conv, a.conv.in_c, &out->conv.conv);
  } else if (a.kind == Kind::kDepthwise) {
    make(a.dw, a.dw.in_c, &out->conv.dw);
  } else {
    return false;
  }
  return true;
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
