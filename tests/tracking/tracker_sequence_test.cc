// FaceTracker on generated sequences with known motion: the real astronaut photo moved,
// rolled +-30 degrees, scaled, occluded, noisy, and two faces crossing. Asserts the tracking
// issue's proof: no id switches, still-face jitter <= 0.5 px RMS after smoothing, recovery
// within 3 frames of reappearance. StillFace*: the still-face mesh rate (still_mesh_skip)
// against the every-frame mesh on still, slow, fast and starting faces (bounds there).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"
#include "tests/time_scale.h"

namespace fg {
namespace {

constexpr int kW = 640, kH = 480;
constexpr float kPi = 3.14159265f;

const std::vector<uint8_t>& Astronaut() {
  static std::vector<uint8_t> rgb = [] {
    int w, h;
    std::vector<uint8_t> p;
    std::string err;
    EXPECT_TRUE(nn::testing::DecodePngRgb(FG_ASTRONAUT, &w, &h, &p, &err)) << err;
    return p;
  }();
  return rgb;
}

// A sprite: the photo's region around the face (x 110..370, y 10..310, the face centre
// near (225, 125)), drawn centred at (cx, cy), scaled, rolled by `roll` radians
// (counter-clockwise on screen), optionally mirrored.
struct Sprite {
  float cx, cy, scale = 1, roll = 0;
  bool mirror = false;
  // > 0: only the photo's square of this half side around (225, 124) is drawn: a tight crop
  // of the face, as a photo cropped to the face is (FER2013's pictures: about 2.3-2.9
  // inter-ocular distances wide; hers is about 40 photo pixels).
  float crop_half = 0;
  // Where a photo pixel lands in the frame.
  std::array<float, 2> ToFrame(float px, float py) const {
    float u = (px - 225.0f) * scale, v = (py - 125.0f) * scale;
    if (mirror) u = -u;
    const float c = std::cos(roll), s = std::sin(roll);
    return {cx + c * u + s * v, cy - s * u + c * v};
  }
};

void Draw(std::vector<uint8_t>& frame, const Sprite& sp) {
  const auto& src = Astronaut();
  const float c = std::cos(sp.roll), s = std::sin(sp.roll);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      // Inverse of ToFrame, at the pixel centre.
      const float dx = x + 0.5f - sp.cx, dy = y + 0.5f - sp.cy;
      float u = c * dx - s * dy, v = s * dx + c * dy;
      if (sp.mirror) u = -u;
      const float px = u / sp.scale + 225.0f - 0.5f, py = v / sp.scale + 125.0f - 0.5f;
      if (px < 110 || px > 369 || py < 10 || py > 309) continue;
      if (sp.crop_half > 0 && (std::abs(px - 225.0f) > sp.crop_half || std::abs(py - 124.0f) > sp.crop_half))
        continue;
      const int x0 = static_cast<int>(px), y0 = static_cast<int>(py);
      const float ax = px - x0, ay = py - y0;
      for (int k = 0; k < 3; ++k) {
        auto at = [&](int xx, int yy) { return static_cast<float>(src[3 * (yy * 512 + xx) + k]); };
        const float top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * ax;
        const float bot = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * ax;
        frame[3 * (y * kW + x) + k] = static_cast<uint8_t>(std::lround(top + (bot - top) * ay));
      }
    }
}

std::vector<uint8_t> Render(const std::vector<Sprite>& sprites, float noise, std::mt19937* rng) {
  std::vector<uint8_t> f(kW * kH * 3, 90);
  for (const Sprite& s : sprites) Draw(f, s);
  if (noise > 0) {
    std::normal_distribution<float> n(0.0f, noise);
    for (uint8_t& p : f) p = static_cast<uint8_t>(std::clamp(std::lround(p + n(*rng)), 0L, 255L));
  }
  return f;
}

std::unique_ptr<FaceTracker> MakeTracker(bool smoothing = true, bool second_look = true) {
  TrackerOptions o;
  o.models_dir = nn::testing::ModelsDir();
  o.smoothing = smoothing;
  o.second_look = second_look;
  std::string err;
  auto t = FaceTracker::Create(o, &err);
  EXPECT_TRUE(t) << err;
  return t;
}

FrameFaces Step(FaceTracker& t, const std::vector<uint8_t>& f, int frame) {
  ImageView v;
  EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {f.data()}, {3 * kW}, &v));
  return t.Process(v, static_cast<int64_t>(frame) * 33'333'333);
}

