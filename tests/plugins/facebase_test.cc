// GstFaceBase through a test subclass ("fgtestprobe") that records what process() sees: for
// every engine format, odd sizes and padded strides (GstVideoMeta), the ImageView points
// into the buffer's own memory (no copy), with the buffer's strides, and reads the right
// pixels; the buffer handed to process() is writable even when the input was shared. A
// drawing subclass ("fgtestpainter", writes_pixels) draws unshared buffers in place and gets
// a copy of shared ones.
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "plugins/gstfacebase.h"
#include "plugins/gstfacemeta.h"
#include "tests/plugins/gst_test_env.h"

namespace {

// What the last process() call saw. Harness pushes run process() on the test thread.
struct Seen {
  int calls = 0;
  int configures = 0;
  fg::PixelFormat configured = fg::PixelFormat::kRGB;
  fg::ImageView view;
  std::vector<std::vector<uint8_t>> rows;  // per plane, the view's rows packed tightly
  bool writable = false;
};
Seen g_seen;

}  // namespace

G_BEGIN_DECLS
#define FG_TYPE_TEST_PROBE (fg_test_probe_get_type())
G_DECLARE_FINAL_TYPE(FgTestProbe, fg_test_probe, FG, TEST_PROBE, GstFaceBase)
G_END_DECLS

struct _FgTestProbe {
  GstFaceBase parent;
};

G_DEFINE_TYPE(FgTestProbe, fg_test_probe, GST_TYPE_FACE_BASE)

namespace {

gboolean ProbeConfigure(GstFaceBase*, const GstVideoInfo*, fg::PixelFormat format) {
  ++g_seen.configures;
  g_seen.configured = format;
  return TRUE;
}

GstFlowReturn ProbeProcess(GstFaceBase*, const fg::ImageView& view, GstBuffer* buffer) {
  ++g_seen.calls;
  g_seen.view = view;
  g_seen.rows.assign(fg::PlaneCount(view.format), {});
  for (int p = 0; p < fg::PlaneCount(view.format); ++p) {
    const int row_bytes = fg::ImageView::MinStride(view.format, view.width, p);
    for (int y = 0; y < fg::ImageView::PlaneRows(view.format, view.height, p); ++y) {
      const uint8_t* row = view.planes[p] + static_cast<ptrdiff_t>(y) * view.strides[p];
      g_seen.rows[p].insert(g_seen.rows[p].end(), row, row + row_bytes);
    }
  }
  g_seen.writable = gst_buffer_is_writable(buffer);
  if (g_seen.writable) gst_buffer_add_face_graph_meta(buffer)->faces.pts_ns = 99;
  return GST_FLOW_OK;
}

}  // namespace

static void fg_test_probe_class_init(FgTestProbeClass* klass) {
  gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "test probe", "Filter/Video",
                                        "records what GstFaceBase hands to process()", "tests");
  GST_FACE_BASE_CLASS(klass)->configure = ProbeConfigure;
  GST_FACE_BASE_CLASS(klass)->process = ProbeProcess;
}

static void fg_test_probe_init(FgTestProbe*) {}

namespace {

struct Layout {
  GstVideoInfo info;
  gsize offsets[GST_VIDEO_MAX_PLANES] = {};
  gint strides[GST_VIDEO_MAX_PLANES] = {};
  gsize size = 0;
};

// The layout GStreamer would use, or (pad > 0) one with `pad` extra bytes per row and a gap
// between planes, described by a GstVideoMeta.
Layout MakeLayout(GstVideoFormat format, int w, int h, int pad) {
  Layout l;
  gst_video_info_set_format(&l.info, format, w, h);
  if (pad == 0) {
    for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&l.info); ++p) {
      l.offsets[p] = GST_VIDEO_INFO_PLANE_OFFSET(&l.info, p);
      l.strides[p] = GST_VIDEO_INFO_PLANE_STRIDE(&l.info, p);
    }
    l.size = GST_VIDEO_INFO_SIZE(&l.info);
    return l;
  }
  gsize offset = 0;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&l.info); ++p) {
    const int comp_w = GST_VIDEO_INFO_COMP_WIDTH(&l.info, p == 0 ? 0 : 1);
    const int pstride = GST_VIDEO_INFO_COMP_PSTRIDE(&l.info, p == 0 ? 0 : 1);
    const int rows = p == 0 ? h : GST_VIDEO_INFO_COMP_HEIGHT(&l.info, 1);
    l.strides[p] = comp_w * pstride + pad;
    l.offsets[p] = offset;
    offset += static_cast<gsize>(l.strides[p]) * rows + 7;  // 7: a gap between planes
  }
  l.size = offset;
  return l;
}

