#include "engine/io/png.h"

#include <png.h>

namespace fg {

ImageView RgbImage::View() const {
  ImageView v;
  (void)ImageView::Wrap(PixelFormat::kRGB, width, height, {pixels.data()}, {3 * width}, &v);
  return v;
}

std::optional<std::string> ReadPngRgb(const std::string& path, RgbImage* out) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    return path + ": cannot read PNG: " + image.message;
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> px(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, px.data(), 0, nullptr)) {
    std::string msg = path + ": cannot decode PNG: " + image.message;
    png_image_free(&image);
    return msg;
  }
  out->width = static_cast<int>(image.width);
  out->height = static_cast<int>(image.height);
  out->pixels = std::move(px);
  return std::nullopt;
}

std::optional<std::string> WritePngRgb(const std::string& path, const RgbImage& img) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(img.width);
  image.height = static_cast<png_uint_32>(img.height);
  image.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&image, path.c_str(), 0, img.pixels.data(), 0, nullptr))
    return path + ": cannot write PNG: " + image.message;
  return std::nullopt;
}

}  // namespace fg
