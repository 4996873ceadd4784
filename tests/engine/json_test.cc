// The JSON output contract: exact key names, omission of absent parts, lossless round trip,
// and parse errors that name the offending key.
#include "engine/json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fg {
namespace {

FrameFaces FullFrame() {
  FrameFaces fr;
  fr.pts_ns = 1'234'567'890'123;
  Face f;
  f.id = 7;
  f.box = {10.5f, 20.25f, 100.f, 120.125f};
  f.score = 0.9876543f;
  for (int i = 0; i < kMeshLandmarks; ++i)
    f.landmarks.push_back({0.1f * i, 1.0f / (i + 1), -0.333333f * i});
  f.pose = HeadPose{12.5f, -3.25f, 1.0e-7f, std::array<float, 3>{1.f, 2.f, 300.f}};
  f.emotion = Emotion{"happy", {{"happy", 0.8f}, {"neutral", 0.15f}, {"sad", 0.05f}}, 0.8f, 0.7f, 0.3f};
  f.actions = {{"eyeOpenLeft", 0.9f}, {"blinkRate", 14.0f}};
  f.vitals = Vitals{72.4f, 6.5f, 0.83f};
  f.blendshapes = {{"jawOpen", 0.31f}, {"eyeBlinkLeft", 0.0f}};
  fr.faces.push_back(f);
  Face g;  // tracking only
  g.id = 8;
  g.box = {1, 2, 3, 4};
  g.score = 0.5f;
  fr.faces.push_back(g);
  return fr;
}

TEST(JsonContract, RoundTripIsLossless) {
  const FrameFaces fr = FullFrame();
  const std::string line = ToJsonLine(fr);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one object per line";
  std::string err;
  auto back = FromJsonLine(line, &err);
  ASSERT_TRUE(back.has_value()) << err;
  EXPECT_EQ(*back, fr) << line.substr(0, 300);
}

TEST(JsonContract, KeyNamesAreTheDocumentedOnes) {
  const auto j = nlohmann::json::parse(ToJsonLine(FullFrame()));
  EXPECT_TRUE(j.contains("pts"));
  ASSERT_TRUE(j["faces"].is_array());
  const auto& f = j["faces"][0];
  for (const char* k : {"id", "box", "score", "landmarks", "pose", "emotion", "vitals", "blendshapes"})
    EXPECT_TRUE(f.contains(k)) << k;
  EXPECT_EQ(f["box"].size(), 4u);
  EXPECT_EQ(f["landmarks"].size(), 468u);
  EXPECT_EQ(f["landmarks"][0].size(), 3u);
  for (const char* k : {"yaw", "pitch", "roll"}) EXPECT_TRUE(f["pose"].contains(k)) << k;
  EXPECT_EQ(f["emotion"]["label"], "happy");
  EXPECT_TRUE(f["emotion"]["scores"].contains("neutral"));
  for (const char* k : {"confidence", "valence", "arousal"}) EXPECT_TRUE(f["emotion"].contains(k)) << k;
  EXPECT_TRUE(f["actions"].contains("blinkRate"));
  for (const char* k : {"bpm", "snr", "confidence"}) EXPECT_TRUE(f["vitals"].contains(k)) << k;
  EXPECT_TRUE(f["blendshapes"].contains("jawOpen"));
}

TEST(JsonContract, AbsentPartsAreOmitted) {
  const auto j = nlohmann::json::parse(ToJsonLine(FullFrame()));
  const auto& g = j["faces"][1];
  for (const char* k : {"landmarks", "pose", "emotion", "vitals", "blendshapes", "actions"})
    EXPECT_FALSE(g.contains(k)) << k;
  EXPECT_EQ(ToJsonLine(FrameFaces{}), R"({"faces":[],"pts":-1})");
}

TEST(JsonContract, UnknownKeysAreIgnored) {
  std::string err;
  auto fr = FromJsonLine(
      R"({"pts":5,"future":{"x":1},"faces":[{"id":1,"box":[0,0,1,1],"score":1,"gaze":[0,1]}]})", &err);
  ASSERT_TRUE(fr.has_value()) << err;
  EXPECT_EQ(fr->pts_ns, 5);
  EXPECT_EQ(fr->faces.at(0).id, 1);
}

TEST(JsonContract, ErrorsNameTheKey) {
  struct Case { const char* line; const char* must_name; };
  for (Case c : {Case{"[1,2]", "not a JSON object"}, Case{"{\"faces\":[]}", "frame.pts"},
                 Case{"{\"pts\":1}", "frame.faces"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1]}]})", "faces[0].box"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"landmarks":[[1,2]]}]})", "faces[0].landmarks[0]"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"vitals":{"bpm":"x"}}]})", "faces[0].vitals.bpm"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"blendshapes":{"jawOpen":null}}]})", "blendshapes.jawOpen"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"actions":{"smile":"x"}}]})", "actions.smile"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"emotion":{"label":"sad","scores":{},"valence":"x"}}]})", "emotion.valence"},
                 Case{"{\"pts\":1,\"faces\":[", "not a JSON object"}}) {
    std::string err;
    EXPECT_FALSE(FromJsonLine(c.line, &err).has_value()) << c.line;
    EXPECT_NE(err.find(c.must_name), std::string::npos) << c.line << " -> " << err;
  }
}

}  // namespace
}  // namespace fg
