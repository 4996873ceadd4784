#include "nn_test_util.h"

#include "engine/io/png.h"
#include "tests/test_paths.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>


namespace fg::nn::testing {

using ::fg::testing::EnvOr;

std::string ModelsDir() {
  if (const char* env = std::getenv("FACEGRAPH_MODELS"); env && *env) return env;
  return FG_MODELS_DEFAULT_DIR;
}

std::string ReferenceDir() {
  return EnvOr("FACEGRAPH_TEST_DATA", std::string(FG_SOURCE_DIR) + "/tests/data") + "/nn";
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

std::vector<float> XorshiftTensor(uint32_t seed, int64_t count) {
  std::vector<float> v(static_cast<size_t>(count));
  uint32_t s = seed;
  for (int64_t i = 0; i < count; ++i) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    v[i] = static_cast<float>(((s >> 8) / 16777216.0) * 2.0 - 1.0);
  }
  return v;
}

bool DecodePngRgb(const std::string& path, int* w, int* h, std::vector<uint8_t>* rgb,
                  std::string* error) {
  RgbImage img;
  if (auto err = ReadPngRgb(path, &img)) {
    *error = *err;
    return false;
  }
  *w = img.width;
  *h = img.height;
  *rgb = std::move(img.pixels);
  return true;
}

std::vector<uint8_t> AstronautOnGrey(int w, int h, int dx) {
  static const RgbImage photo = [] {  // C++11 magic static: decoded once, thread-safe
    RgbImage img;
    if (auto err = ReadPngRgb(::fg::testing::AstronautPath(), &img)) throw std::runtime_error(*err);
    return img;
  }();
  std::vector<uint8_t> f(static_cast<size_t>(w) * h * 3, 90);
  for (int y = 0; y < h && y < photo.height; ++y)
    for (int x = 0; x < photo.width; ++x) {
      const int fx = x + 40 + dx;
      if (fx < 0 || fx >= w) continue;
      for (int k = 0; k < 3; ++k)
        f[3 * (static_cast<size_t>(y) * w + fx) + k] = photo.pixels[3 * (static_cast<size_t>(y) * photo.width + x) + k];
    }
  return f;
}

bool ImageTensor(const std::vector<uint8_t>& rgb, int img_w, int img_h, int x0, int y0, int size,
                 const std::string& norm, const Shape& shape, std::vector<float>* out,
                 std::string* error) {
  if (shape.size() != 4 || shape[0] != 1) {
    *error = "image input must be [1,H,W,C], got " + ShapeToString(shape);
    return false;
  }
  const int H = static_cast<int>(shape[1]), W = static_cast<int>(shape[2]);
  const int C = static_cast<int>(shape[3]);
  if (x0 < 0 || y0 < 0 || x0 + size > img_w || y0 + size > img_h) {
    *error = "crop outside the image";
    return false;
  }
  if ((norm == "gray") != (C == 1)) {
    *error = "normalisation " + norm + " does not fit " + std::to_string(C) + " channels";
    return false;
  }
  if (norm != "pm1" && norm != "unit" && norm != "gray") {
    *error = "unknown normalisation " + norm;
    return false;
  }
  out->assign(static_cast<size_t>(H) * W * C, 0.0f);
  const float cR = 0.2989f, cG = 0.5870f, cB = 0.1140f;
  for (int i = 0; i < H; ++i) {
    for (int j = 0; j < W; ++j) {
      int x = x0 + (j * size) / W;
      int y = y0 + (i * size) / H;
      const uint8_t* p = &rgb[(static_cast<size_t>(y) * img_w + x) * 3];
      float* dst = &(*out)[(static_cast<size_t>(i) * W + j) * C];
      if (norm == "pm1") {
        for (int c = 0; c < 3; ++c) {
          volatile float q = static_cast<float>(p[c]) / 127.5f;  // two roundings, as tfjs
          dst[c] = q - 1.0f;
        }
      } else if (norm == "unit") {
        for (int c = 0; c < 3; ++c) dst[c] = static_cast<float>(p[c]) / 255.0f;
      } else {
        float r = p[0] / 255.0f, g = p[1] / 255.0f, b = p[2] / 255.0f;
        volatile float mR = r * cR, mG = g * cG, mB = b * cB;
        float s = static_cast<float>((static_cast<double>(mR) + static_cast<double>(mG)) +
                                     static_cast<double>(mB));
        volatile float t = s - 0.5f;
        dst[0] = t * 2.0f;
      }
    }
  }
  return true;
}

}  // namespace fg::nn::testing
