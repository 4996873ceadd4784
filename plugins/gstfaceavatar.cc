#include "plugins/gstfaceavatar.h"

#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "engine/render/face_avatar.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_avatar_debug);
#define GST_CAT_DEFAULT gst_face_avatar_debug

namespace {

enum {
  PROP_0,
  PROP_MODE,
  PROP_INSTRUCTION,
  PROP_TIMELINE,
  PROP_OUTPUT,
  PROP_AVATAR,
  PROP_CALIBRATION,
  PROP_SHADING,
  PROP_FACES,
  PROP_PIP_SIZE,
  PROP_MODELS_DIR,
  PROP_REFINE,
  PROP_MOUTH_INTERIOR,
  PROP_RIGID_EYEWEAR,
};

enum Mode { kModeMirror = 0, kModeInstruction = 1, kModeTimeline = 2 };

// Everything the properties say; GST_OBJECT_LOCK. `generation` counts changes of the parts
// that need loading (instruction, timeline, avatar, models), so the streaming thread reloads
// only what changed.
struct Settings {
  int mode = kModeMirror;
  std::string instruction, timeline, avatar, calibration;
  std::string models_dir = gst_face_base_default_models_dir();
  fg::render::OutputMode output = fg::render::OutputMode::kPip;
  fg::render::Shading shading = fg::render::Shading::kLit;
  fg::render::FaceSelection faces = fg::render::FaceSelection::kPrimary;
  double pip_size = 0.3;
  bool refine = true;
  bool mouth_interior = true;
  bool rigid_eyewear = false;
  unsigned instruction_gen = 0, timeline_gen = 0, avatar_gen = 0, models_gen = 0,
           calibration_gen = 0;
};

// Streaming thread only, between start() and stop().
struct Impl {
  std::unique_ptr<fg::render::FaceAvatar> avatar;
  Settings applied;  // what `avatar` was configured with
  fg::FrameFaces empty;
  bool reset_pending = false;
};

struct Members {
  Settings settings;           // GST_OBJECT_LOCK
  std::unique_ptr<Impl> impl;  // created in start(), reset in stop()
};

}  // namespace

struct _GstFaceAvatar {
  GstFaceBase parent;
  Members m;
};

