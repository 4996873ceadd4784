// Every op through the reference backend and the XNNPACK backend, over a swept table of
// shapes, strides, paddings, dilations, activations and broadcasts. Tolerance: test_util.h
// (max|err| <= 1e-4 * max|ref|). Each case's name lists all its parameters, and a failure
// prints them again with the worst element.
//
// Each case also states where its nodes must run: on XNNPACK, or in the reference fallback
// (ops this XNNPACK snapshot lacks), so a silent fallback is a failure too.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstdlib>
#include <functional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/nn/reference_backend.h"
#include "engine/nn/xnnpack/xnnpack_backend.h"
#include "tests/nn_xnnpack/test_util.h"

namespace fg::nn {
namespace {

using xnntest::GraphBuilder;

struct OpCase {
  std::string name;                           // every parameter, gtest-safe characters
  std::function<void(GraphBuilder&)> build;   // adds inputs, nodes, outputs
  int expect_fallback = 0;                    // nodes that must run in the reference ops
  int expect_segments = -1;                   // XNNPACK runtimes, -1 = don't check
  int threads = 1;
};

std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.name; }

const char* PadName(Padding p) {
  return p == Padding::kValid ? "VALID" : p == Padding::kSame ? "SAME" : "EXPLICIT";
}
const char* ActName(Activation a) {
  switch (a) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kRelu6: return "relu6";
    case Activation::kPrelu: return "prelu";
  }
  return "?";
}
std::string Dims(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r.empty() ? "scalar" : r;
}

// Does a window of this geometry fit (as shape inference will check)?
bool Fits(Padding p, int in, int k, int s, int d, int pb, int pa) {
  Window1D w;
  return ComputeWindow(p, in, k, s, d, pb, pa, &w);
}

void AddConvCases(std::vector<OpCase>* cases, bool depthwise) {
  const std::vector<std::pair<int, int>> hw = {{1, 1}, {5, 7}, {8, 8}, {13, 11}};
  const std::vector<std::pair<int, int>> kernels = {{1, 1}, {3, 3}, {5, 2}};
  const std::vector<int> strides = {1, 2, 3};
  const std::vector<int> dilations = {1, 2};
  const std::vector<Padding> pads = {Padding::kValid, Padding::kSame, Padding::kExplicit};
  // (in_c, out_c) for Conv2D; (in_c, multiplier) for depthwise.
  const std::vector<std::pair<int, int>> channels =
      depthwise ? std::vector<std::pair<int, int>>{{3, 1}, {8, 2}}
                : std::vector<std::pair<int, int>>{{3, 4}, {8, 16}};
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                             Activation::kPrelu};
  int i = 0;
  for (auto [h, w] : hw)
    for (auto [kh, kw] : kernels)
      for (int s : strides)
        for (int d : dilations)
          for (Padding p : pads)
            for (auto [c0, c1] : channels) {
              // Explicit pads (top, bottom, left, right) = (1, 2, 0, 1).
              if (!Fits(p, h, kh, s, d, 1, 2) || !Fits(p, w, kw, s, d, 0, 1)) continue;
              if (d > 1 && s > 1) continue;  // TF rejects strides > 1 with dilations > 1
              const Activation act = acts[i % 4];
              const bool bias = (i / 4) % 2 == 0;
              const int batch = (i % 7 == 3) ? 2 : 1;
              ++i;
              OpCase c;
              c.name = std::string(depthwise ? "DepthwiseConv2D" : "Conv2D") + "_in" +
                       std::to_string(batch) + "x" + std::to_string(h) + "x" + std::to_string(w) +
                       "x" + std::to_string(c0) + "_k" + std::to_string(kh) + "x" +
                       std::to_string(kw) + (depthwise ? "_mult" : "_out") + std::to_string(c1) +
                       "_s" + std::to_string(s) + "_d" + std::to_string(d) + "_" + PadName(p) +
                       (bias ? "_bias" : "_nobias") + "_" + ActName(act);
              c.build = [=](GraphBuilder& g) {
                const int x = g.Input({batch, h, w, c0});
                Node n;
                n.op = depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D;
                n.conv.stride_h = n.conv.stride_w = s;
                n.conv.dilation_h = n.conv.dilation_w = d;
                n.conv.padding = p;
                if (p == Padding::kExplicit) {
                  n.conv.pad_top = 1, n.conv.pad_bottom = 2, n.conv.pad_left = 0, n.conv.pad_right = 1;
                }
                n.conv.has_bias = bias;
                n.conv.activation = act;
                const int oc = depthwise ? c0 * c1 : c1;
                n.inputs = {x, g.Const({kh, kw, c0, c1})};
                if (bias) n.inputs.push_back(g.Const({oc}));
                if (act == Activation::kPrelu) n.inputs.push_back(g.Const({oc}, 0.f, 0.5f));
                g.Output(g.Add(n));
              };
              cases->push_back(c);
            }
}

