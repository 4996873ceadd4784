// facegraph-analyze: the embedding API (engine/graph/analyzer.h) in a small program. It reads
// frames, runs tracking + emotion + vitals in-process (no GStreamer code) and prints what it
// finds once a second and a summary at the end. docs/embedding.md walks through it.
//
// Results arrive through the callback; analyze_opencv.cc shows the other way (the queue),
// with video files and cameras opened by OpenCV.
//
// Usage:
//   facegraph-analyze VIDEO.i420 --size=640x480 [--fps=30]   raw I420 frames back to back
//   facegraph-analyze PHOTO.png|PHOTO.jpg [--frames=N] [--fps=30]   one image, N times
// Options: --models=DIR (default $FACEGRAPH_MODELS or the build's), --no-emotion,
// --no-vitals, --live (drop frames when the analysis falls behind instead of waiting).
// Output (stdout): "t=S face ID box=X,Y,W,H emotion=LABEL bpm=B" lines, then
//   "summary: frames=N analysed=A dropped=D with_face=F ids=K emotion=LABEL bpm=B"
// Exit status: 0 done, 1 an error (named), 2 usage.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/graph/analyzer.h"
#include "engine/io/jpeg.h"
#include "engine/io/png.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: facegraph-analyze VIDEO.i420 --size=WxH [--fps=30]\n"
               "       facegraph-analyze PHOTO.png|PHOTO.jpg [--frames=N] [--fps=30]\n"
               "(video files and cameras: facegraph-analyze-opencv)\n"
               "options: --models=DIR --no-emotion --no-vitals --live\n");
  return 2;
}

bool EndsWith(const std::string& s, const char* tail) {
  const size_t n = std::strlen(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

// What the callback saw, for the once-a-second lines and the summary (the callback runs on
// the analyser's thread; main reads it after Finish).
struct Report {
  int64_t frames = 0, with_face = 0, last_print_s = -1;
  std::set<int64_t> ids;
  std::string emotion = "-";
  float bpm = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string input, models;
  int width = 0, height = 0, frames = 300;
  double fps = 30;
  fg::AnalyzerOptions opts;
  opts.input_policy = fg::Backpressure::kBlock;  // a file: analyse every frame
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--size=", 0) == 0) {
      if (std::sscanf(a.c_str() + 7, "%dx%d", &width, &height) != 2 || width <= 0 || height <= 0)
        return Usage();
    } else if (a.rfind("--fps=", 0) == 0) {
      fps = std::atof(a.c_str() + 6);
      if (!(fps > 0)) return Usage();
    } else if (a.rfind("--frames=", 0) == 0) {
      frames = std::atoi(a.c_str() + 9);
      if (frames <= 0) return Usage();
    } else if (a.rfind("--models=", 0) == 0) {
      opts.models_dir = a.substr(9);
    } else if (a == "--no-emotion") {
      opts.emotion = false;
    } else if (a == "--no-vitals") {
      opts.vitals = false;
    } else if (a == "--live") {
      opts.input_policy = fg::Backpressure::kDropOldest;
    } else if (!a.empty() && a[0] == '-') {
      return Usage();
    } else if (input.empty()) {
      input = a;
    } else {
      return Usage();
    }
  }
  if (input.empty()) return Usage();
  const bool raw = EndsWith(input, ".i420") || EndsWith(input, ".yuv");
  if (!raw && !EndsWith(input, ".png") && !EndsWith(input, ".jpg") && !EndsWith(input, ".jpeg")) {
    std::fprintf(stderr,
                 "facegraph-analyze: %s: reads raw .i420/.yuv and .png/.jpg only (video files "
                 "and cameras: facegraph-analyze-opencv, built when OpenCV is found)\n",
                 input.c_str());
    return 2;
  }

  Report rep;
  std::string error;
  auto analyzer = fg::Analyzer::Create(
      opts,
      [&rep](const fg::FrameFaces& ff, const fg::ImageView&) {
        ++rep.frames;
        if (!ff.faces.empty()) ++rep.with_face;
        const int64_t s = ff.pts_ns / 1'000'000'000;
        const bool print = s != rep.last_print_s;
        if (print) rep.last_print_s = s;
        for (const fg::Face& f : ff.faces) {
          rep.ids.insert(f.id);
          if (f.emotion) rep.emotion = f.emotion->label;
          if (f.vitals) rep.bpm = f.vitals->bpm;
          if (print)
            std::printf("t=%lld face %lld box=%.0f,%.0f,%.0f,%.0f emotion=%s bpm=%.1f\n",
                        static_cast<long long>(s), static_cast<long long>(f.id), f.box.x, f.box.y,
                        f.box.w, f.box.h, f.emotion ? f.emotion->label.c_str() : "-",
                        f.vitals ? f.vitals->bpm : 0.0f);
        }
      },
      &error);
  if (!analyzer) {
    std::fprintf(stderr, "facegraph-analyze: %s\n", error.c_str());
    return 1;
  }
  const int64_t frame_ns = static_cast<int64_t>(1e9 / fps);
  int64_t pushed = 0;

  if (raw) {
    if (width <= 0) {
      std::fprintf(stderr, "facegraph-analyze: %s: raw video needs --size=WxH\n", input.c_str());
      return 2;
    }
    std::ifstream in(input, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "facegraph-analyze: cannot read %s\n", input.c_str());
      return 1;
    }
    const int cw = (width + 1) / 2, ch = (height + 1) / 2;
    std::vector<uint8_t> buf(static_cast<size_t>(width) * height + 2 * static_cast<size_t>(cw) * ch);
    while (in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()))) {
      const uint8_t* y = buf.data();
      const uint8_t* u = y + static_cast<size_t>(width) * height;
      const uint8_t* v = u + static_cast<size_t>(cw) * ch;
      fg::ImageView view;
      if (auto e = fg::ImageView::Wrap(fg::PixelFormat::kI420, width, height, {y, u, v},
                                       {width, cw, cw}, &view)) {
        std::fprintf(stderr, "facegraph-analyze: %s\n", e->c_str());
        return 1;
      }
      analyzer->Push(view, pushed++ * frame_ns);
    }
    if (in.gcount() != 0)
      std::fprintf(stderr, "facegraph-analyze: %s: %lld trailing bytes (not a whole frame) ignored\n",
                   input.c_str(), static_cast<long long>(in.gcount()));
  } else {
    fg::RgbImage img;
    if (auto e = fg::ReadImageRgb(input, &img)) {
      std::fprintf(stderr, "facegraph-analyze: %s\n", e->c_str());
      return 1;
    }
    for (int i = 0; i < frames; ++i) analyzer->Push(img.View(), pushed++ * frame_ns);
  }

  const std::string err = analyzer->Finish();
  if (!err.empty()) {
    std::fprintf(stderr, "facegraph-analyze: %s\n", err.c_str());
    return 1;
  }
  const fg::AnalyzerStats st = analyzer->stats();
  std::printf("summary: frames=%lld analysed=%llu dropped=%llu with_face=%lld ids=%zu emotion=%s "
              "bpm=%.1f latency_median_ms=%.2f latency_p99_ms=%.2f\n",
              static_cast<long long>(pushed), static_cast<unsigned long long>(st.analysed),
              static_cast<unsigned long long>(st.dropped), static_cast<long long>(rep.with_face),
              rep.ids.size(), rep.emotion.c_str(), rep.bpm, st.latency.p50_ms, st.latency.p99_ms);
  if (pushed == 0) {
    std::fprintf(stderr, "facegraph-analyze: %s held no frame\n", input.c_str());
    return 1;
  }
  return 0;
}
