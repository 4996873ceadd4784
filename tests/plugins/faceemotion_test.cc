// faceemotion through GstHarness. facetrack runs once per picture (the astronaut photo, alone
// and twice side by side); its output buffer, with the GstFaceGraphMeta, is then pushed into
// faceemotion again and again with new timestamps (a buffer with a known meta), so the tests
// spend their time on emotion, not on tracking. Covered: the astronaut is "happy", no meta
// and no face, two faces with their own results, faces without a mesh, the stale timeout,
// the rate cap, label-change messages, EOS with crops in flight, the counters, flushing,
// properties changed while streaming, and a missing or bad emotion model failing
// READY->PAUSED with an error that names the file. The worker runs beside the test thread:
// waits for results are polls bounded by 3 s of wall time.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "engine/emotion/emotion_classifier.h"
#include "plugins/gstfaceemotion.h"
#include "plugins/gstfacemeta.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"

namespace {

using fgtest::Astronaut;
using fgtest::MakeFrame;
using fgtest::Rgb;

constexpr GstClockTime kFrame = GST_SECOND / 30;

class FaceEmotionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fgtest::InitGstOnce();
    // gst_test_env.cc registers the elements it knows; faceemotion is registered here.
    static const bool registered = GST_ELEMENT_REGISTER(faceemotion, nullptr);
    ASSERT_TRUE(registered);
  }

  // facetrack on `rgb` (as RGB): the output buffer with its meta; expects `faces` faces.
  static GstBuffer* Tracked(const Rgb& rgb, size_t faces) {
    GstHarness* h = fgtest::HarnessFor("facetrack", "");
    gst_harness_set_src_caps_str(h, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, rgb.w, rgb.h).c_str());
    EXPECT_EQ(gst_harness_push(h, MakeFrame(rgb, GST_VIDEO_FORMAT_RGB, 0, 0)), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    gst_harness_teardown(h);
    const GstFaceGraphMeta* m = out ? gst_buffer_get_face_graph_meta(out) : nullptr;
    EXPECT_NE(m, nullptr);
    if (m) {
      EXPECT_EQ(m->faces.faces.size(), faces);
    }
    return out;
  }

  // A copy of `tracked` at `pts` (buffer and meta).
  static GstBuffer* At(GstBuffer* tracked, GstClockTime pts) {
    GstBuffer* b = gst_buffer_copy(tracked);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DURATION(b) = kFrame;
    if (GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(b))
      m->faces.pts_ns = static_cast<int64_t>(pts);
    return b;
  }

  static GstHarness* NewHarness(int w, int h, const std::string& props = "") {
    GstHarness* harness = fgtest::HarnessFor("faceemotion", props);
    gst_harness_set_src_caps_str(harness, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, w, h).c_str());
    return harness;
  }

  static GstBuffer* Run(GstHarness* h, GstBuffer* in) {
    EXPECT_EQ(gst_harness_push(h, in), GST_FLOW_OK);
    return gst_harness_pull(h);
  }

  static const fg::FrameFaces& Faces(GstBuffer* out) {
    static const fg::FrameFaces kNone;
    const GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(out);
    EXPECT_NE(m, nullptr) << "no GstFaceGraphMeta";
    return m ? m->faces : kNone;
  }

  // Pushes copies of `tracked` (pts from *pts on, one frame apart) until every face has an
  // emotion, for at most 3 s of wall time; returns the last output (caller unrefs).
  static GstBuffer* RunUntilEmotion(GstHarness* h, GstBuffer* tracked, GstClockTime* pts) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    for (;;) {
      GstBuffer* out = Run(h, At(tracked, *pts));
      *pts += kFrame;
      bool all = out != nullptr;
      if (out)
        for (const fg::Face& f : Faces(out).faces) all &= f.emotion.has_value();
      if (all || std::chrono::steady_clock::now() > deadline) return out;
      gst_buffer_unref(out);
      g_usleep(5000);  // the worker runs beside us; give it a moment
    }
  }

  static guint64 Counter(GstHarness* h, const char* name) {
    guint64 v = 0;
    g_object_get(h->element, name, &v, nullptr);
    return v;
  }

  static void ExpectValidEmotion(const fg::Emotion& e) {
    EXPECT_EQ(e.scores.size(), static_cast<size_t>(fg::kEmotionClasses));
    float sum = 0, best = -1;
    std::string argmax;
    for (const auto& [name, p] : e.scores) {
      EXPECT_GE(p, 0.0f) << name;
      sum += p;
      if (p > best) best = p, argmax = name;
    }
    EXPECT_NEAR(sum, 1.0f, 1e-3f);
    EXPECT_EQ(e.label, argmax);  // one classification of a still picture: no hysteresis at play
  }
};