void AddBinaryCases(std::vector<OpCase>* cases) {
  struct Pair {
    Shape a, b;
    bool b_const;
    bool const_first;
  };
  const std::vector<Pair> pairs = {
      {{1, 5, 7, 8}, {1, 5, 7, 8}, false, false},  // same shape, two activations
      {{1, 5, 7, 8}, {8}, true, false},            // per-channel constant (BatchNorm style)
      {{1, 5, 7, 8}, {8}, true, true},             // constant first
      {{1, 5, 7, 8}, {1, 1, 1, 8}, false, false},  // broadcast activation
      {{1, 5, 1, 8}, {1, 1, 7, 1}, false, false},  // both broadcast
      {{2, 3}, {3}, true, false},                  // 2-D (after a MatMul)
      {{1, 4, 4, 3}, {}, true, false},             // scalar constant
  };
  const OpType ops[] = {OpType::kAdd, OpType::kMul, OpType::kMinimum, OpType::kMaximum};
  for (OpType op : ops)
    for (const Pair& pr : pairs) {
      OpCase c;
      c.name = std::string(OpName(op)) + "_a" + Dims(pr.a) + "_b" + Dims(pr.b) +
               (pr.b_const ? "_bconst" : "_bact") + (pr.const_first ? "_constfirst" : "");
      c.build = [=](GraphBuilder& g) {
        const int a = g.Input(pr.a);
        const int b = pr.b_const ? g.Const(pr.b) : g.Input(pr.b);
        Node n;
        n.op = op;
        n.inputs = pr.const_first ? std::vector<int>{b, a} : std::vector<int>{a, b};
        g.Output(g.Add(n));
      };
      cases->push_back(c);
    }
  // Add + Relu: the Relu is fused into the add's output range (one XNNPACK node).
  OpCase c;
  c.name = "Add_Relu_fused_1x6x6x16";
  c.build = [](GraphBuilder& g) {
    Node add;
    add.op = OpType::kAdd;
    add.inputs = {g.Input({1, 6, 6, 16}), g.Input({1, 6, 6, 16})};
    Node relu;
    relu.op = OpType::kRelu;
    relu.inputs = {g.Add(add)};
    g.Output(g.Add(relu));
  };
  cases->push_back(c);
}

void AddUnaryCases(std::vector<OpCase>* cases) {
  const std::vector<Shape> shapes = {{1, 5, 7, 8}, {7}, {2, 9}};
  for (OpType op : {OpType::kRelu, OpType::kSigmoid, OpType::kSoftmax})
    for (const Shape& s : shapes) {
      OpCase c;
      c.name = std::string(OpName(op)) + "_" + Dims(s);
      c.build = [=](GraphBuilder& g) {
        Node n;
        n.op = op;
        n.inputs = {g.Input(s)};
        g.Output(g.Add(n));
      };
      cases->push_back(c);
    }
  // Prelu: 4-D per channel, [1,1,C] alpha, 2-D (reshaped to 4-D inside), scalar alpha.
  const std::vector<std::pair<Shape, Shape>> prelus = {
      {{1, 5, 7, 8}, {8}}, {{1, 5, 7, 8}, {1, 1, 8}}, {{4, 8}, {8}}, {{1, 3, 3, 5}, {1}}};
  for (const auto& [x, a] : prelus) {
    OpCase c;
    c.name = "Prelu_x" + Dims(x) + "_alpha" + Dims(a);
    c.build = [=](GraphBuilder& g) {
      Node n;
      n.op = OpType::kPrelu;
      n.inputs = {g.Input(x), g.Const(a, 0.f, 0.5f)};
      g.Output(g.Add(n));
    };
    cases->push_back(c);
  }
}

