// LivenessChallenge (engine/liveness/challenge.h) on timestamped faces: the steps pass when
// the face does what is asked, in order, within the time limit, and fail otherwise.
// The measures are given directly (pose yaw, FaceActions blinks and smile): what the tracker
// and FaceActionTracks would report. The element test (tests/plugins/faceliveness_test.cc)
// runs the same through facesynthsrc and the real tracker.
#include <gtest/gtest.h>

#include "engine/liveness/challenge.h"

namespace fg {
namespace {

constexpr int64_t kFrame = 33'333'333;  // 30 fps

struct Scene {
  ChallengeTracks checks;
  Face face;
  FaceActions actions;
  int64_t t = 0;
  explicit Scene(std::vector<ChallengeStep> steps, double timeout_s = 3.0)
      : checks({.steps = std::move(steps), .timeout_s = timeout_s}) {
    face.id = 7;
    face.pose = HeadPose{};
    actions.calibrated = true;
  }
  const ChallengeState& Frame() {
    const ChallengeState& s = checks.Update(face, &actions, t);
    t += kFrame;
    return s;
  }
  // Frames until the state is final or `seconds` passed.
  const ChallengeState& Run(double seconds) {
    const int64_t end = t + static_cast<int64_t>(seconds * 1e9);
    const ChallengeState* s = &Frame();
    while (s->state == ChallengeState::kAsking && t < end) s = &Frame();
    return *s;
  }
};

TEST(Challenge, ParsesStepsAndNamesBadWords) {
  std::string err;
  auto s = ParseChallenge("blink, Turn-Left turn_right,smile left", &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(*s, (std::vector<ChallengeStep>{ChallengeStep::kBlink, ChallengeStep::kTurnLeft,
                                            ChallengeStep::kTurnRight, ChallengeStep::kSmile,
                                            ChallengeStep::kTurnLeft}));
  EXPECT_FALSE(ParseChallenge("blink,wink", &err));
  EXPECT_NE(err.find("\"wink\""), std::string::npos) << err;
  EXPECT_FALSE(ParseChallenge(" , ", &err));
  EXPECT_NE(err.find("empty"), std::string::npos) << err;
}

TEST(Challenge, PassesWhenEveryStepIsDoneInOrder) {
  Scene s({ChallengeStep::kBlink, ChallengeStep::kTurnLeft, ChallengeStep::kSmile});
  EXPECT_EQ(s.Frame().state, ChallengeState::kAsking);
  EXPECT_EQ(s.checks.Get(7)->step, 0);
  s.Run(0.5);
  s.actions.blinks = 1;  // a blink
  EXPECT_EQ(s.Frame().step, 1);
  EXPECT_TRUE(s.checks.Get(7)->changed);
  // Turning right is not turning left.
  s.face.pose->yaw = -25;
  s.Run(0.5);
  EXPECT_EQ(s.checks.Get(7)->step, 1);
  s.face.pose->yaw = 20;  // 20 deg towards the image's right from the start of the step (-25)
  s.Frame();
  EXPECT_EQ(s.Frame().step, 2);  // held for two frames
  s.Frame();                     // the smile step sees the face at rest first
  s.actions.smile = 0.7f;
  s.Frame();
  const ChallengeState& done = s.Frame();  // the smile was at rest (0) when asked
  EXPECT_EQ(done.state, ChallengeState::kPassed);
  const LivenessChallenge c = done.ToChallenge(s.checks.options().steps);
  EXPECT_EQ(c.state, "passed");
  EXPECT_EQ(c.ask, "smile");
  EXPECT_EQ(c.steps, 3);
}

TEST(Challenge, FailsWhenTheStepIsNotDoneInTime) {
  Scene s({ChallengeStep::kTurnRight}, /*timeout_s=*/2.0);
  s.face.pose->yaw = 10;  // standing a little turned: the turn is relative to this
  s.Frame();
  s.face.pose->yaw = 0;   // only 10 deg to the right
  const ChallengeState& st = s.Run(5.0);
  EXPECT_EQ(st.state, ChallengeState::kFailed);
  EXPECT_NEAR(1e-9 * static_cast<double>(s.t), 2.0, 2.0 / 30 + 1e-6);  // failed right after 2 s
  // Final: doing it now changes nothing until the track restarts.
  s.face.pose->yaw = -30;
  EXPECT_EQ(s.Run(0.5).state, ChallengeState::kFailed);
  s.checks.Restart(7);
  s.Frame();  // asks again from the current pose (-30)
  s.face.pose->yaw = -46;
  s.Frame();
  EXPECT_EQ(s.Frame().state, ChallengeState::kPassed);
}

TEST(Challenge, OneNoisyFrameDoesNotPassATurnOrSmile) {
  Scene s({ChallengeStep::kSmile}, 1.0);
  for (int i = 0; i < 40; ++i) {
    s.actions.smile = (i % 2) ? 0.9f : 0.0f;  // never two frames in a row
    s.Frame();
  }
  EXPECT_EQ(s.checks.Get(7)->state, ChallengeState::kFailed);
}

TEST(Challenge, ASmileHeldAllAlongDoesNotPass) {
  // A photo of a smiling person: the smile never rests during the step.
  Scene s({ChallengeStep::kSmile}, 1.0);
  s.actions.smile = 0.9f;
  EXPECT_EQ(s.Run(2.0).state, ChallengeState::kFailed);
  // Relaxing, then smiling on request passes.
  s.checks.Restart(7);
  s.actions.smile = 0.1f;
  s.Frame();
  s.actions.smile = 0.6f;
  s.Frame();
  EXPECT_EQ(s.Frame().state, ChallengeState::kPassed);
}

TEST(Challenge, ABlinkIsBothEyesClosingAndReopeningQuickly) {
  auto closure = [](float left, float right, int frames) {
    Scene s({ChallengeStep::kBlink}, 3.0);
    s.Run(0.3);
    s.actions.eye_open_left = left, s.actions.eye_open_right = right;
    for (int i = 0; i < frames; ++i) s.Frame();
    s.actions.eye_open_left = s.actions.eye_open_right = 1.0f;
    return s.Run(0.5).state;
  };
  EXPECT_EQ(closure(0.75f, 0.78f, 6), ChallengeState::kPassed);   // 0.2 s, both eyes
  EXPECT_EQ(closure(0.30f, 1.00f, 6), ChallengeState::kAsking);   // a wink
  EXPECT_EQ(closure(0.70f, 0.70f, 45), ChallengeState::kAsking);  // 1.5 s: eyes shut, not a blink
  EXPECT_EQ(closure(0.90f, 0.90f, 6), ChallengeState::kAsking);   // a squint
}

TEST(Challenge, SmileBeforeCalibrationDoesNotCount) {
  Scene s({ChallengeStep::kSmile}, 1.0);
  s.actions.calibrated = false;
  s.actions.smile = 1.0f;
  EXPECT_EQ(s.Run(2.0).state, ChallengeState::kFailed);
}

TEST(Challenge, BlinkNeedsANewBlinkAndNoMeshMeetsNothing) {
  Scene s({ChallengeStep::kBlink}, 1.0);
  s.actions.blinks = 4;  // blinks before the step was asked do not count
  s.Frame();
  s.Run(0.3);
  EXPECT_EQ(s.checks.Get(7)->state, ChallengeState::kAsking);
  // Frames without a mesh (no actions) meet nothing and keep the clock running.
  for (int i = 0; i < 40; ++i) {
    s.checks.Update(s.face, nullptr, s.t);
    s.t += kFrame;
  }
  EXPECT_EQ(s.checks.Get(7)->state, ChallengeState::kFailed);
  EXPECT_EQ(s.checks.EndStale(s.t + 2'000'000'000), 1u);
}

}  // namespace
}  // namespace fg