// RMS over frames and landmarks of the deviation from each landmark's mean position.
double Jitter(const std::vector<std::vector<std::array<float, 3>>>& seq) {
  double sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < seq[0].size(); ++i) {
    double mx = 0, my = 0;
    for (const auto& lm : seq) mx += lm[i][0], my += lm[i][1];
    mx /= seq.size(), my /= seq.size();
    for (const auto& lm : seq) sum += (lm[i][0] - mx) * (lm[i][0] - mx) + (lm[i][1] - my) * (lm[i][1] - my), ++n;
  }
  return std::sqrt(sum / n);
}

TEST(TrackerSequence, StillNoisyFaceJittersLessThanHalfAPixel) {
  // Sensor noise (sigma 3 grey levels, new each frame) makes the raw mesh jitter.
  double jitter[2];
  for (int smooth = 0; smooth < 2; ++smooth) {
    auto t = MakeTracker(smooth == 1);
    ASSERT_TRUE(t);
    std::mt19937 rng(3);
    std::vector<std::vector<std::array<float, 3>>> seq;
    for (int i = 0; i < 90; ++i) {
      FrameFaces ff = Step(*t, Render({Sprite{320, 240, 0.9f}}, 3.0f, &rng), i);
      ASSERT_EQ(ff.faces.size(), 1u) << "frame " << i;
      if (i >= 30) seq.push_back(ff.faces[0].landmarks);  // after 1 s of settling
    }
    jitter[smooth] = Jitter(seq);
  }
  std::printf("[ still face ] jitter raw %.3f px RMS, smoothed %.3f px RMS\n", jitter[0], jitter[1]);
  EXPECT_LE(jitter[1], 0.5) << "smoothed jitter";
  EXPECT_LT(jitter[1], jitter[0]) << "smoothing must reduce jitter";
}

// Still faces (TrackerOptions::still_mesh_skip): the same frames through a tracker that runs
// the mesh on every face every frame and one with still_mesh_skip 1, smoothing off
// on both (the mesh's own points are compared). Error of a frame: the mean distance between
// the two trackers' 468 points, in inter-ocular distances (IOD) of the every-frame tracker.
struct SkipRun {
  double mean_err = 0, max_err = 0;  // IOD
  int frames = 0, skipped = 0;
  std::vector<double> err;            // per frame
  std::vector<int> skip;              // per frame: 1 when the mesh was skipped
};

SkipRun CompareSkip(const std::vector<Sprite>& path, float noise, uint32_t seed) {
  TrackerOptions o;
  o.models_dir = nn::testing::ModelsDir();
  o.smoothing = false;
  o.async_detect = false;
  std::string err;
  TrackerOptions every = o;
  every.still_mesh_skip = 0;
  o.still_mesh_skip = 1;
  auto a = FaceTracker::Create(every, &err);
  auto b = FaceTracker::Create(o, &err);
  EXPECT_TRUE(a && b) << err;
  SkipRun r;
  if (!a || !b) return r;
  std::mt19937 rng(seed);
  for (size_t i = 0; i < path.size(); ++i) {
    const std::vector<uint8_t> f = Render({path[i]}, noise, &rng);
    const FrameFaces fa = Step(*a, f, static_cast<int>(i)), fb = Step(*b, f, static_cast<int>(i));
    EXPECT_EQ(a->timings().meshes_skipped, 0);
    if (fa.faces.size() != 1 || fb.faces.size() != 1) {
      ADD_FAILURE() << "frame " << i << ": faces " << fa.faces.size() << " / " << fb.faces.size();
      return r;
    }
    const auto& la = fa.faces[0].landmarks;
    const auto& lb = fb.faces[0].landmarks;
    const double iod = std::hypot(la[263][0] - la[33][0], la[263][1] - la[33][1]);
    double sum = 0;
    for (int k = 0; k < 468; ++k) sum += std::hypot(lb[k][0] - la[k][0], lb[k][1] - la[k][1]);
    const double e = sum / 468 / iod;
    r.err.push_back(e);
    r.skip.push_back(b->timings().meshes_skipped);
    r.mean_err += e;
    r.max_err = std::max(r.max_err, e);
    r.skipped += b->timings().meshes_skipped;
    ++r.frames;
  }
  r.mean_err /= std::max(1, r.frames);
  return r;
}

