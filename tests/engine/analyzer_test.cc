// Analyzer (engine/graph/analyzer.h), the embedding API: frames in, FrameFaces out through the
// callback or the queue, without GStreamer.
//   - every frame pushed (kBlock) comes back once, in push order, with its pts;
//   - the tracking it delivers is the FaceTracker's own, frame for frame (same options,
//     detection inline so both runs are deterministic), and emotion labels arrive;
//   - kDropOldest never blocks the producer: with a slow consumer frames are dropped and
//     counted exactly (pushed = analysed + dropped);
//   - Push copies: the caller may overwrite its buffer at once;
//   - a wrong models folder fails Create with the file named; bad frames are refused, with
//     the reason;
//   - the queue: every result reaches a consumer on another thread, in push order, and Pop
//     ends once finished and drained; popping on the producer's thread after each Push loses
//     nothing; a caller that does not pop keeps the newest output_capacity results, the
//     rest counted as dropped (analysed = delivered + results_dropped); a callback-made
//     Analyzer has no queue.
#include "engine/graph/analyzer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

constexpr int kW = 640, kH = 480;

// The astronaut in a grey 640x480 frame, shifted right by dx pixels.
std::vector<uint8_t> Frame(int dx) { return nn::testing::AstronautOnGrey(kW, kH, dx); }

ImageView View(const std::vector<uint8_t>& f) {
  ImageView v;
  EXPECT_FALSE(ImageView::Wrap(PixelFormat::kRGB, kW, kH, {f.data()}, {3 * kW}, &v));
  return v;
}

constexpr int64_t kFrameNs = 33'333'333;

