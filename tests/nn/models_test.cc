// The six real models: load, infer shapes, run on the ReferenceBackend and compare with
// the TF.js outputs in tests/data/nn/<model>.json (tools/tfjs/make-references.mjs).
//
// Tolerance: per output, max |ours - tfjs| <= 1e-4 * max |tfjs| (float32 accumulation order
// differs between tfjs' cpu kernels and our loops; observed errors are printed). A missing
// reference file is a failure, not a skip.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#include "nn_test_util.h"

namespace fg::nn {
namespace {

using Json = nlohmann::json;
using testing::ModelsDir;
using testing::ReferenceDir;

constexpr double kRelTolerance = 1e-4;

struct Case {
  std::string name;
  std::vector<float> input;
  std::map<std::string, std::pair<Shape, std::vector<float>>> outputs;  // by output node name
};

// Builds the input the reference was computed from; checks it against the file's checksum.
::testing::AssertionResult BuildInput(const Json& in, const Shape& shape, std::vector<float>* out) {
  const std::string kind = in.at("kind");
  if (kind == "xorshift32") {
    *out = testing::XorshiftTensor(in.at("seed").get<uint32_t>(), NumElements(shape));
    const Json& first = in.at("first_values");
    for (size_t i = 0; i < first.size() && i < out->size(); ++i)
      if ((*out)[i] != first[i].get<double>())
        return ::testing::AssertionFailure() << "xorshift value " << i << " differs";
  } else if (kind == "image") {
    int w = 0, h = 0;
    std::vector<uint8_t> rgb;
    std::string err;
    if (!testing::DecodePngRgb(FG_ASTRONAUT, &w, &h, &rgb, &err))
      return ::testing::AssertionFailure() << err;
    const Json& crop = in.at("crop");
    if (!testing::ImageTensor(rgb, w, h, crop.at("x0"), crop.at("y0"), crop.at("size"),
                              in.at("normalization").at("name"), shape, out, &err))
      return ::testing::AssertionFailure() << err;
  } else {
    return ::testing::AssertionFailure() << "unknown input kind " << kind;
  }
  double sum = 0, sum_sq = 0;
  for (float v : *out) {
    sum += static_cast<double>(v);
    sum_sq += static_cast<double>(v) * static_cast<double>(v);
  }
  double ref_sum = in.at("checksum").at("sum"), ref_sq = in.at("checksum").at("sum_sq");
  auto close = [](double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
  };
  if (!close(sum, ref_sum) || !close(sum_sq, ref_sq))
    return ::testing::AssertionFailure() << "input checksum differs: sum " << sum << " vs "
                                         << ref_sum << ", sum_sq " << sum_sq << " vs " << ref_sq;
  return ::testing::AssertionSuccess();
}

class ModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string& m = GetParam();
    auto loaded = LoadModel(ModelsDir() + "/" + m + ".json");
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    model_ = std::move(loaded).value();
    std::string text;
    const std::string ref_path = ReferenceDir() + "/" + m + ".json";
    ASSERT_TRUE(testing::ReadFile(ref_path, &text))
        << "missing TF.js reference " << ref_path
        << " (make it with tools/tfjs/make-references.mjs)";
    ref_ = Json::parse(text, nullptr, false);
    ASSERT_FALSE(ref_.is_discarded()) << ref_path << ": malformed JSON";
    ASSERT_EQ(ref_.at("format"), "facegraph-nn-reference/1");
    ASSERT_EQ(model_.inputs.size(), 1u);
    ASSERT_EQ(ref_.at("input").at("name").get<std::string>(), model_.inputs[0].name);
    input_shape_ = ref_.at("input").at("shape").get<Shape>();
    // Model::outputs is in the order TF.js reports model.outputs (the reference's order).
    const Json& ref_outputs = ref_.at("cases").at(0).at("outputs");
    ASSERT_EQ(ref_outputs.size(), model_.outputs.size());
    for (size_t i = 0; i < ref_outputs.size(); ++i)
      EXPECT_EQ(model_.outputs[i].name, ref_outputs[i].at("name").get<std::string>()) << i;
    for (const Json& c : ref_.at("cases")) {
      Case kase;
      kase.name = c.at("name");
      ASSERT_TRUE(BuildInput(c.at("input"), input_shape_, &kase.input)) << "case " << kase.name;
      for (const Json& o : c.at("outputs"))
        kase.outputs[o.at("name")] = {o.at("shape").get<Shape>(),
                                      o.at("values").get<std::vector<float>>()};
      cases_.push_back(std::move(kase));
    }
    ASSERT_FALSE(cases_.empty());
  }

  Model model_;
  Json ref_;
  Shape input_shape_;
  std::vector<Case> cases_;
};

