#include "plugins/gstfaceliveness.h"

#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/emotion/face_actions.h"
#include "engine/liveness/challenge.h"
#include "engine/liveness/liveness_worker.h"
#include "plugins/gstfaceengine.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_liveness_debug);
#define GST_CAT_DEFAULT gst_face_liveness_debug

namespace {

enum {
  PROP_0,
  PROP_MODELS_DIR,
  PROP_PASSIVE,
  PROP_RATE,
  PROP_TIME_CONSTANT,
  PROP_REAL_THRESHOLD,
  PROP_LIVE_THRESHOLD,
  PROP_CHALLENGE,
  PROP_CHALLENGE_TIMEOUT,
  PROP_TURN_ANGLE,
  PROP_SMILE_THRESHOLD,
  PROP_POST_MESSAGES,
  PROP_INFERENCE,
  // The counters: consecutive, in this order (fg::gst::PublishedCounts::Get).
  PROP_SUBMITTED,
  PROP_CLASSIFIED,
  PROP_DROPPED,
};

constexpr double kEosWaitS = 1.0;

// The property values. Written by set_property, read by the streaming thread; GST_OBJECT_LOCK.
struct Settings {
  // Worker settings (a change re-creates the worker: `revision`).
  std::string models_dir = gst_face_base_default_models_dir();
  double rate = 5.0;
  double time_constant = 1.0;
  double real_threshold = 0.5;
  double live_threshold = 0.5;
  gint inference = GST_FACE_INFERENCE_SHARED;
  // Element settings, read per frame.
  bool passive = true;
  bool post_messages = false;
  // Challenge settings (a change restarts the challenges: `challenge_revision`).
  std::string challenge;                      // as set
  std::vector<fg::ChallengeStep> steps;       // parsed; empty = no challenge
  std::string challenge_error;                // why `challenge` could not be parsed
  double challenge_timeout = 5.0;
  double turn_angle = 15.0;
  double smile_threshold = 0.4;  // fg::ChallengeOptions::smile_min
  guint64 challenge_revision = 1;

  fg::LivenessWorkerOptions ToOptions() const {
    fg::LivenessWorkerOptions o;
    o.models_dir = models_dir;
    o.rate_hz = rate;
    o.inference = inference == GST_FACE_INFERENCE_PRIVATE ? fg::Inference::kPrivate
                                                          : fg::Inference::kShared;
    o.smoothing.time_constant_s = time_constant;
    o.smoothing.real_threshold = static_cast<float>(real_threshold);
    o.smoothing.live_threshold = static_cast<float>(live_threshold);
    return o;
  }
  fg::ChallengeOptions ToChallenge() const {
    fg::ChallengeOptions c;
    c.steps = steps;
    c.timeout_s = challenge_timeout;
    c.turn_deg = static_cast<float>(turn_angle);
    c.smile_min = static_cast<float>(smile_threshold);
    return c;
  }
};

struct WorkerTraits {
  using Worker = fg::LivenessWorker;
  static fg::gst::WorkerCounts Counts(const fg::LivenessWorkerStats& s) {
    return {s.submitted, s.classified, s.jobs.dropped + s.results.dropped};
  }
  static guint64 Finished(const fg::LivenessWorkerStats& s) { return s.classified + s.failed; }
  static std::unique_ptr<Worker> Make(GstElement* self, const Settings& s);
};

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  fg::gst::WorkerSlot<WorkerTraits> slot;
  fg::FaceActionTracks actions;                 // blinks and smile, from the mesh
  std::unique_ptr<fg::ChallengeTracks> checks;  // null: no challenge
  guint64 challenge_revision = 0;               // the settings the checks were made from
  std::string challenge_error;
  // The decision last posted per track (post-messages).
  std::unordered_map<int64_t, std::string> posted;

  void Installed() { posted.clear(); }
};

using Members = fg::gst::WorkerMembers<Settings, Impl>;

}  // namespace

