// VitalsWorker: the estimator moved off the caller's thread must give exactly what the
// estimator gives when run directly; a stalled worker makes the caller drop (counted), never
// wait; stopping with work queued neither hangs nor loses count; fixed-region mode measures a
// pulsing patch. Also the region grid (layout, clipping, sampling in every format, parsing).
// Runs under ThreadSanitizer in tools/test.
#include "engine/vitals/vitals_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <numbers>
#include <random>
#include <thread>
#include <utility>

#include "engine/vitals/region_grid.h"
#include "tests/vitals/vitals_test_util.h"

namespace fg {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kSig[3] = {0.33, 0.77, 0.53};  // the relative pulse strength in R, G, B

// An RGB frame: skin colour (160, 115, 95) everywhere, the pulse p(t) at relative amplitude
// `amp` x kSig inside [x0, x1) (per column band bpm), sensor noise sigma 2 (it also dithers
// the sub-grey-level pulse through the 8-bit quantisation).
struct Band {
  int x0, x1;
  double bpm;
};
// The noise comes from a table of Gaussian draws read at a random offset per frame (drawing
// fresh numbers for every pixel would dominate the test's time under ThreadSanitizer).
void Render(int w, int h, double t, const std::vector<Band>& bands, double amp, std::mt19937* rng,
            std::vector<uint8_t>* out) {
  static const std::vector<float> noise = [] {
    std::mt19937 g(99);
    std::normal_distribution<float> n(0, 2);
    std::vector<float> v(1 << 20);
    for (float& x : v) x = n(g);
    return v;
  }();
  const size_t size = static_cast<size_t>(w) * h * 3;
  out->resize(size);
  size_t k = (*rng)() % (noise.size() - size);
  const double base[3] = {160, 115, 95};
  std::vector<double> p(w, 0.0);
  for (const Band& b : bands) {
    const double ph = 2 * kPi * b.bpm / 60 * t;
    for (int x = b.x0; x < b.x1; ++x) p[x] = std::sin(ph) + 0.35 * std::sin(2 * ph + 0.8);
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c, ++k)
        (*out)[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>(
            std::clamp(std::lround(base[c] * (1 + amp * kSig[c] * p[x]) + noise[k]), 0L, 255L));
}

ImageView View(const std::vector<uint8_t>& rgb, int w, int h) {
  ImageView v;
  auto err = ImageView::Wrap(PixelFormat::kRGB, w, h, {rgb.data()}, {3 * w}, &v);
  EXPECT_FALSE(err);
  return v;
}

VitalsWorkerOptions FaceOptions() {
  VitalsWorkerOptions o;
  o.models_dir = vitals_testing::ModelsDir();
  return o;
}

// Two faces side by side, pulsing at different rates, 8 s at 30 fps; the worker fed by
// Submit, a second estimator fed the same frames directly (Push + UpdateDue, as its header's
// example). Every published result must be bit-identical, and the newest too.
TEST(VitalsWorker, SameResultsAsTheEstimatorRunDirectly) {
  constexpr int kW = 320, kH = 160;
  VitalsWorkerOptions o = FaceOptions();
  o.queue_capacity = 1024;  // more than the frames: nothing may be dropped here
  std::string err;
  auto w = VitalsWorker::Create(o, &err);
  ASSERT_TRUE(w) << err;
  auto direct = VitalsEstimator::Create(vitals_testing::Canonical(), o.vitals, &err);
  ASSERT_TRUE(direct) << err;

  Face a, b;
  a.id = 1, b.id = 2;
  a.landmarks = vitals_testing::Project(0, 0, 0, 7, 80, 80);
  b.landmarks = vitals_testing::Project(10, -5, 3, 7, 240, 80);
  a.pose = HeadPose{0, 0, 0, std::nullopt};
  b.pose = HeadPose{10, -5, 3, std::nullopt};
  const std::vector<Band> bands = {{0, kW / 2, 66}, {kW / 2, kW, 102}};
  std::mt19937 rng(5);
  std::vector<uint8_t> rgb;
  int direct_updates = 0;
  const int frames = 8 * 30;
  for (int i = 0; i < frames; ++i) {
    const int64_t pts = int64_t{i} * 33'333'333;
    Render(kW, kH, pts * 1e-9, bands, 0.004, &rng, &rgb);
    const ImageView v = View(rgb, kW, kH);
    for (const Face* f : {&a, &b}) {
      EXPECT_TRUE(w->Submit(v, *f, pts));
      direct->Push(*f, pts, v);
    }
    direct_updates += direct->UpdateDue();
    w->Poll();
    w->EndStale(pts);
  }
  ASSERT_TRUE(w->WaitIdle(30));
  const VitalsWorkerStats s = w->stats();
  EXPECT_EQ(s.submitted, 2u * frames);
  EXPECT_EQ(s.jobs.dropped, 0u);
  EXPECT_EQ(s.processed, 2u * frames);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.updates, static_cast<uint64_t>(direct_updates));
  for (const Face* f : {&a, &b}) {
    const VitalsResult* got = w->Latest(f->id);
    const VitalsResult* want = direct->Result(f->id);
    ASSERT_TRUE(got && want) << f->id;
    ASSERT_TRUE(want->valid) << "8 s is past min_seconds";
    EXPECT_EQ(got->pts_ns, want->pts_ns);
    EXPECT_EQ(got->vitals, want->vitals);
    EXPECT_EQ(got->bvp, want->bvp);
    EXPECT_EQ(got->patches_used, want->patches_used);
    EXPECT_EQ(got->region_bpm, want->region_bpm);
    std::printf("[ worker ] track %lld: %.2f bpm (truth %.0f), SNR %.1f dB, confidence %.2f\n",
                static_cast<long long>(f->id), got->vitals.bpm, f->id == 1 ? 66.0 : 102.0,
                got->vitals.snr, got->vitals.confidence);
  }
  // Not a test of accuracy (the estimator's own tests are), but the wiring: each track's own
  // rate, not its neighbour's (tolerance 3 bpm on a 8 s partial window).
  EXPECT_NEAR(w->Latest(1)->vitals.bpm, 66, 3);
  EXPECT_NEAR(w->Latest(2)->vitals.bpm, 102, 3);

  // The metadata form: waveform only on request, HRV/respiration only when valid (8 s: no).
  const Vitals plain = ToVitals(*w->Latest(1), false);
  EXPECT_TRUE(plain.bvp.empty());
  EXPECT_EQ(plain.bvp_fs, 0);
  EXPECT_FALSE(plain.sdnn_ms || plain.rmssd_ms || plain.respiration_bpm);
  EXPECT_EQ(plain.bpm, w->Latest(1)->vitals.bpm);
  const Vitals with = ToVitals(*w->Latest(1), true);
  EXPECT_EQ(with.bvp, w->Latest(1)->bvp);
  EXPECT_EQ(with.bvp_fs, 30);
}

TEST(VitalsWorker, FacesWithoutMeshAreCountedNotQueued) {
  std::string err;
  auto w = VitalsWorker::Create(FaceOptions(), &err);
  ASSERT_TRUE(w) << err;
  std::vector<uint8_t> rgb(64 * 48 * 3, 100);
  Face f;
  f.id = 4;  // a box only (a tracker without the mesh)
  EXPECT_FALSE(w->Submit(View(rgb, 64, 48), f, 0));
  EXPECT_FALSE(w->SubmitRegion(View(rgb, 64, 48), 0)) << "face mode";
  ASSERT_TRUE(w->WaitIdle(5));
  EXPECT_EQ(w->stats().no_mesh, 1u);
  EXPECT_EQ(w->stats().submitted, 0u);
}

TEST(VitalsWorker, CreateNamesWhatIsWrong) {
  std::string err;
  VitalsWorkerOptions o = FaceOptions();
  o.models_dir = "/nonexistent-models";
  EXPECT_FALSE(VitalsWorker::Create(o, &err));
  EXPECT_NE(err.find("/nonexistent-models/" + std::string(kCanonicalFaceFile)), std::string::npos) << err;
  o.mode = VitalsMode::kRegion;  // needs no models
  o.grid_cols = 9, o.grid_rows = 9;
  EXPECT_FALSE(VitalsWorker::Create(o, &err));
  EXPECT_NE(err.find("grid 9x9"), std::string::npos) << err;
  o.grid_cols = 4, o.grid_rows = 4;
  o.vitals.window_s = 1;
  EXPECT_FALSE(VitalsWorker::Create(o, &err));
  EXPECT_NE(err.find("window_s"), std::string::npos) << err;
}

// A worker held inside its first job: the caller keeps pushing, nothing waits, every job is
// either processed or counted as dropped, and the worker resumes on the newest ones.
TEST(VitalsWorker, StalledWorkerDropsAndCountsNeverBlocks) {
  std::atomic<bool> entered{false}, go{false};
  VitalsWorkerOptions o;
  o.mode = VitalsMode::kRegion;
  o.queue_capacity = 8;
  o.before_job = [&] {
    entered.store(true);
    entered.notify_all();
    go.wait(false);
  };
  std::string err;
  auto w = VitalsWorker::Create(o, &err);
  ASSERT_TRUE(w) << err;
  PatchSamples p;
  p.rgb.assign(w->num_patches(), {150, 110, 90});
  p.weight.assign(w->num_patches(), 100);
  constexpr int kJobs = 200;
  ASSERT_TRUE(w->Push(0, 0, p, {10, 10}, 20, {}));
  entered.wait(false);  // the worker holds job 0 and waits on `go`
  for (int i = 1; i < kJobs; ++i) EXPECT_TRUE(w->Push(0, int64_t{i} * 33'333'333, p, {10, 10}, 20, {}));
  VitalsWorkerStats s = w->stats();
  EXPECT_EQ(s.jobs.pushed, static_cast<uint64_t>(kJobs)) << "every Push returned without the worker";
  EXPECT_GT(s.jobs.overflow, 0u) << "the ring (capacity + headroom) filled up";
  go.store(true);
  go.notify_all();
  ASSERT_TRUE(w->WaitIdle(10));
  s = w->stats();
  EXPECT_EQ(s.jobs.pushed, s.processed + s.jobs.dropped);
  EXPECT_EQ(s.processed, 1u + o.queue_capacity) << "the held job, then the newest `capacity` queued";
  EXPECT_GE(s.jobs.dropped, static_cast<uint64_t>(kJobs) - 1 - o.queue_capacity - 16);
  // The worker ran again: the track has a result (too little data to be valid).
  ASSERT_NE(w->Latest(0), nullptr);
  EXPECT_FALSE(w->Latest(0)->valid);
}

// lossless: a stalled worker makes Push wait (on a producer thread here) instead of dropping;
// once it runs again every job is processed and none is dropped.
TEST(VitalsWorker, LosslessWaitsForTheWorkerAndDropsNothing) {
  std::atomic<bool> entered{false}, go{false};
  VitalsWorkerOptions o;
  o.mode = VitalsMode::kRegion;
  o.queue_capacity = 8;
  o.lossless = true;
  o.before_job = [&] {
    entered.store(true);
    entered.notify_all();
    go.wait(false);
  };
  std::string err;
  auto w = VitalsWorker::Create(o, &err);
  ASSERT_TRUE(w) << err;
  PatchSamples p;
  p.rgb.assign(w->num_patches(), {150, 110, 90});
  p.weight.assign(w->num_patches(), 100);
  constexpr int kJobs = 60;
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < kJobs; ++i) {
      EXPECT_TRUE(w->Push(0, int64_t{i} * 33'333'333, p, {10, 10}, 20, {}));
      pushed.fetch_add(1);
    }
  });
  entered.wait(false);  // the worker holds job 0 and waits on `go`
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int while_stalled = pushed.load();
  EXPECT_LE(while_stalled, 1 + static_cast<int>(o.queue_capacity)) << "Push waited for room";
  go.store(true);
  go.notify_all();
  producer.join();
  ASSERT_TRUE(w->WaitIdle(10));
  const VitalsWorkerStats s = w->stats();
  EXPECT_EQ(s.processed, static_cast<uint64_t>(kJobs));
  EXPECT_EQ(s.jobs.dropped, 0u);
  EXPECT_EQ(s.jobs.overflow, 0u);
}

