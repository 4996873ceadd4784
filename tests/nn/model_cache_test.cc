// ModelCache (engine/nn/model_cache.h): models are loaded once per process and shared.
//
// What is proven:
//   - Two FaceTrackers and two EmotionClassifiers alive in one process (what two facetrack /
//     faceemotion element instances hold) load each model file once (counted by the cache's
//     LoadModel counter per path) and prepare each plan once;
//   - their results are bit-identical to trackers / classifiers that loaded their own copies
//     (cache switched off), frame by frame over a moving face;
//   - ref-counting: the model is freed with its last user and loaded again by the next;
//   - the key is path + checksum: a weight shard changed on disk under the same name loads anew;
//   - concurrent opens of one model load it once; a failed load is not remembered.
#include "engine/nn/model_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "engine/emotion/emotion_classifier.h"
#include "engine/image.h"
#include "engine/nn/session.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

constexpr int kW = 640, kH = 480;

// The astronaut in a grey 640x480 frame, shifted right by dx pixels.
std::vector<uint8_t> Frame(int dx) { return nn::testing::AstronautOnGrey(kW, kH, dx); }

std::unique_ptr<FaceTracker> MakeTracker() {
  TrackerOptions o;
  o.models_dir = nn::testing::ModelsDir();
  o.async_detect = false;  // deterministic: detection inline on its frames
  // The Session path (each tracker its own contexts on the cache's plans); the shared pools are
  // tests/tracking/tracker_pool_test.cc's.
  o.shared_inference = false;
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

class ModelCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { nn::ModelCache::Global().SetEnabled(true); }
  void TearDown() override { nn::ModelCache::Global().SetEnabled(true); }
  static std::string Model(const char* name) { return nn::testing::ModelsDir() + "/" + name; }
  static uint64_t Loads(const char* name) { return nn::ModelCache::Global().LoadsOf(Model(name)); }
};

TEST_F(ModelCacheTest, TwoTrackersLoadEachModelOnceAndMatchSeparateLoading) {
  nn::ModelCache& cache = nn::ModelCache::Global();
  const uint64_t face0 = Loads("blazeface.json"), mesh0 = Loads("facemesh.json");
  const uint64_t prepares0 = cache.stats().plan_prepares;
  auto a = MakeTracker();
  auto b = MakeTracker();
  ASSERT_TRUE(a && b);
  // The tracker opens BlazeFace twice itself (the whole frame and the zoom tiles): still once.
  EXPECT_EQ(Loads("blazeface.json") - face0, 1u);
  EXPECT_EQ(Loads("facemesh.json") - mesh0, 1u);
  EXPECT_EQ(cache.stats().plan_prepares - prepares0, 2u) << "one plan per model and backend";

  // The same trackers with their own copies of every model.
  cache.SetEnabled(false);
  auto own = MakeTracker();
  cache.SetEnabled(true);
  ASSERT_TRUE(own);
  EXPECT_EQ(Loads("facemesh.json") - mesh0, 2u) << "the cache-off tracker loads its own copy";

  int with_face = 0;
  for (int i = 0; i < 12; ++i) {
    const std::vector<uint8_t> f = Frame(2 * i);
    const FrameFaces ra = Step(*a, f, i), rb = Step(*b, f, i), ro = Step(*own, f, i);
    ASSERT_EQ(ra, ro) << "frame " << i << ": shared models must give bit-identical results";
    ASSERT_EQ(rb, ro) << "frame " << i;
    with_face += ra.faces.empty() ? 0 : 1;
  }
  EXPECT_EQ(with_face, 12) << "the comparison must be over frames with a face";
}

