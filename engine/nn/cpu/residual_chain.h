// ResidualChain: a run of BlazeFace-style residual blocks computed row by row, in one pass.
//
// A stride-1 block is the four model nodes
//
//     x ──▶ DepthwiseConv2D 3x3, stride 1, SAME (+ bias) ──▶ Conv2D 1x1, C -> C (+ bias) ──┐
//     └──────────────────────────────────────────────────────────────────────────▶ Add ──▶ Relu ──▶ y
//
// and a stride-2 block halves H and W (both even) and may widen the channels C -> C':
//
//     x ──▶ DepthwiseConv2D 3x3, stride 2, SAME (+ bias) ──▶ Conv2D 1x1, C -> C' (+ bias) ──┐
//     └──▶ MaxPool 2x2, stride 2 ──▶ (Pad channels C -> C' with zeros, when C' > C) ──▶ Add ──▶ Relu ──▶ y
//
// The activation may be a per-channel PReLU instead of the ReLU (FaceMesh's blocks and stem:
// y = x > 0 ? x : alpha[c] * x).
//
// A chain is N such blocks, each one's y the next one's x, optionally behind a stride-2
// Conv2D "stem" (StemConv): BlazeFace's stem and body, 256x256x3 down to 16x16x96, are one
// chain of the stem and 31 blocks; FaceMesh's, 192x192x3 down to 6x6x128, of a 3x3 stem
// and 14 PReLU blocks. XNNPACK runs each node as its own pass over memory: at
// 128x128x24 a tensor (1.5 MB) does not fit the 1 MB L2, so the passes stream through L3,
// and its 1x1 kernel runs 24 channels at part vector width (65 GFLOP/s). Here the chain
// streams: a block computes an output row as soon as the rows it needs exist, so each block
// keeps only a ring of three rows of its input and the depthwise result of one row (L1); the
// chain reads its input and writes its output once. Inside, rows are channel-planar ([C][W]:
// 16 pixels per AVX-512 vector, so 24 or 48 channels cost no partial vectors); the chain's
// input and output stay NHWC.
//
// The kernel is AVX-512F (residual_chain_avx512.cc, compiled for it alone): Supported()
// says whether this CPU has it; callers keep their generic path otherwise. Results equal the
// reference ops up to float rounding order (the depthwise bias is folded into the 1x1 bias).
//
// Threading: immutable after construction; Run is const and thread-safe given distinct
// scratch buffers. Run allocates nothing.
//
// Example (the XNNPACK backend builds these from the model: xnnpack_backend.cc):
//   std::vector<fg::nn::cpu::ResidualBlock> blocks = {{dw_w, nullptr, pw_w, pw_b}, ...};
//   fg::nn::cpu::ResidualChain chain(/*h=*/128, /*w=*/128, /*c=*/24, blocks);
//   std::vector<float> scratch(chain.scratch_floats());   // 64-byte aligned in real use
//   chain.Run(in_nhwc, out_nhwc, /*batch=*/1, scratch.data());
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "engine/nn/cpu/residual_chain_kernel.h"

namespace fg::nn::cpu {

// Weights of one block, in the model's (TF) layouts; the chain copies them.
struct ResidualBlock {
  const float* dw_filter = nullptr;  // [3, 3, C, 1]
  const float* dw_bias = nullptr;    // [C], or nullptr
  const float* pw_filter = nullptr;  // [1, 1, C, C'] (HWIO)
  const float* pw_bias = nullptr;    // [C'], or nullptr
  int stride = 1;                    // 1 or 2 (then H and W must be even)
  int out_channels = 0;              // C'; 0 means C. Stride 1 requires C' == C.
  const float* prelu_alpha = nullptr;  // [C']: PReLU slopes; nullptr: ReLU
};

// An optional first layer whose output is the first block's input (BlazeFace's 5x5 stem):
// computed row by row into that block's ring, so its 1.5 MB output never exists.
struct StemConv {
  const float* filter = nullptr;  // [k, k, C_in, C] (HWIO)
  const float* bias = nullptr;    // [C], or nullptr
  int channels = 0;               // C: the blocks' input channels, <= 24
  int kernel = 5;                 // k, stride 2, the chain input's H and W even
  int pad_top = 0, pad_left = 0;  // TF's SAME split (ComputeWindow)
  bool relu = true;
  const float* prelu_alpha = nullptr;  // [C]: PReLU slopes instead (`relu` ignored)
};

class ResidualChain {
 public:
  // True when this CPU runs the AVX-512 kernel (checked once).
  static bool Supported();

  // Input [N, height, width, channels]; the caller has checked the block contract above.
  ResidualChain(int height, int width, int channels, std::span<const ResidualBlock> blocks);
  // With a stem: the input [N, height, width, in_channels] goes through `stem` first, whose
  // output ([height / 2, width / 2, stem channels]) feeds the blocks.
  ResidualChain(int height, int width, int in_channels, const StemConv& stem,
                std::span<const ResidualBlock> blocks);

  // The stages point into this object's packed weights: neither copied nor moved.
  ResidualChain(const ResidualChain&) = delete;
  ResidualChain& operator=(const ResidualChain&) = delete;

  int blocks() const { return static_cast<int>(stages_.size()); }
  // Output size per image: [out_height, out_width, out_channels].
  int out_height() const { return stages_.back().h_out; }
  int out_width() const { return stages_.back().w_out; }
  int out_channels() const { return stages_.back().c_out; }

  // Floats of scratch one Run needs (64-byte aligned memory, not shared between threads).
  size_t scratch_floats() const;

  // in: [batch, H, W, C], out: [batch, out_height, out_width, out_channels], NHWC, not
  // overlapping. Only valid when Supported().
  void Run(const float* in, float* out, int batch, float* scratch) const;

 private:
  std::vector<float> dw_;    // per block [C][9]
  std::vector<float> pw_;    // per block [C][C']
  std::vector<float> bias_;  // per block [C']: pw bias + pw^T * dw bias
  std::vector<float> alpha_; // per PReLU block [C']
  std::vector<detail::StageArgs> stages_;  // sizes + pointers into the three above
  std::vector<float> stem_w_, stem_bias_, stem_alpha_;
  detail::StemArgs stem_{};                // present == 0 without a stem

  void Init(int height, int width, int channels, std::span<const ResidualBlock> blocks);
};

}  // namespace fg::nn::cpu
