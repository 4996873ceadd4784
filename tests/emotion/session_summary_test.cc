// SessionSummary fed timestamped frames: time per label by pts deltas (irregular intervals,
// the last frame at the median interval), time-weighted valence/arousal, blinks from the
// running count (restarts included) and their rate, tracks appearing and leaving, frames
// without pts, and the JSON summary line. Expected values are worked out by hand in the
// comments.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "engine/emotion/session_summary.h"

namespace fg {
namespace {

constexpr int64_t kMs = 1'000'000;

Face WithEmotion(int64_t id, const std::string& label, std::optional<float> valence = {},
                 std::optional<float> arousal = {}) {
  Face f;
  f.id = id;
  Emotion e;
  e.label = label;
  e.scores[label] = 0.9f;
  e.valence = valence;
  e.arousal = arousal;
  f.emotion = e;
  return f;
}

FrameFaces Frame(int64_t pts, std::vector<Face> faces) {
  FrameFaces f;
  f.pts_ns = pts;
  f.faces = std::move(faces);
  return f;
}

TEST(SessionSummary, TimePerLabelFollowsPtsNotFrameCounts) {
  // Intervals 40, 60, 20, 80 ms; the last frame lasts their median, 50 ms.
  //   happy: 40 + 60 + 50 = 150 ms; sad: 20 + 80 = 100 ms. By frame counts it would be 3:2.
  SessionSummary s;
  s.Add(Frame(0, {WithEmotion(1, "happy")}));
  s.Add(Frame(40 * kMs, {WithEmotion(1, "happy")}));
  s.Add(Frame(100 * kMs, {WithEmotion(1, "sad")}));
  s.Add(Frame(120 * kMs, {WithEmotion(1, "sad")}));
  s.Add(Frame(200 * kMs, {WithEmotion(1, "happy")}));
  s.Finish();
  EXPECT_EQ(s.median_interval_ns(), 50 * kMs);
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].id, 1);
  EXPECT_EQ(t[0].frames, 5u);
  EXPECT_NEAR(t[0].seconds, 0.250, 1e-9);
  EXPECT_NEAR(t[0].emotion_seconds.at("happy"), 0.150, 1e-9);
  EXPECT_NEAR(t[0].emotion_seconds.at("sad"), 0.100, 1e-9);
  EXPECT_NEAR(t[0].emotion_share.at("happy"), 0.6, 1e-9);
  EXPECT_NEAR(t[0].emotion_share.at("sad"), 0.4, 1e-9);
  EXPECT_EQ(t[0].first_pts_ns, 0);
  EXPECT_EQ(t[0].last_pts_ns, 200 * kMs);
  EXPECT_FALSE(t[0].valence);
  EXPECT_FALSE(t[0].blinks);
  EXPECT_FALSE(t[0].blinks_per_minute);
}

TEST(SessionSummary, ValenceAndArousalAreTimeWeighted) {
  // Intervals 900 and 100 ms, median 500 ms. Valence 1 for 0.9 s, -1 for 0.1 s, 0 for 0.5 s:
  // (0.9 - 0.1 + 0) / 1.5 = 0.5333 (the plain mean over frames would be 0). Arousal only on
  // the first two frames: (0.5 * 0.9 + 0.2 * 0.1) / 1.0 = 0.47.
  SessionSummary s;
  s.Add(Frame(0, {WithEmotion(4, "happy", 1.f, 0.5f)}));
  s.Add(Frame(900 * kMs, {WithEmotion(4, "sad", -1.f, 0.2f)}));
  s.Add(Frame(1000 * kMs, {WithEmotion(4, "neutral", 0.f)}));
  s.Finish();
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(t[0].valence);
  EXPECT_NEAR(*t[0].valence, 0.8 / 1.5, 1e-6);
  ASSERT_TRUE(t[0].arousal);
  EXPECT_NEAR(*t[0].arousal, 0.47, 1e-6);
  EXPECT_NEAR(t[0].seconds, 1.5, 1e-9);
}

