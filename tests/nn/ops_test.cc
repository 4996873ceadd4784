// Reference kernels (engine/nn/ops) on small cases computed by hand.
// Tolerance: 1e-6 absolute for exact-arithmetic cases (small integers), 1e-6 relative for
// exp-based ops (sigmoid, softmax), stated per test.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/nn/memory_plan.h"
#include "engine/nn/ops/add.h"
#include "engine/nn/ops/concat.h"
#include "engine/nn/ops/conv2d.h"
#include "engine/nn/ops/depthwise_conv2d.h"
#include "engine/nn/ops/matmul.h"
#include "engine/nn/ops/max_pool.h"
#include "engine/nn/ops/maximum.h"
#include "engine/nn/ops/mean.h"
#include "engine/nn/ops/minimum.h"
#include "engine/nn/ops/mul.h"
#include "engine/nn/ops/pad.h"
#include "engine/nn/ops/prelu.h"
#include "engine/nn/ops/relu.h"
#include "engine/nn/ops/reshape.h"
#include "engine/nn/ops/sigmoid.h"
#include "engine/nn/ops/softmax.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn {
namespace {

constexpr float kExact = 1e-6f;

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, float tol,
                const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0f, std::abs(want[i])))
        << what << " element " << i;
}

// --- window arithmetic (shared by every backend) --------------------------------------

struct WindowCase {
  Padding padding;
  int in, kernel, stride, dilation, eb, ea;
  int out, before, after;
};

class WindowTest : public ::testing::TestWithParam<WindowCase> {};

TEST_P(WindowTest, MatchesTf) {
  const WindowCase& c = GetParam();
  Window1D w;
  ASSERT_TRUE(ComputeWindow(c.padding, c.in, c.kernel, c.stride, c.dilation, c.eb, c.ea, &w));
  EXPECT_EQ(w.out, c.out);
  EXPECT_EQ(w.pad_before, c.before);
  EXPECT_EQ(w.pad_after, c.after);
}

INSTANTIATE_TEST_SUITE_P(
    Table, WindowTest,
    ::testing::Values(
        // SAME: out = ceil(in / s); total = max((out-1)*s + eff_k - in, 0); before = total/2.
        WindowCase{Padding::kSame, 256, 5, 2, 1, 0, 0, 128, 1, 2},
        WindowCase{Padding::kSame, 2, 2, 1, 1, 0, 0, 2, 0, 1},
        WindowCase{Padding::kSame, 5, 3, 2, 1, 0, 0, 3, 1, 1},
        WindowCase{Padding::kSame, 4, 3, 2, 1, 0, 0, 2, 0, 1},
        WindowCase{Padding::kSame, 7, 3, 1, 2, 0, 0, 7, 2, 2},
        WindowCase{Padding::kSame, 1, 1, 1, 1, 0, 0, 1, 0, 0},
        // VALID: out = ceil((in - eff_k + 1) / s).
        WindowCase{Padding::kValid, 192, 3, 2, 1, 0, 0, 95, 0, 0},
        WindowCase{Padding::kValid, 5, 3, 1, 2, 0, 0, 1, 0, 0},
        WindowCase{Padding::kValid, 4, 2, 2, 1, 0, 0, 2, 0, 0},
        // EXPLICIT: given pads.
        WindowCase{Padding::kExplicit, 4, 3, 1, 1, 1, 2, 5, 1, 2}));

TEST(WindowTest, RejectsWindowsThatDoNotFit) {
  Window1D w;
  EXPECT_FALSE(ComputeWindow(Padding::kValid, 2, 3, 1, 1, 0, 0, &w));
  EXPECT_FALSE(ComputeWindow(Padding::kValid, 5, 3, 1, 3, 0, 0, &w));  // eff_k = 7
  EXPECT_FALSE(ComputeWindow(Padding::kSame, 4, 3, 0, 1, 0, 0, &w));   // stride 0
}

// --- conv2d --------------------------------------------------------------------------

