// The AVX-512F kernel of ResidualChain (residual_chain.h). This file alone is compiled with
// -mavx512f; nothing here runs unless ResidualChain::Supported().
//
// Scratch layout (floats). A "row" is one image row of all channels, channel-planar:
//
//   row:   [C][S] + 16, S = 16 + Wv*16, Wv = ceil(W / 16) (a little more when a stride-2
//          block's reads of its last vector need it); channel c's pixel x at c*S + 16 + x.
//          Columns -16..-1 and W..S-17 are zero, the depthwise padding: the 16 before one
//          channel are the right pad of the one before it; the row ends with 16 more.
//   rings: per block, kRing rows of its input, row r at slot r mod kRing
//   zero:  1 row of zeros (input rows -1 and H), as large as the largest row
//   out:   1 row: the last block's output before it is written back NHWC
//   res:   1 row: a stride-2 block's max-pooled, channel-padded residual
//   dw:    [C][Wv*16]: one output row's depthwise result
//   stem:  k + 1 input rows of the stem, each split into even / odd column planes
//
// Schedule (one image): rounds until the last block has all its rows; in each round the
// input loader (a row transpose, or one stem output row) and then every block, in order,
// produce their next row if its input rows exist and writing it would not overwrite a row
// the next block still needs (a stride-1 block needs input rows r-1..r+1 for output row r,
// a stride-2 block 2r..2r+2: a ring of three rows holds one window, and the producer waits
// for the consumer to move on). Rows flow through the chain as a wavefront; the working set
// is the rings (about 1 MB for BlazeFace's 31 blocks: mostly L2).
#include <climits>
#include <cstring>

#include "engine/nn/cpu/residual_chain_kernel.h"

#if defined(__AVX512F__)
#include <immintrin.h>

// GCC 12's _mm512_max_ps passes _mm512_undefined_ps() as its (unused) merge source, which
// -Wuninitialized reports at every call site.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace fg::nn::cpu::detail {
namespace {

constexpr int kL = 16;    // floats per vector
constexpr int kRing = 3;  // input rows kept per block: one window (see the schedule)

inline int Min(int a, int b) { return a < b ? a : b; }
inline int Max(int a, int b) { return a > b ? a : b; }

// One planar row's geometry.
struct RowGeom {
  int w, c;
  int wv;          // vectors per row
  size_t s;        // floats per channel
  size_t row;      // floats per row (c * s + 16)
  __mmask16 tail;  // lanes of the last vector inside the image
};

// s2_reads: a stride-2 block reads rows of this width (it reads 32 columns per output vector).
RowGeom MakeRow(int w, int c, bool s2_reads) {
  RowGeom g;
  g.w = w;
  g.c = c;
  g.wv = (w + kL - 1) / kL;
  // Right pad: 16 past the last vector, and past the 32 columns a stride-2 block reads per
  // output vector (2 * kL * ceil(w / 32)), the same for w a multiple of 32. Every row of one
  // width must have one geometry: a block writes its output rows in the next one's layout.
  const int body = s2_reads ? Max(g.wv * kL, 2 * kL * ((w + 2 * kL - 1) / (2 * kL))) : g.wv * kL;
  // One 16-float zero block before each channel: channel c's right pad is channel c+1's left
  // pad; the row ends with one more.
  g.s = static_cast<size_t>(kL + body);
  g.row = static_cast<size_t>(c) * g.s + kL;
  const int rem = w % kL;
  g.tail = rem == 0 ? __mmask16(0xFFFF) : __mmask16((1u << rem) - 1u);
  return g;
}

// Depthwise 3x3, stride 1, of one row: dw[c][x] = sum w[c][ky*3+kx] * row_ky[c][x + kx - 1].
// Each input row is read once, aligned, as a sliding window of three vectors; the x-1 and
// x+1 neighbours are lane shifts of it (unaligned loads would split a cache line each time).
__attribute__((noinline)) void Depthwise(const RowGeom& g, const float* wts, const float* r0,
                                         const float* r1, const float* r2, float* dw) {
  const size_t dstride = static_cast<size_t>(g.wv) * kL;
  for (int c = 0; c < g.c; ++c) {
    const float* k = wts + c * 9;
    __m512 w[9];
#pragma GCC unroll 9
    for (int i = 0; i < 9; ++i) w[i] = _mm512_set1_ps(k[i]);
    const size_t off = static_cast<size_t>(c) * g.s + kL;  // pixel 0
    const float* in[3] = {r0 + off, r1 + off, r2 + off};
    __m512i prev[3], cur[3];
#pragma GCC unroll 3
    for (int y = 0; y < 3; ++y) {
      prev[y] = _mm512_load_si512(in[y] - kL);
      cur[y] = _mm512_load_si512(in[y]);
    }
    float* o = dw + static_cast<size_t>(c) * dstride;
    for (int v = 0; v < g.wv; ++v) {
      __m512 acc[3];
#pragma GCC unroll 3
      for (int y = 0; y < 3; ++y) {
        const __m512i next = _mm512_load_si512(in[y] + (v + 1) * kL);
        const __m512 left = _mm512_castsi512_ps(_mm512_alignr_epi32(cur[y], prev[y], 15));
        const __m512 right = _mm512_castsi512_ps(_mm512_alignr_epi32(next, cur[y], 1));
        acc[y] = _mm512_mul_ps(w[3 * y], left);
        acc[y] = _mm512_fmadd_ps(w[3 * y + 1], _mm512_castsi512_ps(cur[y]), acc[y]);
        acc[y] = _mm512_fmadd_ps(w[3 * y + 2], right, acc[y]);
        prev[y] = cur[y];
        cur[y] = next;
      }
      _mm512_store_ps(o + v * kL, _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]));
    }
  }
}

