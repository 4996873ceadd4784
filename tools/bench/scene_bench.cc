// scene_bench: what the tracker costs per frame on real-sized scenes, steady state.
//
// Scenes are composed from the two public-domain photos (the astronaut and Grace Hopper,
// alternating) on a textured background (tests/tracking/scene_util.h):
//   --size=WxH     frame size (default: a table over 640x480, 1280x720, 1920x1080, 3840x2160)
//   --faces=N      faces in a grid (default: a table over 1, 4, 8, 16), each --face-px wide
//   --face-px=P    face width in pixels (default 96; 48 shows the small-face case)
// For each scene the tracker (defaults: async detection, detect_interval 15, zoom tiles on)
// runs --warmup frames to find everyone, then --frames frames are timed: Process() on the
// caller's thread (median, p99), the faces tracked, and the same with zoom_tiles off, so the
// tiles' share of the cost is the difference. The detector's worker thread is not timed
// (it runs beside the video thread).
//
//   scene_bench [--frames=N] [--warmup=N] [--size=WxH] [--faces=N] [--face-px=P]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/graph/latency.h"
#include "engine/tracking/face_tracker.h"
#include "tests/tracking/scene_util.h"

namespace {

struct Result {
  double median = 0, p99 = 0, faces = 0;
};

Result Run(const fg::RgbImage& frame, bool tiles, int frames, int warmup, const std::string& models) {
  fg::TrackerOptions o;
  o.models_dir = models;
  o.zoom_tiles = tiles;
  std::string err;
  auto t = fg::FaceTracker::Create(o, &err);
  if (!t) {
    std::fprintf(stderr, "scene_bench: %s\n", err.c_str());
    std::exit(1);
  }
  std::vector<double> ms;
  double faces = 0;
  for (int i = 0; i < warmup + frames; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const fg::FrameFaces ff = t->Process(frame.View(), static_cast<int64_t>(i) * 33'333'333);
    const double d = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (std::getenv("SCENE_BENCH_TRACE") && tiles) {
      static std::string last;
      std::string ids;
      for (const fg::Face& f : ff.faces) ids += " " + std::to_string(f.id);
      if (ids != last) std::printf("  frame %d:%s\n", i, ids.c_str());
      last = ids;
    }
    if (i < warmup) continue;
    ms.push_back(d);
    faces += static_cast<double>(ff.faces.size());
    if (std::getenv("SCENE_BENCH_DUMP") && i == warmup + frames - 1)
      for (const fg::Face& f : ff.faces)
        std::printf("  face %lld: %.0f x %.0f at (%.0f, %.0f)\n", static_cast<long long>(f.id), f.box.w, f.box.h, f.box.x, f.box.y);
  }
  return {fg::Percentile(ms, 0.5), fg::Percentile(ms, 0.99), faces / frames};
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 150, warmup = 120, face_px = 96;
  std::vector<std::pair<int, int>> sizes = {{640, 480}, {1280, 720}, {1920, 1080}, {3840, 2160}};
  std::vector<int> counts = {1, 4, 8, 16};
  for (int i = 1; i < argc; ++i) {
    int w, h;
    if (!std::strncmp(argv[i], "--frames=", 9)) frames = std::atoi(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--warmup=", 9)) warmup = std::atoi(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--face-px=", 10)) face_px = std::atoi(argv[i] + 10);
    else if (!std::strncmp(argv[i], "--faces=", 8)) counts = {std::atoi(argv[i] + 8)};
    else if (std::sscanf(argv[i], "--size=%dx%d", &w, &h) == 2) sizes = {{w, h}};
    else {
      std::fprintf(stderr, "usage: scene_bench [--frames=N] [--warmup=N] [--size=WxH] [--faces=N] [--face-px=P]\n");
      return 2;
    }
  }
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  fg::testing::ScenePhoto photos[2];
  for (int k = 0; k < 2; ++k)
    if (auto err = fg::testing::LoadScenePhoto(k == 0 ? FG_ASTRONAUT : FG_GRACE_HOPPER, models, &photos[k])) {
      std::fprintf(stderr, "scene_bench: %s\n", err->c_str());
      return 1;
    }
  std::printf("scene_bench: faces %d px wide, %d frames after %d warm-up; Process() on the caller's thread, ms\n",
              face_px, frames, warmup);
  std::printf("%-10s %5s | %-22s | %-22s | %s\n", "frame", "faces", "tiles on: median / p99", "tiles off: median / p99",
              "tracked (on / off)");
  for (const auto& [w, h] : sizes)
    for (const int n : counts) {
      // A grid of n faces, 2.5 face widths apart (each pasted region is 2.4 wide), centred.
      int cols = 1;
      while (cols * cols < n) ++cols;
      const int rows = (n + cols - 1) / cols;
      const float pitch = 2.5f * face_px;
      if (cols * pitch > w || rows * pitch > h) {
        std::printf("%4dx%-5d %5d | (does not fit)\n", w, h, n);
        continue;
      }
      fg::RgbImage frame = fg::testing::SceneBackground(w, h, 1);
      for (int i = 0; i < n; ++i)
        fg::testing::PasteFace(frame, photos[i % 2], static_cast<float>(face_px),
                               0.5f * w + (i % cols - 0.5f * (cols - 1)) * pitch,
                               0.5f * h + (i / cols - 0.5f * (rows - 1)) * pitch);
      const Result on = Run(frame, true, frames, warmup, models);
      const Result off = Run(frame, false, frames, warmup, models);
      std::printf("%4dx%-5d %5d | %8.3f / %8.3f     | %8.3f / %8.3f     | %.1f / %.1f\n", w, h, n, on.median,
                  on.p99, off.median, off.p99, on.faces, off.faces);
    }
  return 0;
}