// End of stream: WaitIdle drains what is queued and gives the final result; destroying the
// worker with jobs queued and one in hand returns, discarding (and counting) the rest.
TEST(VitalsWorker, StopAndEndOfStreamWithWorkInFlight) {
  VitalsWorkerOptions o;
  o.mode = VitalsMode::kRegion;
  o.region = {8, 8, 48, 32};
  std::string err;
  {
    auto w = VitalsWorker::Create(o, &err);
    ASSERT_TRUE(w) << err;
    std::mt19937 rng(3);
    std::vector<uint8_t> rgb;
    for (int i = 0; i < 210; ++i) {  // 7 s, pushed as fast as the caller can
      Render(64, 48, i / 30.0, {{0, 64, 75}}, 0.004, &rng, &rgb);
      EXPECT_TRUE(w->SubmitRegion(View(rgb, 64, 48), int64_t{i} * 33'333'333));
    }
    ASSERT_TRUE(w->WaitIdle(30));
    const VitalsWorkerStats s = w->stats();
    EXPECT_EQ(s.jobs.pushed, s.processed + s.jobs.dropped);
    ASSERT_NE(w->Latest(0), nullptr);
    // Updates come once a second of pts: the final one is within the last second.
    EXPECT_GT(w->Latest(0)->pts_ns, int64_t{209} * 33'333'333 - 1'000'000'000);
    EXPECT_TRUE(w->Latest(0)->valid);
  }
  std::atomic<bool> entered{false}, go{false};
  std::atomic<int> ran{0};
  o.before_job = [&] {
    ++ran;
    entered.store(true);
    entered.notify_all();
    go.wait(false);
  };
  auto w = VitalsWorker::Create(o, &err);
  ASSERT_TRUE(w) << err;
  PatchSamples p;
  p.rgb.assign(w->num_patches(), {150, 110, 90});
  p.weight.assign(w->num_patches(), 100);
  constexpr int kJobs = 100;
  for (int i = 0; i < kJobs; ++i) w->Push(0, int64_t{i} * 33'333'333, p, {10, 10}, 20, {});
  entered.wait(false);
  // The destructor cancels, then joins: release the held job from another thread a little
  // later so that the join has something to wait for.
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    go.store(true);
    go.notify_all();
  });
  w.reset();
  releaser.join();
  EXPECT_LT(ran.load(), kJobs) << "queued jobs were discarded, not run";
}