std::vector<Sprite> Path(int frames, float x0, float dx_per_frame, int still_frames = 0) {
  std::vector<Sprite> p;
  for (int i = 0; i < frames; ++i)
    p.push_back(Sprite{x0 + dx_per_frame * std::max(0, i - still_frames), 240, 0.9f});
  return p;
}

// A still face with sensor noise: the mesh runs on about every other frame, and the points
// of the skipped frames stay within 0.02 IOD (mean) of the every-frame mesh (0.05 IOD worst):
// the skipped frame's error is the mesh's own frame-to-frame noise.
TEST(TrackerSequence, StillFaceSkipsTheMeshOnAlternateFrames) {
  const SkipRun r = CompareSkip(Path(60, 320, 0), 2.0f, 21);
  std::printf("[ still face ] mesh skipped on %d of %d frames; error vs every-frame mesh: mean %.4f, max %.4f IOD\n",
              r.skipped, r.frames, r.mean_err, r.max_err);
  EXPECT_GE(r.skipped, 25) << "the mesh should run on about every other frame of a still face";
  EXPECT_LE(r.mean_err, 0.02);
  EXPECT_LE(r.max_err, 0.05);
}

// Slow motion (0.2 px per frame, 6 px/s, about 0.006 IOD per frame): may skip; the points stay
// within 0.02 IOD (mean) and 0.05 (worst) of the every-frame mesh.
TEST(TrackerSequence, StillFaceSlowMotionStaysClose) {
  const SkipRun r = CompareSkip(Path(60, 300, 0.2f), 2.0f, 22);
  std::printf("[ slow face ] mesh skipped on %d of %d frames; error: mean %.4f, max %.4f IOD\n",
              r.skipped, r.frames, r.mean_err, r.max_err);
  EXPECT_LE(r.mean_err, 0.02);
  EXPECT_LE(r.max_err, 0.05);
}

// A moving face (3 px per frame, about 0.09 IOD): the mesh runs every frame, so the points are
// the every-frame mesh's.
TEST(TrackerSequence, StillFaceMovingFaceRunsTheMeshEveryFrame) {
  const SkipRun r = CompareSkip(Path(40, 250, 3.0f), 2.0f, 23);
  std::printf("[ moving face ] mesh skipped on %d of %d frames; error: mean %.4f, max %.4f IOD\n",
              r.skipped, r.frames, r.mean_err, r.max_err);
  EXPECT_EQ(r.skipped, 0);
  EXPECT_LE(r.max_err, 1e-6);
}

// Still for 30 frames, then moving at 4 px per frame (about 0.12 IOD): the face that starts
// moving on a skipped frame is late by that one frame at most (error <= 0.2 IOD: one frame of
// motion plus the mesh's noise), and from the third moving frame on the mesh runs every frame
// (error <= 0.05 IOD, what is left of the different crops).
TEST(TrackerSequence, StillFaceThatStartsMovingIsFollowedAtOnce) {
  const SkipRun r = CompareSkip(Path(50, 280, 4.0f, 30), 2.0f, 24);
  double start = 0, after = 0;
  int skipped_after = 0;
  for (int i = 30; i < r.frames; ++i) {
    if (i < 32) start = std::max(start, r.err[i]);
    else after = std::max(after, r.err[i]), skipped_after += r.skip[i];
  }
  std::printf("[ starting face ] still part skipped %d; error on the first 2 moving frames %.4f, after %.4f IOD\n",
              r.skipped - skipped_after, start, after);
  ASSERT_EQ(r.frames, 50);
  EXPECT_LE(start, 0.2);
  EXPECT_LE(after, 0.05);
  EXPECT_EQ(skipped_after, 0) << "a moving face runs the mesh every frame";
}