TEST_F(ModelCacheTest, TwoClassifiersShareOneModelWithIdenticalResults) {
  const uint64_t before = Loads("emotion.json");
  std::string err;
  auto a = EmotionClassifier::Create(Model("emotion.json"), "auto", &err);
  auto b = EmotionClassifier::Create(Model("emotion.json"), "auto", &err);
  ASSERT_TRUE(a && b) << err;
  EXPECT_EQ(Loads("emotion.json") - before, 1u);
  nn::ModelCache::Global().SetEnabled(false);
  auto own = EmotionClassifier::Create(Model("emotion.json"), "auto", &err);
  nn::ModelCache::Global().SetEnabled(true);
  ASSERT_TRUE(own) << err;
  const std::vector<float> crop = nn::testing::XorshiftTensor(7, kEmotionCropElements);
  EmotionProbs pa{}, pb{}, po{};
  ASSERT_TRUE(a->Classify(crop.data(), &pa));
  ASSERT_TRUE(own->Classify(crop.data(), &po));
  ASSERT_TRUE(b->Classify(crop.data(), &pb));
  EXPECT_EQ(pa, po);
  EXPECT_EQ(pb, po);
}

TEST_F(ModelCacheTest, SessionsShareOnePlanAndTheModelDiesWithItsLastUser) {
  const std::string path = Model("emotion.json");
  const uint64_t before = Loads("emotion.json");
  auto s1 = nn::Session::Open(path, "reference");
  auto s2 = nn::Session::Open(path, "reference");
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ((*s1)->prepared().get(), (*s2)->prepared().get());
  EXPECT_NE((*s1)->input(0), (*s2)->input(0)) << "buffers and contexts stay per session";
  EXPECT_EQ(Loads("emotion.json") - before, 1u);
  std::weak_ptr<const nn::PreparedModel> alive = (*s1)->prepared();
  s1 = nn::Session::Open(path + ".missing", "reference");  // releases the first session
  EXPECT_FALSE(alive.expired()) << "the second session still holds it";
  s2 = nn::Session::Open(path + ".missing", "reference");
  EXPECT_TRUE(alive.expired()) << "freed with its last user";
  auto s3 = nn::Session::Open(path, "reference");
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(Loads("emotion.json") - before, 2u) << "loaded again after it was freed";
}

TEST_F(ModelCacheTest, ChangedWeightsUnderTheSameNameAreANewModel) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("fg_model_cache_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  for (const char* f : {"emotion.json", "emotion.bin"})
    std::filesystem::copy_file(Model(f), dir / f,
                               std::filesystem::copy_options::overwrite_existing);
  const std::string path = (dir / "emotion.json").string();
  nn::ModelCache& cache = nn::ModelCache::Global();
  auto first = cache.Load(path);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto same = cache.Load(path);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(first.value().get(), same.value().get());
  {  // flip one byte of the weights, same size, same name
    std::fstream f(dir / "emotion.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(1000);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(1000);
    f.write(&c, 1);
  }
  auto changed = cache.Load(path);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(first.value().get(), changed.value().get());
  EXPECT_EQ(cache.LoadsOf(path), 2u);
  std::filesystem::remove_all(dir);
}

TEST_F(ModelCacheTest, ConcurrentOpensLoadOnceAndFailuresAreNotRemembered) {
  const uint64_t before = Loads("facemesh.json");
  std::vector<std::unique_ptr<nn::Session>> sessions(4);
  std::vector<std::thread> threads;
  for (auto& s : sessions)
    threads.emplace_back([&s] {
      auto r = nn::Session::Open(Model("facemesh.json"), "auto");
      if (r.ok()) s = std::move(r).value();
    });
  for (auto& t : threads) t.join();
  for (auto& s : sessions) ASSERT_TRUE(s);
  EXPECT_EQ(Loads("facemesh.json") - before, 1u);

  const std::string bad = Model("no-such-model.json");
  auto r1 = nn::Session::Open(bad, "auto");
  auto r2 = nn::Session::Open(bad, "auto");
  ASSERT_FALSE(r1.ok());
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("no-such-model.json"), std::string::npos)
      << r2.status().message();
  EXPECT_EQ(nn::ModelCache::Global().LoadsOf(bad), 2u) << "a failed load is retried";
}

}  // namespace
}  // namespace fg