G_DEFINE_TYPE(GstFaceAvatar, gst_face_avatar, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(faceavatar, "faceavatar", GST_RANK_NONE, GST_TYPE_FACE_AVATAR)

namespace {

GType RegisterEnum(const char* name, const GEnumValue* values, GType* type) {
  if (g_once_init_enter(type)) {
    GType t = g_enum_register_static(name, values);
    g_once_init_leave(type, t);
  }
  return *type;
}

GType ModeType() {
  static GType type = 0;
  static const GEnumValue v[] = {
      {kModeMirror, "mirror the tracked faces", "mirror"},
      {kModeInstruction, "the instruction only", "instruction"},
      {kModeTimeline, "the timeline only", "timeline"},
      {0, nullptr, nullptr}};
  return RegisterEnum("GstFaceAvatarMode", v, &type);
}

GType OutputType() {
  static GType type = 0;
  static const GEnumValue v[] = {
      {static_cast<gint>(fg::render::OutputMode::kReplace), "the avatar replaces the video", "replace"},
      {static_cast<gint>(fg::render::OutputMode::kSideBySide), "video and avatar side by side", "side-by-side"},
      {static_cast<gint>(fg::render::OutputMode::kPip), "avatar picture-in-picture", "pip"},
      {static_cast<gint>(fg::render::OutputMode::kWarp), "the face photo re-rendered", "warp"},
      {0, nullptr, nullptr}};
  return RegisterEnum("GstFaceAvatarOutput", v, &type);
}

GType ShadingType() {
  static GType type = 0;
  static const GEnumValue v[] = {
      {static_cast<gint>(fg::render::Shading::kFlat), "one colour per triangle", "flat"},
      {static_cast<gint>(fg::render::Shading::kLit), "Gouraud (smooth) lighting", "lit"},
      {0, nullptr, nullptr}};
  return RegisterEnum("GstFaceAvatarShading", v, &type);
}

GType FacesType() {
  static GType type = 0;
  static const GEnumValue v[] = {
      {static_cast<gint>(fg::render::FaceSelection::kPrimary), "the face tracked longest", "primary"},
      {static_cast<gint>(fg::render::FaceSelection::kAll), "every face", "all"},
      {0, nullptr, nullptr}};
  return RegisterEnum("GstFaceAvatarFaces", v, &type);
}

fg::render::FaceAvatarOptions OptionsOf(const Settings& s) {
  fg::render::FaceAvatarOptions o;
  o.mirror = s.mode == kModeMirror;
  o.output = s.output;
  o.shading = s.shading;
  o.faces = s.faces;
  o.pip_size = static_cast<float>(s.pip_size);
  o.refine = s.refine;
  o.mouth_interior = s.mouth_interior;
  o.rigid_eyewear = s.rigid_eyewear;
  return o;
}

// Brings impl.avatar in line with `s`, loading what changed. Posts the error and returns
// false when something cannot be loaded.
bool Apply(GstFaceAvatar* self, Impl& impl, const Settings& s) {
  const char* name = GST_ELEMENT_NAME(self);
  const bool fresh = !impl.avatar || s.models_gen != impl.applied.models_gen;
  if (fresh) {
    std::string err;
    auto a = fg::render::FaceAvatar::Create(s.models_dir, &err);
    if (!a) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                        ("%s: cannot load the canonical face from models-dir \"%s\": %s. Run "
                         "tools/fetch-models, or set models-dir (or FACEGRAPH_MODELS) to the "
                         "folder that holds it.",
                         name, s.models_dir.c_str(), err.c_str()),
                        ("%s", err.c_str()));
      return false;
    }
    impl.avatar = std::move(a);
  }
  fg::render::FaceAvatar& av = *impl.avatar;
  if (fresh || s.avatar_gen != impl.applied.avatar_gen) {
    std::string err, warning;
    if (!av.SetAvatar(s.avatar, &err, &warning)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                        ("%s: property \"avatar\": cannot load \"%s\": %s", name,
                         s.avatar.c_str(), err.c_str()),
                        ("%s", err.c_str()));
      return false;
    }
    if (!warning.empty())
      GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s: property \"avatar\": %s", name, warning.c_str()),
                          ("%s", warning.c_str()));
  }
  if (fresh || s.calibration_gen != impl.applied.calibration_gen) {
    std::string err;
    if (!av.SetCalibration(s.calibration, &err)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                        ("%s: property \"calibration\": cannot load \"%s\": %s", name,
                         s.calibration.c_str(), err.c_str()),
                        ("%s", err.c_str()));
      return false;
    }
  }
  if (fresh || s.instruction_gen != impl.applied.instruction_gen) {
    fg::InstructionError e;
    if (!av.SetInstruction(s.instruction, &e)) {
      const std::string what = fg::FormatInstructionError(e);
      GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS,
                        ("%s: property \"instruction\": %s", name, what.c_str()),
                        ("instruction \"%s\": %s", s.instruction.c_str(), what.c_str()));
      return false;
    }
  }
  if (fresh || s.timeline_gen != impl.applied.timeline_gen) {
    std::string text;
    if (!s.timeline.empty()) {
      std::ifstream f(s.timeline, std::ios::binary);
      if (!f) {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                          ("%s: property \"timeline\": cannot open \"%s\"", name, s.timeline.c_str()),
                          (nullptr));
        return false;
      }
      std::ostringstream ss;
      ss << f.rdbuf();
      text = ss.str();
    }
    std::string err;
    if (!av.SetTimeline(text, &err)) {
      GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS,
                        ("%s: property \"timeline\": \"%s\": %s", name, s.timeline.c_str(), err.c_str()),
                        (nullptr));
      return false;
    }
  }
  av.SetOptions(OptionsOf(s));
  impl.applied = s;
  return true;
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_AVATAR(trans);
  GST_OBJECT_LOCK(self);
  const Settings s = self->m.settings;
  GST_OBJECT_UNLOCK(self);
  auto impl = std::make_unique<Impl>();
  // Loud at load: models, avatar, instruction and timeline are all checked here.
  if (!Apply(self, *impl, s)) return FALSE;
  self->m.impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  GST_FACE_AVATAR(trans)->m.impl.reset();
  return TRUE;
}

gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_AVATAR(trans);
  // A flushing seek starts a new timeline: tracks, eases and clocks start over (applied by
  // the streaming thread on the next frame).
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP && self->m.impl) self->m.impl->reset_pending = true;
  return GST_BASE_TRANSFORM_CLASS(gst_face_avatar_parent_class)->sink_event(trans, event);
}

