// EmotionWorker: the caller never waits, drops are counted, results stay with their track,
// the per-track rate cap holds, ended tracks stay ended, in both places the network can run
// (inference kShared: the process-wide pool; kPrivate: an own thread). Two known crops tell
// the tracks apart: the TF.js reference's astronaut crop (happy 0.996) and its seeded random
// tensor (surprise 0.9998). Shared and private give the same probabilities (1e-5), and two
// workers in one pool: a flooding one cannot starve a quiet one.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/emotion/emotion_worker.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

namespace nt = nn::testing;
constexpr int64_t kSec = 1'000'000'000;

struct Crops {
  std::vector<float> happy, surprise;
  std::vector<uint8_t> rgb;
  int w = 0, h = 0;
};
const Crops& Known() {
  static Crops c = [] {
    Crops k;
    std::string err;
    EXPECT_TRUE(nt::DecodePngRgb(FG_ASTRONAUT, &k.w, &k.h, &k.rgb, &err)) << err;
    EXPECT_TRUE(nt::ImageTensor(k.rgb, k.w, k.h, 145, 50, 160, "gray", {1, 64, 64, 1}, &k.happy, &err)) << err;
    k.surprise = nt::XorshiftTensor(625341585u, kEmotionCropElements);
    return k;
  }();
  return c;
}

std::unique_ptr<EmotionWorker> MakeWorker(EmotionWorkerOptions o) {
  o.models_dir = nt::ModelsDir();
  std::string err;
  auto w = EmotionWorker::Create(o, &err);
  EXPECT_TRUE(w) << err;
  return w;
}

void PrintStats(const char* what, const EmotionWorkerStats& s) {
  std::printf("[ %s ] jobs pushed %llu delivered %llu dropped %llu (overflow %llu); classified %llu; "
              "results dropped %llu; rate-skipped %llu; stale %llu\n", what,
              (unsigned long long)s.jobs.pushed, (unsigned long long)s.jobs.delivered,
              (unsigned long long)s.jobs.dropped, (unsigned long long)s.jobs.overflow,
              (unsigned long long)s.classified, (unsigned long long)s.results.dropped,
              (unsigned long long)s.rate_skipped, (unsigned long long)s.stale_results);
}

class EmotionWorkerBoth : public ::testing::TestWithParam<Inference> {};
INSTANTIATE_TEST_SUITE_P(Inference, EmotionWorkerBoth,
                         ::testing::Values(Inference::kShared, Inference::kPrivate),
                         [](const auto& info) { return std::string(InferenceName(info.param)); });