// Compares `got` (batch element `b` of a batched output) against a reference output.
double MaxError(const std::vector<float>& got, size_t offset, const std::vector<float>& want,
                double* max_ref) {
  double err = 0;
  *max_ref = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(static_cast<double>(got[offset + i]) - want[i]));
    *max_ref = std::max(*max_ref, std::abs(static_cast<double>(want[i])));
  }
  return err;
}

TEST_P(ModelTest, MatchesTfjsAtBatch1) {
  ReferenceBackend backend;
  auto plan = backend.Prepare(model_, std::vector<Shape>{input_shape_});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  const auto& out_shapes = (*plan)->output_shapes();
  for (const Case& c : cases_) {
    std::vector<std::vector<float>> outs(out_shapes.size());
    std::vector<MutableBuffer> out_bufs;
    for (size_t i = 0; i < outs.size(); ++i) {
      outs[i].assign(NumElements(out_shapes[i]), std::nanf(""));
      out_bufs.push_back({outs[i].data(), outs[i].size()});
    }
    ConstBuffer in{c.input.data(), c.input.size()};
    Status s = (*plan)->Run({&in, 1}, out_bufs, *ctx);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(c.outputs.size(), model_.outputs.size());
    for (const auto& [name, ref] : c.outputs) {
      int o = model_.FindOutput(name);
      ASSERT_GE(o, 0) << "model has no output " << name;
      EXPECT_EQ(out_shapes[o], ref.first) << name;
      ASSERT_EQ(outs[o].size(), ref.second.size()) << name;
      double max_ref;
      double err = MaxError(outs[o], 0, ref.second, &max_ref);
      std::printf("[ max-error ] %s case %s output %s: max|err| %.3g, max|ref| %.3g, rel %.3g\n",
                  GetParam().c_str(), c.name.c_str(), name.c_str(), err, max_ref,
                  max_ref > 0 ? err / max_ref : err);
      EXPECT_LE(err, kRelTolerance * max_ref)
          << GetParam() << " case " << c.name << " output " << name << " shape "
          << ShapeToString(ref.first) << ": max|err| " << err << " > " << kRelTolerance
          << " * max|ref| " << max_ref;
    }
  }
}

// All cases stacked into one batch give the same results (models with a -1 batch).
TEST_P(ModelTest, BatchOfCasesMatchesTfjs) {
  if (model_.inputs[0].shape[0] != -1) {
    // blazeface declares batch 1 exactly: batch 2 must be refused, naming the input.
    ReferenceBackend backend;
    Shape two = input_shape_;
    two[0] = 2;
    auto plan = backend.Prepare(model_, std::vector<Shape>{two});
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.status().message().find(model_.inputs[0].name), std::string::npos)
        << plan.status().message();
    return;
  }
  const int64_t n = static_cast<int64_t>(cases_.size());
  Shape batched = input_shape_;
  batched[0] = n;
  ReferenceBackend backend;
  auto plan = backend.Prepare(model_, std::vector<Shape>{batched});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  std::vector<float> input;
  for (const Case& c : cases_) input.insert(input.end(), c.input.begin(), c.input.end());
  const auto& out_shapes = (*plan)->output_shapes();
  std::vector<std::vector<float>> outs(out_shapes.size());
  std::vector<MutableBuffer> out_bufs;
  for (size_t i = 0; i < outs.size(); ++i) {
    ASSERT_EQ(out_shapes[i][0], n);
    outs[i].assign(NumElements(out_shapes[i]), 0.0f);
    out_bufs.push_back({outs[i].data(), outs[i].size()});
  }
  auto ctx = (*plan)->NewContext();
  ConstBuffer in{input.data(), input.size()};
  Status s = (*plan)->Run({&in, 1}, out_bufs, *ctx);
  ASSERT_TRUE(s.ok()) << s.message();
  for (int64_t b = 0; b < n; ++b) {
    for (const auto& [name, ref] : cases_[b].outputs) {
      int o = model_.FindOutput(name);
      ASSERT_GE(o, 0);
      double max_ref;
      double err = MaxError(outs[o], b * ref.second.size(), ref.second, &max_ref);
      EXPECT_LE(err, kRelTolerance * max_ref)
          << GetParam() << " batch element " << b << " (" << cases_[b].name << ") output " << name;
    }
  }
}

// A wrong-size input is refused at prepare, naming the input.
TEST_P(ModelTest, WrongInputSizeNamesTheInput) {
  ReferenceBackend backend;
  Shape bad = input_shape_;
  bad[1] += 1;
  auto plan = backend.Prepare(model_, std::vector<Shape>{bad});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("'" + model_.inputs[0].name + "'"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find(ShapeToString(bad)), std::string::npos)
      << plan.status().message();
}

INSTANTIATE_TEST_SUITE_P(Models, ModelTest,
                         ::testing::Values("blazeface", "facemesh", "iris", "emotion", "antispoof",
                                           "liveness"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fg::nn
