#include "plugins/gstfacevitals.h"

#include <memory>
#include <new>
#include <string>
#include <utility>

#include "engine/geometry/canonical_face.h"
#include "engine/vitals/region_grid.h"
#include "engine/vitals/rppg.h"
#include "engine/vitals/vitals_worker.h"
#include "plugins/gstfaceengine.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_vitals_debug);
#define GST_CAT_DEFAULT gst_face_vitals_debug

namespace {

enum {
  PROP_0,
  PROP_MODELS_DIR,
  PROP_METHOD,
  PROP_WINDOW,
  PROP_SUBHARMONIC,
  PROP_MODE,
  PROP_REGION,
  PROP_POST_MESSAGES,
  PROP_BVP,
  PROP_LOSSLESS,
  // The counters: consecutive, in this order (fg::gst::PublishedCounts::Get).
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
  double subharmonic = fg::VitalsOptions{}.subharmonic_ratio;
  int mode = static_cast<int>(fg::VitalsMode::kFace);
  std::string region_text;   // as set
  fg::Box region;            // parsed; {0,0,0,0} = whole frame
  std::string region_error;  // non-empty when region_text does not parse
  bool post_messages = false;
  bool bvp = false;
  bool lossless = false;

  fg::VitalsWorkerOptions ToOptions() const {
    fg::VitalsWorkerOptions o;
    o.models_dir = models_dir;
    o.vitals.method = static_cast<fg::RppgMethod>(method);
    o.vitals.window_s = window;
    o.vitals.subharmonic_ratio = subharmonic;
    o.mode = static_cast<fg::VitalsMode>(mode);
    o.region = region;
    o.lossless = lossless;
    return o;
  }
};

// How the worker is made and counted (fg::gst::WorkerSlot).
struct WorkerTraits {
  using Worker = fg::VitalsWorker;
  static fg::gst::WorkerCounts Counts(const fg::VitalsWorkerStats& s) {
    return {s.submitted, s.processed, s.jobs.dropped + s.results.dropped};
  }
  static guint64 Finished(const fg::VitalsWorkerStats& s) { return s.processed; }
  // On failure posts the error (naming the property or the file) and returns nullptr.
  static std::unique_ptr<Worker> Make(GstElement* self, const Settings& s);
};

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  fg::gst::WorkerSlot<WorkerTraits> slot;  // the worker; `fresh` until a sample is submitted

  void Installed() {}  // all per-track state is the worker's
};

// The settings (GST_OBJECT_LOCK), the published counters and the Impl.
using Members = fg::gst::WorkerMembers<Settings, Impl>;

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

std::unique_ptr<fg::VitalsWorker> WorkerTraits::Make(GstElement* self, const Settings& s) {
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
    const auto text = [&](const char* why) {
      return "cannot load the canonical face \"" + file + "\"" + why + ": " + error +
             ". Run tools/fetch-models, or set models-dir (or FACEGRAPH_MODELS) to the folder "
             "that holds it.";
    };
    gst_face_base_post_models_error(self, s.models_dir,
                                    text(" (the models folder does not exist)"), text(""), error);
  } else {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s: %s", GST_ELEMENT_NAME(self), error.c_str()),
                      (nullptr));
  }
  return nullptr;
}

gboolean Start(GstBaseTransform* trans) {
  return fg::gst::StartWorker(GST_ELEMENT(trans), GST_FACE_VITALS(trans)->m);
}

gboolean Stop(GstBaseTransform* trans) {
  fg::gst::StopWorker(GST_FACE_VITALS(trans)->m);
  return TRUE;
}

void PostVitals(GstFaceVitals* self, int64_t id, const fg::VitalsResult& r) {
  if (!r.valid) return;  // nothing to say before min_seconds of data
  GstStructure* s = gst_structure_new(
      "facegraph-vitals", "pts", G_TYPE_UINT64, gst_face_base_clock_time(r.pts_ns), "id",
      G_TYPE_INT64, static_cast<gint64>(id), "bpm", G_TYPE_DOUBLE,
      static_cast<double>(r.vitals.bpm), "snr", G_TYPE_DOUBLE, static_cast<double>(r.vitals.snr),
      "confidence", G_TYPE_DOUBLE, static_cast<double>(r.vitals.confidence), nullptr);
  // The whole session so far (vitals_estimator.h), once it has a spectrum.
  if (r.session.valid)
    gst_structure_set(s, "session_bpm", G_TYPE_DOUBLE, static_cast<double>(r.session.bpm),
                      "session_confidence", G_TYPE_DOUBLE, static_cast<double>(r.session.confidence),
                      nullptr);
  gst_face_base_post_element_message(GST_ELEMENT(self), s);
}

