// avatar_bench: the mirror solver's cost per face per frame (issue 7 target: <= 0.3 ms).
//
// Synthetic faces at 640x480: the canonical face deformed by random sparse blendshape
// weights, under a random head pose (yaw +-25, pitch and roll +-15 degrees, ~17 px per
// canonical cm: a face about 240 px wide) with 0.3 px landmark noise, one track, after the
// 1 s neutral calibration. Measured with steady_clock on one thread, `--frames` frames after
// `--warmup`:
//   update     MirrorSolver::Update: fit, normalise, solve, smooth, fill the name map
//   normalise  the rigid fit and the mapping into canonical cm alone
//   solve      the bounded least squares alone (warm-started from the previous frame's
//              solution; the least of 3 runs, so preemption on a loaded machine is not
//              counted)
//   update+picture  Update given the 640x480 RGB frame as well: the appearance refinement
//              (mirror.h step 1b: frontalise, Lucas-Kanade per expressive vertex, the
//              texture-weighted solve). The frame is a fixed textured pattern (the cost
//              does not depend on a face being there; every vertex runs its iterations).
//   astronaut+picture  the same on the real thing: the astronaut photo (512x512) warped by a
//              script of expressions (engine/synth/expression_track.h), tracked once by
//              FaceTracker (XNNPACK; not timed), then Update with each frame timed.
// Also: the instruction parser and a WeightCurve evaluation, for scale.
//
//   avatar_bench [--frames=N] [--warmup=N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/avatar/curve.h"
#include "engine/avatar/instruction.h"
#include "engine/avatar/mirror.h"
#include "engine/io/png.h"
#include "engine/synth/expression_track.h"
#include "engine/tracking/face_tracker.h"
#include "engine/graph/latency.h"
#include "engine/tracking/head_pose.h"

