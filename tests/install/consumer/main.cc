// Uses the installed embedding API: one Analyzer, a few frames of the astronaut photo (path
// in argv[1]) read with the engine's own PNG reader, FrameFaces printed. Where the package
// found OpenCV (facegraph::opencv), the same photo also goes in as a BGR cv::Mat through the
// installed adapter (engine/graph/analyzer_opencv.h). Exit 0 when a face was tracked in
// every frame.
#include <cstdio>

#include "engine/graph/analyzer.h"
#include "engine/io/png.h"
#if CONSUMER_HAS_OPENCV
#include <opencv2/core.hpp>

#include "engine/graph/analyzer_opencv.h"
#endif

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  fg::RgbImage img;
  if (auto e = fg::ReadPngRgb(argv[1], &img)) {
    std::fprintf(stderr, "consumer: %s\n", e->c_str());
    return 1;
  }
  fg::AnalyzerOptions o;
  o.input_policy = fg::Backpressure::kBlock;
  o.vitals = false;
  int with_face = 0, frames = 0, pushed = 0;
  std::string err;
  auto a = fg::Analyzer::Create(o, [&](const fg::FrameFaces& ff, const fg::ImageView&) {
    ++frames;
    with_face += ff.faces.empty() ? 0 : 1;
  }, &err);
  if (!a) {
    std::fprintf(stderr, "consumer: %s\n", err.c_str());
    return 1;
  }
  auto push = [&](const fg::ImageView& v) {
    if (!a->Push(v, pushed * 33'333'333LL, &err)) {
      std::fprintf(stderr, "consumer: %s\n", err.c_str());
      return false;
    }
    ++pushed;
    return true;
  };
  for (int i = 0; i < 5; ++i)
    if (!push(img.View())) return 1;
  const char* adapter = "without OpenCV";
#if CONSUMER_HAS_OPENCV
  cv::Mat bgr(img.height, img.width, CV_8UC3);  // what cv::VideoCapture gives
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* p = &img.pixels[3 * (static_cast<size_t>(y) * img.width + x)];
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(p[2], p[1], p[0]);
    }
  for (int i = 0; i < 5; ++i)
    if (!push(fg::ToImageView(bgr, &err))) return 1;
  adapter = "opencv adapter";
#endif
  if (std::string e = a->Finish(); !e.empty()) {
    std::fprintf(stderr, "consumer: %s\n", e.c_str());
    return 1;
  }
  std::printf("consumer: %d frames, %d with a face (%s)\n", frames, with_face, adapter);
  return frames == pushed && with_face == pushed ? 0 : 1;
}
