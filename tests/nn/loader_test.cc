// LoadModel on the real models (IR contents) and on broken copies generated at test time:
// every broken model must give an error whose message names the file and, where there is
// one, the node or weight.
#include "engine/nn/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#include "nn_test_util.h"

namespace fg::nn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing::ModelsDir;

std::string B64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k2 = 18; k2 >= 0; k2 -= 6) out += k[(v >> k2) & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += "=";
  }
  return out;
}

// A scratch copy of one real model that a test may break.
class BrokenModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fg_nn_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* f : {"liveness.json", "liveness.bin"})
      fs::copy_file(fs::path(ModelsDir()) / f, dir_ / f);
    std::string text;
    ASSERT_TRUE(testing::ReadFile((dir_ / "liveness.json").string(), &text));
    json_ = Json::parse(text);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string JsonPath() const { return (dir_ / "liveness.json").string(); }
  void Save() { std::ofstream(JsonPath()) << json_.dump(); }
  Json& NodeNamed(const std::string& name) {
    for (Json& n : json_["modelTopology"]["node"])
      if (n["name"] == name) return n;
    ADD_FAILURE() << "no node " << name;
    return json_;
  }
  Json& WeightNamed(const std::string& name) {
    for (Json& w : json_["weightsManifest"][0]["weights"])
      if (w["name"] == name) return w;
    ADD_FAILURE() << "no weight " << name;
    return json_;
  }
  // Loads and expects an error containing every one of `parts`.
  void ExpectError(std::initializer_list<std::string> parts) {
    auto m = LoadModel(JsonPath());
    ASSERT_FALSE(m.ok()) << "loaded a broken model";
    for (const std::string& p : parts)
      EXPECT_NE(m.status().message().find(p), std::string::npos)
          << "message lacks '" << p << "': " << m.status().message();
  }

  fs::path dir_;
  Json json_;
  const std::string conv1_ = "StatefulPartitionedCall/sequential_1/activation_1/Relu";
  const std::string conv1_filter_ =
      "StatefulPartitionedCall/sequential_1/conv2d_1/Conv2D/ReadVariableOp";
};

TEST_F(BrokenModelTest, IntactCopyLoads) {
  auto m = LoadModel(JsonPath());
  ASSERT_TRUE(m.ok()) << m.status().message();
}

TEST_F(BrokenModelTest, TruncatedBin) {
  fs::resize_file(dir_ / "liveness.bin", fs::file_size(dir_ / "liveness.bin") - 7);
  ExpectError({"liveness.json", "liveness.bin", "truncated"});
}

TEST_F(BrokenModelTest, MissingShard) {
  fs::remove(dir_ / "liveness.bin");
  ExpectError({"liveness.json", "liveness.bin", "missing"});
}

TEST_F(BrokenModelTest, MalformedJson) {
  std::string text = json_.dump();
  std::ofstream(JsonPath()) << text.substr(0, text.size() / 2);
  ExpectError({"liveness.json", "malformed JSON"});
}

TEST_F(BrokenModelTest, EveryPrefixOfTheJsonFailsCleanly) {
  std::string text = json_.dump();
  for (size_t len = 0; len < text.size(); len += 97) {
    auto m = LoadModelFromMemory(std::string_view(text).substr(0, len), "prefix.json", {});
    EXPECT_FALSE(m.ok()) << len;
    EXPECT_NE(m.status().message().find("prefix.json"), std::string::npos);
  }
}

TEST_F(BrokenModelTest, UnknownOp) {
  NodeNamed(conv1_)["op"] = "FancyConv";
  Save();
  ExpectError({"liveness.json", conv1_, "unknown op 'FancyConv'"});
}

TEST_F(BrokenModelTest, ShapeMismatchedWeight) {
  // Same byte count (3*3*3*16 == 3*3*4*12), so only the shape check can catch it.
  WeightNamed(conv1_filter_)["shape"] = {3, 3, 4, 12};
  Save();
  ExpectError({"liveness.json", conv1_, "[3,3,4,12]"});
}

