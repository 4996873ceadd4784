// The interface between ResidualChain (residual_chain.h) and its AVX-512 kernel
// (residual_chain_avx512.cc). Plain structs and functions only: the kernel's translation unit
// is compiled for AVX-512 and must instantiate no template that other files also use (the
// linker could keep its AVX-512 copy for them).
#pragma once

#include <cstddef>

namespace fg::nn::cpu::detail {

// Most blocks one chain may have (the kernel keeps per-block state in fixed arrays).
inline constexpr int kMaxChainBlocks = 64;

// One block as the kernel reads it.
struct StageArgs {
  int h_in, w_in, c_in, h_out, w_out, c_out, stride;
  const float* dw;    // [c_in][9]: tap ky * 3 + kx of channel c at c * 9 + ky * 3 + kx
  const float* pw;    // [c_in][c_out]
  const float* bias;  // [c_out]
  const float* alpha; // [c_out]: PReLU slopes of the block's activation; nullptr: ReLU
};

// The optional stem in front of the blocks: Conv2D k x k, stride 2, c_in -> c_out (<= 24)
// on the chain's NHWC input, + bias, optional ReLU or PReLU; its output is block 0's input.
struct StemArgs {
  int present;  // 0: the chain's input is block 0's input
  int h_in, w_in, c_in, k, pad_top, pad_left, h_out, w_out, c_out, relu;
  const float* w;     // [ky][kx][c_in][c_out] (TF HWIO)
  const float* bias;  // [c_out]
  const float* alpha; // [c_out]: PReLU slopes (then `relu` is ignored), or nullptr
};

size_t ChainScratchFloats(const StemArgs& stem, const StageArgs* stages, int count);
void RunChainAvx512(const StemArgs& stem, const StageArgs* stages, int count, const float* in,
                    float* out, int batch, float* scratch);

}  // namespace fg::nn::cpu::detail
