// JPEG files in, 8-bit RGB, through libjpeg-turbo; and ReadImageRgb, which reads a PNG or a
// JPEG by its first bytes (not its extension). Used for real photos: the Grace Hopper portrait
// (Debian's python-matplotlib-data), the evaluation sets under tools/eval, avatar-prototypes.
//
// Threading: free functions, reentrant.
//
// Example:
//   fg::RgbImage img;
//   if (auto err = fg::ReadImageRgb(path, &img)) return *err;   // names the file and why
#pragma once

#include <optional>
#include <string>

#include "engine/io/png.h"

namespace fg {

// Baseline or progressive JPEG, gray or colour (CMYK is refused by name), as 8-bit RGB.
// A truncated or corrupt file is an error naming the file and libjpeg's message.
std::optional<std::string> ReadJpegRgb(const std::string& path, RgbImage* out);

// PNG or JPEG, told apart by the file's signature; anything else is an error that names the
// file and says which formats are read.
std::optional<std::string> ReadImageRgb(const std::string& path, RgbImage* out);

}  // namespace fg