TEST_F(BrokenModelTest, BadAttribute) {
  NodeNamed(conv1_)["attr"]["padding"]["s"] = B64("SIDEWAYS");
  Save();
  ExpectError({"liveness.json", conv1_, "padding 'SIDEWAYS'"});
}

TEST_F(BrokenModelTest, MissingAttribute) {
  NodeNamed(conv1_)["attr"].erase("strides");
  Save();
  ExpectError({"liveness.json", conv1_, "strides"});
}

TEST_F(BrokenModelTest, NonNhwcDataFormat) {
  NodeNamed(conv1_)["attr"]["data_format"]["s"] = B64("NCHW");
  Save();
  ExpectError({"liveness.json", conv1_, "NCHW"});
}

TEST_F(BrokenModelTest, UnsupportedFusedOp) {
  NodeNamed(conv1_)["attr"]["fused_ops"]["list"]["s"] = {B64("BiasAdd"), B64("Elu")};
  Save();
  ExpectError({"liveness.json", conv1_, "Elu"});
}

TEST_F(BrokenModelTest, UnsupportedDtype) {
  WeightNamed(conv1_filter_)["dtype"] = "complex64";
  Save();
  ExpectError({"liveness.json", conv1_filter_, "complex64"});
}

TEST_F(BrokenModelTest, UnsupportedQuantization) {
  WeightNamed(conv1_filter_)["quantization"] = {{"dtype", "int4"}};
  Save();
  ExpectError({"liveness.json", conv1_filter_, "int4"});
}

TEST_F(BrokenModelTest, InputFromNowhere) {
  NodeNamed(conv1_)["input"][0] = "no_such_node";
  Save();
  ExpectError({"liveness.json", conv1_, "no_such_node"});
}

TEST_F(BrokenModelTest, ReshapeShapeMustBeConstant) {
  Json& reshape = NodeNamed("StatefulPartitionedCall/sequential_1/flatten_1/Reshape");
  reshape["input"][1] = conv1_;  // a float activation instead of the int32 shape
  Save();
  ExpectError({"liveness.json", "flatten_1/Reshape", "int32 constant"});
}

TEST_F(BrokenModelTest, Cycle) {
  // Feed the first conv from the last node: conv1 -> ... -> Identity -> conv1.
  NodeNamed(conv1_)["input"][0] = "Identity";
  Save();
  ExpectError({"liveness.json", "cycle"});
}

TEST_F(BrokenModelTest, ShardPathEscapingTheFolder) {
  json_["weightsManifest"][0]["paths"][0] = "../liveness.bin";
  Save();
  ExpectError({"liveness.json", "'..'"});
}

TEST_F(BrokenModelTest, WrongInputSizeAtPrepare) {
  auto m = LoadModel(JsonPath());
  ASSERT_TRUE(m.ok()) << m.status().message();
  ReferenceBackend ref;
  auto plan = ref.Prepare(*m, std::vector<Shape>{{1, 31, 32, 3}});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("input 'conv2d_1_input'"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("liveness.json"), std::string::npos);
  auto wrong_rank = ref.Prepare(*m, std::vector<Shape>{{32, 32, 3}});
  EXPECT_FALSE(wrong_rank.ok());
}

