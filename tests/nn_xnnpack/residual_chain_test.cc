// The residual-block chains the XNNPACK backend hands to engine/nn/cpu/residual_chain
// (DepthwiseConv2D 3x3 SAME -> Conv2D 1x1 C->C -> Add(x) -> Relu, and the stride-2 form with
// a MaxPool 2x2 residual, zero-padded in channels when the 1x1 widens them), against the
// reference backend, over a swept table: image sizes whose width is and is not a multiple of
// the 16-pixel vector (1, 5, 16, 20, 37 ...), channel counts 1 to 96 (tiles of 6, 12 and 24
// output channels plus remainders), 1 to 5 blocks, stride-2 blocks first, inside and last,
// batch 1 and 2, with and without the depthwise / pointwise biases, both Add operand orders.
// A stride-2 Conv2D stem in front (k 3 to 7, 1 to 4 input channels, with and without ReLU)
// joins the chain. Also the cases that must NOT become one chain: an inner tensor read by
// another node splits the chain; a stem whose output is read elsewhere or has more than 24
// channels stays in XNNPACK; a stride-2 depthwise without the pool residual, an odd size at stride 2, a 5x5
// window or VALID padding leave the block to XNNPACK. Every case is checked numerically and by the
// plan statistics (how many chains, how many nodes in them), the latter only on a CPU with
// AVX-512 (elsewhere the backend keeps XNNPACK for these blocks and says so: 0 chains).
// FaceMesh's variant too: a per-channel PReLU (slopes of both signs) instead of the ReLU, in
// the blocks and the stem, and its node order for stride-2 blocks (MaxPool, depthwise, Pad,
// 1x1); a scalar PReLU slope leaves the block to XNNPACK.
// Tolerance: max|err| <= 1e-4 x max|ref| per output (test_util.h).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/nn/cpu/residual_chain.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/xnnpack/xnnpack_backend.h"
#include "tests/nn_xnnpack/test_util.h"

