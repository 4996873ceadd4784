// Test scenes composed from real photos: a textured background and a photo's face pasted at a
// chosen face width (the tracker's own box: the bounding box of its 468 landmarks, what the
// JSON reports) and position, with an area filter. Used by tests/tracking/tracker_hd_test and
// tools/bench/scene_bench (HD/4K scenes, many faces).
//
// Threading: plain functions; a ScenePhoto is read-only after LoadScenePhoto.
// Example:
//   fg::testing::ScenePhoto p;
//   if (auto err = fg::testing::LoadScenePhoto(FG_GRACE_HOPPER, models, &p)) ...;
//   fg::RgbImage f = fg::testing::SceneBackground(1920, 1080, 1);
//   fg::testing::PasteFace(f, p, 48, 960, 540);   // a 48 px face at the centre
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <random>
#include <string>

#include "engine/io/jpeg.h"
#include "engine/io/png.h"
#include "engine/tracking/face_tracker.h"

namespace fg::testing {

struct ScenePhoto {
  RgbImage img;
  Box face;  // the tracker's box on the photo at its own size
};

// Reads a PNG/JPEG photo holding one face and measures its face box with the tracker.
inline std::optional<std::string> LoadScenePhoto(const std::string& path, const std::string& models_dir,
                                                 ScenePhoto* out) {
  if (auto err = ReadImageRgb(path, &out->img)) return err;
  TrackerOptions o;
  o.models_dir = models_dir;
  o.async_detect = false;
  std::string err;
  auto t = FaceTracker::Create(o, &err);
  if (!t) return err;
  const FrameFaces ff = t->Process(out->img.View(), 0);
  if (ff.faces.size() != 1) return path + ": expected one face, the tracker found " + std::to_string(ff.faces.size());
  out->face = ff.faces[0].box;
  return std::nullopt;
}

// A textured background: smooth colour gradients plus noise (a plain grey frame would make
// detection easier than any real room).
inline RgbImage SceneBackground(int w, int h, uint32_t seed) {
  RgbImage f{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 6.0f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float base[3] = {90.0f + 60.0f * x / w, 110.0f + 40.0f * std::sin(y * 0.004f),
                             100.0f + 50.0f * y / h};
      for (int k = 0; k < 3; ++k)
        f.pixels[3 * (static_cast<size_t>(y) * w + x) + k] =
            static_cast<uint8_t>(std::clamp(base[k] + n(rng), 0.0f, 255.0f));
    }
  return f;
}

// Pastes the photo's region around its face (2.4 face widths square) scaled so the face box
// is `face_w` pixels wide, centred at (cx, cy). Area filter: each frame pixel averages the
// photo pixels under it (face_w below the photo's own face width). Returns the face centre.
inline std::array<float, 2> PasteFace(RgbImage& frame, const ScenePhoto& p, float face_w, float cx, float cy) {
  const float s = face_w / p.face.w;  // frame pixels per photo pixel
  const float fcx = p.face.x + 0.5f * p.face.w, fcy = p.face.y + 0.5f * p.face.h;
  const float half = 1.2f * p.face.w;  // photo pixels
  const int x0 = static_cast<int>(std::floor(cx - half * s)), x1 = static_cast<int>(std::ceil(cx + half * s));
  const int y0 = static_cast<int>(std::floor(cy - half * s)), y1 = static_cast<int>(std::ceil(cy + half * s));
  for (int y = std::max(0, y0); y < std::min(frame.height, y1); ++y)
    for (int x = std::max(0, x0); x < std::min(frame.width, x1); ++x) {
      // The photo rectangle under frame pixel (x, y), at least one photo pixel.
      const float px0 = fcx + (x - cx) / s, py0 = fcy + (y - cy) / s;
      const float px1 = std::max(px0 + 1.0f, fcx + (x + 1 - cx) / s), py1 = std::max(py0 + 1.0f, fcy + (y + 1 - cy) / s);
      int sum[3] = {0, 0, 0}, n = 0;
      for (int py = std::max(0, static_cast<int>(py0)); py < std::min(p.img.height, static_cast<int>(std::ceil(py1))); ++py)
        for (int px = std::max(0, static_cast<int>(px0)); px < std::min(p.img.width, static_cast<int>(std::ceil(px1))); ++px, ++n)
          for (int k = 0; k < 3; ++k) sum[k] += p.img.pixels[3 * (static_cast<size_t>(py) * p.img.width + px) + k];
      if (n == 0) continue;
      for (int k = 0; k < 3; ++k)
        frame.pixels[3 * (static_cast<size_t>(y) * frame.width + x) + k] = static_cast<uint8_t>((sum[k] + n / 2) / n);
    }
  return {cx, cy};
}

}  // namespace fg::testing
