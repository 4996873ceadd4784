// GstFaceBase: the abstract base of every facegraph analysis element.
//
// It owns what all of them share, so each element stays a thin adapter over engine code:
//   - caps: raw video in every engine format (plugins/gstformats.h: RGB, BGR, RGBA, BGRA,
//     RGBx, BGRx, xRGB, xBGR, GRAY8, NV12, NV21, I420, YUY2, UYVY), any size (odd widths
//     and heights included), system memory, any strides. Anything else is refused when the
//     CAPS event arrives, with a bus ERROR naming the element and the format (caps query
//     negotiation already steers upstream towards these formats).
//   - configuration per caps: set_info maps the GstVideoFormat to fg::PixelFormat once and
//     calls the subclass's configure(); the frame path only reads what was stored.
//   - mapping: each frame is mapped read-only (GstVideoFrame, honouring GstVideoMeta strides
//     and offsets) and wrapped in an fg::ImageView without copying a pixel, then handed to
//     process().
//
// Analyses never write pixels: video leaves exactly as it came in. The transform is in place
// and not in passthrough mode, so the buffer given to process() is writable (GstBaseTransform
// makes a shallow copy, buffer struct only, when it is shared) and analyses can attach a
// GstFaceGraphMeta. The read-only map means shared memory (tee, imagefreeze) is never copied.
//
// Drawing elements (faceannotate) set `writes_pixels` in class_init and implement
// process_writable() instead: their frames are mapped read-write. A buffer whose memory is
// shared gets its memory copied by that map (GstBuffer copy-on-write), so the picture seen
// by other holders of the buffer (a tee's other branch, imagefreeze's stored frame) is never
// changed; unshared buffers are drawn on in place, without a copy.
//
// Restarts: a FLUSH_STOP (a flushing seek: timestamps may go back), a SEGMENT that differs
// from the previous one (a non-flushing seek, a source that restarted) and new caps (a new
// picture geometry: old tracks mean nothing in it) are recorded by the base;
// gst_face_base_take_restart() returns TRUE once after them, and for a buffer whose PTS is
// earlier than the previous one's without any of them, so elements with per-track state
// (facetrack, faceemotion, facevitals) start over. A buffer flagged DISCONT is NOT a restart
// (STYLE.md: a stream glitch is a gap): it is counted in the read-only `gaps` property every
// analysis element has, and the engines read the gap from the timestamps.
// A subclass that overrides sink_event chains up to its parent class's, or FLUSH_STOP is lost.
//
// Threading: configure() and process() run on the streaming thread. Subclasses keep their
// engine objects in a std::unique_ptr<Impl> created in start() and reset in stop().
//
// Example subclass (see gstfacejson.cc):
//   G_DEFINE_TYPE(GstFaceJson, gst_face_json, GST_TYPE_FACE_BASE)
//   static GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* b);
//   ... klass->process = Process;
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include <cstdint>
#include <optional>
#include <string>

#include "engine/draw/canvas.h"
#include "engine/image.h"

G_BEGIN_DECLS

#define GST_TYPE_FACE_BASE (gst_face_base_get_type())
G_DECLARE_DERIVABLE_TYPE(GstFaceBase, gst_face_base, GST, FACE_BASE, GstVideoFilter)

struct _GstFaceBaseClass {
  GstVideoFilterClass parent_class;

  // Optional. Called once per caps on the streaming thread, after the format was mapped.
  // Return FALSE (after posting an error) to refuse the caps.
  gboolean (*configure)(GstFaceBase* self, const GstVideoInfo* info, fg::PixelFormat format);

  // Required unless writes_pixels. Called once per frame on the streaming thread. `view`
  // points into the mapped buffer and is valid only during the call; `buffer` is writable
  // (metadata may be added, pixels must not be written).
  GstFlowReturn (*process)(GstFaceBase* self, const fg::ImageView& view, GstBuffer* buffer);

