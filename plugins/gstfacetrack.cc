#include "plugins/gstfacetrack.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "engine/nn/session.h"
#include "engine/tracking/face_tracker.h"
#include "plugins/gstfaceengine.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_track_debug);
#define GST_CAT_DEFAULT gst_face_track_debug

namespace {

enum Backend { kBackendAuto, kBackendXnnpack, kBackendReference, kBackendCuda };

enum {
  PROP_0,
  PROP_MODELS_DIR,
  PROP_BACKEND,
  PROP_MAX_FACES,
  PROP_DETECT_INTERVAL,
  PROP_MIN_DETECTION_SCORE,
  PROP_MIN_PRESENCE,
  PROP_IRIS,
  PROP_SMOOTHING,
  PROP_SMOOTHING_MIN_CUTOFF,
  PROP_SMOOTHING_BETA,
  PROP_POST_MESSAGES,
  PROP_TRACK_GRACE,
  PROP_MIN_FACE_SIZE,
  PROP_ZOOM_TILES,
  PROP_INFERENCE,
  PROP_STILL_MESH_SKIP,
  PROP_STILL_MOTION,
};

const char* BackendName(int b) {
  switch (b) {
    case kBackendXnnpack: return "xnnpack";
    case kBackendReference: return "reference";
    case kBackendCuda: return "cuda";
    default: return "auto";
  }
}

// The property values. Written by set_property, read by the streaming thread; GST_OBJECT_LOCK.
struct Settings {
  std::string models_dir = gst_face_base_default_models_dir();
  int backend = kBackendAuto;
  int max_faces = 16;
  int detect_interval = 15;
  double track_grace = 0.5;
  int min_face_size = 0;
  bool zoom_tiles = true;
  double min_detection_score = 0.5;
  double min_presence = 0.5;
  bool iris = false;
  bool smoothing = true;
  double smoothing_min_cutoff = 1.0;
  double smoothing_beta = 10.0;
  bool post_messages = false;
  gint inference = GST_FACE_INFERENCE_SHARED;
  int still_mesh_skip = 0;
  double still_motion = 0.01;

  fg::TrackerOptions ToOptions() const {
    fg::TrackerOptions o;
    o.models_dir = models_dir;
    o.backend = BackendName(backend);
    o.max_faces = max_faces;
    o.detect_interval = detect_interval;
    o.grace_s = track_grace;
    o.min_face_px = min_face_size;
    o.zoom_tiles = zoom_tiles;
    o.shared_inference = inference != GST_FACE_INFERENCE_PRIVATE;
    o.still_mesh_skip = still_mesh_skip;
    o.still_motion = static_cast<float>(still_motion);
    o.min_detection_score = static_cast<float>(min_detection_score);
    o.min_presence = static_cast<float>(min_presence);
    o.iris = iris;
    o.smoothing = smoothing;
    o.smoothing_params.min_cutoff = smoothing_min_cutoff;
    o.smoothing_params.beta = smoothing_beta;
    return o;
  }
};

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  std::unique_ptr<fg::FaceTracker> tracker;
  guint64 revision = 0;   // Members::revision the tracker was made from
  int64_t id_offset = 0;  // added to the tracker's ids: unique across re-creations
  int64_t max_id = 0;     // the largest id reported so far
};

struct Members {
  Settings settings;          // GST_OBJECT_LOCK
  guint64 revision = 1;       // bumped by every tracker property change; GST_OBJECT_LOCK
  std::unique_ptr<Impl> impl;  // created in start(), reset in stop()
};

}  // namespace

