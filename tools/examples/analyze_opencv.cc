// facegraph-analyze-opencv: the embedding API with OpenCV, the program docs/embedding.md walks
// through. cv::VideoCapture opens a video file or a camera; each frame goes through
// fg::ToImageView (engine/graph/analyzer_opencv.h, no copy) into an fg::Analyzer
// (engine/graph/analyzer.h) that runs tracking + emotion + vitals in-process, no GStreamer
// code; the results come back through the Analyzer's lock-free queue, emptied with TryPop on
// this same thread after every frame (analyze.cc shows the other way, the callback). Once a
// second of video it prints what it sees, and a summary at the end.
//
// Usage:
//   facegraph-analyze-opencv VIDEO              any file (or URL) OpenCV's videoio reads
//                                               (AVI/MJPEG, MP4/H.264, ...): every frame is
//                                               analysed
//   facegraph-analyze-opencv --camera=N         camera N (/dev/videoN): live, so frames are
//                                               dropped (and counted) when the analysis lags
// Options: --models=DIR (default $FACEGRAPH_MODELS or the build's), --seconds=S (stop after
// S seconds of video; a camera otherwise runs until Ctrl-C), --no-emotion, --no-vitals.
// Output (stdout):
//   "t=S faces=N" then for each face "  id=ID emotion=LABEL (CONF) bpm=B (confidence C)"
//   "summary: frames=N analysed=A dropped=D results_dropped=R with_face=F ids=K emotion=LABEL
//    bpm=B bpm_confidence=C backend=NAME"
// Exit status: 0 done, 1 an error (named on stderr), 2 usage.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>

#include "engine/graph/analyzer.h"
#include "engine/graph/analyzer_opencv.h"

namespace {

std::atomic<bool> g_stop{false};  // set by SIGINT/SIGTERM: finish cleanly, print the summary

int Usage() {
  std::fprintf(stderr,
               "usage: facegraph-analyze-opencv VIDEO | --camera=N\n"
               "options: --models=DIR --seconds=S --no-emotion --no-vitals\n");
  return 2;
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "facegraph-analyze-opencv: %s\n", msg.c_str());
  return 1;
}

// The backends this OpenCV has (built in or loadable), for an error that says what was tried.
std::string BackendNames(const std::vector<cv::VideoCaptureAPIs>& apis) {
  std::string s;
  for (cv::VideoCaptureAPIs a : apis)
    if (cv::videoio_registry::hasBackend(a))
      s += (s.empty() ? "" : ", ") + cv::videoio_registry::getBackendName(a);
  return s.empty() ? "none" : s;
}

// What the popped results held: the once-a-second lines and the summary.
struct Report {
  int64_t frames = 0, with_face = 0, last_print_s = -1;
  std::set<int64_t> ids;
  std::string emotion = "-";
  float bpm = 0, bpm_confidence = 0;

