// The CUDA backend without a GPU: its plan (cuda/nn/lowering.h: launches, fused epilogues,
// memory plan) executed by EmulatedCudaBackend, which runs each launch's kernel element
// function (cuda/nn/kernel.h, the code nvcc compiles into the kernels) over the launch's
// whole index space on the host.
//   - every op kind over a swept table (geometry, padding, strides, dilations, broadcasts,
//     activations, batch) against the reference backend;
//   - the epilogue fusion: what is folded into one launch and what must not be;
//   - the six real models against the TF.js references (tests/data/nn) at batch 1, and
//     FaceMesh at batch 3 against three batch-1 runs;
//   - the cuDNN path's splits of a convolution launch (explicit padding then an unpadded
//     convolution; the convolution alone then its epilogue in place) against the fused launch,
//     bit for bit, every convolution of the six models.
// Tolerance everywhere: max|err| <= 1e-4 x max|ref| per output (tests/nn_xnnpack/test_util.h),
// the one the CPU backends meet. What the emulation cannot show (device expf, FMA
// contraction, the CUDA graph, copies, speed) is for tests/cuda_nn/gpu_test.cc on a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "cuda/nn/emulator.h"
#if FG_HAVE_CUDA_NN
#include "cuda/nn/cuda_backend.h"
#endif
#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/session.h"
#include "engine/nn/shape_inference.h"
#include "tests/nn/tfjs_check.h"
#include "tests/nn/nn_test_util.h"
#include "tests/nn_xnnpack/test_util.h"

