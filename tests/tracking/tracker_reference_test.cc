// FaceTracker against the TF.js reference: Human 3.3.6 running the same BlazeFace and
// FaceMesh models in Node (tools/tfjs/make-tracking-references.mjs ->
// tests/data/tracking/*.json), on still images rebuilt here from the same recipes.
//
// Proof asked by the tracking issue: same face boxes (IoU >= 0.9) and landmarks within
// 1.5 px mean on faces >= 150 px. The face box compared is the landmarks' bounding box (what
// facegraph reports as "box"; Human's own "face.box" is its crop box, 1.4x larger by
// construction). The raw detector boxes are compared too where both detectors see the same
// pixels: on square frames. On other aspects Human stretches the frame to 256x256 (its
// detector.square is off) while facegraph letterboxes it, so the detector sees a different
// (distorted) face there and its box legitimately differs; the landmarks and face boxes
// must still agree.
// Landmarks are compared with Human's unrounded mesh ("mesh_float"); the crops differ by
// design (Human: unrotated square 1.4x the detector box; here: MediaPipe's rotated 1.5x
// crop), so this also shows the result does not hinge on the crop.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "engine/tracking/face_tracker.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

struct Picture {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
};

// The recipes written in each reference file (tools/tfjs/README.md, "Tracking references").
Picture Build(const std::string& name) {
  Picture src, out;
  std::string err;
  if (name != "no_face") {
    EXPECT_TRUE(nn::testing::DecodePngRgb(FG_ASTRONAUT, &src.w, &src.h, &src.rgb, &err)) << err;
  }
  auto paste = [&](const Picture& p, int W, int H, int x0, int y0) {
    Picture c{W, H, std::vector<uint8_t>(static_cast<size_t>(W) * H * 3, 0)};
    for (int y = 0; y < p.h; ++y)
      for (int x = 0; x < p.w; ++x)
        for (int k = 0; k < 3; ++k) c.rgb[3 * ((y + y0) * W + x + x0) + k] = p.rgb[3 * (y * p.w + x) + k];
    return c;
  };
  if (name == "astronaut") return src;
  if (name == "astronaut_wide") return paste(src, 640, 512, 64, 0);
  if (name == "astronaut_flip") {
    out = src;
    for (int y = 0; y < src.h; ++y)
      for (int x = 0; x < src.w; ++x)
        for (int k = 0; k < 3; ++k) out.rgb[3 * (y * src.w + x) + k] = src.rgb[3 * (y * src.w + src.w - 1 - x) + k];
    return out;
  }
  if (name == "astronaut_small") {
    Picture half{256, 256, std::vector<uint8_t>(256 * 256 * 3)};
    for (int y = 0; y < 256; ++y)
      for (int x = 0; x < 256; ++x)
        for (int k = 0; k < 3; ++k) {
          auto at = [&](int xx, int yy) { return static_cast<int>(src.rgb[3 * (yy * 512 + xx) + k]); };
          half.rgb[3 * (y * 256 + x) + k] = static_cast<uint8_t>(
              (at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1) + 2) >> 2);
        }
    return paste(half, 640, 480, 192, 112);
  }
  out = {320, 240, std::vector<uint8_t>(320 * 240 * 3)};
  for (int y = 0; y < 240; ++y)
    for (int x = 0; x < 320; ++x) {
      uint8_t* p = &out.rgb[3 * (y * 320 + x)];
      p[0] = static_cast<uint8_t>(x * 255 / 319), p[1] = static_cast<uint8_t>(y * 255 / 239), p[2] = 128;
    }
  return out;
}

class TrackerReference : public ::testing::TestWithParam<std::string> {};

