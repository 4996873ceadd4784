// track_bench: FaceTracker latency per frame at 640x480 with one face, per stage.
//
// The frame is the public-domain astronaut photo placed in a 640x480 frame (face ~145 px
// wide). Two modes, each `--frames` frames after `--warmup` frames:
//   steady      the tracker as deployed: mesh every frame, detector only when needed
//               (detect_interval 30: it still looks for new people once a second, on its
//               worker thread; the frame pays only for sampling the detector's input)
//   detect-all  detector and mesh on every frame (detect_interval 1)
// Printed: median and p99 of the whole Process() call and of each stage (crop, mesh,
// smoothing, pose, detection), in ms, measured with steady_clock on one thread.
// --format picks the frame's pixel format (engine names: rgb, nv12, yuy2, ...; the frame is
// converted once, before timing, with render::WriteRgba): the crop stage samples straight from
// it, so its row compares the formats' sampling cost (docs/inputs-formats.md).
//
// --still-mesh-skip=N sets TrackerOptions::still_mesh_skip (default: the tracker's, 0: the
// mesh on every frame; the photo is still, so with N >= 1 the mesh runs on one frame in N + 1:
// the total's mean is then the figure to compare, its median is a skipped frame's);
// --inference=shared|private sets shared_inference.
//
//   track_bench [--frames=N] [--warmup=N] [--backend=auto|xnnpack|reference] [--iris] [--format=F]
//               [--still-mesh-skip=N] [--inference=shared|private]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/graph/latency.h"
#include "engine/io/png.h"
#include "engine/render/composite.h"
#include "engine/tracking/face_tracker.h"