TEST_F(FaceEmotionTest, AstronautIsHappy) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(512, 512, "rate=0");
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h, tracked, &pts);
  ASSERT_NE(out, nullptr);
  const fg::Face& f = Faces(out).faces.at(0);
  ASSERT_TRUE(f.emotion.has_value()) << "no result after 3 s";
  EXPECT_EQ(f.emotion->label, "happy");
  ExpectValidEmotion(*f.emotion);
  // The pixels and the rest of the meta pass unchanged.
  EXPECT_TRUE(fgtest::SameBytes(out, tracked));
  EXPECT_EQ(f.landmarks, gst_buffer_get_face_graph_meta(tracked)->faces.faces[0].landmarks);
  EXPECT_GE(Counter(h, "classified"), 1u);
  gst_buffer_unref(out);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// After the neutral is learned (the first 2 s of the track, by pts) each face carries the
// facial action measures; the emotion carries confidence, valence and arousal. A still face
// is its own neutral: every intensity is near 0 and no blink is counted.
TEST_F(FaceEmotionTest, ActionsAndValenceReachTheMeta) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(512, 512, "rate=0");
  GstClockTime pts = 0;
  for (int i = 0; i < 75; ++i, pts += kFrame) {  // 2.5 s at 30 fps
    GstBuffer* o = Run(h, At(tracked, pts));
    ASSERT_NE(o, nullptr);
    gst_buffer_unref(o);
  }
  // The classifier runs beside the stream: wait (bounded) for its result to be attached.
  GstBuffer* out = RunUntilEmotion(h, tracked, &pts);
  ASSERT_NE(out, nullptr);
  const fg::Face& f = Faces(out).faces.at(0);
  for (const char* k : {"eyeOpenLeft", "eyeOpenRight", "mouthOpen", "smile", "browRaise",
                        "browLower", "jawOpen", "eyesClosed", "blinks", "blinkRate"})
    EXPECT_TRUE(f.actions.count(k)) << k;
  EXPECT_NEAR(f.actions.at("smile"), 0.0f, 0.05f) << "a still face is its own neutral";
  EXPECT_NEAR(f.actions.at("mouthOpen"), 0.0f, 0.05f);
  EXPECT_EQ(f.actions.at("blinks"), 0.0f);
  ASSERT_TRUE(f.emotion.has_value());
  ASSERT_TRUE(f.emotion->valence.has_value());
  EXPECT_GT(*f.emotion->valence, 0.3f) << "happy is pleasant";
  EXPECT_TRUE(f.emotion->confidence.has_value());
  gst_buffer_unref(out);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

TEST_F(FaceEmotionTest, NoMetaAndNoFacePassUntouched) {
  GstHarness* h = NewHarness(64, 48, "rate=0");
  // No GstFaceGraphMeta at all (no facetrack upstream): the buffer passes, none is added.
  GstBuffer* out = Run(h, MakeFrame(fgtest::Canvas(64, 48, 90), GST_VIDEO_FORMAT_RGB, 0, 0));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(out), nullptr);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  // An empty meta (facetrack found no face): stays empty.
  GstBuffer* tracked = Tracked(fgtest::Canvas(160, 120, 128), 0);
  ASSERT_NE(tracked, nullptr);
  h = NewHarness(160, 120, "rate=0");
  for (int i = 0; i < 5; ++i) {
    out = Run(h, At(tracked, i * kFrame));
    EXPECT_TRUE(Faces(out).faces.empty());
    gst_buffer_unref(out);
  }
  EXPECT_EQ(Counter(h, "submitted"), 0u);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// A face without a mesh (landmarks empty) cannot be cropped: no emotion, no crash.