struct _GstFaceLiveness {
  GstFaceBase parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceLiveness, gst_face_liveness, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(faceliveness, "faceliveness", GST_RANK_NONE, GST_TYPE_FACE_LIVENESS)

namespace {

std::unique_ptr<fg::LivenessWorker> WorkerTraits::Make(GstElement* self, const Settings& s) {
  std::string error;
  auto worker = fg::LivenessWorker::Create(s.ToOptions(), &error);
  if (worker) {
    GST_INFO_OBJECT(self, "liveness worker ready: %s/{antispoof,liveness}.json, rate %.2f Hz",
                    s.models_dir.c_str(), s.rate);
    return worker;
  }
  gst_face_base_post_models_error(
      self, s.models_dir,
      "the models folder \"" + s.models_dir +
          "\" does not exist, so antispoof.json and liveness.json cannot be loaded. Run "
          "tools/fetch-models, or set models-dir (or FACEGRAPH_MODELS) to the folder that "
          "holds the models.",
      "cannot load the liveness models: " + error +
          ". Run tools/fetch-models to download them again, or set models-dir (or "
          "FACEGRAPH_MODELS) to a folder that holds them.",
      error);
  return nullptr;
}

void PostChallengeError(GstFaceLiveness* self, const std::string& text, const std::string& error) {
  GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                    ("%s: property challenge \"%s\": %s", GST_OBJECT_NAME(self), text.c_str(),
                     error.c_str()),
                    (nullptr));
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_LIVENESS(trans);
  GST_OBJECT_LOCK(self);
  const std::string text = self->m.settings.challenge, error = self->m.settings.challenge_error;
  GST_OBJECT_UNLOCK(self);
  if (!error.empty()) {
    PostChallengeError(self, text, error);
    return FALSE;
  }
  return fg::gst::StartWorker(GST_ELEMENT(trans), self->m);
}

gboolean Stop(GstBaseTransform* trans) {
  fg::gst::StopWorker(GST_FACE_LIVENESS(trans)->m);
  return TRUE;
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_LIVENESS(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && !fg::gst::FinishWorker(self->m, kEosWaitS))
    GST_WARNING_OBJECT(self, "EOS: the worker was still busy after %.1f s", kEosWaitS);
  return GST_BASE_TRANSFORM_CLASS(gst_face_liveness_parent_class)->sink_event(trans, event);
}

void PostChallenge(GstFaceLiveness* self, const fg::ChallengeState& c,
                   const fg::ChallengeOptions& o, int64_t pts) {
  const int n = static_cast<int>(o.steps.size());
  const int step = std::min(c.step, n - 1);
  GstStructure* s = gst_structure_new(
      "facegraph-liveness-challenge", "pts", G_TYPE_UINT64, gst_face_base_clock_time(pts), "id",
      G_TYPE_INT64, static_cast<gint64>(c.id), "ask", G_TYPE_STRING,
      std::string(fg::ChallengeStepName(o.steps[step])).c_str(), "instruction", G_TYPE_STRING,
      std::string(fg::ChallengeInstruction(o.steps[step])).c_str(), "state", G_TYPE_STRING,
      std::string(fg::ChallengeStateName(c.state)).c_str(), "step", G_TYPE_INT, step, "steps",
      G_TYPE_INT, n, "timeout", G_TYPE_DOUBLE, o.timeout_s, nullptr);
  gst_face_base_post_element_message(GST_ELEMENT(self), s);
}

void PostDecision(GstFaceLiveness* self, const fg::Face& f, int64_t pts) {
  const fg::Liveness& l = *f.liveness;
  GstStructure* s = gst_structure_new(
      "facegraph-liveness", "pts", G_TYPE_UINT64, gst_face_base_clock_time(pts), "id",
      G_TYPE_INT64, static_cast<gint64>(f.id), "decision", G_TYPE_STRING, l.decision.c_str(),
      "real", G_TYPE_DOUBLE, static_cast<double>(l.real.value_or(-1.0f)), "live", G_TYPE_DOUBLE,
      static_cast<double>(l.live.value_or(-1.0f)), nullptr);
  gst_face_base_post_element_message(GST_ELEMENT(self), s);
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& view, GstBuffer* buffer) {
  auto* self = GST_FACE_LIVENESS(base);
  Impl& impl = *self->m.impl;
  const bool restart = gst_face_base_take_restart(base, buffer);
  bool passive = true, post_messages = false;
  std::optional<fg::ChallengeOptions> new_checks;
  std::string challenge_text;
  if (!fg::gst::ApplyWorkerSettings(
          GST_ELEMENT(self), self->m, restart, [&](const Settings& s) {
            passive = s.passive;
            post_messages = s.post_messages;
            if (s.challenge_revision != impl.challenge_revision || restart) {
              impl.challenge_revision = s.challenge_revision;
              impl.challenge_error = s.challenge_error;
              challenge_text = s.challenge;
              new_checks = s.ToChallenge();  // copied only when it changed
            }
          }))
    return GST_FLOW_ERROR;
  if (new_checks) {
    if (!impl.challenge_error.empty()) {
      PostChallengeError(self, challenge_text, impl.challenge_error);
      return GST_FLOW_ERROR;
    }
    impl.checks = new_checks->steps.empty()
                      ? nullptr
                      : std::make_unique<fg::ChallengeTracks>(std::move(*new_checks));
  }
  if (restart) impl.actions = fg::FaceActionTracks();

  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta) {
    GST_LOG_OBJECT(self, "no GstFaceGraphMeta (is facetrack upstream?)");
    return GST_FLOW_OK;
  }
  fg::LivenessWorker& w = *impl.slot.worker;
  const int64_t pts = gst_face_base_frame_time_ns(buffer, meta->faces.pts_ns);

