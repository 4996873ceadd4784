// faceliveness: the active challenge with the synthetic source doing and not doing what is
// asked (facesynthsrc ! facetrack ! faceliveness, real tracker, bus messages collected), head
// turns through metadata pushed by GstHarness (the synthetic face is a flat photo: it can
// roll, not turn), the passive networks on the astronaut, the decision rules, and clear
// errors for a bad challenge word and missing models.
//
// Synthetic scenes (640x480, 30 fps, pts-driven, so the machine's speed does not matter):
//   smile: Grace Hopper's neutral portrait (python-matplotlib-data), "very happy" from
//          2.3 s (the facial action measures calibrate during the first 2 s) vs "neutral"
//   blink: the astronaut, both eyes closed from 2.3 s for 0.3 s, vs eyes open
// with a 3 s limit per step.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plugins/gstfaceliveness.h"
#include "plugins/gstfacemeta.h"
#include "tests/nn/nn_test_util.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"
#include "tests/time_scale.h"

namespace {

using fgtest::Astronaut;
using fgtest::MakeFrame;

constexpr GstClockTime kFrame = GST_SECOND / 30;
constexpr const char* kGraceHopper = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg";

struct ChallengeMessage {
  gint64 id;
  std::string ask, instruction, state;
  int step, steps;
};

class FaceLivenessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fgtest::InitGstOnce();
    static const bool registered = GST_ELEMENT_REGISTER(faceliveness, nullptr);
    ASSERT_TRUE(registered);
  }

  // Runs `launch` to EOS (at most 60 s between messages, times FG_TIME_SCALE); the challenge
  // messages in order, and the errors.
  static std::vector<ChallengeMessage> Run(const std::string& launch, std::string* errors) {
    std::vector<ChallengeMessage> out;
    GError* perr = nullptr;
    GstElement* pipe = gst_parse_launch_full(launch.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &perr);
    if (!pipe) {
      *errors = perr ? perr->message : "parse failed";
      g_clear_error(&perr);
      return out;
    }
    g_clear_error(&perr);
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    GstBus* bus = gst_element_get_bus(pipe);
    for (;;) {
      GstMessage* m = gst_bus_timed_pop_filtered(
          bus, static_cast<GstClockTime>(60 * GST_SECOND * fgtest::TimeScale()),
          static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT));
      if (!m) {
        *errors += "timeout";
        break;
      }
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
        const GstStructure* s = gst_message_get_structure(m);
        if (gst_structure_has_name(s, "facegraph-liveness-challenge")) {
          ChallengeMessage c{};
          gst_structure_get_int64(s, "id", &c.id);
          c.ask = gst_structure_get_string(s, "ask");
          c.instruction = gst_structure_get_string(s, "instruction");
          c.state = gst_structure_get_string(s, "state");
          gst_structure_get_int(s, "step", &c.step);
          gst_structure_get_int(s, "steps", &c.steps);
          out.push_back(c);
        }
        gst_message_unref(m);
        continue;
      }
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError* e = nullptr;
        gst_message_parse_error(m, &e, nullptr);
        *errors += e ? e->message : "error";
        g_clear_error(&e);
      }
      gst_message_unref(m);
      break;
    }
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(pipe);
    return out;
  }

  static std::string Synth(const std::string& photo, const std::string& expression,
                           const std::string& liveness) {
    return "facesynthsrc num-buffers=105 " + (photo.empty() ? "" : "photo=" + photo + " ") +
           "expression=\"" + expression + "\" ! video/x-raw,width=640,height=480 ! "
           "facetrack iris=true ! faceliveness passive=false challenge-timeout=3 " + liveness +
           " ! fakesink";
  }

  static std::string Final(const std::vector<ChallengeMessage>& m) {
    return m.empty() ? "none" : m.back().state;
  }
};

TEST_F(FaceLivenessTest, SyntheticFaceThatSmilesWhenAskedPasses) {
  std::string err;
  auto m = Run(Synth(kGraceHopper, "neutral, hold 2.3 s, then very happy over 0.3 s, hold 1 s", "challenge=smile"), &err);
  EXPECT_EQ(err, "");
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.front().state, "asking");
  EXPECT_EQ(m.front().ask, "smile");
  EXPECT_EQ(m.front().instruction, "Please smile");
  EXPECT_EQ(Final(m), "passed");
}

