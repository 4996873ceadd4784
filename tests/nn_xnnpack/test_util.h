// Helpers for the XNNPACK backend tests: build small Models in memory, run a Plan on given
// inputs, and compare two outputs with the stated tolerance.
//
// Tolerance (both test files): max|xnn - ref| <= 1e-4 * max(max|ref|, 0.01) per output
// tensor, i.e. 1e-4 of the output's largest magnitude, never tighter than 1e-6 absolute. XNNPACK accumulates in float32
// with FMA in a different order than the reference loops; the error of a K-term dot product
// grows like sqrt(K) * 2^-24 * |terms|, far below 1e-4 of the output's range for every K in
// these tests and in the six models.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/nn/backend.h"
#include "engine/nn/model.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn::xnntest {

inline constexpr double kRelTol = 1e-4;

// Builds a Model node by node; shapes are inferred by Finish().
class GraphBuilder {
 public:
  explicit GraphBuilder(uint32_t seed = 1) : rng_(seed) { model_.path = "test-graph"; }

  int Input(const Shape& shape) {
    const int t = NewTensor("input" + std::to_string(model_.inputs.size()));
    model_.tensors[t].shape = shape;
    model_.inputs.push_back({model_.tensors[t].name, model_.tensors[t].name, t, shape});
    return t;
  }
  // A float constant filled with uniform values in [lo, hi).
  int Const(const Shape& shape, float lo = -1.f, float hi = 1.f) {
    const int t = NewTensor("const" + std::to_string(model_.tensors.size()));
    Tensor& c = model_.tensors[t];
    c.shape = shape;
    c.is_constant = true;
    std::uniform_real_distribution<float> u(lo, hi);
    c.f32.resize(static_cast<size_t>(NumElements(shape)));
    for (float& v : c.f32) v = u(rng_);
    return t;
  }
  // Adds `node` (op, attributes, inputs set by the caller); returns its output tensor.
  int Add(Node node) {
    node.name = OpName(node.op);
    node.name += "_" + std::to_string(model_.nodes.size());
    node.tf_op = std::string(OpName(node.op));
    node.output = NewTensor(node.name);
    model_.nodes.push_back(std::move(node));
    return model_.nodes.back().output;
  }
  void Output(int t) {
    model_.outputs.push_back({model_.tensors[t].name, model_.tensors[t].name, t, {}});
  }
  // Infers every shape (filling Tensor::shape and the output IoSpecs). Returns the status.
  Status Finish() {
    std::vector<Shape> in;
    for (const IoSpec& io : model_.inputs) in.push_back(io.shape);
    std::vector<Shape> shapes;
    Status s = InferShapes(model_, in, &shapes);
    if (!s.ok()) return s;
    for (size_t t = 0; t < shapes.size(); ++t) model_.tensors[t].shape = shapes[t];
    for (IoSpec& io : model_.outputs) io.shape = shapes[io.tensor];
    return s;
  }
  Model& model() { return model_; }

 private:
  int NewTensor(std::string name) {
    model_.tensors.emplace_back();
    model_.tensors.back().name = std::move(name);
    return static_cast<int>(model_.tensors.size()) - 1;
  }
  Model model_;
  std::mt19937 rng_;
};

// Prepares `backend` for `inputs`' shapes, runs once, returns the outputs (empty + failure
// message in *error on any error).
inline std::vector<std::vector<float>> RunOnce(const Backend& backend, const Model& model,
                                               const std::vector<Shape>& input_shapes,
                                               const std::vector<std::vector<float>>& inputs,
                                               std::string* error) {
  auto plan = backend.Prepare(model, input_shapes);
  if (!plan.ok()) {
    *error = std::string(backend.name()) + " Prepare: " + plan.status().message();
    return {};
  }
  auto ctx = (*plan)->NewContext();
  if (!ctx) {
    *error = std::string(backend.name()) + " NewContext failed";
    return {};
  }
  std::vector<std::vector<float>> outs;
  std::vector<ConstBuffer> in_bufs;
  std::vector<MutableBuffer> out_bufs;
  for (const auto& v : inputs) in_bufs.push_back({v.data(), v.size()});
  for (const Shape& s : (*plan)->output_shapes())
    outs.emplace_back(static_cast<size_t>(NumElements(s)), std::nanf(""));
  for (auto& v : outs) out_bufs.push_back({v.data(), v.size()});
  Status st = (*plan)->Run(in_bufs, out_bufs, *ctx);
  if (!st.ok()) {
    *error = std::string(backend.name()) + " Run: " + st.message();
    return {};
  }
  return outs;
}

struct Diff {
  double max_abs_err = 0;
  double max_abs_ref = 0;
  size_t worst_index = 0;
  bool has_nan = false;
  bool Within(double rel) const {
    return !has_nan && max_abs_err <= rel * std::max(max_abs_ref, 1e-2);
  }
};

inline Diff Compare(const std::vector<float>& got, const std::vector<float>& ref) {
  Diff d;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    if (std::isnan(got[i]) || std::isnan(ref[i])) d.has_nan = true;
    const double e = std::abs(double(got[i]) - double(ref[i]));
    if (e > d.max_abs_err) {
      d.max_abs_err = e;
      d.worst_index = i;
    }
    d.max_abs_ref = std::max(d.max_abs_ref, std::abs(double(ref[i])));
  }
  if (got.size() != ref.size()) d.has_nan = true;
  return d;
}

// Every output of `got` (from the backend named `got_name`) within kRelTol x max|ref| of the
// reference backend's `want`; failures name `what`, the output and its worst element.
inline void ExpectMatchesReference(const std::vector<std::vector<float>>& got,
                                   const std::vector<std::vector<float>>& want,
                                   const std::string& what, const char* got_name) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t o = 0; o < want.size(); ++o) {
    const Diff d = Compare(got[o], want[o]);
    EXPECT_TRUE(d.Within(kRelTol))
        << what << ", output " << o << " (" << want[o].size() << " elements): max|err| "
        << d.max_abs_err << " at element " << d.worst_index << " (" << got_name << " "
        << (d.worst_index < got[o].size() ? got[o][d.worst_index] : NAN) << ", reference "
        << want[o][d.worst_index] << "), max|ref| " << d.max_abs_ref << ", tolerance " << kRelTol
        << " x max|ref|" << (d.has_nan ? ", NaN or size mismatch" : "");
  }
}

inline std::vector<float> RandomVector(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace fg::nn::xnntest
