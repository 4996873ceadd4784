// faceemotion through GstHarness. facetrack runs once per picture (the astronaut photo, alone
// and twice side by side); its output buffer, with the GstFaceGraphMeta, is then pushed into
// faceemotion again and again with new timestamps (a buffer with a known meta), so the tests
// spend their time on emotion, not on tracking. Covered: the astronaut is "happy", no meta
// and no face, two faces with their own results, faces without a mesh, the stale timeout,
// the rate cap, label-change messages, EOS with crops in flight, the counters, flushing,
// properties changed while streaming, a missing or bad emotion model failing READY->PAUSED
// with an error that names the file, inference=private, and two elements sharing the emotion
// pool, one flooding it, the other still classified at its rate. The worker runs beside the
// test thread: waits for results are polls bounded by 3 s of wall time.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
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
#include "tests/plugins/harness_steps.h"
#include "tests/time_scale.h"

namespace {

using fgtest::Astronaut;
using fgtest::CounterOf;
using fgtest::FacesOf;
using fgtest::MakeFrame;
using fgtest::PushPull;
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

  void TearDown() override {
    if (tracked_) gst_buffer_unref(tracked_);
    if (h_) gst_harness_teardown(h_);
  }

  // tracked_: facetrack's output for `rgb` (expecting `faces` faces); h_: a faceemotion
  // harness for its size with `props`. Both are released by TearDown. False when facetrack
  // gave no buffer.
  bool Start(const Rgb& rgb, size_t faces, const std::string& props) {
    tracked_ = Tracked(rgb, faces);
    h_ = NewHarness(rgb.w, rgb.h, props);
    return tracked_ != nullptr;
  }

  // A copy of tracked_ whose first face lost its mesh: it cannot be classified (caller unrefs).
  GstBuffer* Meshless() const {
    GstBuffer* b = gst_buffer_copy(tracked_);
    gst_buffer_get_face_graph_meta(b)->faces.faces[0].landmarks.clear();
    return b;
  }

  static GstHarness* NewHarness(int w, int h, const std::string& props = "") {
    GstHarness* harness = fgtest::HarnessFor("faceemotion", props);
    gst_harness_set_src_caps_str(harness, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, w, h).c_str());
    return harness;
  }

  // Pushes copies of `tracked` (pts from *pts on, one frame apart) until every face has an
  // emotion, for at most 3 s of wall time (times FG_TIME_SCALE); returns the last output
  // (caller unrefs).
  static GstBuffer* RunUntilEmotion(GstHarness* h, GstBuffer* tracked, GstClockTime* pts) {
    const auto deadline = std::chrono::steady_clock::now() + fgtest::Scaled(std::chrono::seconds(3));
    for (;;) {
      GstBuffer* out = PushPull(h, At(tracked, *pts));
      *pts += kFrame;
      bool all = out != nullptr;
      if (out)
        for (const fg::Face& f : FacesOf(out).faces) all &= f.emotion.has_value();
      if (all || std::chrono::steady_clock::now() > deadline) return out;
      gst_buffer_unref(out);
      g_usleep(fgtest::Scaled(std::chrono::microseconds(5000)).count());  // the worker runs beside us; give it a moment
    }
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

  GstBuffer* tracked_ = nullptr;  // see Start
  GstHarness* h_ = nullptr;
};

TEST_F(FaceEmotionTest, AstronautIsHappy) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h_, tracked_, &pts);
  ASSERT_NE(out, nullptr);
  const fg::Face& f = FacesOf(out).faces.at(0);
  ASSERT_TRUE(f.emotion.has_value()) << "no result after 3 s";
  EXPECT_EQ(f.emotion->label, "happy");
  ExpectValidEmotion(*f.emotion);
  // The pixels and the rest of the meta pass unchanged.
  EXPECT_TRUE(fgtest::SameBytes(out, tracked_));
  EXPECT_EQ(f.landmarks, gst_buffer_get_face_graph_meta(tracked_)->faces.faces[0].landmarks);
  EXPECT_GE(CounterOf(h_, "classified"), 1u);
  gst_buffer_unref(out);
}

