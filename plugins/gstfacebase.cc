#include "plugins/gstfacebase.h"

#include "plugins/gstformats.h"

#include <array>
#include <atomic>
#include <new>
#include <string>
#include <utility>

GST_DEBUG_CATEGORY_STATIC(gst_face_base_debug);
#define GST_CAT_DEFAULT gst_face_base_debug

namespace {

struct GstFaceBasePrivate {
  fg::PixelFormat format;  // chosen in set_info, read by the frame path (same thread)
  // Set by FLUSH_STOP (whichever thread sends it), by new caps and by a SEGMENT that changes
  // the timeline; consumed by the streaming thread (gst_face_base_take_restart). Constructed
  // in place in init.
  std::atomic<bool> restart;
  // Streaming thread only (SEGMENT events and buffers travel on it, serialized).
  GstSegment segment;          // the last SEGMENT seen
  bool have_segment;
  int64_t last_pts;            // the last buffer's PTS, -1 when none
  // Written by the streaming thread, read by the `gaps` property from any thread.
  std::atomic<uint64_t> gaps;  // DISCONT buffers seen since READY->PAUSED
};

enum { PROP_BASE_0, PROP_GAPS };

}  // namespace

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(GstFaceBase, gst_face_base, GST_TYPE_VIDEO_FILTER)

std::optional<fg::PixelFormat> gst_face_base_engine_format(GstVideoFormat format) {
  return gst_face_engine_format(format);
}

GstCaps* gst_face_base_caps() {
  return gst_face_formats_caps(
      "width = (int) [ 1, max ], height = (int) [ 1, max ], framerate = (fraction) [ 0/1, max ]");
}

namespace {

GstFaceBasePrivate* Priv(GstFaceBase* self) {
  return static_cast<GstFaceBasePrivate*>(gst_face_base_get_instance_private(self));
}

// Sink pad probe: sees each CAPS event before the pad's accept-caps check refuses it, so a
// refused format becomes a bus ERROR naming this element and the format rather than a bare
// "not-negotiated" from some upstream element.
GstPadProbeReturn ReportRefusedCaps(GstPad* pad, GstPadProbeInfo* info, gpointer user_data) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  GstCaps* templ = gst_pad_get_pad_template_caps(pad);
  const bool ok = gst_caps_can_intersect(caps, templ);
  gst_caps_unref(templ);
  if (ok) return GST_PAD_PROBE_OK;

  auto* self = GST_FACE_BASE(user_data);
  const GstStructure* s = gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : nullptr;
  const gchar* format = s ? gst_structure_get_string(s, "format") : nullptr;
  gchar* what = format ? g_strdup_printf("video format %s", format) : gst_caps_to_string(caps);
  GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                    ("%s: %s is not supported (supported: %s in system memory)",
                     GST_ELEMENT_NAME(self), what, gst_face_format_names().c_str()),
                    ("refused caps: %" GST_PTR_FORMAT, caps));
  g_free(what);
  return GST_PAD_PROBE_OK;  // the pad itself refuses the event (not-negotiated)
}

gboolean SetInfo(GstVideoFilter* filter, GstCaps* /*incaps*/, GstVideoInfo* in_info,
                 GstCaps* /*outcaps*/, GstVideoInfo* /*out_info*/) {
  auto* self = GST_FACE_BASE(filter);
  const auto format = gst_face_base_engine_format(GST_VIDEO_INFO_FORMAT(in_info));
  if (!format) {
    // Unreachable through the pad template; kept so a template edit cannot go unnoticed.
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: video format %s is not supported", GST_ELEMENT_NAME(self),
                       GST_VIDEO_INFO_NAME(in_info)),
                      (nullptr));
    return FALSE;
  }
  Priv(self)->format = *format;
  Priv(self)->restart = true;  // a new picture geometry: old tracks mean nothing in it
  GST_DEBUG_OBJECT(self, "configured for %s %dx%d", GST_VIDEO_INFO_NAME(in_info),
                   GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info));
  auto* klass = GST_FACE_BASE_GET_CLASS(self);
  return klass->configure ? klass->configure(self, in_info, *format) : TRUE;
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  GstFaceBasePrivate* priv = Priv(GST_FACE_BASE(trans));
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    GST_DEBUG_OBJECT(trans, "flush: per-track state restarts on the next frame");
    priv->restart = true;
    priv->last_pts = -1;
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) {
    // A new timeline (a non-flushing seek, a looped file, a source that restarted): the
    // timestamps after it say nothing about the ones before. A repeated, equal SEGMENT (some
    // demuxers resend it) changes nothing.
    const GstSegment* seg = nullptr;
    gst_event_parse_segment(event, &seg);
    if (priv->have_segment && !gst_segment_is_equal(&priv->segment, seg)) {
      GST_DEBUG_OBJECT(trans, "new segment: per-track state restarts on the next frame");
      priv->restart = true;
      priv->last_pts = -1;
    }
    gst_segment_copy_into(seg, &priv->segment);
    priv->have_segment = true;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_face_base_parent_class)->sink_event(trans, event);
}