namespace {

using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
void Row(const char* name, const std::vector<double>& v) {
  std::printf("  %-12s median %7.4f ms   p99 %7.4f ms\n", name, fg::Percentile(v, 0.5),
              fg::Percentile(v, 0.99));
}

std::vector<std::array<float, 3>> Synth(const fg::BlendshapeBasis& basis,
                                        const std::vector<float>& w, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<std::array<float, 3>> mesh(basis.vertex_count());
  basis.Apply(w, mesh);
  const Eigen::Matrix3f r = fg::YawPitchRollToRotation(25 * u(rng), 15 * u(rng), 15 * u(rng));
  const float s = 17 + 2 * u(rng), cx = 320 + 40 * u(rng), cy = 240 + 30 * u(rng);
  std::vector<std::array<float, 3>> out;
  out.reserve(mesh.size());
  for (const auto& m : mesh) {
    const Eigen::Vector3f q = s * (r * Eigen::Vector3f(m[0], m[1], m[2]));
    out.push_back({cx + q.x() + noise(rng), cy - q.y() + noise(rng), 300 - q.z() + noise(rng)});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 2000, warmup = 100;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--frames=", 9))
      frames = std::atoi(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--warmup=", 9))
      warmup = std::atoi(argv[i] + 9);
    else {
      std::fprintf(stderr, "usage: avatar_bench [--frames=N] [--warmup=N]\n");
      return 2;
    }
  }
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string path =
      std::string(env ? env : FG_MODELS_DEFAULT_DIR) + "/" + fg::kCanonicalFaceFile;
  std::string err;
  auto canonical = fg::LoadCanonicalFace(path, &err);
  if (!canonical) {
    std::fprintf(stderr, "avatar_bench: %s\n", err.c_str());
    return 1;
  }
  auto basis = fg::BlendshapeBasis::Create(*canonical, &err);
  if (!basis) {
    std::fprintf(stderr, "avatar_bench: %s\n", err.c_str());
    return 1;
  }
  fg::MirrorOptions plain;
  plain.appearance = false;
  fg::MirrorSolver solver(*canonical, *basis, plain);
  fg::MirrorSolver pictured(*canonical, *basis);
  std::vector<uint8_t> rgb(640 * 480 * 3);
  for (int y = 0; y < 480; ++y)
    for (int x = 0; x < 640; ++x)
      for (int c = 0; c < 3; ++c)
        rgb[(y * 640 + x) * 3 + c] = static_cast<uint8_t>(
            128 + 60 * std::sin(0.11 * x + 0.7 * c) * std::cos(0.07 * y) + (x * 7 + y * 13) % 17);
  fg::ImageView picture;
  fg::ImageView::Wrap(fg::PixelFormat::kRGB, 640, 480, {rgb.data()}, {640 * 3}, &picture);
  const int n = basis->size();
  std::mt19937 rng(1);
  // Pre-generate the inputs so only the solver is timed: 64 distinct frames, cycled.
  std::vector<std::vector<std::array<float, 3>>> inputs;
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::uniform_real_distribution<float> amount(0.2f, 1.0f);
  for (int i = 0; i < 64; ++i) {
    std::vector<float> w(n, 0.0f);
    for (int k = 0; k < 4; ++k) w[pick(rng)] = amount(rng);
    inputs.push_back(Synth(*basis, w, rng));
  }
  fg::Face face;
  face.id = 1;
  int64_t pts = 0;
  const int64_t dt = 33'333'333;
  for (int i = 0; i < 40; ++i, pts += dt) {  // calibration (neutral frames)
    face.landmarks = Synth(*basis, std::vector<float>(n, 0.0f), rng);
    solver.Update(face, pts, 640, 480);
    pictured.Update(face, pts, 640, 480, &picture);
  }
  std::vector<double> update, normalise, solve, update_picture;
  std::vector<std::array<float, 3>> pts_cm(fg::kMeshLandmarks), offsets(fg::kMeshLandmarks);
  std::vector<float> w(n, 0.0f);
  const auto& neutral = basis->neutral();
  for (int i = 0; i < warmup + frames; ++i, pts += dt) {
    face.landmarks = inputs[i % inputs.size()];
    auto t0 = Clock::now();
    const fg::MirrorResult* r = solver.Update(face, pts, 640, 480);
    auto t1 = Clock::now();
    Eigen::Matrix3f rot;
    float scale = 0;
    solver.Normalise(face.landmarks, 640, 480, pts_cm, &rot, &scale);
    auto t2 = Clock::now();
    const auto tp0 = Clock::now();
    const fg::MirrorResult* rp = pictured.Update(face, pts, 640, 480, &picture);
    const double tp = Ms(tp0, Clock::now());
    if (!rp || !rp->calibrated) {
      std::fprintf(stderr, "avatar_bench: the pictured track did not calibrate\n");
      return 1;
    }
    for (int v = 0; v < fg::kMeshLandmarks; ++v)
      for (int c = 0; c < 3; ++c) offsets[v][c] = pts_cm[v][c] - neutral[v][c];
    // The solve alone, the least of 3 runs from the same warm start: on a shared machine a
    // preemption inside a 50 us call shows in the p99 of single runs.
    double best = 1e9;
    const std::vector<float> warm = w;
    for (int rep = 0; rep < 3; ++rep) {
      w = warm;
      auto t3 = Clock::now();
      solver.Solve(offsets, w);
      best = std::min(best, Ms(t3, Clock::now()));
    }
    if (!r || !r->calibrated) {
      std::fprintf(stderr, "avatar_bench: the track did not calibrate\n");
      return 1;
    }
    if (i < warmup) continue;
    update.push_back(Ms(t0, t1));
    normalise.push_back(Ms(t1, t2));
    solve.push_back(best);
    update_picture.push_back(tp);
  }
  // The astronaut: 120 frames of a script, tracked first, then the mirror timed alone.
  std::vector<double> astro;
  {
    fg::RgbImage photo;
    const std::string models = env ? env : FG_MODELS_DEFAULT_DIR;
    if (auto e = fg::ReadPngRgb(FG_ASTRONAUT, &photo)) {
      std::fprintf(stderr, "avatar_bench: %s\n", e->c_str());
      return 1;
    }
    fg::ExpressionTrackOptions eo;
    eo.models_dir = models;
    auto track = fg::ExpressionTrack::Create(photo.View(), eo, &err);
    fg::TrackerOptions to;
    to.models_dir = models;
    to.async_detect = false;
    auto tracker = track ? fg::FaceTracker::Create(to, &err) : nullptr;
    fg::InstructionError ie;
    if (!tracker || !track->SetInstruction(
                        "neutral, hold 1 s, then happy over 0.5 s, then surprised over 0.5 s, "
                        "then angry over 0.5 s, then neutral over 0.5 s",
                        &ie)) {
      std::fprintf(stderr, "avatar_bench: astronaut: %s\n", err.c_str());
      return 1;
    }
    const int W = photo.width, H = photo.height, frames_a = 120;
    std::vector<std::vector<uint8_t>> pics(frames_a);
    std::vector<fg::Face> faces(frames_a);
    std::vector<float> truth(n);
    for (int k = 0; k < frames_a; ++k) {
      pics[k] = photo.pixels;
      fg::draw::MutableImageView dst;
      fg::draw::MutableImageView::Wrap(fg::PixelFormat::kRGB, W, H, {pics[k].data()}, {3 * W}, &dst);
      track->RenderAt(k / 30.0, photo.View(), dst, truth);
      fg::ImageView v;
      fg::ImageView::Wrap(fg::PixelFormat::kRGB, W, H, {pics[k].data()}, {3 * W}, &v);
      fg::FrameFaces ff = tracker->Process(v, k * dt);
      if (ff.faces.size() != 1u) {
        std::fprintf(stderr, "avatar_bench: astronaut: frame %d has %zu faces\n", k, ff.faces.size());
        return 1;
      }
      faces[k] = ff.faces[0];
    }
    for (int rep = 0; rep < 8; ++rep) {
      fg::MirrorSolver m(*canonical, *basis);
      for (int k = 0; k < frames_a; ++k) {
        fg::ImageView v;
        fg::ImageView::Wrap(fg::PixelFormat::kRGB, W, H, {pics[k].data()}, {3 * W}, &v);
        const auto t0 = Clock::now();
        const fg::MirrorResult* r = m.Update(faces[k], k * dt, W, H, &v);
        const double ms = Ms(t0, Clock::now());
        if (r && r->calibrated && m.refined_vertices(faces[k].id) > 0) astro.push_back(ms);
      }
    }
  }
  std::vector<double> parse, curve;
  const char* text = "neutral, then very happy over 1.5 s, hold 1 s, then surprised over 0.5 s";
  fg::WeightCurve c;
  for (int i = 0; i < 200; ++i) {
    auto t0 = Clock::now();
    fg::InstructionResult res = fg::ParseInstruction(text, *basis);
    auto t1 = Clock::now();
    parse.push_back(Ms(t0, t1));
    if (i == 0) c = fg::WeightCurve(res.keyframes);
  }
  std::vector<float> cw(n), cv(n);
  for (int i = 0; i < 2000; ++i) {
    auto t0 = Clock::now();
    c.Evaluate(0.0015 * i, cw, cv);
    curve.push_back(Ms(t0, Clock::now()));
  }
  std::printf(
      "avatar_bench: %d targets, %zu rigid vertices, %d frames after %d warm-up, one "
      "thread\n",
      n, solver.rigid_vertices().size(), frames, warmup);
  Row("update", update);
  Row("normalise", normalise);
  Row("solve (min3)", solve);
  Row("update+picture", update_picture);
  Row("astronaut+picture", astro);
  Row("parse", parse);
  Row("curve", curve);
  std::printf("target: update <= 0.3 ms per face: %s; with the picture: %s\n",
              fg::Percentile(update, 0.5) <= 0.3 ? "met" : "MISSED",
              fg::Percentile(update_picture, 0.5) <= 0.3 ? "met" : "MISSED");
  std::printf("  with the picture on the astronaut: %s\n",
              fg::Percentile(astro, 0.5) <= 0.3 ? "met" : "MISSED");
  return 0;
}