void AddPoolCases(std::vector<OpCase>* cases) {
  const std::vector<std::pair<int, int>> hw = {{5, 7}, {8, 8}, {13, 11}};
  const std::vector<std::pair<int, int>> kernels = {{2, 2}, {3, 3}, {2, 3}};
  for (auto [h, w] : hw)
    for (auto [kh, kw] : kernels)
      for (int s : {1, 2, 3})
        for (Padding p : {Padding::kValid, Padding::kSame}) {
          if (!Fits(p, h, kh, s, 1, 0, 0) || !Fits(p, w, kw, s, 1, 0, 0)) continue;
          OpCase c;
          c.name = "MaxPool_in1x" + std::to_string(h) + "x" + std::to_string(w) + "x6_k" +
                   std::to_string(kh) + "x" + std::to_string(kw) + "_s" + std::to_string(s) +
                   "_" + PadName(p);
          c.build = [=](GraphBuilder& g) {
            Node n;
            n.op = OpType::kMaxPool;
            n.pool.kernel_h = kh, n.pool.kernel_w = kw;
            n.pool.stride_h = n.pool.stride_w = s;
            n.pool.padding = p;
            n.inputs = {g.Input({1, h, w, 6})};
            g.Output(g.Add(n));
          };
          cases->push_back(c);
        }
  OpCase c;  // 1x1 window: a strided copy, which XNNPACK rejects -> reference op
  c.name = "MaxPool_in1x8x8x4_k1x1_s2_VALID_fallback";
  c.expect_fallback = 1;
  c.build = [](GraphBuilder& g) {
    Node n;
    n.op = OpType::kMaxPool;
    n.pool.stride_h = n.pool.stride_w = 2;
    n.inputs = {g.Input({1, 8, 8, 4})};
    g.Output(g.Add(n));
  };
  cases->push_back(c);
}

void AddShapeCases(std::vector<OpCase>* cases) {
  struct PadCase {
    Shape x;
    std::vector<int> before, after;
  };
  const std::vector<PadCase> pads = {
      {{1, 4, 4, 8}, {0, 0, 0, 0}, {0, 0, 0, 8}},  // channel padding (BlazeFace / FaceMesh)
      {{1, 5, 7, 3}, {0, 1, 3, 0}, {0, 2, 0, 0}},  // spatial
      {{3, 5}, {1, 0}, {0, 2}},
  };
  for (const PadCase& pc : pads) {
    OpCase c;
    std::string b, a;
    for (int v : pc.before) b += std::to_string(v);
    for (int v : pc.after) a += std::to_string(v);
    c.name = "Pad_x" + Dims(pc.x) + "_before" + b + "_after" + a;
    c.build = [=](GraphBuilder& g) {
      Node n;
      n.op = OpType::kPad;
      n.pad_before = pc.before;
      n.pad_after = pc.after;
      n.inputs = {g.Input(pc.x)};
      g.Output(g.Add(n));
    };
    cases->push_back(c);
  }
  const std::vector<std::pair<Shape, Shape>> reshapes = {
      {{1, 4, 4, 8}, {1, 128}}, {{1, 4, 4, 8}, {1, -1, 8}}, {{2, 3, 4}, {24}}};
  for (const auto& [x, ns] : reshapes) {
    OpCase c;
    c.name = "Reshape_x" + Dims(x) + "_to" + Dims(ns);
    std::replace(c.name.begin(), c.name.end(), '-', 'm');
    c.build = [=](GraphBuilder& g) {
      // A Relu first so the reshape is not the whole graph.
      Node r;
      r.op = OpType::kRelu;
      r.inputs = {g.Input(x)};
      Node n;
      n.op = OpType::kReshape;
      n.new_shape = ns;
      n.inputs = {g.Add(r)};
      g.Output(g.Add(n));
    };
    cases->push_back(c);
  }
  struct MeanCase {
    std::vector<int> axes;
    bool keep;
    int fallback;
  };
  for (const MeanCase& m : std::vector<MeanCase>{{{1, 2}, false, 0}, {{1, 2}, true, 0},
                                                  {{3}, false, 1}, {{1}, true, 1}}) {
    OpCase c;
    std::string ax;
    for (int v : m.axes) ax += std::to_string(v);
    c.name = "Mean_x2x5x7x8_axes" + ax + (m.keep ? "_keepdims" : "") +
             (m.fallback ? "_fallback" : "");
    c.expect_fallback = m.fallback;
    c.build = [=](GraphBuilder& g) {
      Node n;
      n.op = OpType::kMean;
      n.axes = m.axes;
      n.keep_dims = m.keep;
      n.inputs = {g.Input({2, 5, 7, 8})};
      g.Output(g.Add(n));
    };
    cases->push_back(c);
  }
  for (int axis : {3, 1}) {
    OpCase c;
    c.name = "Concat_axis" + std::to_string(axis) + "_fallback";
    c.expect_fallback = 1;
    c.build = [=](GraphBuilder& g) {
      Node n;
      n.op = OpType::kConcat;
      n.axis = axis;
      n.inputs = {g.Input({1, 4, 4, 3}), g.Input(axis == 3 ? Shape{1, 4, 4, 5} : Shape{1, 2, 4, 3})};
      g.Output(g.Add(n));
    };
    cases->push_back(c);
  }
}