// Fixed-region mode: a sub-rectangle pulsing at a known rate inside a frame whose other
// parts pulse at another; the worker measures only the given rectangle. 11 s at 30 fps,
// pulse 0.4% of the skin level (under one grey level), a packed and a YUV format through the
// grid sampler (every format is checked by RegionGrid.SamplesEachCellsOwnPixels). Tolerance 1.5 bpm (the estimator's own on clean traces).
TEST(VitalsWorker, RegionModeMeasuresTheGivenRectangle) {
  constexpr int kW = 96, kH = 64;
  for (const auto& [fmt, bpm] : {std::pair{PixelFormat::kRGB, 58.0}, std::pair{PixelFormat::kNV12, 117.0}}) {
    {
      VitalsWorkerOptions o;
      o.mode = VitalsMode::kRegion;
      o.region = {48, 8, 40, 48};  // the right band only
      std::string err;
      auto w = VitalsWorker::Create(o, &err);
      ASSERT_TRUE(w) << err;
      std::mt19937 rng(11);
      std::vector<uint8_t> rgb;
      vitals_testing::AllFormats all;
      Box measured;
      for (int i = 0; i < 330; ++i) {
        Render(kW, kH, i / 30.0, {{0, 44, 150}, {44, kW, bpm}}, 0.004, &rng, &rgb);
        vitals_testing::MakeAllFormats(rgb, kW, kH, &all);
        w->SubmitRegion(all.views[static_cast<int>(fmt)], int64_t{i} * 33'333'333, &measured);
        w->Poll();
      }
      ASSERT_TRUE(w->WaitIdle(30));
      EXPECT_EQ(measured, (Box{48, 8, 40, 48}));
      const VitalsResult* r = w->Latest(0);
      ASSERT_TRUE(r && r->valid);
      std::printf("[ region ] %s %.0f bpm: got %.2f, SNR %.1f dB, confidence %.2f, %d patches\n",
                  std::string(PixelFormatName(fmt)).c_str(), bpm, r->vitals.bpm, r->vitals.snr,
                  r->vitals.confidence, r->patches_used);
      EXPECT_NEAR(r->vitals.bpm, bpm, 1.5);
      EXPECT_GT(r->vitals.confidence, 0.5);
      EXPECT_EQ(r->patches_used, 16);
    }
  }
}