// Even / odd lanes of the 32 floats a:b.
inline __m512 Evens(__m512 a, __m512 b) {
  const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_permutex2var_ps(a, idx, b);
}
inline __m512 Odds(__m512 a, __m512 b) {
  const __m512i idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  return _mm512_permutex2var_ps(a, idx, b);
}

// Depthwise 3x3, stride 2, padding 0 before (even input): output x of input row y reads
// columns 2x, 2x+1, 2x+2 of input rows 2r, 2r+1, 2r+2 (r0, r1, r2). `in` geometry, `out`
// the output row's.
__attribute__((noinline)) void DepthwiseS2(const RowGeom& in, const RowGeom& out,
                                           const float* wts, const float* r0, const float* r1,
                                           const float* r2, float* dw) {
  const size_t dstride = static_cast<size_t>(out.wv) * kL;
  for (int c = 0; c < in.c; ++c) {
    const float* k = wts + c * 9;
    __m512 w[9];
#pragma GCC unroll 9
    for (int i = 0; i < 9; ++i) w[i] = _mm512_set1_ps(k[i]);
    const size_t off = static_cast<size_t>(c) * in.s + kL;
    const float* rows[3] = {r0 + off, r1 + off, r2 + off};
    float* o = dw + static_cast<size_t>(c) * dstride;
    for (int v = 0; v < out.wv; ++v) {
      const int x2 = 2 * v * kL;  // input column of the vector's first output pixel
      __m512 acc[3];
#pragma GCC unroll 3
      for (int y = 0; y < 3; ++y) {
        const __m512 a = _mm512_load_ps(rows[y] + x2);
        const __m512 b = _mm512_load_ps(rows[y] + x2 + kL);
        const __m512 n = _mm512_load_ps(rows[y] + x2 + 2 * kL);
        const __m512 e = Evens(a, b);  // columns 2x
        const __m512 od = Odds(a, b);  // 2x + 1
        const __m512 e2 = _mm512_castsi512_ps(  // 2x + 2: e shifted by one, n[0] last
            _mm512_alignr_epi32(_mm512_castps_si512(n), _mm512_castps_si512(e), 1));
        acc[y] = _mm512_mul_ps(w[3 * y], e);
        acc[y] = _mm512_fmadd_ps(w[3 * y + 1], od, acc[y]);
        acc[y] = _mm512_fmadd_ps(w[3 * y + 2], e2, acc[y]);
      }
      _mm512_store_ps(o + v * kL, _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]));
    }
  }
}