namespace fg::nn {
namespace {

using xnntest::GraphBuilder;

struct BlockSpec {
  bool dw_bias = false, pw_bias = true, add_swapped = false;
  int dw_kernel = 3, dw_stride = 1;
  Padding padding = Padding::kSame;
  bool prelu = false;       // a Prelu node with one slope per channel instead of the Relu
  bool pool_first = false;  // stride 2: MaxPool, depthwise, Pad, 1x1 (FaceMesh's order)
  bool scalar_alpha = false;  // with prelu: one slope for all channels
};

// The block's activation of t (c channels): Relu, or Prelu with slopes in [-0.5, 1].
int Activate(GraphBuilder& g, int t, int c, const BlockSpec& s) {
  Node act;
  act.op = s.prelu ? OpType::kPrelu : OpType::kRelu;
  act.inputs = {t};
  if (s.prelu) act.inputs.push_back(s.scalar_alpha ? g.Const({1}, -0.5f, 1.f)
                                                   : g.Const({1, 1, c}, -0.5f, 1.f));
  return g.Add(act);
}

// Appends one block to x ([n,h,w,c]); returns its Relu (or Prelu) output.
int Block(GraphBuilder& g, int x, int c, const BlockSpec& s) {
  Node dw;
  dw.op = OpType::kDepthwiseConv2D;
  dw.conv.padding = s.padding;
  dw.conv.stride_h = dw.conv.stride_w = s.dw_stride;
  dw.conv.has_bias = s.dw_bias;
  dw.inputs = {x, g.Const({s.dw_kernel, s.dw_kernel, c, 1})};
  if (s.dw_bias) dw.inputs.push_back(g.Const({c}));
  const int t_dw = g.Add(dw);
  Node pw;
  pw.op = OpType::kConv2D;
  pw.conv.padding = Padding::kValid;
  pw.conv.has_bias = s.pw_bias;
  // Weights scaled down so seven blocks keep activations O(1), as in a trained network.
  pw.inputs = {t_dw, g.Const({1, 1, c, c}, -0.3f, 0.3f)};
  if (s.pw_bias) pw.inputs.push_back(g.Const({c}));
  const int t_pw = g.Add(pw);
  Node add;
  add.op = OpType::kAdd;
  add.inputs = s.add_swapped ? std::vector<int>{t_pw, x} : std::vector<int>{x, t_pw};
  return Activate(g, g.Add(add), c, s);
}

// Appends one stride-2 block: depthwise 3x3 /2 SAME, MaxPool 2x2 /2 of x, 1x1 c -> c_out,
// the pool's channels zero-padded to c_out when wider (BlazeFace's Pad), Add, Relu; or in
// FaceMesh's order with s.pool_first.
int DownBlock(GraphBuilder& g, int x, int c, int c_out, const BlockSpec& s) {
  Node pool;
  pool.op = OpType::kMaxPool;
  pool.pool.kernel_h = pool.pool.kernel_w = 2;
  pool.pool.stride_h = pool.pool.stride_w = 2;
  pool.pool.padding = Padding::kSame;
  pool.inputs = {x};
  int t_res = s.pool_first ? g.Add(pool) : -1;
  Node dw;
  dw.op = OpType::kDepthwiseConv2D;
  dw.conv.padding = Padding::kSame;
  dw.conv.stride_h = dw.conv.stride_w = 2;
  dw.conv.has_bias = s.dw_bias;
  dw.inputs = {x, g.Const({3, 3, c, 1})};
  if (s.dw_bias) dw.inputs.push_back(g.Const({c}));
  const int t_dw = g.Add(dw);
  if (!s.pool_first) t_res = g.Add(pool);
  Node pad;
  pad.op = OpType::kPad;
  pad.pad_before = {0, 0, 0, 0};
  pad.pad_after = {0, 0, 0, c_out - c};
  if (s.pool_first && c_out > c) {
    pad.inputs = {t_res};
    t_res = g.Add(pad);
  }
  Node pw;
  pw.op = OpType::kConv2D;
  pw.conv.padding = Padding::kValid;
  pw.conv.has_bias = s.pw_bias;
  pw.inputs = {t_dw, g.Const({1, 1, c, c_out}, -0.3f, 0.3f)};
  if (s.pw_bias) pw.inputs.push_back(g.Const({c_out}));
  const int t_pw = g.Add(pw);
  if (!s.pool_first && c_out > c) {
    pad.inputs = {t_res};
    t_res = g.Add(pad);
  }
  Node add;
  add.op = OpType::kAdd;
  add.inputs = s.add_swapped ? std::vector<int>{t_res, t_pw} : std::vector<int>{t_pw, t_res};
  return Activate(g, g.Add(add), c_out, s);
}

// A stride-2 SAME Conv2D k x k, c_in -> c_out, + bias, optional fused ReLU (BlazeFace's stem)
// or fused per-channel PReLU (FaceMesh's).
int Stem(GraphBuilder& g, int x, int c_in, int c_out, int k, bool relu, bool prelu = false) {
  Node n;
  n.op = OpType::kConv2D;
  n.conv.padding = Padding::kSame;
  n.conv.stride_h = n.conv.stride_w = 2;
  n.conv.has_bias = true;
  n.conv.activation = prelu ? Activation::kPrelu : relu ? Activation::kRelu : Activation::kNone;
  n.inputs = {x, g.Const({k, k, c_in, c_out}, -0.5f, 0.5f), g.Const({c_out})};
  if (prelu) n.inputs.push_back(g.Const({c_out}, -0.5f, 1.f));
  return g.Add(n);
}

struct ChainCase {
  std::string name;
  Shape input;  // [n, h, w, c]
  std::function<void(GraphBuilder&, int x)> build;
  int expect_chains = 0, expect_native_nodes = 0;  // with AVX-512
};

void PrintTo(const ChainCase& c, std::ostream* os) { *os << c.name; }

std::vector<ChainCase> AllCases() {
  std::vector<ChainCase> cases;
  // Geometry sweep: one chain of `blocks` blocks, the last output the graph output.
  struct Geo {
    int n, h, w, c, blocks;
  };
  const Geo geos[] = {{1, 1, 1, 1, 1},   {1, 3, 5, 1, 2},    {1, 4, 16, 24, 3},
                      {1, 7, 20, 24, 2}, {2, 9, 37, 5, 3},   {1, 6, 64, 24, 2},
                      {1, 5, 33, 48, 2}, {2, 4, 70, 13, 1},  {1, 12, 128, 24, 3},
                      {1, 8, 8, 96, 2},  {1, 2, 48, 30, 1}};
  int i = 0;
  for (const Geo& geo : geos) {
    BlockSpec s;
    s.dw_bias = i % 2 == 1;
    s.pw_bias = i % 3 != 2;
    s.add_swapped = i % 4 == 3;
    ++i;
    ChainCase c;
    c.name = "n" + std::to_string(geo.n) + "_h" + std::to_string(geo.h) + "_w" +
             std::to_string(geo.w) + "_c" + std::to_string(geo.c) + "_blocks" +
             std::to_string(geo.blocks) + (s.dw_bias ? "_dwbias" : "") +
             (s.pw_bias ? "_pwbias" : "") + (s.add_swapped ? "_addswapped" : "");
    c.input = {geo.n, geo.h, geo.w, geo.c};
    c.expect_chains = 1;
    c.expect_native_nodes = 4 * geo.blocks;
    c.build = [=](GraphBuilder& g, int x) {
      for (int b = 0; b < geo.blocks; ++b) x = Block(g, x, geo.c, s);
      g.Output(x);
    };
    cases.push_back(c);
  }
  // Stride-2 blocks inside chains: 's' a stride-1 block, 'd' stride 2 keeping the channels,
  // 'D' stride 2 doubling them (with the Pad node). Widths whose halves are and are not
  // multiples of 16, batch 2, a 2x2 image down to 1x1.
  struct Down {
    int n, h, w, c;
    std::string blocks;
  };
  const Down downs[] = {{1, 16, 40, 8, "sdsDs"}, {2, 6, 18, 5, "Ds"},     {1, 2, 2, 3, "d"},
                        {1, 64, 64, 24, "sdsDs"}, {1, 8, 96, 12, "DD"}, {1, 12, 34, 4, "ssd"}};
  for (const Down& d : downs) {
    BlockSpec s;
    s.dw_bias = d.c % 2 == 1;
    s.add_swapped = d.w % 3 == 0;
    ChainCase c;
    c.name = "down_n" + std::to_string(d.n) + "_h" + std::to_string(d.h) + "_w" +
             std::to_string(d.w) + "_c" + std::to_string(d.c) + "_" + d.blocks;
    c.input = {d.n, d.h, d.w, d.c};
    c.expect_chains = 1;
    for (char b : d.blocks) c.expect_native_nodes += b == 's' ? 4 : b == 'd' ? 5 : 6;
    c.build = [=](GraphBuilder& g, int x) {
      int ch = d.c;
      for (char b : d.blocks) {
        if (b == 's') {
          x = Block(g, x, ch, s);
        } else {
          const int out = b == 'D' ? 2 * ch : ch;
          x = DownBlock(g, x, ch, out, s);
          ch = out;
        }
      }
      g.Output(x);
    };
    cases.push_back(c);
  }
  // A stem conv in front of the blocks joins the chain (one more native node).
  struct StemCase {
    int n, h, w, c_in, c, k;
    bool relu;
    std::string blocks;
  };
  const StemCase stems[] = {{1, 32, 64, 3, 24, 5, true, "ssdsD"}, {2, 10, 36, 3, 8, 3, false, "s"},
                            {1, 8, 12, 1, 5, 7, true, "sd"},      {1, 40, 34, 4, 13, 5, true, "ss"}};
  for (const StemCase& sc : stems) {
    ChainCase c;
    c.name = "stem_n" + std::to_string(sc.n) + "_h" + std::to_string(sc.h) + "_w" +
             std::to_string(sc.w) + "_c" + std::to_string(sc.c_in) + "to" + std::to_string(sc.c) +
             "_k" + std::to_string(sc.k) + (sc.relu ? "_relu" : "") + "_" + sc.blocks;
    c.input = {sc.n, sc.h, sc.w, sc.c_in};
    c.expect_chains = 1;
    c.expect_native_nodes = 1;
    for (char b : sc.blocks) c.expect_native_nodes += b == 's' ? 4 : b == 'd' ? 5 : 6;
    c.build = [=](GraphBuilder& g, int x) {
      x = Stem(g, x, sc.c_in, sc.c, sc.k, sc.relu);
      int ch = sc.c;
      for (char b : sc.blocks) {
        if (b == 's') {
          x = Block(g, x, ch, {});
        } else {
          const int out = b == 'D' ? 2 * ch : ch;
          x = DownBlock(g, x, ch, out, {});
          ch = out;
        }
      }
      g.Output(x);
    };
    cases.push_back(c);
  }
  // FaceMesh's form: PReLU blocks, stride-2 blocks in its node order (MaxPool first, the Pad
  // before the 1x1), optionally behind a 3x3 PReLU stem; its widths (96, 48, 24, 12, 6) and
  // channel counts (16 to 128: output tiles with 8- and 4-channel remainders); FaceMesh's trunk
  // at half its input size (96x96x3 to 3x3x128).
  struct PreluCase {
    int n, h, w, c_in, c;  // c_in > 0: a stem c_in -> c in front
    std::string blocks;
  };
  const PreluCase prelus[] = {{1, 8, 96, 0, 16, "ssD"},   {1, 6, 12, 0, 128, "ss"},
                              {2, 12, 24, 0, 64, "sDs"},  {1, 4, 6, 0, 128, "dss"},
                              {1, 5, 20, 0, 7, "s"},      {1, 96, 96, 3, 16, "ssDssDssDssdss"},
                              {2, 12, 20, 3, 12, "sd"}};
  for (const PreluCase& pc : prelus) {
    BlockSpec s;
    s.prelu = true;
    s.pool_first = true;
    s.add_swapped = pc.c % 2 == 1;
    ChainCase c;
    c.name = "prelu_n" + std::to_string(pc.n) + "_h" + std::to_string(pc.h) + "_w" +
             std::to_string(pc.w) + (pc.c_in > 0 ? "_stem" + std::to_string(pc.c_in) + "to" : "_c") +
             std::to_string(pc.c) + "_" + pc.blocks;
    c.input = {pc.n, pc.h, pc.w, pc.c_in > 0 ? pc.c_in : pc.c};
    c.expect_chains = 1;
    c.expect_native_nodes = pc.c_in > 0 ? 1 : 0;
    for (char b : pc.blocks) c.expect_native_nodes += b == 's' ? 4 : b == 'd' ? 5 : 6;
    c.build = [=](GraphBuilder& g, int x) {
      if (pc.c_in > 0) x = Stem(g, x, pc.c_in, pc.c, 3, false, /*prelu=*/true);
      int ch = pc.c;
      for (char b : pc.blocks) {
        if (b == 's') {
          x = Block(g, x, ch, s);
        } else {
          const int out = b == 'D' ? 2 * ch : ch;
          x = DownBlock(g, x, ch, out, s);
          ch = out;
        }
      }
      g.Output(x);
    };
    cases.push_back(c);
  }
  {
    // One PReLU slope for all channels: the kernel takes one per channel, XNNPACK keeps it.
    ChainCase c;
    c.name = "prelu_scalar_alpha_not_native";
    c.input = {1, 6, 18, 8};
    c.build = [](GraphBuilder& g, int x) {
      BlockSpec s;
      s.prelu = true;
      s.scalar_alpha = true;
      g.Output(Block(g, x, 8, s));
    };
    cases.push_back(c);
  }
  {
    // The stem's output is also a graph output: the stem stays in XNNPACK, the blocks do not.
    ChainCase c;
    c.name = "stem_output_read_twice_not_joined";
    c.input = {1, 16, 16, 3};
    c.expect_chains = 1;
    c.expect_native_nodes = 4;
    c.build = [](GraphBuilder& g, int x) {
      const int s = Stem(g, x, 3, 8, 5, true);
      g.Output(s);
      g.Output(Block(g, s, 8, {}));
    };
    cases.push_back(c);
  }
  {
    // 25 output channels: more than the stem kernel's 24 accumulators, stays in XNNPACK.
    ChainCase c;
    c.name = "stem_25_channels_not_joined";
    c.input = {1, 8, 8, 3};
    c.expect_chains = 1;
    c.expect_native_nodes = 4;
    c.build = [](GraphBuilder& g, int x) { g.Output(Block(g, Stem(g, x, 3, 25, 3, true), 25, {})); };
    cases.push_back(c);
  }
  {
    // Odd height: MaxPool SAME would pad, the depthwise pads differ: stays in XNNPACK.
    ChainCase c;
    c.name = "down_odd_height_not_native";
    c.input = {1, 9, 8, 4};
    c.build = [](GraphBuilder& g, int x) { g.Output(DownBlock(g, x, 4, 8, {})); };
    cases.push_back(c);
  }
  {
    // 66 blocks: the kernel takes at most 64 per chain, the backend starts a second one.
    ChainCase c;
    c.name = "blocks66_split_into_two_chains";
    c.input = {1, 3, 5, 2};
    c.expect_chains = 2;
    c.expect_native_nodes = 4 * 66;
    c.build = [](GraphBuilder& g, int x) {
      for (int b = 0; b < 66; ++b) x = Block(g, x, 2, {});
      g.Output(x);
    };
    cases.push_back(c);
  }
  {
    // The first block's output is also a graph output: two chains of one block each.
    ChainCase c;
    c.name = "inner_tensor_is_graph_output_splits";
    c.input = {1, 6, 18, 8};
    c.expect_chains = 2;
    c.expect_native_nodes = 8;
    c.build = [](GraphBuilder& g, int x) {
      const int y = Block(g, x, 8, {});
      g.Output(y);
      g.Output(Block(g, y, 8, {}));
    };
    cases.push_back(c);
  }
  {
    // The depthwise result is read by a second node: that block stays in XNNPACK.
    ChainCase c;
    c.name = "depthwise_read_twice_not_native";
    c.input = {1, 6, 18, 8};
    c.build = [](GraphBuilder& g, int x) {
      Node dw;
      dw.op = OpType::kDepthwiseConv2D;
      dw.conv.padding = Padding::kSame;
      dw.inputs = {x, g.Const({3, 3, 8, 1})};
      const int t_dw = g.Add(dw);
      Node pw;
      pw.op = OpType::kConv2D;
      pw.conv.has_bias = true;
      pw.inputs = {t_dw, g.Const({1, 1, 8, 8}), g.Const({8})};
      Node add;
      add.op = OpType::kAdd;
      add.inputs = {x, g.Add(pw)};
      Node relu;
      relu.op = OpType::kRelu;
      relu.inputs = {g.Add(add)};
      g.Output(g.Add(relu));
      g.Output(t_dw);
    };
    cases.push_back(c);
  }
  for (const auto& [name, spec] : std::vector<std::pair<std::string, BlockSpec>>{
           {"stride2_not_native", {false, true, false, 3, 2, Padding::kSame}},
           {"kernel5_not_native", {false, true, false, 5, 1, Padding::kSame}},
           {"valid_not_native", {false, true, false, 3, 1, Padding::kValid}}}) {
    ChainCase c;
    c.name = name;
    c.input = {1, 8, 8, 4};
    c.build = [spec = spec](GraphBuilder& g, int x) {
      // Where the shapes allow it (5x5 SAME) the Add is a true residual; else t_pw + t_pw.
      const bool residual = spec.dw_stride == 1 && spec.padding == Padding::kSame;
      Node dw;
      dw.op = OpType::kDepthwiseConv2D;
      dw.conv.padding = spec.padding;
      dw.conv.stride_h = dw.conv.stride_w = spec.dw_stride;
      dw.inputs = {x, g.Const({spec.dw_kernel, spec.dw_kernel, 4, 1})};
      const int t_dw = g.Add(dw);
      Node pw;
      pw.op = OpType::kConv2D;
      pw.conv.has_bias = true;
      pw.inputs = {t_dw, g.Const({1, 1, 4, 4}), g.Const({4})};
      const int t_pw = g.Add(pw);
      Node add;
      add.op = OpType::kAdd;
      add.inputs = residual ? std::vector<int>{x, t_pw} : std::vector<int>{t_pw, t_pw};
      Node relu;
      relu.op = OpType::kRelu;
      relu.inputs = {g.Add(add)};
      g.Output(g.Add(relu));
    };
    cases.push_back(c);
  }
  return cases;
}

class ResidualChainTest : public ::testing::TestWithParam<ChainCase> {};

TEST_P(ResidualChainTest, MatchesReference) {
  const ChainCase& c = GetParam();
  GraphBuilder g(/*seed=*/11);
  c.build(g, g.Input(c.input));
  ASSERT_TRUE(g.Finish().ok()) << c.name << ": " << g.Finish().message();
  const Model& model = g.model();
  const std::vector<Shape> shapes = {c.input};
  const std::vector<std::vector<float>> inputs = {
      xnntest::RandomVector(static_cast<size_t>(NumElements(c.input)), 29, -2.f, 2.f)};
  std::string err;
  const auto want = xnntest::RunOnce(ReferenceBackend(), model, shapes, inputs, &err);
  ASSERT_TRUE(err.empty()) << c.name << ": " << err;
  XnnpackBackend xnn(1);
  const auto got = xnntest::RunOnce(xnn, model, shapes, inputs, &err);
  ASSERT_TRUE(err.empty()) << c.name << ": " << err;
  xnntest::ExpectMatchesReference(got, want, std::string("case ") + c.name, "got");
  auto plan = xnn.Prepare(model, shapes);
  ASSERT_TRUE(plan.ok());
  XnnpackPlanStats stats;
  ASSERT_TRUE(GetXnnpackPlanStats(**plan, &stats));
  const bool avx512 = cpu::ResidualChain::Supported();
  EXPECT_EQ(stats.native_chains, avx512 ? c.expect_chains : 0) << "case " << c.name;
  EXPECT_EQ(stats.native_nodes, avx512 ? c.expect_native_nodes : 0) << "case " << c.name;
  EXPECT_EQ(stats.fallback_nodes, 0) << "case " << c.name;
}

INSTANTIATE_TEST_SUITE_P(Sweep, ResidualChainTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<ChainCase>& info) {
                           return info.param.name;
                         });

// One context runs the chain twice on different inputs, and a second plan with another
// geometry shares nothing with it: results must match the reference each time (the scratch
// pads and rings are re-initialised per run).
TEST(ResidualChain, ContextReuseGivesEachInputsResult) {
  GraphBuilder g(5);
  int x = g.Input({1, 10, 21, 24});
  for (int b = 0; b < 3; ++b) x = Block(g, x, 24, {});
  g.Output(x);
  ASSERT_TRUE(g.Finish().ok());
  const Model& model = g.model();
  const std::vector<Shape> shapes = {{1, 10, 21, 24}};
  XnnpackBackend xnn(1);
  auto plan = xnn.Prepare(model, shapes);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE(ctx);
  std::vector<float> out(static_cast<size_t>(NumElements(shapes[0])));
  for (uint32_t seed : {1u, 2u, 1u}) {
    const std::vector<float> in = xnntest::RandomVector(out.size(), seed, -2.f, 2.f);
    std::string err;
    const auto want = xnntest::RunOnce(ReferenceBackend(), model, shapes, {in}, &err);
    ASSERT_TRUE(err.empty()) << err;
    const ConstBuffer ib{in.data(), in.size()};
    const MutableBuffer ob{out.data(), out.size()};
    ASSERT_TRUE((*plan)->Run({&ib, 1}, {&ob, 1}, *ctx).ok());
    const xnntest::Diff d = xnntest::Compare(out, want[0]);
    EXPECT_TRUE(d.Within(xnntest::kRelTol)) << "seed " << seed << ": max|err| " << d.max_abs_err;
  }
}

}  // namespace
}  // namespace fg::nn