namespace fg::nn {
namespace {

using gpu::EmulatedCudaBackend;
using xnntest::GraphBuilder;

struct OpCase {
  std::string name;  // every parameter (gtest-safe characters)
  std::function<void(GraphBuilder&)> build;
};
std::ostream& operator<<(std::ostream& os, const OpCase& c) { return os << c.name; }

std::string Str(const Shape& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
  return r.empty() ? "scalar" : r;
}
const char* PaddingName(Padding p) {
  return p == Padding::kValid ? "VALID" : p == Padding::kSame ? "SAME" : "EXPLICIT";
}
const char* ActivationName(Activation a) {
  return a == Activation::kNone    ? "none"
         : a == Activation::kRelu  ? "relu"
         : a == Activation::kRelu6 ? "relu6"
                                   : "prelu";
}

// A one-output node on graph inputs `xs` (plus constants the caller appends to n.inputs).
OpCase Single(std::string name, std::vector<Shape> xs,
              std::function<void(GraphBuilder&, Node&)> f) {
  return {std::move(name), [xs, f](GraphBuilder& g) {
            Node n;
            for (const Shape& s : xs) n.inputs.push_back(g.Input(s));
            f(g, n);
            g.Output(g.Add(n));
          }};
}

std::vector<OpCase> ConvCases() {
  struct Geo {
    int h, w, kh, kw, stride, dilation;
  };
  const Geo geos[] = {{9, 9, 3, 3, 1, 1}, {9, 8, 3, 3, 2, 1}, {11, 7, 5, 2, 1, 2},
                      {8, 8, 1, 1, 1, 1}, {7, 10, 5, 5, 2, 1}, {6, 6, 3, 3, 3, 1}};
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6,
                             Activation::kPrelu};
  std::vector<OpCase> cases;
  int i = 0;
  for (bool dw : {false, true})
    for (const Geo& g : geos)
      for (Padding p : {Padding::kValid, Padding::kSame, Padding::kExplicit}) {
        const Activation act = acts[i % 4];
        const bool bias = i % 3 != 1;
        const int batch = i % 5 == 2 ? 2 : 1;
        const int c0 = dw ? 6 : 5, c1 = dw ? 1 + i % 2 : 7;  // out_c or multiplier
        ++i;
        Window1D wh, ww;
        if (!ComputeWindow(p, g.h, g.kh, g.stride, g.dilation, 2, 1, &wh) ||
            !ComputeWindow(p, g.w, g.kw, g.stride, g.dilation, 0, 1, &ww))
          continue;
        const Shape x = {batch, g.h, g.w, c0};
        const std::string name = std::string(dw ? "Depthwise" : "Conv2D") + "_x" + Str(x) + "_k" +
                                 std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                                 (dw ? "_mult" : "_out") + std::to_string(c1) + "_s" +
                                 std::to_string(g.stride) + "_d" + std::to_string(g.dilation) +
                                 "_" + PaddingName(p) + (bias ? "_bias_" : "_nobias_") +
                                 ActivationName(act);
        cases.push_back(Single(name, {x}, [=](GraphBuilder& b, Node& n) {
          n.op = dw ? OpType::kDepthwiseConv2D : OpType::kConv2D;
          ConvParams& cp = n.conv;
          cp.stride_h = cp.stride_w = g.stride;
          cp.dilation_h = cp.dilation_w = g.dilation;
          cp.padding = p;
          cp.pad_top = 2, cp.pad_bottom = 1, cp.pad_left = 0, cp.pad_right = 1;  // EXPLICIT only
          cp.has_bias = bias;
          cp.activation = act;
          const int oc = dw ? c0 * c1 : c1;
          n.inputs.push_back(b.Const({g.kh, g.kw, c0, c1}));
          if (bias) n.inputs.push_back(b.Const({oc}));
          if (act == Activation::kPrelu) n.inputs.push_back(b.Const({oc}, 0.f, 0.5f));
        }));
      }
  return cases;
}

std::vector<OpCase> ElementwiseCases() {
  std::vector<OpCase> cases;
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{1, 4, 5, 6}, {1, 4, 5, 6}}, {{1, 4, 5, 6}, {6}},       {{1, 4, 1, 6}, {1, 1, 5, 1}},
      {{2, 3}, {3}},                {{1, 3, 3, 2}, {}},        {{5}, {2, 1, 5}}};
  for (OpType op : {OpType::kAdd, OpType::kMul, OpType::kMinimum, OpType::kMaximum})
    for (const auto& [a, b] : pairs)
      cases.push_back(Single(std::string(OpName(op)) + "_a" + Str(a) + "_b" + Str(b), {a, b},
                             [op](GraphBuilder&, Node& n) { n.op = op; }));
  for (OpType op : {OpType::kRelu, OpType::kSigmoid, OpType::kSoftmax})
    for (const Shape& s : std::vector<Shape>{{1, 4, 5, 6}, {3, 17}, {9}})
      cases.push_back(Single(std::string(OpName(op)) + "_" + Str(s), {s},
                             [op](GraphBuilder&, Node& n) { n.op = op; }));
  for (const auto& [x, alpha_shape] : std::vector<std::pair<Shape, Shape>>{
           {{1, 4, 5, 6}, {6}}, {{2, 3, 3, 4}, {1}}, {{3, 8}, {8}}}) {
    const Shape alpha = alpha_shape;  // clang 14: no lambda capture of a structured binding
    cases.push_back(Single("Prelu_x" + Str(x) + "_alpha" + Str(alpha), {x},
                           [alpha](GraphBuilder& g, Node& n) {
                             n.op = OpType::kPrelu;
                             n.inputs.push_back(g.Const(alpha, 0.f, 0.5f));
                           }));
  }
  return cases;
}