void AddMatMulCases(std::vector<OpCase>* cases) {
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                             Activation::kPrelu};
  int i = 0;
  for (auto [m, k, n] : std::vector<std::tuple<int, int, int>>{{1, 16, 8}, {3, 64, 10}, {2, 5, 1}})
    for (bool tb : {false, true})
      for (bool bias : {false, true}) {
        const Activation act = acts[i++ % 4];
        OpCase c;
        c.name = "MatMul_m" + std::to_string(m) + "_k" + std::to_string(k) + "_n" +
                 std::to_string(n) + (tb ? "_transposeB" : "") + (bias ? "_bias" : "_nobias") +
                 "_" + ActName(act);
        c.build = [=](GraphBuilder& g) {
          Node nd;
          nd.op = OpType::kMatMul;
          nd.matmul.transpose_b = tb;
          nd.matmul.has_bias = bias;
          nd.matmul.activation = act;
          nd.inputs = {g.Input({m, k}), g.Const(tb ? Shape{n, k} : Shape{k, n})};
          if (bias) nd.inputs.push_back(g.Const({n}));
          if (act == Activation::kPrelu) nd.inputs.push_back(g.Const({n}, 0.f, 0.5f));
          g.Output(g.Add(nd));
        };
        cases->push_back(c);
      }
  OpCase c;
  c.name = "MatMul_transposeA_fallback";
  c.expect_fallback = 1;
  c.build = [](GraphBuilder& g) {
    Node nd;
    nd.op = OpType::kMatMul;
    nd.matmul.transpose_a = true;
    nd.inputs = {g.Input({16, 3}), g.Const({16, 8})};
    g.Output(g.Add(nd));
  };
  cases->push_back(c);
}

