// GstFaceGraphMeta: registration, and the C++ payload surviving buffer copies, make_writable
// and scaling transforms; each copy owns its own FrameFaces.
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include "plugins/gstfacemeta.h"
#include "tests/plugins/gst_test_env.h"

namespace {

fg::FrameFaces Faces() {
  fg::FrameFaces f;
  f.pts_ns = 42;
  fg::Face face;
  face.id = 3;
  face.box = {10.f, 20.f, 30.f, 40.f};
  face.score = 0.9f;
  face.landmarks.assign(fg::kMeshLandmarks, {1.f, 2.f, 3.f});
  face.emotion.emplace();
  face.emotion->label = "neutral";
  face.emotion->scores = {{"neutral", 1.f}};
  f.faces.push_back(face);
  return f;
}

class FaceMetaTest : public ::testing::Test {
 protected:
  void SetUp() override { fgtest::InitGstOnce(); }
};

TEST_F(FaceMetaTest, ApiTypeIsTaggedVideo) {
  EXPECT_TRUE(gst_meta_api_type_has_tag(GST_FACE_GRAPH_META_API_TYPE,
                                        g_quark_from_string(GST_META_TAG_VIDEO_STR)));
  EXPECT_STREQ(g_type_name(GST_FACE_GRAPH_META_API_TYPE), "GstFaceGraphMetaAPI");
}

TEST_F(FaceMetaTest, AddedEmptyAndFound) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, 16, nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(buf), nullptr);
  GstFaceGraphMeta* m = gst_buffer_add_face_graph_meta(buf);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->faces, fg::FrameFaces{});
  EXPECT_EQ(gst_buffer_get_face_graph_meta(buf), m);
  gst_buffer_unref(buf);
}

TEST_F(FaceMetaTest, SurvivesCopyAndCopiesAreIndependent) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, 16, nullptr);
  gst_buffer_add_face_graph_meta(buf)->faces = Faces();

  GstBuffer* copy = gst_buffer_copy(buf);
  GstFaceGraphMeta* cm = gst_buffer_get_face_graph_meta(copy);
  ASSERT_NE(cm, nullptr);
  EXPECT_EQ(cm->faces, Faces());
  cm->faces.faces.clear();  // must not touch the original
  EXPECT_EQ(gst_buffer_get_face_graph_meta(buf)->faces, Faces());

  GstBuffer* deep = gst_buffer_copy_deep(buf);
  ASSERT_NE(gst_buffer_get_face_graph_meta(deep), nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(deep)->faces, Faces());

  gst_buffer_unref(copy);
  gst_buffer_unref(deep);
  gst_buffer_unref(buf);
}

TEST_F(FaceMetaTest, SurvivesMakeWritable) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, 16, nullptr);
  gst_buffer_add_face_graph_meta(buf)->faces = Faces();
  GstBuffer* shared = gst_buffer_ref(buf);  // now not writable
  ASSERT_FALSE(gst_buffer_is_writable(shared));
  GstBuffer* writable = gst_buffer_make_writable(shared);
  ASSERT_NE(writable, buf);
  ASSERT_NE(gst_buffer_get_face_graph_meta(writable), nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(writable)->faces, Faces());
  gst_buffer_get_face_graph_meta(writable)->faces.pts_ns = 7;
  EXPECT_EQ(gst_buffer_get_face_graph_meta(buf)->faces.pts_ns, 42);
  gst_buffer_unref(writable);
  gst_buffer_unref(buf);
}

TEST_F(FaceMetaTest, RemovedWithTheBuffer) {
  // Many buffers with large payloads: leaks show under ASan/valgrind, crashes show here.
  for (int i = 0; i < 100; ++i) {
    GstBuffer* buf = gst_buffer_new();
    gst_buffer_add_face_graph_meta(buf)->faces = Faces();
    GstBuffer* copy = gst_buffer_copy(buf);
    gst_buffer_unref(buf);
    gst_buffer_unref(copy);
  }
  GstBuffer* buf = gst_buffer_new();
  GstFaceGraphMeta* m = gst_buffer_add_face_graph_meta(buf);
  EXPECT_TRUE(gst_buffer_remove_meta(buf, &m->meta));
  EXPECT_EQ(gst_buffer_get_face_graph_meta(buf), nullptr);
  gst_buffer_unref(buf);
}