// A burst far faster than the network: most crops are dropped, every drop is counted, and
// each track's state only ever saw its own crops.
TEST_P(EmotionWorkerBoth, DropsCountedResultsStayWithTheirTrack) {
  for (Backpressure policy : {Backpressure::kKeepLatest, Backpressure::kDropOldest}) {
    EmotionWorkerOptions o;
    o.inference = GetParam();
    o.rate_hz = 0;  // no cap: stress the queue
    o.policy = policy;
    o.queue_capacity = 2;
    auto w = MakeWorker(o);
    ASSERT_TRUE(w);
    const Crops& k = Known();
    const auto t0 = std::chrono::steady_clock::now();
    double worst_push_us = 0;
    for (int i = 0; i < 2000; ++i) {
      const int64_t pts = i * kSec / 1000;
      const auto p0 = std::chrono::steady_clock::now();
      ASSERT_TRUE(w->Push(1, pts, k.happy.data()));
      ASSERT_TRUE(w->Push(2, pts, k.surprise.data()));
      worst_push_us = std::max(worst_push_us,
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - p0).count());
      if (i % 50 == 0) w->Poll();
    }
    const double burst_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(w->WaitIdle(30));
    const EmotionWorkerStats s = w->stats();
    PrintStats(std::string(BackpressureName(policy)).c_str(), s);
    std::printf("[ %s ] 4000 pushes in %.1f ms, slowest pair of pushes %.1f us\n",
                std::string(BackpressureName(policy)).c_str(), burst_ms, worst_push_us);
    EXPECT_EQ(s.jobs.pushed, 4000u);
    EXPECT_EQ(s.jobs.pushed, s.classified + s.failed + s.jobs.dropped) << "every crop accounted for";
    EXPECT_GT(s.jobs.dropped, 0u) << "a burst this fast must drop";
    EXPECT_EQ(s.failed, 0u);
    // Results: only the last `result_capacity` may be lost when Poll is late; all counted.
    EXPECT_EQ(s.results.pushed, s.results.delivered + s.results.dropped);
    // Keep-latest holds one crop for all tracks, so after a burst only one track may have
    // been classified at all (see the header); drop-oldest with capacity 2 keeps the newest
    // crop of each of the two tracks.
    const EmotionState* a = w->Latest(1);
    const EmotionState* b = w->Latest(2);
    ASSERT_TRUE(a || b);
    if (policy == Backpressure::kDropOldest) {
      ASSERT_TRUE(a && b);
    }
    EXPECT_EQ(s.classified, (a ? a->updates : 0) + (b ? b->updates : 0) + s.stale_results +
                                s.results.dropped);
    // A constant input smooths to itself: any crop of the other track mixed in would show.
    for (auto [st, cls, p] : {std::tuple{a, kEmotionHappy, 0.996407449f},
                              std::tuple{b, kEmotionSurprise, 0.999840498f}}) {
      if (!st) continue;
      EXPECT_EQ(st->label, cls);
      EXPECT_EQ(st->label_changes, 0u);
      EXPECT_NEAR(st->raw[cls], p, 1e-3);
      for (int i = 0; i < kEmotionClasses; ++i)
        EXPECT_NEAR(st->probs[i], st->raw[i], 1e-5) << kEmotionNames[i];
    }
  }
  // Paced like video (two faces, a pair of crops every 2 ms: still faster than the network
  // on one core), both tracks keep being classified under drop-oldest.
  EmotionWorkerOptions o;
  o.inference = GetParam();
  o.rate_hz = 0;
  o.queue_capacity = 2;
  auto w = MakeWorker(o);
  ASSERT_TRUE(w);
  const Crops& k = Known();
  for (int i = 0; i < 200; ++i) {
    const int64_t pts = i * kSec / 500;
    w->Push(1, pts, k.happy.data());
    w->Push(2, pts, k.surprise.data());
    w->Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(w->WaitIdle(30));
  const EmotionWorkerStats s = w->stats();
  PrintStats("paced drop-oldest", s);
  EXPECT_EQ(s.jobs.pushed, s.classified + s.jobs.dropped);
  ASSERT_TRUE(w->Latest(1) && w->Latest(2));
  EXPECT_GT(w->Latest(1)->updates, 20u);
  EXPECT_GT(w->Latest(2)->updates, 20u);
  EXPECT_EQ(w->Latest(1)->label, kEmotionHappy);
  EXPECT_EQ(w->Latest(2)->label, kEmotionSurprise);
}

// rate_hz caps classifications per track: 10 Hz on 30 fps video is every third frame.
TEST_P(EmotionWorkerBoth, RateCapPerTrack) {
  EmotionWorkerOptions o;
  o.inference = GetParam();
  o.rate_hz = 10;
  auto w = MakeWorker(o);
  ASSERT_TRUE(w);
  const Crops& k = Known();
  int queued1 = 0, queued2 = 0;
  for (int f = 0; f < 90; ++f) {  // 3 s at 30 fps
    const int64_t pts = f * kSec / 30;
    queued1 += w->Push(1, pts, k.happy.data());
    if (f % 2 == 0) queued2 += w->Push(2, pts, k.surprise.data());  // a 15 fps source
    w->WaitIdle(10);  // no drops here: this test is about the cap
  }
  const EmotionWorkerStats s = w->stats();
  PrintStats("rate 10 Hz", s);
  EXPECT_EQ(queued1, 30);
  // 15 fps: 0.067 s between frames is too early, 0.133 s is due: every other frame (7.5 Hz).
  EXPECT_EQ(queued2, 23);
  EXPECT_EQ(s.rate_skipped, static_cast<uint64_t>((90 - queued1) + (45 - queued2)));
  EXPECT_EQ(s.classified, static_cast<uint64_t>(queued1 + queued2));
  EXPECT_EQ(w->Latest(1)->updates, 30u);
}