TEST(TrackerSequence, MovingRollingScalingFaceKeepsOneIdAndFollows) {
  auto t = MakeTracker();
  ASSERT_TRUE(t);
  std::mt19937 rng(5);
  std::set<int64_t> ids;
  double worst_mean = 0;
  std::vector<std::array<float, 3>> base;  // landmarks of frame 0 in photo coordinates
  for (int i = 0; i < 90; ++i) {
    const float a = i / 89.0f;
    Sprite sp{200 + 240 * a, 240 + 40 * std::sin(2 * kPi * a), 0.7f + 0.4f * a,
              (30.0f * std::sin(2 * kPi * a * 1.5f)) * kPi / 180};
    FrameFaces ff = Step(*t, Render({sp}, 1.0f, &rng), i);
    ASSERT_EQ(ff.faces.size(), 1u) << "frame " << i << " roll " << sp.roll * 180 / kPi;
    ids.insert(ff.faces[0].id);
    // Map the landmarks back into photo coordinates: they must stay put on the photo.
    std::vector<std::array<float, 3>> photo;
    const float c = std::cos(sp.roll), s = std::sin(sp.roll);
    for (const auto& p : ff.faces[0].landmarks) {
      const float dx = p[0] - sp.cx, dy = p[1] - sp.cy;
      photo.push_back({(c * dx - s * dy) / sp.scale + 225.0f, (s * dx + c * dy) / sp.scale + 125.0f, 0});
    }
    if (i == 0) base = photo;
    double sum = 0;
    for (size_t k = 0; k < photo.size(); ++k) sum += std::hypot(photo[k][0] - base[k][0], photo[k][1] - base[k][1]);
    worst_mean = std::max(worst_mean, sum / photo.size());
  }
  EXPECT_EQ(ids.size(), 1u) << "id switches while one face moves";
  std::printf("[ moving face ] worst mean landmark drift %.2f photo px\n", worst_mean);
  EXPECT_LT(worst_mean, 4.0) << "landmarks stay on the same facial points (photo pixels)";
}

TEST(TrackerSequence, OcclusionKeepsIdAndRecoversWithinThreeFrames) {
  auto t = MakeTracker();
  ASSERT_TRUE(t);
  std::mt19937 rng(9);
  int64_t id = -1;
  int back_at = -1;
  for (int i = 0; i < 45; ++i) {
    const bool hidden = i >= 20 && i < 26;  // 6 frames: the face leaves the view
    Sprite sp{300.0f + 2 * i, 240, 0.8f};
    FrameFaces ff = Step(*t, Render(hidden ? std::vector<Sprite>{} : std::vector<Sprite>{sp}, 1.0f, &rng), i);
    if (i < 20) {
      ASSERT_EQ(ff.faces.size(), 1u) << "frame " << i;
      if (id < 0) id = ff.faces[0].id;
      EXPECT_EQ(ff.faces[0].id, id);
    } else if (hidden) {
      EXPECT_TRUE(ff.faces.empty()) << "frame " << i << ": nothing to see";
    } else if (!ff.faces.empty()) {
      if (back_at < 0) back_at = i;
      EXPECT_EQ(ff.faces[0].id, id) << "frame " << i << ": the same person gets the same id";
    }
  }
  ASSERT_GE(back_at, 0) << "never recovered";
  EXPECT_LE(back_at - 26, 3) << "recovered " << back_at - 26 << " frames after reappearing";
}

TEST(TrackerSequence, TwoFacesCrossingKeepTheirIds) {
  auto t = MakeTracker();
  ASSERT_TRUE(t);
  std::mt19937 rng(11);
  std::map<int, int64_t> id_of;  // 0 = the face moving right, 1 = the face moving left
  int switches = 0, missing = 0;
  for (int i = 0; i < 80; ++i) {
    const float a = i / 79.0f;
    // Different depths (sizes) and heights: they pass each other with partial overlap, the
    // nearer (larger) one drawn on top.
    Sprite far{130 + 380 * a, 200, 0.5f, 0, true};
    Sprite near{510 - 380 * a, 290, 0.65f};
    FrameFaces ff = Step(*t, Render({far, near}, 1.0f, &rng), i);
    const Sprite* truth[2] = {&far, &near};
    for (int k = 0; k < 2; ++k) {
      // The output face whose nose tip (landmark 4) is nearest this sprite's nose.
      const auto nose = truth[k]->ToFrame(225, 140);
      const Face* best = nullptr;
      float bd = 40;
      for (const Face& f : ff.faces) {
        const float d = std::hypot(f.landmarks[4][0] - nose[0], f.landmarks[4][1] - nose[1]);
        if (d < bd) bd = d, best = &f;
      }
      if (!best) {
        ++missing;
        continue;
      }
      if (id_of.count(k) && id_of[k] != best->id) ++switches;
      id_of[k] = best->id;
    }
  }
  std::printf("[ crossing ] id switches %d, face-frames missed %d of 160\n", switches, missing);
  EXPECT_EQ(switches, 0);
  ASSERT_EQ(id_of.size(), 2u);
  EXPECT_NE(id_of[0], id_of[1]);
  EXPECT_LE(missing, 16) << "each face is tracked in at least 90% of the frames";
}