TEST(LoaderTest, RealModelsIr) {
  auto bf = LoadModel(ModelsDir() + "/blazeface.json");
  ASSERT_TRUE(bf.ok()) << bf.status().message();
  ASSERT_EQ(bf->inputs.size(), 1u);
  EXPECT_EQ(bf->inputs[0].name, "input");
  EXPECT_EQ(bf->inputs[0].shape, (Shape{1, 256, 256, 3}));
  // Signature in userDefinedMetadata: outputs in its order (the order TF.js reports).
  ASSERT_EQ(bf->outputs.size(), 4u);
  const char* order[] = {"Identity_3", "Identity", "Identity_1", "Identity_2"};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bf->outputs[i].name, order[i]);
  EXPECT_EQ(bf->tensors[bf->outputs[bf->FindOutput("Identity_3")].tensor].shape,
            (Shape{1, 384, 16}));

  auto fm = LoadModel(ModelsDir() + "/facemesh.json");
  ASSERT_TRUE(fm.ok()) << fm.status().message();
  EXPECT_EQ(fm->inputs[0].shape, (Shape{-1, 192, 192, 3}));
  int mesh = fm->FindOutput("output_mesh");
  ASSERT_GE(mesh, 0);
  EXPECT_EQ(fm->outputs[mesh].name, "Identity_2");
  EXPECT_EQ(fm->tensors[fm->outputs[mesh].tensor].shape, (Shape{1, 1404}));
  // float16 weights are dequantized; int32 constants stay int32.
  bool saw_int32 = false;
  for (const Tensor& t : fm->tensors) {
    if (!t.is_constant) continue;
    if (t.dtype == DType::kInt32) {
      saw_int32 = true;
      EXPECT_EQ(static_cast<int64_t>(t.i32.size()), NumElements(t.shape)) << t.name;
    } else {
      EXPECT_EQ(static_cast<int64_t>(t.f32.size()), NumElements(t.shape)) << t.name;
    }
  }
  EXPECT_TRUE(saw_int32);
  // Fused Prelu convs carry their alpha as the 4th input.
  bool saw_fused_prelu = false;
  for (const Node& n : fm->nodes)
    if (n.op == OpType::kConv2D && n.conv.activation == Activation::kPrelu) {
      saw_fused_prelu = true;
      EXPECT_EQ(n.inputs.size(), 4u);
    }
  EXPECT_TRUE(saw_fused_prelu);

  auto em = LoadModel(ModelsDir() + "/emotion.json");
  ASSERT_TRUE(em.ok()) << em.status().message();
  for (const Node& n : em->nodes)
    if (n.op == OpType::kMean) {
      EXPECT_EQ(n.axes, (std::vector<int>{1, 2}));
      EXPECT_FALSE(n.keep_dims);
    }
}

