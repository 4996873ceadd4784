#include "plugins/gstfacevitals.h"

#include <atomic>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "engine/geometry/canonical_face.h"
#include "engine/vitals/region_grid.h"
#include "engine/vitals/rppg.h"
#include "engine/vitals/vitals_worker.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_vitals_debug);
#define GST_CAT_DEFAULT gst_face_vitals_debug

namespace {

enum {
  PROP_0,
  PROP_MODELS_DIR,
  PROP_METHOD,
  PROP_WINDOW,
  PROP_MODE,
  PROP_REGION,
  PROP_POST_MESSAGES,
  PROP_BVP,
  PROP_SUBMITTED,
  PROP_PROCESSED,
  PROP_DROPPED,
};

// How long EOS waits for the samples in flight (so the counters are final).
constexpr double kEosWaitS = 1.0;

// The property values. Written by set_property, read by the streaming thread; GST_OBJECT_LOCK.
struct Settings {
  std::string models_dir = gst_face_base_default_models_dir();
  int method = static_cast<int>(fg::VitalsOptions{}.method);
  double window = fg::VitalsOptions{}.window_s;
  int mode = static_cast<int>(fg::VitalsMode::kFace);
  std::string region_text;   // as set
  fg::Box region;            // parsed; {0,0,0,0} = whole frame
  std::string region_error;  // non-empty when region_text does not parse
  bool post_messages = false;
  bool bvp = false;

  fg::VitalsWorkerOptions ToOptions() const {
    fg::VitalsWorkerOptions o;
    o.models_dir = models_dir;
    o.vitals.method = static_cast<fg::RppgMethod>(method);
    o.vitals.window_s = window;
    o.mode = static_cast<fg::VitalsMode>(mode);
    o.region = region;
    return o;
  }
};

struct Counts {
  guint64 submitted = 0, processed = 0, dropped = 0;
};

Counts CountsOf(const fg::VitalsWorkerStats& s) {
  return {s.submitted, s.processed, s.jobs.dropped + s.results.dropped};
}

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  std::unique_ptr<fg::VitalsWorker> worker;
  guint64 revision = 0;  // Members::revision the worker was made from
  Counts base;           // totals of the workers this one replaced
  bool fresh = true;  // nothing submitted yet: a reset has nothing to clear
};

struct Members {
  Settings settings;     // GST_OBJECT_LOCK
  guint64 revision = 1;  // bumped by every worker property change; GST_OBJECT_LOCK
  // Set by FLUSH_STOP and by new caps; consumed by the streaming thread.
  std::atomic<bool> reset_requested{false};
  // Published by the streaming thread after every frame, read by get_property (any thread).
  std::atomic<guint64> submitted{0}, processed{0}, dropped{0};
  std::unique_ptr<Impl> impl;  // created in start(), reset in stop()
};

}  // namespace

