#include "plugins/gstfaceemotion.h"

#include <atomic>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/emotion/emotion_worker.h"
#include "engine/emotion/face_actions.h"
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
  PROP_SUBMITTED,
  PROP_CLASSIFIED,
  PROP_DROPPED,
};

// How long EOS waits for the crops in flight (so the counters are final).
constexpr double kEosWaitS = 0.5;

// The property values. Written by set_property, read by the streaming thread; GST_OBJECT_LOCK.
struct Settings {
  std::string models_dir = gst_face_base_default_models_dir();
  double rate = 10.0;
  double time_constant = 0.5;
  bool post_messages = false;

  fg::EmotionWorkerOptions ToOptions() const {
    fg::EmotionWorkerOptions o;
    o.models_dir = models_dir;
    o.rate_hz = rate;  // <= 0: every Submit, i.e. every frame
    o.smoothing.time_constant_s = time_constant;
    return o;
  }
};

// Counters of the workers that were already destroyed (re-creation), plus the current one.
struct Counts {
  guint64 submitted = 0, classified = 0, dropped = 0;
};

Counts CountsOf(const fg::EmotionWorkerStats& s) {
  return {s.submitted, s.classified, s.jobs.dropped + s.results.dropped};
}

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  std::unique_ptr<fg::EmotionWorker> worker;
  guint64 revision = 0;  // Members::revision the worker was made from
  Counts base;           // totals of the workers this one replaced
  // The label last posted per track (post-messages); entries go with their track.
  std::unordered_map<int64_t, int> posted;
  // Facial action measures per track, from the mesh: cheap, on the streaming thread.
  fg::FaceActionTracks actions;
  bool fresh = true;  // no crop submitted yet: a reset has nothing to clear
};

struct Members {
  Settings settings;     // GST_OBJECT_LOCK
  guint64 revision = 1;  // bumped by every worker property change; GST_OBJECT_LOCK
  // Set by FLUSH_STOP (whichever thread sends it) and by new caps; consumed by the streaming
  // thread, which re-creates the worker.
  std::atomic<bool> reset_requested{false};
  // Published by the streaming thread after every frame, read by get_property (any thread).
  std::atomic<guint64> submitted{0}, classified{0}, dropped{0};
  std::unique_ptr<Impl> impl;  // created in start(), reset in stop()
};

}  // namespace

struct _GstFaceEmotion {
  GstFaceBase parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceEmotion, gst_face_emotion, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(faceemotion, "faceemotion", GST_RANK_NONE, GST_TYPE_FACE_EMOTION)

namespace {

// Creates a worker for `s`; on failure posts the error (naming the file) and returns nullptr.
std::unique_ptr<fg::EmotionWorker> MakeWorker(GstFaceEmotion* self, const Settings& s) {
  std::string error;
  auto worker = fg::EmotionWorker::Create(s.ToOptions(), &error);
  if (worker) {
    GST_INFO_OBJECT(self, "emotion worker ready: %s/emotion.json, rate %.2f Hz, tau %.2f s",
                    s.models_dir.c_str(), s.rate, s.time_constant);
    return worker;
  }
  const std::string file = s.models_dir + "/emotion.json";
  if (!g_file_test(s.models_dir.c_str(), G_FILE_TEST_IS_DIR)) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("%s: the models folder \"%s\" does not exist, so \"%s\" cannot be "
                       "loaded. Run tools/fetch-models, or set models-dir (or "
                       "FACEGRAPH_MODELS) to the folder that holds the models.",
                       GST_ELEMENT_NAME(self), s.models_dir.c_str(), file.c_str()),
                      ("%s", error.c_str()));
  } else {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                      ("%s: cannot load the emotion model \"%s\": %s. Run tools/fetch-models "
                       "to download it again, or set models-dir (or FACEGRAPH_MODELS) to a "
                       "folder that holds it.",
                       GST_ELEMENT_NAME(self), file.c_str(), error.c_str()),
                      ("%s", error.c_str()));
  }
  return nullptr;
}

