// faceannotate through GstHarness: in all 7 formats the box is drawn exactly where the meta
// says and nowhere else (compared with an undrawn copy), each property switches its part off,
// the colour property is the box's colour, shared input buffers are never drawn on, frames
// without faces pass untouched, a wireframe without models fails the state change, and
// facetrack ! faceannotate draws around the astronaut's face only; draw-emotion, draw-bars,
// draw-actions and draw-vitals each switch their part, and after facetrack ! faceemotion the
// astronaut's happy bar is as long as its score says.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "engine/draw/face_overlay.h"

#include "plugins/gstfacemeta.h"
#include "tests/plugins/face_frames.h"
#include "tests/plugins/gst_test_env.h"
#include "tests/time_scale.h"

namespace {

using fgtest::MakeFrame;
using fgtest::VideoCaps;

const std::vector<GstVideoFormat> kFormats = {
    GST_VIDEO_FORMAT_RGB,   GST_VIDEO_FORMAT_BGR,  GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
    GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YUY2,
    GST_VIDEO_FORMAT_UYVY,  GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_xRGB,  GST_VIDEO_FORMAT_xBGR};

// Packed 4:2:2 (YUY2, UYVY): two pixels per 4-byte macropixel.
bool Packed422(GstVideoFormat format) {
  return format == GST_VIDEO_FORMAT_YUY2 || format == GST_VIDEO_FORMAT_UYVY;
}

// A face with everything faceannotate draws: box (30,40) 50x60, landmarks inside it, iris, pose.
fg::Face SampleFace() {
  fg::Face f;
  f.id = 7;
  f.box = {30.f, 40.f, 50.f, 60.f};
  f.score = 0.9f;
  for (int i = 0; i < fg::kMeshLandmarks; ++i)
    f.landmarks.push_back({35.f + (i % 20) * 2.f, 45.f + (i / 20) * 2.f, 0.f});
  for (float cx : {45.f, 65.f}) {
    f.landmarks.push_back({cx, 60.f, 0.f});
    for (auto [dx, dy] : {std::pair{3.f, 0.f}, {0.f, 3.f}, {-3.f, 0.f}, {0.f, -3.f}})
      f.landmarks.push_back({cx + dx, 60.f + dy, 0.f});
  }
  f.pose = fg::HeadPose{20.f, 10.f, 5.f, std::nullopt};
  return f;
}

GstBuffer* FrameWithFace(GstVideoFormat format, int w, int h, bool with_face = true) {
  GstBuffer* b = MakeFrame(fgtest::Canvas(w, h, 60), format, 0, 0);
  if (with_face) gst_buffer_add_face_graph_meta(b)->faces.faces.push_back(SampleFace());
  return b;
}

// Pixels (x, y) that differ between two frames of `format`: any byte of a packed RGB / grey
// pixel, the luma byte of a YUV pixel (chroma is shared with the block's neighbours).
std::vector<bool> Changed(GstBuffer* a, GstBuffer* b, GstVideoFormat format, int w, int h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, w, h);
  GstVideoFrame fa, fb;
  EXPECT_TRUE(gst_video_frame_map(&fa, &info, a, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&fb, &info, b, GST_MAP_READ));
  const int pstride = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0) == 0 ? 1 : GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
  const bool yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(info.finfo);
  const int first = yuv ? GST_VIDEO_INFO_COMP_POFFSET(&info, 0) : 0, bytes = yuv ? 1 : pstride;
  std::vector<bool> changed(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    const auto* ra = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&fa, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&fa, 0);
    const auto* rb = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&fb, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&fb, 0);
    for (int x = 0; x < w; ++x)
      for (int k = first; k < first + bytes; ++k)
        if (ra[pstride * x + k] != rb[pstride * x + k]) changed[static_cast<size_t>(y) * w + x] = true;
  }
  gst_video_frame_unmap(&fa);
  gst_video_frame_unmap(&fb);
  return changed;
}

int Count(const std::vector<bool>& v) {
  int n = 0;
  for (bool b : v) n += b;
  return n;
}

class FaceAnnotateTest : public ::testing::Test {
 protected:
  void SetUp() override { fgtest::InitGstOnce(); }