TEST_F(FaceEmotionTest, FaceWithoutMeshGetsNoEmotion) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  gst_buffer_get_face_graph_meta(tracked)->faces.faces[0].landmarks.clear();
  GstHarness* h = NewHarness(512, 512, "rate=0");
  for (int i = 0; i < 5; ++i) {
    GstBuffer* out = Run(h, At(tracked, i * kFrame));
    ASSERT_EQ(Faces(out).faces.size(), 1u);
    EXPECT_FALSE(Faces(out).faces[0].emotion.has_value());
    gst_buffer_unref(out);
    g_usleep(2000);
  }
  EXPECT_EQ(Counter(h, "submitted"), 0u);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// The photo twice, the second mirrored: two tracks, each with its own result (the mirrored
// crop is a different input to the network, so the scores differ) and its own message.
TEST_F(FaceEmotionTest, TwoFacesGetTheirOwnResults) {
  Rgb rgb = fgtest::Canvas(1024, 512, 90);
  fgtest::Paste(rgb, Astronaut(), 0, 0);
  fgtest::Paste(rgb, Astronaut(), 512, 0, /*mirror=*/true);
  GstBuffer* tracked = Tracked(rgb, 2);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(1024, 512, "rate=0 time-constant=0 post-messages=true");
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h, tracked, &pts);
  ASSERT_NE(out, nullptr);
  const fg::FrameFaces& faces = Faces(out);
  ASSERT_EQ(faces.faces.size(), 2u);
  for (const fg::Face& f : faces.faces) {
    ASSERT_TRUE(f.emotion.has_value()) << "face " << f.id << ": no result after 3 s";
    ExpectValidEmotion(*f.emotion);
    EXPECT_EQ(f.emotion->label, "happy") << "face " << f.id;
  }
  EXPECT_NE(faces.faces[0].emotion->scores, faces.faces[1].emotion->scores);
  // One "facegraph-emotion" message per track (its first label), none repeated.
  std::set<gint64> ids;
  while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(msg);
    EXPECT_TRUE(gst_structure_has_name(s, "facegraph-emotion"));
    gint64 id = -1;
    guint64 mpts = 0;
    double confidence = 0;
    EXPECT_TRUE(gst_structure_get_int64(s, "id", &id));
    EXPECT_TRUE(gst_structure_get_uint64(s, "pts", &mpts));
    EXPECT_TRUE(gst_structure_get_double(s, "confidence", &confidence));
    EXPECT_STREQ(gst_structure_get_string(s, "label"), "happy");
    EXPECT_GT(confidence, 0.0);
    EXPECT_TRUE(ids.insert(id).second) << "second message for track " << id;
    gst_message_unref(msg);
  }
  EXPECT_EQ(ids, (std::set<gint64>{faces.faces[0].id, faces.faces[1].id}));
  // More frames of the same picture: the labels stay, nothing more is posted.
  for (int i = 0; i < 3; ++i) {
    gst_buffer_unref(Run(h, At(tracked, pts)));
    pts += kFrame;
  }
  EXPECT_EQ(gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT), nullptr);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_buffer_unref(out);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// A track absent for less than the engine's timeout (1 s) keeps its state; absent for longer