// Streaming thread (or start/stop, which never run beside it): the totals for get_property.
void Publish(GstFaceEmotion* self, const Impl& impl) {
  Counts c = impl.base;
  if (impl.worker) {
    const Counts now = CountsOf(impl.worker->stats());
    c.submitted += now.submitted;
    c.classified += now.classified;
    c.dropped += now.dropped;
  }
  self->m.submitted.store(c.submitted, std::memory_order_relaxed);
  self->m.classified.store(c.classified, std::memory_order_relaxed);
  self->m.dropped.store(c.dropped, std::memory_order_relaxed);
}

// Retires the current worker into impl.base and installs `next`.
void ReplaceWorker(GstFaceEmotion* self, Impl& impl, std::unique_ptr<fg::EmotionWorker> next) {
  if (impl.worker) {
    // Its destructor discards the queued crops and finishes the one being run; none of their
    // results can reach a frame, so all of them count as dropped, here, from the stats read
    // just before (they are unreadable once it is gone). So submitted == classified + dropped
    // (+ failed runs) holds across re-creations.
    fg::EmotionWorkerStats s = impl.worker->stats();
    impl.worker.reset();
    Counts c = CountsOf(s);
    const guint64 accounted = s.classified + s.failed + s.jobs.dropped;
    if (s.jobs.pushed > accounted) c.dropped += s.jobs.pushed - accounted;
    impl.base.submitted += c.submitted;
    impl.base.classified += c.classified;
    impl.base.dropped += c.dropped;
  }
  impl.worker = std::move(next);
  impl.posted.clear();
  impl.fresh = true;
  Publish(self, impl);
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_EMOTION(trans);
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
  auto* self = GST_FACE_EMOTION(trans);
  if (self->m.impl) ReplaceWorker(self, *self->m.impl, nullptr);  // final counters
  self->m.impl.reset();
  return TRUE;
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_EMOTION(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
      GST_DEBUG_OBJECT(self, "flush: emotion state restarts on the next frame");
      self->m.reset_requested = true;
      break;
    case GST_EVENT_EOS:
      // Serialized: we are on the streaming thread, which owns the worker. Let the crops in
      // flight finish so that the counters are final; their results belong to no frame.
      if (Impl* impl = self->m.impl.get(); impl && impl->worker) {
        if (!impl->worker->WaitIdle(kEosWaitS))
          GST_WARNING_OBJECT(self, "EOS: the worker was still busy after %.1f s", kEosWaitS);
        Publish(self, *impl);
      }
      break;
    default: break;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_face_emotion_parent_class)->sink_event(trans, event);
}

gboolean Configure(GstFaceBase* base, const GstVideoInfo*, fg::PixelFormat) {
  // New caps: facetrack restarts its tracks; so do we.
  GST_FACE_EMOTION(base)->m.reset_requested = true;
  return TRUE;
}

