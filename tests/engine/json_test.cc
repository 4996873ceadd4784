// The JSON output contract: exact key names, omission of absent parts, lossless round trip,
// and parse errors that name the offending key.
#include "engine/json.h"

#include <cmath>

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
  f.vitals.emplace();
  f.vitals->bpm = 72.4f, f.vitals->snr = 6.5f, f.vitals->confidence = 0.83f;
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
  // FullFrame's vitals carry neither HRV, respiration nor the waveform: none of their keys.
  for (const char* k : {"sdnn_ms", "rmssd_ms", "respiration_bpm", "session_bpm", "session_confidence", "bvp", "bvp_fs"})
    EXPECT_FALSE(f["vitals"].contains(k)) << k;
  EXPECT_TRUE(f["blendshapes"].contains("jawOpen"));
}

// The vitals' optional parts: HRV, respiration and the waveform with its rate, each written
// under its documented key only when present, and read back exactly.
TEST(JsonContract, VitalsOptionalPartsRoundTrip) {
  FrameFaces fr;
  fr.pts_ns = 42;
  Face f;
  f.id = 0;  // the fixed-region pseudo-face
  f.box = {0, 0, 64, 48};
  f.score = 1;
  Vitals v;
  v.bpm = 61.25f, v.snr = 4.5f, v.confidence = 0.75f;
  v.sdnn_ms = 48.125f;
  v.rmssd_ms = 33.3f;
  v.respiration_bpm = 14.7f;
  v.session_bpm = 62.5f;
  v.session_confidence = 0.625f;
  for (int i = 0; i < 300; ++i) v.bvp.push_back(std::sin(0.21f * i) * 1.3f + 1e-6f * i);
  v.bvp_fs = 30;
  f.vitals = v;
  fr.faces.push_back(f);
  Face only_hrv = f;  // SDNN without RMSSD, no respiration, no waveform
  only_hrv.id = 3;
  only_hrv.vitals->rmssd_ms.reset();
  only_hrv.vitals->respiration_bpm.reset();
  only_hrv.vitals->session_bpm.reset();
  only_hrv.vitals->session_confidence.reset();
  only_hrv.vitals->bvp.clear();
  only_hrv.vitals->bvp_fs = 0;
  fr.faces.push_back(only_hrv);

  const std::string line = ToJsonLine(fr);
  const auto j = nlohmann::json::parse(line);
  const auto& jv = j["faces"][0]["vitals"];
  EXPECT_FLOAT_EQ(jv["sdnn_ms"].get<float>(), 48.125f);
  EXPECT_FLOAT_EQ(jv["rmssd_ms"].get<float>(), 33.3f);
  EXPECT_FLOAT_EQ(jv["respiration_bpm"].get<float>(), 14.7f);
  EXPECT_FLOAT_EQ(jv["session_bpm"].get<float>(), 62.5f);
  EXPECT_FLOAT_EQ(jv["session_confidence"].get<float>(), 0.625f);
  ASSERT_TRUE(jv["bvp"].is_array());
  EXPECT_EQ(jv["bvp"].size(), 300u);
  EXPECT_EQ(jv["bvp_fs"].get<float>(), 30.0f);
  const auto& jh = j["faces"][1]["vitals"];
  EXPECT_TRUE(jh.contains("sdnn_ms"));
  for (const char* k : {"rmssd_ms", "respiration_bpm", "session_bpm", "session_confidence", "bvp", "bvp_fs"})
    EXPECT_FALSE(jh.contains(k)) << k;

  std::string err;
  auto back = FromJsonLine(line, &err);
  ASSERT_TRUE(back.has_value()) << err;
  EXPECT_EQ(*back, fr) << "every vitals field is read back bit-exact";
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
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"vitals":{"bpm":1,"snr":1,"confidence":1,"rmssd_ms":"x"}}]})", "faces[0].vitals.rmssd_ms"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"vitals":{"bpm":1,"snr":1,"confidence":1,"bvp":[1,"x"],"bvp_fs":30}}]})", "faces[0].vitals.bvp[1]"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"vitals":{"bpm":1,"snr":1,"confidence":1,"bvp":[1,2]}}]})", "faces[0].vitals.bvp_fs"},
                 Case{R"({"pts":1,"faces":[{"id":1,"score":1,"box":[0,0,1,1],"vitals":{"bpm":1,"snr":1,"confidence":1,"bvp":7}}]})", "faces[0].vitals.bvp"},
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