// The stride-2 residual: MaxPool 2x2 / 2 of input rows 2r, 2r+1 for channels < in.c, zeros
// for channels in.c .. out.c - 1 (BlazeFace's channel Pad).
__attribute__((noinline)) void MaxPoolS2(const RowGeom& in, const RowGeom& out, const float* r0,
                                         const float* r1, float* res) {
  for (int c = 0; c < out.c; ++c) {
    float* o = res + static_cast<size_t>(c) * out.s + kL;
    if (c >= in.c) {
      for (int v = 0; v < out.wv; ++v) _mm512_store_ps(o + v * kL, _mm512_setzero_ps());
      continue;
    }
    const float* a = r0 + static_cast<size_t>(c) * in.s + kL;
    const float* b = r1 + static_cast<size_t>(c) * in.s + kL;
    for (int v = 0; v < out.wv; ++v) {
      const int x2 = 2 * v * kL;
      const __m512 a0 = _mm512_load_ps(a + x2), a1 = _mm512_load_ps(a + x2 + kL);
      const __m512 b0 = _mm512_load_ps(b + x2), b1 = _mm512_load_ps(b + x2 + kL);
      const __m512 m = _mm512_max_ps(_mm512_max_ps(Evens(a0, a1), Odds(a0, a1)),
                                     _mm512_max_ps(Evens(b0, b1), Odds(b0, b1)));
      _mm512_store_ps(o + v * kL, m);
    }
  }
}

// The 1x1 stage's shape: c_in inputs, the output row geometry (c_out, wv, s, tail), and the
// activation's PReLU slopes (nullptr: ReLU).
struct PwGeom {
  int c_in;
  RowGeom out;
  const float* alpha;
};

// The block activation of one vector: ReLU, or PReLU with slope `a` (x < 0 lanes times a,
// exactly the reference's x > 0 ? x : a * x).
inline __m512 Activate(__m512 y, bool prelu, __m512 a) {
  if (!prelu) return _mm512_max_ps(y, _mm512_setzero_ps());
  const __mmask16 neg = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mask_mul_ps(y, neg, y, a);
}

// 1x1 + bias + residual + activation for OG output channels x V vectors starting at (o0, v0):
// out[o][x] = act(bias[o] + res[o][x] + sum_i pw[i][o] * dw[i][x]).
template <int OG, int V>
inline void PointwiseTile(const PwGeom& g, const float* pw, const float* bias, const float* dw,
                          const float* res, float* out, int o0, int v0) {
  const size_t dstride = static_cast<size_t>(g.out.wv) * kL;
  const int co = g.out.c;
  __m512 acc[OG][V];
#pragma GCC unroll 32
  for (int j = 0; j < OG; ++j) {
    const __m512 b = _mm512_set1_ps(bias[o0 + j]);
    const float* r = res + static_cast<size_t>(o0 + j) * g.out.s + kL + v0 * kL;
#pragma GCC unroll 32
    for (int v = 0; v < V; ++v) acc[j][v] = _mm512_add_ps(b, _mm512_load_ps(r + v * kL));
  }
  const float* x = dw + v0 * kL;
  const float* wrow = pw + o0;
  for (int i = 0; i < g.c_in; ++i) {
    __m512 xv[V];
#pragma GCC unroll 32
    for (int v = 0; v < V; ++v) xv[v] = _mm512_load_ps(x + v * kL);
#pragma GCC unroll 32
    for (int j = 0; j < OG; ++j) {
      const __m512 wj = _mm512_set1_ps(wrow[j]);
#pragma GCC unroll 32
      for (int v = 0; v < V; ++v) acc[j][v] = _mm512_fmadd_ps(xv[v], wj, acc[j][v]);
    }
    x += dstride;
    wrow += co;
  }
  const bool last = v0 + V == g.out.wv;
  const bool prelu = g.alpha != nullptr;
#pragma GCC unroll 32
  for (int j = 0; j < OG; ++j) {
    float* o = out + static_cast<size_t>(o0 + j) * g.out.s + kL + v0 * kL;
    const __m512 a = prelu ? _mm512_set1_ps(g.alpha[o0 + j]) : _mm512_setzero_ps();
#pragma GCC unroll 32
    for (int v = 0; v < V; ++v) {
      const __m512 y = Activate(acc[j][v], prelu, a);
      // The last vector keeps the zero columns past W intact (next block's padding).
      if (last && v == V - 1)
        _mm512_mask_store_ps(o + v * kL, g.out.tail, y);
      else
        _mm512_store_ps(o + v * kL, y);
    }
  }
}

