// LivenessWorker: the astronaut through the worker (crops in, smoothed decision out), the
// counters' balance, and the non-blocking contract when the worker falls behind, with the
// networks in the process-wide pools (kShared) and on an own thread (kPrivate); both give the
// same scores (1e-5).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/liveness/liveness_worker.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"
#include "tests/test_paths.h"

namespace fg {
namespace {

namespace nt = nn::testing;
constexpr int64_t kFrame = 33'333'333;

struct Photo {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  ImageView view;
  Face face;
};

const Photo& Astronaut() {
  static Photo p = [] {
    Photo a;
    std::string err;
    EXPECT_TRUE(nt::DecodePngRgb(testing::AstronautPath(), &a.w, &a.h, &a.rgb, &err)) << err;
    EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, a.w, a.h, {a.rgb.data()}, {3 * a.w}, &a.view));
    TrackerOptions o;
    o.models_dir = nt::ModelsDir();
    auto t = FaceTracker::Create(o, &err);
    EXPECT_TRUE(t) << err;
    FrameFaces f = t->Process(a.view, 0);
    EXPECT_EQ(f.faces.size(), 1u);
    if (!f.faces.empty()) a.face = f.faces[0];
    return a;
  }();
  return p;
}

class LivenessWorkerBoth : public ::testing::TestWithParam<Inference> {};
INSTANTIATE_TEST_SUITE_P(Inference, LivenessWorkerBoth,
                         ::testing::Values(Inference::kShared, Inference::kPrivate),
                         [](const auto& info) { return std::string(InferenceName(info.param)); });

TEST_P(LivenessWorkerBoth, ScoresTheAstronautAndBalancesItsCounters) {
  const Photo& p = Astronaut();
  LivenessWorkerOptions o;
  o.inference = GetParam();
  o.models_dir = nt::ModelsDir();
  o.rate_hz = 10;
  std::string err;
  auto w = LivenessWorker::Create(o, &err);
  ASSERT_TRUE(w) << err;
  for (int i = 0; i < 30; ++i) {
    w->Submit(p.view, p.face, i * kFrame);
    w->Poll();
    w->WaitIdle(5.0);  // one frame at a time: nothing dropped
  }
  const LivenessWorkerStats s = w->stats();
  EXPECT_EQ(s.submitted, 10u);  // 10 Hz over 1 s of 30 fps frames
  EXPECT_EQ(s.rate_skipped, 20u);
  EXPECT_EQ(s.classified, 10u);
  EXPECT_EQ(s.jobs.dropped, 0u);
  const LivenessState* st = w->Latest(p.face.id);
  ASSERT_TRUE(st);
  // A still photo gives the same scores every time: smoothing keeps them.
  EXPECT_NEAR(st->smoothed.real, st->raw.real, 1e-5);
  EXPECT_GE(st->raw.real, 0.0f);
  EXPECT_LE(st->raw.real, 1.0f);
  EXPECT_NE(st->decision == LivenessDecision::kUnsure, true)
      << "0.9 s of evidence must decide (real " << st->smoothed.real << ", live " << st->smoothed.live << ")";
  std::printf("astronaut through the worker: real %.3f live %.3f -> %s\n", st->smoothed.real,
              st->smoothed.live, std::string(LivenessDecisionName(st->decision)).c_str());
}