  // Runs one frame through faceannotate with `props`; returns the pixels that changed.
  static std::vector<bool> Draw(GstVideoFormat format, int w, int h, const std::string& props,
                                bool with_face = true) {
    GstHarness* harness = fgtest::HarnessFor("faceannotate", props);
    gst_harness_set_src_caps_str(harness, VideoCaps(format, w, h).c_str());
    GstBuffer* in = FrameWithFace(format, w, h, with_face);
    GstBuffer* undrawn = gst_buffer_copy_deep(in);
    EXPECT_EQ(gst_harness_push(harness, in), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(harness);
    EXPECT_NE(out, nullptr);
    std::vector<bool> changed = Changed(out, undrawn, format, w, h);
    if (with_face) {
      EXPECT_NE(gst_buffer_get_face_graph_meta(out), nullptr) << "meta dropped";
    }
    gst_buffer_unref(out);
    gst_buffer_unref(undrawn);
    gst_harness_teardown(harness);
    return changed;
  }
};

constexpr const char* kBoxOnly =
    "draw-box=true draw-id=false draw-mesh=none draw-iris=false draw-pose=false";

TEST_F(FaceAnnotateTest, BoxExactlyWhereTheMetaSaysInEveryFormat) {
  for (GstVideoFormat format : kFormats) {
    const int w = 121, h = 111;  // odd
    const std::vector<bool> changed = Draw(format, w, h, kBoxOnly);
    // Box (30,40) 50x60: pixels x 30..79, y 40..99, 2 px drawn inwards.
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const bool in = x >= 30 && x <= 79 && y >= 40 && y <= 99;
        const bool inner = x >= 32 && x <= 77 && y >= 42 && y <= 97;
        ASSERT_EQ(changed[y * w + x], in && !inner)
            << gst_video_format_to_string(format) << " pixel " << x << "," << y;
      }
  }
}

TEST_F(FaceAnnotateTest, EachPropertySwitchesItsPartOff) {
  const int w = 120, h = 110;
  const std::string none =
      "draw-box=false draw-id=false draw-mesh=none draw-iris=false draw-pose=false";
  EXPECT_EQ(Count(Draw(GST_VIDEO_FORMAT_RGB, w, h, none)), 0);
  // Each part alone draws something; all parts draw more than any one.
  const int all = Count(Draw(GST_VIDEO_FORMAT_RGB, w, h, ""));
  for (const std::string part : {"draw-box=true", "draw-id=true", "draw-mesh=points",
                                 "draw-iris=true", "draw-pose=true"}) {
    const int alone = Count(Draw(GST_VIDEO_FORMAT_RGB, w, h, none + " " + part));
    EXPECT_GT(alone, 0) << part;
    EXPECT_LT(alone, all) << part;
  }
  // Points: one pixel per landmark (the sample's are distinct pixels).
  EXPECT_EQ(Count(Draw(GST_VIDEO_FORMAT_GRAY8, w, h, none + " draw-mesh=points")), fg::kMeshLandmarks);
}

TEST_F(FaceAnnotateTest, ColourIsTheBoxColour) {
  GstHarness* harness = fgtest::HarnessFor("faceannotate", std::string("color=0xff123456 ") + kBoxOnly);
  gst_harness_set_src_caps_str(harness, VideoCaps(GST_VIDEO_FORMAT_RGBA, 100, 110).c_str());
  GstBuffer* out = gst_harness_push_and_pull(harness, FrameWithFace(GST_VIDEO_FORMAT_RGBA, 100, 110));
  GstMapInfo map;
  gst_buffer_map(out, &map, GST_MAP_READ);
  const uint8_t* p = map.data + (40 * 100 + 30) * 4;  // the box's top-left pixel
  EXPECT_EQ(p[0], 0x12);
  EXPECT_EQ(p[1], 0x34);
  EXPECT_EQ(p[2], 0x56);
  EXPECT_EQ(p[3], 0xff);
  gst_buffer_unmap(out, &map);
  guint color = 0;
  g_object_get(harness->element, "color", &color, nullptr);
  EXPECT_EQ(color, 0xff123456u);
  gst_buffer_unref(out);
  gst_harness_teardown(harness);
}

