// FaceOverlay::Draw allocates nothing, with every part on and every kind of face data
// (emotion bars, action bars, blink line, vitals text and trace, wireframe, iris, pose):
// every global operator new is counted while Draw runs. Its own binary because it replaces
// the global allocation functions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/draw/face_overlay.h"
#include "tests/alloc_counter.h"
#include "tests/draw/draw_test_util.h"


namespace fg::draw {
namespace {

TEST(FaceOverlayAlloc, DrawDoesNotAllocate) {
  Face f;
  f.id = 12345678;
  f.box = {40.f, 30.f, 60.f, 70.f};
  for (int i = 0; i < kMeshLandmarks + 10; ++i)
    f.landmarks.push_back({45.f + (i % 26) * 2.f, 35.f + (i / 26) * 3.f, 0.f});
  f.pose = HeadPose{10.f, 5.f, 3.f, std::nullopt};
  Emotion e;
  for (const char* name : {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"})
    e.scores[name] = 1.f / 7;
  e.scores["someLongerClassNameThanSso"] = 0.5f;
  e.label = "surprise";
  e.confidence = 0.4f;
  f.emotion = e;
  f.actions = {{"eyeOpenLeft", 0.9f}, {"mouthOpen", 0.1f}, {"blinks", 3.f},
               {"blinkRate", 12.f}, {"aVeryLongActionKeyBeyondSso", 0.3f}};
  Vitals v;
  v.bpm = 72.f;
  v.confidence = 0.3f;
  v.bvp_fs = 30.f;
  for (int i = 0; i < 600; ++i) v.bvp.push_back(static_cast<float>(i % 17) / 5.f - 1.5f);
  f.vitals = v;
  FrameFaces faces;
  faces.faces = {f, f};
  faces.faces[1].box.x = 150.f;  // its panel goes left

  static int* volatile probe = nullptr;
  const FaceOverlay overlay(MeshEdges({{0, 1, 27}, {27, 28, 1}}));
  for (PixelFormat format : testing::AllFormats()) {
    testing::Frame fr(format, 200, 180);
    OverlayOptions o;
    o.mesh = MeshStyle::kWireframe;
    {
      fg::testing::AllocationCount probe_count;
      probe = new int(1);  // proves the hook is active (volatile: the pair cannot be elided)
      delete probe;
      ASSERT_EQ(probe_count.Stop(), 1) << "operator new hook is not active";
    }
    fg::testing::AllocationCount count;
    overlay.Draw(fr.img, faces, o);
    EXPECT_EQ(count.Stop(), 0) << PixelFormatName(format) << ": Draw allocated";
    EXPECT_TRUE(fr.GuardsIntact());
  }
}

}  // namespace
}  // namespace fg::draw
