// ResidualChain: weight packing and CPU dispatch (portable; the kernel is
// residual_chain_avx512.cc). See residual_chain.h.
#include "engine/nn/cpu/residual_chain.h"

namespace fg::nn::cpu {

bool ResidualChain::Supported() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return ok;
#else
  return false;
#endif
}

ResidualChain::ResidualChain(int height, int width, int channels,
                             std::span<const ResidualBlock> blocks) {
  Init(height, width, channels, blocks);
}

ResidualChain::ResidualChain(int height, int width, int in_channels, const StemConv& stem,
                             std::span<const ResidualBlock> blocks) {
  const size_t k = static_cast<size_t>(stem.kernel), ci = static_cast<size_t>(in_channels);
  const size_t co = static_cast<size_t>(stem.channels);
  stem_w_.assign(stem.filter, stem.filter + k * k * ci * co);  // HWIO is the kernel's layout
  stem_bias_.assign(co, 0.f);
  if (stem.bias) stem_bias_.assign(stem.bias, stem.bias + co);
  stem_.present = 1;
  stem_.h_in = height;
  stem_.w_in = width;
  stem_.c_in = in_channels;
  stem_.k = stem.kernel;
  stem_.pad_top = stem.pad_top;
  stem_.pad_left = stem.pad_left;
  stem_.h_out = height / 2;
  stem_.w_out = width / 2;
  stem_.c_out = stem.channels;
  stem_.relu = stem.relu ? 1 : 0;
  stem_.w = stem_w_.data();
  stem_.bias = stem_bias_.data();
  if (stem.prelu_alpha) {
    stem_alpha_.assign(stem.prelu_alpha, stem.prelu_alpha + co);
    stem_.alpha = stem_alpha_.data();
  }
  Init(height / 2, width / 2, stem.channels, blocks);
}

void ResidualChain::Init(int height, int width, int channels,
                         std::span<const ResidualBlock> blocks) {
  // Sizes and weight offsets first (the vectors must not move once stages point into them).
  struct Offsets {
    size_t dw, pw, bias, alpha;
  };
  std::vector<Offsets> offsets;
  int h = height, w = width, c = channels;
  size_t dw_n = 0, pw_n = 0, bias_n = 0, alpha_n = 0;
  for (const ResidualBlock& blk : blocks) {
    detail::StageArgs st{};
    st.stride = blk.stride;
    st.h_in = h;
    st.w_in = w;
    st.c_in = c;
    st.h_out = blk.stride == 2 ? h / 2 : h;
    st.w_out = blk.stride == 2 ? w / 2 : w;
    st.c_out = blk.out_channels > 0 ? blk.out_channels : c;
    stages_.push_back(st);
    offsets.push_back({dw_n, pw_n, bias_n, alpha_n});
    dw_n += size_t(c) * 9;
    pw_n += size_t(c) * size_t(st.c_out);
    bias_n += size_t(st.c_out);
    if (blk.prelu_alpha) alpha_n += size_t(st.c_out);
    h = st.h_out;
    w = st.w_out;
    c = st.c_out;
  }
  dw_.assign(dw_n, 0.f);
  pw_.assign(pw_n, 0.f);
  bias_.assign(bias_n, 0.f);
  alpha_.assign(alpha_n, 0.f);
  for (size_t b = 0; b < blocks.size(); ++b) {
    const ResidualBlock& blk = blocks[b];
    detail::StageArgs& st = stages_[b];
    const size_t ci = size_t(st.c_in), co = size_t(st.c_out);
    float* dw = dw_.data() + offsets[b].dw;
    float* pw = pw_.data() + offsets[b].pw;
    float* bias = bias_.data() + offsets[b].bias;
    // TF depthwise [ky, kx, c, 1] -> [c][ky * 3 + kx]: one channel's taps together.
    for (size_t ch = 0; ch < ci; ++ch)
      for (size_t k = 0; k < 9; ++k) dw[ch * 9 + k] = blk.dw_filter[k * ci + ch];
    // HWIO [1, 1, in, out] is already [in][out].
    for (size_t i = 0; i < ci * co; ++i) pw[i] = blk.pw_filter[i];
    // pw(dw(x) + db) + pb = pw(dw(x)) + (pb + pw^T db).
    for (size_t o = 0; o < co; ++o) {
      double acc = blk.pw_bias ? blk.pw_bias[o] : 0.0;
      if (blk.dw_bias)
        for (size_t i = 0; i < ci; ++i) acc += double(blk.dw_bias[i]) * pw[i * co + o];
      bias[o] = static_cast<float>(acc);
    }
    st.dw = dw;
    st.pw = pw;
    st.bias = bias;
    st.alpha = nullptr;
    if (blk.prelu_alpha) {
      float* alpha = alpha_.data() + offsets[b].alpha;
      for (size_t o = 0; o < co; ++o) alpha[o] = blk.prelu_alpha[o];
      st.alpha = alpha;
    }
  }
}

size_t ResidualChain::scratch_floats() const {
  return detail::ChainScratchFloats(stem_, stages_.data(), static_cast<int>(stages_.size()));
}

void ResidualChain::Run(const float* in, float* out, int batch, float* scratch) const {
  detail::RunChainAvx512(stem_, stages_.data(), static_cast<int>(stages_.size()), in, out, batch,
                         scratch);
}

}  // namespace fg::nn::cpu
