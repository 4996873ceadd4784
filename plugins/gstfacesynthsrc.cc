#include "plugins/gstfacesynthsrc.h"

#include "plugins/gstformats.h"

#include <gst/video/video.h>
#include <gst/video/gstvideopool.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/synth/face_synth.h"
#include "plugins/gstfacebase.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_synth_src_debug);
#define GST_CAT_DEFAULT gst_face_synth_src_debug

#ifndef FG_ASTRONAUT
#define FG_ASTRONAUT ""
#endif

namespace {

enum {
  PROP_0,
  PROP_IS_LIVE,
  PROP_PHOTO,
  PROP_HEART_RATE,
  PROP_TRAJECTORY,
  PROP_AMPLITUDE,
  PROP_BREATHING_RATE,
  PROP_MOTION,
  PROP_LIGHT_DRIFT,
  PROP_NOISE,
  PROP_JITTER,
  PROP_DROP,
  PROP_SEED,
  PROP_TRUTH_LOCATION,
  PROP_EXPRESSION,
  PROP_MODELS_DIR,
};

// Property values; guarded by GST_OBJECT_LOCK.
struct Settings {
  bool is_live = false;
  std::string photo = FG_ASTRONAUT;
  double heart_rate = 72;
  std::string trajectory;
  double amplitude = 1.0;
  double breathing_rate = 15;
  fg::SynthMotion motion = fg::SynthMotion::kBreathing;
  double light_drift = 0, noise = 0, jitter = 0, drop = 0;
  guint64 seed = 1;
  std::string truth_location;
  std::string expression;  // "" = no expression track
  std::string models_dir = gst_face_base_default_models_dir();
};

// Everything that lives from start() to stop().
struct Impl {
  fg::FaceSynthOptions options;  // from the settings at start(); size, rate, format from caps
  std::unique_ptr<fg::FaceSynth> synth;
  GstVideoInfo info;
  std::FILE* truth = nullptr;
  std::string truth_path;
  size_t blendshape_columns = 0;  // expression on: one truth column per basis blendshape
  // New caps re-create the synthesiser, whose clock starts at 0: later buffers continue from
  // the end of the previous ones (the scene's time restarts; the stream's does not).
  int64_t pts_base = 0, index_base = 0;
  int64_t next_pts = 0, next_index = 0;  // just after the last buffer pushed

  ~Impl() {
    if (truth) std::fclose(truth);
  }
};

struct Members {
  Settings settings;
  std::unique_ptr<Impl> impl;
};

// The synthesiser renders every engine format (engine/synth/face_synth.cc): the template is
// plugins/gstformats.h's list with this source's size and rate ranges.
GstCaps* SrcCaps() {
  return gst_face_formats_caps("width = (int) [ 16, 8192 ], height = (int) [ 16, 8192 ]"
                               ", framerate = (fraction) [ 1/1, 1000/1 ]");
}

}  // namespace

struct _GstFaceSynthSrc {
  GstPushSrc parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceSynthSrc, gst_face_synth_src, GST_TYPE_PUSH_SRC)
GST_ELEMENT_REGISTER_DEFINE(facesynthsrc, "facesynthsrc", GST_RANK_NONE, GST_TYPE_FACE_SYNTH_SRC)