// Re-creates the worker when a property changed since it was made, or a reset was asked for.
// Returns false (error posted) when the new settings cannot be loaded.
bool ApplySettings(GstFaceEmotion* self, Impl& impl, bool reset, bool* post_messages) {
  GST_OBJECT_LOCK(self);
  *post_messages = self->m.settings.post_messages;
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

void PostLabel(GstFaceEmotion* self, const fg::EmotionState& st, int64_t pts) {
  GstStructure* s = gst_structure_new(
      "facegraph-emotion", "pts", G_TYPE_UINT64,
      pts >= 0 ? static_cast<guint64>(pts) : GST_CLOCK_TIME_NONE, "id", G_TYPE_INT64,
      static_cast<gint64>(st.id), "label", G_TYPE_STRING,
      std::string(fg::kEmotionNames[st.label]).c_str(), "confidence", G_TYPE_DOUBLE,
      static_cast<double>(st.confidence), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* buffer) {
  auto* self = GST_FACE_EMOTION(base);
  Impl& impl = *self->m.impl;
  const bool reset = self->m.reset_requested.exchange(false) ||
                     GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  bool post_messages = false;
  if (!ApplySettings(self, impl, reset, &post_messages)) return GST_FLOW_ERROR;
  if (reset) impl.actions = fg::FaceActionTracks();  // timestamps may go back: start over

  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta) {
    GST_LOG_OBJECT(self, "no GstFaceGraphMeta (is facetrack upstream?)");
    return GST_FLOW_OK;
  }
  fg::EmotionWorker& w = *impl.worker;
  // The rate check, smoothing and stale timeout run on pts; without one, on the clock.
  int64_t pts = meta->faces.pts_ns;
  if (pts < 0 && GST_BUFFER_PTS_IS_VALID(buffer))
    pts = static_cast<int64_t>(GST_BUFFER_PTS(buffer));
  if (pts < 0) pts = g_get_monotonic_time() * 1000;

  for (const fg::Face& f : meta->faces.faces)
    if (f.id >= 0 && w.Submit(view, f, pts)) impl.fresh = false;  // no mesh: crop_failed
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
  Publish(self, impl);
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
    case PROP_MODELS_DIR: {
      const gchar* dir = g_value_get_string(value);
      s.models_dir = dir && *dir ? dir : gst_face_base_default_models_dir();
      break;
    }
    case PROP_RATE: s.rate = g_value_get_double(value); break;
    case PROP_TIME_CONSTANT: s.time_constant = g_value_get_double(value); break;
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
  const std::atomic<guint64>* counter = nullptr;
  switch (id) {
    case PROP_SUBMITTED: counter = &self->m.submitted; break;
    case PROP_CLASSIFIED: counter = &self->m.classified; break;
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
    case PROP_RATE: g_value_set_double(value, s.rate); break;
    case PROP_TIME_CONSTANT: g_value_set_double(value, s.time_constant); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_EMOTION(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_emotion_parent_class)->finalize(object);
}

constexpr auto kFlags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING);
constexpr auto kReadOnly = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

}  // namespace

static void gst_face_emotion_class_init(GstFaceEmotionClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_emotion_debug, "faceemotion", 0, "facegraph emotion");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const Settings d;  // the defaults
  g_object_class_install_property(
      gobject_class, PROP_MODELS_DIR,
      g_param_spec_string("models-dir", "Models folder",
                          "Folder with emotion.json (tools/fetch-models); default "
                          "$FACEGRAPH_MODELS, else the build's default; \"\" = the default",
                          FG_MODELS_DEFAULT_DIR, kFlags));
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
  g_object_class_install_property(
      gobject_class, PROP_SUBMITTED,
      g_param_spec_uint64("submitted", "Submitted", "Face crops handed to the worker", 0,
                          G_MAXUINT64, 0, kReadOnly));
  g_object_class_install_property(
      gobject_class, PROP_CLASSIFIED,
      g_param_spec_uint64("classified", "Classified", "Face crops the worker classified", 0,
                          G_MAXUINT64, 0, kReadOnly));
  g_object_class_install_property(
      gobject_class, PROP_DROPPED,
      g_param_spec_uint64("dropped", "Dropped",
                          "Face crops never classified (newer ones kept) plus results not "
                          "taken in time",
                          0, G_MAXUINT64, 0, kReadOnly));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face emotion", "Filter/Analyzer/Video",
      "Classifies the emotion of each tracked face (after facetrack) on a worker thread and "
      "writes the smoothed label and scores into GstFaceGraphMeta; the video passes through",
      "facegraph");

  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  trans_class->start = Start;
  trans_class->stop = Stop;
  trans_class->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->configure = Configure;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_emotion_init(GstFaceEmotion* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place.
  new (&self->m) Members();
}