TEST(TrackerSequence, EveryPixelFormatGivesTheSameFace) {
  // The tracker reads crops from the original format: NV12 and I420 frames of the same
  // picture give landmarks within a pixel of the RGB ones (chroma subsampling only).
  std::mt19937 rng(1);
  const auto rgb = Render({Sprite{320, 240, 0.9f, 0.2f}}, 0, &rng);
  std::vector<uint8_t> y(kW * kH), u(kW * kH / 4), v(kW * kH / 4), uv(kW * kH / 2), bgra(kW * kH * 4);
  for (int j = 0; j < kH; ++j)
    for (int i = 0; i < kW; ++i) {
      const uint8_t* p = &rgb[3 * (j * kW + i)];
      y[j * kW + i] = static_cast<uint8_t>(16 + (65.738 * p[0] + 129.057 * p[1] + 25.064 * p[2]) / 256);
      uint8_t* q = &bgra[4 * (j * kW + i)];
      q[0] = p[2], q[1] = p[1], q[2] = p[0], q[3] = 255;
      if (i % 2 == 0 && j % 2 == 0) {
        const int k = (j / 2) * (kW / 2) + i / 2;
        u[k] = uv[2 * k] = static_cast<uint8_t>(128 + (-37.945 * p[0] - 74.494 * p[1] + 112.439 * p[2]) / 256);
        v[k] = uv[2 * k + 1] = static_cast<uint8_t>(128 + (112.439 * p[0] - 94.154 * p[1] - 18.285 * p[2]) / 256);
      }
    }
  ImageView views[4];
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {rgb.data()}, {3 * kW}, &views[0]));
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kBGRA, kW, kH, {bgra.data()}, {4 * kW}, &views[1]));
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kNV12, kW, kH, {y.data(), uv.data()}, {kW, kW}, &views[2]));
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kI420, kW, kH, {y.data(), u.data(), v.data()}, {kW, kW / 2, kW / 2}, &views[3]));
  std::vector<std::array<float, 3>> ref;
  for (const ImageView& view : views) {
    auto t = MakeTracker(false);
    ASSERT_TRUE(t);
    FrameFaces ff = t->Process(view, 0);
    ASSERT_EQ(ff.faces.size(), 1u) << PixelFormatName(view.format);
    if (ref.empty()) {
      ref = ff.faces[0].landmarks;
      continue;
    }
    double sum = 0;
    for (size_t k = 0; k < ref.size(); ++k)
      sum += std::hypot(ff.faces[0].landmarks[k][0] - ref[k][0], ff.faces[0].landmarks[k][1] - ref[k][1]);
    EXPECT_LT(sum / ref.size(), view.format == PixelFormat::kBGRA ? 1e-3 : 1.0) << PixelFormatName(view.format);
  }
}