  // Drawing elements: set writes_pixels = TRUE in class_init and implement process_writable
  // (then process is not called). `view` is the read-write mapped frame, valid during the
  // call; `buffer` is writable.
  gboolean writes_pixels;
  GstFlowReturn (*process_writable)(GstFaceBase* self, const fg::draw::MutableImageView& view,
                                    GstBuffer* buffer);
  // Optional, with writes_pixels: return FALSE when this buffer needs no drawing (e.g. no
  // faces); the frame is then not mapped at all, so a shared buffer is not copied.
  gboolean (*wants_to_write)(GstFaceBase* self, GstBuffer* buffer);
};

G_END_DECLS

// The engine format for a GStreamer video format, or nullopt when the engine has none.
std::optional<fg::PixelFormat> gst_face_base_engine_format(GstVideoFormat format);

// The models folder every element's `models-dir` defaults to (and falls back to when set to
// ""): $FACEGRAPH_MODELS, else the build's default (tools/fetch-models fills it).
std::string gst_face_base_default_models_dir();

// Streaming thread, at the start of process(): TRUE when the element's per-track state must
// start over (a FLUSH_STOP, whichever thread sent it, a changed SEGMENT or new caps since the
// last call, or `buffer`'s PTS is earlier than the previous buffer's). A DISCONT `buffer` is
// counted as a gap, never a restart. The request is consumed; it is cleared at READY->PAUSED.
gboolean gst_face_base_take_restart(GstFaceBase* self, GstBuffer* buffer);

// The value of a `models-dir` property being set: the string, or the default
// (gst_face_base_default_models_dir) for NULL or "".
std::string gst_face_base_models_dir_from_value(const GValue* value);

// Posts the error of models that could not be loaded from the folder `dir`, as
// "<element name>: <text>": RESOURCE/NOT_FOUND with `missing_dir_text` when the folder does
// not exist, else RESOURCE/OPEN_READ with `text`; `debug` (the loader's message) is the debug
// string.
void gst_face_base_post_models_error(GstElement* self, const std::string& dir,
                                     const std::string& missing_dir_text,
                                     const std::string& text, const std::string& debug);

// Posts an element message carrying `s` (taken) from `self`.
void gst_face_base_post_element_message(GstElement* self, GstStructure* s);

// A pts in ns (< 0: none) as the guint64 of a message field (GST_CLOCK_TIME_NONE for none).
guint64 gst_face_base_clock_time(int64_t pts_ns);

// The time base of a frame's analysis in ns (rate checks, smoothing, stale timeouts):
// `meta_pts_ns` when >= 0, else the buffer PTS, else the monotonic clock.
int64_t gst_face_base_frame_time_ns(GstBuffer* buffer, int64_t meta_pts_ns);

// The flags of the elements' settings: read-write and mutable while playing (read under
// GST_OBJECT_LOCK and applied by the streaming thread on the next frame).
inline constexpr auto kGstFaceParamFlags = static_cast<GParamFlags>(
    G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

// Installs the `models-dir` property (nick "Models folder", default the build's models folder,
// kGstFaceParamFlags) with the element's `blurb` (a static string).
void gst_face_base_install_models_dir(GObjectClass* klass, guint id, const char* blurb);

// Installs the read-only guint64 counter property `name` (0 until something is counted).
void gst_face_base_install_counter(GObjectClass* klass, guint id, const char* name,
                                   const char* nick, const char* blurb);

// The `inference` property of the elements whose networks can run in the process-wide pools
// (faceemotion, faceliveness, facetrack): GstFaceInference, "shared" (default: the process-wide
// InferencePool of each model, batched across every stream, round-robin) or "private" (the
// element's own worker thread and network). Values are fg::Inference's (track_worker.h).
enum GstFaceInference { GST_FACE_INFERENCE_SHARED = 0, GST_FACE_INFERENCE_PRIVATE = 1 };
GType gst_face_inference_get_type();
void gst_face_base_install_inference(GObjectClass* klass, guint id);

// The caps every GstFaceBase element accepts on both pads: raw video in every format of
// plugins/gstformats.h, any size and framerate (transfer full).
GstCaps* gst_face_base_caps();