  void Add(const fg::FrameFaces& ff) {
    ++frames;
    if (!ff.faces.empty()) ++with_face;
    const int64_t s = ff.pts_ns / 1'000'000'000;
    const bool print = s != last_print_s;
    if (print) {
      last_print_s = s;
      std::printf("t=%lld faces=%zu\n", static_cast<long long>(s), ff.faces.size());
    }
    for (const fg::Face& f : ff.faces) {
      ids.insert(f.id);
      if (f.emotion) emotion = f.emotion->label;
      if (f.vitals) bpm = f.vitals->bpm, bpm_confidence = f.vitals->confidence;
      if (!print) continue;
      std::printf("  id=%lld emotion=%s (%.2f) bpm=%.1f (confidence %.2f)\n",
                  static_cast<long long>(f.id), f.emotion ? f.emotion->label.c_str() : "-",
                  f.emotion ? f.emotion->confidence.value_or(0.f) : 0.f,
                  f.vitals ? f.vitals->bpm : 0.f, f.vitals ? f.vitals->confidence : 0.f);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string input;
  int camera = -1;
  double seconds = 0;
  fg::AnalyzerOptions opts;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--camera=", 0) == 0) {
      char* end = nullptr;
      camera = static_cast<int>(std::strtol(a.c_str() + 9, &end, 10));
      if (end == a.c_str() + 9 || *end || camera < 0) return Usage();
    } else if (a.rfind("--seconds=", 0) == 0) {
      seconds = std::atof(a.c_str() + 10);
      if (!(seconds > 0)) return Usage();
    } else if (a.rfind("--models=", 0) == 0) {
      opts.models_dir = a.substr(9);
    } else if (a == "--no-emotion") {
      opts.emotion = false;
    } else if (a == "--no-vitals") {
      opts.vitals = false;
    } else if (!a.empty() && a[0] == '-') {
      return Usage();
    } else if (input.empty()) {
      input = a;
    } else {
      return Usage();
    }
  }
  if (input.empty() == (camera < 0)) return Usage();  // exactly one of VIDEO, --camera
  // OpenCV's own messages (each backend it tries, and fails with, says so) would bury the one
  // error printed below; OPENCV_LOG_LEVEL=INFO (or WARNING, ERROR) shows them again.
  if (!std::getenv("OPENCV_LOG_LEVEL"))
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);

  // Open the source first: a bad path or camera is reported before the models load.
  cv::VideoCapture cap;
  const bool live = camera >= 0;
  if (live) {
    if (!cap.open(camera))
      return Fail("cannot open camera " + std::to_string(camera) + " (/dev/video" +
                  std::to_string(camera) + "; OpenCV's camera backends: " +
                  BackendNames(cv::videoio_registry::getCameraBackends()) + ")");
  } else {
    // A path must name a file (a URL, rtsp://..., goes to OpenCV as it is).
    std::error_code ec;
    if (input.find("://") == std::string::npos && !std::filesystem::is_regular_file(input, ec))
      return Fail(input + (std::filesystem::exists(input, ec) ? ": not a file" : ": no such file"));
    if (!cap.open(input))
      return Fail(input + ": OpenCV cannot read it as video (tried " +
                  BackendNames(cv::videoio_registry::getStreamBackends()) + ")");
  }
  // A file: analyse every frame (Push waits for the analysis). A camera: never wait, drop the
  // oldest frame when the analysis lags, so the results stay current.
  opts.input_policy = live ? fg::Backpressure::kDropOldest : fg::Backpressure::kBlock;
  const std::string backend = cap.getBackendName();  // FFMPEG, GSTREAMER, V4L2, ...
  double fps = cap.get(cv::CAP_PROP_FPS);
  if (!(fps > 0 && fps < 1000)) fps = 30;  // some containers and cameras do not say
  std::fprintf(stderr, "facegraph-analyze-opencv: %s through OpenCV %s, %dx%d at %.3g fps\n",
               live ? ("camera " + std::to_string(camera)).c_str() : input.c_str(),
               backend.c_str(), static_cast<int>(cap.get(cv::CAP_PROP_FRAME_WIDTH)),
               static_cast<int>(cap.get(cv::CAP_PROP_FRAME_HEIGHT)), fps);

  std::string err;
  std::unique_ptr<fg::Analyzer> analyzer = fg::Analyzer::Create(opts, &err);  // the queue way
  if (!analyzer) return Fail(err);  // names the model file
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });

  Report report;
  cv::Mat bgr;
  int64_t pushed = 0;
  const auto start = std::chrono::steady_clock::now();
  while (!g_stop && cap.read(bgr)) {
    // A file's frames are timed by its frame rate; a camera's by when they arrive.
    const int64_t pts_ns =
        live ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - start).count()
             : static_cast<int64_t>(static_cast<double>(pushed) * 1e9 / fps);
    if (seconds > 0 && pts_ns >= static_cast<int64_t>(seconds * 1e9)) break;
    const fg::ImageView view = fg::ToImageView(bgr, &err);  // borrows bgr's pixels
    if (view.width == 0 || !analyzer->Push(view, pts_ns, &err)) {  // Push copies them
      analyzer->Finish();
      return Fail((live ? "camera " + std::to_string(camera) : input) + ": frame " +
                  std::to_string(pushed) + ": " + err);
    }
    ++pushed;
    while (std::optional<fg::FrameFaces> ff = analyzer->TryPop()) report.Add(*ff);
  }
  if (std::string e = analyzer->Finish(); !e.empty()) return Fail(e);
  while (std::optional<fg::FrameFaces> ff = analyzer->TryPop()) report.Add(*ff);  // the last ones

  const fg::AnalyzerStats st = analyzer->stats();
  std::printf("summary: frames=%lld analysed=%llu dropped=%llu results_dropped=%llu with_face=%lld "
              "ids=%zu emotion=%s bpm=%.1f bpm_confidence=%.2f backend=%s\n",
              static_cast<long long>(pushed), static_cast<unsigned long long>(st.analysed),
              static_cast<unsigned long long>(st.dropped),
              static_cast<unsigned long long>(st.results_dropped),
              static_cast<long long>(report.with_face), report.ids.size(), report.emotion.c_str(),
              report.bpm, report.bpm_confidence, backend.c_str());
  if (pushed == 0)
    return Fail((live ? "camera " + std::to_string(camera) : input) +
                ": no frame could be read (OpenCV " + backend + ")");
  return 0;
}