// While one face is tracked, the detector runs on the worker thread; a second person who
// steps in is picked up from its result: tracked from the frame that joins the first detection
// sampled with them in view, and the first keeps its id. Natively that is within a detection
// interval or two; the worker's latency in frames is the detector's time over the caller's
// frame time, so under FG_TIME_SCALE (emulation, where the two slow down by different
// factors) that allowance scales (tests/time_scale.h). (Also run under ThreadSanitizer:
// tools/test.)
TEST(TrackerSequence, WorkerDetectorPicksUpANewFace) {
  TrackerOptions o;
  o.models_dir = nn::testing::ModelsDir();
  o.detect_interval = 5;
  std::string err;
  auto t = FaceTracker::Create(o, &err);
  ASSERT_TRUE(t) << err;
  std::mt19937 rng(4);
  const int latency_frames = static_cast<int>(std::ceil((2 * o.detect_interval + 2) * fgtest::TimeScale()));
  int64_t first_id = -1;
  int seen_two_at = -1, started = 0, sampled_at = -1, joined_at = -1;
  for (int i = 0; i < 28 + latency_frames && seen_two_at < 0; ++i) {
    std::vector<Sprite> sprites{Sprite{180, 240, 0.6f}};
    if (i >= 10) sprites.push_back(Sprite{470, 240, 0.6f, 0, true});
    FrameFaces ff = Step(*t, Render(sprites, 1.0f, &rng), i);
    // Process joins a finished job before it starts the next one.
    if (t->timings().detector_joined && sampled_at >= 10 && joined_at < 0) joined_at = i;
    if (t->timings().detector_started && i >= 10 && sampled_at < 0) sampled_at = i;
    started += t->timings().detector_started;
    ASSERT_FALSE(ff.faces.empty()) << "frame " << i;
    if (first_id < 0) first_id = ff.faces[0].id;
    EXPECT_EQ(ff.faces[0].id, first_id) << "frame " << i;
    if (ff.faces.size() == 2) seen_two_at = i;
  }
  EXPECT_GT(started, 0) << "the periodic detection should have gone to the worker";
  ASSERT_GE(seen_two_at, 10) << "the second face was never picked up";
  std::printf("[ new face ] appeared at frame 10, first sampled by the worker at frame %d, "
              "joined at %d, tracked from frame %d\n", sampled_at, joined_at, seen_two_at);
  EXPECT_EQ(seen_two_at, joined_at) << "tracked from the worker's result, on the frame it is joined";
  EXPECT_LE(seen_two_at - 10, latency_frames);
}

TEST(TrackerSequence, SetOptionsKeepsTracksOrRefusesModelChanges) {
  auto t = MakeTracker();
  ASSERT_TRUE(t);
  std::mt19937 rng(6);
  int64_t id = -1;
  for (int i = 0; i < 20; ++i) {
    if (i == 10) {
      TrackerOptions o = t->options();
      o.smoothing_params.beta = 1.0;
      o.detect_interval = 0;  // clamped to 1
      o.min_presence = 0.4f;
      EXPECT_TRUE(t->SetOptions(o));
      EXPECT_EQ(t->options().detect_interval, 1);
      o.iris = true;
      EXPECT_FALSE(t->SetOptions(o)) << "iris needs another model: a new tracker";
      EXPECT_FALSE(t->options().iris);
    }
    FrameFaces ff = Step(*t, Render({Sprite{320, 240, 0.8f}}, 1.0f, &rng), i);
    ASSERT_EQ(ff.faces.size(), 1u) << "frame " << i;
    if (id < 0) id = ff.faces[0].id;
    EXPECT_EQ(ff.faces[0].id, id) << "frame " << i << ": the change in place keeps the track";
  }
}

// Detection range: faces from about 40 px wide (the landmarks' box; 26 px at scale 0.3) up
// to most of the frame height.
TEST(TrackerSequence, FindsFacesFrom40PxToFullFrame) {
  for (const float scale : {0.3f, 0.5f, 1.0f, 2.0f, 3.6f}) {
    auto t = MakeTracker();
    ASSERT_TRUE(t);
    std::mt19937 rng(2);
    FrameFaces ff = Step(*t, Render({Sprite{320, 250, scale}}, 0, &rng), 0);
    ASSERT_EQ(ff.faces.size(), 1u) << "sprite scale " << scale;
    std::printf("[ face size ] scale %.1f: face box %.0f x %.0f px\n", scale, ff.faces[0].box.w,
                ff.faces[0].box.h);
    if (scale == 0.3f) {
      EXPECT_LE(ff.faces[0].box.w, 45.0f);
    }
    if (scale == 3.6f) {
      EXPECT_GE(ff.faces[0].box.h, 0.75f * kH);
    }
  }
}