// it is ended. The returning face has no mesh, so it cannot be classified again: whether it
// shows an emotion says only whether the old state was kept.
TEST_F(FaceEmotionTest, TracksAbsentTooLongAreEnded) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstBuffer* empty = gst_buffer_copy(tracked);
  gst_buffer_get_face_graph_meta(empty)->faces.faces.clear();
  GstBuffer* meshless = gst_buffer_copy(tracked);
  gst_buffer_get_face_graph_meta(meshless)->faces.faces[0].landmarks.clear();

  GstHarness* h = NewHarness(512, 512, "rate=0");
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h, tracked, &pts);
  ASSERT_TRUE(Faces(out).faces.at(0).emotion.has_value());
  gst_buffer_unref(out);

  // Gone for 0.5 s: kept.
  for (GstClockTime end = pts + GST_SECOND / 2; pts < end; pts += kFrame)
    gst_buffer_unref(Run(h, At(empty, pts)));
  out = Run(h, At(meshless, pts));
  pts += kFrame;
  EXPECT_TRUE(Faces(out).faces.at(0).emotion.has_value()) << "ended after 0.5 s";
  gst_buffer_unref(out);

  // Gone for 1.5 s: ended. The pause lets any crop still in flight come back and be
  // discarded as the result of an ended track, so it cannot be taken for the returning face.
  for (GstClockTime end = pts + 3 * GST_SECOND / 2; pts < end; pts += kFrame)
    gst_buffer_unref(Run(h, At(empty, pts)));
  g_usleep(200000);
  gst_buffer_unref(Run(h, At(empty, pts)));
  pts += kFrame;
  out = Run(h, At(meshless, pts));
  EXPECT_FALSE(Faces(out).faces.at(0).emotion.has_value()) << "kept after 1.5 s";
  gst_buffer_unref(out);

  gst_buffer_unref(meshless);
  gst_buffer_unref(empty);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// rate=10 on 30 fps video: every third frame is classified.
TEST_F(FaceEmotionTest, RateCapsClassificationsPerTrack) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(512, 512, "rate=10");
  for (int i = 0; i < 30; ++i) gst_buffer_unref(Run(h, At(tracked, i * kFrame)));
  EXPECT_EQ(Counter(h, "submitted"), 10u);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// EOS right after a burst of crops (two faces, every frame, far faster than the worker): EOS
// passes, the counters add up (every crop classified or dropped), teardown is clean.
TEST_F(FaceEmotionTest, EosWithCropsInFlightIsCleanAndCountersAddUp) {
  Rgb rgb = fgtest::Canvas(1024, 512, 90);
  fgtest::Paste(rgb, Astronaut(), 0, 0);
  fgtest::Paste(rgb, Astronaut(), 512, 0, /*mirror=*/true);
  GstBuffer* tracked = Tracked(rgb, 2);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(1024, 512, "rate=0");
  constexpr int kFrames = 20;
  for (int i = 0; i < kFrames; ++i) gst_buffer_unref(Run(h, At(tracked, i * kFrame)));
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  bool eos = false;
  while (GstEvent* e = gst_harness_try_pull_event(h)) {
    eos |= GST_EVENT_TYPE(e) == GST_EVENT_EOS;
    gst_event_unref(e);
  }
  EXPECT_TRUE(eos);
  const guint64 submitted = Counter(h, "submitted"), classified = Counter(h, "classified"),
                dropped = Counter(h, "dropped");
  EXPECT_EQ(submitted, 2u * kFrames);
  EXPECT_GE(classified, 1u);
  EXPECT_EQ(classified + dropped, submitted)
      << "classified " << classified << " dropped " << dropped;
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// The counters are readable from another thread while frames stream, never go down, and
// restart at READY->PAUSED.
TEST_F(FaceEmotionTest, CountersAreMonotonicAndRestart) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(512, 512, "rate=0");
  guint64 last_submitted = 0, last_classified = 0;
  for (int i = 0; i < 10; ++i) {
    gst_buffer_unref(Run(h, At(tracked, i * kFrame)));
    const guint64 s = Counter(h, "submitted"), c = Counter(h, "classified");
    EXPECT_EQ(s, static_cast<guint64>(i + 1));
    EXPECT_GE(c, last_classified);
    EXPECT_LE(c + Counter(h, "dropped"), s);
    last_submitted = s;
    last_classified = c;
  }
  EXPECT_EQ(last_submitted, 10u);
  gst_element_set_state(h->element, GST_STATE_READY);
  gst_element_set_state(h->element, GST_STATE_PLAYING);
  EXPECT_EQ(Counter(h, "submitted"), 0u);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// A flushing seek restarts the emotion state (pts may go back) but not the counters.
TEST_F(FaceEmotionTest, FlushRestartsTheStateNotTheCounters) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstBuffer* meshless = gst_buffer_copy(tracked);
  gst_buffer_get_face_graph_meta(meshless)->faces.faces[0].landmarks.clear();
  GstHarness* h = NewHarness(512, 512, "rate=0");
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h, tracked, &pts);
  ASSERT_TRUE(Faces(out).faces.at(0).emotion.has_value());
  gst_buffer_unref(out);
  const guint64 submitted = Counter(h, "submitted");

  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_flush_start()));
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  EXPECT_TRUE(gst_harness_push_event(h, gst_event_new_segment(&segment)));
  out = Run(h, At(meshless, 0));  // back to pts 0
  EXPECT_FALSE(Faces(out).faces.at(0).emotion.has_value()) << "state survived the flush";
  gst_buffer_unref(out);
  EXPECT_GE(Counter(h, "submitted"), submitted);

  // And it comes back (pts from 0 again: the rate check was reset too).
  pts = kFrame;
  out = RunUntilEmotion(h, tracked, &pts);
  EXPECT_TRUE(Faces(out).faces.at(0).emotion.has_value());
  gst_buffer_unref(out);
  gst_buffer_unref(meshless);
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// Properties changed and counters read from another thread while frames stream: no crash,
// every frame keeps its meta and face, the last values are in effect.
TEST_F(FaceEmotionTest, PropertiesChangedWhileStreaming) {
  GstBuffer* tracked = Tracked(Astronaut(), 1);
  ASSERT_NE(tracked, nullptr);
  GstHarness* h = NewHarness(512, 512, "rate=0");
  std::atomic<bool> done{false};
  std::thread poker([&] {
    for (int i = 0; !done; ++i) {
      g_object_set(h->element, "rate", (i % 3) * 5.0, "time-constant", (i % 2) * 0.3,
                   "post-messages", i % 2 == 0, nullptr);
      guint64 c = 0, d = 0;
      g_object_get(h->element, "classified", &c, "dropped", &d, nullptr);
      g_usleep(1000);
    }
  });
  for (int i = 0; i < 60; ++i) {
    GstBuffer* out = Run(h, At(tracked, i * kFrame));
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(Faces(out).faces.size(), 1u);
    gst_buffer_unref(out);
  }
  done = true;
  poker.join();
  g_object_set(h->element, "rate", 2.5, "time-constant", 0.25, nullptr);
  double rate = 0, tau = 0;
  g_object_get(h->element, "rate", &rate, "time-constant", &tau, nullptr);
  EXPECT_EQ(rate, 2.5);
  EXPECT_EQ(tau, 0.25);
  gst_buffer_unref(Run(h, At(tracked, 60 * kFrame)));
  gst_buffer_unref(tracked);
  gst_harness_teardown(h);
}

