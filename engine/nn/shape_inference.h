// Shape inference for a Model at concrete input shapes, plus the padding arithmetic that
// every backend must share so that all of them agree with TF exactly.
//
// LoadModel runs InferShapes once with batch 1 to validate the model; each backend runs it
// again in Prepare for the shapes it is asked to run at (batch N, or another input size
// where the model allows it). Errors name the model file, the node and both shapes.
//
// Threading: free functions, reentrant. They allocate; call them at prepare time only.
//
// Example:
//   std::vector<fg::nn::Shape> shapes;
//   fg::nn::Status s = fg::nn::InferShapes(model, {{4, 192, 192, 3}}, &shapes);
//   // shapes[t] is the shape of model.tensors[t] for a batch of 4.
#pragma once

#include <span>
#include <vector>

#include "engine/nn/model.h"
#include "engine/nn/status.h"

namespace fg::nn {

// Output size and padding of one spatial axis of a convolution or pooling window.
struct Window1D {
  int out = 0;         // output size
  int pad_before = 0;  // top / left
  int pad_after = 0;   // bottom / right
};

// TF rules: VALID out = ceil((in - eff_k + 1) / stride); SAME out = ceil(in / stride),
// total = max((out - 1) * stride + eff_k - in, 0), before = total / 2 (floor), after = rest;
// EXPLICIT uses the given pads. eff_k = (k - 1) * dilation + 1. Returns false (and leaves
// *w unspecified) when the window does not fit (out would be < 1) or a value is invalid
// (non-positive, or in / eff_k / stride / a pad above 2^24).
bool ComputeWindow(Padding padding, int in, int kernel, int stride, int dilation,
                   int explicit_before, int explicit_after, Window1D* w);

// Fills (*shapes)[t] for every tensor of `model` given one shape per model.inputs entry
// (same order). Constants keep their shapes. Errors: wrong input count, an input whose
// shape does not match its declared shape (naming the input, -1 matches anything), and any
// node whose input shapes are inconsistent (naming the node).
Status InferShapes(const Model& model, std::span<const Shape> input_shapes,
                   std::vector<Shape>* shapes);

// The input shapes a model runs at natively: each declared input shape with -1 replaced by
// `batch`.
std::vector<Shape> NativeInputShapes(const Model& model, int64_t batch = 1);

}  // namespace fg::nn
