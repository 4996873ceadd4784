// FaceTracker with shared_inference (face_tracker.h): every tracker of the process runs its
// networks through one process-wide InferencePool per model (engine/nn/inference_pool.h).
//
// What is proven (each assertion fails if the sharing breaks):
//   - three trackers alive together load facemesh.json and blazeface.json once each (the
//     ModelCache's load counter per path) and hold the same mesh pool and the same detector
//     pool, whose contexts are bounded by the runners (one per core), not by the trackers;
//   - every mesh run of the three went through that one pool (its completed count grows by at
//     least one per tracker and frame with a face);
//   - results are bit-identical to a tracker with its own networks (inference private), frame
//     by frame over a moving face;
//   - four trackers on four threads at once (the caller-runs path of InferencePool::Call under
//     contention) each get their own faces: identical to the private tracker's.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "engine/image.h"
#include "engine/nn/model_cache.h"
#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

constexpr int kW = 640, kH = 480;

// The astronaut in a grey 640x480 frame, shifted right by dx pixels.
std::vector<uint8_t> Frame(int dx) { return nn::testing::AstronautOnGrey(kW, kH, dx); }

std::unique_ptr<FaceTracker> MakeTracker(bool shared) {
  TrackerOptions o;
  o.models_dir = nn::testing::ModelsDir();
  o.async_detect = false;  // deterministic: detection inline on its frames
  o.shared_inference = shared;
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

uint64_t Loads(const char* name) {
  return nn::ModelCache::Global().LoadsOf(nn::testing::ModelsDir() + "/" + name);
}

TEST(TrackerPool, TrackersShareOneModelAndOnePoolPerNetwork) {
  const uint64_t face0 = Loads("blazeface.json"), mesh0 = Loads("facemesh.json");
  auto a = MakeTracker(true), b = MakeTracker(true), c = MakeTracker(true);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(Loads("blazeface.json") - face0, 1u) << "one load for three trackers";
  EXPECT_EQ(Loads("facemesh.json") - mesh0, 1u);
  const nn::InferencePool* mesh = a->mesh_pool();
  ASSERT_NE(mesh, nullptr);
  EXPECT_EQ(b->mesh_pool(), mesh);
  EXPECT_EQ(c->mesh_pool(), mesh);
  ASSERT_NE(a->detector_pool(), nullptr);
  EXPECT_EQ(b->detector_pool(), a->detector_pool());
  EXPECT_NE(a->detector_pool(), mesh);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(mesh->runners(), std::min(cores, 64)) << "contexts per core, not per tracker";
  EXPECT_EQ(mesh->max_batch(), 1);

  auto own = MakeTracker(false);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->mesh_pool(), nullptr);
  const uint64_t runs0 = mesh->stats().completed;
  int with_face = 0;
  for (int i = 0; i < 10; ++i) {
    const std::vector<uint8_t> f = Frame(3 * i);
    const FrameFaces ro = Step(*own, f, i);
    for (FaceTracker* t : {a.get(), b.get(), c.get()})
      ASSERT_EQ(Step(*t, f, i), ro) << "frame " << i << ": the pool must give bit-identical results";
    with_face += ro.faces.empty() ? 0 : 1;
  }
  EXPECT_EQ(with_face, 10) << "the comparison must be over frames with a face";
  EXPECT_GE(mesh->stats().completed - runs0, 3u * 10u) << "every tracker's mesh ran in the pool";
}

TEST(TrackerPool, TrackersOnManyThreadsEachGetTheirOwnFaces) {
  constexpr int kThreads = 4, kFrames = 12;
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < kFrames; ++i) frames.push_back(Frame(2 * i));
  std::vector<FrameFaces> want;
  {
    auto own = MakeTracker(false);
    ASSERT_TRUE(own);
    for (int i = 0; i < kFrames; ++i) want.push_back(Step(*own, frames[i], i));
  }
  std::vector<std::unique_ptr<FaceTracker>> trackers;
  for (int k = 0; k < kThreads; ++k) trackers.push_back(MakeTracker(true));
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < kFrames; ++i) {
        ImageView v;
        if (ImageView::Wrap(PixelFormat::kRGB, kW, kH, {frames[i].data()}, {3 * kW}, &v)) continue;
        if (!(trackers[k]->Process(v, static_cast<int64_t>(i) * 33'333'333) == want[i])) ++mismatches[k];
      }
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < kThreads; ++k) EXPECT_EQ(mismatches[k], 0) << "tracker " << k;
  EXPECT_EQ(trackers[0]->mesh_pool(), trackers[3]->mesh_pool());
}

}  // namespace
}  // namespace fg