TEST(SessionSummary, BlinksFromTheRunningCountIncludingRestarts) {
  // Counts 0 0 1 1 2 3 3, then the action tracker restarts: 0 1. Blinks: 3 + 1 = 4.
  // 9 frames 100 ms apart (the last at the median, 100 ms): 0.9 s -> 4 / 0.9 * 60 per minute.
  const float counts[9] = {0, 0, 1, 1, 2, 3, 3, 0, 1};
  SessionSummary s;
  for (int i = 0; i < 9; ++i) {
    Face f;
    f.id = 2;
    f.actions = {{"blinks", counts[i]}, {"blinkRate", 99.f}, {"smile", 0.3f}};
    s.Add(Frame(i * 100 * kMs, {f}));
  }
  s.Finish();
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(t[0].blinks);
  EXPECT_EQ(*t[0].blinks, 4u);
  ASSERT_TRUE(t[0].blinks_per_minute);
  EXPECT_NEAR(*t[0].blinks_per_minute, 4 / 0.9 * 60, 1e-6);
  EXPECT_TRUE(t[0].emotion_seconds.empty());
  EXPECT_TRUE(t[0].emotion_share.empty());
}

TEST(SessionSummary, TracksAppearAndLeaveAndUnlabelledTimeCountsInNoLabel) {
  // 6 frames 33 ms apart (last: median 33 ms). Track 1 in all; track 2 in frames 2..3 only;
  // an untracked face (-1) everywhere. Track 1 has no emotion in frames 0..1 (no result yet).
  SessionSummary s;
  for (int i = 0; i < 6; ++i) {
    std::vector<Face> faces;
    Face one = i < 2 ? Face{} : WithEmotion(1, "surprise");
    one.id = 1;
    faces.push_back(one);
    if (i == 2 || i == 3) faces.push_back(WithEmotion(2, "angry"));
    Face anon = WithEmotion(-1, "fear");
    faces.push_back(anon);
    s.Add(Frame(i * 33 * kMs, faces));
  }
  s.Finish();
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 2u) << "the untracked face is not summarised";
  EXPECT_EQ(t[0].id, 1);
  EXPECT_NEAR(t[0].seconds, 6 * 0.033, 1e-9);
  EXPECT_NEAR(t[0].emotion_seconds.at("surprise"), 4 * 0.033, 1e-9);
  EXPECT_NEAR(t[0].emotion_share.at("surprise"), 1.0, 1e-9);
  EXPECT_EQ(t[1].id, 2);
  EXPECT_EQ(t[1].frames, 2u);
  EXPECT_NEAR(t[1].seconds, 2 * 0.033, 1e-9);
  EXPECT_EQ(t[1].first_pts_ns, 66 * kMs);
  EXPECT_EQ(t[1].last_pts_ns, 99 * kMs);
}

TEST(SessionSummary, FramesWithoutPtsLastTheMedianSoFar) {
  // 0, 40, 80 ms, then a frame with no pts, then 200 ms. The frame at 80 ms is followed by
  // one without pts: it lasts the median so far (40 ms); the pts-less one is followed by a
  // valid pts but has none itself: the median again (40); 200 ms is last: median (40).
  SessionSummary s;
  for (int64_t pts : {int64_t{0}, 40 * kMs, 80 * kMs, int64_t{-1}, 200 * kMs})
    s.Add(Frame(pts, {WithEmotion(9, "happy")}));
  s.Finish();
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_NEAR(t[0].seconds, 0.200, 1e-9);
  EXPECT_EQ(s.frames(), 5u);
}

TEST(SessionSummary, OneFrameHasNoDurationAndFinishIsIdempotent) {
  SessionSummary s;
  s.Add(Frame(5 * kMs, {WithEmotion(3, "happy", 0.5f)}));
  s.Finish();
  s.Finish();
  s.Add(Frame(10 * kMs, {WithEmotion(3, "happy")}));  // ignored after Finish
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].frames, 1u);
  EXPECT_EQ(t[0].seconds, 0.0);
  EXPECT_TRUE(t[0].emotion_share.empty());
  EXPECT_FALSE(t[0].valence);
  s.Reset();
  EXPECT_TRUE(s.tracks().empty());
  EXPECT_FALSE(s.finished());
}

