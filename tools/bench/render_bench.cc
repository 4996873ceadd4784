// render_bench: faceavatar's per-frame cost at 640x480 (fg::render::FaceAvatar::Process,
// what the element calls), one thread.
//
// The frame is the public-domain astronaut photo centred in a 640x480 frame; the face is a
// synthetic 468-point mesh (the canonical face at 11 px/cm, ~165 px wide) laid over hers,
// so the numbers do not depend on the tracker. Cases, each `--frames` frames after
// `--warmup`:
//   render <output> <shading> <format>   the canonical avatar morphed by an instruction
//                                        ("very happy"), head turned 20 degrees, rasterized
//                                        and composited (mirroring off: render cost only)
//   render+mirror                        the same with the mirror solver on (solve + render)
//   warp <format>                        one face re-rendered "very surprised" by the
//                                        piecewise-affine warp (frame copy, pose fit,
//                                        displacement, warp, mouth interior, write-back);
//                                        also with rigid-eyewear (the eyewear layer's search)
// Printed: median and p99 in ms (steady_clock).
//
//   render_bench [--frames=N] [--warmup=N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/graph/latency.h"
#include "engine/io/png.h"
#include "engine/render/face_avatar.h"
#include "engine/tracking/head_pose.h"

namespace {

// A frame of `format` owned here, filled from an RGB picture (BT.601 limited for YUV).
struct OwnedFrame {
  std::array<std::vector<uint8_t>, 3> planes;
  fg::draw::MutableImageView view;
};

OwnedFrame MakeFrame(fg::PixelFormat format, const fg::RgbImage& rgb) {
  OwnedFrame f;
  const int w = rgb.width, h = rgb.height;
  std::array<uint8_t*, 3> ptrs{};
  std::array<int, 3> strides{};
  for (int p = 0; p < fg::PlaneCount(format); ++p) {
    strides[p] = fg::ImageView::MinStride(format, w, p);
    f.planes[p].resize(static_cast<size_t>(strides[p]) * fg::ImageView::PlaneRows(format, h, p));
    ptrs[p] = f.planes[p].data();
  }
  if (auto err = fg::draw::MutableImageView::Wrap(format, w, h, ptrs, strides, &f.view)) {
    std::fprintf(stderr, "render_bench: %s\n", err->c_str());
    std::exit(1);
  }
  fg::render::RgbaImage img;
  img.Resize(w, h);
  for (int i = 0; i < w * h; ++i) {
    std::memcpy(&img.px[4 * i], &rgb.pixels[3 * i], 3);
    img.px[4 * i + 3] = 255;
  }
  fg::render::WriteRgba(img, f.view, 0, 0);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 300, warmup = 30;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--frames=", 9)) frames = std::atoi(argv[i] + 9);
    else if (!std::strncmp(argv[i], "--warmup=", 9)) warmup = std::atoi(argv[i] + 9);
    else {
      std::fprintf(stderr, "usage: render_bench [--frames=N] [--warmup=N]\n");
      return 2;
    }
  }
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string models = env ? env : FG_MODELS_DEFAULT_DIR;
  std::string err;
  auto avatar = fg::render::FaceAvatar::Create(models, &err);
  if (!avatar) {
    std::fprintf(stderr, "render_bench: %s\n", err.c_str());
    return 1;
  }
  fg::RgbImage photo;
  if (auto e = fg::ReadPngRgb(FG_ASTRONAUT, &photo)) {
    std::fprintf(stderr, "render_bench: %s\n", e->c_str());
    return 1;
  }
  // The photo centred in 640x480 (rows 0..479 of its 512: the face stays in).
  fg::RgbImage frame_rgb;
  frame_rgb.width = 640;
  frame_rgb.height = 480;
  frame_rgb.pixels.assign(640 * 480 * 3, 40);
  for (int y = 0; y < 480; ++y)
    std::memcpy(&frame_rgb.pixels[(y * 640 + 64) * 3], &photo.pixels[(y + 16) * 512 * 3], 512 * 3);