template <int V, int OG>
inline void PointwiseVectors(const PwGeom& g, const float* pw, const float* bias,
                             const float* dw, const float* res, float* out, int v0) {
  int o0 = 0;
  for (; o0 + OG <= g.out.c; o0 += OG) PointwiseTile<OG, V>(g, pw, bias, dw, res, out, o0, v0);
  // Remainders in tiles of 8 and 4 (128 = 5 x 24 + 8, 64 = 5 x 12 + 4, 16 = 2 x 6 + 4): a
  // lone channel's tile is one long FMA dependency chain.
  if constexpr (OG > 8)
    for (; o0 + 8 <= g.out.c; o0 += 8) PointwiseTile<8, V>(g, pw, bias, dw, res, out, o0, v0);
  if constexpr (OG > 4)
    for (; o0 + 4 <= g.out.c; o0 += 4) PointwiseTile<4, V>(g, pw, bias, dw, res, out, o0, v0);
  for (; o0 < g.out.c; ++o0) PointwiseTile<1, V>(g, pw, bias, dw, res, out, o0, v0);
}

// 24 accumulators per tile: 6 channels x 64 pixels, 12 x 32, 24 x 16.
__attribute__((noinline)) void Pointwise(const PwGeom& g, const float* pw, const float* bias,
                                         const float* dw, const float* res, float* out) {
  int v0 = 0;
  for (; v0 + 4 <= g.out.wv; v0 += 4) PointwiseVectors<4, 6>(g, pw, bias, dw, res, out, v0);
  for (; v0 + 2 <= g.out.wv; v0 += 2) PointwiseVectors<2, 12>(g, pw, bias, dw, res, out, v0);
  for (; v0 < g.out.wv; ++v0) PointwiseVectors<1, 24>(g, pw, bias, dw, res, out, v0);
}

__attribute__((always_inline)) inline void Transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

// NHWC row [W][C] -> planar row [C][S], by 16x16 tiles. Pixels past W come out as zeros,
// so the pad columns inside the last vector stay zero.
__attribute__((noinline)) void LoadRow(const RowGeom& g, const float* src, float* dst) {
  __m512 r[16];
  for (int x0 = 0; x0 < g.w; x0 += kL) {
    const int np = Min(kL, g.w - x0);
    for (int c0 = 0; c0 < g.c; c0 += kL) {
      const int nc = Min(kL, g.c - c0);
      const __mmask16 mc = __mmask16((1u << nc) - 1u);
      const float* s0 = src + static_cast<size_t>(x0) * g.c + c0;
      if (np == kL && nc == kL) {
#pragma GCC unroll 16
        for (int p = 0; p < kL; ++p) r[p] = _mm512_loadu_ps(s0 + static_cast<size_t>(p) * g.c);
      } else if (np == kL) {
#pragma GCC unroll 16
        for (int p = 0; p < kL; ++p) r[p] = _mm512_maskz_loadu_ps(mc, s0 + static_cast<size_t>(p) * g.c);
      } else {
        for (int p = 0; p < kL; ++p)
          r[p] = p < np ? _mm512_maskz_loadu_ps(mc, s0 + static_cast<size_t>(p) * g.c)
                        : _mm512_setzero_ps();
      }
      Transpose16(r);
      for (int j = 0; j < nc; ++j)
        _mm512_store_ps(dst + static_cast<size_t>(c0 + j) * g.s + kL + x0, r[j]);
    }
  }
}