TEST(Conv2DTest, ValidOnesKernel) {
  // in 3x3 = 1..9, 2x2 ones kernel: sums of each 2x2 block.
  std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8, 9}, f = {1, 1, 1, 1}, out(4);
  ops::Conv2DArgs a;
  a.in_h = a.in_w = 3;
  a.in_c = a.out_c = 1;
  a.out_h = a.out_w = 2;
  a.kernel_h = a.kernel_w = 2;
  ops::Conv2D(a, in.data(), f.data(), nullptr, nullptr, 0, out.data());
  ExpectNear(out, {12, 16, 24, 28}, kExact, "conv valid");
}

TEST(Conv2DTest, SamePadsAfterWhenTotalIsOdd) {
  // 2x2 input, 2x2 ones kernel, SAME stride 1: total pad 1 -> 0 before, 1 after (TF).
  std::vector<float> in = {1, 2, 3, 4}, f = {1, 1, 1, 1}, out(4);
  Window1D w;
  ASSERT_TRUE(ComputeWindow(Padding::kSame, 2, 2, 1, 1, 0, 0, &w));
  ops::Conv2DArgs a;
  a.in_h = a.in_w = 2;
  a.in_c = a.out_c = 1;
  a.out_h = a.out_w = w.out;
  a.kernel_h = a.kernel_w = 2;
  a.pad_top = a.pad_left = w.pad_before;
  ops::Conv2D(a, in.data(), f.data(), nullptr, nullptr, 0, out.data());
  ExpectNear(out, {10, 6, 7, 4}, kExact, "conv same");
}

TEST(Conv2DTest, ChannelsBiasAndFusedActivations) {
  // 1x1 input with 2 channels [1, -2]; 1x1 filter HWIO [2 in][3 out].
  // out_c = x0*f[0][c] + x1*f[1][c] + bias[c]
  std::vector<float> in = {1, -2};
  std::vector<float> f = {1, 2, 3,   // in channel 0
                          4, 5, 6};  // in channel 1
  std::vector<float> bias = {0.5f, 20, -1};
  // raw: c0 = 1 - 8 + 0.5 = -6.5; c1 = 2 - 10 + 20 = 12; c2 = 3 - 12 - 1 = -10
  ops::Conv2DArgs a;
  a.in_h = a.in_w = a.out_h = a.out_w = 1;
  a.in_c = 2;
  a.out_c = 3;
  std::vector<float> out(3);
  ops::Conv2D(a, in.data(), f.data(), bias.data(), nullptr, 0, out.data());
  ExpectNear(out, {-6.5f, 12, -10}, kExact, "bias");
  a.activation = Activation::kRelu;
  ops::Conv2D(a, in.data(), f.data(), bias.data(), nullptr, 0, out.data());
  ExpectNear(out, {0, 12, 0}, kExact, "relu");
  a.activation = Activation::kRelu6;
  ops::Conv2D(a, in.data(), f.data(), bias.data(), nullptr, 0, out.data());
  ExpectNear(out, {0, 6, 0}, kExact, "relu6");
  std::vector<float> alpha = {0.5f, 0.25f, 0.1f};
  a.activation = Activation::kPrelu;
  ops::Conv2D(a, in.data(), f.data(), bias.data(), alpha.data(), 3, out.data());
  ExpectNear(out, {-3.25f, 12, -1}, kExact, "prelu");
}

TEST(Conv2DTest, StrideAndDilation) {
  // 1x5 row 1..5 (H=1), kernel 1x2 [1, 10], dilation 2, stride 2, VALID: eff_k 3,
  // out = ceil((5-3+1)/2) = 2: x0 + 10*x2 = 31, x2 + 10*x4 = 53.
  std::vector<float> in = {1, 2, 3, 4, 5}, f = {1, 10}, out(2);
  ops::Conv2DArgs a;
  a.in_h = 1;
  a.in_w = 5;
  a.in_c = a.out_c = 1;
  a.out_h = 1;
  a.out_w = 2;
  a.kernel_h = 1;
  a.kernel_w = 2;
  a.stride_w = 2;
  a.dilation_w = 2;
  ops::Conv2D(a, in.data(), f.data(), nullptr, nullptr, 0, out.data());
  ExpectNear(out, {31, 53}, kExact, "stride+dilation");
}

// SAME / EXPLICIT padding cross-checked against two independent ops: Conv2D with the pads
// of ComputeWindow must equal ops::Pad (same pads) followed by a VALID Conv2D, over a swept
// table. Exact up to 1e-6 relative (both sum the same products in the same order).
struct PadSweep {
  int in_h, in_w, k_h, k_w, stride, dilation, in_c, out_c;
};

