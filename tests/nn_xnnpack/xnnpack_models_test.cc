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
#include <nlohmann/json.hpp>

#include "engine/nn/cpu/residual_chain.h"
#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#include "engine/nn/xnnpack/xnnpack_backend.h"
#include "tests/nn/nn_test_util.h"
#include "tests/nn_xnnpack/test_util.h"

namespace fg::nn {
namespace {

using Json = nlohmann::json;

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

// The TF.js references: every case of tests/data/nn/<model>.json.
TEST_P(XnnpackModelTest, MatchesTfjsReferences) {
  const std::string ref_path = testing::ReferenceDir() + "/" + GetParam().name + ".json";
  std::string text;
  ASSERT_TRUE(testing::ReadFile(ref_path, &text))
      << "missing TF.js reference " << ref_path << " (tools/tfjs/make-references.mjs)";
  const Json ref = Json::parse(text, nullptr, false);
  ASSERT_FALSE(ref.is_discarded()) << ref_path << ": malformed JSON";
  ASSERT_EQ(ref.at("format"), "facegraph-nn-reference/1");
  const Shape shape = ref.at("input").at("shape").get<Shape>();
  auto plan = XnnpackBackend().Prepare(model_, std::vector<Shape>{shape});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE(ctx);
  const auto& out_shapes = (*plan)->output_shapes();
  for (const Json& c : ref.at("cases")) {
    const std::string case_name = c.at("name");
    const Json& in = c.at("input");
    std::vector<float> input;
    const std::string kind = in.at("kind");
    if (kind == "xorshift32") {
      input = testing::XorshiftTensor(in.at("seed").get<uint32_t>(), NumElements(shape));
    } else {
      ASSERT_EQ(kind, "image");
      int w = 0, h = 0;
      std::vector<uint8_t> rgb;
      std::string err;
      ASSERT_TRUE(testing::DecodePngRgb(FG_ASTRONAUT, &w, &h, &rgb, &err)) << err;
      const Json& crop = in.at("crop");
      ASSERT_TRUE(testing::ImageTensor(rgb, w, h, crop.at("x0"), crop.at("y0"), crop.at("size"),
                                       in.at("normalization").at("name"), shape, &input, &err))
          << err;
    }
    double sum = 0;
    for (float v : input) sum += v;
    const double want_sum = in.at("checksum").at("sum");
    ASSERT_LE(std::abs(sum - want_sum), 1e-9 * std::max(1.0, std::abs(want_sum)))
        << "case " << case_name << ": rebuilt input differs from the one TF.js used";

    std::vector<std::vector<float>> outs(out_shapes.size());
    std::vector<MutableBuffer> out_bufs;
    for (size_t i = 0; i < outs.size(); ++i) {
      outs[i].assign(static_cast<size_t>(NumElements(out_shapes[i])), std::nanf(""));
      out_bufs.push_back({outs[i].data(), outs[i].size()});
    }
    const ConstBuffer in_buf{input.data(), input.size()};
    const Status s = (*plan)->Run({&in_buf, 1}, out_bufs, *ctx);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(c.at("outputs").size(), model_.outputs.size());
    for (const Json& o : c.at("outputs")) {
      const std::string name = o.at("name");
      const int idx = model_.FindOutput(name);
      ASSERT_GE(idx, 0) << "model has no output " << name;
      EXPECT_EQ(out_shapes[idx], o.at("shape").get<Shape>()) << name;
      const std::vector<float> want = o.at("values").get<std::vector<float>>();
      const xnntest::Diff d = xnntest::Compare(outs[idx], want);
      std::printf("[ max-error ] %s vs TF.js, case %s, output %s: max|err| %.3g, max|ref| %.3g\n",
                  GetParam().name.c_str(), case_name.c_str(), name.c_str(), d.max_abs_err,
                  d.max_abs_ref);
      EXPECT_TRUE(d.Within(xnntest::kRelTol))
          << GetParam().name << " case " << case_name << " output " << name << ": max|err| "
          << d.max_abs_err << " at element " << d.worst_index << ", max|tfjs| " << d.max_abs_ref
          << ", tolerance " << xnntest::kRelTol << " x max|tfjs|";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, XnnpackModelTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<ModelInfo>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fg::nn
