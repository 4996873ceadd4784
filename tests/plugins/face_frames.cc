#include "tests/plugins/face_frames.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/nn/nn_test_util.h"

namespace fgtest {

const Rgb& Astronaut() {
  static const Rgb rgb = [] {
    Rgb r;
    std::string err;
    EXPECT_TRUE(fg::nn::testing::DecodePngRgb(FG_ASTRONAUT, &r.w, &r.h, &r.px, &err)) << err;
    return r;
  }();
  return rgb;
}

Rgb Canvas(int w, int h, uint8_t grey) {
  Rgb r;
  r.w = w, r.h = h;
  r.px.assign(static_cast<size_t>(w) * h * 3, grey);
  return r;
}

void Paste(Rgb& dst, const Rgb& src, int x, int y, bool mirror) {
  for (int sy = 0; sy < src.h; ++sy)
    for (int sx = 0; sx < src.w; ++sx) {
      const int dx = x + sx, dy = y + sy;
      if (dx < 0 || dy < 0 || dx >= dst.w || dy >= dst.h) continue;
      const int from = mirror ? src.w - 1 - sx : sx;
      std::copy_n(&src.px[3 * (static_cast<size_t>(sy) * src.w + from)], 3,
                  &dst.px[3 * (static_cast<size_t>(dy) * dst.w + dx)]);
    }
}

Rgb Resize(const Rgb& src, int w, int h) {
  Rgb r = Canvas(w, h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const int sx = x * src.w / w, sy = y * src.h / h;
      std::copy_n(&src.px[3 * (static_cast<size_t>(sy) * src.w + sx)], 3,
                  &r.px[3 * (static_cast<size_t>(y) * w + x)]);
    }
  return r;
}

Rgb Crop(const Rgb& src, int x, int y, int w, int h) {
  Rgb r = Canvas(w, h, 0);
  Paste(r, src, -x, -y);
  return r;
}

GstBuffer* MakeFrame(const Rgb& rgb, GstVideoFormat format, int pad, GstClockTime pts) {
  GstVideoInfo src_info, tight_info;
  gst_video_info_set_format(&src_info, GST_VIDEO_FORMAT_RGB, rgb.w, rgb.h);
  gst_video_info_set_format(&tight_info, format, rgb.w, rgb.h);
  GstBuffer* src = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&src_info), nullptr);
  GstVideoFrame sf, df;
  gst_video_frame_map(&sf, &src_info, src, GST_MAP_WRITE);
  for (int y = 0; y < rgb.h; ++y)
    std::copy_n(&rgb.px[static_cast<size_t>(y) * rgb.w * 3], rgb.w * 3,
                static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&sf, 0)) +
                    static_cast<size_t>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&sf, 0));
  gst_video_frame_unmap(&sf);

  // Convert into GStreamer's own layout (GstVideoConverter's fast paths expect aligned
  // rows), then copy the rows into the padded one.
  GstBuffer* tight = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&tight_info), nullptr);
  gst_video_frame_map(&sf, &src_info, src, GST_MAP_READ);
  EXPECT_TRUE(gst_video_frame_map(&df, &tight_info, tight, GST_MAP_WRITE));
  GstVideoConverter* conv = gst_video_converter_new(&src_info, &tight_info, nullptr);
  gst_video_converter_frame(conv, &sf, &df);
  gst_video_converter_free(conv);
  gst_video_frame_unmap(&df);
  gst_video_frame_unmap(&sf);
  gst_buffer_unref(src);
  if (pad == 0) {
    GST_BUFFER_PTS(tight) = pts;
    GST_BUFFER_DURATION(tight) = GST_SECOND / 30;
    return tight;
  }

  gsize offsets[GST_VIDEO_MAX_PLANES] = {};
  gint strides[GST_VIDEO_MAX_PLANES] = {};
  int rows[GST_VIDEO_MAX_PLANES] = {};
  gsize size = 0;
  const guint planes = GST_VIDEO_INFO_N_PLANES(&tight_info);
  for (guint p = 0; p < planes; ++p) {
    const int comp = p == 0 ? 0 : 1;
    rows[p] = GST_VIDEO_INFO_COMP_HEIGHT(&tight_info, comp);
    strides[p] = GST_VIDEO_INFO_COMP_WIDTH(&tight_info, comp) *
                     GST_VIDEO_INFO_COMP_PSTRIDE(&tight_info, comp) + pad;
    offsets[p] = size;
    size += static_cast<gsize>(strides[p]) * rows[p] + 7;  // 7: a gap between planes
  }
  GstBuffer* dst = gst_buffer_new_allocate(nullptr, size, nullptr);
  gst_buffer_memset(dst, 0, 0x5a, size);  // padding: not zero
  gst_video_frame_map(&sf, &tight_info, tight, GST_MAP_READ);
  GstMapInfo map;
  gst_buffer_map(dst, &map, GST_MAP_WRITE);
  for (guint p = 0; p < planes; ++p) {
    const int row_bytes = strides[p] - pad;
    for (int y = 0; y < rows[p]; ++y)
      std::copy_n(static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&sf, p)) +
                      static_cast<size_t>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&sf, p),
                  row_bytes, map.data + offsets[p] + static_cast<size_t>(y) * strides[p]);
  }
  gst_buffer_unmap(dst, &map);
  gst_video_frame_unmap(&sf);
  gst_buffer_unref(tight);
  gst_buffer_add_video_meta_full(dst, GST_VIDEO_FRAME_FLAG_NONE, format, rgb.w, rgb.h, planes,
                                 offsets, strides);
  GST_BUFFER_PTS(dst) = pts;
  GST_BUFFER_DURATION(dst) = GST_SECOND / 30;
  return dst;
}

std::string VideoCaps(GstVideoFormat format, int w, int h) {
  return std::string("video/x-raw,format=") + gst_video_format_to_string(format) +
         ",width=" + std::to_string(w) + ",height=" + std::to_string(h) + ",framerate=30/1";
}

GstHarness* HarnessFor(const std::string& factory, const std::string& props) {
  GstElement* e = gst_element_factory_make(factory.c_str(), nullptr);
  EXPECT_NE(e, nullptr) << factory;
  gchar** pairs = g_strsplit(props.c_str(), " ", -1);
  for (gchar** p = pairs; *p; ++p) {
    if (!**p) continue;
    gchar** kv = g_strsplit(*p, "=", 2);
    EXPECT_TRUE(kv[0] && kv[1]) << *p;
    if (kv[0] && kv[1]) gst_util_set_object_arg(G_OBJECT(e), kv[0], kv[1]);
    g_strfreev(kv);
  }
  g_strfreev(pairs);
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  return h;
}

bool SameBytes(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  gst_buffer_map(a, &ma, GST_MAP_READ);
  gst_buffer_map(b, &mb, GST_MAP_READ);
  const bool same = ma.size == mb.size && std::equal(ma.data, ma.data + ma.size, mb.data);
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return same;
}

}  // namespace fgtest