  if (passive)
    for (const fg::Face& f : meta->faces.faces)
      if (f.id >= 0 && w.Submit(view, f, pts)) impl.slot.fresh = false;
  w.Poll();
  for (fg::Face& f : meta->faces.faces) {
    if (f.id < 0) continue;
    fg::Liveness l;
    const fg::LivenessState* st = passive ? w.Latest(f.id) : nullptr;
    if (st) l = st->ToLiveness();
    const std::string passive_decision = st ? l.decision : std::string("unsure");
    l.decision = passive_decision;
    if (impl.checks) {
      const fg::FaceActions* a = impl.actions.Update(f, pts);
      const fg::ChallengeState& c = impl.checks->Update(f, a, pts);
      l.challenge = c.ToChallenge(impl.checks->options().steps);
      if (c.changed) PostChallenge(self, c, impl.checks->options(), pts);
      switch (c.state) {
        case fg::ChallengeState::kFailed: l.decision = "spoof"; break;
        case fg::ChallengeState::kPassed: l.decision = passive ? passive_decision : "live"; break;
        default: l.decision = passive_decision == "spoof" ? "spoof" : "unsure";
      }
    } else if (!passive) {
      continue;  // nothing to say about this face
    }
    f.liveness = std::move(l);
    if (post_messages) {
      auto [it, inserted] = impl.posted.try_emplace(f.id, f.liveness->decision);
      if (inserted || it->second != f.liveness->decision) {
        it->second = f.liveness->decision;
        PostDecision(self, f, pts);
      }
    }
  }
  impl.actions.EndStale(pts);
  if (impl.checks) impl.checks->EndStale(pts);
  w.EndStale(pts);
  if (!impl.posted.empty()) {
    // Forget the decisions of tracks that left (none of their faces on this frame for the
    // worker's timeout: the worker and the checks already dropped them).
    for (auto it = impl.posted.begin(); it != impl.posted.end();) {
      const bool alive = w.Latest(it->first) || (impl.checks && impl.checks->Get(it->first));
      it = alive ? std::next(it) : impl.posted.erase(it);
    }
  }
  self->m.Publish();
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_LIVENESS(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->m.settings;
  bool worker_changed = false, challenge_changed = false;
  switch (id) {
    case PROP_MODELS_DIR:
      s.models_dir = gst_face_base_models_dir_from_value(value);
      worker_changed = true;
      break;
    case PROP_RATE: s.rate = g_value_get_double(value), worker_changed = true; break;
    case PROP_TIME_CONSTANT: s.time_constant = g_value_get_double(value), worker_changed = true; break;
    case PROP_REAL_THRESHOLD: s.real_threshold = g_value_get_double(value), worker_changed = true; break;
    case PROP_LIVE_THRESHOLD: s.live_threshold = g_value_get_double(value), worker_changed = true; break;
    case PROP_INFERENCE: s.inference = g_value_get_enum(value), worker_changed = true; break;
    case PROP_PASSIVE: s.passive = g_value_get_boolean(value); break;
    case PROP_POST_MESSAGES: s.post_messages = g_value_get_boolean(value); break;
    case PROP_CHALLENGE: {
      const char* v = g_value_get_string(value);
      s.challenge = v ? v : "";
      s.steps.clear();
      s.challenge_error.clear();
      if (s.challenge.find_first_not_of(" \t,") != std::string::npos) {
        auto steps = fg::ParseChallenge(s.challenge, &s.challenge_error);
        if (steps) s.steps = std::move(*steps);
      }
      challenge_changed = true;
      break;
    }
    case PROP_CHALLENGE_TIMEOUT: s.challenge_timeout = g_value_get_double(value), challenge_changed = true; break;
    case PROP_TURN_ANGLE: s.turn_angle = g_value_get_double(value), challenge_changed = true; break;
    case PROP_SMILE_THRESHOLD: s.smile_threshold = g_value_get_double(value), challenge_changed = true; break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  if (worker_changed) ++self->m.revision;
  if (challenge_changed) ++s.challenge_revision;
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_LIVENESS(object);
  if (self->m.counts.Get(id, PROP_SUBMITTED, value)) return;
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    case PROP_PASSIVE: g_value_set_boolean(value, s.passive); break;
    case PROP_RATE: g_value_set_double(value, s.rate); break;
    case PROP_TIME_CONSTANT: g_value_set_double(value, s.time_constant); break;
    case PROP_REAL_THRESHOLD: g_value_set_double(value, s.real_threshold); break;
    case PROP_LIVE_THRESHOLD: g_value_set_double(value, s.live_threshold); break;
    case PROP_CHALLENGE: g_value_set_string(value, s.challenge.c_str()); break;
    case PROP_CHALLENGE_TIMEOUT: g_value_set_double(value, s.challenge_timeout); break;
    case PROP_TURN_ANGLE: g_value_set_double(value, s.turn_angle); break;
    case PROP_SMILE_THRESHOLD: g_value_set_double(value, s.smile_threshold); break;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, s.post_messages); break;
    case PROP_INFERENCE: g_value_set_enum(value, s.inference); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_LIVENESS(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_liveness_parent_class)->finalize(object);
}

constexpr auto kFlags = kGstFaceParamFlags;

void Double(GObjectClass* g, guint id, const char* name, const char* nick, const char* blurb,
            double lo, double hi, double def) {
  g_object_class_install_property(g, id, g_param_spec_double(name, nick, blurb, lo, hi, def, kFlags));
}

}  // namespace