GstStateChangeReturn ChangeState(GstElement* element, GstStateChange transition) {
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GstFaceBasePrivate* priv = Priv(GST_FACE_BASE(element));
    priv->restart = false;
    priv->have_segment = false;
    priv->last_pts = -1;
    priv->gaps = 0;
  }
  return GST_ELEMENT_CLASS(gst_face_base_parent_class)->change_state(element, transition);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  if (id == PROP_GAPS)
    g_value_set_uint64(value, Priv(GST_FACE_BASE(object))->gaps.load(std::memory_order_relaxed));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

// Replaces GstVideoFilter's transform_ip: that one maps READWRITE whenever the element is not
// in passthrough, which would copy shared memory although analyses never write pixels. Only
// elements that declare writes_pixels get a read-write map.
GstFlowReturn TransformIp(GstBaseTransform* trans, GstBuffer* buffer) {
  auto* self = GST_FACE_BASE(trans);
  auto* filter = GST_VIDEO_FILTER(trans);
  auto* klass = GST_FACE_BASE_GET_CLASS(self);
  if (G_UNLIKELY(!filter->negotiated)) {
    GST_ELEMENT_ERROR(self, CORE, NOT_IMPLEMENTED,
                      ("%s: received a buffer before caps were negotiated", GST_ELEMENT_NAME(self)),
                      (nullptr));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  const bool write = klass->writes_pixels;
  if (write && klass->wants_to_write && !klass->wants_to_write(self, buffer)) return GST_FLOW_OK;
  // NO_REF: the frame must not hold a second ref, or the buffer would stop being writable
  // and process() could not attach metadata (nor could a write map replace shared memory).
  const int access = write ? GST_MAP_READWRITE : GST_MAP_READ;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &filter->in_info, buffer,
                           static_cast<GstMapFlags>(access | static_cast<int>(GST_VIDEO_FRAME_MAP_FLAG_NO_REF)))) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("%s: could not map a %s frame%s", GST_ELEMENT_NAME(self),
                       GST_VIDEO_INFO_NAME(&filter->in_info), write ? " for writing" : ""),
                      ("buffer %" GST_PTR_FORMAT, buffer));
    return GST_FLOW_ERROR;
  }
  std::array<uint8_t*, 3> planes{};
  std::array<int, 3> strides{};
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame) && p < planes.size(); ++p) {
    planes[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
    strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
  }
  // One validation for both kinds of view (MutableImageView::Wrap is ImageView::Wrap's).
  fg::draw::MutableImageView view;
  GstFlowReturn ret = GST_FLOW_OK;
  if (auto err = fg::draw::MutableImageView::Wrap(Priv(self)->format, GST_VIDEO_FRAME_WIDTH(&frame),
                                                  GST_VIDEO_FRAME_HEIGHT(&frame), planes, strides,
                                                  &view)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("%s: bad frame layout", GST_ELEMENT_NAME(self)),
                      ("%s", err->c_str()));
    ret = GST_FLOW_ERROR;
  } else if (write) {
    ret = klass->process_writable(self, view, buffer);
  } else {
    ret = klass->process(self, view.view(), buffer);
  }
  gst_video_frame_unmap(&frame);
  return ret;
}

}  // namespace

static void gst_face_base_class_init(GstFaceBaseClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_base_debug, "facebase", 0, "facegraph analysis base class");
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  auto* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  // Subclasses inherit these templates (GstElementClass copies them in base_init).
  GstCaps* caps = gst_face_base_caps();
  gst_element_class_add_pad_template(element_class,
                                     gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, caps));
  gst_element_class_add_pad_template(element_class,
                                     gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps));
  gst_caps_unref(caps);

  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->get_property = GetProperty;
  // Every analysis element counts the gaps it was told about (GObject dispatches this
  // property to this class's get_property, whatever the subclass installs).
  g_object_class_install_property(
      gobject_class, PROP_GAPS,
      g_param_spec_uint64("gaps", "Gaps",
                          "Buffers flagged DISCONT (data lost upstream: a dropped packet, a "
                          "decoder error) since the element started. A gap is not a restart: "
                          "tracks, baselines and the heart-rate window go on across it",
                          0, G_MAXUINT64, 0,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  element_class->change_state = ChangeState;
  trans_class->transform_ip = TransformIp;
  trans_class->sink_event = SinkEvent;
  filter_class->set_info = SetInfo;
  klass->configure = nullptr;
  klass->process = nullptr;
  klass->writes_pixels = FALSE;
  klass->process_writable = nullptr;
  klass->wants_to_write = nullptr;
  gst_type_mark_as_plugin_api(GST_TYPE_FACE_BASE, static_cast<GstPluginAPIFlags>(0));
}

static void gst_face_base_init(GstFaceBase* self) {
  new (&Priv(self)->restart) std::atomic<bool>(false);  // GObject memory is raw
  new (&Priv(self)->gaps) std::atomic<uint64_t>(0);
  gst_segment_init(&Priv(self)->segment, GST_FORMAT_TIME);
  Priv(self)->have_segment = false;
  Priv(self)->last_pts = -1;
  auto* trans = GST_BASE_TRANSFORM(self);
  gst_base_transform_set_in_place(trans, TRUE);
  gst_base_transform_set_passthrough(trans, FALSE);
  gst_pad_add_probe(GST_BASE_TRANSFORM_SINK_PAD(trans), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    ReportRefusedCaps, self, nullptr);
}

std::string gst_face_base_default_models_dir() {
  const char* env = g_getenv("FACEGRAPH_MODELS");
  return env && *env ? env : FG_MODELS_DEFAULT_DIR;
}

gboolean gst_face_base_take_restart(GstFaceBase* self, GstBuffer* buffer) {
  GstFaceBasePrivate* priv = Priv(self);
  bool restart = priv->restart.exchange(false);
  // DISCONT means data is missing upstream (RTP loss, a decoder that skipped a broken frame),
  // not that the stream started over: the engines keep their state and read the gap from the
  // timestamps (tracks survive a gap shorter than their grace; the heart-rate window is
  // resampled across it and its confidence says so).
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT) && priv->last_pts >= 0) {
    priv->gaps.fetch_add(1, std::memory_order_relaxed);
    GST_DEBUG_OBJECT(self, "DISCONT at %" GST_TIME_FORMAT ": a gap, state kept",
                     GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
  }
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    const auto pts = static_cast<int64_t>(GST_BUFFER_PTS(buffer));
    // Time that runs backwards without a flush or a new segment (a source that restarted its
    // clock): the per-track engines drop samples older than their newest, so they start over.
    if (!restart && priv->last_pts >= 0 && pts < priv->last_pts) {
      GST_INFO_OBJECT(self, "timestamps went back from %" GST_TIME_FORMAT " to %" GST_TIME_FORMAT
                      " without a flush: per-track state restarts",
                      GST_TIME_ARGS(priv->last_pts), GST_TIME_ARGS(pts));
      restart = true;
    }
    priv->last_pts = pts;
  }
  return restart;
}

