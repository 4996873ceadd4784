#include "engine/nn/model.h"

namespace fg::nn {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "float32";
    case DType::kInt32:
      return "int32";
  }
  return "?";
}

std::string_view OpName(OpType op) {
  switch (op) {
    case OpType::kIdentity:
      return "Identity";
    case OpType::kConv2D:
      return "Conv2D";
    case OpType::kDepthwiseConv2D:
      return "DepthwiseConv2D";
    case OpType::kAdd:
      return "Add";
    case OpType::kMul:
      return "Mul";
    case OpType::kMinimum:
      return "Minimum";
    case OpType::kMaximum:
      return "Maximum";
    case OpType::kRelu:
      return "Relu";
    case OpType::kPrelu:
      return "Prelu";
    case OpType::kSigmoid:
      return "Sigmoid";
    case OpType::kSoftmax:
      return "Softmax";
    case OpType::kMaxPool:
      return "MaxPool";
    case OpType::kPad:
      return "Pad";
    case OpType::kReshape:
      return "Reshape";
    case OpType::kMean:
      return "Mean";
    case OpType::kConcat:
      return "Concat";
    case OpType::kMatMul:
      return "MatMul";
  }
  return "?";
}

int Model::FindTensor(std::string_view name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<int>(i);
  return -1;
}

static int FindIo(const std::vector<IoSpec>& v, std::string_view name) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].name == name || v[i].alias == name) return static_cast<int>(i);
  return -1;
}

int Model::FindInput(std::string_view name_or_alias) const { return FindIo(inputs, name_or_alias); }
int Model::FindOutput(std::string_view name_or_alias) const {
  return FindIo(outputs, name_or_alias);
}

}  // namespace fg::nn