// Small graphs: fusion decisions, aliases, segmentation around a fallback, threads.
void AddGraphCases(std::vector<OpCase>* cases) {
  auto conv = [](GraphBuilder& g, int x, int c_in, int c_out, Activation act = Activation::kNone) {
    Node n;
    n.op = OpType::kConv2D;
    n.conv.padding = Padding::kSame;
    n.conv.has_bias = true;
    n.conv.activation = act;
    n.inputs = {x, g.Const({3, 3, c_in, c_out}), g.Const({c_out})};
    return g.Add(n);
  };
  auto unary = [](GraphBuilder& g, OpType op, int x) {
    Node n;
    n.op = op;
    n.inputs = {x};
    return g.Add(n);
  };
  {
    OpCase c;
    c.name = "Graph_conv_relu_fused";
    c.expect_segments = 1;
    c.build = [=](GraphBuilder& g) {
      g.Output(unary(g, OpType::kRelu, conv(g, g.Input({1, 9, 9, 4}), 4, 8)));
    };
    cases->push_back(c);
  }
  {
    OpCase c;  // the conv output is also a graph output: the Relu must not be fused
    c.name = "Graph_conv_relu_not_fused_two_consumers";
    c.build = [=](GraphBuilder& g) {
      const int y = conv(g, g.Input({1, 9, 9, 4}), 4, 8);
      g.Output(unary(g, OpType::kRelu, y));
      g.Output(y);
    };
    cases->push_back(c);
  }
  {
    OpCase c;  // Identity chains are aliases; an output may be an Identity of an input
    c.name = "Graph_identity_chain";
    c.build = [=](GraphBuilder& g) {
      const int x = g.Input({1, 3, 3, 2});
      const int r = unary(g, OpType::kRelu, unary(g, OpType::kIdentity, x));
      g.Output(unary(g, OpType::kIdentity, r));
      g.Output(unary(g, OpType::kIdentity, x));
    };
    cases->push_back(c);
  }
  for (int threads : {1, 2}) {
    OpCase c;  // conv -> [concat: reference] -> conv: two XNNPACK segments around a fallback
    c.name = "Graph_segments_around_concat_threads" + std::to_string(threads);
    c.expect_fallback = 1;
    c.expect_segments = 2;
    c.threads = threads;
    c.build = [=](GraphBuilder& g) {
      const int x = g.Input({1, 12, 10, 3});
      const int a = conv(g, x, 3, 5, Activation::kRelu);
      const int b = conv(g, x, 3, 7, Activation::kRelu6);
      Node cat;
      cat.op = OpType::kConcat;
      cat.axis = 3;
      cat.inputs = {a, b};
      const int y = conv(g, g.Add(cat), 12, 6);
      g.Output(y);
      g.Output(a);  // also read by the concat: a segment output used twice
    };
    cases->push_back(c);
  }
  {
    OpCase c;  // BatchNorm after conv as Mul + Add with [C] constants (liveness)
    c.name = "Graph_conv_relu_mul_add_batchnorm";
    c.build = [=](GraphBuilder& g) {
      const int y = conv(g, g.Input({1, 8, 8, 3}), 3, 16, Activation::kRelu);
      Node mul;
      mul.op = OpType::kMul;
      mul.inputs = {y, g.Const({16})};
      Node add;
      add.op = OpType::kAdd;
      add.inputs = {g.Add(mul), g.Const({16})};
      g.Output(g.Add(add));
    };
    cases->push_back(c);
  }
}

std::vector<OpCase> AllCases() {
  std::vector<OpCase> cases;
  AddConvCases(&cases, /*depthwise=*/false);
  AddConvCases(&cases, /*depthwise=*/true);
  AddBinaryCases(&cases);
  AddUnaryCases(&cases);
  AddPoolCases(&cases);
  AddShapeCases(&cases);
  AddMatMulCases(&cases);
  AddGraphCases(&cases);
  return cases;
}

class XnnpackOpTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(XnnpackOpTest, MatchesReference) {
  const OpCase& c = GetParam();
  GraphBuilder g(/*seed=*/7);
  c.build(g);
  ASSERT_TRUE(g.Finish().ok()) << c.name << ": " << g.Finish().message();
  const Model& model = g.model();
  std::vector<Shape> shapes;
  std::vector<std::vector<float>> inputs;
  for (size_t i = 0; i < model.inputs.size(); ++i) {
    shapes.push_back(model.inputs[i].shape);
    inputs.push_back(xnntest::RandomVector(static_cast<size_t>(NumElements(shapes.back())),
                                           100 + static_cast<uint32_t>(i), -2.f, 2.f));
  }
  std::string err;
  ReferenceBackend ref;
  XnnpackBackend xnn(c.threads);
  const auto want = xnntest::RunOnce(ref, model, shapes, inputs, &err);
  ASSERT_TRUE(err.empty()) << c.name << ": " << err;
  const auto got = xnntest::RunOnce(xnn, model, shapes, inputs, &err);
  ASSERT_TRUE(err.empty()) << c.name << ": " << err;
  xnntest::ExpectMatchesReference(got, want, std::string("case ") + c.name, "xnnpack");
  auto plan = xnn.Prepare(model, shapes);
  ASSERT_TRUE(plan.ok());
  XnnpackPlanStats stats;
  ASSERT_TRUE(GetXnnpackPlanStats(**plan, &stats));
  EXPECT_EQ(stats.fallback_nodes, c.expect_fallback) << "case " << c.name;
  if (c.expect_segments >= 0) {
    EXPECT_EQ(stats.segments, c.expect_segments) << "case " << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Sweep, XnnpackOpTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           return info.param.name;
                         });

// Run() reuses one context: a second run on other data must give that data's result, and a
// context must be reusable any number of times (nothing is consumed by a run).
TEST(XnnpackBackend, ContextReuseAndTwoContexts) {
  GraphBuilder g(3);
  Node n;
  n.op = OpType::kConv2D;
  n.conv.padding = Padding::kSame;
  n.conv.activation = Activation::kRelu;
  const int x = g.Input({1, 6, 6, 4});
  n.inputs = {x, g.Const({3, 3, 4, 8})};
  g.Output(g.Add(n));
  ASSERT_TRUE(g.Finish().ok());
  XnnpackBackend xnn;
  ReferenceBackend ref;
  const std::vector<Shape> shapes = {{1, 6, 6, 4}};
  auto plan = xnn.Prepare(g.model(), shapes);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx1 = (*plan)->NewContext();
  auto ctx2 = (*plan)->NewContext();  // the second one packs its own weights
  ASSERT_TRUE(ctx1 && ctx2);
  std::vector<float> out(6 * 6 * 8);
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto in = xnntest::RandomVector(6 * 6 * 4, seed);
    std::string err;
    const auto want = xnntest::RunOnce(ref, g.model(), shapes, {in}, &err);
    ASSERT_TRUE(err.empty()) << err;
    for (RunContext* ctx : {ctx1.get(), ctx2.get()}) {
      ConstBuffer ib[] = {{in.data(), in.size()}};
      MutableBuffer ob[] = {{out.data(), out.size()}};
      ASSERT_TRUE((*plan)->Run(ib, ob, *ctx).ok());
      EXPECT_TRUE(xnntest::Compare(out, want[0]).Within(xnntest::kRelTol)) << "seed " << seed;
    }
  }
}