GType gst_face_synth_motion_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(fg::SynthMotion::kNone), "the photo is still", "none"},
      {static_cast<gint>(fg::SynthMotion::kBreathing),
       "small vertical shift and scale at the breathing rate", "breathing"},
      {static_cast<gint>(fg::SynthMotion::kHead),
       "breathing plus head roll, translation and scale over 5-9 s periods", "head"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstFaceSynthMotion", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

namespace {

gboolean Start(GstBaseSrc* src) {
  auto* self = GST_FACE_SYNTH_SRC(src);
  GST_OBJECT_LOCK(self);
  const Settings s = self->m.settings;
  GST_OBJECT_UNLOCK(self);

  auto impl = std::make_unique<Impl>();
  fg::FaceSynthOptions& o = impl->options;
  o.photo_path = s.photo;
  o.heart_rate_bpm = s.heart_rate;
  o.amplitude = s.amplitude;
  o.breathing_rate_bpm = s.breathing_rate;
  o.motion = s.motion;
  o.light_drift = s.light_drift;
  o.noise = s.noise;
  o.jitter = s.jitter;
  o.drop = s.drop;
  o.seed = s.seed;
  o.expression = s.expression;
  o.models_dir = s.models_dir;
  if (!s.trajectory.empty()) {
    if (auto err = fg::ParseHeartRateTrajectory(s.trajectory, &o.heart_rate_trajectory)) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("%s: property heart-rate-trajectory \"%s\": %s", GST_ELEMENT_NAME(self),
                         s.trajectory.c_str(), err->c_str()),
                        (nullptr));
      return FALSE;
    }
  }
  // Validate the photo and the options now (at a token size) so that a bad one fails the
  // state change rather than caps negotiation.
  // The expression is checked against the blendshape basis here (cheap); the tracker runs on
  // the still scene once the size is known (set_caps).
  std::vector<std::string> blendshapes;
  if (!s.expression.empty()) {
    if (auto err = fg::CheckExpressionInstruction(s.expression, s.models_dir, &blendshapes)) {
      if (err->starts_with("models_dir"))
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                          ("%s: property models-dir \"%s\" (needed by expression): %s; or set "
                           "models-dir (or FACEGRAPH_MODELS) to the folder with the models",
                           GST_ELEMENT_NAME(self), s.models_dir.c_str(),
                           err->c_str() + std::string_view("models_dir: ").size()),
                          (nullptr));
      else
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                          ("%s: property expression \"%s\": %s", GST_ELEMENT_NAME(self),
                           s.expression.c_str(), err->c_str()),
                          (nullptr));
      return FALSE;
    }
  }
  {
    fg::FaceSynthOptions probe = o;
    probe.width = probe.height = 16;
    probe.expression.clear();  // no face to find at 16x16; the instruction is checked above
    std::string err;
    if (!fg::FaceSynth::Create(probe, &err)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                        ("%s: property photo \"%s\": %s", GST_ELEMENT_NAME(self), s.photo.c_str(),
                         err.c_str()),
                        (nullptr));
      return FALSE;
    }
  }
  if (!s.truth_location.empty()) {
    impl->truth_path = s.truth_location;
    impl->truth = std::fopen(s.truth_location.c_str(), "w");
    if (!impl->truth) {
      const int e = errno;
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("%s: property truth-location: could not open \"%s\" for writing: %s",
                         GST_ELEMENT_NAME(self), s.truth_location.c_str(), g_strerror(e)),
                        (nullptr));
      return FALSE;
    }
    std::string header = "pts_ns,frame,phase,bpm,pulse,breathing_phase,light_gain,dx,dy,roll_deg,scale";
    for (const std::string& name : blendshapes) header += "," + name;
    header += "\n";
    std::fputs(header.c_str(), impl->truth);
    impl->blendshape_columns = blendshapes.size();
  }
  self->m.impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseSrc* src) {
  auto* self = GST_FACE_SYNTH_SRC(src);
  self->m.impl.reset();  // closes the truth file
  return TRUE;
}

GstCaps* Fixate(GstBaseSrc* src, GstCaps* caps) {
  caps = gst_caps_make_writable(caps);
  GstStructure* st = gst_caps_get_structure(caps, 0);
  gst_structure_fixate_field_nearest_int(st, "width", 640);
  gst_structure_fixate_field_nearest_int(st, "height", 480);
  gst_structure_fixate_field_nearest_fraction(st, "framerate", 30, 1);
  caps = gst_caps_fixate(caps);
  st = gst_caps_get_structure(caps, 0);
  const gchar* format = gst_structure_get_string(st, "format");
  const auto engine = format ? gst_face_engine_format(gst_video_format_from_string(format)) : std::nullopt;
  if (engine && fg::IsYuv(*engine) && !gst_structure_has_field(st, "colorimetry"))
    gst_structure_set(st, "colorimetry", G_TYPE_STRING, "bt601", nullptr);
  return GST_BASE_SRC_CLASS(gst_face_synth_src_parent_class)->fixate(src, caps);
}

