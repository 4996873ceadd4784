#include "plugins/gstfacemeta.h"

#include <gst/video/video.h>

#include <new>

namespace {

gboolean FaceMetaInit(GstMeta* meta, gpointer /*params*/, GstBuffer* /*buffer*/) {
  // GstMeta memory is raw (g_slice): construct the C++ member in place.
  auto* m = reinterpret_cast<GstFaceGraphMeta*>(meta);
  new (&m->faces) fg::FrameFaces();
  return TRUE;
}

void FaceMetaFree(GstMeta* meta, GstBuffer* /*buffer*/) {
  auto* m = reinterpret_cast<GstFaceGraphMeta*>(meta);
  m->faces.~FrameFaces();
}

// Scales every coordinate by (sx, sy); z of the landmarks follows x (face.h: "z in the same
// scale as x").
void ScaleFaces(fg::FrameFaces* f, float sx, float sy) {
  for (fg::Face& face : f->faces) {
    face.box.x *= sx;
    face.box.w *= sx;
    face.box.y *= sy;
    face.box.h *= sy;
    for (auto& p : face.landmarks) {
      p[0] *= sx;
      p[1] *= sy;
      p[2] *= sx;
    }
  }
}

gboolean FaceMetaTransform(GstBuffer* dest, GstMeta* meta, GstBuffer* /*src*/, GQuark type,
                           gpointer data) {
  const auto* src = reinterpret_cast<GstFaceGraphMeta*>(meta);
  if (GST_META_TRANSFORM_IS_COPY(type)) {
    // Region copies (GstMetaTransformCopy::region) keep the whole picture's results too: the
    // coordinates are frame pixels, and a sub-buffer of raw video is not a picture of its own.
    GstFaceGraphMeta* d = gst_buffer_get_face_graph_meta(dest);
    if (!d) d = gst_buffer_add_face_graph_meta(dest);
    if (!d) return FALSE;
    d->faces = src->faces;
    return TRUE;
  }
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE(type)) {
    const auto* s = static_cast<GstVideoMetaTransform*>(data);
    const int iw = GST_VIDEO_INFO_WIDTH(s->in_info), ih = GST_VIDEO_INFO_HEIGHT(s->in_info);
    const int ow = GST_VIDEO_INFO_WIDTH(s->out_info), oh = GST_VIDEO_INFO_HEIGHT(s->out_info);
    if (iw <= 0 || ih <= 0) return FALSE;
    GstFaceGraphMeta* d = gst_buffer_get_face_graph_meta(dest);
    if (!d) d = gst_buffer_add_face_graph_meta(dest);
    if (!d) return FALSE;
    d->faces = src->faces;
    ScaleFaces(&d->faces, static_cast<float>(ow) / iw, static_cast<float>(oh) / ih);
    return TRUE;
  }
  // Unknown transform (crop, rotate, ...): the coordinates would be wrong; drop the meta.
  return FALSE;
}

}  // namespace

GType gst_face_graph_meta_api_get_type() {
  static GType type = 0;
  static const gchar* tags[] = {GST_META_TAG_VIDEO_STR, nullptr};
  if (g_once_init_enter(&type)) {
    GType t = gst_meta_api_type_register("GstFaceGraphMetaAPI", tags);
    g_once_init_leave(&type, t);
  }
  return type;
}

const GstMetaInfo* gst_face_graph_meta_get_info() {
  static const GstMetaInfo* info = nullptr;
  if (g_once_init_enter(&info)) {
    const GstMetaInfo* i =
        gst_meta_register(GST_FACE_GRAPH_META_API_TYPE, "GstFaceGraphMeta",
                          sizeof(GstFaceGraphMeta), FaceMetaInit, FaceMetaFree, FaceMetaTransform);
    g_once_init_leave(&info, i);
  }
  return info;
}

GstFaceGraphMeta* gst_buffer_add_face_graph_meta(GstBuffer* buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), nullptr);
  return reinterpret_cast<GstFaceGraphMeta*>(
      gst_buffer_add_meta(buffer, GST_FACE_GRAPH_META_INFO, nullptr));
}

GstFaceGraphMeta* gst_buffer_get_face_graph_meta(GstBuffer* buffer) {
  g_return_val_if_fail(GST_IS_BUFFER(buffer), nullptr);
  return reinterpret_cast<GstFaceGraphMeta*>(
      gst_buffer_get_meta(buffer, GST_FACE_GRAPH_META_API_TYPE));
}
