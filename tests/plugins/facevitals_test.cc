// facevitals through GstHarness on generated frames with a known pulse: skin-coloured frames
// whose colour beats at a set rate (0.4% of the skin level, under one grey level, with sensor
// noise sigma 2), and GstFaceGraphMeta faces whose 468 landmarks are the canonical face
// projected onto them (tests/vitals/vitals_test_util.h), so the tests spend their time on the
// vitals, not on tracking. Covered: no meta and no face, faces appearing and disappearing
// (a track absent for longer than 2 s starts over), the right bpm through the element in
// face and region mode (the pseudo-face id 0, the waveform, the once-a-second messages),
// bad property values naming the property, a missing canonical face naming the file, EOS
// with work pending, flush. The worker runs beside the test thread: the pushes pause 1 ms a
// frame so that it keeps up, and waits for results are bounded by 3 s of wall time.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "plugins/gstfacemeta.h"
#include "engine/vitals/rppg.h"
#include "plugins/gstfacevitals.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"
#include "tests/plugins/harness_steps.h"
#include "tests/vitals/vitals_test_util.h"
#include "tests/time_scale.h"

namespace {

constexpr GstClockTime kFrame = GST_SECOND / 30;
constexpr int kW = 320, kH = 160;

// Columns [x0, x1) beat at bpm.
struct Band {
  int x0, x1;
  double bpm;
};

// Skin (160, 115, 95) with the pulse p = sin + 0.35 sin(2x) at 0.4% x (0.33, 0.77, 0.53) in
// R, G, B per band, and Gaussian noise (sigma 2) from a table read at a random offset.
fgtest::Rgb Pulsing(double t, const std::vector<Band>& bands, std::mt19937* rng) {
  static const std::vector<float> noise = [] {
    std::mt19937 g(17);
    std::normal_distribution<float> n(0, 2);
    std::vector<float> v(1 << 20);
    for (float& x : v) x = n(g);
    return v;
  }();
  fgtest::Rgb f = fgtest::Canvas(kW, kH, 0);
  size_t k = (*rng)() % (noise.size() - f.px.size());
  const double base[3] = {160, 115, 95}, sig[3] = {0.33, 0.77, 0.53};
  std::vector<double> p(kW, 0.0);
  for (const Band& b : bands) {
    const double ph = 2 * std::numbers::pi * b.bpm / 60 * t;
    for (int x = b.x0; x < b.x1; ++x) p[x] = std::sin(ph) + 0.35 * std::sin(2 * ph + 0.8);
  }
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x)
      for (int c = 0; c < 3; ++c, ++k)
        f.px[(y * kW + x) * 3 + c] = static_cast<uint8_t>(
            std::clamp(std::lround(base[c] * (1 + 0.004 * sig[c] * p[x]) + noise[k]), 0L, 255L));
  return f;
}

// A face as facetrack would give it: id, box, the canonical mesh centred at (cx, cy).
fg::Face FaceAt(int64_t id, float cx, float cy) {
  fg::Face f;
  f.id = id;
  f.landmarks = fg::vitals_testing::Project(0, 0, 0, 7, cx, cy);
  float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
  for (const auto& p : f.landmarks)
    x0 = std::min(x0, p[0]), y0 = std::min(y0, p[1]), x1 = std::max(x1, p[0]), y1 = std::max(y1, p[1]);
  f.box = {x0, y0, x1 - x0, y1 - y0};
  f.score = 0.99f;
  f.pose = fg::HeadPose{};
  return f;
}

class FaceVitalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fgtest::InitGstOnce();
    static const bool registered = GST_ELEMENT_REGISTER(facevitals, nullptr);
    ASSERT_TRUE(registered);
  }

  static GstHarness* NewHarness(const std::string& props = "") {
    GstHarness* h = fgtest::HarnessFor("facevitals", props);
    gst_harness_set_src_caps_str(h, fgtest::VideoCaps(GST_VIDEO_FORMAT_RGB, kW, kH).c_str());
    return h;
  }

  // Frame i (pts i/30 s) of the pulsing picture, with a meta holding `faces` (none when
  // `with_meta` is false).
  GstBuffer* Frame(int i, const std::vector<fg::Face>& faces, bool with_meta = true) {
    const GstClockTime pts = i * kFrame;
    GstBuffer* b = fgtest::MakeFrame(Pulsing(pts * 1e-9, bands_, &rng_), GST_VIDEO_FORMAT_RGB, 0, pts);
    if (with_meta) {
      GstFaceGraphMeta* m = gst_buffer_add_face_graph_meta(b);
      m->faces.pts_ns = static_cast<int64_t>(pts);
      m->faces.faces = faces;
    }
    return b;
  }

  static GstBuffer* Run(GstHarness* h, GstBuffer* in) {
    GstBuffer* out = fgtest::PushPull(h, in);
    // Let the worker keep pace (it is not a race: only a lag otherwise).
    g_usleep(fgtest::Scaled(std::chrono::microseconds(1000)).count());
    return out;
  }

  static const fg::Face* FaceWithId(GstBuffer* out, int64_t id) {
    const GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(out);
    if (!m) return nullptr;
    for (const fg::Face& f : m->faces.faces)
      if (f.id == id) return &f;
    return nullptr;
  }

  // Pushes frames from *i on until face `id` has vitals (at most 3 s of wall time, times
  // FG_TIME_SCALE);
  // returns the last output (caller unrefs).
  GstBuffer* RunUntilVitals(GstHarness* h, int* i, const std::vector<fg::Face>& faces, int64_t id) {
    const auto deadline = std::chrono::steady_clock::now() + fgtest::Scaled(std::chrono::seconds(3));
    for (;;) {
      GstBuffer* out = Run(h, Frame((*i)++, faces));
      const fg::Face* f = out ? FaceWithId(out, id) : nullptr;
      if (!out || (f && f->vitals) || std::chrono::steady_clock::now() > deadline) return out;
      gst_buffer_unref(out);
    }
  }

  std::vector<Band> bands_ = {{0, kW / 2, 66}, {kW / 2, kW, 102}};
  std::mt19937 rng_{7};
};

TEST_F(FaceVitalsTest, NoMetaAndNoFacePassUntouched) {
  GstHarness* h = NewHarness();
  for (int i = 0; i < 5; ++i) {
    GstBuffer* in = Frame(i, {}, /*with_meta=*/false);
    GstBuffer* ref = gst_buffer_copy_deep(in);
    GstBuffer* out = Run(h, in);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(gst_buffer_get_face_graph_meta(out), nullptr) << "face mode adds no meta";
    EXPECT_TRUE(fgtest::SameBytes(out, ref));
    gst_buffer_unref(ref);
    gst_buffer_unref(out);
  }
  for (int i = 5; i < 10; ++i) {  // facetrack found nobody: the meta stays empty
    GstBuffer* out = Run(h, Frame(i, {}));
    ASSERT_NE(gst_buffer_get_face_graph_meta(out), nullptr);
    EXPECT_TRUE(gst_buffer_get_face_graph_meta(out)->faces.faces.empty());
    gst_buffer_unref(out);
  }
  fg::Face boxed;  // a box without a mesh: nothing to sample
  boxed.id = 3;
  boxed.box = {10, 10, 50, 50};
  GstBuffer* out = Run(h, Frame(10, {boxed}));
  EXPECT_FALSE(FaceWithId(out, 3)->vitals);
  gst_buffer_unref(out);
  EXPECT_EQ(fgtest::CounterOf(h, "submitted"), 0u);
  gst_harness_teardown(h);
}

