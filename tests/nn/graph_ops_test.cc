// Each TF op name the loader accepts, through the whole path: a one-node model.json built in
// memory -> LoadModelFromMemory -> ReferenceBackend -> outputs checked against values
// computed by hand. Covers the op spellings and attribute forms the six real models do not
// use (plain Conv2D, EXPLICIT padding, dilations, Minimum/Maximum, plain MatMul with
// transposes, standalone Prelu/Relu/Sigmoid/Softmax, Add vs AddV2).
// Tolerance: 1e-6 relative (small exact cases; exp-based ops within float rounding).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn {
namespace {

using Json = nlohmann::ordered_json;

std::string B64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += k[(acc >> bits) & 63];
    }
  }
  if (bits) out += k[(acc << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

Json Ints(std::initializer_list<int> v) {
  Json list = Json::array();
  for (int i : v) list.push_back(std::to_string(i));
  return {{"list", {{"i", list}}}};
}
Json Str(const std::string& s) { return {{"s", B64(s)}}; }
Json Strs(std::initializer_list<std::string> v) {
  Json list = Json::array();
  for (const auto& s : v) list.push_back(B64(s));
  return {{"list", {{"s", list}}}};
}

// One-op graph: Placeholder "x" of `x_shape`, float32 constants, node "op" -> Identity "y".
struct OneOp {
  OneOp(Shape x_shape_in, std::string op_in, std::vector<std::string> inputs_in,
        Json attr_in = Json::object())
      : x_shape(std::move(x_shape_in)),
        op(std::move(op_in)),
        inputs(std::move(inputs_in)),
        attr(std::move(attr_in)) {}

  Shape x_shape;
  std::string op;
  std::vector<std::string> inputs;  // "x" or constant names
  Json attr = Json::object();
  std::vector<std::pair<std::string, std::pair<Shape, std::vector<float>>>> consts;
  std::vector<std::pair<std::string, std::pair<Shape, std::vector<int32_t>>>> int_consts;

  // Loads and runs with input x; returns output y (and its shape).
  ::testing::AssertionResult Run(const std::vector<float>& x, std::vector<float>* y,
                                 Shape* y_shape) const {
    Json dims = Json::array();
    for (int64_t d : x_shape) dims.push_back({{"size", std::to_string(d)}});
    Json nodes = Json::array();
    nodes.push_back(
        {{"name", "x"},
         {"op", "Placeholder"},
         {"attr", {{"dtype", {{"type", "DT_FLOAT"}}}, {"shape", {{"shape", {{"dim", dims}}}}}}}});
    Json weights = Json::array();
    std::string bin;
    for (const auto& [name, c] : consts) {
      nodes.push_back({{"name", name}, {"op", "Const"}});
      weights.push_back({{"name", name}, {"shape", c.first}, {"dtype", "float32"}});
      bin.append(reinterpret_cast<const char*>(c.second.data()), c.second.size() * 4);
    }
    for (const auto& [name, c] : int_consts) {
      nodes.push_back({{"name", name}, {"op", "Const"}});
      weights.push_back({{"name", name}, {"shape", c.first}, {"dtype", "int32"}});
      bin.append(reinterpret_cast<const char*>(c.second.data()), c.second.size() * 4);
    }
    nodes.push_back({{"name", "op"}, {"op", op}, {"input", inputs}, {"attr", attr}});
    nodes.push_back({{"name", "y"}, {"op", "Identity"}, {"input", {"op"}}});
    Json model = {{"format", "graph-model"},
                  {"modelTopology", {{"node", nodes}}},
                  {"weightsManifest", {{{"paths", {"w.bin"}}, {"weights", weights}}}}};
    auto m = LoadModelFromMemory(model.dump(), op + ".json", {{"w.bin", bin}});
    if (!m.ok()) return ::testing::AssertionFailure() << m.status().message();
    ReferenceBackend ref;
    auto plan = ref.Prepare(*m, std::vector<Shape>{x_shape});
    if (!plan.ok()) return ::testing::AssertionFailure() << plan.status().message();
    *y_shape = (*plan)->output_shapes()[0];
    y->assign(NumElements(*y_shape), std::nanf(""));
    ConstBuffer in{x.data(), x.size()};
    MutableBuffer out{y->data(), y->size()};
    auto ctx = (*plan)->NewContext();
    Status s = (*plan)->Run({&in, 1}, {&out, 1}, *ctx);
    if (!s.ok()) return ::testing::AssertionFailure() << s.message();
    return ::testing::AssertionSuccess();
  }
};

void ExpectValues(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6f * std::max(1.0f, std::abs(want[i])))
        << what << " [" << i << "]";
}

Json ConvAttrs(const std::string& padding, std::initializer_list<int> strides,
               std::initializer_list<int> dilations) {
  return {{"data_format", Str("NHWC")},
          {"padding", Str(padding)},
          {"strides", Ints(strides)},
          {"dilations", Ints(dilations)}};
}

TEST(GraphOpsTest, PlainConv2DWithExplicitPadding) {
  // x 1x2x2x1 = 1..4, 2x2 ones filter, explicit pads top 1, bottom 0, left 0, right 1:
  // padded rows: [0 0 0] [1 2 0] [3 4 0] -> 2x2 output of 2x2 block sums.
  OneOp g{{1, 2, 2, 1}, "Conv2D", {"x", "f"}, ConvAttrs("EXPLICIT", {1, 1, 1, 1}, {1, 1, 1, 1})};
  g.attr["explicit_paddings"] = Ints({0, 0, 1, 0, 0, 1, 0, 0});
  g.consts = {{"f", {{2, 2, 1, 1}, {1, 1, 1, 1}}}};
  std::vector<float> y;
  Shape ys;
  ASSERT_TRUE(g.Run({1, 2, 3, 4}, &y, &ys));
  EXPECT_EQ(ys, (Shape{1, 2, 2, 1}));
  ExpectValues(y, {3, 2, 10, 6}, "explicit");
}

TEST(GraphOpsTest, FusedConvDilatedSameRelu) {
  // x 1x1x5x1 = [1..5], kernel 1x3 [1, 0, -1] dilation 2 SAME: eff_k 5, pads 2/2.
  // out[j] = x[j-2] - x[j+2] (zero outside), bias 0.5, relu.
  OneOp g{
      {1, 1, 5, 1}, "_FusedConv2D", {"x", "f", "b"}, ConvAttrs("SAME", {1, 1, 1, 1}, {1, 1, 2, 1})};
  g.attr["fused_ops"] = Strs({"BiasAdd", "Relu"});
  g.attr["num_args"] = {{"i", "1"}};
  g.consts = {{"f", {{1, 3, 1, 1}, {1, 0, -1}}}, {"b", {{1}, {0.5f}}}};
  std::vector<float> y;
  Shape ys;
  ASSERT_TRUE(g.Run({1, 2, 3, 4, 5}, &y, &ys));
  // raw: j0: 0-3=-3; j1: 0-4=-4; j2: 1-5=-4; j3: 2-0=2; j4: 3-0=3; +0.5, relu.
  ExpectValues(y, {0, 0, 0, 2.5f, 3.5f}, "dilated");
}

TEST(GraphOpsTest, FusedDepthwisePrelu) {
  // x 1x1x1x2 = [-2, 3]; 1x1 depthwise, multiplier 1, filter [1, 1]; bias 0; prelu alpha
  // [0.5, 0.5] -> [-1, 3].
  OneOp g{{1, 1, 1, 2},
          "FusedDepthwiseConv2dNative",
          {"x", "f", "b", "a"},
          ConvAttrs("VALID", {1, 1, 1, 1}, {1, 1, 1, 1})};
  g.attr["fused_ops"] = Strs({"BiasAdd", "Prelu"});
  g.attr["num_args"] = {{"i", "2"}};
  g.consts = {{"f", {{1, 1, 2, 1}, {1, 1}}}, {"b", {{2}, {0, 0}}}, {"a", {{2}, {0.5f, 0.5f}}}};
  std::vector<float> y;
  Shape ys;
  ASSERT_TRUE(g.Run({-2, 3}, &y, &ys));
  ExpectValues(y, {-1, 3}, "depthwise prelu");
}

TEST(GraphOpsTest, BinaryOpsBroadcast) {
  const std::vector<float> x = {1, -2, 3, -4, 5, -6};
  struct Case {
    const char* op;
    std::vector<float> want;
  } cases[] = {{"Add", {2, 0, 6, -3, 7, -3}},
               {"AddV2", {2, 0, 6, -3, 7, -3}},
               {"Mul", {1, -4, 9, -4, 10, -18}},
               {"Minimum", {1, -2, 3, -4, 2, -6}},
               {"Maximum", {1, 2, 3, 1, 5, 3}}};
  for (const Case& c : cases) {
    OneOp g{{2, 3}, c.op, {"x", "k"}};
    g.consts = {{"k", {{3}, {1, 2, 3}}}};
    std::vector<float> y;
    Shape ys;
    ASSERT_TRUE(g.Run(x, &y, &ys)) << c.op;
    EXPECT_EQ(ys, (Shape{2, 3})) << c.op;
    ExpectValues(y, c.want, c.op);
  }
}

TEST(GraphOpsTest, UnaryOps) {
  std::vector<float> y;
  Shape ys;
  OneOp relu{{1, 3}, "Relu", {"x"}};
  ASSERT_TRUE(relu.Run({-1, 0, 2}, &y, &ys));
  ExpectValues(y, {0, 0, 2}, "Relu");
  OneOp sig{{1, 3}, "Sigmoid", {"x"}};
  ASSERT_TRUE(sig.Run({0, std::log(3.0f), -std::log(3.0f)}, &y, &ys));
  ExpectValues(y, {0.5f, 0.75f, 0.25f}, "Sigmoid");
  OneOp sm{{1, 2}, "Softmax", {"x"}};
  ASSERT_TRUE(sm.Run({0, std::log(3.0f)}, &y, &ys));
  ExpectValues(y, {0.25f, 0.75f}, "Softmax");
  OneOp prelu{{1, 1, 2, 2}, "Prelu", {"x", "a"}};
  prelu.consts = {{"a", {{1, 1, 2}, {0.1f, 0.5f}}}};  // alpha over the channel axis
  ASSERT_TRUE(prelu.Run({-10, -10, 4, -2}, &y, &ys));
  ExpectValues(y, {-1, -5, 4, -1}, "Prelu");
}

TEST(GraphOpsTest, MatMulTransposes) {
  // x [2,3]; k stored [2,3] = B^T with transpose_b -> x * B, B = [[1,0],[0,1],[1,1]].
  OneOp g{{2, 3}, "MatMul", {"x", "k"}};
  g.attr = {{"transpose_b", {{"b", true}}}};
  g.consts = {{"k", {{2, 3}, {1, 0, 1, 0, 1, 1}}}};
  std::vector<float> y;
  Shape ys;
  ASSERT_TRUE(g.Run({1, 2, 3, 4, 5, 6}, &y, &ys));
  EXPECT_EQ(ys, (Shape{2, 2}));
  ExpectValues(y, {4, 5, 10, 11}, "transpose_b");
  // transpose_a: x [3,2] stored = A^T, A [2,3].
  OneOp ga{{3, 2}, "_FusedMatMul", {"x", "k", "b"}};
  ga.attr = {{"transpose_a", {{"b", true}}},
             {"fused_ops", Strs({"BiasAdd", "Relu"})},
             {"num_args", {{"i", "1"}}}};
  ga.consts = {{"k", {{3, 1}, {1, 1, 1}}}, {"b", {{1}, {-10}}}};
  ASSERT_TRUE(ga.Run({1, 4, 2, 5, 3, 6}, &y, &ys));  // A rows (1,2,3) and (4,5,6)
  EXPECT_EQ(ys, (Shape{2, 1}));
  ExpectValues(y, {0, 5}, "transpose_a + bias + relu");
}

TEST(GraphOpsTest, MaxPoolPadReshapeMeanConcat) {
  std::vector<float> y;
  Shape ys;
  OneOp pool{
      {1, 2, 2, 1},
      "MaxPool",
      {"x"},
      {{"padding", Str("SAME")}, {"ksize", Ints({1, 3, 3, 1})}, {"strides", Ints({1, 2, 2, 1})}}};
  ASSERT_TRUE(pool.Run({1, 7, -3, 2}, &y, &ys));
  EXPECT_EQ(ys, (Shape{1, 1, 1, 1}));
  ExpectValues(y, {7}, "MaxPool");
  OneOp pad{{1, 2}, "Pad", {"x", "p"}};
  pad.int_consts = {{"p", {{2, 2}, {1, 0, 0, 2}}}};
  ASSERT_TRUE(pad.Run({5, 6}, &y, &ys));
  EXPECT_EQ(ys, (Shape{2, 4}));
  ExpectValues(y, {0, 0, 0, 0, 5, 6, 0, 0}, "Pad");
  OneOp reshape{{2, 3}, "Reshape", {"x", "s"}};
  reshape.int_consts = {{"s", {{2}, {-1, 2}}}};
  ASSERT_TRUE(reshape.Run({1, 2, 3, 4, 5, 6}, &y, &ys));
  EXPECT_EQ(ys, (Shape{3, 2}));
  OneOp mean{{2, 3}, "Mean", {"x", "ax"}};
  mean.int_consts = {{"ax", {{}, {0}}}};
  ASSERT_TRUE(mean.Run({1, 2, 3, 5, 6, 7}, &y, &ys));
  EXPECT_EQ(ys, (Shape{3}));
  ExpectValues(y, {3, 4, 5}, "Mean axis 0");
  OneOp cat{{1, 2}, "ConcatV2", {"x", "k", "ax"}};
  cat.consts = {{"k", {{1, 1}, {9}}}};
  cat.int_consts = {{"ax", {{}, {1}}}};
  ASSERT_TRUE(cat.Run({1, 2}, &y, &ys));
  EXPECT_EQ(ys, (Shape{1, 3}));
  ExpectValues(y, {1, 2, 9}, "ConcatV2");
}

}  // namespace
}  // namespace fg::nn
