// The OpenCV adapter of the embedding API (analyzer.h): a cv::Mat as an ImageView, without a
// copy (Analyzer::Push copies it anyway). Header-only, so libfacegraph never depends on
// OpenCV; include it only in a program built with OpenCV: in the tree, tools/examples and
// the tests do so when Debian's OpenCV development packages are present at configure time
// (FG_HAVE_OPENCV, cmake/facegraphOpenCV.cmake); an installed facegraph offers the target
// facegraph::opencv (find_package(facegraph COMPONENTS opencv), docs/embedding.md).
//
// Threading: a pure function. The view borrows the Mat's pixels: keep the Mat alive and
// unchanged while the view is used.
//
// Example (tools/examples/analyze_opencv.cc):
//   cv::Mat bgr;  cap.read(bgr);
//   std::string err;
//   if (!analyzer->Push(fg::ToImageView(bgr, &err), pts_ns, &err)) return fail(err);
#pragma once

#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "engine/image.h"

namespace fg {

// 8-bit BGR (CV_8UC3, what cv::VideoCapture gives), BGRA (CV_8UC4) or GRAY (CV_8UC1), 2-D,
// with any row stride (a ROI of a larger Mat is fine: its step is the parent's row). Any
// other Mat (another depth or channel count, more dimensions, empty) gives an empty view
// (width 0), which Analyzer::Push refuses, and *error (when given) names the Mat's type.
inline ImageView ToImageView(const cv::Mat& m, std::string* error = nullptr) {
  auto refuse = [&](const std::string& why) {
    if (error) *error = "ToImageView: " + why;
    return ImageView{};
  };
  if (m.empty()) return refuse("empty cv::Mat");
  if (m.dims != 2) return refuse("cv::Mat with " + std::to_string(m.dims) + " dimensions (want 2)");
  PixelFormat f;
  switch (m.type()) {
    case CV_8UC3: f = PixelFormat::kBGR; break;
    case CV_8UC4: f = PixelFormat::kBGRA; break;
    case CV_8UC1: f = PixelFormat::kGRAY8; break;
    default:
      return refuse("cv::Mat type " + cv::typeToString(m.type()) +
                    " is not supported (8-bit BGR CV_8UC3, BGRA CV_8UC4 or GRAY CV_8UC1)");
  }
  if (m.step[0] > static_cast<size_t>(INT32_MAX)) return refuse("cv::Mat row stride over 2 GiB");
  ImageView v;
  if (auto e = ImageView::Wrap(f, m.cols, m.rows, {m.data, nullptr, nullptr},
                               {static_cast<int>(m.step[0]), 0, 0}, &v))
    return refuse(*e);
  return v;
}

}  // namespace fg