std::vector<OpCase> ShapeCases() {
  std::vector<OpCase> cases;
  for (int k : {2, 3})
    for (int s : {1, 2})
      for (Padding p : {Padding::kValid, Padding::kSame})
        cases.push_back(Single("MaxPool_x1x9x8x3_k" + std::to_string(k) + "_s" +
                                   std::to_string(s) + "_" + PaddingName(p),
                               {{1, 9, 8, 3}}, [=](GraphBuilder&, Node& n) {
                                 n.op = OpType::kMaxPool;
                                 n.pool.kernel_h = n.pool.kernel_w = k;
                                 n.pool.stride_h = n.pool.stride_w = s;
                                 n.pool.padding = p;
                               }));
  struct PadCase {
    Shape x;
    std::vector<int> before, after;
  };
  for (const PadCase& pc : std::vector<PadCase>{{{1, 4, 4, 8}, {0, 0, 0, 0}, {0, 0, 0, 8}},
                                                {{2, 5, 3, 2}, {0, 1, 2, 0}, {0, 2, 0, 1}},
                                                {{3, 5}, {1, 0}, {0, 2}}}) {
    std::string name = "Pad_x" + Str(pc.x) + "_before";
    for (int v : pc.before) name += std::to_string(v);
    name += "_after";
    for (int v : pc.after) name += std::to_string(v);
    cases.push_back(Single(name, {pc.x}, [pc](GraphBuilder&, Node& n) {
      n.op = OpType::kPad;
      n.pad_before = pc.before;
      n.pad_after = pc.after;
    }));
  }
  for (const auto& mean_case : std::vector<std::pair<std::vector<int>, bool>>{
           {{1, 2}, false}, {{1, 2}, true}, {{3}, false}, {{0, 3}, true}}) {
    const std::vector<int> axes = mean_case.first;
    const bool keep = mean_case.second;
    std::string name = "Mean_x2x5x7x4_axes";
    for (int a : axes) name += std::to_string(a);
    cases.push_back(Single(name + (keep ? "_keepdims" : ""), {{2, 5, 7, 4}},
                           [axes, keep](GraphBuilder&, Node& n) {
                             n.op = OpType::kMean;
                             n.axes = axes;
                             n.keep_dims = keep;
                           }));
  }
  cases.push_back(Single("Concat_axis3_three", {{1, 4, 4, 3}, {1, 4, 4, 5}, {1, 4, 4, 1}},
                         [](GraphBuilder&, Node& n) { n.op = OpType::kConcat, n.axis = 3; }));
  cases.push_back(Single("Concat_axis1", {{2, 2, 4, 3}, {2, 3, 4, 3}},
                         [](GraphBuilder&, Node& n) { n.op = OpType::kConcat, n.axis = 1; }));
  cases.push_back(Single("Concat_axis0", {{1, 6}, {2, 6}},
                         [](GraphBuilder&, Node& n) { n.op = OpType::kConcat, n.axis = 0; }));
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kPrelu};
  int i = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (bool bias : {false, true}) {
        const Activation act = acts[i++ % 3];
        const int m = 3, k = 20, nn = 6;
        const Shape a = ta ? Shape{k, m} : Shape{m, k};
        cases.push_back(Single(std::string("MatMul_m3_k20_n6") + (ta ? "_ta" : "") +
                                   (tb ? "_tb" : "") + (bias ? "_bias_" : "_nobias_") +
                                   ActivationName(act),
                               {a}, [=](GraphBuilder& g, Node& n) {
                                 n.op = OpType::kMatMul;
                                 n.matmul = {ta, tb, bias, act};
                                 n.inputs.push_back(g.Const(tb ? Shape{nn, k} : Shape{k, nn}));
                                 if (bias) n.inputs.push_back(g.Const({nn}));
                                 if (act == Activation::kPrelu)
                                   n.inputs.push_back(g.Const({nn}, 0.f, 0.5f));
                               }));
      }
  return cases;
}

std::vector<OpCase> AllCases() {
  std::vector<OpCase> all = ConvCases();
  for (auto* more : {&ElementwiseCases, &ShapeCases})
    for (OpCase& c : more()) all.push_back(std::move(c));
  return all;
}

// Runs `model` on the reference and the emulated CUDA backend with the same random inputs.
void ExpectSameAsReference(Model& model, const std::string& what) {
  std::vector<Shape> shapes;
  std::vector<std::vector<float>> inputs;
  for (const IoSpec& io : model.inputs) {
    shapes.push_back(io.shape);
    inputs.push_back(xnntest::RandomVector(size_t(NumElements(io.shape)), 17 + inputs.size()));
  }
  std::string err;
  const auto want = xnntest::RunOnce(ReferenceBackend(), model, shapes, inputs, &err);
  ASSERT_TRUE(err.empty()) << what << ": " << err;
  const auto got = xnntest::RunOnce(EmulatedCudaBackend(), model, shapes, inputs, &err);
  ASSERT_TRUE(err.empty()) << what << ": " << err;
  xnntest::ExpectMatchesReference(got, want, what, "cuda-emulated");
}

class CudaEmulatedOpTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(CudaEmulatedOpTest, MatchesReference) {
  GraphBuilder g(7);
  GetParam().build(g);
  ASSERT_TRUE(g.Finish().ok()) << GetParam().name;
  ExpectSameAsReference(g.model(), "case " + GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Ops, CudaEmulatedOpTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           return info.param.name;
                         });

// Fusion: a graph, the launches and folded nodes the lowering must produce, and the result
// against the reference.
struct FusionCase {
  std::string name;
  std::function<void(GraphBuilder&)> build;
  int launches, fused;
};
std::ostream& operator<<(std::ostream& os, const FusionCase& c) { return os << c.name; }