TEST(Analyzer, DeliversEveryFrameInOrderWithTheTrackersOwnResultsAndEmotion) {
  AnalyzerOptions o;
  o.input_policy = Backpressure::kBlock;
  o.tracker.async_detect = false;  // deterministic, to compare with a plain tracker
  o.emotion_options.rate_hz = 0;   // classify every frame
  std::vector<FrameFaces> got;
  std::string err;
  auto a = Analyzer::Create(o, [&](const FrameFaces& ff, const ImageView& v) {
    EXPECT_EQ(v.width, kW);
    got.push_back(ff);
  }, &err);
  ASSERT_TRUE(a) << err;

  TrackerOptions t = o.tracker;
  t.models_dir = FG_MODELS_DEFAULT_DIR;
  if (const char* env = std::getenv("FACEGRAPH_MODELS"); env && *env) t.models_dir = env;
  auto plain = FaceTracker::Create(t, &err);
  ASSERT_TRUE(plain) << err;

  constexpr int kFrames = 20;
  std::vector<FrameFaces> expected;
  for (int i = 0; i < kFrames; ++i) {
    std::vector<uint8_t> f = Frame(i);
    ASSERT_TRUE(a->Push(View(f), i * kFrameNs));
    expected.push_back(plain->Process(View(f), i * kFrameNs));
    std::fill(f.begin(), f.end(), 0);  // Push copied: overwriting now changes nothing
  }
  ASSERT_EQ(a->Finish(), "");
  EXPECT_FALSE(a->Push(View(Frame(0)), 0)) << "no frame after Finish";
  ASSERT_EQ(got.size(), static_cast<size_t>(kFrames));
  int with_emotion = 0;
  for (int i = 0; i < kFrames; ++i) {
    EXPECT_EQ(got[i].pts_ns, i * kFrameNs) << "push order, pts kept";
    ASSERT_EQ(got[i].faces.size(), expected[i].faces.size()) << "frame " << i;
    ASSERT_EQ(got[i].faces.size(), 1u) << "frame " << i;
    EXPECT_EQ(got[i].faces[0].id, expected[i].faces[0].id);
    EXPECT_EQ(got[i].faces[0].landmarks, expected[i].faces[0].landmarks) << "frame " << i;
    EXPECT_EQ(got[i].faces[0].box, expected[i].faces[0].box) << "frame " << i;
    with_emotion += got[i].faces[0].emotion.has_value();
  }
  // Classification runs beside the video on the worker: the first frames may go without.
  EXPECT_GE(with_emotion, kFrames / 2) << "emotion labels arrive";
  const AnalyzerStats s = a->stats();
  EXPECT_EQ(s.pushed, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(s.analysed, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.latency.count, static_cast<uint64_t>(kFrames));
}

TEST(Analyzer, DropOldestNeverBlocksAndCountsEveryDrop) {
  AnalyzerOptions o;
  o.input_policy = Backpressure::kDropOldest;
  o.input_capacity = 2;
  o.emotion = o.vitals = false;
  std::string err;
  auto a = Analyzer::Create(o, [](const FrameFaces&, const ImageView&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // a slow consumer
  }, &err);
  ASSERT_TRUE(a) << err;
  const std::vector<uint8_t> f = Frame(0);
  constexpr int kFrames = 40;
  for (int i = 0; i < kFrames; ++i) a->Push(View(f), i * kFrameNs);
  // A blocking Push would return only once all but the few frames in flight (input 2, two
  // graph edges of 2) were analysed; a non-blocking one returns long before.
  const uint64_t analysed_when_pushed = a->stats().analysed;
  ASSERT_EQ(a->Finish(), "");
  const AnalyzerStats s = a->stats();
  EXPECT_LT(analysed_when_pushed, static_cast<uint64_t>(kFrames - 10)) << "Push waited for the consumer";
  EXPECT_GT(s.dropped, 0u);
  EXPECT_EQ(s.pushed, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(s.analysed + s.dropped, s.pushed) << "every frame analysed or counted as dropped";
}

TEST(Analyzer, BadModelsFolderAndBadFramesAreRefusedByName) {
  AnalyzerOptions o;
  o.models_dir = "/nonexistent/models";
  std::string err;
  auto a = Analyzer::Create(o, [](const FrameFaces&, const ImageView&) {}, &err);
  EXPECT_FALSE(a);
  EXPECT_NE(err.find("/nonexistent/models"), std::string::npos) << err;

  AnalyzerOptions ok;
  ok.emotion = ok.vitals = false;
  auto b = Analyzer::Create(ok, nullptr, &err);
  EXPECT_FALSE(b);
  EXPECT_NE(err.find("callback"), std::string::npos) << err;
  auto c = Analyzer::Create(ok, [](const FrameFaces&, const ImageView&) {}, &err);
  ASSERT_TRUE(c) << err;
  ImageView empty;  // no pixels
  EXPECT_FALSE(c->Push(empty, 0));
  EXPECT_FALSE(c->Push(empty, 0, &err));
  EXPECT_NE(err.find("empty frame (0x0)"), std::string::npos) << err;
  const std::vector<uint8_t> f = Frame(0);
  ImageView short_stride = View(f);
  short_stride.strides[0] = 3 * kW - 1;
  EXPECT_FALSE(c->Push(short_stride, 0, &err));
  EXPECT_NE(err.find("stride 1919 is shorter than its row (1920 bytes)"), std::string::npos)
      << err;
  EXPECT_EQ(c->Finish(), "");
  EXPECT_EQ(c->stats().pushed, 0u);
  EXPECT_FALSE(c->Push(View(f), 0, &err));
  EXPECT_NE(err.find("after Finish"), std::string::npos) << err;
  EXPECT_FALSE(c->TryPop()) << "a callback-made Analyzer has no queue";
  EXPECT_FALSE(c->Pop()) << "and Pop does not wait for one";

  AnalyzerOptions zero = ok;
  zero.output_capacity = 0;
  EXPECT_FALSE(Analyzer::Create(zero, &err));
  EXPECT_NE(err.find("output_capacity"), std::string::npos) << err;
}

AnalyzerOptions QueueOptions() {
  AnalyzerOptions o;
  o.input_policy = Backpressure::kBlock;
  o.emotion = o.vitals = false;  // the queue is under test, not the analyses
  return o;
}

TEST(AnalyzerQueue, EveryResultReachesAConsumerThreadInPushOrder) {
  std::string err;
  auto a = Analyzer::Create(QueueOptions(), &err);
  ASSERT_TRUE(a) << err;
  std::vector<FrameFaces> got;
  // The consumer: Pop waits for each result and returns nullopt once Finish has run and
  // everything was taken.
  std::thread consumer([&] {
    while (std::optional<FrameFaces> ff = a->Pop()) got.push_back(std::move(*ff));
  });
  const std::vector<uint8_t> f = Frame(0);
  constexpr int kFrames = 30;
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE(a->Push(View(f), i * kFrameNs, &err)) << err;
  ASSERT_EQ(a->Finish(), "");
  consumer.join();
  ASSERT_EQ(got.size(), static_cast<size_t>(kFrames));
  for (int i = 0; i < kFrames; ++i) {
    EXPECT_EQ(got[i].pts_ns, i * kFrameNs) << "push order, pts kept";
    EXPECT_EQ(got[i].faces.size(), 1u) << "frame " << i;
  }
  const AnalyzerStats s = a->stats();
  EXPECT_EQ(s.analysed, static_cast<uint64_t>(kFrames));
  EXPECT_EQ(s.results_dropped, 0u);
  EXPECT_FALSE(a->Pop()) << "still nothing after the end";
}

TEST(AnalyzerQueue, PoppingOnTheProducersThreadAfterEachPushLosesNothing) {
  // The default output_capacity (64): between two Pushes at most the frames in flight (input
  // 2, two graph edges of 2, one in each of the three stages) are analysed, well under it.
  std::string err;
  auto a = Analyzer::Create(QueueOptions(), &err);
  ASSERT_TRUE(a) << err;
  const std::vector<uint8_t> f = Frame(0);
  constexpr int kFrames = 40;
  std::vector<int64_t> pts;
  for (int i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(a->Push(View(f), i * kFrameNs, &err)) << err;
    while (std::optional<FrameFaces> ff = a->TryPop()) pts.push_back(ff->pts_ns);
  }
  ASSERT_EQ(a->Finish(), "");
  while (std::optional<FrameFaces> ff = a->TryPop()) pts.push_back(ff->pts_ns);
  ASSERT_EQ(pts.size(), static_cast<size_t>(kFrames));
  for (int i = 0; i < kFrames; ++i) EXPECT_EQ(pts[i], i * kFrameNs);
  EXPECT_EQ(a->stats().results_dropped, 0u);
}

TEST(AnalyzerQueue, ACallerThatDoesNotPopKeepsTheNewestAndEveryDropIsCounted) {
  AnalyzerOptions o = QueueOptions();
  o.output_capacity = 4;
  std::string err;
  auto a = Analyzer::Create(o, &err);
  ASSERT_TRUE(a) << err;
  const std::vector<uint8_t> f = Frame(0);
  // 12 results fit in the ring (capacity 4 + 16 slots of headroom, spsc_edge.h), so the
  // first TryPop discards the 8 oldest and the newest 4 remain.
  constexpr int kFrames = 12;
  for (int i = 0; i < kFrames; ++i) ASSERT_TRUE(a->Push(View(f), i * kFrameNs, &err)) << err;
  ASSERT_EQ(a->Finish(), "");
  std::vector<int64_t> pts;
  while (std::optional<FrameFaces> ff = a->TryPop()) pts.push_back(ff->pts_ns);
  ASSERT_EQ(pts.size(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(pts[i], (kFrames - 4 + i) * kFrameNs) << "the newest, in order";
  const AnalyzerStats s = a->stats();
  EXPECT_EQ(s.analysed, static_cast<uint64_t>(kFrames))
      << "the analyser never waited for the caller";
  EXPECT_EQ(s.results_dropped, static_cast<uint64_t>(kFrames - 4));
}

}  // namespace
}  // namespace fg
