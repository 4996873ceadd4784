// facejson through GstHarness: event order, caps for every engine format (odd sizes too),
// refusal of other formats, byte-identical pass-through, JSON lines that match the attached
// GstFaceGraphMeta, and failure to open the output file. The session summary: the last line
// on EOS (time by pts, hand-computed), or alone in summary-location with the frame lines
// left pure; none without EOS; an unwritable summary-location fails the state change.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/json.h"
#include "plugins/gstfacemeta.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"

namespace {

std::string Caps(const std::string& format, int w, int h) {
  return "video/x-raw,format=" + format + ",width=" + std::to_string(w) +
         ",height=" + std::to_string(h) + ",framerate=30/1";
}

// A buffer of the caps' size filled with a known pattern, stamped with pts.
GstBuffer* PatternBuffer(const std::string& caps_str, GstClockTime pts) {
  GstCaps* caps = gst_caps_from_string(caps_str.c_str());
  GstVideoInfo info;
  EXPECT_TRUE(gst_video_info_from_caps(&info, caps)) << caps_str;
  gst_caps_unref(caps);
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<guint8>(i * 31 + 7);
  gst_buffer_unmap(buf, &map);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

fg::FrameFaces SampleFaces(int64_t pts) {
  fg::FrameFaces f;
  f.pts_ns = pts;
  fg::Face a;
  a.id = 7;
  a.box = {10.5f, 20.25f, 64.f, 80.f};
  a.score = 0.97f;
  a.landmarks = {{1.f, 2.f, -0.5f}, {3.125f, 4.f, 0.25f}};
  a.pose = fg::HeadPose{12.f, -3.5f, 0.75f, std::array<float, 3>{0.1f, 0.2f, 55.f}};
  a.emotion.emplace();
  a.emotion->label = "happy";
  a.emotion->scores = {{"happy", 0.8f}, {"neutral", 0.2f}};
  a.vitals.emplace();
  a.vitals->bpm = 72.5f, a.vitals->snr = 6.f, a.vitals->confidence = 0.9f;
  a.blendshapes = {{"jawOpen", 0.125f}, {"eyeBlinkLeft", 0.5f}};
  fg::Face b;
  b.id = 8;
  b.box = {100.f, 5.f, 20.f, 22.f};
  b.score = 0.5f;
  f.faces = {a, b};
  return f;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class FaceJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fgtest::InitGstOnce();
    dir_ = fgtest::MakeTempDir();
    out_ = dir_ + "/faces.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // A harness on facejson writing to out_ (so test output stays clean).
  GstHarness* NewHarness(const std::string& summary_location = "") {
    GstElement* e = gst_element_factory_make("facejson", nullptr);
    g_object_set(e, "location", out_.c_str(), nullptr);
    if (!summary_location.empty())
      g_object_set(e, "summary-location", summary_location.c_str(), nullptr);
    GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    return h;
  }
  std::string dir_, out_;
};

TEST_F(FaceJsonTest, EventsReachTheSrcSideInOrder) {
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, Caps("RGB", 33, 17).c_str());
  ASSERT_EQ(gst_harness_push(h, PatternBuffer(Caps("RGB", 33, 17), 0)), GST_FLOW_OK);
  const GstEventType expected[] = {GST_EVENT_STREAM_START, GST_EVENT_CAPS, GST_EVENT_SEGMENT};
  for (GstEventType type : expected) {
    GstEvent* e = gst_harness_pull_event(h);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(GST_EVENT_TYPE(e), type)
        << "got " << GST_EVENT_TYPE_NAME(e) << ", want " << gst_event_type_get_name(type);
    gst_event_unref(e);
  }
  gst_buffer_unref(gst_harness_pull(h));
  gst_harness_teardown(h);
}

// Every engine format, odd and even sizes: caps accepted, frames byte-identical, one JSON line
// per frame with the buffer's pts.
class FaceJsonFormatTest
    : public FaceJsonTest,
      public ::testing::WithParamInterface<std::tuple<std::string, int, int>> {};

TEST_P(FaceJsonFormatTest, AcceptsAndPassesFramesThroughUnchanged) {
  const auto& [format, w, h_px] = GetParam();
  const std::string caps = Caps(format, w, h_px);
  SCOPED_TRACE("caps " + caps);
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, caps.c_str());
  for (int i = 0; i < 3; ++i) {
    GstBuffer* in = PatternBuffer(caps, i * GST_SECOND / 30);
    GstBuffer* expected = gst_buffer_copy_deep(in);
    ASSERT_EQ(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    ASSERT_NE(out, nullptr);
    EXPECT_TRUE(fgtest::SameBytes(out, expected)) << "frame " << i;
    EXPECT_EQ(GST_BUFFER_PTS(out), GST_BUFFER_PTS(expected));
    gst_buffer_unref(out);
    gst_buffer_unref(expected);
  }
  GstCaps* out_caps = gst_pad_get_current_caps(h->sinkpad);
  ASSERT_NE(out_caps, nullptr);
  GstCaps* want = gst_caps_from_string(caps.c_str());
  EXPECT_TRUE(gst_caps_is_equal(out_caps, want));
  gst_caps_unref(want);
  gst_caps_unref(out_caps);
  gst_harness_teardown(h);

  const auto lines = Lines(fgtest::ReadFile(out_));
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    std::string err;
    auto parsed = fg::FromJsonLine(lines[i], &err);
    ASSERT_TRUE(parsed) << err << " in line " << lines[i];
    EXPECT_EQ(parsed->pts_ns, static_cast<int64_t>(i * GST_SECOND / 30));
    EXPECT_TRUE(parsed->faces.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    EngineFormats, FaceJsonFormatTest,
    ::testing::Combine(::testing::Values("RGB", "BGR", "RGBA", "BGRA", "GRAY8", "NV12", "I420"),
                       ::testing::Values(33, 64), ::testing::Values(17, 48)),
    [](const auto& info) {
      return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "x" +
             std::to_string(std::get<2>(info.param));
    });

TEST_F(FaceJsonTest, RefusesOtherFormatsNamingElementAndFormat) {
  GstHarness* h = NewHarness();
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  // Sticky events are stored even when refused; the refusal shows on the first push.
  gst_harness_set_src_caps_str(h, Caps("Y444", 32, 16).c_str());
  EXPECT_EQ(gst_harness_push(h, PatternBuffer(Caps("Y444", 32, 16), 0)),
            GST_FLOW_NOT_NEGOTIATED);
  const std::string errors = fgtest::DrainErrors(bus);
  EXPECT_NE(errors.find("Y444"), std::string::npos) << errors;
  EXPECT_NE(errors.find(GST_ELEMENT_NAME(h->element)), std::string::npos) << errors;
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}

TEST_F(FaceJsonTest, RefusedInCapsQueriesToo) {
  GstElement* e = gst_element_factory_make("facejson", nullptr);
  GstPad* sink = gst_element_get_static_pad(e, "sink");
  GstCaps* y444 = gst_caps_from_string(Caps("Y444", 32, 16).c_str());
  GstCaps* nv12 = gst_caps_from_string(Caps("NV12", 33, 17).c_str());
  EXPECT_FALSE(gst_pad_query_accept_caps(sink, y444));
  EXPECT_TRUE(gst_pad_query_accept_caps(sink, nv12));
  gst_caps_unref(y444);
  gst_caps_unref(nv12);
  gst_object_unref(sink);
  gst_object_unref(e);
}

TEST_F(FaceJsonTest, JsonLinesMatchTheMeta) {
  const std::string caps = Caps("NV12", 33, 17);
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, caps.c_str());
  std::vector<fg::FrameFaces> expected;
  for (int i = 0; i < 4; ++i) {
    const GstClockTime pts = i * GST_SECOND / 30;
    GstBuffer* buf = PatternBuffer(caps, pts);
    fg::FrameFaces faces;
    faces.pts_ns = static_cast<int64_t>(pts);
    if (i % 2 == 0) {  // every other frame carries results; the others write "faces": []
      faces = SampleFaces(static_cast<int64_t>(pts));
      faces.faces[0].id += i;
      gst_buffer_add_face_graph_meta(buf)->faces = faces;
    }
    expected.push_back(faces);
    ASSERT_EQ(gst_harness_push(h, buf), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(h);
    const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(out);
    if (i % 2 == 0) {
      ASSERT_NE(meta, nullptr) << "the meta must travel downstream";
      EXPECT_EQ(meta->faces, faces);
    } else {
      EXPECT_EQ(meta, nullptr);
    }
    gst_buffer_unref(out);
  }
  // The buffer's pts is the truth even when the meta says otherwise; no pts writes -1.
  {
    GstBuffer* buf = PatternBuffer(caps, GST_CLOCK_TIME_NONE);
    gst_buffer_add_face_graph_meta(buf)->faces = SampleFaces(12345);
    fg::FrameFaces want = SampleFaces(-1);
    expected.push_back(want);
    ASSERT_EQ(gst_harness_push(h, buf), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  // Each line is flushed as written: readable before the element stops.
  EXPECT_EQ(Lines(fgtest::ReadFile(out_)).size(), expected.size());
  gst_harness_teardown(h);

  const auto lines = Lines(fgtest::ReadFile(out_));
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string err;
    auto parsed = fg::FromJsonLine(lines[i], &err);
    ASSERT_TRUE(parsed) << err << " in line " << i << ": " << lines[i];
    EXPECT_EQ(*parsed, expected[i]) << "line " << i << ": " << lines[i];
  }
}

// A DISCONT buffer after the first (data lost upstream) marks its line "gap": true; the first
// buffer of a stream is always DISCONT and is no gap. The lines still parse as frames.
TEST_F(FaceJsonTest, GapAfterLostDataIsMarked) {
  const std::string caps = Caps("RGB", 16, 8);
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, caps.c_str());
  const bool discont[] = {true, false, true, false};
  for (int i = 0; i < 4; ++i) {
    GstBuffer* buf = PatternBuffer(caps, i * GST_SECOND / 10);
    if (discont[i]) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    ASSERT_EQ(gst_harness_push(h, buf), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  gst_harness_teardown(h);
  const auto lines = Lines(fgtest::ReadFile(out_));
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const auto j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j.contains("gap"), i == 2) << "line " << i << ": " << lines[i];
    std::string err;
    EXPECT_TRUE(fg::FromJsonLine(lines[i], &err)) << err;
  }
}

TEST_F(FaceJsonTest, LocationChangesWhileStreamingApplyAtTheNextStart) {
  const std::string caps = Caps("GRAY8", 33, 17);
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, caps.c_str());
  const std::string other = dir_ + "/other.jsonl";
  for (int i = 0; i < 20; ++i) {
    // Property writes race the streaming thread; the open file must not change.
    g_object_set(h->element, "location", (i % 2 ? other : out_).c_str(), nullptr);
    ASSERT_EQ(gst_harness_push(h, PatternBuffer(caps, i * GST_MSECOND)), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
  gchar* location = nullptr;
  g_object_get(h->element, "location", &location, nullptr);
  EXPECT_EQ(std::string(location), other);
  g_free(location);
  gst_harness_teardown(h);
  EXPECT_EQ(Lines(fgtest::ReadFile(out_)).size(), 20u);
  EXPECT_FALSE(g_file_test(other.c_str(), G_FILE_TEST_EXISTS));
}

TEST_F(FaceJsonTest, DefaultLocationIsStdout) {
  GstElement* e = gst_element_factory_make("facejson", nullptr);
  ASSERT_NE(e, nullptr);
  gchar* location = nullptr;
  g_object_get(e, "location", &location, nullptr);
  EXPECT_STREQ(location, "-");
  g_free(location);
  gst_object_unref(e);
}

TEST_F(FaceJsonTest, UnwritableLocationFailsTheStateChangeNamingThePath) {
  const std::string path = dir_ + "/no/such/dir/faces.jsonl";
  GstElement* e = gst_element_factory_make("facejson", nullptr);
  g_object_set(e, "location", path.c_str(), nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ASSERT_NE(msg, nullptr);
  GError* err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE))
      << err->message;
  EXPECT_NE(std::string(err->message).find(path), std::string::npos) << err->message;
  EXPECT_NE(std::string(err->message).find("No such file"), std::string::npos) << err->message;
  g_clear_error(&err);
  gst_message_unref(msg);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}

// Frames of track 7 at pts 0, 100, 300, 400 ms (intervals 100, 200, 100: median 100 ms):
// happy 0.1 + 0.2 s, sad 0.1 + 0.1 (the last frame) s; valence 1 for 0.3 s and -1 for 0.2 s
// -> 0.2; blinks 0 0 1 2 -> 2 in 0.5 s = 240 per minute. Track 8 only in the second frame.
void PushSummaryFrames(GstHarness* h, const std::string& caps) {
  const int64_t ms = 1000000;
  const int64_t pts[4] = {0, 100 * ms, 300 * ms, 400 * ms};
  for (int i = 0; i < 4; ++i) {
    GstBuffer* buf = PatternBuffer(caps, static_cast<GstClockTime>(pts[i]));
    fg::FrameFaces faces;
    faces.pts_ns = pts[i];
    fg::Face f;
    f.id = 7;
    f.emotion = fg::Emotion{i < 2 ? "happy" : "sad", {{"happy", 0.5f}}, 0.5f,
                            i < 2 ? 1.f : -1.f, 0.f};
    f.actions = {{"blinks", static_cast<float>(std::max(0, i - 1))}};
    faces.faces.push_back(f);
    if (i == 1) {
      fg::Face other;
      other.id = 8;
      faces.faces.push_back(other);
    }
    gst_buffer_add_face_graph_meta(buf)->faces = faces;
    ASSERT_EQ(gst_harness_push(h, buf), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
}

void ExpectSummary(const std::string& line) {
  const auto j = nlohmann::json::parse(line);
  ASSERT_TRUE(j.contains("summary")) << line;
  const auto& tracks = j["summary"]["tracks"];
  ASSERT_EQ(tracks.size(), 2u) << line;
  const auto& t = tracks[0];
  EXPECT_EQ(t["id"], 7);
  EXPECT_EQ(t["frames"], 4);
  EXPECT_NEAR(t["seconds"].get<double>(), 0.5, 1e-9);
  EXPECT_NEAR(t["emotion_seconds"]["happy"].get<double>(), 0.3, 1e-9);
  EXPECT_NEAR(t["emotion_seconds"]["sad"].get<double>(), 0.2, 1e-9);
  EXPECT_NEAR(t["emotion_share"]["happy"].get<double>(), 0.6, 1e-9);
  EXPECT_NEAR(t["valence"].get<double>(), 0.2, 1e-6);
  EXPECT_EQ(t["blinks"], 2);
  EXPECT_NEAR(t["blinks_per_minute"].get<double>(), 240.0, 1e-6);
  EXPECT_EQ(tracks[1]["id"], 8);
  EXPECT_NEAR(tracks[1]["seconds"].get<double>(), 0.2, 1e-9);
  EXPECT_FALSE(tracks[1].contains("blinks"));
}

TEST_F(FaceJsonTest, SummaryIsTheLastLineOnEos) {
  const std::string caps = Caps("GRAY8", 33, 17);
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, caps.c_str());
  PushSummaryFrames(h, caps);
  EXPECT_EQ(Lines(fgtest::ReadFile(out_)).size(), 4u) << "no summary before EOS";
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  // The EOS travels on after the summary.
  bool eos = false;
  while (GstEvent* e = gst_harness_try_pull_event(h)) {
    eos |= GST_EVENT_TYPE(e) == GST_EVENT_EOS;
    gst_event_unref(e);
  }
  EXPECT_TRUE(eos);
  gst_harness_teardown(h);
  const auto lines = Lines(fgtest::ReadFile(out_));
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 4; ++i) {
    std::string err;
    EXPECT_TRUE(fg::FromJsonLine(lines[i], &err)) << err;
    EXPECT_FALSE(nlohmann::json::parse(lines[i]).contains("summary"));
  }
  ExpectSummary(lines[4]);
}

TEST_F(FaceJsonTest, SummaryLocationKeepsTheFrameLinesPure) {
  const std::string caps = Caps("RGB", 33, 17);
  const std::string summary = dir_ + "/summary.json";
  GstHarness* h = NewHarness(summary);
  gst_harness_set_src_caps_str(h, caps.c_str());
  PushSummaryFrames(h, caps);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  gst_harness_teardown(h);
  const auto lines = Lines(fgtest::ReadFile(out_));
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& line : lines) EXPECT_EQ(line.find("summary"), std::string::npos) << line;
  const auto summary_lines = Lines(fgtest::ReadFile(summary));
  ASSERT_EQ(summary_lines.size(), 1u);
  ExpectSummary(summary_lines[0]);
}

TEST_F(FaceJsonTest, NoSummaryWithoutEos) {
  const std::string caps = Caps("RGB", 33, 17);
  GstHarness* h = NewHarness();
  gst_harness_set_src_caps_str(h, caps.c_str());
  PushSummaryFrames(h, caps);
  gst_harness_teardown(h);
  EXPECT_EQ(Lines(fgtest::ReadFile(out_)).size(), 4u);
}

TEST_F(FaceJsonTest, UnwritableSummaryLocationFailsNamingProperty) {
  const std::string path = dir_ + "/missing/summary.json";
  GstElement* e = gst_element_factory_make("facejson", nullptr);
  g_object_set(e, "location", out_.c_str(), "summary-location", path.c_str(), nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  const std::string errors = fgtest::DrainErrors(bus);
  EXPECT_NE(errors.find(path), std::string::npos) << errors;
  EXPECT_NE(errors.find("summary-location"), std::string::npos) << errors;
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}

}  // namespace

// Rotation (max-size, max-age, max-files; facegraph kiosk's json-max-*).
class FaceJsonRotationTest : public FaceJsonTest {
 protected:
  GstHarness* RotatingHarness(guint64 max_size, guint max_age, guint max_files) {
    GstElement* e = gst_element_factory_make("facejson", nullptr);
    g_object_set(e, "location", out_.c_str(), "max-size", max_size, "max-age", max_age,
                 "max-files", max_files, nullptr);
    GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    gst_harness_set_src_caps_str(h, Caps("GRAY8", 8, 8).c_str());
    return h;
  }
  void Push(GstHarness* h, int i) {
    ASSERT_EQ(gst_harness_push(h, PatternBuffer(Caps("GRAY8", 8, 8), i * GST_MSECOND)), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(h));
  }
};

// Lines of ~30 bytes, files of at most 100: rotation every 3 lines; the newest lines in
// location, older in .1 and .2, nothing beyond max-files, no line split or lost in between.
TEST_F(FaceJsonRotationTest, BySizeKeepsMaxFilesInOrder) {
  GstHarness* h = RotatingHarness(100, 0, 2);
  for (int i = 0; i < 20; ++i) Push(h, i);
  gst_harness_teardown(h);
  EXPECT_FALSE(g_file_test((out_ + ".3").c_str(), G_FILE_TEST_EXISTS));
  std::vector<int64_t> pts;
  for (const std::string& path : {out_ + ".2", out_ + ".1", out_}) {
    const std::string text = fgtest::ReadFile(path);
    EXPECT_LE(text.size(), 100u) << path;
    EXPECT_FALSE(text.empty()) << path;
    for (const std::string& line : Lines(text)) {
      std::string err;
      const auto frame = fg::FromJsonLine(line, &err);
      ASSERT_TRUE(frame) << path << ": " << err;
      pts.push_back(frame->pts_ns);
    }
  }
  ASSERT_FALSE(pts.empty());
  for (size_t k = 0; k < pts.size(); ++k)  // the last pts.size() frames, consecutive
    EXPECT_EQ(pts[k], static_cast<int64_t>((20 - pts.size() + k) * GST_MSECOND)) << k;
}

TEST_F(FaceJsonRotationTest, ByAge) {
  GstHarness* h = RotatingHarness(0, 1, 10);
  for (int i = 0; i < 3; ++i) Push(h, i);
  g_usleep(1100 * 1000);  // max-age is 1 s
  Push(h, 3);
  gst_harness_teardown(h);
  EXPECT_EQ(Lines(fgtest::ReadFile(out_ + ".1")).size(), 3u);
  EXPECT_EQ(Lines(fgtest::ReadFile(out_)).size(), 1u);
}

TEST_F(FaceJsonRotationTest, OffByDefault) {
  GstHarness* h = RotatingHarness(0, 0, 10);
  for (int i = 0; i < 50; ++i) Push(h, i);
  gst_harness_teardown(h);
  EXPECT_EQ(Lines(fgtest::ReadFile(out_)).size(), 50u);
  EXPECT_FALSE(g_file_test((out_ + ".1").c_str(), G_FILE_TEST_EXISTS));
}