// Planar row [C][S] -> NHWC row [W][C], by 16x16 tiles.
__attribute__((noinline)) void StoreRow(const RowGeom& g, const float* src, float* dst) {
  __m512 r[16];
  for (int x0 = 0; x0 < g.w; x0 += kL) {
    const int np = Min(kL, g.w - x0);
    for (int c0 = 0; c0 < g.c; c0 += kL) {
      const int nc = Min(kL, g.c - c0);
      const __mmask16 mc = __mmask16((1u << nc) - 1u);
#pragma GCC unroll 16
      for (int j = 0; j < kL; ++j)
        r[j] = j < nc ? _mm512_load_ps(src + static_cast<size_t>(c0 + j) * g.s + kL + x0)
                      : _mm512_setzero_ps();
      Transpose16(r);
      float* d0 = dst + static_cast<size_t>(x0) * g.c + c0;
      if (np == kL) {
#pragma GCC unroll 16
        for (int p = 0; p < kL; ++p) _mm512_mask_storeu_ps(d0 + static_cast<size_t>(p) * g.c, mc, r[p]);
      } else {
        for (int p = 0; p < np; ++p) _mm512_mask_storeu_ps(d0 + static_cast<size_t>(p) * g.c, mc, r[p]);
      }
    }
  }
}

// The stem's input, one image row split by column parity: plane (ci, parity) holds columns
// 2j + parity at 16 + j, zero-padded both sides, so a stride-2 tap is a contiguous vector.
struct StemGeom {
  int wv;          // output vectors per row
  size_t plane;    // floats per plane
  size_t row;      // floats per deinterleaved input row: c_in * 2 planes
  int slots;       // rows kept: k + 1 (an output row needs k consecutive input rows)
};

StemGeom MakeStem(const StemArgs& st) {
  StemGeom g;
  g.wv = (st.w_out + kL - 1) / kL;
  g.plane = static_cast<size_t>(kL + g.wv * kL + 2 * kL);
  g.row = static_cast<size_t>(st.c_in) * 2 * g.plane;
  g.slots = st.k + 1;
  return g;
}

__attribute__((noinline)) void StemDeinterleave(const StemArgs& st, const StemGeom& g,
                                                const float* src, float* dst) {
  const int half = st.w_in / 2;
  for (int ci = 0; ci < st.c_in; ++ci) {
    float* even = dst + static_cast<size_t>(2 * ci) * g.plane + kL;
    float* odd = even + g.plane;
    for (int j = 0; j < half; ++j) {
      even[j] = src[static_cast<size_t>(2 * j) * st.c_in + ci];
      odd[j] = src[static_cast<size_t>(2 * j + 1) * st.c_in + ci];
    }
  }
}