class ConvPaddingSweep : public ::testing::TestWithParam<PadSweep> {};

TEST_P(ConvPaddingSweep, SameEqualsPadThenValid) {
  const PadSweep& p = GetParam();
  Window1D wh, ww;
  ASSERT_TRUE(ComputeWindow(Padding::kSame, p.in_h, p.k_h, p.stride, p.dilation, 0, 0, &wh));
  ASSERT_TRUE(ComputeWindow(Padding::kSame, p.in_w, p.k_w, p.stride, p.dilation, 0, 0, &ww));
  uint32_t seed = 12345;
  auto next = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return static_cast<float>((seed >> 8) / 16777216.0 * 2 - 1);
  };
  std::vector<float> in(static_cast<size_t>(p.in_h) * p.in_w * p.in_c);
  std::vector<float> f(static_cast<size_t>(p.k_h) * p.k_w * p.in_c * p.out_c);
  for (float& v : in) v = next();
  for (float& v : f) v = next();
  ops::Conv2DArgs a;
  a.in_h = p.in_h;
  a.in_w = p.in_w;
  a.in_c = p.in_c;
  a.out_c = p.out_c;
  a.out_h = wh.out;
  a.out_w = ww.out;
  a.kernel_h = p.k_h;
  a.kernel_w = p.k_w;
  a.stride_h = a.stride_w = p.stride;
  a.dilation_h = a.dilation_w = p.dilation;
  a.pad_top = wh.pad_before;
  a.pad_left = ww.pad_before;
  std::vector<float> same(static_cast<size_t>(wh.out) * ww.out * p.out_c);
  ops::Conv2D(a, in.data(), f.data(), nullptr, nullptr, 0, same.data());

  ops::PadArgs pa;
  pa.rank = 4;
  const int64_t in_dims[] = {1, p.in_h, p.in_w, p.in_c};
  const int64_t before[] = {0, wh.pad_before, ww.pad_before, 0};
  const int64_t after[] = {0, wh.pad_after, ww.pad_after, 0};
  for (int d = 0; d < 4; ++d) {
    pa.in_dims[d] = in_dims[d];
    pa.before[d] = before[d];
    pa.out_dims[d] = in_dims[d] + before[d] + after[d];
  }
  std::vector<float> padded(static_cast<size_t>(pa.out_dims[1] * pa.out_dims[2] * p.in_c));
  ops::Pad(pa, in.data(), padded.data());
  Window1D vh, vw;
  ASSERT_TRUE(ComputeWindow(Padding::kValid, static_cast<int>(pa.out_dims[1]), p.k_h, p.stride,
                            p.dilation, 0, 0, &vh));
  ASSERT_TRUE(ComputeWindow(Padding::kValid, static_cast<int>(pa.out_dims[2]), p.k_w, p.stride,
                            p.dilation, 0, 0, &vw));
  ASSERT_EQ(vh.out, wh.out);
  ASSERT_EQ(vw.out, ww.out);
  ops::Conv2DArgs v = a;
  v.in_h = static_cast<int>(pa.out_dims[1]);
  v.in_w = static_cast<int>(pa.out_dims[2]);
  v.pad_top = v.pad_left = 0;
  std::vector<float> valid(same.size());
  ops::Conv2D(v, padded.data(), f.data(), nullptr, nullptr, 0, valid.data());
  for (size_t i = 0; i < same.size(); ++i)
    ASSERT_NEAR(same[i], valid[i], 1e-6f * std::max(1.0f, std::abs(valid[i])))
        << "element " << i << " in " << p.in_h << "x" << p.in_w << " k " << p.k_h << "x" << p.k_w
        << " stride " << p.stride << " dilation " << p.dilation << " pads " << wh.pad_before << "/"
        << wh.pad_after << ", " << ww.pad_before << "/" << ww.pad_after;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConvPaddingSweep,
    ::testing::Values(PadSweep{5, 5, 3, 3, 1, 1, 2, 3}, PadSweep{5, 5, 3, 3, 2, 1, 2, 3},
                      PadSweep{6, 6, 3, 3, 2, 1, 1, 2}, PadSweep{8, 7, 5, 5, 2, 1, 3, 2},
                      PadSweep{7, 9, 3, 2, 3, 1, 2, 2}, PadSweep{9, 9, 3, 3, 1, 2, 2, 2},
                      PadSweep{4, 4, 2, 2, 1, 1, 1, 1}, PadSweep{1, 1, 3, 3, 1, 1, 4, 4},
                      PadSweep{16, 16, 5, 5, 2, 1, 3, 4}, PadSweep{10, 3, 4, 1, 3, 2, 2, 1}),
    [](const ::testing::TestParamInfo<PadSweep>& info) {
      const PadSweep& p = info.param;
      return "in" + std::to_string(p.in_h) + "x" + std::to_string(p.in_w) + "_k" +
             std::to_string(p.k_h) + "x" + std::to_string(p.k_w) + "_s" + std::to_string(p.stride) +
             "_d" + std::to_string(p.dilation) + "_c" + std::to_string(p.in_c) + "to" +
             std::to_string(p.out_c);
    });