// After the first 2 s of the track (by pts) each face carries the facial action measures;
// the emotion carries confidence, valence and arousal. The astronaut smiles in her photo:
// the baseline starts from the population's neutral and reads her smile as a smile
// (docs/baselines.md; it used to take her first seconds as neutral and read 0); her mouth is
// closed and no blink is counted.
TEST_F(FaceEmotionTest, ActionsAndValenceReachTheMeta) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  GstClockTime pts = 0;
  for (int i = 0; i < 75; ++i, pts += kFrame) {  // 2.5 s at 30 fps
    GstBuffer* o = PushPull(h_, At(tracked_, pts));
    ASSERT_NE(o, nullptr);
    gst_buffer_unref(o);
  }
  // The classifier runs beside the stream: wait (bounded) for its result to be attached.
  GstBuffer* out = RunUntilEmotion(h_, tracked_, &pts);
  ASSERT_NE(out, nullptr);
  const fg::Face& f = FacesOf(out).faces.at(0);
  for (const char* k : {"eyeOpenLeft", "eyeOpenRight", "mouthOpen", "smile", "browRaise",
                        "browLower", "jawOpen", "eyesClosed", "blinks", "blinkRate"})
    EXPECT_TRUE(f.actions.count(k)) << k;
  EXPECT_GE(f.actions.at("smile"), 0.5f) << "she smiles: not taken as her neutral";
  EXPECT_NEAR(f.actions.at("mouthOpen"), 0.0f, 0.05f);
  EXPECT_EQ(f.actions.at("blinks"), 0.0f);
  ASSERT_TRUE(f.emotion.has_value());
  ASSERT_TRUE(f.emotion->valence.has_value());
  EXPECT_GT(*f.emotion->valence, 0.3f) << "happy is pleasant";
  EXPECT_TRUE(f.emotion->confidence.has_value());
  gst_buffer_unref(out);
}

TEST_F(FaceEmotionTest, NoMetaAndNoFacePassUntouched) {
  GstHarness* h = NewHarness(64, 48, "rate=0");
  // No GstFaceGraphMeta at all (no facetrack upstream): the buffer passes, none is added.
  GstBuffer* out = PushPull(h, MakeFrame(fgtest::Canvas(64, 48, 90), GST_VIDEO_FORMAT_RGB, 0, 0));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(out), nullptr);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  // An empty meta (facetrack found no face): stays empty.
  ASSERT_TRUE(Start(fgtest::Canvas(160, 120, 128), 0, "rate=0"));
  for (int i = 0; i < 5; ++i) {
    out = PushPull(h_, At(tracked_, i * kFrame));
    EXPECT_TRUE(FacesOf(out).faces.empty());
    gst_buffer_unref(out);
  }
  EXPECT_EQ(CounterOf(h_, "submitted"), 0u);
}

// A face without a mesh (landmarks empty) cannot be cropped: no emotion, no crash.
TEST_F(FaceEmotionTest, FaceWithoutMeshGetsNoEmotion) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  gst_buffer_get_face_graph_meta(tracked_)->faces.faces[0].landmarks.clear();
  for (int i = 0; i < 5; ++i) {
    GstBuffer* out = PushPull(h_, At(tracked_, i * kFrame));
    ASSERT_EQ(FacesOf(out).faces.size(), 1u);
    EXPECT_FALSE(FacesOf(out).faces[0].emotion.has_value());
    gst_buffer_unref(out);
    g_usleep(2000);
  }
  EXPECT_EQ(CounterOf(h_, "submitted"), 0u);
}

// The photo twice, the second mirrored: two tracks, each with its own result (the mirrored
// crop is a different input to the network, so the scores differ) and its own message.
TEST_F(FaceEmotionTest, TwoFacesGetTheirOwnResults) {
  ASSERT_TRUE(Start(fgtest::TwoAstronauts(), 2, "rate=0 time-constant=0 post-messages=true"));
  const fgtest::TestBus bus(h_->element);
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h_, tracked_, &pts);
  ASSERT_NE(out, nullptr);
  const fg::FrameFaces& faces = FacesOf(out);
  ASSERT_EQ(faces.faces.size(), 2u);
  for (const fg::Face& f : faces.faces) {
    ASSERT_TRUE(f.emotion.has_value()) << "face " << f.id << ": no result after 3 s";
    ExpectValidEmotion(*f.emotion);
    EXPECT_EQ(f.emotion->label, "happy") << "face " << f.id;
  }
  EXPECT_NE(faces.faces[0].emotion->scores, faces.faces[1].emotion->scores);
  // One "facegraph-emotion" message per track (its first label), none repeated.
  std::set<gint64> ids;
  while (GstMessage* msg = bus.PopElementMessage()) {
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
    gst_buffer_unref(PushPull(h_, At(tracked_, pts)));
    pts += kFrame;
  }
  EXPECT_EQ(bus.PopElementMessage(), nullptr);
  gst_buffer_unref(out);
}