  // The synthetic face over hers (photo face ~ (225, 125) -> frame (289, 109)), turned 20
  // degrees so the render path includes the head rotation.
  fg::Face face;
  face.id = 1;
  const Eigen::Matrix3f r = fg::YawPitchRollToRotation(20, 0, 0);
  for (const auto& v : avatar->canonical().vertices) {
    const Eigen::Vector3f p = r * Eigen::Vector3f(v[0], v[1], v[2]);
    face.landmarks.push_back({289 + 11 * p.x(), 109 - 11 * p.y(), -11 * p.z()});
  }

  auto run = [&](const char* name, fg::render::FaceAvatarOptions o, const char* instruction,
                 fg::PixelFormat format) {
    fg::InstructionError perr;
    if (!avatar->SetInstruction(instruction, &perr)) {
      std::fprintf(stderr, "render_bench: %s\n", fg::FormatInstructionError(perr).c_str());
      std::exit(1);
    }
    avatar->SetOptions(o);
    avatar->Reset();
    OwnedFrame f = MakeFrame(format, frame_rgb);
    const OwnedFrame clean = MakeFrame(format, frame_rgb);
    std::vector<double> ms;
    for (int i = 0; i < warmup + frames; ++i) {
      for (int p = 0; p < 3; ++p) f.planes[p] = clean.planes[p];  // same size: no allocation
      fg::FrameFaces faces;
      faces.faces.push_back(face);
      const auto t0 = std::chrono::steady_clock::now();
      avatar->Process(faces, static_cast<int64_t>(i) * 33333333, f.view);
      const auto t1 = std::chrono::steady_clock::now();
      if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::printf("  %-40s median %7.3f ms   p99 %7.3f ms\n", name, fg::Percentile(ms, 0.5),
                fg::Percentile(ms, 0.99));
  };

  using fg::render::OutputMode;
  using fg::render::Shading;
  std::printf("render_bench: 640x480, one face ~165 px, %d frames after %d warm-up\n", frames, warmup);
  fg::render::FaceAvatarOptions o;
  o.mirror = false;
  o.output = OutputMode::kPip;
  run("render pip lit rgb", o, "very happy", fg::PixelFormat::kRGB);
  o.shading = Shading::kFlat;
  run("render pip flat rgb", o, "very happy", fg::PixelFormat::kRGB);
  o.shading = Shading::kLit;
  o.output = OutputMode::kSideBySide;
  run("render side-by-side lit rgb", o, "very happy", fg::PixelFormat::kRGB);
  run("render side-by-side lit nv12", o, "very happy", fg::PixelFormat::kNV12);
  o.output = OutputMode::kReplace;
  run("render replace lit rgb", o, "very happy", fg::PixelFormat::kRGB);
  run("render replace lit nv12", o, "very happy", fg::PixelFormat::kNV12);
  o.output = OutputMode::kPip;
  o.mirror = true;
  run("render+mirror pip lit rgb", o, "", fg::PixelFormat::kRGB);
  o.mirror = false;
  o.output = OutputMode::kWarp;
  run("warp rgb (one face)", o, "very surprised", fg::PixelFormat::kRGB);
  run("warp nv12 (one face)", o, "very surprised", fg::PixelFormat::kNV12);
  run("warp bgra (one face)", o, "very surprised", fg::PixelFormat::kBGRA);
  // rigid-eyewear: the eyewear layer's search (the astronaut wears no glasses, so this is
  // the cost on a face without them: no frame copy).
  o.rigid_eyewear = true;
  run("warp rgb rigid-eyewear (one face)", o, "very surprised", fg::PixelFormat::kRGB);
  run("warp nv12 rigid-eyewear (one face)", o, "very surprised", fg::PixelFormat::kNV12);
  return 0;
}