TEST(DepthwiseConv2DTest, MultiplierTwo) {
  // 1x2 input, 2 channels: pixel0 (1, 2), pixel1 (3, 4). Kernel 1x2, multiplier 2:
  // f[kx][c][m]; out channel c*2+m = sum_kx in[kx][c] * f[kx][c][m].
  std::vector<float> in = {1, 2, 3, 4};
  std::vector<float> f = {1,  2,  3,  4,    // kx = 0: c0 m0, c0 m1, c1 m0, c1 m1
                          10, 20, 30, 40};  // kx = 1
  std::vector<float> bias = {0, 0, 0, 1};
  ops::DepthwiseConv2DArgs a;
  a.in_h = 1;
  a.in_w = 2;
  a.in_c = 2;
  a.multiplier = 2;
  a.out_h = a.out_w = 1;
  a.kernel_h = 1;
  a.kernel_w = 2;
  std::vector<float> out(4);
  ops::DepthwiseConv2D(a, in.data(), f.data(), bias.data(), nullptr, 0, out.data());
  // c0 m0: 1*1 + 3*10 = 31; c0 m1: 1*2 + 3*20 = 62; c1 m0: 2*3 + 4*30 = 126; c1 m1: 2*4+4*40+1
  ExpectNear(out, {31, 62, 126, 169}, kExact, "depthwise");
}

// --- pooling, elementwise ------------------------------------------------------------

TEST(MaxPoolTest, SameIgnoresPadding) {
  // 3x3 input of negatives, k2 s2 SAME: out 2x2, pad after only; padded cells never win.
  std::vector<float> in = {-1, -2, -3, -4, -5, -6, -7, -8, -9}, out(4);
  Window1D w;
  ASSERT_TRUE(ComputeWindow(Padding::kSame, 3, 2, 2, 1, 0, 0, &w));
  ops::MaxPoolArgs a;
  a.in_h = a.in_w = 3;
  a.channels = 1;
  a.out_h = a.out_w = w.out;
  a.kernel_h = a.kernel_w = 2;
  a.stride_h = a.stride_w = 2;
  a.pad_top = a.pad_left = w.pad_before;
  ops::MaxPool(a, in.data(), out.data());
  ExpectNear(out, {-1, -3, -7, -9}, kExact, "maxpool");
}

TEST(BinaryTest, BroadcastShapes) {
  ops::BroadcastArgs b;
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, c = {10, 20, 30}, out(6);
  ASSERT_TRUE(ops::MakeBroadcastArgs({2, 3}, {3}, {2, 3}, &b));
  ops::Add(b, a.data(), c.data(), out.data());
  ExpectNear(out, {11, 22, 33, 14, 25, 36}, kExact, "add row");
  ops::Mul(b, a.data(), c.data(), out.data());
  ExpectNear(out, {10, 40, 90, 40, 100, 180}, kExact, "mul row");
  std::vector<float> col = {1, 2}, row = {10, 20, 30};
  ASSERT_TRUE(ops::MakeBroadcastArgs({2, 1}, {1, 3}, {2, 3}, &b));
  ops::Add(b, col.data(), row.data(), out.data());
  ExpectNear(out, {11, 21, 31, 12, 22, 32}, kExact, "add outer");
  std::vector<float> x = {-1, 5, 2, 8, 0, 3}, s = {2};
  ASSERT_TRUE(ops::MakeBroadcastArgs({2, 3}, {}, {2, 3}, &b));
  ops::Minimum(b, x.data(), s.data(), out.data());
  ExpectNear(out, {-1, 2, 2, 2, 0, 2}, kExact, "minimum scalar");
  ops::Maximum(b, x.data(), s.data(), out.data());
  ExpectNear(out, {2, 5, 2, 8, 2, 3}, kExact, "maximum scalar");
  EXPECT_FALSE(ops::MakeBroadcastArgs({2, 3}, {2}, {2, 3}, &b));
}