// A track absent for less than the engine's timeout (1 s) keeps its state; absent for longer
// it is ended. The returning face has no mesh, so it cannot be classified again: whether it
// shows an emotion says only whether the old state was kept.
TEST_F(FaceEmotionTest, TracksAbsentTooLongAreEnded) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  GstBuffer* empty = gst_buffer_copy(tracked_);
  gst_buffer_get_face_graph_meta(empty)->faces.faces.clear();
  GstBuffer* meshless = Meshless();

  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h_, tracked_, &pts);
  ASSERT_TRUE(FacesOf(out).faces.at(0).emotion.has_value());
  gst_buffer_unref(out);

  // Gone for 0.5 s: kept.
  for (GstClockTime end = pts + GST_SECOND / 2; pts < end; pts += kFrame)
    gst_buffer_unref(PushPull(h_, At(empty, pts)));
  out = PushPull(h_, At(meshless, pts));
  pts += kFrame;
  EXPECT_TRUE(FacesOf(out).faces.at(0).emotion.has_value()) << "ended after 0.5 s";
  gst_buffer_unref(out);

  // Gone for 1.5 s: ended. The pause lets any crop still in flight come back and be
  // discarded as the result of an ended track, so it cannot be taken for the returning face.
  for (GstClockTime end = pts + 3 * GST_SECOND / 2; pts < end; pts += kFrame)
    gst_buffer_unref(PushPull(h_, At(empty, pts)));
  g_usleep(fgtest::Scaled(std::chrono::microseconds(200000)).count());
  gst_buffer_unref(PushPull(h_, At(empty, pts)));
  pts += kFrame;
  out = PushPull(h_, At(meshless, pts));
  EXPECT_FALSE(FacesOf(out).faces.at(0).emotion.has_value()) << "kept after 1.5 s";
  gst_buffer_unref(out);

  gst_buffer_unref(meshless);
  gst_buffer_unref(empty);
}

// rate=10 on 30 fps video: every third frame is classified.
TEST_F(FaceEmotionTest, RateCapsClassificationsPerTrack) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=10"));
  for (int i = 0; i < 30; ++i) gst_buffer_unref(PushPull(h_, At(tracked_, i * kFrame)));
  EXPECT_EQ(CounterOf(h_, "submitted"), 10u);
}

// EOS right after a burst of crops (two faces, every frame, far faster than the worker): EOS
// passes, the counters add up (every crop classified or dropped), teardown is clean.
TEST_F(FaceEmotionTest, EosWithCropsInFlightIsCleanAndCountersAddUp) {
  ASSERT_TRUE(Start(fgtest::TwoAstronauts(), 2, "rate=0"));
  constexpr int kFrames = 20;
  for (int i = 0; i < kFrames; ++i) gst_buffer_unref(PushPull(h_, At(tracked_, i * kFrame)));
  EXPECT_TRUE(fgtest::PushEos(h_));
  const guint64 submitted = CounterOf(h_, "submitted"), classified = CounterOf(h_, "classified"),
                dropped = CounterOf(h_, "dropped");
  EXPECT_EQ(submitted, 2u * kFrames);
  EXPECT_GE(classified, 1u);
  EXPECT_EQ(classified + dropped, submitted)
      << "classified " << classified << " dropped " << dropped;
}

// The counters are readable from another thread while frames stream, never go down, and
// restart at READY->PAUSED.
TEST_F(FaceEmotionTest, CountersAreMonotonicAndRestart) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  guint64 last_submitted = 0, last_classified = 0;
  for (int i = 0; i < 10; ++i) {
    gst_buffer_unref(PushPull(h_, At(tracked_, i * kFrame)));
    const guint64 s = CounterOf(h_, "submitted"), c = CounterOf(h_, "classified");
    EXPECT_EQ(s, static_cast<guint64>(i + 1));
    EXPECT_GE(c, last_classified);
    EXPECT_LE(c + CounterOf(h_, "dropped"), s);
    last_submitted = s;
    last_classified = c;
  }
  EXPECT_EQ(last_submitted, 10u);
  gst_element_set_state(h_->element, GST_STATE_READY);
  gst_element_set_state(h_->element, GST_STATE_PLAYING);
  EXPECT_EQ(CounterOf(h_, "submitted"), 0u);
}