// The box's colour read back in every format, through GStreamer's own converter to RGB (not
// through the engine; chroma point-sampled): exact for the packed RGB formats (whose padding bytes stay as they
// were), the BT.601 luma (+-1) for GRAY8, within 4 levels for YUV at a pixel whose whole
// chroma block lies on the 2 px box line (the pen's limited-range round trip plus the
// converter's rounding).
TEST_F(FaceAnnotateTest, ColourIsTheBoxColourInEveryFormat) {
  const int w = 101, h = 111;  // odd width
  for (GstVideoFormat format : kFormats) {
    const std::string name = gst_video_format_to_string(format);
    GstHarness* harness = fgtest::HarnessFor("faceannotate", std::string("color=0xff123456 ") + kBoxOnly);
    gst_harness_set_src_caps_str(harness, VideoCaps(format, w, h).c_str());
    GstBuffer* in = FrameWithFace(format, w, h);
    GstBuffer* undrawn = gst_buffer_copy_deep(in);
    GstBuffer* out = gst_harness_push_and_pull(harness, in);
    ASSERT_NE(out, nullptr) << name;
    GstVideoInfo info, rgb_info;
    gst_video_info_set_format(&info, format, w, h);
    gst_video_info_set_format(&rgb_info, GST_VIDEO_FORMAT_RGB, w, h);
    GstBuffer* rgb = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&rgb_info), nullptr);
    GstVideoFrame sf, df, uf;
    ASSERT_TRUE(gst_video_frame_map(&sf, &info, out, GST_MAP_READ));
    ASSERT_TRUE(gst_video_frame_map(&df, &rgb_info, rgb, GST_MAP_WRITE));
    ASSERT_TRUE(gst_video_frame_map(&uf, &info, undrawn, GST_MAP_READ));
    // Chroma point-sampled (no interpolation from the neighbouring blocks, which hold the
    // background's chroma).
    GstStructure* opts = gst_structure_new("options", GST_VIDEO_CONVERTER_OPT_CHROMA_MODE, GST_TYPE_VIDEO_CHROMA_MODE,
                                           GST_VIDEO_CHROMA_MODE_NONE, nullptr);
    GstVideoConverter* conv = gst_video_converter_new(&info, &rgb_info, opts);  // takes opts
    gst_video_converter_frame(conv, &sf, &df);
    gst_video_converter_free(conv);
    const bool yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(info.finfo), gray = format == GST_VIDEO_FORMAT_GRAY8;
    const int tol = yuv ? 4 : (gray ? 1 : 0);
    const int luma = (77 * 0x12 + 150 * 0x34 + 29 * 0x56 + 128) >> 8;
    // The box's top-left 2x2 (x 30..31, y 40..41): one whole chroma block in every layout.
    for (int y = 40; y < 42; ++y)
      for (int x = 30; x < 32; ++x) {
        const auto* p = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&df, 0)) +
                        y * GST_VIDEO_FRAME_PLANE_STRIDE(&df, 0) + 3 * x;
        EXPECT_NEAR(p[0], gray ? luma : 0x12, tol) << name << " " << x << "," << y;
        EXPECT_NEAR(p[1], gray ? luma : 0x34, tol) << name << " " << x << "," << y;
        EXPECT_NEAR(p[2], gray ? luma : 0x56, tol) << name << " " << x << "," << y;
        if (!yuv && !gray && !GST_VIDEO_FORMAT_INFO_HAS_ALPHA(info.finfo) && GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0) == 4) {
          // RGBx, BGRx, xRGB, xBGR: the byte that is none of R, G, B is left as it came.
          int pad = 0 + 1 + 2 + 3;
          for (int c = 0; c < 3; ++c) pad -= GST_VIDEO_INFO_COMP_POFFSET(&info, c);
          const auto row = [&](GstVideoFrame* f) {
            return static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0);
          };
          EXPECT_EQ(row(&sf)[4 * x + pad], row(&uf)[4 * x + pad]) << name << " padding byte written";
        }
      }
    gst_video_frame_unmap(&uf);
    gst_video_frame_unmap(&df);
    gst_video_frame_unmap(&sf);
    gst_buffer_unref(rgb);
    gst_buffer_unref(out);
    gst_buffer_unref(undrawn);
    gst_harness_teardown(harness);
  }
}

TEST_F(FaceAnnotateTest, SharedInputIsNeverDrawnOn) {
  GstHarness* harness = gst_harness_new("faceannotate");
  gst_harness_set_src_caps_str(harness, VideoCaps(GST_VIDEO_FORMAT_NV12, 100, 110).c_str());
  GstBuffer* in = FrameWithFace(GST_VIDEO_FORMAT_NV12, 100, 110);
  GstBuffer* undrawn = gst_buffer_copy_deep(in);
  gst_buffer_ref(in);  // shared, like a tee's or imagefreeze's buffer
  GstBuffer* out = gst_harness_push_and_pull(harness, in);
  EXPECT_FALSE(fgtest::SameBytes(out, undrawn)) << "nothing drawn";
  EXPECT_TRUE(fgtest::SameBytes(in, undrawn)) << "the shared input was drawn on";
  gst_buffer_unref(out);
  gst_buffer_unref(in);
  gst_buffer_unref(undrawn);
  gst_harness_teardown(harness);
}

