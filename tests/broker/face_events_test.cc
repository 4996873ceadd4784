// fg::FaceEvents fed timestamped frames: appear/leave by track id, emotion label changes
// (the first label too), heart-rate events at most once per interval of pts, the end of the
// stream, and faces without a track id ignored.
#include "engine/broker/face_events.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace {

constexpr int64_t kFrame = 33'333'333;  // 30 fps

fg::Face F(int64_t id) {
  fg::Face f;
  f.id = id;
  f.box = {10, 20, 30, 40};
  f.score = 0.9f;
  return f;
}

fg::FrameFaces Frame(int64_t n, std::vector<fg::Face> faces) {
  return {n * kFrame, std::move(faces)};
}

std::vector<nlohmann::json> Events(fg::FaceEvents& ev, const fg::FrameFaces& frame) {
  std::vector<fg::FaceEvent> out;
  ev.Update(frame, &out);
  std::vector<nlohmann::json> j;
  for (auto& e : out) {
    auto p = nlohmann::json::parse(e.json);
    EXPECT_EQ(p["event"], e.kind);
    j.push_back(p);
  }
  return j;
}

TEST(FaceEvents, AppearAndLeaveByTrackId) {
  fg::FaceEvents ev;
  auto e = Events(ev, Frame(0, {F(1)}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["event"], "appear");
  EXPECT_EQ(e[0]["id"], 1);
  EXPECT_EQ(e[0]["pts"], 0);
  EXPECT_EQ(e[0]["box"][3], 40.0);
  EXPECT_TRUE(Events(ev, Frame(1, {F(1)})).empty());
  e = Events(ev, Frame(2, {F(1), F(2)}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["id"], 2);
  e = Events(ev, Frame(3, {F(2)}));  // 1 left
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["event"], "leave");
  EXPECT_EQ(e[0]["id"], 1);
  EXPECT_EQ(e[0]["reason"], "lost");
  EXPECT_EQ(e[0]["frames"], 3);
  EXPECT_EQ(e[0]["first_pts"], 0);
  EXPECT_EQ(e[0]["last_pts"], 2 * kFrame);
  EXPECT_EQ(e[0]["pts"], 3 * kFrame);
  std::vector<fg::FaceEvent> out;
  ev.Finish(4 * kFrame, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(out[0].json)["reason"], "end");
  EXPECT_EQ(ev.live_tracks(), 0u);
}

TEST(FaceEvents, UntrackedFacesMakeNoEvents) {
  fg::FaceEvents ev;
  EXPECT_TRUE(Events(ev, Frame(0, {F(-1)})).empty());
  EXPECT_TRUE(Events(ev, Frame(1, {})).empty());
}

TEST(FaceEvents, EmotionLabelChanges) {
  fg::FaceEvents ev;
  fg::Face f = F(5);
  f.emotion = fg::Emotion{"neutral", {}, 0.7f, {}, {}};
  auto e = Events(ev, Frame(0, {f}));
  ASSERT_EQ(e.size(), 2u);  // appear, emotion
  EXPECT_EQ(e[1]["label"], "neutral");
  EXPECT_TRUE(e[1]["previous"].is_null());
  EXPECT_NEAR(e[1]["confidence"].get<double>(), 0.7, 1e-6);
  EXPECT_TRUE(Events(ev, Frame(1, {f})).empty());
  f.emotion->label = "happy";
  e = Events(ev, Frame(2, {f}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["label"], "happy");
  EXPECT_EQ(e[0]["previous"], "neutral");
}

TEST(FaceEvents, HeartRateOncePerInterval) {
  fg::FaceEvents ev({/*heart_rate_interval_s=*/1.0});
  fg::Face f = F(2);
  f.vitals = fg::Vitals{};
  f.vitals->bpm = 72;
  f.vitals->confidence = 0.8f;
  f.vitals->session_bpm = 71;
  int rates = 0;
  // 3 s at 30 fps: events at frames 0, 31 and 62 (the first frames at least 1 s of pts after
  // the previous event; frame 30 is 0.99999999 s).
  for (int n = 0; n < 91; ++n) {
    for (auto& j : Events(ev, Frame(n, {f}))) {
      if (j["event"] != "heart_rate") continue;
      ++rates;
      EXPECT_EQ(j["bpm"], 72.0);
      EXPECT_NEAR(j["confidence"].get<double>(), 0.8, 1e-6);
      EXPECT_EQ(j["session_bpm"], 71.0);
      EXPECT_FALSE(j.contains("session_confidence"));
    }
  }
  EXPECT_EQ(rates, 3);
}

TEST(FaceEvents, ResetForgetsTracks) {
  fg::FaceEvents ev;
  Events(ev, Frame(0, {F(1)}));
  ev.Reset();
  auto e = Events(ev, Frame(1, {F(1)}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["event"], "appear");
}

}  // namespace
