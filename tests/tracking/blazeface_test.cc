// BlazeFace decoding and weighted NMS: synthetic outputs with known answers, then the real
// model's TF.js outputs on the astronaut photo (tests/data/nn/blazeface.json).
#include "engine/tracking/blazeface.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>

namespace fg {
namespace {

struct Raw {
  std::vector<float> l16 = std::vector<float>(512, -20.f), r16 = std::vector<float>(512 * 16, 0.f);
  std::vector<float> l32 = std::vector<float>(384, -20.f), r32 = std::vector<float>(384 * 16, 0.f);
};

TEST(BlazeFace, AnchorGridAndDecodeOfOneCandidate) {
  BlazeFaceDecoder dec(256);
  Raw raw;
  // Row 2*(3*16+5)+1: stride-16 cell (gx=5, gy=3), second anchor: centre (88, 56).
  const int row = 2 * (3 * 16 + 5) + 1;
  raw.l16[row] = 2.0f;  // sigmoid = 0.8808
  float* r = &raw.r16[16 * row];
  r[0] = 4, r[1] = -2, r[2] = 40, r[3] = 50;
  for (int k = 0; k < 6; ++k) r[4 + 2 * k] = static_cast<float>(k), r[5 + 2 * k] = -static_cast<float>(k);
  std::vector<Detection> d;
  dec.Decode(raw.l16.data(), raw.r16.data(), raw.l32.data(), raw.r32.data(), 0.5f, &d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NEAR(d[0].score, 1 / (1 + std::exp(-2.0f)), 1e-6);
  EXPECT_FLOAT_EQ(d[0].box.x, 88 + 4 - 20);
  EXPECT_FLOAT_EQ(d[0].box.y, 56 - 2 - 25);
  EXPECT_FLOAT_EQ(d[0].box.w, 40);
  EXPECT_FLOAT_EQ(d[0].keypoints[5][0], 88 + 5);
  EXPECT_FLOAT_EQ(d[0].keypoints[5][1], 56 - 5);
  // A stride-32 row: cell (gx=7, gy=7), anchor 5: centre (240, 240).
  raw.l32[6 * (7 * 8 + 7) + 5] = 3.0f;
  d.clear();
  dec.Decode(raw.l16.data(), raw.r16.data(), raw.l32.data(), raw.r32.data(), 0.5f, &d);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_FLOAT_EQ(d[1].keypoints[0][0], 240);
}

TEST(BlazeFace, ThresholdAndNanAreRespected) {
  BlazeFaceDecoder dec(256);
  Raw raw;
  raw.l16[0] = std::log(0.49f / 0.51f);  // just under 0.5
  raw.l16[1] = std::numeric_limits<float>::quiet_NaN();
  raw.l16[2] = std::log(0.51f / 0.49f);
  std::vector<Detection> d;
  dec.Decode(raw.l16.data(), raw.r16.data(), raw.l32.data(), raw.r32.data(), 0.5f, &d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_GT(d[0].score, 0.5f);
}

TEST(BlazeFace, WeightedNmsAveragesOverlapsKeepsSeparateFaces) {
  std::vector<Detection> d(4);
  d[0].box = {0, 0, 10, 10}, d[0].score = 0.9f;
  d[1].box = {1, 0, 10, 10}, d[1].score = 0.3f;   // overlaps d[0] (IoU 0.82)
  d[2].box = {50, 50, 10, 10}, d[2].score = 0.6f; // a second face
  d[3].box = {51, 51, 10, 10}, d[3].score = 0.6f; // overlaps d[2]
  WeightedNms(d, 0.5f, 10);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_NEAR(d[0].box.x, (0 * 0.9f + 1 * 0.3f) / 1.2f, 1e-6) << "score-weighted average";
  EXPECT_NEAR(d[1].box.x, 50.5f, 1e-5);
  std::vector<Detection> e = {d[0], d[1]};
  WeightedNms(e, 0.5f, 1);
  EXPECT_EQ(e.size(), 1u) << "max_faces caps the result";
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 1, 1}, {5, 5, 1, 1}), 0.0f);
}

// The real detector's outputs (TF.js cpu backend) on the astronaut photo (crop x0=80, y0=0,
// side 288, nearest-resized to 256): one face, keypoints in anatomical order.
TEST(BlazeFace, RealModelOutputsGiveOneAnatomicallyOrderedFace) {
  std::ifstream in(std::string(FG_SOURCE_DIR) + "/tests/data/nn/blazeface.json");
  ASSERT_TRUE(in) << "tests/data/nn/blazeface.json missing (tools/tfjs/make-references.mjs)";
  const auto j = nlohmann::json::parse(in);
  const auto& c = j["cases"][0];
  ASSERT_EQ(c["name"], "astronaut");
  std::map<std::string, std::vector<float>> out;
  for (const auto& o : c["outputs"]) out[o["name"]] = o["values"].get<std::vector<float>>();
  ASSERT_EQ(out["Identity"].size(), 512u);
  ASSERT_EQ(out["Identity_2"].size(), 512u * 16);
  BlazeFaceDecoder dec(256);
  std::vector<Detection> d;
  dec.Decode(out["Identity"].data(), out["Identity_2"].data(), out["Identity_1"].data(),
             out["Identity_3"].data(), 0.5f, &d);
  ASSERT_FALSE(d.empty());
  WeightedNms(d, 0.3f, 4);
  ASSERT_EQ(d.size(), 1u) << "one person in the photo";
  const Detection& f = d[0];
  EXPECT_GT(f.score, 0.5f);
  const auto& k = f.keypoints;
  EXPECT_LT(k[0][0], k[1][0]) << "subject's right eye is on the image's left";
  EXPECT_GT(k[2][1], k[0][1]) << "nose below the eyes";
  EXPECT_GT(k[3][1], k[2][1]) << "mouth below the nose";
  EXPECT_GT(k[2][0], k[0][0]);
  EXPECT_LT(k[2][0], k[1][0]) << "nose between the eyes";
  for (int i = 0; i < 4; ++i) {
    EXPECT_GT(k[i][0], f.box.x);
    EXPECT_LT(k[i][0], f.box.x + f.box.w);
    EXPECT_GT(k[i][1], f.box.y);
    EXPECT_LT(k[i][1], f.box.y + f.box.h);
  }
  // In photo pixels the face is roughly 100-160 px wide (the photo is 512 px).
  const float photo_w = f.box.w * 288.0f / 256.0f;
  EXPECT_GT(photo_w, 80.0f);
  EXPECT_LT(photo_w, 220.0f);
}

}  // namespace
}  // namespace fg