// The bytes the view must show: pixel rows of each plane without padding.
std::vector<std::vector<uint8_t>> ExpectedRows(const guint8* data, const Layout& l,
                                               fg::PixelFormat f, int w, int h) {
  std::vector<std::vector<uint8_t>> rows(fg::PlaneCount(f));
  for (int p = 0; p < fg::PlaneCount(f); ++p) {
    const int row_bytes = fg::ImageView::MinStride(f, w, p);
    for (int y = 0; y < fg::ImageView::PlaneRows(f, h, p); ++y) {
      const guint8* row = data + l.offsets[p] + static_cast<gsize>(y) * l.strides[p];
      rows[p].insert(rows[p].end(), row, row + row_bytes);
    }
  }
  return rows;
}

class FaceBaseTest : public ::testing::TestWithParam<std::tuple<std::string, int, int, int>> {
 protected:
  static void SetUpTestSuite() {
    fgtest::InitGstOnce();
    gst_element_register(nullptr, "fgtestprobe", GST_RANK_NONE, FG_TYPE_TEST_PROBE);
  }
};

TEST_P(FaceBaseTest, ViewPointsIntoTheBufferWithItsStrides) {
  const auto& [format_name, w, h, pad] = GetParam();
  const GstVideoFormat format = gst_video_format_from_string(format_name.c_str());
  const auto engine = gst_face_base_engine_format(format);
  ASSERT_TRUE(engine);
  const Layout l = MakeLayout(format, w, h, pad);
  SCOPED_TRACE(format_name + " " + std::to_string(w) + "x" + std::to_string(h) + " pad " +
               std::to_string(pad));

  g_seen = Seen{};
  GstHarness* harness = gst_harness_new("fgtestprobe");
  GstCaps* caps = gst_video_info_to_caps(&l.info);
  gst_harness_set_src_caps(harness, caps);  // takes the caps (transfer full)
  EXPECT_EQ(g_seen.configures, 1);
  EXPECT_EQ(g_seen.configured, *engine);

  GstBuffer* in = gst_buffer_new_allocate(nullptr, l.size, nullptr);
  GstMapInfo map;
  gst_buffer_map(in, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<guint8>(i * 13 + 1);
  gst_buffer_unmap(in, &map);
  if (pad > 0)
    gst_buffer_add_video_meta_full(in, GST_VIDEO_FRAME_FLAG_NONE, format, w, h,
                                   GST_VIDEO_INFO_N_PLANES(&l.info),
                                   const_cast<gsize*>(l.offsets), const_cast<gint*>(l.strides));
  // Keep a ref: the element gets a shared buffer and must still hand process() a writable
  // one, without copying pixels.
  gst_buffer_ref(in);
  ASSERT_EQ(gst_harness_push(harness, in), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(harness);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(g_seen.calls, 1);
  EXPECT_TRUE(g_seen.writable);
  ASSERT_NE(gst_buffer_get_face_graph_meta(out), nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(out)->faces.pts_ns, 99);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(in), nullptr) << "the shared input was modified";

  const fg::ImageView& v = g_seen.view;
  EXPECT_EQ(v.format, *engine);
  EXPECT_EQ(v.width, w);
  EXPECT_EQ(v.height, h);
  gst_buffer_map(out, &map, GST_MAP_READ);
  GstMapInfo in_map;
  gst_buffer_map(in, &in_map, GST_MAP_READ);
  EXPECT_EQ(map.data, in_map.data) << "pixels were copied";
  for (int p = 0; p < fg::PlaneCount(*engine); ++p) {
    EXPECT_EQ(v.strides[p], l.strides[p]) << "plane " << p;
    EXPECT_EQ(v.planes[p], map.data + l.offsets[p]) << "plane " << p;
  }
  EXPECT_EQ(g_seen.rows, ExpectedRows(in_map.data, l, *engine, w, h));
  gst_buffer_unmap(in, &in_map);
  gst_buffer_unmap(out, &map);

  gst_buffer_unref(out);
  gst_buffer_unref(in);
  gst_harness_teardown(harness);
}

INSTANTIATE_TEST_SUITE_P(
    EngineFormats, FaceBaseTest,
    ::testing::Combine(::testing::Values("RGB", "BGR", "RGBA", "BGRA", "GRAY8", "NV12", "I420"),
                       ::testing::Values(1, 33, 64), ::testing::Values(1, 17),
                       ::testing::Values(0, 13)),
    [](const auto& info) {
      return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "x" +
             std::to_string(std::get<2>(info.param)) + "_pad" +
             std::to_string(std::get<3>(info.param));
    });

}  // namespace