TEST_F(FaceLivenessTest, SyntheticFaceThatDoesNotSmileFails) {
  std::string err;
  auto m = Run(Synth(kGraceHopper, "neutral", "challenge=smile"), &err);
  EXPECT_EQ(err, "");
  EXPECT_EQ(Final(m), "failed");
}

TEST_F(FaceLivenessTest, SmilingPhotoDoesNotPassASmileChallenge) {
  // The astronaut smiles in her photo from the first frame: never at rest, never "made".
  std::string err;
  auto m = Run(Synth("", "neutral, hold 2.3 s, then very happy over 0.3 s, hold 1 s", "challenge=smile"), &err);
  EXPECT_EQ(err, "");
  EXPECT_EQ(Final(m), "failed");
}

TEST_F(FaceLivenessTest, SyntheticFaceThatBlinksWhenAskedPasses) {
  std::string err;
  auto m = Run(Synth("", "neutral, hold 2.3 s, then eyeBlinkLeft and eyeBlinkRight over 0.1 s, hold 0.2 s, then neutral over 0.1 s, hold 1 s",
                     "challenge=blink"), &err);
  EXPECT_EQ(err, "");
  EXPECT_EQ(Final(m), "passed");
}

TEST_F(FaceLivenessTest, SyntheticFaceThatDoesNotBlinkFails) {
  std::string err;
  // Blinking with one eye only (a wink) is not a blink either.
  auto m = Run(Synth("", "neutral, hold 2.3 s, then eyeBlinkLeft over 0.1 s, hold 0.2 s, then neutral over 0.1 s, hold 1 s",
                     "challenge=blink"), &err);
  EXPECT_EQ(err, "");
  EXPECT_EQ(Final(m), "failed");
}

// Head turns: facetrack's output for the astronaut, pushed again with the pose's yaw set.
class FaceLivenessTurnTest : public FaceLivenessTest {
 protected:
  void SetUp() override {
    FaceLivenessTest::SetUp();
    GstHarness* t = fgtest::HarnessFor("facetrack", "");
    gst_harness_set_src_caps_str(t, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, Astronaut().w, Astronaut().h).c_str());
    ASSERT_EQ(gst_harness_push(t, MakeFrame(Astronaut(), GST_VIDEO_FORMAT_RGB, 0, 0)), GST_FLOW_OK);
    tracked_ = gst_harness_pull(t);
    gst_harness_teardown(t);
    ASSERT_TRUE(tracked_);
  }
  void TearDown() override {
    if (tracked_) gst_buffer_unref(tracked_);
  }
  // Pushes frames with the given yaw per frame; returns the last face's liveness.
  std::optional<fg::Liveness> Push(GstHarness* h, const std::vector<float>& yaws) {
    std::optional<fg::Liveness> last;
    for (float yaw : yaws) {
      GstBuffer* b = gst_buffer_copy(tracked_);
      GST_BUFFER_PTS(b) = pts_;
      GST_BUFFER_DURATION(b) = kFrame;
      GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(b);
      m->faces.pts_ns = static_cast<int64_t>(pts_);
      m->faces.faces.at(0).pose->yaw = yaw;
      pts_ += kFrame;
      EXPECT_EQ(gst_harness_push(h, b), GST_FLOW_OK);
      GstBuffer* out = gst_harness_pull(h);
      if (const GstFaceGraphMeta* om = out ? gst_buffer_get_face_graph_meta(out) : nullptr)
        last = om->faces.faces.at(0).liveness;
      if (out) gst_buffer_unref(out);
    }
    return last;
  }
  GstBuffer* tracked_ = nullptr;
  GstClockTime pts_ = 0;
};

std::vector<float> Ramp(float from, float to, int frames) {
  std::vector<float> v;
  for (int i = 0; i < frames; ++i) v.push_back(from + (to - from) * static_cast<float>(i + 1) / frames);
  return v;
}