GstFlowReturn ProcessWritable(GstFaceBase* base, const fg::draw::MutableImageView& view,
                              GstBuffer* buffer) {
  auto* self = GST_FACE_AVATAR(base);
  Impl& impl = *self->m.impl;
  // Strings are copied (and files reloaded) only when one changed; the plain options are
  // read every frame.
  GST_OBJECT_LOCK(self);
  const Settings& cur = self->m.settings;
  const bool reload = cur.models_gen != impl.applied.models_gen ||
                      cur.avatar_gen != impl.applied.avatar_gen ||
                      cur.instruction_gen != impl.applied.instruction_gen ||
                      cur.timeline_gen != impl.applied.timeline_gen;
  std::optional<Settings> changed;
  if (G_UNLIKELY(reload)) changed = cur;
  const fg::render::FaceAvatarOptions options = OptionsOf(cur);
  GST_OBJECT_UNLOCK(self);
  if (G_UNLIKELY(reload) && !Apply(self, impl, *changed)) return GST_FLOW_ERROR;
  impl.avatar->SetOptions(options);
  if (impl.reset_pending) {
    impl.avatar->Reset();
    impl.reset_pending = false;
  }
  GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  fg::FrameFaces& faces = meta ? meta->faces : impl.empty;
  if (!meta) impl.empty.faces.clear();
  const int64_t pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
  impl.avatar->Process(faces, pts, view);
  return GST_FLOW_OK;
}

