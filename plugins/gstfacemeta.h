// GstFaceGraphMeta: the per-frame face results (fg::FrameFaces, engine/face.h) riding on a
// GstBuffer from the element that computed them to every element downstream.
//
// Writers (facetrack, facemesh, ...) attach it with gst_buffer_add_face_graph_meta() on a
// writable buffer and fill `faces`; readers (facejson, overlays) look it up with
// gst_buffer_get_face_graph_meta(). At most one per buffer by convention: writers reuse the
// one that is there.
//
// The API type carries the tag "video" (GST_META_TAG_VIDEO_STR): the results describe the
// picture, so they stay valid through colour conversion and are copied by videoconvert;
// scaling transforms (videoscale) rescale boxes and landmarks.
//
// Lifetime: the C++ object is constructed in the meta's init (placement new) and destroyed
// in its free, so it is copied with the buffer (gst_buffer_copy, gst_buffer_make_writable)
// and released with it. Threading: a meta is owned by its buffer; write it only while the
// buffer is writable.
//
// Example:
//   buf = gst_buffer_make_writable(buf);
//   GstFaceGraphMeta* m = gst_buffer_get_face_graph_meta(buf);
//   if (!m) m = gst_buffer_add_face_graph_meta(buf);
//   m->faces.pts_ns = GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : -1;
//   m->faces.faces.push_back(face);
#pragma once

#include <gst/gst.h>

#include "engine/face.h"

struct GstFaceGraphMeta {
  GstMeta meta;
  fg::FrameFaces faces;
};

// The registered API type ("GstFaceGraphMetaAPI", tags: "video").
GType gst_face_graph_meta_api_get_type();
#define GST_FACE_GRAPH_META_API_TYPE (gst_face_graph_meta_api_get_type())

// The implementation (init / free / transform).
const GstMetaInfo* gst_face_graph_meta_get_info();
#define GST_FACE_GRAPH_META_INFO (gst_face_graph_meta_get_info())

// Adds an empty meta (pts_ns = -1, no faces). The buffer must be writable.
GstFaceGraphMeta* gst_buffer_add_face_graph_meta(GstBuffer* buffer);

// The buffer's meta, or nullptr.
GstFaceGraphMeta* gst_buffer_get_face_graph_meta(GstBuffer* buffer);