// A shared buffer with no faces is not mapped for writing, so its pixels are not copied.
TEST_F(FaceAnnotateTest, SharedFrameWithoutFacesIsNotCopied) {
  GstHarness* harness = gst_harness_new("faceannotate");
  gst_harness_set_src_caps_str(harness, VideoCaps(GST_VIDEO_FORMAT_RGB, 64, 48).c_str());
  GstBuffer* in = gst_buffer_new_allocate(nullptr, 64 * 48 * 3, nullptr);
  gst_buffer_memset(in, 0, 7, 64 * 48 * 3);
  gst_buffer_ref(in);  // shared
  GstBuffer* out = gst_harness_push_and_pull(harness, in);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(gst_buffer_peek_memory(out, 0), gst_buffer_peek_memory(in, 0)) << "pixels were copied";
  gst_buffer_unref(out);
  gst_buffer_unref(in);
  gst_harness_teardown(harness);
}

TEST_F(FaceAnnotateTest, FramesWithoutFacesPassUntouched) {
  for (GstVideoFormat format : kFormats)
    EXPECT_EQ(Count(Draw(format, 33, 17, "", /*with_face=*/false)), 0)
        << gst_video_format_to_string(format);
}

// Padded strides (GstVideoMeta), a box running off the right and bottom edges: the row
// padding and the gaps between planes keep their bytes.
TEST_F(FaceAnnotateTest, PaddedRowsStayUntouched) {
  const int w = 67, h = 45;
  for (GstVideoFormat format : kFormats) {
    GstHarness* harness = fgtest::HarnessFor("faceannotate", "");
    gst_harness_set_src_caps_str(harness, VideoCaps(format, w, h).c_str());
    GstBuffer* in = MakeFrame(fgtest::Canvas(w, h, 60), format, 13, 0);
    fg::Face f = SampleFace();
    f.box = {40.f, 20.f, 400.f, 300.f};
    gst_buffer_add_face_graph_meta(in)->faces.faces.push_back(f);
    GstBuffer* undrawn = gst_buffer_copy_deep(in);
    GstBuffer* out = gst_harness_push_and_pull(harness, in);
    ASSERT_NE(out, nullptr);
    const GstVideoMeta* vm = gst_buffer_get_video_meta(out);
    ASSERT_NE(vm, nullptr);
    GstVideoInfo info;
    gst_video_info_set_format(&info, format, w, h);
    GstMapInfo a, b;
    gst_buffer_map(out, &a, GST_MAP_READ);
    gst_buffer_map(undrawn, &b, GST_MAP_READ);
    ASSERT_EQ(a.size, b.size);
    std::vector<bool> pixel_byte(a.size);
    for (guint p = 0; p < vm->n_planes; ++p) {
      const int comp = p == 0 ? 0 : 1;
      // YUY2/UYVY: whole macropixels, but at this odd width the last one's Y1 belongs to no
      // pixel and must stay as it was.
      const int row_bytes = Packed422(format) ? 4 * ((w + 1) / 2)
                                              : GST_VIDEO_INFO_COMP_WIDTH(&info, comp) * GST_VIDEO_INFO_COMP_PSTRIDE(&info, comp);
      for (int y = 0; y < GST_VIDEO_INFO_COMP_HEIGHT(&info, comp); ++y) {
        for (int x = 0; x < row_bytes; ++x) pixel_byte[vm->offset[p] + y * vm->stride[p] + x] = true;
        if (Packed422(format))
          pixel_byte[vm->offset[p] + y * vm->stride[p] + 2 * w + GST_VIDEO_INFO_COMP_POFFSET(&info, 0)] = false;
      }
    }
    int drawn = 0;
    for (gsize i = 0; i < a.size; ++i) {
      if (pixel_byte[i]) {
        drawn += a.data[i] != b.data[i];
        continue;
      }
      ASSERT_EQ(a.data[i], b.data[i]) << gst_video_format_to_string(format) << " byte " << i
                                      << " outside the pixels was written";
    }
    EXPECT_GT(drawn, 0) << gst_video_format_to_string(format);
    gst_buffer_unmap(out, &a);
    gst_buffer_unmap(undrawn, &b);
    gst_buffer_unref(out);
    gst_buffer_unref(undrawn);
    gst_harness_teardown(harness);
  }
}

