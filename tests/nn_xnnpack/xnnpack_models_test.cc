// The six real models on the XNNPACK backend:
//   - against the reference backend on a seeded random input (batch 1 at the native size,
//     and batch 2 where the model allows a batch), one and two threads;
//   - against the TF.js outputs in tests/data/nn/<model>.json (both the astronaut and the
//     xorshift cases), with the inputs rebuilt by tests/nn/nn_test_util (README conventions);
//   - where each model's nodes run: only iris' trailing ConcatV2 needs the reference op;
//     BlazeFace's residual blocks run in engine/nn/cpu/residual_chain on an AVX-512 CPU.
// Tolerance: max|err| <= 1e-4 * max|ref| per output (test_util.h). Observed errors are printed.
// A missing model or reference file is a failure, not a skip (tools/fetch-models).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "engine/nn/cpu/residual_chain.h"
#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#include "engine/nn/xnnpack/xnnpack_backend.h"
#include "tests/nn/nn_test_util.h"
#include "tests/nn/tfjs_check.h"
#include "tests/nn_xnnpack/test_util.h"

namespace fg::nn {
namespace {


struct ModelInfo {
  std::string name;
  int fallback_nodes;  // nodes this XNNPACK cannot express (run by the reference ops)
  int native_chains;   // residual-block chains run by engine/nn/cpu (on an AVX-512 CPU)
  int native_nodes;    // model nodes in them
  int native_segments; // XNNPACK segments then (without AVX-512: 1)
};

std::ostream& operator<<(std::ostream& os, const ModelInfo& m) { return os << m.name; }

const ModelInfo kModels[] = {
    // BlazeFace: its 5x5 stem and body are one chain, 256x256x3 to 16x16x96: the stem, 28
    // stride-1 blocks of four nodes and three stride-2 blocks (5, 6 and 6 nodes: the last two
    // pad channels); XNNPACK keeps the heads.
    {"blazeface", 0, 1, 130, 1},
    // FaceMesh: its 3x3 PReLU stem and trunk, 192x192x3 to 6x6x128, are one chain: the stem,
    // 10 stride-1 blocks of four nodes (PReLU), three stride-2 blocks of six (MaxPool first,
    // channel Pad before the 1x1) and one of five (128 -> 128, no Pad); XNNPACK keeps the
    // three heads.
    {"facemesh", 0, 1, 64, 1},
    {"iris", 1, 0, 0, 1},  // ConcatV2: no concat in this XNNPACK
    {"emotion", 0, 0, 0, 1},
    {"antispoof", 0, 0, 0, 1},
    {"liveness", 0, 0, 0, 1},
};

class XnnpackModelTest : public ::testing::TestWithParam<ModelInfo> {
 protected:
  void SetUp() override {
    const std::string path = testing::ModelsDir() + "/" + GetParam().name + ".json";
    auto loaded = LoadModel(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().message()
                             << " (fetch the models with tools/fetch-models)";
    model_ = std::move(loaded).value();
  }

  // Compares every output of XNNPACK (threads) against the reference backend at `shapes`.
  void CompareWithReference(const std::vector<Shape>& shapes, int threads, uint32_t seed) {
    std::vector<std::vector<float>> inputs;
    for (const Shape& s : shapes)
      inputs.push_back(xnntest::RandomVector(static_cast<size_t>(NumElements(s)), seed));
    std::string err;
    const auto want = xnntest::RunOnce(ReferenceBackend(), model_, shapes, inputs, &err);
    ASSERT_TRUE(err.empty()) << err;
    const auto got = xnntest::RunOnce(XnnpackBackend(threads), model_, shapes, inputs, &err);
    ASSERT_TRUE(err.empty()) << err;
    ASSERT_EQ(got.size(), want.size());
    for (size_t o = 0; o < want.size(); ++o) {
      const xnntest::Diff d = xnntest::Compare(got[o], want[o]);
      std::printf("[ max-error ] %s vs reference, input %s, %d thread(s), output %s: max|err| "
                  "%.3g, max|ref| %.3g\n",
                  GetParam().name.c_str(), ShapeToString(shapes[0]).c_str(), threads,
                  model_.outputs[o].name.c_str(), d.max_abs_err, d.max_abs_ref);
      EXPECT_TRUE(d.Within(xnntest::kRelTol))
          << GetParam().name << " input " << ShapeToString(shapes[0]) << " threads " << threads
          << " output " << model_.outputs[o].name << ": max|err| " << d.max_abs_err
          << " at element " << d.worst_index << ", max|ref| " << d.max_abs_ref << ", tolerance "
          << xnntest::kRelTol << " x max|ref|";
    }
  }

  Model model_;
};

TEST_P(XnnpackModelTest, MatchesReferenceOnRandomInput) {
  CompareWithReference(NativeInputShapes(model_, 1), /*threads=*/1, /*seed=*/20261125);
}

TEST_P(XnnpackModelTest, MatchesReferenceWithTwoThreads) {
  CompareWithReference(NativeInputShapes(model_, 1), /*threads=*/2, /*seed=*/7);
}

TEST_P(XnnpackModelTest, MatchesReferenceAtBatch2) {
  if (model_.inputs[0].shape[0] != -1) GTEST_SKIP() << "declares batch 1 only";
  CompareWithReference(NativeInputShapes(model_, 2), /*threads=*/1, /*seed=*/99);
}

TEST_P(XnnpackModelTest, NodesRunWhereExpected) {
  auto plan = XnnpackBackend().Prepare(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  XnnpackPlanStats stats;
  ASSERT_TRUE(GetXnnpackPlanStats(**plan, &stats));
  std::printf("[ plan ] %s: %d XNNPACK segment(s), %d nodes on XNNPACK, %d in reference ops, "
              "%d in %d residual chain(s)\n",
              GetParam().name.c_str(), stats.segments, stats.xnn_nodes, stats.fallback_nodes,
              stats.native_nodes, stats.native_chains);
  EXPECT_EQ(stats.fallback_nodes, GetParam().fallback_nodes);
  // Without AVX-512 the chains stay in XNNPACK: one segment per model.
  const int chains = cpu::ResidualChain::Supported() ? GetParam().native_chains : 0;
  EXPECT_EQ(stats.native_chains, chains);
  EXPECT_EQ(stats.native_nodes, chains > 0 ? GetParam().native_nodes : 0);
  EXPECT_EQ(stats.segments, chains > 0 ? GetParam().native_segments : 1);
}

// The TF.js references: every case of tests/data/nn/<model>.json (tests/nn/tfjs_check.h, the
// check the CUDA backend's tests share).
TEST_P(XnnpackModelTest, MatchesTfjsReferences) {
  testing::ExpectMatchesTfjs(XnnpackBackend(), model_, GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Models, XnnpackModelTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<ModelInfo>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fg::nn