TEST_F(FaceLivenessTurnTest, TurnsInTheAskedOrderPass) {
  GstHarness* h = fgtest::HarnessFor("faceliveness", "passive=false challenge=turn-left,turn-right challenge-timeout=2");
  gst_harness_set_src_caps_str(h, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, Astronaut().w, Astronaut().h).c_str());
  auto l = Push(h, std::vector<float>(10, 0.0f));
  ASSERT_TRUE(l && l->challenge);
  EXPECT_EQ(l->challenge->ask, "turn-left");
  EXPECT_EQ(l->decision, "unsure");
  l = Push(h, Ramp(0, 25, 10));  // towards the image's right: the subject's left
  ASSERT_TRUE(l && l->challenge);
  EXPECT_EQ(l->challenge->ask, "turn-right");
  l = Push(h, Ramp(25, -5, 10));
  ASSERT_TRUE(l && l->challenge);
  EXPECT_EQ(l->challenge->state, "passed");
  EXPECT_EQ(l->decision, "live");  // passive off: the challenge decides
  EXPECT_FALSE(l->real);           // no network scores without passive
  gst_harness_teardown(h);
}

TEST_F(FaceLivenessTurnTest, TurningTheWrongWayOrTooLittleFails) {
  GstHarness* h = fgtest::HarnessFor("faceliveness", "passive=false challenge=turn-left challenge-timeout=1 turn-angle=15");
  gst_harness_set_src_caps_str(h, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, Astronaut().w, Astronaut().h).c_str());
  Push(h, std::vector<float>(5, 0.0f));
  auto l = Push(h, Ramp(0, -30, 10));  // the subject's right
  l = Push(h, Ramp(-30, 10, 20));      // back, but only 10 deg left of where it began
  ASSERT_TRUE(l && l->challenge);
  EXPECT_EQ(l->challenge->state, "failed");
  EXPECT_EQ(l->decision, "spoof");
  gst_harness_teardown(h);
}

TEST_F(FaceLivenessTurnTest, PassiveScoresReachTheMeta) {
  // The astronaut photo through both networks: scores in 0..1, a decision after 0.5 s.
  GstHarness* h = fgtest::HarnessFor("faceliveness", "rate=10");
  gst_harness_set_src_caps_str(h, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, Astronaut().w, Astronaut().h).c_str());
  std::optional<fg::Liveness> l;
  for (int i = 0; i < 40 && !(l && l->decision != "unsure"); ++i) {
    l = Push(h, {0.0f});
    g_usleep(fgtest::Scaled(std::chrono::microseconds(20000)).count());  // the worker runs beside the test thread
  }
  ASSERT_TRUE(l);
  ASSERT_TRUE(l->real && l->live);
  EXPECT_GE(*l->real, 0.0f);
  EXPECT_LE(*l->real, 1.0f);
  EXPECT_NE(l->decision, "unsure");
  EXPECT_FALSE(l->challenge);
  guint64 submitted = 0, classified = 0;
  g_object_get(h->element, "submitted", &submitted, "classified", &classified, nullptr);
  EXPECT_GT(submitted, 0u);
  EXPECT_GT(classified, 0u);
  gst_harness_teardown(h);
}

TEST_F(FaceLivenessTest, BadChallengeAndMissingModelsFailTheStart) {
  GstElement* e = gst_element_factory_make("faceliveness", nullptr);
  ASSERT_TRUE(e);
  g_object_set(e, "challenge", "blink,wink", nullptr);
  GError* first = nullptr;
  auto [ret, text] = fgtest::StartConfigured(e, &first);
  EXPECT_EQ(ret, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(text.find("\"wink\""), std::string::npos) << text;
  EXPECT_NE(text.find("challenge"), std::string::npos) << text;
  g_clear_error(&first);
  auto [ret2, text2] = fgtest::StartWithModels("faceliveness", "/nonexistent/models", &first);
  EXPECT_EQ(ret2, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(text2.find("/nonexistent/models"), std::string::npos) << text2;
  g_clear_error(&first);
}

}  // namespace