static void gst_face_liveness_class_init(GstFaceLivenessClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_liveness_debug, "faceliveness", 0, "facegraph liveness");
  auto* g = G_OBJECT_CLASS(klass);
  g->set_property = SetProperty;
  g->get_property = GetProperty;
  g->finalize = Finalize;
  const Settings d;
  gst_face_base_install_models_dir(
      g, PROP_MODELS_DIR,
      "Folder with antispoof.json and liveness.json (tools/fetch-models); default "
      "$FACEGRAPH_MODELS, else the build's default; \"\" = the default");
  g_object_class_install_property(
      g, PROP_PASSIVE,
      g_param_spec_boolean("passive", "Passive",
                           "Run the antispoof and liveness networks (false: only the challenge "
                           "decides)",
                           d.passive, kFlags));
  Double(g, PROP_RATE, "rate", "Rate", "Network runs per track per second (0 = every frame)", 0,
         1000, d.rate);
  Double(g, PROP_TIME_CONSTANT, "time-constant", "Time constant",
         "Smoothing time constant of the scores in seconds (0 = none)", 0, 60, d.time_constant);
  Double(g, PROP_REAL_THRESHOLD, "real-threshold", "Real threshold",
         "Antispoof score at which the decision turns (with a 0.05 hysteresis band)", 0, 1,
         d.real_threshold);
  Double(g, PROP_LIVE_THRESHOLD, "live-threshold", "Live threshold",
         "Liveness score at which the decision turns (with a 0.05 hysteresis band)", 0, 1,
         d.live_threshold);
  g_object_class_install_property(
      g, PROP_CHALLENGE,
      g_param_spec_string("challenge", "Challenge",
                          "Active check: steps the person is asked to do in order, e.g. "
                          "\"blink,turn-left,turn-right,smile\" (\"\" = none)",
                          "", kFlags));
  Double(g, PROP_CHALLENGE_TIMEOUT, "challenge-timeout", "Challenge timeout",
         "Seconds allowed for each challenge step", 0.1, 600, d.challenge_timeout);
  Double(g, PROP_TURN_ANGLE, "turn-angle", "Turn angle",
         "Head yaw change in degrees that counts as a turn", 1, 90, d.turn_angle);
  Double(g, PROP_SMILE_THRESHOLD, "smile-threshold", "Smile threshold",
         "Smile intensity (0..1 against the track's neutral face) that counts as a smile", 0.01,
         1, d.smile_threshold);
  g_object_class_install_property(
      g, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message \"facegraph-liveness\" (pts, id, decision, "
                           "real, live) when a track's decision changes",
                           d.post_messages, kFlags));
  gst_face_base_install_inference(g, PROP_INFERENCE);
  gst_face_base_install_counter(g, PROP_SUBMITTED, "submitted", "Submitted",
                                "Face crops handed to the worker");
  gst_face_base_install_counter(g, PROP_CLASSIFIED, "classified", "Classified",
                                "Face crops the worker ran through both networks");
  gst_face_base_install_counter(g, PROP_DROPPED, "dropped", "Dropped",
                                "Face crops never run (newer ones kept) plus results not taken "
                                "in time");
  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face liveness", "Filter/Analyzer/Video",
      "Tells live faces from photos and screens (antispoof and liveness networks on a worker "
      "thread, smoothed per track) and runs an optional active challenge (blink, turn, smile); "
      "writes the result into GstFaceGraphMeta; the video passes through",
      "facegraph");
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  trans_class->start = Start;
  trans_class->stop = Stop;
  trans_class->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_liveness_init(GstFaceLiveness* self) { new (&self->m) Members(); }