struct _GstFaceVitals {
  GstFaceBase parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceVitals, gst_face_vitals, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(facevitals, "facevitals", GST_RANK_NONE, GST_TYPE_FACE_VITALS)

GType gst_face_vitals_method_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<int>(fg::RppgMethod::kGreen), "green channel (Verkruysse 2008)", "green"},
      {static_cast<int>(fg::RppgMethod::kChrom), "chrominance (de Haan 2013)", "chrom"},
      {static_cast<int>(fg::RppgMethod::kPos), "plane orthogonal to skin (Wang 2017)", "pos"},
      {static_cast<int>(fg::RppgMethod::kLgi), "local group invariance (Pilz 2018)", "lgi"},
      {static_cast<int>(fg::RppgMethod::kPbv), "blood-volume pulse signature (de Haan 2014)", "pbv"},
      {static_cast<int>(fg::RppgMethod::kOmit), "orthogonal matrix image transformation (Casado 2023)", "omit"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstFaceVitalsMethod", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_face_vitals_mode_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<int>(fg::VitalsMode::kFace), "every tracked face (needs facetrack upstream)", "face"},
      {static_cast<int>(fg::VitalsMode::kRegion), "a fixed rectangle (property region), as face id 0", "region"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstFaceVitalsMode", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

namespace {

// Creates a worker for `s`; on failure posts the error (naming the property or the file) and
// returns nullptr.
std::unique_ptr<fg::VitalsWorker> MakeWorker(GstFaceVitals* self, const Settings& s) {
  if (!s.region_error.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("%s: property 'region': %s", GST_ELEMENT_NAME(self), s.region_error.c_str()),
                      (nullptr));
    return nullptr;
  }
  std::string error;
  auto worker = fg::VitalsWorker::Create(s.ToOptions(), &error);
  if (worker) {
    GST_INFO_OBJECT(self, "vitals worker ready: mode %s, method %s, window %.1f s",
                    s.mode == static_cast<int>(fg::VitalsMode::kFace) ? "face" : "region",
                    std::string(fg::RppgMethodName(static_cast<fg::RppgMethod>(s.method))).c_str(),
                    s.window);
    return worker;
  }
  if (s.mode == static_cast<int>(fg::VitalsMode::kFace)) {
    const std::string file = s.models_dir + "/" + fg::kCanonicalFaceFile;
    const bool no_dir = !g_file_test(s.models_dir.c_str(), G_FILE_TEST_IS_DIR);
    gchar* text = g_strdup_printf(
        "%s: cannot load the canonical face \"%s\"%s: %s. Run tools/fetch-models, or set "
        "models-dir (or FACEGRAPH_MODELS) to the folder that holds it.",
        GST_ELEMENT_NAME(self), file.c_str(), no_dir ? " (the models folder does not exist)" : "",
        error.c_str());
    gst_element_message_full(GST_ELEMENT(self), GST_MESSAGE_ERROR, GST_RESOURCE_ERROR,
                             no_dir ? GST_RESOURCE_ERROR_NOT_FOUND : GST_RESOURCE_ERROR_OPEN_READ,
                             text, g_strdup(error.c_str()), __FILE__, GST_FUNCTION, __LINE__);
  } else {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s: %s", GST_ELEMENT_NAME(self), error.c_str()),
                      (nullptr));
  }
  return nullptr;
}

// Streaming thread (or start/stop, which never run beside it): the totals for get_property.
void Publish(GstFaceVitals* self, const Impl& impl) {
  Counts c = impl.base;
  if (impl.worker) {
    const Counts now = CountsOf(impl.worker->stats());
    c.submitted += now.submitted;
    c.processed += now.processed;
    c.dropped += now.dropped;
  }
  self->m.submitted.store(c.submitted, std::memory_order_relaxed);
  self->m.processed.store(c.processed, std::memory_order_relaxed);
  self->m.dropped.store(c.dropped, std::memory_order_relaxed);
}

// Retires the current worker into impl.base and installs `next`.
void ReplaceWorker(GstFaceVitals* self, Impl& impl, std::unique_ptr<fg::VitalsWorker> next) {
  if (impl.worker) {
    // Its destructor discards what is queued and finishes the job in hand; their results
    // reach no frame: count everything not yet processed as dropped, from the stats read just
    // before (unreadable once it is gone), so submitted == processed + dropped holds.
    const fg::VitalsWorkerStats s = impl.worker->stats();
    impl.worker.reset();
    Counts c = CountsOf(s);
    const guint64 accounted = s.processed + s.jobs.dropped;
    if (s.jobs.pushed > accounted) c.dropped += s.jobs.pushed - accounted;
    impl.base.submitted += c.submitted;
    impl.base.processed += c.processed;
    impl.base.dropped += c.dropped;
  }
  impl.worker = std::move(next);
  impl.fresh = true;
  Publish(self, impl);
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_VITALS(trans);
  GST_OBJECT_LOCK(self);
  const Settings s = self->m.settings;
  const guint64 revision = self->m.revision;
  GST_OBJECT_UNLOCK(self);
  auto impl = std::make_unique<Impl>();
  impl->worker = MakeWorker(self, s);
  if (!impl->worker) return FALSE;
  impl->revision = revision;
  self->m.reset_requested = false;
  Publish(self, *impl);  // counters restart
  self->m.impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  auto* self = GST_FACE_VITALS(trans);
  if (self->m.impl) ReplaceWorker(self, *self->m.impl, nullptr);  // final counters
  self->m.impl.reset();
  return TRUE;
}

void PostVitals(GstFaceVitals* self, int64_t id, const fg::VitalsResult& r) {
  if (!r.valid) return;  // nothing to say before min_seconds of data
  GstStructure* s = gst_structure_new(
      "facegraph-vitals", "pts", G_TYPE_UINT64,
      r.pts_ns >= 0 ? static_cast<guint64>(r.pts_ns) : GST_CLOCK_TIME_NONE, "id", G_TYPE_INT64,
      static_cast<gint64>(id), "bpm", G_TYPE_DOUBLE, static_cast<double>(r.vitals.bpm), "snr",
      G_TYPE_DOUBLE, static_cast<double>(r.vitals.snr), "confidence", G_TYPE_DOUBLE,
      static_cast<double>(r.vitals.confidence), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

fg::VitalsWorker::UpdateFn Poster(GstFaceVitals* self) {
  return [self](const fg::VitalsUpdate& u) { PostVitals(self, u.id, u.result); };
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_VITALS(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
      GST_DEBUG_OBJECT(self, "flush: the measurement restarts on the next frame");
      self->m.reset_requested = true;
      break;
    case GST_EVENT_EOS:
      // Serialized: we are on the streaming thread, which owns the worker.
      if (Impl* impl = self->m.impl.get(); impl && impl->worker) {
        GST_OBJECT_LOCK(self);
        const bool post_messages = self->m.settings.post_messages;
        GST_OBJECT_UNLOCK(self);
        // The updates still in flight are posted too: a file's last seconds are not lost.
        if (!impl->worker->WaitIdle(kEosWaitS, post_messages ? Poster(self) : nullptr))
          GST_WARNING_OBJECT(self, "EOS: the worker was still busy after %.1f s", kEosWaitS);
        Publish(self, *impl);
      }
      break;
    default: break;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_face_vitals_parent_class)->sink_event(trans, event);
}

gboolean Configure(GstFaceBase* base, const GstVideoInfo*, fg::PixelFormat) {
  // New caps: facetrack restarts its tracks; so do we.
  GST_FACE_VITALS(base)->m.reset_requested = true;
  return TRUE;
}

// Re-creates the worker when a property changed since it was made, or a reset was asked for.
// Returns false (error posted) when the new settings cannot be used.
bool ApplySettings(GstFaceVitals* self, Impl& impl, bool reset, bool* post_messages, bool* bvp) {
  GST_OBJECT_LOCK(self);
  *post_messages = self->m.settings.post_messages;
  *bvp = self->m.settings.bvp;
  if (G_LIKELY(self->m.revision == impl.revision && (!reset || impl.fresh))) {
    GST_OBJECT_UNLOCK(self);
    return true;
  }
  const Settings s = self->m.settings;  // copied only when something changed
  const guint64 revision = self->m.revision;
  GST_OBJECT_UNLOCK(self);

  auto worker = MakeWorker(self, s);
  if (!worker) return false;
  ReplaceWorker(self, impl, std::move(worker));
  impl.revision = revision;
  return true;
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* buffer) {
  auto* self = GST_FACE_VITALS(base);
  Impl& impl = *self->m.impl;
  const bool reset = self->m.reset_requested.exchange(false) ||
                     GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  bool post_messages = false, with_bvp = false;
  if (!ApplySettings(self, impl, reset, &post_messages, &with_bvp)) return GST_FLOW_ERROR;
  fg::VitalsWorker& w = *impl.worker;
  const bool region_mode = w.options().mode == fg::VitalsMode::kRegion;

  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta && !region_mode) {
    GST_LOG_OBJECT(self, "no GstFaceGraphMeta (is facetrack upstream?)");
    return GST_FLOW_OK;
  }
  int64_t pts = meta ? meta->faces.pts_ns : -1;
  if (pts < 0 && GST_BUFFER_PTS_IS_VALID(buffer)) pts = static_cast<int64_t>(GST_BUFFER_PTS(buffer));
  if (pts < 0) pts = g_get_monotonic_time() * 1000;

  if (region_mode) {
    fg::Box measured;
    w.SubmitRegion(view, pts, &measured);
    if (measured.w <= 0 || measured.h <= 0) {
      const fg::Box r = w.options().region;
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("%s: property 'region': %g,%g,%g,%g lies outside the %dx%d frame",
                         GST_ELEMENT_NAME(self), r.x, r.y, r.w, r.h, view.width, view.height),
                        (nullptr));
      return GST_FLOW_ERROR;
    }
    if (!meta) {
      meta = gst_buffer_add_face_graph_meta(buffer);
      meta->faces.pts_ns = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    }
    fg::Face* pseudo = nullptr;
    for (fg::Face& f : meta->faces.faces)
      if (f.id == 0) pseudo = &f;
    if (!pseudo) {
      meta->faces.faces.emplace_back();
      pseudo = &meta->faces.faces.back();
      pseudo->id = 0;
    }
    pseudo->box = measured;
    pseudo->score = 1;
    impl.fresh = false;
  } else {
    for (const fg::Face& f : meta->faces.faces)
      if (f.id >= 0 && w.Submit(view, f, pts)) impl.fresh = false;  // no mesh: counted
  }
  // Messages per update, as they arrive (not per frame): when the worker lags (a file decoded
  // faster than real time) no update is skipped.
  w.Poll(post_messages ? Poster(self) : nullptr);
  for (fg::Face& f : meta->faces.faces) {
    if (f.id < 0 || (region_mode && f.id != 0)) continue;
    const fg::VitalsResult* r = w.Latest(f.id);
    if (r && r->valid) f.vitals = fg::ToVitals(*r, with_bvp);
  }
  w.EndStale(pts);
  Publish(self, impl);
  GST_LOG_OBJECT(self, "pts %" G_GINT64_FORMAT ": %zu faces, %zu vitals tracks", pts,
                 meta->faces.faces.size(), w.tracks());
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_VITALS(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->m.settings;
  bool worker_changed = true;
  switch (id) {
    case PROP_MODELS_DIR: {
      const gchar* dir = g_value_get_string(value);
      s.models_dir = dir && *dir ? dir : gst_face_base_default_models_dir();
      break;
    }
    case PROP_METHOD: s.method = g_value_get_enum(value); break;
    case PROP_WINDOW: s.window = g_value_get_double(value); break;
    case PROP_MODE: s.mode = g_value_get_enum(value); break;
    case PROP_REGION: {
      const gchar* text = g_value_get_string(value);
      s.region_text = text ? text : "";
      std::string error;
      if (auto box = fg::ParseRegion(s.region_text, &error)) {
        s.region = *box;
        s.region_error.clear();
      } else {
        // Reported by the state change (or the next frame): set_property cannot fail.
        s.region_error = error;
        GST_WARNING_OBJECT(self, "property 'region': %s", error.c_str());
      }
      break;
    }
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean(value);
      worker_changed = false;
      break;
    case PROP_BVP:
      s.bvp = g_value_get_boolean(value);
      worker_changed = false;
      break;
    default:
      worker_changed = false;
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  if (worker_changed) ++self->m.revision;
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_VITALS(object);
  const std::atomic<guint64>* counter = nullptr;
  switch (id) {
    case PROP_SUBMITTED: counter = &self->m.submitted; break;
    case PROP_PROCESSED: counter = &self->m.processed; break;
    case PROP_DROPPED: counter = &self->m.dropped; break;
    default: break;
  }
  if (counter) {
    g_value_set_uint64(value, counter->load(std::memory_order_relaxed));
    return;
  }
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    case PROP_METHOD: g_value_set_enum(value, s.method); break;
    case PROP_WINDOW: g_value_set_double(value, s.window); break;
    case PROP_MODE: g_value_set_enum(value, s.mode); break;
    case PROP_REGION: g_value_set_string(value, s.region_text.c_str()); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_BVP: g_value_set_boolean(value, s.bvp); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_VITALS(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_vitals_parent_class)->finalize(object);
}

constexpr auto kFlags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING);
constexpr auto kReadOnly = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

}  // namespace

static void gst_face_vitals_class_init(GstFaceVitalsClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_vitals_debug, "facevitals", 0, "facegraph vitals");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const Settings d;  // the defaults
  g_object_class_install_property(
      gobject_class, PROP_MODELS_DIR,
      g_param_spec_string("models-dir", "Models folder",
                          "Folder with the canonical face (tools/fetch-models), face mode; "
                          "default $FACEGRAPH_MODELS, else the build's default; \"\" = the "
                          "default",
                          FG_MODELS_DEFAULT_DIR, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_METHOD,
      g_param_spec_enum("method", "Method", "rPPG method applied to every patch",
                        GST_TYPE_FACE_VITALS_METHOD, d.method, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_double("window", "Window", "Welch window of the heart rate in seconds", 4.0,
                          30.0, d.window, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode", "What is measured: the tracked faces or a fixed region",
                        GST_TYPE_FACE_VITALS_MODE, d.mode, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_REGION,
      g_param_spec_string("region", "Region",
                          "Region mode: \"x,y,w,h\" in frame pixels; \"\" = the whole frame",
                          "", kFlags));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message \"facegraph-vitals\" (pts, id, bpm, snr, "
                           "confidence) after each update of a track (once a second)",
                           d.post_messages, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_BVP,
      g_param_spec_boolean("bvp", "BVP", "Attach the pulse waveform (bvp, bvp_fs) to the metadata",
                           d.bvp, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_SUBMITTED,
      g_param_spec_uint64("submitted", "Submitted", "Face samples handed to the worker", 0,
                          G_MAXUINT64, 0, kReadOnly));
  g_object_class_install_property(
      gobject_class, PROP_PROCESSED,
      g_param_spec_uint64("processed", "Processed", "Face samples the worker analysed", 0,
                          G_MAXUINT64, 0, kReadOnly));
  g_object_class_install_property(
      gobject_class, PROP_DROPPED,
      g_param_spec_uint64("dropped", "Dropped",
                          "Face samples never analysed (queue full or discarded at a restart) "
                          "plus results not taken in time",
                          0, G_MAXUINT64, 0, kReadOnly));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face vitals", "Filter/Analyzer/Video",
      "Measures the heart rate of each tracked face (after facetrack), or of a fixed region, by "
      "remote photoplethysmography on a worker thread and writes it into GstFaceGraphMeta; the "
      "video passes through",
      "facegraph");

  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  trans_class->start = Start;
  trans_class->stop = Stop;
  trans_class->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->configure = Configure;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_vitals_init(GstFaceVitals* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place.
  new (&self->m) Members();
}