TEST_F(FaceMetaTest, DroppedWhenTheBufferReturnsToItsPool) {
  // Results belong to one frame: a recycled buffer must not carry the last frame's faces.
  GstBufferPool* pool = gst_buffer_pool_new();
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, nullptr, 64, 1, 1);
  ASSERT_TRUE(gst_buffer_pool_set_config(pool, config));
  ASSERT_TRUE(gst_buffer_pool_set_active(pool, TRUE));
  GstBuffer* buf = nullptr;
  ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool, &buf, nullptr), GST_FLOW_OK);
  GstBuffer* first = buf;
  gst_buffer_add_face_graph_meta(buf)->faces = Faces();
  gst_buffer_unref(buf);  // back to the pool
  ASSERT_EQ(gst_buffer_pool_acquire_buffer(pool, &buf, nullptr), GST_FLOW_OK);
  EXPECT_EQ(buf, first) << "pool of one: the same buffer comes back";
  EXPECT_EQ(gst_buffer_get_face_graph_meta(buf), nullptr);
  gst_buffer_unref(buf);
  gst_buffer_pool_set_active(pool, FALSE);
  gst_object_unref(pool);
}

TEST_F(FaceMetaTest, ScaleTransformRescalesCoordinates) {
  GstVideoInfo in, out;
  gst_video_info_set_format(&in, GST_VIDEO_FORMAT_RGB, 100, 50);
  gst_video_info_set_format(&out, GST_VIDEO_FORMAT_RGB, 200, 25);
  GstBuffer* src = gst_buffer_new();
  GstFaceGraphMeta* m = gst_buffer_add_face_graph_meta(src);
  m->faces = Faces();
  GstBuffer* dst = gst_buffer_new();
  GstVideoMetaTransform trans = {&in, &out};
  ASSERT_TRUE(m->meta.info->transform_func(dst, &m->meta, src,
                                           gst_video_meta_transform_scale_get_quark(), &trans));
  const GstFaceGraphMeta* d = gst_buffer_get_face_graph_meta(dst);
  ASSERT_NE(d, nullptr);
  const fg::Face& f = d->faces.faces.at(0);
  EXPECT_FLOAT_EQ(f.box.x, 20.f);
  EXPECT_FLOAT_EQ(f.box.y, 10.f);
  EXPECT_FLOAT_EQ(f.box.w, 60.f);
  EXPECT_FLOAT_EQ(f.box.h, 20.f);
  EXPECT_FLOAT_EQ(f.landmarks[0][0], 2.f);
  EXPECT_FLOAT_EQ(f.landmarks[0][1], 1.f);
  EXPECT_EQ(f.emotion, Faces().faces[0].emotion);
  gst_buffer_unref(src);
  gst_buffer_unref(dst);
}

TEST_F(FaceMetaTest, TravelsThroughVideoconvert) {
  // A "video"-tagged meta describes the picture and must survive colour conversion.
  GstElement* pipeline = gst_parse_launch(
      "appsrc name=src format=time caps=video/x-raw,format=RGB,width=33,height=17,framerate=30/1"
      " ! videoconvert ! video/x-raw,format=I420 ! appsink name=sink",
      nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, 33, 17);
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GST_BUFFER_PTS(buf) = 0;
  gst_buffer_add_face_graph_meta(buf)->faces = Faces();
  GstFlowReturn ret;
  g_signal_emit_by_name(src, "push-buffer", buf, &ret);
  gst_buffer_unref(buf);
  GstSample* sample = nullptr;
  g_signal_emit_by_name(sink, "pull-preroll", &sample);
  ASSERT_NE(sample, nullptr);
  GstBuffer* out = gst_sample_get_buffer(sample);
  ASSERT_NE(gst_buffer_get_face_graph_meta(out), nullptr);
  EXPECT_EQ(gst_buffer_get_face_graph_meta(out)->faces, Faces());
  gst_sample_unref(sample);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}

}  // namespace