// Face 1 (left, 66 bpm) alone for 5 s; then face 2 (right, 102 bpm) joins: each is measured
// at its own rate, and face 2 has no vitals before its own 5 s. Face 1 leaves for 2.5 s (more
// than the 2 s track timeout) and comes back: it starts over (no vitals at first).
TEST_F(FaceVitalsTest, FacesAppearingAndDisappearing) {
  GstHarness* h = NewHarness();
  const fg::Face one = FaceAt(1, 80, 80), two = FaceAt(2, 240, 80);
  int i = 0;
  for (; i < 150; ++i) gst_buffer_unref(Run(h, Frame(i, {one})));
  GstBuffer* out = RunUntilVitals(h, &i, {one, two}, 1);
  ASSERT_TRUE(FaceWithId(out, 1) && FaceWithId(out, 1)->vitals) << "face 1 has 5 s of data";
  EXPECT_FALSE(FaceWithId(out, 2)->vitals) << "face 2 just appeared";
  gst_buffer_unref(out);
  const int two_from = i;
  for (; i < two_from + 165; ++i) gst_buffer_unref(Run(h, Frame(i, {one, two})));
  out = RunUntilVitals(h, &i, {one, two}, 2);
  ASSERT_TRUE(FaceWithId(out, 2)->vitals) << "face 2 after 5.5 s";
  std::printf("[ facevitals ] face 1: %.1f bpm (truth 66), face 2: %.1f bpm (truth 102)\n",
              FaceWithId(out, 1)->vitals->bpm, FaceWithId(out, 2)->vitals->bpm);
  EXPECT_NEAR(FaceWithId(out, 1)->vitals->bpm, 66, 3);
  EXPECT_NEAR(FaceWithId(out, 2)->vitals->bpm, 102, 3);
  gst_buffer_unref(out);
  const int gone_from = i;
  for (; i < gone_from + 75; ++i) {  // 2.5 s without face 1
    out = Run(h, Frame(i, {two}));
    EXPECT_TRUE(FaceWithId(out, 2)->vitals);
    gst_buffer_unref(out);
  }
  out = Run(h, Frame(i++, {one, two}));
  EXPECT_FALSE(FaceWithId(out, 1)->vitals) << "face 1's old track was ended";
  EXPECT_TRUE(FaceWithId(out, 2)->vitals);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

// Region mode on the whole frame beating at one rate, 12 s: the pseudo-face id 0 with the
// frame as its box, the right bpm (tolerance 1.5 bpm, the estimator's on clean traces), the
// waveform (bvp=true), and one message per second once valid. Then face mode on the same kind
// of frames with the mesh over them: the right bpm too.
TEST_F(FaceVitalsTest, PulsingFramesGiveTheRightBpm) {
  for (double bpm : {54.0, 132.0}) {
    bands_ = {{0, kW, bpm}};
    GstHarness* h = NewHarness("mode=region post-messages=true bvp=true");
    const fgtest::TestBus bus(h->element);
    GstBuffer* out = nullptr;
    for (int i = 0; i < 360; ++i) {
      if (out) gst_buffer_unref(out);
      out = Run(h, Frame(i, {}, /*with_meta=*/i % 2 == 0));  // with and without a meta
    }
    const fg::Face* f = FaceWithId(out, 0);
    ASSERT_NE(f, nullptr) << "the pseudo-face";
    EXPECT_EQ(f->box, (fg::Box{0, 0, kW, kH}));
    ASSERT_TRUE(f->vitals);
    std::printf("[ facevitals ] region %.0f bpm: got %.2f, SNR %.1f dB, confidence %.2f\n", bpm,
                f->vitals->bpm, f->vitals->snr, f->vitals->confidence);
    EXPECT_NEAR(f->vitals->bpm, bpm, 1.5);
    EXPECT_GT(f->vitals->confidence, 0.5);
    EXPECT_EQ(f->vitals->bvp.size(), 300u) << "10 s at 30 Hz";
    EXPECT_EQ(f->vitals->bvp_fs, 30);
    gst_buffer_unref(out);
    int messages = 0;
    while (GstMessage* msg = bus.PopElementMessage()) {
      const GstStructure* s = gst_message_get_structure(msg);
      if (gst_structure_has_name(s, "facegraph-vitals")) {
        ++messages;
        gint64 id = -1;
        double b = 0, snr = 0, c = -1;
        guint64 pts = 0;
        EXPECT_TRUE(gst_structure_get(s, "id", G_TYPE_INT64, &id, "bpm", G_TYPE_DOUBLE, &b, "snr",
                                      G_TYPE_DOUBLE, &snr, "confidence", G_TYPE_DOUBLE, &c, "pts",
                                      G_TYPE_UINT64, &pts, nullptr));
        EXPECT_EQ(id, 0);
        EXPECT_GE(pts, 5 * GST_SECOND) << "no message before the estimate is valid";
        EXPECT_GE(c, 0.0);
      }
      gst_message_unref(msg);
    }
    // Valid from 5 s to 12 s, updated once a second: 7 updates (+-1 at the edges).
    EXPECT_GE(messages, 6);
    EXPECT_LE(messages, 8);
    gst_harness_teardown(h);
  }

  bands_ = {{0, kW, 78}};
  GstHarness* h = NewHarness();
  const fg::Face face = FaceAt(5, 160, 80);
  int i = 0;
  for (; i < 330; ++i) gst_buffer_unref(Run(h, Frame(i, {face})));
  GstBuffer* out = RunUntilVitals(h, &i, {face}, 5);
  const fg::Face* f = FaceWithId(out, 5);
  ASSERT_TRUE(f && f->vitals);
  std::printf("[ facevitals ] face 78 bpm: got %.2f, SNR %.1f dB, confidence %.2f\n",
              f->vitals->bpm, f->vitals->snr, f->vitals->confidence);
  EXPECT_NEAR(f->vitals->bpm, 78, 1.5);
  EXPECT_TRUE(f->vitals->bvp.empty()) << "bvp=false by default";
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

// Properties changed and counters read from another thread while frames stream: no crash,
// every frame keeps its face, and the last values are in effect.
TEST_F(FaceVitalsTest, PropertiesChangedWhileStreaming) {
  GstHarness* h = NewHarness();
  const fg::Face face = FaceAt(1, 80, 80);
  std::atomic<bool> done{false};
  std::thread poker([&] {
    static const char* kMethods[] = {"green", "chrom", "pos", "lgi", "pbv", "omit"};
    for (int i = 0; !done; ++i) {
      gst_util_set_object_arg(G_OBJECT(h->element), "method", kMethods[i % 6]);
      g_object_set(h->element, "window", 4.0 + i % 7, "bvp", i % 2 == 0, "post-messages",
                   i % 3 == 0, "region", i % 2 ? "0,0,10,10" : "", nullptr);
      guint64 s = 0, d = 0;
      g_object_get(h->element, "submitted", &s, "dropped", &d, nullptr);
      g_usleep(2000);
    }
  });
  for (int i = 0; i < 90; ++i) {
    GstBuffer* out = Run(h, Frame(i, {face}));
    ASSERT_NE(out, nullptr);
    EXPECT_NE(FaceWithId(out, 1), nullptr);
    gst_buffer_unref(out);
  }
  done = true;
  poker.join();
  g_object_set(h->element, "window", 12.5, "region", "1,2,3,4", nullptr);
  gst_util_set_object_arg(G_OBJECT(h->element), "method", "chrom");
  double window = 0;
  gchar* region = nullptr;
  gint method = -1;
  g_object_get(h->element, "window", &window, "region", &region, "method", &method, nullptr);
  EXPECT_EQ(window, 12.5);
  EXPECT_STREQ(region, "1,2,3,4");
  EXPECT_EQ(method, static_cast<gint>(fg::RppgMethod::kChrom));
  g_free(region);
  gst_buffer_unref(Run(h, Frame(90, {face})));
  EXPECT_EQ(fgtest::CounterOf(h, "submitted"), 91u) << "a restart keeps the counters";
  gst_harness_teardown(h);
}

// READY->PAUSED of a facevitals with `props`: the state change result and the bus errors.
std::pair<GstStateChangeReturn, std::string> Start(const std::string& props) {
  return fgtest::StartWithProperties("facevitals", props);
}

TEST_F(FaceVitalsTest, BadPropertyValuesNameTheProperty) {
  for (const char* region : {"10,20,abc,5", "10,20,30", "1,2,0,4", "-5,0,10,10"}) {
    const auto [ret, errors] = Start(std::string("mode=region region=") + region);
    EXPECT_EQ(ret, GST_STATE_CHANGE_FAILURE) << region;
    EXPECT_NE(errors.find("property 'region'"), std::string::npos) << errors;
    EXPECT_NE(errors.find(region), std::string::npos) << errors;
  }
  {
    const auto [ret, errors] = Start("mode=region region=0,0,64,48");
    EXPECT_NE(ret, GST_STATE_CHANGE_FAILURE) << errors;
  }
  // A region outside the frame is known once the frame size is: the stream stops.
  GstHarness* h = NewHarness("mode=region region=400,10,20,20");
  {
    const fgtest::TestBus bus(h->element);
    EXPECT_EQ(gst_harness_push(h, Frame(0, {}, false)), GST_FLOW_ERROR);
    const std::string errors = fgtest::DrainErrors(bus.get());
    EXPECT_NE(errors.find("property 'region'"), std::string::npos) << errors;
    EXPECT_NE(errors.find("outside the 320x160 frame"), std::string::npos) << errors;
  }
  gst_harness_teardown(h);
  // Method and mode are enums: GStreamer's parser refuses unknown names, naming the property.
  for (const char* launch : {"videotestsrc ! facevitals method=bogus ! fakesink",
                             "videotestsrc ! facevitals mode=bogus ! fakesink"}) {
    GError* err = nullptr;
    GstElement* p = gst_parse_launch_full(launch, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
    ASSERT_NE(err, nullptr) << launch;
    EXPECT_NE(std::string(err->message).find(std::string(launch).find("method") != std::string::npos ? "method" : "mode"),
              std::string::npos) << err->message;
    g_error_free(err);
    if (p) gst_object_unref(p);
  }
  // Every method name is accepted.
  for (const char* m : {"green", "chrom", "pos", "lgi", "pbv", "omit"}) {
    GstHarness* hm = NewHarness(std::string("method=") + m);
    gint value = -1;
    g_object_get(hm->element, "method", &value, nullptr);
    GEnumClass* klass = G_ENUM_CLASS(g_type_class_ref(GST_TYPE_FACE_VITALS_METHOD));
    EXPECT_STREQ(g_enum_get_value(klass, value)->value_nick, m);
    g_type_class_unref(klass);
    gst_harness_teardown(hm);
  }
}

TEST_F(FaceVitalsTest, MissingCanonicalFaceNamesTheFile) {
  const fgtest::TempDir temp;
  const std::string& dir = temp.path();
  const auto [ret, errors] = Start("models-dir=" + dir);
  EXPECT_EQ(ret, GST_STATE_CHANGE_FAILURE);
  EXPECT_NE(errors.find(dir + "/geometry_pipeline_metadata_landmarks.binarypb"), std::string::npos) << errors;
  // Region mode needs no models.
  const auto [ret2, errors2] = Start("mode=region models-dir=" + dir);
  EXPECT_NE(ret2, GST_STATE_CHANGE_FAILURE) << errors2;
}

// Frames pushed as fast as possible (two faces), then EOS: EOS passes, the counters add up
// (every sample processed or dropped), teardown is clean. Then a flush: the measurement
// restarts (pts may go back), the counters do not.
TEST_F(FaceVitalsTest, EosWithWorkPendingAndFlush) {
  GstHarness* h = NewHarness();
  const fg::Face one = FaceAt(1, 80, 80), two = FaceAt(2, 240, 80);
  constexpr int kFrames = 200;
  for (int i = 0; i < kFrames; ++i) gst_buffer_unref(fgtest::PushPull(h, Frame(i, {one, two})));
  EXPECT_TRUE(fgtest::PushEos(h));
  const guint64 submitted = fgtest::CounterOf(h, "submitted"), processed = fgtest::CounterOf(h, "processed"),
                dropped = fgtest::CounterOf(h, "dropped");
  EXPECT_EQ(submitted, 2u * kFrames);
  EXPECT_EQ(processed + dropped, submitted) << "processed " << processed << " dropped " << dropped;
  gst_harness_teardown(h);

  h = NewHarness();
  int i = 0;
  for (; i < 150; ++i) gst_buffer_unref(Run(h, Frame(i, {one})));
  GstBuffer* out = RunUntilVitals(h, &i, {one}, 1);
  ASSERT_TRUE(FaceWithId(out, 1)->vitals);
  gst_buffer_unref(out);
  fgtest::PushFlushingSeek(h);
  const guint64 before = fgtest::CounterOf(h, "submitted");
  out = Run(h, Frame(0, {one}));  // back to pts 0
  EXPECT_FALSE(FaceWithId(out, 1)->vitals) << "the measurement survived the flush";
  EXPECT_EQ(fgtest::CounterOf(h, "submitted"), before + 1);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

}  // namespace