TEST(SessionSummary, JsonLineHasTheContractKeys) {
  SessionSummary s;
  for (int i = 0; i < 4; ++i) {
    Face f = WithEmotion(7, i < 3 ? "happy" : "neutral", 0.5f, -0.25f);
    f.actions = {{"blinks", static_cast<float>(i)}};
    s.Add(Frame(i * 250 * kMs, {f}));
  }
  s.Add(Frame(1000 * kMs, {}));
  s.Finish();
  const std::string line = s.ToJsonLine();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  ASSERT_TRUE(j.contains("summary"));
  ASSERT_EQ(j["summary"]["tracks"].size(), 1u);
  const auto& t = j["summary"]["tracks"][0];
  EXPECT_EQ(t["id"], 7);
  EXPECT_EQ(t["frames"], 4);
  EXPECT_NEAR(t["seconds"].get<double>(), 1.0, 1e-9);  // 4 frames of 250 ms
  EXPECT_NEAR(t["emotion_seconds"]["happy"].get<double>(), 0.75, 1e-9);
  EXPECT_NEAR(t["emotion_share"]["neutral"].get<double>(), 0.25, 1e-9);
  EXPECT_NEAR(t["valence"].get<double>(), 0.5, 1e-6);
  EXPECT_NEAR(t["arousal"].get<double>(), -0.25, 1e-6);
  EXPECT_EQ(t["blinks"], 3);
  EXPECT_NEAR(t["blinks_per_minute"].get<double>(), 180.0, 1e-6);  // 3 in 1 s
  EXPECT_EQ(t["first_pts"], 0);
  EXPECT_EQ(t["last_pts"], 750 * kMs);
  EXPECT_FALSE(t.contains("vitals")) << "no frame carried a session heart rate";
  // An empty stream: an empty list.
  SessionSummary empty;
  empty.Finish();
  EXPECT_EQ(empty.ToJsonLine(), R"({"summary":{"tracks":[]}})");
}

// The session heart rate: the newest frame's vitals.session_bpm / session_confidence (the
// estimator combines the spectra itself), per track, under "vitals"; a frame whose vitals have
// no session part (the track's first seconds) leaves the last one standing.
TEST(SessionSummary, VitalsAreTheNewestSessionEstimate) {
  SessionSummary s;
  auto with = [](int64_t id, std::optional<float> bpm, std::optional<float> conf) {
    Face f;
    f.id = id;
    Vitals v;
    v.bpm = 80, v.confidence = 0.3f;
    v.session_bpm = bpm, v.session_confidence = conf;
    f.vitals = v;
    return f;
  };
  s.Add(Frame(0, {with(1, std::nullopt, std::nullopt), with(2, std::nullopt, std::nullopt)}));
  s.Add(Frame(100 * kMs, {with(1, 71.0f, 0.4f), with(2, std::nullopt, std::nullopt)}));
  s.Add(Frame(200 * kMs, {with(1, 72.5f, 0.8f)}));
  s.Add(Frame(300 * kMs, {with(1, std::nullopt, std::nullopt)}));
  s.Finish();
  const auto t = s.tracks();
  ASSERT_EQ(t.size(), 2u);
  ASSERT_TRUE(t[0].vitals_bpm && t[0].vitals_confidence);
  EXPECT_FLOAT_EQ(*t[0].vitals_bpm, 72.5f);
  EXPECT_FLOAT_EQ(*t[0].vitals_confidence, 0.8f);
  EXPECT_FALSE(t[1].vitals_bpm);
  const auto j = nlohmann::json::parse(s.ToJsonLine());
  const auto& jt = j["summary"]["tracks"];
  EXPECT_NEAR(jt[0]["vitals"]["bpm"].get<double>(), 72.5, 1e-6);
  EXPECT_NEAR(jt[0]["vitals"]["confidence"].get<double>(), 0.8, 1e-6);
  EXPECT_FALSE(jt[1].contains("vitals"));
}

}  // namespace
}  // namespace fg