TEST(RegionGrid, LayoutNeighboursAndGroups) {
  const PatchLayout l = GridLayout(4, 3);
  ASSERT_EQ(l.region.size(), 12u);
  EXPECT_EQ(l.neighbours[0], (std::vector<int>{1, 4}));           // corner
  EXPECT_EQ(l.neighbours[5], (std::vector<int>{4, 6, 1, 9}));     // inner: left right up down
  EXPECT_EQ(l.neighbours[11], (std::vector<int>{10, 7}));
  // 4x3: the centre group is the middle two cells of the middle row.
  EXPECT_EQ(l.region[5], static_cast<FaceRegion>(4));
  EXPECT_EQ(l.region[6], static_cast<FaceRegion>(4));
  EXPECT_EQ(l.region[0], static_cast<FaceRegion>(0));
  EXPECT_EQ(l.region[3], static_cast<FaceRegion>(1));
  EXPECT_EQ(l.region[8], static_cast<FaceRegion>(2));
  EXPECT_EQ(l.region[11], static_cast<FaceRegion>(3));
  std::string err;
  EXPECT_TRUE(VitalsEstimator::Create(l, VitalsOptions{}, &err)) << err;
  PatchLayout bad = l;
  bad.neighbours[2].push_back(12);
  EXPECT_FALSE(VitalsEstimator::Create(bad, VitalsOptions{}, &err));
  EXPECT_NE(err.find("patch 2 has a bad neighbour 12"), std::string::npos) << err;
}