// READY->PAUSED with models-dir = `dir`: the state change result and the bus errors.
std::pair<GstStateChangeReturn, std::string> StartWithModels(const std::string& dir,
                                                             GError** first_error) {
  return fgtest::StartWithModels("faceemotion", dir, first_error);
}

TEST_F(FaceEmotionTest, MissingModelFailsTheStateChangeNamingTheFile) {
  const std::string dir = fgtest::MakeTempDir();
  GError* err = nullptr;
  const auto [ret, errors] = StartWithModels(dir, &err);
  EXPECT_EQ(ret, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(errors.find(dir + "/emotion.json"), std::string::npos) << errors;
  EXPECT_NE(errors.find("tools/fetch-models"), std::string::npos) << errors;
  ASSERT_NE(err, nullptr);
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ)) << err->message;
  g_clear_error(&err);

  // A corrupt model: also refused, naming the file.
  std::ofstream(dir + "/emotion.json") << "{ not json";
  const auto [ret2, errors2] = StartWithModels(dir, &err);
  EXPECT_EQ(ret2, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(errors2.find("emotion.json"), std::string::npos) << errors2;
  g_clear_error(&err);
  std::filesystem::remove_all(dir);

  const auto [ret3, errors3] = StartWithModels("/nonexistent/facegraph-models", &err);
  EXPECT_EQ(ret3, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(errors3.find("/nonexistent/facegraph-models/emotion.json"), std::string::npos) << errors3;
  ASSERT_NE(err, nullptr);
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND)) << err->message;
  g_clear_error(&err);
}

}  // namespace