struct _GstFaceTrack {
  GstFaceBase parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceTrack, gst_face_track, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(facetrack, "facetrack", GST_RANK_NONE, GST_TYPE_FACE_TRACK)

GType gst_face_track_backend_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {kBackendAuto, "XNNPACK when built with it, else the reference kernels", "auto"},
      {kBackendXnnpack, "XNNPACK (fails when not built with it)", "xnnpack"},
      {kBackendReference, "reference kernels (plain C++, slow)", "reference"},
      {kBackendCuda, "CUDA on the GPU (fails without a build with nvcc and a CUDA device)",
       "cuda"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstFaceTrackBackend", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

namespace {

// Creates a tracker for `s`; on failure posts the error (naming the folder and the file) and
// returns nullptr.
std::unique_ptr<fg::FaceTracker> MakeTracker(GstFaceTrack* self, const Settings& s) {
  // A backend this build or machine lacks is a settings error, not a models one.
  const std::string backend = BackendName(s.backend);
  if (backend != "auto") {
    const std::vector<std::string> available = fg::nn::AvailableBackends();
    if (std::find(available.begin(), available.end(), backend) == available.end()) {
      std::string list;
      for (const std::string& b : available) list += (list.empty() ? "" : ", ") + b;
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("%s: backend \"%s\" is not available here (available: %s)%s",
                         GST_ELEMENT_NAME(self), backend.c_str(), list.c_str(),
                         backend == "cuda" ? "; cuda needs a build with nvcc and a CUDA device"
                                           : ""),
                        (nullptr));
      return nullptr;
    }
  }
  std::string error;
  auto tracker = fg::FaceTracker::Create(s.ToOptions(), &error);
  if (tracker) {
    GST_INFO_OBJECT(self, "tracker ready: models from %s, backend %s, max-faces %d, iris %d, %s inference",
                    s.models_dir.c_str(), BackendName(s.backend), s.max_faces, s.iris,
                    s.inference == GST_FACE_INFERENCE_PRIVATE ? "private" : "shared");
    return tracker;
  }
  gst_face_base_post_models_error(
      GST_ELEMENT(self), s.models_dir,
      "the models folder \"" + s.models_dir +
          "\" does not exist. Run tools/fetch-models to download the models, or set "
          "models-dir (or FACEGRAPH_MODELS) to the folder that holds them.",
      "cannot load the face models from \"" + s.models_dir + "\": " + error +
          ". Run tools/fetch-models to download them again, or set models-dir (or "
          "FACEGRAPH_MODELS) to a folder that holds them.",
      error);
  return nullptr;
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_TRACK(trans);
  const auto [s, revision] =
      fg::gst::Snapshot(GST_OBJECT(self), self->m.settings, self->m.revision);
  auto impl = std::make_unique<Impl>();
  impl->tracker = MakeTracker(self, s);
  if (!impl->tracker) return FALSE;
  impl->revision = revision;
  self->m.impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  GST_FACE_TRACK(trans)->m.impl.reset();
  return TRUE;
}

// Applies property changes made since the tracker was configured: in place when possible,
// else by re-creating it. Returns false (error posted) when the new settings cannot be loaded.
bool ApplySettings(GstFaceTrack* self, Impl& impl, bool* post_messages) {
  const auto changed = fg::gst::TakeChanges(
      GST_OBJECT(self), self->m.settings, self->m.revision, impl.revision, false,
      [&](const Settings& s) { *post_messages = s.post_messages; });
  if (!changed) return true;
  const auto& [s, revision] = *changed;

  // Thresholds, intervals and smoothing change in place (tracks and ids kept); a different
  // model folder, backend or iris needs a new tracker.
  if (impl.tracker && impl.tracker->SetOptions(s.ToOptions())) {
    impl.revision = revision;
    return true;
  }
  auto tracker = MakeTracker(self, s);
  if (!tracker) return false;
  impl.tracker = std::move(tracker);
  impl.revision = revision;
  impl.id_offset = impl.max_id;  // the new tracker counts from 1 again
  return true;
}

// [v0, v0 + len) clamped to [0, limit], as unsigned pixel coordinates (NaN -> 0).
std::pair<guint, guint> ClampRange(float v0, float len, int limit) {
  auto clamp = [&](float v) {
    if (!(v > 0)) return 0.0f;  // also NaN
    return std::min(v, static_cast<float>(limit));
  };
  const float a = clamp(std::floor(v0)), b = clamp(std::ceil(v0 + len));
  return {static_cast<guint>(a), static_cast<guint>(std::max(a, b) - a)};
}

void AddRegionsOfInterest(GstBuffer* buffer, const fg::FrameFaces& faces, int width, int height) {
  static const GQuark kFace = g_quark_from_static_string("face");
  for (const fg::Face& f : faces.faces) {
    const auto [x, w] = ClampRange(f.box.x, f.box.w, width);
    const auto [y, h] = ClampRange(f.box.y, f.box.h, height);
    GstVideoRegionOfInterestMeta* roi =
        gst_buffer_add_video_region_of_interest_meta_id(buffer, kFace, x, y, w, h);
    roi->id = static_cast<gint>(f.id);
    gst_video_region_of_interest_meta_add_param(
        roi, gst_structure_new("face", "id", G_TYPE_INT64, static_cast<gint64>(f.id), "score",
                               G_TYPE_DOUBLE, static_cast<double>(f.score), nullptr));
  }
}

void PostFaces(GstFaceTrack* self, const fg::FrameFaces& faces) {
  GValue ids = G_VALUE_INIT;
  gst_value_array_init(&ids, faces.faces.size());
  for (const fg::Face& f : faces.faces) {
    GValue id = G_VALUE_INIT;
    g_value_init(&id, G_TYPE_INT64);
    g_value_set_int64(&id, f.id);
    gst_value_array_append_and_take_value(&ids, &id);
  }
  GstStructure* s = gst_structure_new(
      "facegraph-faces", "pts", G_TYPE_UINT64, gst_face_base_clock_time(faces.pts_ns), "count",
      G_TYPE_UINT, static_cast<guint>(faces.faces.size()), nullptr);
  gst_structure_take_value(s, "ids", &ids);
  gst_face_base_post_element_message(GST_ELEMENT(self), s);
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* buffer) {
  auto* self = GST_FACE_TRACK(base);
  Impl& impl = *self->m.impl;
  bool post_messages = false;
  if (!ApplySettings(self, impl, &post_messages)) return GST_FLOW_ERROR;
  // A flushing seek, a new segment, new caps or time going back: tracks restart, ids go on.
  // A DISCONT buffer is a gap: tracks go on (their grace is in seconds of pts).
  if (gst_face_base_take_restart(base, buffer)) impl.tracker->Reset();

  const int64_t pts =
      GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta) meta = gst_buffer_add_face_graph_meta(buffer);
  // Moved, not copied: the landmarks go from the tracker's result into the meta.
  meta->faces = impl.tracker->Process(view, pts);
  for (fg::Face& f : meta->faces.faces) {
    f.id += impl.id_offset;
    impl.max_id = std::max(impl.max_id, f.id);
  }
  AddRegionsOfInterest(buffer, meta->faces, view.width, view.height);
  if (post_messages) PostFaces(self, meta->faces);
  GST_LOG_OBJECT(self, "pts %" G_GINT64_FORMAT ": %zu faces, detector %s", pts,
                 meta->faces.faces.size(), impl.tracker->timings().detector_ran ? "ran" : "idle");
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_TRACK(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->m.settings;
  bool tracker_changed = true;
  switch (id) {
    case PROP_MODELS_DIR: s.models_dir = gst_face_base_models_dir_from_value(value); break;
    case PROP_BACKEND: s.backend = g_value_get_enum(value); break;
    case PROP_MAX_FACES: s.max_faces = g_value_get_int(value); break;
    case PROP_DETECT_INTERVAL: s.detect_interval = g_value_get_int(value); break;
    case PROP_MIN_DETECTION_SCORE: s.min_detection_score = g_value_get_double(value); break;
    case PROP_MIN_PRESENCE: s.min_presence = g_value_get_double(value); break;
    case PROP_IRIS: s.iris = g_value_get_boolean(value); break;
    case PROP_SMOOTHING: s.smoothing = g_value_get_boolean(value); break;
    case PROP_SMOOTHING_MIN_CUTOFF: s.smoothing_min_cutoff = g_value_get_double(value); break;
    case PROP_SMOOTHING_BETA: s.smoothing_beta = g_value_get_double(value); break;
    case PROP_TRACK_GRACE: s.track_grace = g_value_get_double(value); break;
    case PROP_MIN_FACE_SIZE: s.min_face_size = g_value_get_int(value); break;
    case PROP_ZOOM_TILES: s.zoom_tiles = g_value_get_boolean(value); break;
    case PROP_INFERENCE: s.inference = g_value_get_enum(value); break;
    case PROP_STILL_MESH_SKIP: s.still_mesh_skip = g_value_get_int(value); break;
    case PROP_STILL_MOTION: s.still_motion = g_value_get_double(value); break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean(value);
      tracker_changed = false;
      break;
    default:
      tracker_changed = false;
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  if (tracker_changed) ++self->m.revision;
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_TRACK(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    case PROP_BACKEND: g_value_set_enum(value, s.backend); break;
    case PROP_MAX_FACES: g_value_set_int(value, s.max_faces); break;
    case PROP_DETECT_INTERVAL: g_value_set_int(value, s.detect_interval); break;
    case PROP_MIN_DETECTION_SCORE: g_value_set_double(value, s.min_detection_score); break;
    case PROP_MIN_PRESENCE: g_value_set_double(value, s.min_presence); break;
    case PROP_IRIS: g_value_set_boolean(value, s.iris); break;
    case PROP_SMOOTHING: g_value_set_boolean(value, s.smoothing); break;
    case PROP_SMOOTHING_MIN_CUTOFF: g_value_set_double(value, s.smoothing_min_cutoff); break;
    case PROP_SMOOTHING_BETA: g_value_set_double(value, s.smoothing_beta); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_TRACK_GRACE: g_value_set_double(value, s.track_grace); break;
    case PROP_MIN_FACE_SIZE: g_value_set_int(value, s.min_face_size); break;
    case PROP_ZOOM_TILES: g_value_set_boolean(value, s.zoom_tiles); break;
    case PROP_INFERENCE: g_value_set_enum(value, s.inference); break;
    case PROP_STILL_MESH_SKIP: g_value_set_int(value, s.still_mesh_skip); break;
    case PROP_STILL_MOTION: g_value_set_double(value, s.still_motion); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_TRACK(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_track_parent_class)->finalize(object);
}

constexpr auto kFlags = kGstFaceParamFlags;

}  // namespace

static void gst_face_track_class_init(GstFaceTrackClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_track_debug, "facetrack", 0, "facegraph face tracking");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const Settings d;  // the defaults
  gst_face_base_install_models_dir(
      gobject_class, PROP_MODELS_DIR,
      "Folder with the face models (tools/fetch-models); default "
      "$FACEGRAPH_MODELS, else the build's default; \"\" = the default");
  g_object_class_install_property(
      gobject_class, PROP_BACKEND,
      g_param_spec_enum("backend", "Backend", "Neural-network backend",
                        GST_TYPE_FACE_TRACK_BACKEND, d.backend, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MAX_FACES,
      g_param_spec_int("max-faces", "Max faces", "Faces tracked at once", 1, 64, d.max_faces,
                       kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DETECT_INTERVAL,
      g_param_spec_int("detect-interval", "Detect interval",
                       "Frames between detector runs while every track is fine (new faces are "
                       "picked up this often)",
                       1, 100000, d.detect_interval, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MIN_DETECTION_SCORE,
      g_param_spec_double("min-detection-score", "Min detection score",
                          "Detector score threshold", 0.0, 1.0, d.min_detection_score, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MIN_PRESENCE,
      g_param_spec_double("min-presence", "Min presence",
                          "Face-presence score below which a track is lost", 0.0, 1.0,
                          d.min_presence, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_IRIS,
      g_param_spec_boolean("iris", "Iris",
                           "Run the Iris model (10 iris landmarks, refined eyelids)", d.iris,
                           kFlags));
  g_object_class_install_property(
      gobject_class, PROP_SMOOTHING,
      g_param_spec_boolean("smoothing", "Smoothing", "One Euro smoothing of the landmarks",
                           d.smoothing, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_SMOOTHING_MIN_CUTOFF,
      g_param_spec_double("smoothing-min-cutoff", "Smoothing min cut-off",
                          "One Euro minimum cut-off frequency in Hz (lower = smoother)", 0.001,
                          1000.0, d.smoothing_min_cutoff, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_SMOOTHING_BETA,
      g_param_spec_double("smoothing-beta", "Smoothing beta",
                          "One Euro speed coefficient (higher = less lag)", 0.0, 10000.0,
                          d.smoothing_beta, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_TRACK_GRACE,
      g_param_spec_double("track-grace", "Track grace",
                          "Seconds (of timestamps) a lost face keeps its id: a face found again "
                          "within it, or after a gap in the stream shorter than it, is the "
                          "same person",
                          0.0, 3600.0, d.track_grace, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_int("min-face-size", "Min face size",
                       "Smallest face width (pixels) the zoom tiles are sized to find; 0 = "
                       "auto: max(48, longer frame side / 60), i.e. 48 at 1080p, 64 at 4K",
                       0, 4096, d.min_face_size, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_ZOOM_TILES,
      g_param_spec_boolean("zoom-tiles", "Zoom tiles",
                           "Search the frame tile by tile for faces too small for the whole "
                           "frame's detector pass (round robin: one tile per frame with nobody "
                           "in view, three with each periodic detection while tracking)",
                           d.zoom_tiles, kFlags));
  // shared: FaceMesh, BlazeFace and Iris through the process-wide pool of each model (one
  // model, one context per core and one fair schedule for every facetrack of the process);
  // private: the element's own networks (face_tracker.h).
  gst_face_base_install_inference(gobject_class, PROP_INFERENCE);
  g_object_class_install_property(
      gobject_class, PROP_STILL_MESH_SKIP,
      g_param_spec_int("still-mesh-skip", "Still mesh skip",
                       "Frames in a row a still face keeps its last mesh instead of running "
                       "FaceMesh (0: every face every frame; 1: the mesh on alternate frames "
                       "while the face is still, less CPU, but a weaker pulse signal for "
                       "facevitals)",
                       0, 30, d.still_mesh_skip, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_STILL_MOTION,
      g_param_spec_double("still-motion", "Still motion",
                          "A face is still below this landmark motion between its last two "
                          "mesh runs (inter-ocular distances per frame, RMS over the points)",
                          0.0, 1.0, d.still_motion, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message \"facegraph-faces\" (pts, count, ids) per "
                           "frame",
                           d.post_messages, kFlags));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face tracker", "Filter/Analyzer/Video",
      "Detects and tracks faces (box, id, 468-point mesh, iris, head pose) and attaches them "
      "as GstFaceGraphMeta and region-of-interest metas; the video passes through",
      "facegraph");
  gst_type_mark_as_plugin_api(GST_TYPE_FACE_TRACK_BACKEND, static_cast<GstPluginAPIFlags>(0));

  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  trans_class->start = Start;
  trans_class->stop = Stop;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_track_init(GstFaceTrack* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place.
  new (&self->m) Members();
}