TEST(RegionGrid, ClipAndParse) {
  std::vector<uint8_t> rgb(50 * 40 * 3, 0);
  const ImageView v = View(rgb, 50, 40);
  EXPECT_EQ(ClipRegion(v, Box{}), (Box{0, 0, 50, 40}));
  EXPECT_EQ(ClipRegion(v, Box{10.5f, 5, 100, 10}), (Box{10, 5, 40, 10}));
  EXPECT_EQ(ClipRegion(v, Box{60, 5, 10, 10}).w, 0);
  std::string err;
  EXPECT_EQ(ParseRegion("", &err), Box{});
  EXPECT_EQ(ParseRegion(" 10, 20,30.5 ,40", &err), (Box{10, 20, 30.5f, 40}));
  for (const char* bad : {"10,20,30", "a,b,c,d", "10,20,30,40,50", "10,20,0,40", "-1,0,5,5", "10;20;30;40"}) {
    EXPECT_FALSE(ParseRegion(bad, &err)) << bad;
    EXPECT_NE(err.find(bad), std::string::npos) << err;
  }
}

// Each cell painted its own colour: the sampler's means are those colours, in every format
// (YUV within 3 grey levels: the BT.601 round trip), on an odd-sized frame. The cells are
// 8 x 8 on even coordinates, so 2x2 chroma never mixes two cells.
TEST(RegionGrid, SamplesEachCellsOwnPixels) {
  constexpr int kW = 37, kH = 29;
  const Box rect{4, 2, 32, 24};  // 4 x 3 cells of 8 x 8
  std::vector<uint8_t> rgb(kW * kH * 3, 7);
  auto colour = [](int cell) { return std::array<uint8_t, 3>{uint8_t(40 + 15 * cell), uint8_t(200 - 9 * cell), uint8_t(90 + 3 * cell)}; };
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      if (x < 4 || x >= 36 || y < 2 || y >= 26) continue;
      const int i = (x - 4) / 8, j = (y - 2) / 8;
      const auto c = colour(j * 4 + i);
      std::copy(c.begin(), c.end(), &rgb[(y * kW + x) * 3]);
    }
  vitals_testing::AllFormats all;
  vitals_testing::MakeAllFormats(rgb, kW, kH, &all);
  PatchSamples s;
  for (PixelFormat fmt : {PixelFormat::kRGB, PixelFormat::kBGR, PixelFormat::kRGBA, PixelFormat::kBGRA,
                          PixelFormat::kNV12, PixelFormat::kI420}) {
    SampleGrid(all.views[static_cast<int>(fmt)], rect, 4, 3, &s);
    ASSERT_EQ(s.rgb.size(), 12u);
    const bool yuv = fmt == PixelFormat::kNV12 || fmt == PixelFormat::kI420;
    for (int k = 0; k < 12; ++k) {
      EXPECT_EQ(s.weight[k], 64) << k;
      for (int c = 0; c < 3; ++c)
        EXPECT_NEAR(s.rgb[k][c], colour(k)[c], yuv ? 3.0 : 0.0)
            << PixelFormatName(fmt) << " cell " << k << " channel " << c;
    }
  }
  SampleGrid(all.views[0], Box{40, 0, 5, 5}, 2, 2, &s);  // outside: nothing sampled
  for (float wt : s.weight) EXPECT_EQ(wt, 0);
}

}  // namespace
}  // namespace fg