// A flushing seek restarts the emotion state (pts may go back) but not the counters.
TEST_F(FaceEmotionTest, FlushRestartsTheStateNotTheCounters) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  GstBuffer* meshless = Meshless();
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h_, tracked_, &pts);
  ASSERT_TRUE(FacesOf(out).faces.at(0).emotion.has_value());
  gst_buffer_unref(out);
  const guint64 submitted = CounterOf(h_, "submitted");

  fgtest::PushFlushingSeek(h_);
  out = PushPull(h_, At(meshless, 0));  // back to pts 0
  EXPECT_FALSE(FacesOf(out).faces.at(0).emotion.has_value()) << "state survived the flush";
  gst_buffer_unref(out);
  EXPECT_GE(CounterOf(h_, "submitted"), submitted);

  // And it comes back (pts from 0 again: the rate check was reset too).
  pts = kFrame;
  out = RunUntilEmotion(h_, tracked_, &pts);
  EXPECT_TRUE(FacesOf(out).faces.at(0).emotion.has_value());
  gst_buffer_unref(out);
  gst_buffer_unref(meshless);
}

// Properties changed and counters read from another thread while frames stream: no crash,
// every frame keeps its meta and face, the last values are in effect.
TEST_F(FaceEmotionTest, PropertiesChangedWhileStreaming) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0"));
  std::atomic<bool> done{false};
  std::thread poker([&] {
    for (int i = 0; !done; ++i) {
      g_object_set(h_->element, "rate", (i % 3) * 5.0, "time-constant", (i % 2) * 0.3,
                   "post-messages", i % 2 == 0, nullptr);
      guint64 c = 0, d = 0;
      g_object_get(h_->element, "classified", &c, "dropped", &d, nullptr);
      g_usleep(1000);
    }
  });
  for (int i = 0; i < 60; ++i) {
    GstBuffer* out = PushPull(h_, At(tracked_, i * kFrame));
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(FacesOf(out).faces.size(), 1u);
    gst_buffer_unref(out);
  }
  done = true;
  poker.join();
  g_object_set(h_->element, "rate", 2.5, "time-constant", 0.25, nullptr);
  double rate = 0, tau = 0;
  g_object_get(h_->element, "rate", &rate, "time-constant", &tau, nullptr);
  EXPECT_EQ(rate, 2.5);
  EXPECT_EQ(tau, 0.25);
  gst_buffer_unref(PushPull(h_, At(tracked_, 60 * kFrame)));
}

// READY->PAUSED with models-dir = `dir`: the state change result and the bus errors.
std::pair<GstStateChangeReturn, std::string> StartWithModels(const std::string& dir,
                                                             GError** first_error) {
  return fgtest::StartWithModels("faceemotion", dir, first_error);
}

TEST_F(FaceEmotionTest, MissingModelFailsTheStateChangeNamingTheFile) {
  const fgtest::TempDir temp;
  const std::string& dir = temp.path();
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

  const auto [ret3, errors3] = StartWithModels("/nonexistent/facegraph-models", &err);
  EXPECT_EQ(ret3, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(errors3.find("/nonexistent/facegraph-models/emotion.json"), std::string::npos) << errors3;
  ASSERT_NE(err, nullptr);
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND)) << err->message;
  g_clear_error(&err);
}