// Ending a track drops its state at once; its late results are discarded and counted;
// tracks not seen for track_timeout_s end by themselves.
TEST_P(EmotionWorkerBoth, EndedTracksStayEnded) {
  EmotionWorkerOptions o;
  o.inference = GetParam();
  o.rate_hz = 0;
  o.smoothing.track_timeout_s = 1.0;
  auto w = MakeWorker(o);
  ASSERT_TRUE(w);
  const Crops& k = Known();
  ASSERT_TRUE(w->Push(1, 0, k.happy.data()));
  ASSERT_TRUE(w->Push(2, 0, k.surprise.data()));
  ASSERT_TRUE(w->WaitIdle(10));
  ASSERT_TRUE(w->Latest(1) && w->Latest(2));
  EXPECT_EQ(w->tracks(), 2u);
  ASSERT_TRUE(w->Push(1, kSec / 10, k.happy.data()));
  w->EndTrack(1);  // its crop is in flight
  ASSERT_TRUE(w->WaitIdle(10));
  EXPECT_EQ(w->Latest(1), nullptr);
  EXPECT_EQ(w->stats().stale_results, 1u);
  // Track 2 seen (rate check only, no crop) at 0.5 s; still there at 1.4 s, gone at 1.6 s.
  w->Due(2, kSec / 2);
  EXPECT_EQ(w->EndStale(1'400'000'000), 0u);
  EXPECT_NE(w->Latest(2), nullptr);
  EXPECT_EQ(w->EndStale(1'600'000'000), 1u);
  EXPECT_EQ(w->Latest(2), nullptr);
  EXPECT_EQ(w->tracks(), 0u);
}

TEST_P(EmotionWorkerBoth, RefusesBlockingPolicyAndMissingModel) {
  EmotionWorkerOptions o;
  o.inference = GetParam();
  o.models_dir = nt::ModelsDir();
  o.policy = Backpressure::kBlock;
  std::string err;
  EXPECT_FALSE(EmotionWorker::Create(o, &err));
  EXPECT_NE(err.find("block"), std::string::npos) << err;
  o.policy = Backpressure::kKeepLatest;
  o.models_dir = "/nonexistent";
  EXPECT_FALSE(EmotionWorker::Create(o, &err));
  EXPECT_NE(err.find("/nonexistent/emotion.json"), std::string::npos) << err;
}

// The whole path on real frames: FaceTracker -> Submit (crop on the caller's thread) ->
// worker -> Latest. The astronaut is happy; the caller's cost per Submit is printed.
TEST(EmotionWorker, AstronautThroughTrackerAndWorker) {
  const Crops& k = Known();
  ImageView view;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, k.w, k.h, {k.rgb.data()}, {3 * k.w}, &view));
  TrackerOptions to;
  to.models_dir = nt::ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(to, &err);
  ASSERT_TRUE(tracker) << err;
  EmotionWorkerOptions o;
  o.rate_hz = 10;
  auto w = MakeWorker(o);
  ASSERT_TRUE(w);
  std::vector<double> submit_us, skipped_us;  // frames with a crop queued / rate-skipped
  int64_t id = -1;
  for (int f = 0; f < 30; ++f) {
    const int64_t pts = f * kSec / 30;
    FrameFaces ff = tracker->Process(view, pts);
    ASSERT_EQ(ff.faces.size(), 1u);
    id = ff.faces[0].id;
    const auto t0 = std::chrono::steady_clock::now();
    const bool queued = w->Submit(view, ff.faces[0], pts);
    w->Poll();
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    (queued ? submit_us : skipped_us).push_back(us);
    if (const EmotionState* s = w->Latest(id)) ff.faces[0].emotion = s->ToEmotion();
  }
  ASSERT_TRUE(w->WaitIdle(10));
  // The crop alone, for comparison with Submit's total.
  std::vector<double> crop_us;
  {
    std::vector<float> crop(kEmotionCropElements);
    FrameFaces ff = tracker->Process(view, 31 * kSec / 30);
    for (int i = 0; i < 200; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      SampleEmotionCrop(view, ff.faces[0].landmarks, {}, crop.data());
      crop_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(crop_us.begin(), crop_us.end());
    std::printf("[ astronaut ] SampleEmotionCrop alone: median %.1f us\n", crop_us[100]);
  }
  std::sort(submit_us.begin(), submit_us.end());
  std::sort(skipped_us.begin(), skipped_us.end());
  const EmotionState* s = w->Latest(id);
  ASSERT_TRUE(s);
  std::printf("[ astronaut ] %llu classifications; label %s conf %.3f valence %.2f arousal %.2f; "
              "caller's Submit+Poll: with a crop median %.1f us (max %.1f), rate-skipped median "
              "%.1f us\n", (unsigned long long)s->updates,
              std::string(kEmotionNames[s->label]).c_str(), s->confidence, s->valence, s->arousal,
              submit_us[submit_us.size() / 2], submit_us.back(), skipped_us[skipped_us.size() / 2]);
  EXPECT_EQ(s->label, kEmotionHappy);
  EXPECT_GT(s->valence, 0.5f);
  EXPECT_EQ(w->stats().crop_failed, 0u);
  EXPECT_EQ(s->ToEmotion().label, "happy");
}

// The same crops through the shared pool and through a private worker: the same class
// probabilities within 1e-5 (absolute, on probabilities in 0..1: a batched run may sum in
// another order). Crops go one at a time into the private worker, and in bursts of 8 into
// the pool, so most of them run in batches of several.
TEST(EmotionWorker, SharedAndPrivateGiveTheSameProbabilities) {
  const Crops& k = Known();
  std::vector<std::vector<float>> crops = {k.happy, k.surprise};
  for (uint32_t seed = 1; seed <= 14; ++seed) crops.push_back(nt::XorshiftTensor(seed * 7919u, kEmotionCropElements));
  EmotionWorkerOptions o;
  o.rate_hz = 0;
  o.smoothing.time_constant_s = 0;
  o.queue_capacity = crops.size();  // nothing dropped
  o.inference = Inference::kPrivate;
  auto priv = MakeWorker(o);
  o.inference = Inference::kShared;
  auto shared = MakeWorker(o);
  ASSERT_TRUE(priv && shared);
  for (size_t i = 0; i < crops.size(); ++i) {
    ASSERT_TRUE(priv->Push(static_cast<int64_t>(i), 0, crops[i].data()));
    ASSERT_TRUE(priv->WaitIdle(10));
    ASSERT_TRUE(shared->Push(static_cast<int64_t>(i), 0, crops[i].data()));
    if (i % 8 == 7) {
      ASSERT_TRUE(shared->WaitIdle(10));
    }
  }
  ASSERT_TRUE(shared->WaitIdle(10));
  EXPECT_EQ(shared->stats().classified, crops.size());
  EXPECT_EQ(shared->stats().jobs.dropped, 0u);
  float worst = 0;
  for (size_t i = 0; i < crops.size(); ++i) {
    const EmotionState* a = priv->Latest(static_cast<int64_t>(i));
    const EmotionState* b = shared->Latest(static_cast<int64_t>(i));
    ASSERT_TRUE(a && b) << "crop " << i;
    for (int c = 0; c < kEmotionClasses; ++c) {
      EXPECT_NEAR(a->raw[c], b->raw[c], 1e-5) << "crop " << i << " " << kEmotionNames[c];
      worst = std::max(worst, std::abs(a->raw[c] - b->raw[c]));
    }
  }
  std::printf("[ shared vs private ] %zu crops, largest difference %.2g\n", crops.size(), worst);
}

// Two workers in one process share the emotion pool. One floods it from its own thread (16
// tracks, every crop due, as fast as it can push); the other submits one crop at a time, like
// a 10 Hz track. Bound (the pool's round-robin, inference_pool.h): each of the quiet worker's
// crops completes within one batch after the batch running when it was submitted
// (max_wait_batches <= 1), so it loses nothing (dropped 0, classified == submitted) while the
// flood drops most of its crops (counted exactly).
TEST(EmotionWorker, AFloodingWorkerDoesNotStarveAnotherInTheSharedPool) {
  const Crops& k = Known();
  EmotionWorkerOptions o;
  o.rate_hz = 0;
  o.inference = Inference::kShared;
  auto flood = MakeWorker(o);
  auto quiet = MakeWorker(o);
  ASSERT_TRUE(flood && quiet);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> flood_pushes{0};
  std::thread flooder([&] {  // the only thread that uses `flood` until joined
    for (int64_t f = 0; !stop.load(); ++f) {
      for (int64_t id = 0; id < 16; ++id) flood->Push(id, f * kSec / 1000, k.surprise.data());
      flood_pushes.fetch_add(16);
      flood->Poll();
    }
  });
  while (flood->stats().classified < 16) std::this_thread::yield();  // the flood is running
  constexpr int kQuiet = 20;
  for (int i = 0; i < kQuiet; ++i) {
    ASSERT_TRUE(quiet->Push(1, i * kSec / 10, k.happy.data()));
    ASSERT_TRUE(quiet->WaitIdle(10)) << "a quiet crop never completed";
  }
  stop.store(true);
  flooder.join();
  ASSERT_TRUE(flood->WaitIdle(10));
  const EmotionWorkerStats q = quiet->stats(), f = flood->stats();
  PrintStats("quiet", q);
  PrintStats("flood", f);
  std::printf("[ fairness ] quiet: worst wait %llu batch(es) beyond the running one; flood: %llu "
              "crops pushed, %llu classified, %llu dropped\n",
              (unsigned long long)q.max_wait_batches, (unsigned long long)flood_pushes.load(),
              (unsigned long long)f.classified, (unsigned long long)f.jobs.dropped);
  EXPECT_EQ(q.submitted, static_cast<uint64_t>(kQuiet));
  EXPECT_EQ(q.classified, static_cast<uint64_t>(kQuiet));
  EXPECT_EQ(q.jobs.dropped, 0u);
  EXPECT_LE(q.max_wait_batches, 1u) << "the quiet worker waited behind the flood";
  EXPECT_EQ(quiet->Latest(1)->label, kEmotionHappy);
  EXPECT_EQ(f.jobs.pushed, f.classified + f.failed + f.jobs.dropped) << "every flood crop accounted for";
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
  EXPECT_GT(f.jobs.dropped, 0u) << "the flood did not overload the pool";
#endif
}

}  // namespace
}  // namespace fg