TEST_P(TrackerReference, MatchesHuman) {
  const std::string name = GetParam();
  std::ifstream in(std::string(FG_SOURCE_DIR) + "/tests/data/tracking/" + name + ".json");
  ASSERT_TRUE(in) << "missing reference for " << name;
  const auto ref = nlohmann::json::parse(in);
  const Picture pic = Build(name);
  ASSERT_EQ(pic.w, ref["image"]["width"].get<int>());
  ASSERT_EQ(pic.h, ref["image"]["height"].get<int>());

  TrackerOptions o;
  o.models_dir = nn::testing::ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(o, &err);
  ASSERT_TRUE(tracker) << err;
  ImageView view;
  ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, pic.w, pic.h, {pic.rgb.data()}, {3 * pic.w}, &view));

  const auto& ref_dets = ref["detector"]["detections"];
  const std::vector<Detection> dets = tracker->Detect(view);
  FrameFaces faces = tracker->Process(view, 0);
  if (ref["faces"].empty()) {
    EXPECT_TRUE(dets.empty()) << name;
    EXPECT_TRUE(faces.faces.empty()) << name;
    return;
  }
  ASSERT_EQ(dets.size(), ref_dets.size()) << name;
  ASSERT_EQ(faces.faces.size(), ref["faces"].size()) << name;

  // Detector box: Human's is in the stretched 256x256 input.
  const auto b = ref_dets[0]["box_256"];
  const float sx = pic.w / 256.0f, sy = pic.h / 256.0f;
  const Box hb{b[0].get<float>() * sx, b[1].get<float>() * sy, (b[2].get<float>() - b[0].get<float>()) * sx,
               (b[3].get<float>() - b[1].get<float>()) * sy};
  const float iou = IoU(hb, dets[0].box);
  if (pic.w == pic.h) {
    EXPECT_GE(iou, 0.9f) << name << ": detector box IoU with Human's";
    EXPECT_NEAR(dets[0].score, ref_dets[0]["score"].get<float>(), 0.05f) << name;
  }

  // Landmarks: mean distance to Human's mesh in frame pixels.
  const auto& hm = ref["faces"][0]["mesh_float"];
  const Face& f = faces.faces[0];
  ASSERT_EQ(f.landmarks.size(), hm.size());
  double sum = 0, worst = 0;
  for (size_t i = 0; i < hm.size(); ++i) {
    const double d = std::hypot(f.landmarks[i][0] - hm[i][0].get<double>(), f.landmarks[i][1] - hm[i][1].get<double>());
    sum += d;
    worst = std::max(worst, d);
  }
  const double mean = sum / static_cast<double>(hm.size());
  std::vector<std::array<float, 3>> human_pts;
  for (const auto& p : hm) human_pts.push_back({p[0].get<float>(), p[1].get<float>(), 0.0f});
  float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
  for (const auto& p : human_pts)
    x0 = std::min(x0, p[0]), y0 = std::min(y0, p[1]), x1 = std::max(x1, p[0]), y1 = std::max(y1, p[1]);
  const float box_iou = IoU(Box{x0, y0, x1 - x0, y1 - y0}, f.box);
  const float face_px = ref["faces"][0]["box"][2].get<float>();
  std::printf("[ %s ] face box IoU %.3f; detector IoU %.3f, score %.3f (Human %.3f); landmarks mean %.2f px, max %.2f px; face %.0f px\n",
              name.c_str(), box_iou, iou, dets[0].score, ref_dets[0]["score"].get<float>(), mean, worst, face_px);
  // The bounds hold for faces >= 150 px; below that a pixel is a larger share of the
  // face, so the bounds scale: 3 px mean and IoU 0.85 for the 83 px face.
  const bool large = face_px >= 150;
  EXPECT_GE(box_iou, large ? 0.9f : 0.85f) << name << ": face box IoU with the box of Human's mesh";
  EXPECT_LE(mean, large ? 1.5 : 3.0) << name << ": mean landmark distance to Human's mesh";
}

// Iris on: the iris centres and the refined eyelids against Human's 478-point mesh.
TEST(TrackerReferenceIris, IrisCentresMatchHuman) {
  for (const std::string name : {"astronaut", "astronaut_wide", "astronaut_flip"}) {
    std::ifstream in(std::string(FG_SOURCE_DIR) + "/tests/data/tracking/" + name + ".iris.json");
    ASSERT_TRUE(in) << name;
    const auto ref = nlohmann::json::parse(in);
    // The iris run records only Human's truncated mesh (Math.trunc of positive pixel
    // coordinates): the true value lies in [m, m + 1), so compare with m + 0.5.
    const auto& hm = ref["faces"][0]["mesh"];
    ASSERT_EQ(hm.size(), 478u);
    const Picture pic = Build(name);
    TrackerOptions o;
    o.models_dir = nn::testing::ModelsDir();
    o.iris = true;
    std::string err;
    auto tracker = FaceTracker::Create(o, &err);
    ASSERT_TRUE(tracker) << err;
    ImageView view;
    ASSERT_FALSE(ImageView::Wrap(PixelFormat::kRGB, pic.w, pic.h, {pic.rgb.data()}, {3 * pic.w}, &view));
    FrameFaces ff = tracker->Process(view, 0);
    ASSERT_EQ(ff.faces.size(), 1u);
    const auto& lm = ff.faces[0].landmarks;
    ASSERT_EQ(lm.size(), 478u);
    // The refined eyelids must agree with the mesh's own (a mirrored eye would put them
    // ~12 px off): same picture, iris off.
    TrackerOptions plain = o;
    plain.iris = false;
    auto t2 = FaceTracker::Create(plain, &err);
    ASSERT_TRUE(t2) << err;
    const auto mesh_only = t2->Process(view, 0).faces.at(0).landmarks;
    for (const auto& lid : {std::vector<int>{33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173},
                            std::vector<int>{263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398}}) {
      double d = 0;
      for (int i : lid) d += std::hypot(lm[i][0] - mesh_only[i][0], lm[i][1] - mesh_only[i][1]) / lid.size();
      EXPECT_LE(d, 1.5) << name << ": refined eyelid starting at landmark " << lid[0];
    }
    auto dist = [&](int i) {
      return std::hypot(lm[i][0] - (hm[i][0].get<double>() + 0.5), lm[i][1] - (hm[i][1].get<double>() + 0.5));
    };
    double iris_sum = 0;
    for (int i = 468; i < 478; ++i) iris_sum += dist(i);
    std::printf("[ %s iris ] centres %.2f / %.2f px, 10 iris points mean %.2f px\n", name.c_str(),
                dist(468), dist(473), iris_sum / 10);
    // Tolerances: the 1.5 px for the mean over the 10 iris points; 2.5 px for each
    // centre alone (one point, compared with a value truncated to whole pixels).
    EXPECT_LE(dist(468), 2.5) << name;
    EXPECT_LE(dist(473), 2.5) << name;
    EXPECT_LE(iris_sum / 10, 1.5) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(StillImages, TrackerReference,
                         ::testing::Values("astronaut", "astronaut_wide", "astronaut_small",
                                           "astronaut_flip", "no_face"));

}  // namespace
}  // namespace fg