Node Conv1x1(GraphBuilder& g, int x, int c, Activation act = Activation::kNone) {
  Node n;
  n.op = OpType::kConv2D;
  n.conv.has_bias = true;
  n.conv.activation = act;
  n.inputs = {x, g.Const({1, 1, c, c}), g.Const({c})};
  return n;
}
Node Op(OpType op, std::vector<int> inputs) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  return n;
}

const FusionCase kFusionCases[] = {
    // FaceMesh's block tail: 1x1 conv + AddV2(skip) + Prelu -> one launch.
    {"conv_add_prelu",
     [](GraphBuilder& g) {
       const int x = g.Input({1, 6, 5, 8});
       const int c = g.Add(Conv1x1(g, x, 8));
       const int s = g.Add(Op(OpType::kAdd, {c, x}));
       g.Output(g.Add(Op(OpType::kPrelu, {s, g.Const({8}, 0.f, 0.5f)})));
     },
     1, 2},
    // BlazeFace's: depthwise, 1x1 conv, Add(skip first), Relu -> two launches.
    {"depthwise_conv_add_relu",
     [](GraphBuilder& g) {
       const int x = g.Input({2, 7, 7, 4});
       Node dw = Op(OpType::kDepthwiseConv2D, {x, g.Const({3, 3, 4, 1})});
       dw.conv.padding = Padding::kSame;
       const int c = g.Add(Conv1x1(g, g.Add(dw), 4));
       g.Output(g.Add(Op(OpType::kRelu, {g.Add(Op(OpType::kAdd, {x, c}))})));
     },
     2, 2},
    // Every stage: the conv's own Relu, a Prelu, the residual, a final Relu.
    {"conv_prelu_add_relu",
     [](GraphBuilder& g) {
       const int x = g.Input({1, 4, 4, 3});
       const int c = g.Add(Op(OpType::kPrelu, {g.Add(Conv1x1(g, x, 3)), g.Const({1})}));
       g.Output(g.Add(Op(OpType::kRelu, {g.Add(Op(OpType::kAdd, {c, x}))})));
     },
     1, 3},
    // The conv output is also a graph output: nothing may be folded into it.
    {"shared_output_not_fused",
     [](GraphBuilder& g) {
       const int x = g.Input({1, 4, 4, 3});
       const int c = g.Add(Conv1x1(g, x, 3));
       g.Output(c);
       g.Output(g.Add(Op(OpType::kRelu, {c})));
     },
     2, 0},
    // The Add's other operand is computed after the conv, so the conv cannot take the Add;
    // the later launch (here a Sigmoid) takes it with the conv's output as the residual.
    {"add_folds_into_the_later_operand",
     [](GraphBuilder& g) {
       const int x = g.Input({1, 4, 4, 3});
       const int c = g.Add(Conv1x1(g, x, 3));
       const int later = g.Add(Op(OpType::kSigmoid, {x}));
       g.Output(g.Add(Op(OpType::kAdd, {c, later})));
     },
     2, 1},
    // A broadcasting Add is an op of its own; Reshape is an alias (no launch).
    {"broadcast_add_and_reshape",
     [](GraphBuilder& g) {
       const int x = g.Input({1, 4, 4, 3});
       const int s = g.Add(Op(OpType::kAdd, {g.Add(Conv1x1(g, x, 3)), g.Input({3})}));
       Node r = Op(OpType::kReshape, {s});
       r.new_shape = {1, 48};
       g.Output(g.Add(Op(OpType::kSigmoid, {g.Add(r)})));
     },
     3, 0},
};

class CudaEmulatedFusionTest : public ::testing::TestWithParam<FusionCase> {};

TEST_P(CudaEmulatedFusionTest, FoldsWhatItMayAndMatchesReference) {
  const FusionCase& fc = GetParam();
  GraphBuilder g(3);
  fc.build(g);
  ASSERT_TRUE(g.Finish().ok()) << fc.name;
  auto plan = EmulatedCudaBackend().Prepare(g.model(), NativeInputShapes(g.model()));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const gpu::LoweredModel* lm = gpu::GetLoweredModel(**plan);
  ASSERT_NE(lm, nullptr);
  std::string launches;
  for (const gpu::Launch& l : lm->launches) launches += "[" + l.nodes + "] ";
  EXPECT_EQ(int(lm->launches.size()), fc.launches) << fc.name << ": " << launches;
  EXPECT_EQ(lm->fused_nodes, fc.fused) << fc.name << ": " << launches;
  ExpectSameAsReference(g.model(), "fusion case " + fc.name);
}