gboolean SetCaps(GstBaseSrc* src, GstCaps* caps) {
  auto* self = GST_FACE_SYNTH_SRC(src);
  Impl* impl = self->m.impl.get();
  if (!impl) return FALSE;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: caps are not raw video", GST_ELEMENT_NAME(self)),
                      (nullptr));
    return FALSE;
  }
  const auto format = gst_face_engine_format(GST_VIDEO_INFO_FORMAT(&info));
  if (!format || GST_VIDEO_INFO_FPS_N(&info) <= 0 || GST_VIDEO_INFO_FPS_D(&info) <= 0) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("%s: cannot produce format %s at framerate %d/%d", GST_ELEMENT_NAME(self),
                       GST_VIDEO_INFO_NAME(&info), GST_VIDEO_INFO_FPS_N(&info), GST_VIDEO_INFO_FPS_D(&info)),
                      (nullptr));
    return FALSE;
  }
  fg::FaceSynthOptions o = impl->options;
  o.width = GST_VIDEO_INFO_WIDTH(&info);
  o.height = GST_VIDEO_INFO_HEIGHT(&info);
  o.format = *format;
  o.fps = static_cast<double>(GST_VIDEO_INFO_FPS_N(&info)) / GST_VIDEO_INFO_FPS_D(&info);
  std::string err;
  auto synth = fg::FaceSynth::Create(o, &err);
  if (!synth) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("%s: %s", GST_ELEMENT_NAME(self), err.c_str()), (nullptr));
    return FALSE;
  }
  GST_INFO_OBJECT(self, "%dx%d %s at %.3f fps", o.width, o.height, GST_VIDEO_INFO_NAME(&info), o.fps);
  impl->pts_base = impl->next_pts;
  impl->index_base = impl->next_index;
  impl->synth = std::move(synth);
  impl->info = info;
  return TRUE;
}

gboolean DecideAllocation(GstBaseSrc* src, GstQuery* query) {
  auto* self = GST_FACE_SYNTH_SRC(src);
  if (!self->m.impl) return FALSE;
  const GstVideoInfo& info = self->m.impl->info;
  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  GstBufferPool* pool = nullptr;
  guint size = 0, min = 0, max = 0;
  const bool update = gst_query_get_n_allocation_pools(query) > 0;
  if (update) {
    gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
    size = MAX(size, static_cast<guint>(GST_VIDEO_INFO_SIZE(&info)));
  } else {
    size = GST_VIDEO_INFO_SIZE(&info);
  }
  if (!pool) pool = gst_video_buffer_pool_new();
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, caps, size, min, max);
  if (gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_set_config(pool, config);
  if (update) gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
  else gst_query_add_allocation_pool(query, pool, size, min, max);
  gst_object_unref(pool);
  return GST_BASE_SRC_CLASS(gst_face_synth_src_parent_class)->decide_allocation(src, query);
}

void GetTimes(GstBaseSrc* src, GstBuffer* buffer, GstClockTime* start, GstClockTime* end) {
  // Live: the base class waits for each buffer's running time (its PTS, jitter included).
  *start = *end = GST_CLOCK_TIME_NONE;
  if (!gst_base_src_is_live(src)) return;
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    *start = GST_BUFFER_PTS(buffer);
    if (GST_BUFFER_DURATION_IS_VALID(buffer)) *end = *start + GST_BUFFER_DURATION(buffer);
  }
}