// A tiny model built in memory: x [-1, 4] -> Mul(x, w) -> Add(., b) -> Identity, with w
// float16-quantized and b uint8-quantized, to check dequantization bit-exactly.
TEST(LoaderTest, DequantizesFloat16AndUint8) {
  const char* json = R"({
    "format": "graph-model",
    "modelTopology": {"node": [
      {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
        "shape": {"shape": {"dim": [{"size": "-1"}, {"size": "4"}]}}}},
      {"name": "w", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
      {"name": "b", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
      {"name": "mul", "op": "Mul", "input": ["x", "w"], "attr": {"T": {"type": "DT_FLOAT"}}},
      {"name": "add", "op": "AddV2", "input": ["mul:0", "b", "^x"], "attr": {"T": {"type": "DT_FLOAT"}}},
      {"name": "Identity", "op": "Identity", "input": ["add"]}
    ]},
    "weightsManifest": [{"paths": ["w.bin"], "weights": [
      {"name": "w", "shape": [4], "dtype": "float32", "quantization": {"dtype": "float16"}},
      {"name": "b", "shape": [4], "dtype": "float32",
       "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}}
    ]}]
  })";
  // float16: 1.0 (0x3c00), -2.0 (0xc000), 0.5 (0x3800), smallest subnormal (0x0001).
  std::string bin = {'\x00', '\x3c', '\x00', '\xc0', '\x00', '\x38', '\x01', '\x00'};
  bin += std::string{'\x00', '\x02', '\x04', '\xff'};  // uint8 -> -1, 0, 1, 126.5
  auto m = LoadModelFromMemory(json, "tiny.json", {{"w.bin", bin}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Tensor& w = m->tensors[m->FindTensor("w")];
  const Tensor& b = m->tensors[m->FindTensor("b")];
  EXPECT_EQ(w.f32, (std::vector<float>{1.0f, -2.0f, 0.5f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(b.f32, (std::vector<float>{-1.0f, 0.0f, 1.0f, 126.5f}));
  ReferenceBackend ref;
  auto plan = ref.Prepare(*m, std::vector<Shape>{{2, 4}});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  std::vector<float> x = {1, 1, 1, 1, 2, 2, 2, 2}, y(8);
  ConstBuffer in{x.data(), x.size()};
  MutableBuffer out{y.data(), y.size()};
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE((*plan)->Run({&in, 1}, {&out, 1}, *ctx).ok());
  EXPECT_EQ(y, (std::vector<float>{0, -2, 1.5f, 126.5f + std::ldexp(1.0f, -24), 1, -4, 2,
                                   126.5f + std::ldexp(1.0f, -23)}));
  // Run rejects wrongly sized buffers.
  MutableBuffer short_out{y.data(), 7};
  EXPECT_FALSE((*plan)->Run({&in, 1}, {&short_out, 1}, *ctx).ok());
}

// Negative axes are normalised at load; Mean keep_dims and ConcatV2 run end to end.
TEST(LoaderTest, NegativeAxesMeanKeepDimsConcat) {
  const char* json = R"({
    "modelTopology": {"node": [
      {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
        "shape": {"shape": {"dim": [{"size": "1"}, {"size": "2"}, {"size": "2"}, {"size": "2"}]}}}},
      {"name": "last", "op": "Const"},
      {"name": "mean", "op": "Mean", "input": ["x", "last"], "attr": {"keep_dims": {"b": true}}},
      {"name": "cat", "op": "ConcatV2", "input": ["x", "mean", "last"], "attr": {"N": {"i": "2"}}},
      {"name": "out", "op": "Identity", "input": ["cat"]}
    ]},
    "weightsManifest": [{"paths": ["w.bin"], "weights": [
      {"name": "last", "shape": [], "dtype": "int32"}]}]
  })";
  std::string bin = {'\xff', '\xff', '\xff', '\xff'};  // int32 -1
  auto m = LoadModelFromMemory(json, "axes.json", {{"w.bin", bin}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  for (const Node& n : m->nodes) {
    if (n.op == OpType::kMean) {
      EXPECT_EQ(n.axes, std::vector<int>{3});
    }
    if (n.op == OpType::kConcat) {
      EXPECT_EQ(n.axis, 3);
    }
  }
  ReferenceBackend ref;
  auto plan = ref.Prepare(*m, NativeInputShapes(*m));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ((*plan)->output_shapes()[0], (Shape{1, 2, 2, 3}));
  std::vector<float> x = {1, 3, 2, 6, -1, 1, 10, 20}, y(12);
  ConstBuffer in{x.data(), x.size()};
  MutableBuffer out{y.data(), y.size()};
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE((*plan)->Run({&in, 1}, {&out, 1}, *ctx).ok());
  EXPECT_EQ(y, (std::vector<float>{1, 3, 2, 2, 6, 4, -1, 1, 0, 10, 20, 15}));

  // A context is tied to the plan that made it.
  auto other = ref.Prepare(*m, NativeInputShapes(*m));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->Run({&in, 1}, {&out, 1}, *ctx).ok());
}

// A model whose activations would need more memory than the backend allows is refused at
// Prepare (nothing is allocated).
TEST(LoaderTest, HugeActivationsRefusedAtPrepare) {
  const char* json = R"({
    "modelTopology": {"node": [
      {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
        "shape": {"shape": {"dim": [{"size": "-1"}, {"size": "4"}]}}}},
      {"name": "p", "op": "Const"},
      {"name": "pad", "op": "Pad", "input": ["x", "p"]},
      {"name": "Identity", "op": "Identity", "input": ["pad"]}
    ]},
    "weightsManifest": [{"paths": ["w.bin"], "weights": [
      {"name": "p", "shape": [2, 2], "dtype": "int32"}]}]
  })";
  std::string bin(16, '\0');
  bin[12] = '\0';
  bin[13] = '\0';
  bin[14] = '\1';  // paddings [[0,0],[0,65536]]
  auto m = LoadModelFromMemory(json, "huge.json", {{"w.bin", bin}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  ReferenceBackend ref;
  auto plan = ref.Prepare(*m, std::vector<Shape>{{16384, 4}});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("huge.json"), std::string::npos);
  EXPECT_NE(plan.status().message().find("MiB"), std::string::npos) << plan.status().message();
  auto too_big = ref.Prepare(*m, std::vector<Shape>{{65536, 4}});
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("node 'pad'"), std::string::npos)
      << too_big.status().message();
}

}  // namespace
}  // namespace fg::nn
