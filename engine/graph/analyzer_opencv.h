// The OpenCV adapter of the embedding API (analyzer.h): a cv::Mat as an ImageView, without a
// copy (Analyzer::Push copies it anyway). Header-only, so libfacegraph never depends on
// OpenCV; include it only in a program built with OpenCV (tools/examples does so when
// Debian's libopencv-dev is present at configure time: FG_HAVE_OPENCV).
//
// Threading: a pure function. The view borrows the Mat's pixels: keep the Mat alive and
// unchanged while the view is used.
//
// Example:
//   cv::Mat bgr;  cap.read(bgr);
//   analyzer->Push(fg::ToImageView(bgr), pts_ns);
#pragma once

#include <opencv2/core.hpp>

#include "engine/image.h"

namespace fg {

// 8-bit BGR (CV_8UC3, what cv::VideoCapture gives), BGRA (CV_8UC4) or GRAY (CV_8UC1). Any
// other type gives an empty view (width 0), which Analyzer::Push refuses.
inline ImageView ToImageView(const cv::Mat& m) {
  ImageView v;
  PixelFormat f;
  if (m.type() == CV_8UC3) f = PixelFormat::kBGR;
  else if (m.type() == CV_8UC4) f = PixelFormat::kBGRA;
  else if (m.type() == CV_8UC1) f = PixelFormat::kGRAY8;
  else return v;
  if (ImageView::Wrap(f, m.cols, m.rows, {m.data, nullptr, nullptr},
                      {static_cast<int>(m.step[0]), 0, 0}, &v))
    return ImageView{};
  return v;
}

}  // namespace fg