std::string gst_face_base_models_dir_from_value(const GValue* value) {
  const gchar* dir = g_value_get_string(value);
  return dir && *dir ? dir : gst_face_base_default_models_dir();
}

void gst_face_base_post_models_error(GstElement* self, const std::string& dir,
                                     const std::string& missing_dir_text,
                                     const std::string& text, const std::string& debug) {
  const bool no_dir = !g_file_test(dir.c_str(), G_FILE_TEST_IS_DIR);
  gchar* message = g_strdup_printf("%s: %s", GST_ELEMENT_NAME(self),
                                   (no_dir ? missing_dir_text : text).c_str());
  // Takes both strings, as GST_ELEMENT_ERROR does.
  gst_element_message_full(self, GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
                           no_dir ? GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_OPEN_READ,
                           message, g_strdup(debug.c_str()), __FILE__, GST_FUNCTION, __LINE__);
}

void gst_face_base_post_element_message(GstElement* self, GstStructure* s) {
  gst_element_post_message(self, gst_message_new_element(GST_OBJECT(self), s));
}

guint64 gst_face_base_clock_time(int64_t pts_ns) {
  return pts_ns >= 0 ? static_cast<guint64>(pts_ns) : GST_CLOCK_TIME_NONE;
}

int64_t gst_face_base_frame_time_ns(GstBuffer* buffer, int64_t meta_pts_ns) {
  int64_t pts = meta_pts_ns;
  if (pts < 0 && GST_BUFFER_PTS_IS_VALID(buffer))
    pts = static_cast<int64_t>(GST_BUFFER_PTS(buffer));
  if (pts < 0) pts = g_get_monotonic_time() * 1000;
  return pts;
}

void gst_face_base_install_models_dir(GObjectClass* klass, guint id, const char* blurb) {
  g_object_class_install_property(
      klass, id,
      g_param_spec_string("models-dir", "Models folder", blurb, FG_MODELS_DEFAULT_DIR,
                          kGstFaceParamFlags));
}

GType gst_face_inference_get_type() {
  static const GEnumValue values[] = {
      {GST_FACE_INFERENCE_SHARED, "The process-wide inference pool of the model, batched across "
                                  "streams with a fair schedule", "shared"},
      {GST_FACE_INFERENCE_PRIVATE, "The element's own networks (and worker thread)", "private"},
      {0, nullptr, nullptr}};
  static const GType type = g_enum_register_static("GstFaceInference", values);
  return type;
}

void gst_face_base_install_inference(GObjectClass* klass, guint id) {
  g_object_class_install_property(
      klass, id,
      g_param_spec_enum("inference", "Inference",
                        "Where the networks run: shared (the process-wide pool of each model, "
                        "crops of all streams batched, round-robin per stream) or private (the "
                        "element's own networks)",
                        gst_face_inference_get_type(), GST_FACE_INFERENCE_SHARED,
                        kGstFaceParamFlags));
}

void gst_face_base_install_counter(GObjectClass* klass, guint id, const char* name,
                                   const char* nick, const char* blurb) {
  g_object_class_install_property(
      klass, id,
      g_param_spec_uint64(name, nick, blurb, 0, G_MAXUINT64, 0,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
}