TEST_P(LivenessWorkerBoth, NeverBlocksAndCountsEveryDrop) {
  const Photo& p = Astronaut();
  LivenessWorkerOptions o;
  o.inference = GetParam();
  o.models_dir = nt::ModelsDir();
  o.rate_hz = 0;  // every frame
  o.queue_capacity = 2;
  std::string err;
  auto w = LivenessWorker::Create(o, &err);
  ASSERT_TRUE(w) << err;
  for (int i = 0; i < 40; ++i) w->Submit(p.view, p.face, i * kFrame);  // far faster than it runs
  ASSERT_TRUE(w->WaitIdle(30.0));
  const LivenessWorkerStats s = w->stats();
  EXPECT_EQ(s.submitted, 40u);
  EXPECT_EQ(s.jobs.pushed, s.classified + s.failed + s.jobs.dropped);
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  // Under a sanitizer the submitting thread's crop sampling slows down more than the two
  // small networks, so the worker can keep up with 40 frames (seen under ThreadSanitizer):
  // the accounting above is what is checked there; the drop is asserted in the plain build.
  if (s.jobs.dropped == 0) std::printf("[ sanitizer ] the worker kept up: no drop to count\n");
#else
  EXPECT_GT(s.jobs.dropped, 0u);
#endif
  EXPECT_EQ(s.failed, 0u);
  // A track that ended: its late results are discarded and counted.
  w->EndTrack(p.face.id);
  EXPECT_FALSE(w->Latest(p.face.id));
}

TEST_P(LivenessWorkerBoth, RefusesBlockingAndMissingModels) {
  std::string err;
  LivenessWorkerOptions o;
  o.inference = GetParam();
  o.models_dir = nt::ModelsDir();
  o.policy = Backpressure::kBlock;
  EXPECT_FALSE(LivenessWorker::Create(o, &err));
  EXPECT_NE(err.find("block"), std::string::npos);
  o.policy = Backpressure::kDropOldest;
  o.models_dir = "/nonexistent";
  EXPECT_FALSE(LivenessWorker::Create(o, &err));
  EXPECT_NE(err.find("/nonexistent/antispoof.json"), std::string::npos) << err;
}

// The same faces (the astronaut, mirrored, shifted and scaled: different crops) through the
// shared pools and a private worker: the same two scores within 1e-5 (absolute, scores in
// 0..1; batched runs may sum in another order). The shared worker gets them in one burst, so
// they run in batches.
TEST(LivenessWorker, SharedAndPrivateGiveTheSameScores) {
  const Photo& p = Astronaut();
  std::vector<Face> faces;
  for (int i = 0; i < 6; ++i) {
    Face f = p.face;
    f.id = i;
    for (auto& pt : f.landmarks) {  // a slightly other square each time
      pt[0] = 256 + (pt[0] - 256) * (1.0f + 0.03f * i) + 2.0f * i;
      pt[1] += 1.5f * i;
    }
    faces.push_back(f);
  }
  LivenessWorkerOptions o;
  o.models_dir = nt::ModelsDir();
  o.rate_hz = 0;
  o.smoothing.time_constant_s = 0;
  o.queue_capacity = faces.size();
  std::string err;
  o.inference = Inference::kPrivate;
  auto priv = LivenessWorker::Create(o, &err);
  ASSERT_TRUE(priv) << err;
  o.inference = Inference::kShared;
  auto shared = LivenessWorker::Create(o, &err);
  ASSERT_TRUE(shared) << err;
  for (const Face& f : faces) {
    ASSERT_TRUE(priv->Submit(p.view, f, 0));
    ASSERT_TRUE(priv->WaitIdle(10));
    ASSERT_TRUE(shared->Submit(p.view, f, 0));
  }
  ASSERT_TRUE(shared->WaitIdle(10));
  EXPECT_EQ(shared->stats().classified, faces.size());
  float worst = 0;
  for (const Face& f : faces) {
    const LivenessState* a = priv->Latest(f.id);
    const LivenessState* b = shared->Latest(f.id);
    ASSERT_TRUE(a && b) << "face " << f.id;
    EXPECT_NEAR(a->raw.real, b->raw.real, 1e-5) << "face " << f.id;
    EXPECT_NEAR(a->raw.live, b->raw.live, 1e-5) << "face " << f.id;
    worst = std::max({worst, std::abs(a->raw.real - b->raw.real), std::abs(a->raw.live - b->raw.live)});
  }
  std::printf("[ shared vs private ] %zu faces, largest difference %.2g\n", faces.size(), worst);
}

}  // namespace
}  // namespace fg