// OG output channels x V vectors of one stem output row: every tap (ky, kx, ci) is one
// vector load from a parity plane and OG broadcast FMAs.
template <int OG, int V>
inline void StemTile(const StemArgs& st, const StemGeom& sg, const RowGeom& og,
                     const float* const* rows, float* out, int o0, int v0) {
  __m512 acc[OG][V];
#pragma GCC unroll 32
  for (int j = 0; j < OG; ++j) {
    const __m512 b = _mm512_set1_ps(st.bias[o0 + j]);
#pragma GCC unroll 32
    for (int v = 0; v < V; ++v) acc[j][v] = b;
  }
  for (int ky = 0; ky < st.k; ++ky) {
    const float* row = rows[ky];
    if (row == nullptr) continue;  // outside the image: SAME padding
    for (int kx = 0; kx < st.k; ++kx) {
      const int d = kx - st.pad_left;  // input column 2x + d
      const int parity = d & 1;
      const int shift = (d - parity) / 2;  // floor(d / 2)
      for (int ci = 0; ci < st.c_in; ++ci) {
        const float* x = row + static_cast<size_t>(2 * ci + parity) * sg.plane + kL + shift + v0 * kL;
        const float* wrow = st.w + (static_cast<size_t>(ky * st.k + kx) * st.c_in + ci) * st.c_out + o0;
        __m512 xv[V];
#pragma GCC unroll 32
        for (int v = 0; v < V; ++v) xv[v] = _mm512_loadu_ps(x + v * kL);
#pragma GCC unroll 32
        for (int j = 0; j < OG; ++j) {
          const __m512 wj = _mm512_set1_ps(wrow[j]);
#pragma GCC unroll 32
          for (int v = 0; v < V; ++v) acc[j][v] = _mm512_fmadd_ps(xv[v], wj, acc[j][v]);
        }
      }
    }
  }
  const bool last = v0 + V == og.wv;
  const bool prelu = st.alpha != nullptr;
#pragma GCC unroll 32
  for (int j = 0; j < OG; ++j) {
    float* o = out + static_cast<size_t>(o0 + j) * og.s + kL + v0 * kL;
    const __m512 a = prelu ? _mm512_set1_ps(st.alpha[o0 + j]) : _mm512_setzero_ps();
#pragma GCC unroll 32
    for (int v = 0; v < V; ++v) {
      const __m512 y = prelu || st.relu ? Activate(acc[j][v], prelu, a) : acc[j][v];
      if (last && v == V - 1)
        _mm512_mask_store_ps(o + v * kL, og.tail, y);
      else
        _mm512_store_ps(o + v * kL, y);
    }
  }
}

template <int V, int OG>
inline void StemVectors(const StemArgs& st, const StemGeom& sg, const RowGeom& og,
                        const float* const* rows, float* out, int v0) {
  int o0 = 0;
  for (; o0 + OG <= st.c_out; o0 += OG) StemTile<OG, V>(st, sg, og, rows, out, o0, v0);
  if constexpr (OG > 8)
    for (; o0 + 8 <= st.c_out; o0 += 8) StemTile<8, V>(st, sg, og, rows, out, o0, v0);
  if constexpr (OG > 4)
    for (; o0 + 4 <= st.c_out; o0 += 4) StemTile<4, V>(st, sg, og, rows, out, o0, v0);
  for (; o0 < st.c_out; ++o0) StemTile<1, V>(st, sg, og, rows, out, o0, v0);
}

// One stem output row from its k input rows (nullptr: outside the image) into `out`.
__attribute__((noinline)) void StemRow(const StemArgs& st, const StemGeom& sg, const RowGeom& og,
                                       const float* const* rows, float* out) {
  int v0 = 0;
  for (; v0 + 4 <= og.wv; v0 += 4) StemVectors<4, 6>(st, sg, og, rows, out, v0);
  for (; v0 + 2 <= og.wv; v0 += 2) StemVectors<2, 12>(st, sg, og, rows, out, v0);
  for (; v0 < og.wv; ++v0) StemVectors<1, 24>(st, sg, og, rows, out, v0);
}

// Zeroes the padding columns of `count` consecutive rows of geometry g.
void ZeroPads(const RowGeom& g, float* rows, int count) {
  for (int r = 0; r < count; ++r)
    for (int c = 0; c < g.c; ++c) {
      float* p = rows + static_cast<size_t>(r) * g.row + static_cast<size_t>(c) * g.s;
      std::memset(p, 0, kL * sizeof(float));
      std::memset(p + kL + g.w, 0, (g.s - kL - g.w) * sizeof(float));
      if (c + 1 == g.c) std::memset(p + g.s, 0, kL * sizeof(float));
    }
}