// ---- Drawing subclasses (writes_pixels) ---------------------------------------------------

namespace {
const uint8_t* g_painted_at = nullptr;  // plane 0 of the last view process_writable saw
}  // namespace

G_BEGIN_DECLS
#define FG_TYPE_TEST_PAINTER (fg_test_painter_get_type())
G_DECLARE_FINAL_TYPE(FgTestPainter, fg_test_painter, FG, TEST_PAINTER, GstFaceBase)
G_END_DECLS

struct _FgTestPainter {
  GstFaceBase parent;
};

G_DEFINE_TYPE(FgTestPainter, fg_test_painter, GST_TYPE_FACE_BASE)

namespace {
// Paints the first pixel's first byte.
GstFlowReturn PainterProcess(GstFaceBase*, const fg::draw::MutableImageView& view, GstBuffer*) {
  g_painted_at = view.planes[0];
  view.planes[0][0] = 0xEE;
  return GST_FLOW_OK;
}
}  // namespace

static void fg_test_painter_class_init(FgTestPainterClass* klass) {
  gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "test painter", "Filter/Video",
                                        "writes a pixel through process_writable", "tests");
  GST_FACE_BASE_CLASS(klass)->writes_pixels = TRUE;
  GST_FACE_BASE_CLASS(klass)->process_writable = PainterProcess;
}

static void fg_test_painter_init(FgTestPainter*) {}

namespace {

const uint8_t* FirstByte(GstBuffer* b, uint8_t* value) {
  GstMapInfo map;
  gst_buffer_map(b, &map, GST_MAP_READ);
  const uint8_t* p = map.data;
  *value = map.data[0];
  gst_buffer_unmap(b, &map);
  return p;
}

TEST(FaceBaseWriter, UnsharedBuffersAreDrawnInPlaceSharedOnesCopied) {
  fgtest::InitGstOnce();
  gst_element_register(nullptr, "fgtestpainter", GST_RANK_NONE, FG_TYPE_TEST_PAINTER);
  for (bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "shared" : "unshared");
    GstHarness* harness = gst_harness_new("fgtestpainter");
    gst_harness_set_src_caps_str(harness, "video/x-raw,format=NV12,width=7,height=5,framerate=30/1");
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_NV12, 7, 5);
    GstBuffer* in = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    gst_buffer_memset(in, 0, 0x10, GST_VIDEO_INFO_SIZE(&info));
    uint8_t v = 0;
    const uint8_t* in_data = FirstByte(in, &v);
    if (shared) gst_buffer_ref(in);
    GstBuffer* out = gst_harness_push_and_pull(harness, in);
    ASSERT_NE(out, nullptr);
    const uint8_t* out_data = FirstByte(out, &v);
    EXPECT_EQ(v, 0xEE) << "not drawn";
    EXPECT_EQ(g_painted_at, out_data) << "the view is not the output's memory";
    if (shared) {
      EXPECT_NE(out_data, in_data) << "a shared buffer was drawn on in place";
      FirstByte(in, &v);
      EXPECT_EQ(v, 0x10) << "the shared input changed";
      gst_buffer_unref(in);
    } else {
      EXPECT_EQ(out_data, in_data) << "an unshared buffer was copied";
    }
    gst_buffer_unref(out);
    gst_harness_teardown(harness);
  }
}

}  // namespace