// Warp mode with no face: nothing to draw, so the frame is not mapped for writing (a shared
// buffer is not copied). Other outputs draw the avatar on every frame.
gboolean WantsToWrite(GstFaceBase* base, GstBuffer* buffer) {
  auto* self = GST_FACE_AVATAR(base);
  GST_OBJECT_LOCK(self);
  const bool warp = self->m.settings.output == fg::render::OutputMode::kWarp;
  GST_OBJECT_UNLOCK(self);
  if (!warp) return TRUE;
  const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  return meta && !meta->faces.faces.empty();
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_AVATAR(object);
  GST_OBJECT_LOCK(self);
  Settings& s = self->m.settings;
  auto str = [&] {
    const gchar* v = g_value_get_string(value);
    return std::string(v ? v : "");
  };
  switch (id) {
    case PROP_MODE: s.mode = g_value_get_enum(value); break;
    case PROP_INSTRUCTION: s.instruction = str(), ++s.instruction_gen; break;
    case PROP_TIMELINE: s.timeline = str(), ++s.timeline_gen; break;
    case PROP_OUTPUT: s.output = static_cast<fg::render::OutputMode>(g_value_get_enum(value)); break;
    case PROP_AVATAR: s.avatar = str(), ++s.avatar_gen; break;
    case PROP_CALIBRATION: s.calibration = str(), ++s.calibration_gen; break;
    case PROP_SHADING: s.shading = static_cast<fg::render::Shading>(g_value_get_enum(value)); break;
    case PROP_FACES: s.faces = static_cast<fg::render::FaceSelection>(g_value_get_enum(value)); break;
    case PROP_PIP_SIZE: s.pip_size = g_value_get_double(value); break;
    case PROP_REFINE: s.refine = g_value_get_boolean(value); break;
    case PROP_MOUTH_INTERIOR: s.mouth_interior = g_value_get_boolean(value); break;
    case PROP_RIGID_EYEWEAR: s.rigid_eyewear = g_value_get_boolean(value); break;
    case PROP_MODELS_DIR: {
      const std::string dir = str();
      s.models_dir = dir.empty() ? gst_face_base_default_models_dir() : dir;
      ++s.models_gen;
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_AVATAR(object);
  GST_OBJECT_LOCK(self);
  const Settings& s = self->m.settings;
  switch (id) {
    case PROP_MODE: g_value_set_enum(value, s.mode); break;
    case PROP_INSTRUCTION: g_value_set_string(value, s.instruction.c_str()); break;
    case PROP_TIMELINE: g_value_set_string(value, s.timeline.c_str()); break;
    case PROP_OUTPUT: g_value_set_enum(value, static_cast<gint>(s.output)); break;
    case PROP_AVATAR: g_value_set_string(value, s.avatar.c_str()); break;
    case PROP_CALIBRATION: g_value_set_string(value, s.calibration.c_str()); break;
    case PROP_SHADING: g_value_set_enum(value, static_cast<gint>(s.shading)); break;
    case PROP_FACES: g_value_set_enum(value, static_cast<gint>(s.faces)); break;
    case PROP_PIP_SIZE: g_value_set_double(value, s.pip_size); break;
    case PROP_REFINE: g_value_set_boolean(value, s.refine); break;
    case PROP_MOUTH_INTERIOR: g_value_set_boolean(value, s.mouth_interior); break;
    case PROP_RIGID_EYEWEAR: g_value_set_boolean(value, s.rigid_eyewear); break;
    case PROP_MODELS_DIR: g_value_set_string(value, s.models_dir.c_str()); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_AVATAR(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_avatar_parent_class)->finalize(object);
}

constexpr auto kFlags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING);

}  // namespace

static void gst_face_avatar_class_init(GstFaceAvatarClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_avatar_debug, "faceavatar", 0, "facegraph avatar");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const Settings d;
  g_object_class_install_property(
      gobject_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode",
                        "What drives the avatar: mirror the tracked faces, or only the "
                        "instruction / the timeline (both overlay mirroring when set)",
                        ModeType(), d.mode, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_INSTRUCTION,
      g_param_spec_string("instruction", "Instruction",
                          "Expressions over time in words, e.g. \"neutral, then very happy "
                          "over 1.5 s, hold 1 s, then surprised over 0.5 s\"",
                          "", kFlags));
  g_object_class_install_property(
      gobject_class, PROP_TIMELINE,
      g_param_spec_string("timeline", "Timeline", "Path of a JSON timeline of facial actions",
                          "", kFlags));
  g_object_class_install_property(
      gobject_class, PROP_OUTPUT,
      g_param_spec_enum("output", "Output",
                        "replace, side-by-side (same frame size), pip, or warp (the face "
                        "photo re-rendered)",
                        OutputType(), static_cast<gint>(d.output), kFlags));
  g_object_class_install_property(
      gobject_class, PROP_AVATAR,
      g_param_spec_string("avatar", "Avatar",
                          "glTF 2.0 avatar (.glb, .gltf, .vrm) with ARKit-named morph targets; "
                          "\"\" = the canonical face",
                          "", kFlags));
  g_object_class_install_property(
      gobject_class, PROP_CALIBRATION,
      g_param_spec_string("calibration", "Calibration",
                          "Per-subject tracker-response calibration for mirroring (a file "
                          "written by tools/avatar/avatar-calibrate); \"\" = the geometric "
                          "solve",
                          "", kFlags));
  g_object_class_install_property(
      gobject_class, PROP_SHADING,
      g_param_spec_enum("shading", "Shading", "flat (per triangle) or lit (Gouraud)",
                        ShadingType(), static_cast<gint>(d.shading), kFlags));
  g_object_class_install_property(
      gobject_class, PROP_FACES,
      g_param_spec_enum("faces", "Faces",
                        "primary: the face tracked longest drives one avatar; all: one "
                        "avatar per face",
                        FacesType(), static_cast<gint>(d.faces), kFlags));
  g_object_class_install_property(
      gobject_class, PROP_PIP_SIZE,
      g_param_spec_double("pip-size", "PiP size",
                          "Picture-in-picture panel size as a fraction of the frame", 0.1, 1.0,
                          d.pip_size, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_REFINE,
      g_param_spec_boolean("refine", "Refine",
                           "Refine the mirrored expression from the skin texture "
                           "(Lucas-Kanade, about 0.25 ms per face); FALSE: from the "
                           "landmarks alone (0.03 ms, less precise)",
                           d.refine, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MOUTH_INTERIOR,
      g_param_spec_boolean("mouth-interior", "Mouth interior",
                           "output=warp: redraw a mouth opened wider than the face's own "
                           "(teeth move with their lips, a dark cavity between them); FALSE: "
                           "the plain warp, which stretches the teeth",
                           d.mouth_interior, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_RIGID_EYEWEAR,
      g_param_spec_boolean("rigid-eyewear", "Rigid eyewear",
                           "output=warp: glasses keep their shape (the frame found around the "
                           "eyes stays where it is, the skin and brows move behind it); FALSE: "
                           "the plain warp, which bends frames on moving brows",
                           d.rigid_eyewear, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MODELS_DIR,
      g_param_spec_string("models-dir", "Models folder",
                          "Folder with the canonical face; default $FACEGRAPH_MODELS, else "
                          "the build's default; \"\" = the default",
                          FG_MODELS_DEFAULT_DIR, kFlags));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face avatar", "Filter/Effect/Video",
      "Drives a 3D avatar from tracked faces, instructions or timelines; renders it into the "
      "video or re-renders the face with a new expression",
      "facegraph");
  gst_type_mark_as_plugin_api(ModeType(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(OutputType(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(ShadingType(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(FacesType(), static_cast<GstPluginAPIFlags>(0));

  GST_BASE_TRANSFORM_CLASS(klass)->start = Start;
  GST_BASE_TRANSFORM_CLASS(klass)->stop = Stop;
  GST_BASE_TRANSFORM_CLASS(klass)->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->writes_pixels = TRUE;
  GST_FACE_BASE_CLASS(klass)->process_writable = ProcessWritable;
  GST_FACE_BASE_CLASS(klass)->wants_to_write = WantsToWrite;
}

static void gst_face_avatar_init(GstFaceAvatar* self) { new (&self->m) Members(); }