constexpr int kMaxStages = kMaxChainBlocks;

// The scratch carved up (see the top of the file).
struct Layout {
  RowGeom in[kMaxStages], out[kMaxStages];
  size_t ring[kMaxStages];  // offset of each block's ring
  size_t zero, orow, res, dw, stem, total;
  StemGeom sg;
};

bool MakeLayout(const StemArgs& stem, const StageArgs* st, int count, Layout* l) {
  if (count < 1 || count > kMaxStages) return false;
  if (stem.present && (stem.k < 1 || stem.k > 7 || stem.c_out > 24)) return false;
  size_t off = 0, max_row = 0, max_res = 0, max_dw = 0;
  auto s2_reads = [&](int w) {
    for (int k = 0; k < count; ++k)
      if (st[k].stride == 2 && st[k].w_in == w) return true;
    return false;
  };
  for (int k = 0; k < count; ++k) {
    l->in[k] = MakeRow(st[k].w_in, st[k].c_in, s2_reads(st[k].w_in));
    l->out[k] = MakeRow(st[k].w_out, st[k].c_out, s2_reads(st[k].w_out));
    l->ring[k] = off;
    off += kRing * l->in[k].row;
    max_row = l->in[k].row > max_row ? l->in[k].row : max_row;
    if (st[k].stride == 2) max_res = l->out[k].row > max_res ? l->out[k].row : max_res;
    const size_t dws = static_cast<size_t>(st[k].c_in) * l->out[k].wv * kL;
    max_dw = dws > max_dw ? dws : max_dw;
  }
  l->zero = off;
  l->orow = l->zero + max_row;
  l->res = l->orow + l->out[count - 1].row;
  l->dw = l->res + max_res;
  l->stem = l->dw + max_dw;
  l->total = l->stem;
  if (stem.present) {
    l->sg = MakeStem(stem);
    l->total += static_cast<size_t>(l->sg.slots) * l->sg.row;
  }
  return true;
}

}  // namespace

size_t ChainScratchFloats(const StemArgs& stem, const StageArgs* stages, int count) {
  Layout l;
  return MakeLayout(stem, stages, count, &l) ? l.total : 0;
}