namespace {

struct Samples {
  std::vector<double> total, crop, mesh, smooth, pose, detect, iris;
  int started = 0, joined = 0;
};

void Row(const char* name, const std::vector<double>& v) {
  if (v.empty()) return;
  std::printf("  %-10s median %7.3f ms   p99 %7.3f ms\n", name, fg::Percentile(v, 0.5), fg::Percentile(v, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 300, warmup = 30;
  std::string backend = "auto";
  bool iris = false;
  int still_skip = -1;  // -1: the tracker's default
  bool shared = true;
  fg::PixelFormat format = fg::PixelFormat::kRGB;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--frames=", 9)) frames = std::atoi(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--warmup=", 9)) warmup = std::atoi(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--backend=", 10)) backend = argv[i] + 10;
    else if (!std::strcmp(argv[i], "--iris")) iris = true;
    else if (!std::strncmp(argv[i], "--still-mesh-skip=", 18)) still_skip = std::atoi(argv[i] + 18);
    else if (!std::strcmp(argv[i], "--inference=private")) shared = false;
    else if (!std::strcmp(argv[i], "--inference=shared")) shared = true;
    else if (!std::strncmp(argv[i], "--format=", 9) && fg::PixelFormatFromName(argv[i] + 9)) format = *fg::PixelFormatFromName(argv[i] + 9);
    else {
      std::fprintf(stderr, "usage: track_bench [--frames=N] [--warmup=N] [--backend=B] [--iris] [--format=rgb|nv12|yuy2|...] [--still-mesh-skip=N] [--inference=shared|private]\n");
      return 2;
    }
  }
  fg::RgbImage photo;
  if (auto err = fg::ReadPngRgb(FG_ASTRONAUT, &photo)) {
    std::fprintf(stderr, "track_bench: %s\n", err->c_str());
    return 1;
  }
  // 640x480 grey frame with the photo's rows 16..495 at x = 64.
  fg::RgbImage frame{640, 480, std::vector<uint8_t>(640 * 480 * 3, 90)};
  for (int y = 0; y < 480; ++y)
    std::memcpy(&frame.pixels[3 * (y * 640 + 64)], &photo.pixels[3 * ((y + 16) * 512)], 512 * 3);
  // The same picture in the chosen format, rows packed.
  fg::render::RgbaImage rgba;
  rgba.Resize(640, 480);
  for (int i = 0; i < 640 * 480; ++i) {
    std::memcpy(&rgba.px[4 * i], &frame.pixels[3 * i], 3);
    rgba.px[4 * i + 3] = 255;
  }
  std::vector<uint8_t> planes[3];
  std::array<uint8_t*, 3> ptrs{};
  std::array<int, 3> strides{};
  for (int p = 0; p < fg::PlaneCount(format); ++p) {
    strides[p] = fg::ImageView::MinStride(format, 640, p);
    planes[p].assign(static_cast<size_t>(strides[p]) * fg::ImageView::PlaneRows(format, 480, p), 0);
    ptrs[p] = planes[p].data();
  }
  fg::draw::MutableImageView dst;
  if (auto err = fg::draw::MutableImageView::Wrap(format, 640, 480, ptrs, strides, &dst)) {
    std::fprintf(stderr, "track_bench: %s\n", err->c_str());
    return 1;
  }
  fg::render::WriteRgba(rgba, dst, 0, 0);
  const fg::ImageView view = dst.view();

  const char* env = std::getenv("FACEGRAPH_MODELS");
  std::printf("track_bench: 640x480 %s, one face (~145 px), backend %s, iris %s, %d frames after %d warm-up\n",
              std::string(fg::PixelFormatName(format)).c_str(), backend.c_str(), iris ? "on" : "off", frames, warmup);
  for (int mode = 0; mode < 2; ++mode) {
    fg::TrackerOptions o;
    o.models_dir = env && *env ? env : FG_MODELS_DEFAULT_DIR;
    o.backend = backend;
    o.iris = iris;
    if (still_skip >= 0) o.still_mesh_skip = still_skip;
    o.shared_inference = shared;
    o.detect_interval = mode == 0 ? 30 : 1;
    o.async_detect = mode == 0;  // detect-all measures the detector inline, every frame
    std::string err;
    auto t = fg::FaceTracker::Create(o, &err);
    if (!t) {
      std::fprintf(stderr, "track_bench: %s\n", err.c_str());
      return 1;
    }
    Samples s;
    int faces = 0, skipped = 0;
    double sum_ms = 0;
    for (int i = 0; i < warmup + frames; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      fg::FrameFaces ff = t->Process(view, static_cast<int64_t>(i) * 33'333'333);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (i < warmup) continue;
      faces += static_cast<int>(ff.faces.size());
      const fg::TrackerTimings& tm = t->timings();
      s.total.push_back(ms);
      sum_ms += ms;
      skipped += tm.meshes_skipped;
      s.crop.push_back(tm.crop_ms);
      s.mesh.push_back(tm.mesh_ms);
      s.smooth.push_back(tm.smooth_ms);
      s.pose.push_back(tm.pose_ms);
      if (iris) s.iris.push_back(tm.iris_ms);
      if (tm.detector_ran) s.detect.push_back(tm.detect_ms);
      s.started += tm.detector_started;
      s.joined += tm.detector_joined;
    }
    std::printf("\n%s (%s): %.2f faces per frame; detector inline on %zu of %d frames, "
                "on the worker %d times (results joined %d times)\n",
                mode == 0 ? "steady" : "detect-all", mode == 0 ? "detect_interval 30" : "detect_interval 1",
                static_cast<double>(faces) / frames, s.detect.size(), frames, s.started, s.joined);
    std::printf("  still-mesh-skip %d, %s inference: mesh skipped on %d of %d frames; total mean %.3f ms\n",
                o.still_mesh_skip, shared ? "shared" : "private", skipped, frames, sum_ms / frames);
    Row("total", s.total);
    Row("crop", s.crop);
    Row("mesh", s.mesh);
    Row("iris", s.iris);
    Row("smoothing", s.smooth);
    Row("pose", s.pose);
    Row("detection", s.detect);
  }
  return 0;
}