// Two faceemotion elements in one process, both inference=shared (so both in the one
// emotion pool). One floods it: 16 faces per frame, every face every frame (rate=0), frames
// pushed as fast as its thread can. The other is a real-time stream: one face at 10 Hz, 30
// frames a second for 3 s. Bound (the pool serves the streams round-robin: a quiet crop waits
// at most for the batch running when it came plus its own, inference_pool.h): the quiet
// element's crops are all classified at its rate (classified == submitted == 30 in the 3 s,
// dropped 0: its queue of 4 never overflowed, as it would if its results fell behind), and
// its face shows "happy"; the flooding element drops crops and counts each of them
// (submitted == classified + dropped after EOS). How far the quiet results lagged in wall
// time (crops in flight after each frame) depends on the machine's load, not on the
// schedule, so it is printed, not asserted; the schedule's own bound (at most one batch
// beyond the running one) is asserted by emotion_worker_test, where the batches are counted.
TEST_F(FaceEmotionTest, AFloodingStreamDoesNotStarveAnotherInTheSharedPool) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=10 inference=shared"));  // the quiet one: h_
  GstHarness* flood = NewHarness(Astronaut().w, Astronaut().h, "rate=0 inference=shared");
  GstBuffer* many = gst_buffer_copy(tracked_);  // the astronaut's face under 16 ids
  {
    fg::FrameFaces& ff = gst_buffer_get_face_graph_meta(many)->faces;
    const fg::Face one = ff.faces.at(0);
    ff.faces.clear();
    for (int i = 0; i < 16; ++i) {
      fg::Face f = one;
      f.id = 1000 + i;
      ff.faces.push_back(f);
    }
  }
  std::atomic<bool> stop{false};
  std::thread flooder([&] {  // the only thread that pushes into `flood` until joined
    for (int i = 0; !stop.load(); ++i) gst_buffer_unref(PushPull(flood, At(many, i * kFrame)));
  });
  while (CounterOf(flood, "classified") < 16) g_usleep(1000);  // the flood is running

  const auto t0 = std::chrono::steady_clock::now();
  guint64 max_in_flight = 0;
  int behind = 0;  // frames after which 2 crops were in flight
  std::string label;
  for (int i = 0; i < 90; ++i) {
    std::this_thread::sleep_until(t0 + i * fgtest::Scaled(std::chrono::microseconds(33333)));  // real time
    GstBuffer* out = PushPull(h_, At(tracked_, i * kFrame));
    if (const auto& e = FacesOf(out).faces.at(0).emotion) label = e->label;
    gst_buffer_unref(out);
    const guint64 in_flight = CounterOf(h_, "submitted") - CounterOf(h_, "classified");
    max_in_flight = std::max(max_in_flight, in_flight);
    behind += in_flight >= 2;
  }
  EXPECT_TRUE(fgtest::PushEos(h_));  // its crops in flight finish, under the flood still
  const guint64 submitted = CounterOf(h_, "submitted"), classified = CounterOf(h_, "classified"),
                dropped = CounterOf(h_, "dropped");
  stop.store(true);
  flooder.join();
  EXPECT_TRUE(fgtest::PushEos(flood));
  const guint64 fs = CounterOf(flood, "submitted"), fc = CounterOf(flood, "classified"),
                fd = CounterOf(flood, "dropped");
  std::printf("[ fairness ] quiet: %llu submitted, %llu classified, %llu dropped, at most %llu "
              "in flight after a frame (2 after %d of 90 frames); flood: %llu submitted, %llu "
              "classified, %llu dropped\n",
              (unsigned long long)submitted, (unsigned long long)classified,
              (unsigned long long)dropped, (unsigned long long)max_in_flight, behind,
              (unsigned long long)fs, (unsigned long long)fc, (unsigned long long)fd);
  EXPECT_EQ(submitted, 30u);
  EXPECT_EQ(classified, 30u);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(label, "happy");
  EXPECT_EQ(fc + fd, fs) << "every flood crop classified or dropped";
  EXPECT_GT(fd, 0u) << "the flood did not overload the pool";
  gst_buffer_unref(many);
  gst_harness_teardown(flood);
}

// inference=private still works (its own worker thread), and the property reads back.
TEST_F(FaceEmotionTest, PrivateInferenceIsHappyToo) {
  ASSERT_TRUE(Start(Astronaut(), 1, "rate=0 inference=private"));
  gint inference = -1;
  g_object_get(h_->element, "inference", &inference, nullptr);
  EXPECT_EQ(inference, 1);  // GST_FACE_INFERENCE_PRIVATE
  GstClockTime pts = 0;
  GstBuffer* out = RunUntilEmotion(h_, tracked_, &pts);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(FacesOf(out).faces.at(0).emotion.has_value());
  EXPECT_EQ(FacesOf(out).faces.at(0).emotion->label, "happy");
  gst_buffer_unref(out);
}

}  // namespace