// One Plan, two threads, one context each (backend.h's threading rule): every run on each
// thread gives the reference result.
TEST(XnnpackBackend, ConcurrentRunsWithOwnContexts) {
  GraphBuilder g(9);
  Node conv;
  conv.op = OpType::kConv2D;
  conv.conv.padding = Padding::kSame;
  conv.conv.has_bias = true;
  conv.conv.activation = Activation::kRelu;
  conv.inputs = {g.Input({1, 16, 16, 8}), g.Const({3, 3, 8, 16}), g.Const({16})};
  Node pool;
  pool.op = OpType::kMaxPool;
  pool.pool.kernel_h = pool.pool.kernel_w = 2;
  pool.pool.stride_h = pool.pool.stride_w = 2;
  pool.inputs = {g.Add(conv)};
  g.Output(g.Add(pool));
  ASSERT_TRUE(g.Finish().ok());
  const std::vector<Shape> shapes = {{1, 16, 16, 8}};
  auto plan = XnnpackBackend().Prepare(g.model(), shapes);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  std::vector<std::vector<float>> ins, wants;
  for (uint32_t seed : {21u, 22u}) {
    ins.push_back(xnntest::RandomVector(16 * 16 * 8, seed));
    std::string err;
    wants.push_back(xnntest::RunOnce(ReferenceBackend(), g.model(), shapes, {ins.back()}, &err)[0]);
    ASSERT_TRUE(err.empty()) << err;
  }
  std::atomic<int> mismatches{0};
  auto worker = [&](int t) {
    auto ctx = (*plan)->NewContext();
    std::vector<float> out(wants[t].size());
    ConstBuffer ib[] = {{ins[t].data(), ins[t].size()}};
    MutableBuffer ob[] = {{out.data(), out.size()}};
    for (int i = 0; i < 200; ++i) {
      if (!ctx || !(*plan)->Run(ib, ob, *ctx).ok() ||
          !xnntest::Compare(out, wants[t]).Within(xnntest::kRelTol))
        ++mismatches;
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// An input whose last element ends a page is copied (XNNPACK may read 16 bytes past it);
// other inputs are bound in place. Both paths, alternating, give the reference result.
TEST(XnnpackBackend, InputAtPageEndAndRebinding) {
  GraphBuilder g(5);
  Node n;
  n.op = OpType::kDepthwiseConv2D;
  n.conv.padding = Padding::kSame;
  const Shape shape = {1, 8, 8, 16};  // 1024 floats = exactly one 4 KiB page
  n.inputs = {g.Input(shape), g.Const({3, 3, 16, 1})};
  g.Output(g.Add(n));
  ASSERT_TRUE(g.Finish().ok());
  const size_t count = 1024, page = 4096;
  // Three pages, the middle one holds the input so that its end touches the third page's
  // start; the third page stays readable (we only want the copy path, not a fault).
  float* block = static_cast<float*>(std::aligned_alloc(page, 3 * page));
  ASSERT_NE(block, nullptr);
  float* at_page_end = block + 2 * page / sizeof(float) - count;
  // Different data in the two buffers, so a stale binding would show.
  const auto values = xnntest::RandomVector(count, 11);
  std::copy(values.begin(), values.end(), at_page_end);
  std::vector<float> elsewhere = xnntest::RandomVector(count, 12);
  elsewhere.reserve(count + 64);

  std::string err;
  const auto want_page = xnntest::RunOnce(ReferenceBackend(), g.model(), {shape}, {values}, &err);
  ASSERT_TRUE(err.empty()) << err;
  const auto want_else = xnntest::RunOnce(ReferenceBackend(), g.model(), {shape}, {elsewhere}, &err);
  ASSERT_TRUE(err.empty()) << err;
  auto plan = XnnpackBackend().Prepare(g.model(), std::vector<Shape>{shape});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  std::vector<float> out(count);
  MutableBuffer ob[] = {{out.data(), out.size()}};
  for (const float* src : {at_page_end, elsewhere.data(), at_page_end, elsewhere.data()}) {
    std::fill(out.begin(), out.end(), 0.f);
    ConstBuffer ib[] = {{src, count}};
    ASSERT_TRUE((*plan)->Run(ib, ob, *ctx).ok());
    const auto& want = src == at_page_end ? want_page[0] : want_else[0];
    EXPECT_TRUE(xnntest::Compare(out, want).Within(xnntest::kRelTol))
        << (src == at_page_end ? "input at a page end (copied)" : "input bound in place");
  }
  std::free(block);
}

// Caller mistakes are errors, not crashes.
TEST(XnnpackBackend, RunRejectsWrongBuffers) {
  GraphBuilder g;
  Node n;
  n.op = OpType::kRelu;
  n.inputs = {g.Input({1, 4})};
  g.Output(g.Add(n));
  ASSERT_TRUE(g.Finish().ok());
  XnnpackBackend xnn;
  const std::vector<Shape> shapes = {{1, 4}};
  auto plan = xnn.Prepare(g.model(), shapes);
  ASSERT_TRUE(plan.ok());
  auto ctx = (*plan)->NewContext();
  std::vector<float> in(4), out(3);
  ConstBuffer ib[] = {{in.data(), in.size()}};
  MutableBuffer ob[] = {{out.data(), out.size()}};
  const Status s = (*plan)->Run(ib, ob, *ctx);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("output 0"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace fg::nn
