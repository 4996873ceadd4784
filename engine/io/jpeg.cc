#include "engine/io/jpeg.h"

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <jpeglib.h>

namespace fg {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return: jump back to
// ReadJpegRgb with the message kept.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnJpegError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Corrupt-data warnings (a truncated file is one: libjpeg pads it with grey) are errors here:
// a half-grey photo must not pass as a face.
void OnJpegWarning(j_common_ptr cinfo, int level) {
  if (level < 0) OnJpegError(cinfo);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The decode behind setjmp. Everything it changes lives in the caller's frame (px, w, h,
// message), so nothing in a register goes stale across the longjmp. Returns false on error.
bool DecodeJpeg(std::FILE* file, std::vector<uint8_t>* px, int* w, int* h, std::string* message) {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = OnJpegError;
  err.mgr.emit_message = OnJpegWarning;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    *message = err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, file);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    *message = "CMYK JPEG is not supported (convert it to RGB)";
    return false;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  *w = static_cast<int>(cinfo.output_width);
  *h = static_cast<int>(cinfo.output_height);
  px->resize(static_cast<size_t>(*w) * *h * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = px->data() + static_cast<size_t>(cinfo.output_scanline) * *w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

std::optional<std::string> ReadJpegRgb(const std::string& path, RgbImage* out) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return path + ": cannot open: " + std::strerror(errno);
  std::vector<uint8_t> px;
  int w = 0, h = 0;
  std::string message;
  if (!DecodeJpeg(file.get(), &px, &w, &h, &message)) return path + ": cannot decode JPEG: " + message;
  out->width = w;
  out->height = h;
  out->pixels = std::move(px);
  return std::nullopt;
}

std::optional<std::string> ReadImageRgb(const std::string& path, RgbImage* out) {
  unsigned char sig[8] = {};
  {
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) return path + ": cannot open: " + std::strerror(errno);
    if (std::fread(sig, 1, sizeof sig, file.get()) < 3)
      return path + ": too short to be an image (PNG or JPEG expected)";
  }
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (std::memcmp(sig, kPng, 8) == 0) return ReadPngRgb(path, out);
  if (sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff) return ReadJpegRgb(path, out);
  return path + ": not a PNG or JPEG file (by its first bytes); those are the formats read";
}

}  // namespace fg