void RunChainAvx512(const StemArgs& stem, const StageArgs* st, int count, const float* in,
                    float* out, int batch, float* scratch) {
  Layout l;
  if (!MakeLayout(stem, st, count, &l)) return;
  float* stem_rows = scratch + l.stem;
  if (stem.present)  // pads and all: the deinterleave only writes the columns inside
    std::memset(stem_rows, 0, static_cast<size_t>(l.sg.slots) * l.sg.row * sizeof(float));
  // The scratch may have served another chain: restore every pad and the zero row.
  for (int k = 0; k < count; ++k) ZeroPads(l.in[k], scratch + l.ring[k], kRing);
  ZeroPads(l.out[count - 1], scratch + l.orow, 1);
  std::memset(scratch + l.zero, 0, (l.orow - l.zero) * sizeof(float));
  float* zero = scratch + l.zero;
  float* orow = scratch + l.orow;
  float* res = scratch + l.res;
  float* dw = scratch + l.dw;
  auto ring = [&](int k, int r) -> float* {
    if (r < 0 || r >= st[k].h_in) return zero;
    return scratch + l.ring[k] + static_cast<size_t>(r % kRing) * l.in[k].row;
  };
  // Lowest input row block k still needs (INT_MAX once it is done).
  int produced[kMaxStages];
  auto lowest_needed = [&](int k) {
    const int r = produced[k];
    if (r >= st[k].h_out) return INT_MAX;
    return st[k].stride == 1 ? r - 1 : 2 * r;
  };
  auto highest_needed = [&](int k, int r) {
    return Min(st[k].stride == 1 ? r + 1 : 2 * r + 2, st[k].h_in - 1);
  };
  // May a producer write row q into block k's ring?
  auto may_write = [&](int k, int q) {
    const int lo = lowest_needed(k);
    return lo == INT_MAX || q < lo + kRing;
  };
  const StageArgs& first = st[0];
  const StageArgs& last = st[count - 1];
  const int in_h = stem.present ? stem.h_in : first.h_in;
  const int in_w = stem.present ? stem.w_in : first.w_in;
  const int in_c = stem.present ? stem.c_in : first.c_in;
  const size_t in_image = static_cast<size_t>(in_h) * in_w * in_c;
  const size_t out_image = static_cast<size_t>(last.h_out) * last.w_out * last.c_out;
  const size_t in_line = static_cast<size_t>(in_w) * in_c;
  int tag[8];  // input row held by each stem slot
  const size_t out_line = static_cast<size_t>(last.w_out) * last.c_out;
  for (int n = 0; n < batch; ++n) {
    const float* src = in + n * in_image;
    float* dst = out + n * out_image;
    for (int k = 0; k < count; ++k) produced[k] = 0;
    for (int& t : tag) t = -1;
    int loaded = 0;  // rows of block 0's input written (loaded, or computed by the stem)
    while (produced[count - 1] < last.h_out) {
      bool progress = false;
      if (loaded < first.h_in && may_write(0, loaded)) {
        if (stem.present) {
          const float* rows[8];
          for (int ky = 0; ky < stem.k; ++ky) {
            const int iy = 2 * loaded + ky - stem.pad_top;
            rows[ky] = nullptr;
            if (iy < 0 || iy >= stem.h_in) continue;
            float* slot = stem_rows + static_cast<size_t>(iy % l.sg.slots) * l.sg.row;
            if (tag[iy % l.sg.slots] != iy) {
              StemDeinterleave(stem, l.sg, src + iy * in_line, slot);
              tag[iy % l.sg.slots] = iy;
            }
            rows[ky] = slot;
          }
          StemRow(stem, l.sg, l.in[0], rows, ring(0, loaded));
        } else {
          LoadRow(l.in[0], src + loaded * in_line, ring(0, loaded));
        }
        ++loaded;
        progress = true;
      }
      for (int k = 0; k < count; ++k) {
        const int r = produced[k];
        if (r >= st[k].h_out) continue;
        const int available = k == 0 ? loaded : produced[k - 1];
        if (highest_needed(k, r) >= available) continue;
        const bool is_last = k + 1 == count;
        if (!is_last && !may_write(k + 1, r)) continue;
        const float* residual;
        if (st[k].stride == 1) {
          Depthwise(l.in[k], st[k].dw, ring(k, r - 1), ring(k, r), ring(k, r + 1), dw);
          residual = ring(k, r);
        } else {
          DepthwiseS2(l.in[k], l.out[k], st[k].dw, ring(k, 2 * r), ring(k, 2 * r + 1),
                      ring(k, 2 * r + 2), dw);
          MaxPoolS2(l.in[k], l.out[k], ring(k, 2 * r), ring(k, 2 * r + 1), res);
          residual = res;
        }
        float* o = is_last ? orow : ring(k + 1, r);
        Pointwise(PwGeom{st[k].c_in, l.out[k], st[k].alpha}, st[k].pw, st[k].bias, dw, residual, o);
        if (is_last) StoreRow(l.out[k], orow, dst + r * out_line);
        ++produced[k];
        progress = true;
      }
      if (!progress) return;  // unreachable: some block can always move (see the schedule)
    }
  }
}

}  // namespace fg::nn::cpu::detail

#else  // not compiled for AVX-512: ResidualChain::Supported() is false, nothing calls this.

namespace fg::nn::cpu::detail {
size_t ChainScratchFloats(const StemArgs&, const StageArgs*, int) { return 0; }
void RunChainAvx512(const StemArgs&, const StageArgs*, int, const float*, float*, int, float*) {}
}  // namespace fg::nn::cpu::detail

#endif