INSTANTIATE_TEST_SUITE_P(Fusion, CudaEmulatedFusionTest, ::testing::ValuesIn(kFusionCases),
                         [](const ::testing::TestParamInfo<FusionCase>& info) {
                           return info.param.name;
                         });

TEST(CudaEmulated, RunRejectsWrongBufferSizesNamingTheInput) {
  GraphBuilder g;
  g.Output(g.Add(Op(OpType::kRelu, {g.Input({1, 4})})));
  ASSERT_TRUE(g.Finish().ok());
  auto plan = EmulatedCudaBackend().Prepare(g.model(), NativeInputShapes(g.model()));
  ASSERT_TRUE(plan.ok());
  auto ctx = (*plan)->NewContext();
  std::vector<float> in(3), out(4);
  const ConstBuffer ib{in.data(), in.size()};
  const MutableBuffer ob{out.data(), out.size()};
  const Status s = (*plan)->Run({&ib, 1}, {&ob, 1}, *ctx);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("input 'input0' needs 4 floats"), std::string::npos) << s.message();
}

// "cuda" by name (engine/nn/session.cc): opens where built and a GPU is present; otherwise
// a clear error: no device (naming the CUDA call) or not built (naming cuda/).
TEST(CudaByName, SessionOpensOrSaysWhyNot) {
  auto s = Session::Open(testing::ModelsDir() + "/emotion.json", "cuda");
#if FG_HAVE_CUDA_NN
  if (gpu::CudaDeviceCount() > 0) {
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ((*s)->backend_name(), "cuda");
    return;
  }
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cudaGetDeviceCount"), std::string::npos)
      << s.status().message();
#else
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("backend 'cuda' is not available in this build (built "
                                      "without cuda/"),
            std::string::npos)
      << s.status().message();
#endif
}

// The six models, with the nodes their structure lets the lowering fold into epilogues:
// BlazeFace, FaceMesh and Iris each residual block's Add and its Relu / Prelu (31, 24 and 26
// blocks; BlazeFace's stride-2 Adds fold into the channel Pad computed after the conv);
// emotion the two Adds after a MaxPool (its Relus read tensors used twice); antispoof the
// three Relus after a MaxPool; liveness nothing (its Adds and Muls broadcast constants).
struct ModelCase {
  std::string name;
  int fused;
};
std::ostream& operator<<(std::ostream& os, const ModelCase& m) { return os << m.name; }
const ModelCase kModels[] = {{"blazeface", 31 * 2}, {"facemesh", 24 * 2}, {"iris", 26 * 2},
                             {"emotion", 2},        {"antispoof", 3},     {"liveness", 0}};

class CudaEmulatedModelTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override {
    auto loaded = LoadModel(testing::ModelsDir() + "/" + GetParam().name + ".json");
    ASSERT_TRUE(loaded.ok()) << loaded.status().message() << " (tools/fetch-models)";
    model_ = std::move(loaded).value();
  }
  Model model_;
};