GstFlowReturn Fill(GstPushSrc* src, GstBuffer* buffer) {
  auto* self = GST_FACE_SYNTH_SRC(src);
  Impl* impl = self->m.impl.get();
  if (!impl || !impl->synth) return GST_FLOW_NOT_NEGOTIATED;
  const fg::SynthTruth t = impl->synth->Next();
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &impl->info, buffer, GST_MAP_WRITE)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("%s: could not map the output buffer", GST_ELEMENT_NAME(self)),
                      (nullptr));
    return GST_FLOW_ERROR;
  }
  fg::SynthTarget target;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame) && p < 3; ++p) {
    target.planes[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
    target.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
  }
  impl->synth->Render(t, target);
  gst_video_frame_unmap(&frame);

  const GstVideoInfo& info = impl->info;
  const int64_t pts = impl->pts_base + t.pts_ns, index = impl->index_base + t.index;
  const GstClockTime duration =
      gst_util_uint64_scale_int(GST_SECOND, GST_VIDEO_INFO_FPS_D(&info), GST_VIDEO_INFO_FPS_N(&info));
  GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(pts);
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = duration;
  GST_BUFFER_OFFSET(buffer) = static_cast<guint64>(index);
  GST_BUFFER_OFFSET_END(buffer) = static_cast<guint64>(index + 1);
  impl->next_pts = pts + static_cast<int64_t>(duration);
  impl->next_index = index + 1;

  if (impl->truth) {
    const int n = std::fprintf(impl->truth, "%lld,%lld,%.6f,%.4f,%.6f,%.6f,%.6f,%.3f,%.3f,%.3f,%.5f",
                               static_cast<long long>(pts), static_cast<long long>(index),
                               t.pulse_phase, t.bpm, t.pulse, t.breathing_phase, t.light_gain, t.dx,
                               t.dy, t.roll_deg, t.scale);
    bool ok = n >= 0;
    for (size_t i = 0; i < impl->blendshape_columns; ++i)
      ok = std::fprintf(impl->truth, ",%.5f", i < t.blendshapes.size() ? t.blendshapes[i] : 0.0f) >= 0 && ok;
    ok = std::fputc('\n', impl->truth) != EOF && ok;
    if (!ok || std::fflush(impl->truth) != 0) {
      const int e = errno;
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                        ("%s: could not write to \"%s\": %s", GST_ELEMENT_NAME(self),
                         impl->truth_path.c_str(), g_strerror(e)),
                        (nullptr));
      return GST_FLOW_ERROR;
    }
  }
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_SYNTH_SRC(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->m.settings;
  switch (id) {
    case PROP_IS_LIVE:
      s.is_live = g_value_get_boolean(value);
      // Before the state change: the base class answers NO_PREROLL and latency from it.
      GST_OBJECT_UNLOCK(self);
      gst_base_src_set_live(GST_BASE_SRC(self), g_value_get_boolean(value));
      GST_OBJECT_LOCK(self);
      break;
    case PROP_PHOTO: {
      const gchar* v = g_value_get_string(value);
      s.photo = v && *v ? v : FG_ASTRONAUT;
      break;
    }
    case PROP_HEART_RATE: s.heart_rate = g_value_get_double(value); break;
    case PROP_TRAJECTORY: {
      const gchar* v = g_value_get_string(value);
      s.trajectory = v ? v : "";
      std::vector<fg::HeartRatePoint> points;
      if (!s.trajectory.empty())
        if (auto err = fg::ParseHeartRateTrajectory(s.trajectory, &points))
          GST_WARNING_OBJECT(self, "heart-rate-trajectory \"%s\": %s (the stream will not start)",
                             s.trajectory.c_str(), err->c_str());
      break;
    }
    case PROP_AMPLITUDE: s.amplitude = g_value_get_double(value); break;
    case PROP_BREATHING_RATE: s.breathing_rate = g_value_get_double(value); break;
    case PROP_MOTION: s.motion = static_cast<fg::SynthMotion>(g_value_get_enum(value)); break;
    case PROP_LIGHT_DRIFT: s.light_drift = g_value_get_double(value); break;
    case PROP_NOISE: s.noise = g_value_get_double(value); break;
    case PROP_JITTER: s.jitter = g_value_get_double(value); break;
    case PROP_DROP: s.drop = g_value_get_double(value); break;
    case PROP_SEED: s.seed = g_value_get_uint64(value); break;
    case PROP_TRUTH_LOCATION: {
      const gchar* v = g_value_get_string(value);
      s.truth_location = v ? v : "";
      break;
    }
    case PROP_EXPRESSION: {
      const gchar* v = g_value_get_string(value);
      s.expression = v ? v : "";
      break;
    }
    case PROP_MODELS_DIR: {
      const gchar* v = g_value_get_string(value);
      s.models_dir = v && *v ? v : gst_face_base_default_models_dir();
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_SYNTH_SRC(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_IS_LIVE: g_value_set_boolean(value, s.is_live); break;
    case PROP_PHOTO: g_value_set_string(value, s.photo.c_str()); break;
    case PROP_HEART_RATE: g_value_set_double(value, s.heart_rate); break;
    case PROP_TRAJECTORY: g_value_set_string(value, s.trajectory.c_str()); break;
    case PROP_AMPLITUDE: g_value_set_double(value, s.amplitude); break;
    case PROP_BREATHING_RATE: g_value_set_double(value, s.breathing_rate); break;
    case PROP_MOTION: g_value_set_enum(value, static_cast<gint>(s.motion)); break;
    case PROP_LIGHT_DRIFT: g_value_set_double(value, s.light_drift); break;
    case PROP_NOISE: g_value_set_double(value, s.noise); break;
    case PROP_JITTER: g_value_set_double(value, s.jitter); break;
    case PROP_DROP: g_value_set_double(value, s.drop); break;
    case PROP_SEED: g_value_set_uint64(value, s.seed); break;
    case PROP_TRUTH_LOCATION: g_value_set_string(value, s.truth_location.c_str()); break;
    case PROP_EXPRESSION: g_value_set_string(value, s.expression.c_str()); break;
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  auto* self = GST_FACE_SYNTH_SRC(object);
  self->m.~Members();
  G_OBJECT_CLASS(gst_face_synth_src_parent_class)->finalize(object);
}

constexpr GParamFlags kFlags =
    static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

void Double(GObjectClass* k, guint id, const char* name, const char* blurb, double lo, double hi, double def) {
  g_object_class_install_property(k, id, g_param_spec_double(name, name, blurb, lo, hi, def, kFlags));
}

}  // namespace

static void gst_face_synth_src_class_init(GstFaceSynthSrcClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_synth_src_debug, "facesynthsrc", 0,
                          "facegraph synthetic face with a known pulse");
  auto* g = G_OBJECT_CLASS(klass);
  g->set_property = SetProperty;
  g->get_property = GetProperty;
  g->finalize = Finalize;
  g_object_class_install_property(
      g, PROP_IS_LIVE, g_param_spec_boolean("is-live", "Is live", "Push frames in real time, by their timestamps",
                                            FALSE, kFlags));
  g_object_class_install_property(
      g, PROP_PHOTO, g_param_spec_string("photo", "Photo", "PNG file to animate (empty: the astronaut photo)",
                                         FG_ASTRONAUT, kFlags));
  Double(g, PROP_HEART_RATE, "heart-rate", "Heart rate in beats per minute", 20, 250, 72);
  g_object_class_install_property(
      g, PROP_TRAJECTORY,
      g_param_spec_string("heart-rate-trajectory", "Heart-rate trajectory",
                          "Piecewise-linear heart rate \"seconds:bpm,...\" (e.g. \"0:60,20:120\"); "
                          "overrides heart-rate when set",
                          "", kFlags));
  Double(g, PROP_AMPLITUDE, "amplitude", "Largest green change on the skin, grey levels peak to peak", 0, 50, 1.0);
  Double(g, PROP_BREATHING_RATE, "breathing-rate", "Breaths per minute (head motion with motion=breathing|head)",
         0, 60, 15);
  g_object_class_install_property(
      g, PROP_MOTION,
      g_param_spec_enum("motion", "Motion", "Head motion", GST_TYPE_FACE_SYNTH_MOTION,
                        static_cast<gint>(fg::SynthMotion::kBreathing), kFlags));
  Double(g, PROP_LIGHT_DRIFT, "light-drift", "Relative amplitude of a slow (60 s) global light drift", 0, 0.9, 0);
  Double(g, PROP_NOISE, "noise", "Sensor noise sigma in grey levels", 0, 50, 0);
  Double(g, PROP_JITTER, "jitter", "Timestamp jitter sigma in frame intervals", 0, 0.45, 0);
  Double(g, PROP_DROP, "drop", "Probability that a frame is dropped (a gap in the timestamps)", 0, 0.5, 0);
  g_object_class_install_property(
      g, PROP_SEED, g_param_spec_uint64("seed", "Seed", "Seed of the noise, jitter and drops", 0, G_MAXUINT64, 1,
                                        kFlags));
  g_object_class_install_property(
      g, PROP_TRUTH_LOCATION,
      g_param_spec_string("truth-location", "Truth location",
                          "CSV file for the per-frame ground truth (empty: none)", "", kFlags));
  g_object_class_install_property(
      g, PROP_EXPRESSION,
      g_param_spec_string("expression", "Expression",
                          "Expression instruction the face follows, e.g. \"neutral, then very "
                          "happy over 1.5 s, hold 1 s, then surprised over 0.5 s\" (empty: none); "
                          "the truth gains the blendshape weights",
                          "", kFlags));
  g_object_class_install_property(
      g, PROP_MODELS_DIR,
      g_param_spec_string("models-dir", "Models folder",
                          "Folder with the tracker's models and the canonical face (for "
                          "expression); default $FACEGRAPH_MODELS, else the build's default; "
                          "\"\" = the default",
                          FG_MODELS_DEFAULT_DIR, kFlags));

  auto* element_class = GST_ELEMENT_CLASS(klass);
  gst_element_class_add_pad_template(element_class,
                                     gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, SrcCaps()));
  gst_element_class_set_static_metadata(
      element_class, "Synthetic face with a known pulse", "Source/Video",
      "Animates a face photo with skin perfusion at a set heart rate, breathing and head motion, "
      "light drift, noise and frame jitter, optionally expressions, and writes the ground truth",
      "facegraph");

  auto* base = GST_BASE_SRC_CLASS(klass);
  base->start = Start;
  base->stop = Stop;
  base->fixate = Fixate;
  base->set_caps = SetCaps;
  base->decide_allocation = DecideAllocation;
  base->get_times = GetTimes;
  GST_PUSH_SRC_CLASS(klass)->fill = Fill;
}

static void gst_face_synth_src_init(GstFaceSynthSrc* self) {
  // GObject allocates the instance as raw memory: construct the C++ members in place (they
  // are destroyed in finalize).
  new (&self->m) Members();
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  gst_base_src_set_live(GST_BASE_SRC(self), FALSE);
}
