// Inputs shared by the CUDA STGraph sampler's tests (emulation_test.cc, gpu_test.cc): one
// 640x480 frame (the astronaut photo at x 64, rows 0..479) in all seven pixel formats, and
// the faces of that frame, each chosen to exercise one part of the sampler:
//   tracked     FaceTracker's mesh on the photo (real models)
//   half_out    the same mesh moved so that it crosses the frame's right and bottom edges
//   tiny        the mesh shrunk 12x about its centre: most triangles own no pixel centre and
//               take the pixel under their centroid
//   half_grid   the mesh on a 0.5 px grid: many pixel centres lie exactly on shared edges
//               (the tie rule decides)
//   yaw70       the canonical face turned 70 degrees: back-facing triangles (visibility 0)
//   too_few     100 landmarks: all zeros
// and the CPU reference, FaceSTGraph::SampleTriangles, per format and face.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/png.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/stgraph.h"
#include "tests/test_paths.h"
#include "tests/vitals/vitals_test_util.h"

namespace fg::cuda_vitals_testing {

using Landmarks = std::vector<std::array<float, 3>>;

struct StgraphCases {
  std::unique_ptr<FaceSTGraph> graph;
  vitals_testing::AllFormats frames;  // views[f] for PixelFormat f
  std::vector<std::string> names;
  std::vector<Landmarks> faces;
  std::vector<std::vector<TriangleSamples>> cpu;  // [format][face]
};

inline constexpr int kW = 640, kH = 480, kOffX = 64;

// Built once per test binary (the tracker runs once). Failures are reported as test failures;
// `faces` is then empty.
inline const StgraphCases& Cases() {
  static const StgraphCases cases = [] {
    StgraphCases c;
    std::string err;
    c.graph = FaceSTGraph::Create(vitals_testing::Canonical(), &err);
    EXPECT_TRUE(c.graph) << err;
    RgbImage img;
    const auto png_err = ReadPngRgb(::fg::testing::AstronautPath(), &img);
    EXPECT_FALSE(png_err) << *png_err;
    if (!c.graph || png_err) return c;
    std::vector<uint8_t> rgb(kW * kH * 3, 90);
    for (int y = 0; y < kH && y < img.height; ++y)
      for (int x = 0; x < img.width && x + kOffX < kW; ++x)
        std::copy_n(&img.pixels[3 * (y * img.width + x)], 3, &rgb[3 * (y * kW + x + kOffX)]);
    vitals_testing::MakeAllFormats(rgb, kW, kH, &c.frames);

    TrackerOptions to;
    to.models_dir = vitals_testing::ModelsDir();
    to.async_detect = false;
    auto tracker = FaceTracker::Create(to, &err);
    EXPECT_TRUE(tracker) << err;
    if (!tracker) return c;
    const FrameFaces ff = tracker->Process(c.frames.views[static_cast<int>(PixelFormat::kRGB)], 0);
    EXPECT_EQ(ff.faces.size(), 1u) << "FaceTracker should find the astronaut";
    if (ff.faces.size() != 1 || ff.faces[0].landmarks.size() < static_cast<size_t>(kMeshLandmarks))
      return c;
    const Landmarks& tracked = ff.faces[0].landmarks;
    float mx = 0, my = 0;
    for (int i = 0; i < kMeshLandmarks; ++i) mx += tracked[i][0] / kMeshLandmarks, my += tracked[i][1] / kMeshLandmarks;
    auto add = [&](const char* name, Landmarks lm) {
      c.names.push_back(name);
      c.faces.push_back(std::move(lm));
    };
    add("tracked", tracked);
    Landmarks m = tracked;
    for (auto& p : m) p[0] += kW - mx + 20, p[1] += kH - my - 10;
    add("half_out", m);
    m = tracked;
    for (auto& p : m) p[0] = mx + (p[0] - mx) / 12, p[1] = my + (p[1] - my) / 12, p[2] /= 12;
    add("tiny", m);
    m = tracked;
    for (auto& p : m) p[0] = std::round(2 * p[0]) / 2, p[1] = std::round(2 * p[1]) / 2;
    add("half_grid", m);
    add("yaw70", vitals_testing::Project(70, 0, 0, 14, 320, 240));
    add("too_few", Landmarks(tracked.begin(), tracked.begin() + 100));

    c.cpu.assign(kPixelFormatCount, std::vector<TriangleSamples>(c.faces.size()));
    for (int f = 0; f < kPixelFormatCount; ++f)
      for (size_t i = 0; i < c.faces.size(); ++i) c.graph->SampleTriangles(c.frames.views[f], c.faces[i], &c.cpu[f][i]);
    return c;
  }();
  return cases;
}

// The cases must exercise what their names say (else a comparison could pass vacuously).
inline void ExpectCasesCoverTheirPurpose(const StgraphCases& c) {
  ASSERT_EQ(c.faces.size(), 6u);
  const auto& rgb = c.cpu[static_cast<int>(PixelFormat::kRGB)];
  auto count = [&](int face, auto pred) {
    int n = 0;
    for (int t = 0; t < c.graph->num_triangles(); ++t) n += pred(rgb[face], t) ? 1 : 0;
    return n;
  };
  int tracked_px = 0;
  for (int p : rgb[0].pixels) tracked_px += p;
  EXPECT_GT(tracked_px, 5000) << "the tracked face should cover thousands of pixels";
  EXPECT_GT(count(1, [](const TriangleSamples& s, int t) { return s.pixels[t] == 0; }), 50)
      << "half_out: triangles outside the frame own no pixel";
  EXPECT_GT(count(1, [](const TriangleSamples& s, int t) { return s.pixels[t] > 0; }), 50);
  EXPECT_GT(count(2, [](const TriangleSamples& s, int t) { return s.pixels[t] == 1; }), 300)
      << "tiny: sub-pixel triangles take the pixel under the centroid";
  EXPECT_GT(count(4, [](const TriangleSamples& s, int t) { return s.visibility[t] == 0; }), 100)
      << "yaw70: back-facing triangles";
  EXPECT_GT(count(4, [](const TriangleSamples& s, int t) { return s.visibility[t] > 0; }), 100);
  EXPECT_EQ(count(5, [](const TriangleSamples& s, int t) { return s.pixels[t] != 0; }), 0);
}

// Per triangle: pixel counts and visibility identical, mean RGB within 1e-3 (the sums are
// integers, so the means agree to the last bit when the arithmetic is the CPU's; 1e-3 leaves
// room for nothing but float rounding of the final division).
inline void ExpectSameSamples(const TriangleSamples& want, const TriangleSamples& got, const std::string& what) {
  ASSERT_EQ(got.pixels.size(), want.pixels.size()) << what;
  ASSERT_EQ(got.rgb.size(), want.rgb.size()) << what;
  ASSERT_EQ(got.visibility.size(), want.visibility.size()) << what;
  int bad = 0;
  for (size_t t = 0; t < want.pixels.size() && bad < 10; ++t) {
    const bool ok = got.pixels[t] == want.pixels[t] && got.visibility[t] == want.visibility[t] &&
                    std::abs(got.rgb[t][0] - want.rgb[t][0]) <= 1e-3f &&
                    std::abs(got.rgb[t][1] - want.rgb[t][1]) <= 1e-3f &&
                    std::abs(got.rgb[t][2] - want.rgb[t][2]) <= 1e-3f;
    if (ok) continue;
    ++bad;
    ADD_FAILURE() << what << " triangle " << t << ": pixels " << got.pixels[t] << " (CPU " << want.pixels[t]
                  << "), rgb " << got.rgb[t][0] << "," << got.rgb[t][1] << "," << got.rgb[t][2] << " (CPU "
                  << want.rgb[t][0] << "," << want.rgb[t][1] << "," << want.rgb[t][2] << "), visibility "
                  << got.visibility[t] << " (CPU " << want.visibility[t] << ")";
  }
}

}  // namespace fg::cuda_vitals_testing
