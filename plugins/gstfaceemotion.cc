#include "plugins/gstfaceemotion.h"

#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/emotion/emotion_worker.h"
#include "engine/emotion/face_actions.h"
#include "plugins/gstfaceengine.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_emotion_debug);
#define GST_CAT_DEFAULT gst_face_emotion_debug

namespace {

enum {
  PROP_0,
  PROP_MODELS_DIR,
  PROP_RATE,
  PROP_TIME_CONSTANT,
  PROP_POST_MESSAGES,
  PROP_INFERENCE,
  // The counters: consecutive, in this order (fg::gst::PublishedCounts::Get).
  PROP_SUBMITTED,
  PROP_CLASSIFIED,
  PROP_DROPPED,
};

// How long EOS waits for the crops in flight (so the counters are final). A bound for a worker
// that hangs, not a latency: the wait ends as soon as the crops are done. It allows a full
// queue on a CPU far slower than a desktop core (a small board, or qemu in tools/arm64-check,
// where 0.5 s did not cover the first crop).
constexpr double kEosWaitS = 5.0;

// The property values. Written by set_property, read by the streaming thread; GST_OBJECT_LOCK.
struct Settings {
  std::string models_dir = gst_face_base_default_models_dir();
  double rate = 10.0;
  double time_constant = 0.5;
  bool post_messages = false;
  gint inference = GST_FACE_INFERENCE_SHARED;

  fg::EmotionWorkerOptions ToOptions() const {
    fg::EmotionWorkerOptions o;
    o.models_dir = models_dir;
    o.inference = inference == GST_FACE_INFERENCE_PRIVATE ? fg::Inference::kPrivate
                                                          : fg::Inference::kShared;
    o.rate_hz = rate;  // <= 0: every Submit, i.e. every frame
    o.smoothing.time_constant_s = time_constant;
    return o;
  }
};

// How the worker is made and counted (fg::gst::WorkerSlot).
struct WorkerTraits {
  using Worker = fg::EmotionWorker;
  static fg::gst::WorkerCounts Counts(const fg::EmotionWorkerStats& s) {
    return {s.submitted, s.classified, s.jobs.dropped + s.results.dropped};
  }
  static guint64 Finished(const fg::EmotionWorkerStats& s) { return s.classified + s.failed; }
  // On failure posts the error (naming the file) and returns nullptr.
  static std::unique_ptr<Worker> Make(GstElement* self, const Settings& s);
};

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  fg::gst::WorkerSlot<WorkerTraits> slot;  // the worker; `fresh` until a crop is submitted
  // The label last posted per track (post-messages); entries go with their track.
  std::unordered_map<int64_t, int> posted;
  // Facial action measures per track, from the mesh: cheap, on the streaming thread.
  fg::FaceActionTracks actions;

  void Installed() { posted.clear(); }  // a new worker: its tracks start without a label
};

// The settings (GST_OBJECT_LOCK), the published counters and the Impl.
using Members = fg::gst::WorkerMembers<Settings, Impl>;

}  // namespace

struct _GstFaceEmotion {
  GstFaceBase parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceEmotion, gst_face_emotion, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(faceemotion, "faceemotion", GST_RANK_NONE, GST_TYPE_FACE_EMOTION)

namespace {

std::unique_ptr<fg::EmotionWorker> WorkerTraits::Make(GstElement* self, const Settings& s) {
  std::string error;
  auto worker = fg::EmotionWorker::Create(s.ToOptions(), &error);
  if (worker) {
    GST_INFO_OBJECT(self, "emotion worker ready: %s/emotion.json, rate %.2f Hz, tau %.2f s, %s inference",
                    s.models_dir.c_str(), s.rate, s.time_constant,
                    fg::InferenceName(s.ToOptions().inference));
    return worker;
  }
  const std::string file = s.models_dir + "/emotion.json";
  gst_face_base_post_models_error(
      self, s.models_dir,
      "the models folder \"" + s.models_dir + "\" does not exist, so \"" + file +
          "\" cannot be loaded. Run tools/fetch-models, or set models-dir (or "
          "FACEGRAPH_MODELS) to the folder that holds the models.",
      "cannot load the emotion model \"" + file + "\": " + error +
          ". Run tools/fetch-models to download it again, or set models-dir (or "
          "FACEGRAPH_MODELS) to a folder that holds it.",
      error);
  return nullptr;
}

gboolean Start(GstBaseTransform* trans) {
  return fg::gst::StartWorker(GST_ELEMENT(trans), GST_FACE_EMOTION(trans)->m);
}

gboolean Stop(GstBaseTransform* trans) {
  fg::gst::StopWorker(GST_FACE_EMOTION(trans)->m);
  return TRUE;
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_EMOTION(trans);
  // FLUSH_STOP and new caps restart the emotion state: GstFaceBase records them.
  // EOS: let the crops in flight finish so that the counters are final; their results belong
  // to no frame.
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && !fg::gst::FinishWorker(self->m, kEosWaitS))
    GST_WARNING_OBJECT(self, "EOS: the worker was still busy after %.1f s", kEosWaitS);
  return GST_BASE_TRANSFORM_CLASS(gst_face_emotion_parent_class)->sink_event(trans, event);
}

void PostLabel(GstFaceEmotion* self, const fg::EmotionState& st, int64_t pts) {
  GstStructure* s = gst_structure_new(
      "facegraph-emotion", "pts", G_TYPE_UINT64, gst_face_base_clock_time(pts), "id",
      G_TYPE_INT64, static_cast<gint64>(st.id), "label", G_TYPE_STRING,
      std::string(fg::kEmotionNames[st.label]).c_str(), "confidence", G_TYPE_DOUBLE,
      static_cast<double>(st.confidence), nullptr);
  gst_face_base_post_element_message(GST_ELEMENT(self), s);
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* buffer) {
  auto* self = GST_FACE_EMOTION(base);
  Impl& impl = *self->m.impl;
  const bool restart = gst_face_base_take_restart(base, buffer);
  bool post_messages = false;
  if (!fg::gst::ApplyWorkerSettings(GST_ELEMENT(self), self->m, restart,
                                    [&](const Settings& s) { post_messages = s.post_messages; }))
    return GST_FLOW_ERROR;
  if (restart) impl.actions = fg::FaceActionTracks();  // timestamps may go back: start over

  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta) {
    GST_LOG_OBJECT(self, "no GstFaceGraphMeta (is facetrack upstream?)");
    return GST_FLOW_OK;
  }
  fg::EmotionWorker& w = *impl.slot.worker;
  // The rate check, smoothing and stale timeout run on pts; without one, on the clock.
  const int64_t pts = gst_face_base_frame_time_ns(buffer, meta->faces.pts_ns);

