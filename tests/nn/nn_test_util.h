// Helpers shared by the tests in tests/nn: where the models and the TF.js reference files
// are, and how to rebuild the exact input tensors those references were computed from
// (tools/tfjs/README.md, "Input conventions").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/nn/model.h"

namespace fg::nn::testing {

// $FACEGRAPH_MODELS if set, else the FG_MODELS_DEFAULT_DIR compile definition.
std::string ModelsDir();
// tests/data/nn in the source tree.
std::string ReferenceDir();

// Reads a whole file; false when it cannot.
bool ReadFile(const std::string& path, std::string* out);

// xorshift32 tensor of `count` values (README "random case").
std::vector<float> XorshiftTensor(uint32_t seed, int64_t count);

// 8-bit RGB pixels of a PNG (w*h*3), decoded with libpng; false (and *error) when it cannot.
bool DecodePngRgb(const std::string& path, int* w, int* h, std::vector<uint8_t>* rgb,
                  std::string* error);

// The astronaut photo (512x512; fg::testing::AstronautPath()) pasted at x = 40 + dx, y = 0 into
// a w x h packed-RGB frame of grey 90, clipped at the frame's edges: the moving single face the
// tracker tests feed. The photo is decoded once per process (thread-safe).
std::vector<uint8_t> AstronautOnGrey(int w, int h, int dx);

// Nearest-neighbour crop + resize + normalisation (README "astronaut case").
// norm: "pm1", "unit" or "gray". shape is NHWC [1, H, W, C].
bool ImageTensor(const std::vector<uint8_t>& rgb, int img_w, int img_h, int x0, int y0, int size,
                 const std::string& norm, const Shape& shape, std::vector<float>* out,
                 std::string* error);

}  // namespace fg::nn::testing
