// Runs a Plan on every case of tests/data/nn/<model>.json (the TF.js outputs,
// tools/tfjs/make-references.mjs) and checks each output within kRelTol x max|ref|
// (tests/nn_xnnpack/test_util.h: 1e-4). Shared by the XNNPACK model test and the CUDA
// emulation and GPU tests, so every backend is held to the same TF.js references.
// The inputs are rebuilt by tests/nn/nn_test_util and checked against the file's checksum.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/nn/backend.h"
#include "tests/nn/nn_test_util.h"
#include "tests/nn_xnnpack/test_util.h"
#include "tests/test_paths.h"

namespace fg::nn::testing {

// Messages name the model and backend.name() ("xnnpack", "cuda-emulated", "cuda").
inline void ExpectMatchesTfjs(const Backend& backend, const Model& model, const std::string& name) {
  using Json = nlohmann::json;
  const std::string ref_path = testing::ReferenceDir() + "/" + name + ".json";
  std::string text;
  ASSERT_TRUE(testing::ReadFile(ref_path, &text)) << "missing TF.js reference " << ref_path;
  const Json ref = Json::parse(text, nullptr, false);
  ASSERT_FALSE(ref.is_discarded()) << ref_path << ": malformed JSON";
  ASSERT_EQ(ref.at("format"), "facegraph-nn-reference/1");
  const Shape shape = ref.at("input").at("shape").get<Shape>();
  auto plan = backend.Prepare(model, std::vector<Shape>{shape});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE(ctx) << backend.name() << ": NewContext failed";
  const auto& out_shapes = (*plan)->output_shapes();
  ASSERT_GT(ref.at("cases").size(), 0u) << ref_path;
  for (const Json& c : ref.at("cases")) {
    const std::string case_name = c.at("name");
    const Json& in = c.at("input");
    std::vector<float> input;
    if (in.at("kind") == "xorshift32") {
      input = testing::XorshiftTensor(in.at("seed").get<uint32_t>(), NumElements(shape));
    } else {
      ASSERT_EQ(in.at("kind"), "image");
      int w = 0, h = 0;
      std::vector<uint8_t> rgb;
      std::string err;
      ASSERT_TRUE(testing::DecodePngRgb(::fg::testing::AstronautPath().c_str(), &w, &h, &rgb, &err)) << err;
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
      outs[i].assign(size_t(NumElements(out_shapes[i])), std::nanf(""));
      out_bufs.push_back({outs[i].data(), outs[i].size()});
    }
    const ConstBuffer in_buf{input.data(), input.size()};
    const Status s = (*plan)->Run({&in_buf, 1}, out_bufs, *ctx);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(c.at("outputs").size(), model.outputs.size());
    for (const Json& o : c.at("outputs")) {
      const std::string out_name = o.at("name");
      const int idx = model.FindOutput(out_name);
      ASSERT_GE(idx, 0) << "model has no output " << out_name;
      EXPECT_EQ(out_shapes[idx], o.at("shape").get<Shape>()) << out_name;
      const std::vector<float> want = o.at("values").get<std::vector<float>>();
      const xnntest::Diff d = xnntest::Compare(outs[idx], want);
      std::printf("[ max-error ] %s on %s vs TF.js, case %s, output %s: max|err| %.3g, "
                  "max|ref| %.3g\n",
                  name.c_str(), std::string(backend.name()).c_str(), case_name.c_str(),
                  out_name.c_str(), d.max_abs_err, d.max_abs_ref);
      EXPECT_TRUE(d.Within(xnntest::kRelTol))
          << name << " on " << backend.name() << ", case " << case_name << ", output "
          << out_name << ": max|err| " << d.max_abs_err << " at element " << d.worst_index
          << ", max|tfjs| " << d.max_abs_ref << ", tolerance " << xnntest::kRelTol
          << " x max|tfjs|";
    }
  }
}

}  // namespace fg::nn::testing
