// vitals_bench: issue 6's speed target, "STGraph sampling + signal update <= 0.5 ms per face per
// frame on one CPU core at 640x480; the spectrum step runs once a second off the video thread".
//
// Frames: FaceSynth (the astronaut with a 72 bpm pulse, breathing motion, noise) at 640x480 in
// RGB, NV12 and I420; the landmarks and pose are FaceTracker's on each frame (as facevitals
// gets them from facetrack). Timed, on one thread, per frame after the tracker:
//   push     VitalsEstimator::Push: triangle sampling from the frame's own format, patch
//            aggregation, ring-buffer write (what facevitals does on the video thread)
//   update   VitalsEstimator::Update of one track with a full 32 s history: resampling, six
//            regions, band-pass, graph smoothing, Welch, beats/HRV, respiration (the worker's
//            once-a-second step, not on the video thread)
//
//   vitals_bench [--frames=N]      (default 960: 32 s at 30 fps, so the history is full)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/geometry/canonical_face.h"
#include "engine/graph/latency.h"
#include "engine/synth/face_synth.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/vitals_estimator.h"

namespace {

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 960;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--frames=", 9) == 0) frames = std::max(60, std::atoi(argv[i] + 9));
  }
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::string err;
  auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
  if (!canonical) {
    std::fprintf(stderr, "vitals_bench: %s\n", err.c_str());
    return 1;
  }
  std::printf("vitals_bench: 640x480, one face, %d frames (%.0f s at 30 fps), one thread\n", frames,
              frames / 30.0);
  for (fg::PixelFormat fmt : {fg::PixelFormat::kRGB, fg::PixelFormat::kNV12, fg::PixelFormat::kI420}) {
    fg::FaceSynthOptions so;
    so.photo_path = FG_ASTRONAUT;
    so.format = fmt;
    so.heart_rate_bpm = 72;
    auto synth = fg::FaceSynth::Create(so, &err);
    fg::TrackerOptions to;
    to.models_dir = models;
    to.async_detect = false;
    auto tracker = synth ? fg::FaceTracker::Create(to, &err) : nullptr;
    auto est = tracker ? fg::VitalsEstimator::Create(*canonical, fg::VitalsOptions{}, &err) : nullptr;
    if (!est) {
      std::fprintf(stderr, "vitals_bench: %s\n", err.c_str());
      return 1;
    }
    fg::SynthFrame frame;
    std::vector<double> push;
    int64_t id = -1;
    for (int i = 0; i < frames; ++i) {
      const fg::SynthTruth t = synth->Next();
      synth->Render(t, &frame);
      const fg::ImageView v = frame.View();
      const fg::FrameFaces ff = tracker->Process(v, t.pts_ns);
      if (ff.faces.size() != 1 || !ff.faces[0].pose) continue;
      id = ff.faces[0].id;
      const auto t0 = std::chrono::steady_clock::now();
      est->Push(ff.faces[0], t.pts_ns, v);
      push.push_back(Ms(t0));
    }
    std::vector<double> update;
    for (int k = 0; k < 20 && id >= 0; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      est->Update(id);
      update.push_back(Ms(t0));
    }
    if (push.empty() || update.empty()) {
      std::fprintf(stderr, "vitals_bench: the tracker found no face\n");
      return 1;
    }
    const fg::VitalsResult* r = est->Result(id);
    std::printf("  %-5s push   median %6.3f ms   p99 %6.3f ms  (%zu frames)\n",
                std::string(fg::PixelFormatName(fmt)).c_str(), fg::Percentile(push, 0.5),
                fg::Percentile(push, 0.99), push.size());
    std::printf("  %-5s update median %6.3f ms   p99 %6.3f ms  (once a second, worker thread;"
                " estimate %.1f bpm, true 72)\n",
                std::string(fg::PixelFormatName(fmt)).c_str(), fg::Percentile(update, 0.5),
                fg::Percentile(update, 0.99), r ? r->vitals.bpm : 0.0f);
    std::printf("  %-5s video thread per face per frame (push): %.3f ms median, target 0.5;"
                " worker: %.1f%% of one core for the update\n",
                std::string(fg::PixelFormatName(fmt)).c_str(), fg::Percentile(push, 0.5),
                fg::Percentile(update, 0.5) / 10.0);
  }
  return 0;
}