TEST_P(CudaEmulatedModelTest, MatchesTfjsReferences) {
  auto plan = EmulatedCudaBackend().Prepare(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const gpu::LoweredModel* lm = gpu::GetLoweredModel(**plan);
  std::printf("[ plan ] %s: %zu nodes -> %zu launches (%d nodes fused into epilogues, %d "
              "aliases), arena %.2f MiB, weights %.2f MiB\n",
              GetParam().name.c_str(), model_.nodes.size(), lm->launches.size(), lm->fused_nodes,
              lm->alias_nodes, double(lm->arena_elements) * 4 / (1 << 20),
              double(lm->weights.size()) * 4 / (1 << 20));
  EXPECT_EQ(lm->fused_nodes, GetParam().fused);
  EXPECT_EQ(lm->launches.size() + size_t(lm->fused_nodes + lm->alias_nodes), model_.nodes.size());
  testing::ExpectMatchesTfjs(EmulatedCudaBackend(), model_, GetParam().name);
}

// The cuDNN path's decompositions (cuda_backend.cu), each equal to the fused launch bit for bit,
// for every convolution of the model (run in plan order on the emulator's host arena): the
// padding made explicit (ExplicitPadding: a pad launch, then the convolution unpadded), and a
// convolution computed without its epilogue followed by EpilogueInPlace over the output.
TEST_P(CudaEmulatedModelTest, ConvolutionThenEpilogueInPlaceEqualsTheFusedLaunch) {
  auto lm = gpu::Lower(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  std::vector<float> arena(size_t(lm->arena_elements));
  for (size_t i = 0; i < lm->input_tensors.size(); ++i) {
    const std::vector<float> in = testing::XorshiftTensor(uint32_t(11 + i), NumElements(lm->input_shapes[i]));
    std::copy(in.begin(), in.end(), arena.begin() + lm->where[lm->input_tensors[i]].offset);
  }
  auto run = [](const gpu::KernelArgs& k) {
    gpu::VisitKind(k.kind, [&](auto kind) {
      for (int64_t i = 0; i < k.count; ++i) gpu::EvalElement<decltype(kind)::value>(k, i);
    });
  };
  int checked = 0, padded_checked = 0;
  for (const gpu::Launch& l : lm->launches) {
    const gpu::KernelArgs a = gpu::Bind(*lm, l, arena.data(), lm->weights.data());
    run(a);
    if (a.kind != gpu::Kind::kConv2D && a.kind != gpu::Kind::kDepthwise) continue;
    const std::vector<float> fused(a.out, a.out + a.count);
    // The padding made explicit (a pad launch, then the convolution with padding 0).
    gpu::PaddedConv pc;
    ASSERT_TRUE(gpu::ExplicitPadding(a, &pc));
    std::vector<float> padded(size_t(pc.pad.count), -1.0f);
    pc.pad.out = padded.data();
    pc.conv.in[0] = padded.data();
    run(pc.pad);
    run(pc.conv);
    ASSERT_EQ(std::vector<float>(a.out, a.out + a.count), fused) << l.nodes << " with explicit padding";
    ++padded_checked;
    const gpu::KernelArgs epilogue = gpu::EpilogueInPlace(a);
    if (epilogue.count == 0) continue;
    gpu::KernelArgs bare = a;
    bare.ep = gpu::Epilogue{};
    bare.ep.channels = a.ep.channels;
    run(bare);
    run(epilogue);
    ASSERT_EQ(std::vector<float>(a.out, a.out + a.count), fused) << l.nodes;
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no convolution with an epilogue";
  std::printf("[ cudnn ] %s: %d convolutions: pad + unpadded conv == fused; %d: conv + epilogue in place == "
              "fused\n",
              GetParam().name.c_str(), padded_checked, checked);
}

INSTANTIATE_TEST_SUITE_P(Models, CudaEmulatedModelTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<ModelCase>& info) {
                           return info.param.name;
                         });

// Batch N is the same lowering with N in the shapes: FaceMesh at batch 3 equals three batch-1
// runs (the GPU test does 64).
TEST(CudaEmulatedBatch, FaceMeshBatch3EqualsThreeSingleRuns) {
  auto loaded = LoadModel(testing::ModelsDir() + "/facemesh.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Model& model = loaded.value();
  const Shape one = NativeInputShapes(model, 1)[0];
  const Shape three = NativeInputShapes(model, 3)[0];
  const std::vector<float> batch = testing::XorshiftTensor(99, NumElements(three));
  std::string err;
  const auto got = xnntest::RunOnce(EmulatedCudaBackend(), model, {three}, {batch}, &err);
  ASSERT_TRUE(err.empty()) << err;
  const size_t per = size_t(NumElements(one));
  for (int b = 0; b < 3; ++b) {
    const std::vector<float> item(batch.begin() + b * per, batch.begin() + (b + 1) * per);
    const auto single = xnntest::RunOnce(EmulatedCudaBackend(), model, {one}, {item}, &err);
    ASSERT_TRUE(err.empty()) << err;
    ASSERT_EQ(single.size(), got.size());
    for (size_t o = 0; o < got.size(); ++o) {
      const size_t n = single[o].size();
      const std::vector<float> slice(got[o].begin() + b * n, got[o].begin() + (b + 1) * n);
      EXPECT_EQ(slice, single[o]) << "batch item " << b << ", output " << o;
    }
  }
}

}  // namespace
}  // namespace fg::nn