TEST_F(FaceAnnotateTest, WireframeDrawsEdgesFromTheModelsFolder) {
  const int w = 120, h = 110;
  const std::string none = "draw-box=false draw-id=false draw-iris=false draw-pose=false";
  // The sample's grid landmarks are not a face, but the canonical edges between them still
  // draw lines: more pixels than the points, all inside the landmarks' extent.
  const std::vector<bool> wire = Draw(GST_VIDEO_FORMAT_RGB, w, h, none + " draw-mesh=wireframe");
  EXPECT_GT(Count(wire), fg::kMeshLandmarks);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (wire[y * w + x]) {
        ASSERT_GE(x, 35);
        ASSERT_LE(x, 73);
        ASSERT_GE(y, 45);
        ASSERT_LE(y, 91);
      }
}

TEST_F(FaceAnnotateTest, WireframeWithoutModelsFailsTheStateChange) {
  GstElement* e = gst_element_factory_make("faceannotate", nullptr);
  g_object_set(e, "models-dir", "/nonexistent/models", nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "draw-mesh", "wireframe");
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  const std::string errors = fgtest::DrainErrors(bus);
  EXPECT_NE(errors.find("/nonexistent/models"), std::string::npos) << errors;
  EXPECT_NE(errors.find("tools/fetch-models"), std::string::npos) << errors;
  gst_element_set_state(e, GST_STATE_NULL);
  // Points need no models: the same folder is fine.
  gst_util_set_object_arg(G_OBJECT(e), "draw-mesh", "points");
  EXPECT_NE(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}

// SampleFace plus the analysis results faceemotion and facevitals attach.
fg::Face AnalysedFace() {
  fg::Face f = SampleFace();
  fg::Emotion e;
  e.label = "happy";
  e.scores = {{"angry", 0.1f}, {"disgust", 0.f}, {"fear", 0.f}, {"happy", 0.5f},
              {"sad", 0.2f},   {"surprise", 0.f}, {"neutral", 0.2f}};
  e.confidence = 0.5f;
  f.emotion = e;
  f.actions = {{"eyeOpenLeft", 0.9f}, {"smile", 0.6f}, {"blinks", 2.f}, {"blinkRate", 10.f}};
  fg::Vitals v;
  v.bpm = 64.f;
  v.confidence = 0.9f;
  v.bvp_fs = 30.f;
  for (int i = 0; i < 150; ++i) v.bvp.push_back(std::sin(i * 0.3f));
  f.vitals = v;
  return f;
}

TEST_F(FaceAnnotateTest, AnalysisPropertiesSwitchTheirParts) {
  const int w = 240, h = 200;
  const std::string none =
      "draw-box=false draw-id=false draw-mesh=none draw-iris=false draw-pose=false "
      "draw-emotion=false draw-bars=false draw-actions=false draw-vitals=false";
  auto draw = [&](const std::string& props, const fg::Face& face) {
    GstHarness* harness = fgtest::HarnessFor("faceannotate", props);
    gst_harness_set_src_caps_str(harness, VideoCaps(GST_VIDEO_FORMAT_RGBA, w, h).c_str());
    GstBuffer* in = FrameWithFace(GST_VIDEO_FORMAT_RGBA, w, h, false);
    gst_buffer_add_face_graph_meta(in)->faces.faces.push_back(face);
    GstBuffer* undrawn = gst_buffer_copy_deep(in);
    GstBuffer* out = gst_harness_push_and_pull(harness, in);
    const int n = Count(Changed(out, undrawn, GST_VIDEO_FORMAT_RGBA, w, h));
    gst_buffer_unref(out);
    gst_buffer_unref(undrawn);
    gst_harness_teardown(harness);
    return n;
  };
  const fg::Face full = AnalysedFace();
  EXPECT_EQ(draw(none, full), 0);
  // Defaults: every part on.
  GstElement* e = gst_element_factory_make("faceannotate", nullptr);
  for (const char* prop : {"draw-emotion", "draw-bars", "draw-actions", "draw-vitals"}) {
    gboolean on = FALSE;
    g_object_get(e, prop, &on, nullptr);
    EXPECT_TRUE(on) << prop;
  }
  gst_object_unref(e);
  for (const std::string part : {"draw-emotion=true", "draw-bars=true", "draw-actions=true",
                                 "draw-vitals=true"}) {
    EXPECT_GT(draw(none + " " + part, full), 0) << part;
    // Nothing for a face without the analysis results.
    EXPECT_EQ(draw(none + " " + part, SampleFace()), 0) << part;
  }
}

// facetrack ! faceemotion ! faceannotate on the photo: once the emotion is back, the happy
// bar (highlighted: it is the label) is round(score * kBarLength) pixels long, beside the box.
TEST_F(FaceAnnotateTest, AstronautHappyBarMatchesItsScore) {
  GstHarness* harness = gst_harness_new_parse(
      "facetrack ! faceemotion rate=0 ! faceannotate draw-box=false draw-id=false "
      "draw-mesh=none draw-iris=false draw-pose=false draw-emotion=false draw-actions=false "
      "draw-vitals=false");
  gst_harness_set_src_caps_str(harness, VideoCaps(GST_VIDEO_FORMAT_RGB, 512, 512).c_str());
  const auto deadline = std::chrono::steady_clock::now() + fgtest::Scaled(std::chrono::seconds(3));
  GstBuffer* out = nullptr;
  for (GstClockTime pts = 0;; pts += GST_SECOND / 30) {
    out = gst_harness_push_and_pull(harness, MakeFrame(fgtest::Astronaut(), GST_VIDEO_FORMAT_RGB, 0, pts));
    ASSERT_NE(out, nullptr);
    const GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(out);
    if ((m && m->faces.faces.size() == 1 && m->faces.faces[0].emotion) ||
        std::chrono::steady_clock::now() > deadline)
      break;
    gst_buffer_unref(out);
    g_usleep(fgtest::Scaled(std::chrono::microseconds(5000)).count());
  }
  const fg::Face& f = gst_buffer_get_face_graph_meta(out)->faces.faces.at(0);
  ASSERT_TRUE(f.emotion.has_value()) << "no emotion after 3 s";
  ASSERT_EQ(f.emotion->label, "happy");
  const float happy = f.emotion->scores.at("happy");
  // Row 3 (happy) of the panel: its middle line, from the bar's left end.
  const int px = static_cast<int>(std::floor(f.box.x + f.box.w)) + fg::draw::kPanelGap;
  const int y = static_cast<int>(std::floor(f.box.y)) + 3 * fg::draw::kRowPitch + 1 +
                fg::draw::kBarHeight / 2;
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(out, &map, GST_MAP_READ));
  int len = 0;
  for (int x = px + fg::draw::kBarOffset; x < 512; ++x) {
    const uint8_t* p = map.data + (y * 512 + x) * 3;
    if (p[0] != 0xff || p[1] != 0xff || p[2] != 0x00) break;  // the highlight, yellow
    ++len;
  }
  gst_buffer_unmap(out, &map);
  EXPECT_NEAR(len, happy * fg::draw::kBarLength, 0.5 + 1e-3) << "happy " << happy;
  EXPECT_GT(len, 50);  // the astronaut reads happy ~0.99 (README)
  gst_buffer_unref(out);
  gst_harness_teardown(harness);
}