TEST(UnaryTest, ReluSigmoidSoftmaxPrelu) {
  std::vector<float> x = {-2, 0, 3}, out(3);
  ops::Relu(x.data(), out.data(), 3);
  ExpectNear(out, {0, 0, 3}, kExact, "relu");
  std::vector<float> big = {-100, 0, 100}, sig(3);
  ops::Sigmoid(big.data(), sig.data(), 3);
  ExpectNear(sig, {static_cast<float>(1 / (1 + std::exp(100.0))), 0.5f, 1.0f}, 1e-6f, "sigmoid");
  EXPECT_FALSE(std::isnan(sig[0]));
  // softmax of [0, ln 2, ln 3] = [1, 2, 3] / 6; second row is shifted by 1000 (stability).
  std::vector<float> logits = {0, std::log(2.0f), std::log(3.0f), 1000, 1000, 1000}, sm(6);
  ops::Softmax(logits.data(), sm.data(), 2, 3);
  ExpectNear(sm, {1 / 6.0f, 2 / 6.0f, 3 / 6.0f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f}, 1e-6f, "softmax");
  // prelu over 2 channels: alpha (0.5, 0.1).
  std::vector<float> px = {-2, -10, 4, -1}, alpha = {0.5f, 0.1f}, pout(4);
  ops::Prelu(px.data(), alpha.data(), 2, pout.data(), 4, 2);
  ExpectNear(pout, {-1, -1, 4, -0.1f}, kExact, "prelu");
}

// --- data movement, reductions, matmul --------------------------------------------

TEST(PadTest, PadsWithZeros) {
  // [1,2,2,1] padded by ((0,0),(1,0),(0,1),(0,0)) -> [1,3,3,1]
  ops::PadArgs a;
  a.rank = 4;
  int64_t in_dims[] = {1, 2, 2, 1}, before[] = {0, 1, 0, 0}, out_dims[] = {1, 3, 3, 1};
  for (int d = 0; d < 4; ++d) {
    a.in_dims[d] = in_dims[d];
    a.before[d] = before[d];
    a.out_dims[d] = out_dims[d];
  }
  std::vector<float> in = {1, 2, 3, 4}, out(9, -1);
  ops::Pad(a, in.data(), out.data());
  ExpectNear(out, {0, 0, 0, 1, 2, 0, 3, 4, 0}, kExact, "pad");
  // Channel padding as in facemesh: [1,1,1,2] -> [1,1,1,4] with 2 zeros after.
  ops::PadArgs c;
  c.rank = 4;
  for (int d = 0; d < 4; ++d) c.in_dims[d] = d == 3 ? 2 : 1, c.out_dims[d] = d == 3 ? 4 : 1;
  std::vector<float> cin = {5, 6}, cout(4, -1);
  ops::Pad(c, cin.data(), cout.data());
  ExpectNear(cout, {5, 6, 0, 0}, kExact, "channel pad");
}

TEST(ReshapeTest, Copies) {
  std::vector<float> in = {1, 2, 3}, out(3);
  ops::Reshape(in.data(), out.data(), 3);
  ExpectNear(out, in, kExact, "reshape");
}