fg::VitalsWorker::UpdateFn Poster(GstFaceVitals* self) {
  return [self](const fg::VitalsUpdate& u) { PostVitals(self, u.id, u.result); };
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_VITALS(trans);
  // FLUSH_STOP and new caps restart the measurement: GstFaceBase records them.
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    GST_OBJECT_LOCK(self);
    const bool post_messages = self->m.settings.post_messages;
    GST_OBJECT_UNLOCK(self);
    // Let the samples in flight finish so that the counters are final. The updates still in
    // flight are posted too: a file's last seconds are not lost.
    if (!fg::gst::FinishWorker(self->m, kEosWaitS, post_messages ? Poster(self) : nullptr))
      GST_WARNING_OBJECT(self, "EOS: the worker was still busy after %.1f s", kEosWaitS);
  }
  return GST_BASE_TRANSFORM_CLASS(gst_face_vitals_parent_class)->sink_event(trans, event);
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* buffer) {
  auto* self = GST_FACE_VITALS(base);
  Impl& impl = *self->m.impl;
  const bool restart = gst_face_base_take_restart(base, buffer);
  bool post_messages = false, with_bvp = false;
  if (!fg::gst::ApplyWorkerSettings(GST_ELEMENT(self), self->m, restart, [&](const Settings& s) {
        post_messages = s.post_messages;
        with_bvp = s.bvp;
      }))
    return GST_FLOW_ERROR;
  fg::VitalsWorker& w = *impl.slot.worker;
  const bool region_mode = w.options().mode == fg::VitalsMode::kRegion;

  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta && !region_mode) {
    GST_LOG_OBJECT(self, "no GstFaceGraphMeta (is facetrack upstream?)");
    return GST_FLOW_OK;
  }
  const int64_t pts = gst_face_base_frame_time_ns(buffer, meta ? meta->faces.pts_ns : -1);

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
    impl.slot.fresh = false;
  } else {
    for (const fg::Face& f : meta->faces.faces)
      if (f.id >= 0 && w.Submit(view, f, pts)) impl.slot.fresh = false;  // no mesh: counted
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
  self->m.Publish();
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
    case PROP_MODELS_DIR: s.models_dir = gst_face_base_models_dir_from_value(value); break;
    case PROP_METHOD: s.method = g_value_get_enum(value); break;
    case PROP_WINDOW: s.window = g_value_get_double(value); break;
    case PROP_SUBHARMONIC: s.subharmonic = g_value_get_double(value); break;
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
    case PROP_LOSSLESS: s.lossless = g_value_get_boolean(value); break;
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
  // The counters are atomics published by the streaming thread: no lock.
  if (self->m.counts.Get(id, PROP_SUBMITTED, value)) return;
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    case PROP_METHOD: g_value_set_enum(value, s.method); break;
    case PROP_WINDOW: g_value_set_double(value, s.window); break;
    case PROP_SUBHARMONIC: g_value_set_double(value, s.subharmonic); break;
    case PROP_MODE: g_value_set_enum(value, s.mode); break;
    case PROP_REGION: g_value_set_string(value, s.region_text.c_str()); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_BVP: g_value_set_boolean(value, s.bvp); break;
    case PROP_LOSSLESS: g_value_set_boolean(value, s.lossless); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_VITALS(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_vitals_parent_class)->finalize(object);
}

constexpr auto kFlags = kGstFaceParamFlags;

}  // namespace

static void gst_face_vitals_class_init(GstFaceVitalsClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_vitals_debug, "facevitals", 0, "facegraph vitals");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const Settings d;  // the defaults
  gst_face_base_install_models_dir(
      gobject_class, PROP_MODELS_DIR,
      "Folder with the canonical face (tools/fetch-models), face mode; "
      "default $FACEGRAPH_MODELS, else the build's default; \"\" = the "
      "default");
  g_object_class_install_property(
      gobject_class, PROP_METHOD,
      g_param_spec_enum("method", "Method", "rPPG method applied to every patch",
                        GST_TYPE_FACE_VITALS_METHOD, d.method, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_WINDOW,
      g_param_spec_double("window", "Window", "Welch window of the heart rate in seconds", 4.0,
                          30.0, d.window, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_SUBHARMONIC,
      g_param_spec_double("subharmonic-ratio", "Sub-harmonic ratio",
                          "A peak at f/2 or f/3 holding at least this share of the winner's power "
                          "is taken as the fundamental (engine/vitals/rppg.h FindPulsePeak); 0 = off",
                          0.0, 1.0, d.subharmonic, kFlags));
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
                           "confidence, session_bpm, session_confidence) after each update of "
                           "a track (once a second)",
                           d.post_messages, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_BVP,
      g_param_spec_boolean("bvp", "BVP", "Attach the pulse waveform (bvp, bvp_fs) to the metadata",
                           d.bvp, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_LOSSLESS,
      g_param_spec_boolean("lossless", "Lossless",
                           "Analyse every frame: when the worker lags, the streaming thread waits "
                           "for it instead of dropping the oldest samples (files decoded faster "
                           "than real time; keep false for a live source)",
                           d.lossless, kFlags));
  gst_face_base_install_counter(gobject_class, PROP_SUBMITTED, "submitted", "Submitted",
                                "Face samples handed to the worker");
  gst_face_base_install_counter(gobject_class, PROP_PROCESSED, "processed", "Processed",
                                "Face samples the worker analysed");
  gst_face_base_install_counter(gobject_class, PROP_DROPPED, "dropped", "Dropped",
                                "Face samples never analysed (queue full or discarded at a "
                                "restart) plus results not taken in time");

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
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_vitals_init(GstFaceVitals* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place.
  new (&self->m) Members();
}