// facetrack ! faceannotate on the photo: the drawing stays around the face.
TEST_F(FaceAnnotateTest, AfterFaceTrackDrawsAroundTheFaceOnly) {
  GstHarness* harness = gst_harness_new_parse("facetrack ! faceannotate");
  gst_harness_set_src_caps_str(harness, VideoCaps(GST_VIDEO_FORMAT_I420, 512, 512).c_str());
  GstBuffer* in = MakeFrame(fgtest::Astronaut(), GST_VIDEO_FORMAT_I420, 0, 0);
  GstBuffer* undrawn = gst_buffer_copy_deep(in);
  GstBuffer* out = gst_harness_push_and_pull(harness, in);
  ASSERT_NE(out, nullptr);
  const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(out);
  ASSERT_NE(meta, nullptr);
  ASSERT_EQ(meta->faces.faces.size(), 1u);
  const fg::Box b = meta->faces.faces[0].box;
  const std::vector<bool> changed = Changed(out, undrawn, GST_VIDEO_FORMAT_I420, 512, 512);
  EXPECT_GT(Count(changed), 400);
  // Everything drawn lies within the box grown by the id label above it and the pose axes.
  const float margin = 0.6f * std::max(b.w, b.h) + 20;
  for (int y = 0; y < 512; ++y)
    for (int x = 0; x < 512; ++x)
      if (changed[y * 512 + x]) {
        ASSERT_GE(x, b.x - margin);
        ASSERT_LE(x, b.x + b.w + margin);
        ASSERT_GE(y, b.y - margin);
        ASSERT_LE(y, b.y + b.h + margin);
      }
  gst_buffer_unref(out);
  gst_buffer_unref(undrawn);
  gst_harness_teardown(harness);
}

}  // namespace