TEST(MeanTest, SpatialAxes) {
  // [1,2,2,2] mean over axes 1,2 -> [1,2]: channel 0 (1,3,5,7) -> 4; channel 1 (2,4,6,8) -> 5.
  ops::MeanArgs a;
  a.rank = 4;
  int64_t dims[] = {1, 2, 2, 2};
  for (int d = 0; d < 4; ++d) a.in_dims[d] = dims[d];
  a.reduce[1] = a.reduce[2] = true;
  a.out_count = 2;
  a.reduce_count = 4;
  std::vector<float> in = {1, 2, 3, 4, 5, 6, 7, 8}, out(2);
  std::vector<double> acc(2);
  ops::Mean(a, in.data(), acc.data(), out.data());
  ExpectNear(out, {4, 5}, kExact, "mean hw");
  // Over the last axis: rows (1,2) (3,4) (5,6) (7,8) -> 1.5 3.5 5.5 7.5.
  ops::MeanArgs b = a;
  b.reduce = {};
  b.reduce[3] = true;
  b.out_count = 4;
  b.reduce_count = 2;
  std::vector<float> out2(4);
  std::vector<double> acc2(4);
  ops::Mean(b, in.data(), acc2.data(), out2.data());
  ExpectNear(out2, {1.5f, 3.5f, 5.5f, 7.5f}, kExact, "mean c");
}

TEST(ConcatTest, LastAxisAndOuterAxis) {
  // [2,2] ++ [2,1] on axis 1: rows interleave.
  std::vector<float> a = {1, 2, 3, 4}, b = {9, 8}, out(6);
  const float* ins[] = {a.data(), b.data()};
  int64_t chunks[] = {2, 1};
  ops::Concat(ins, chunks, 2, out.data());
  ExpectNear(out, {1, 2, 9, 3, 4, 8}, kExact, "concat axis 1");
  // Same inputs as [4] ++ [2] on axis 0: one outer row.
  int64_t chunks0[] = {4, 2};
  ops::Concat(ins, chunks0, 1, out.data());
  ExpectNear(out, {1, 2, 3, 4, 9, 8}, kExact, "concat axis 0");
}

TEST(MatMulTest, TransposesBiasActivation) {
  // A [2,3], B [3,2]; A*B = [[1*1+2*3+3*5, 1*2+2*4+3*6], [4+18+35... ]]
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {1, 2, 3, 4, 5, 6}, out(4);
  ops::MatMulArgs p;
  p.m = 2;
  p.k = 3;
  p.n = 2;
  ops::MatMul(p, a.data(), b.data(), nullptr, nullptr, 0, out.data());
  ExpectNear(out, {22, 28, 49, 64}, kExact, "plain");
  // transpose_b: b stored [n, k] = B^T.
  std::vector<float> bt = {1, 3, 5, 2, 4, 6};
  p.transpose_b = true;
  ops::MatMul(p, a.data(), bt.data(), nullptr, nullptr, 0, out.data());
  ExpectNear(out, {22, 28, 49, 64}, kExact, "transpose_b");
  // transpose_a: a stored [k, m] = A^T.
  std::vector<float> at = {1, 4, 2, 5, 3, 6};
  p.transpose_a = true;
  p.transpose_b = false;
  std::vector<float> bias = {-30, 0};
  p.activation = Activation::kRelu;
  ops::MatMul(p, at.data(), b.data(), bias.data(), nullptr, 0, out.data());
  ExpectNear(out, {0, 28, 19, 64}, kExact, "transpose_a + bias + relu");
}

// --- memory planner -----------------------------------------------------------------

TEST(MemoryPlanTest, ReusesOnlyWhenLifetimesDoNotOverlap) {
  std::vector<BufferRequest> req = {{100, 0, 1}, {50, 1, 2}, {100, 2, 3}, {10, 3, 3}};
  int64_t arena = 0;
  std::vector<int64_t> off = PlanBuffers(req, 16, &arena);
  for (size_t i = 0; i < req.size(); ++i) {
    EXPECT_EQ(off[i] % 16, 0);
    EXPECT_LE(off[i] + req[i].size, arena);
    for (size_t j = i + 1; j < req.size(); ++j) {
      bool live_together =
          !(req[i].last_use < req[j].first_use || req[j].last_use < req[i].first_use);
      bool share_memory = off[i] < off[j] + req[j].size && off[j] < off[i] + req[i].size;
      EXPECT_FALSE(live_together && share_memory) << i << " and " << j;
    }
  }
  // 0 and 2 never live together: the arena is smaller than the sum of the sizes.
  EXPECT_LT(arena, 100 + 50 + 100 + 10);
}

}  // namespace
}  // namespace fg::nn