  for (const fg::Face& f : meta->faces.faces)
    if (f.id >= 0 && w.Submit(view, f, pts)) impl.slot.fresh = false;  // no mesh: crop_failed
  w.Poll();
  for (fg::Face& f : meta->faces.faces) {
    if (f.id >= 0)
      if (const fg::FaceActions* a = impl.actions.Update(f, pts)) a->ToMap(&f.actions);
    const fg::EmotionState* st = f.id >= 0 ? w.Latest(f.id) : nullptr;
    if (!st || st->label < 0) continue;
    f.emotion = st->ToEmotion();
    if (post_messages) {
      auto [it, inserted] = impl.posted.try_emplace(f.id, st->label);
      if (inserted || it->second != st->label) {
        it->second = st->label;
        PostLabel(self, *st, pts);
      }
    }
  }
  impl.actions.EndStale(pts);
  if (w.EndStale(pts) > 0 || impl.posted.size() > w.tracks()) {
    for (auto it = impl.posted.begin(); it != impl.posted.end();)
      it = w.Latest(it->first) ? std::next(it) : impl.posted.erase(it);
  }
  self->m.Publish();
  GST_LOG_OBJECT(self, "pts %" G_GINT64_FORMAT ": %zu faces, %zu emotion tracks", pts,
                 meta->faces.faces.size(), w.tracks());
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_EMOTION(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->m.settings;
  bool worker_changed = true;
  switch (id) {
    case PROP_MODELS_DIR: s.models_dir = gst_face_base_models_dir_from_value(value); break;
    case PROP_RATE: s.rate = g_value_get_double(value); break;
    case PROP_TIME_CONSTANT: s.time_constant = g_value_get_double(value); break;
    case PROP_INFERENCE: s.inference = g_value_get_enum(value); break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean(value);
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
  auto* self = GST_FACE_EMOTION(object);
  // The counters are atomics published by the streaming thread: no lock.
  if (self->m.counts.Get(id, PROP_SUBMITTED, value)) return;
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    case PROP_RATE: g_value_set_double(value, s.rate); break;
    case PROP_TIME_CONSTANT: g_value_set_double(value, s.time_constant); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_INFERENCE: g_value_set_enum(value, s.inference); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_EMOTION(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_emotion_parent_class)->finalize(object);
}

constexpr auto kFlags = kGstFaceParamFlags;

}  // namespace

static void gst_face_emotion_class_init(GstFaceEmotionClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_emotion_debug, "faceemotion", 0, "facegraph emotion");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const Settings d;  // the defaults
  gst_face_base_install_models_dir(
      gobject_class, PROP_MODELS_DIR,
      "Folder with emotion.json (tools/fetch-models); default "
      "$FACEGRAPH_MODELS, else the build's default; \"\" = the default");
  g_object_class_install_property(
      gobject_class, PROP_RATE,
      g_param_spec_double("rate", "Rate",
                          "Maximum classifications per track per second (0 = every frame)", 0.0,
                          1000.0, d.rate, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_TIME_CONSTANT,
      g_param_spec_double("time-constant", "Time constant",
                          "Smoothing time constant of the class probabilities in seconds "
                          "(0 = no smoothing)",
                          0.0, 60.0, d.time_constant, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message \"facegraph-emotion\" (pts, id, label, "
                           "confidence) when a track's label changes",
                           d.post_messages, kFlags));
  gst_face_base_install_inference(gobject_class, PROP_INFERENCE);
  gst_face_base_install_counter(gobject_class, PROP_SUBMITTED, "submitted", "Submitted",
                                "Face crops handed to the worker");
  gst_face_base_install_counter(gobject_class, PROP_CLASSIFIED, "classified", "Classified",
                                "Face crops the worker classified");
  gst_face_base_install_counter(gobject_class, PROP_DROPPED, "dropped", "Dropped",
                                "Face crops never classified (newer ones kept) plus results "
                                "not taken in time");

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face emotion", "Filter/Analyzer/Video",
      "Classifies the emotion of each tracked face (after facetrack) on a worker thread and "
      "writes the smoothed label and scores into GstFaceGraphMeta; the video passes through",
      "facegraph");

  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  trans_class->start = Start;
  trans_class->stop = Stop;
  trans_class->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_emotion_init(GstFaceEmotion* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place.
  new (&self->m) Members();
}
