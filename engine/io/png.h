// PNG files in and out, 8-bit RGB, through libpng's simplified API. Used for the sample photo
// (tests, benchmarks, the synthetic sources) and for golden images.
//
// Threading: free functions, reentrant.
//
// Example:
//   fg::RgbImage img;
//   if (auto err = fg::ReadPngRgb(path, &img)) return *err;   // names the file
//   fg::ImageView v = img.View();
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/image.h"

namespace fg {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3, row-major, no padding
  ImageView View() const;
};

// Any PNG (palette, gray, 16-bit, alpha) converted to 8-bit RGB. Error names the file.
std::optional<std::string> ReadPngRgb(const std::string& path, RgbImage* out);
std::optional<std::string> WritePngRgb(const std::string& path, const RgbImage& img);

}  // namespace fg
