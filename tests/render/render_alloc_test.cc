// The avatar's frame path allocates nothing once set up: FaceAvatar::Process (mirror solve,
// instruction, timeline-free overlay, morphing, rasterizing, compositing; and the warp) in
// every output mode on RGB and NV12 frames, and warp mode with rigid-eyewear's layer, after
// warm-up frames with the same face. Every global operator new is counted while Process
// runs. Its own binary because it replaces the global allocation functions.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "engine/render/face_avatar.h"
#include "tests/alloc_counter.h"


namespace fg::render {
namespace {

std::string ModelsDir() {
  const char* env = std::getenv("FACEGRAPH_MODELS");
  return env ? env : FG_MODELS_DEFAULT_DIR;
}

TEST(RenderAlloc, ProcessDoesNotAllocateAfterWarmUp) {
  std::string err;
  auto avatar = FaceAvatar::Create(ModelsDir(), &err);
  ASSERT_TRUE(avatar) << err;
  InstructionError perr;
  ASSERT_TRUE(avatar->SetInstruction("neutral, then very surprised over 0.2 s", &perr));
  FrameFaces faces;
  Face f;
  f.id = 3;
  for (const auto& v : avatar->canonical().vertices)
    f.landmarks.push_back({160 + 8 * v[0], 120 - 8 * v[1], -8 * v[2]});
  faces.faces.push_back(f);
  for (PixelFormat format : {PixelFormat::kRGB, PixelFormat::kNV12}) {
    const int w = 320, h = 240;
    std::array<std::vector<uint8_t>, 3> planes;
    std::array<uint8_t*, 3> ptrs{};
    std::array<int, 3> strides{};
    for (int p = 0; p < PlaneCount(format); ++p) {
      strides[p] = ImageView::MinStride(format, w, p);
      planes[p].assign(static_cast<size_t>(strides[p]) * ImageView::PlaneRows(format, h, p), 100);
      ptrs[p] = planes[p].data();
    }
    draw::MutableImageView frame;
    ASSERT_FALSE(draw::MutableImageView::Wrap(format, w, h, ptrs, strides, &frame));
    for (OutputMode out : {OutputMode::kPip, OutputMode::kSideBySide, OutputMode::kReplace, OutputMode::kWarp}) {
      FaceAvatarOptions o;
      o.output = out;
      avatar->SetOptions(o);
      int64_t pts = 0;
      for (int i = 0; i < 40; ++i, pts += 33333333) avatar->Process(faces, pts, frame);
      fg::testing::AllocationCount count;
      for (int i = 0; i < 10; ++i, pts += 33333333) avatar->Process(faces, pts, frame);
      EXPECT_EQ(count.Stop(), 0) << PixelFormatName(format) << " output " << static_cast<int>(out);
      avatar->Reset();
    }
    // Warp mode with rigid-eyewear (the eyewear layer, warp.h) on a frame with a dark rim
    // across each eye's band (0.3 cm under the brows), which the layer finds and keeps.
    const float rim_y = 120 - 8 * (avatar->canonical().vertices[282][1] - 0.3f);
    for (int r = static_cast<int>(rim_y) - 1; r <= static_cast<int>(rim_y) + 1; ++r)
      for (int x = 160 - 8 * 5; x <= 160 + 8 * 5; ++x) {
        if (std::abs(x - 160) < 8) continue;  // the bridge left out
        if (format == PixelFormat::kRGB)
          for (int c = 0; c < 3; ++c) planes[0][static_cast<size_t>(r) * strides[0] + 3 * x + c] = 10;
        else
          planes[0][static_cast<size_t>(r) * strides[0] + x] = 20;
      }
    FaceAvatarOptions o;
    o.output = OutputMode::kWarp;
    o.rigid_eyewear = true;
    avatar->SetOptions(o);
    int64_t pts = 0;
    for (int i = 0; i < 40; ++i, pts += 33333333) avatar->Process(faces, pts, frame);
    fg::testing::AllocationCount count;
    for (int i = 0; i < 10; ++i, pts += 33333333) avatar->Process(faces, pts, frame);
    EXPECT_EQ(count.Stop(), 0) << PixelFormatName(format) << " warp, rigid-eyewear";
    avatar->Reset();
  }
}

}  // namespace
}  // namespace fg::render