// TrackerOptions::zoom_tiles. DetectIn (a square of the frame letterboxed alone, the tiles'
// pass) maps its faces back to frame pixels: the astronaut in the bottom-right tile is found
// there at twice the detector scale, where the whole-frame pass puts it (box centre within
// 4 px, size within 25 %). A noisy frame with nobody in it stays empty through a whole round of
// tiles (6 for 640x480), so the tiles add no faces that are not there. What the tiles buy on
// real small faces (FER2013 pictures 48 px wide in a 640x480 frame) is measured by
// tools/eval/eval-emotion --face-px 48: docs/eval/emotion.md.
TEST(TrackerSequence, ZoomTilesMapToTheFrameAndAddNoFaces) {
  auto t = MakeTracker();
  ASSERT_TRUE(t);
  std::mt19937 rng(3);
  const auto f = Render({Sprite{480, 330, 0.5f}}, 0, &rng);
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {f.data()}, {3 * kW}, &v));
  const auto whole = t->Detect(v);
  const auto tile = t->DetectIn(v, 320, 160, 320);
  ASSERT_EQ(whole.size(), 1u);
  ASSERT_EQ(tile.size(), 1u);
  const Box& a = whole[0].box;
  const Box& b = tile[0].box;
  std::printf("[ zoom tiles ] whole frame: box %.1f x %.1f at (%.1f, %.1f); tile: %.1f x %.1f at (%.1f, %.1f)\n",
              a.w, a.h, a.x, a.y, b.w, b.h, b.x, b.y);
  EXPECT_NEAR(b.x + 0.5f * b.w, a.x + 0.5f * a.w, 4.0f);
  EXPECT_NEAR(b.y + 0.5f * b.h, a.y + 0.5f * a.h, 4.0f);
  EXPECT_NEAR(b.w, a.w, 0.25f * a.w);
  EXPECT_NEAR(tile[0].keypoints[0][0], whole[0].keypoints[0][0], 4.0f);  // an eye, likewise
  EXPECT_NEAR(tile[0].keypoints[0][1], whole[0].keypoints[0][1], 4.0f);
  // The tile that does not hold the face finds nothing.
  EXPECT_TRUE(t->DetectIn(v, 0, 0, 320).empty());

  const auto empty = Render({}, 12, &rng);
  for (int i = 0; i < 12; ++i) EXPECT_TRUE(Step(*t, empty, i).faces.empty()) << "frame " << i;
}

TEST(TrackerSequence, DegenerateFramesAreHarmless) {
  auto t = MakeTracker();
  ASSERT_TRUE(t);
  const uint8_t one[3] = {1, 2, 3};
  ImageView v;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, 1, 1, {one}, {3}, &v));
  EXPECT_TRUE(t->Process(v, 0).faces.empty());
  std::vector<uint8_t> flat(kW * kH * 3, 0);
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {flat.data()}, {3 * kW}, &v));
  EXPECT_TRUE(t->Process(v, 1).faces.empty());
}

// TrackerOptions::second_look. A still face cropped tightly (the picture ends at the brows
// and the chin, on a flat background: a face photo cropped to the face, or a face cut by the
// frame's edge): its landmark crop reaches past the picture and the mesh may reject it
// while the detector's box around the visible face is accepted. Target: once found, the
// face is reported on every later frame of the still (a track that is dropped every other
// frame makes every per-track consumer start over). Without the second look the count is
// printed for comparison: the astronaut's face is found on every frame either way (tighter
// crops and faces cut by the frame's edge were tried too); the faces that were found on
// every other frame only are FER2013 pictures, which are not committed: their count is
// tools/eval/eval-emotion's "faces not found" (docs/eval/emotion.md). This test guards the
// second look's other side: it must not lose a face that the first look keeps.
TEST(TrackerSequence, TightlyCroppedStillFaceStaysFound) {
  for (const float half : {46.0f, 50.0f, 54.0f}) {
    const Sprite sp{320, 240, 1.8f, 0, false, half};
    const auto f = Render({sp}, 0, nullptr);
    int counts[2] = {0, 0}, firsts[2] = {-1, -1};
    for (const bool look : {true, false}) {
      auto t = MakeTracker(true, look);
      ASSERT_TRUE(t);
      for (int k = 0; k < 30; ++k) {
        const bool seen = !Step(*t, f, k).faces.empty();
        if (seen && firsts[look] < 0) firsts[look] = k;
        counts[look] += seen;
      }
    }
    std::printf("[ tight crop ] half side %.0f px (x1.8): found from frame %d, on %d of 30 frames; "
                "without the second look from %d, on %d\n",
                half, firsts[1], counts[1], firsts[0], counts[0]);
    ASSERT_GE(firsts[1], 0) << half;
    EXPECT_LE(firsts[1], 2) << half;
    EXPECT_EQ(counts[1], 30 - firsts[1]) << "the face was dropped on some frames, crop half side " << half;
  }
}

}  // namespace
}  // namespace fg
