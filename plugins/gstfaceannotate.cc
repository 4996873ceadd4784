#include "plugins/gstfaceannotate.h"

#include <memory>
#include <new>
#include <string>
#include <utility>

#include "engine/draw/face_overlay.h"
#include "engine/geometry/canonical_face.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_annotate_debug);
#define GST_CAT_DEFAULT gst_face_annotate_debug

namespace {

enum {
  PROP_0,
  PROP_DRAW_BOX,
  PROP_DRAW_ID,
  PROP_DRAW_MESH,
  PROP_DRAW_IRIS,
  PROP_DRAW_POSE,
  PROP_DRAW_EMOTION,
  PROP_DRAW_BARS,
  PROP_DRAW_ACTIONS,
  PROP_DRAW_VITALS,
  PROP_DRAW_LIVENESS,
  PROP_COLOR,
  PROP_MODELS_DIR,
};

constexpr guint kDefaultColor = 0xff00ff00;

// Everything that lives from start() to stop(); streaming thread only.
struct Impl {
  fg::draw::FaceOverlay overlay;  // with the wireframe edges once they are loaded
  bool edges_loaded = false;
  std::string edges_dir;          // the folder they came from
};

struct Members {
  fg::draw::OverlayOptions options;            // GST_OBJECT_LOCK
  std::string models_dir = gst_face_base_default_models_dir();  // GST_OBJECT_LOCK
  std::unique_ptr<Impl> impl;                   // created in start(), reset in stop()
};

}  // namespace

struct _GstFaceAnnotate {
  GstFaceBase parent;
  Members m;  // constructed in init, destroyed in finalize
};

G_DEFINE_TYPE(GstFaceAnnotate, gst_face_annotate, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(faceannotate, "faceannotate", GST_RANK_NONE, GST_TYPE_FACE_ANNOTATE)

GType gst_face_annotate_mesh_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(fg::draw::MeshStyle::kNone), "no mesh", "none"},
      {static_cast<gint>(fg::draw::MeshStyle::kPoints), "the landmarks as points", "points"},
      {static_cast<gint>(fg::draw::MeshStyle::kWireframe),
       "the canonical face's triangle edges", "wireframe"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstFaceAnnotateMesh", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

namespace {

// Loads the wireframe edges from `dir` into impl; posts the error and returns false when it
// cannot.
bool LoadEdges(GstFaceAnnotate* self, Impl& impl, const std::string& dir) {
  const std::string path = dir + "/" + fg::kCanonicalFaceFile;
  std::string error;
  auto face = fg::LoadCanonicalFace(path, &error);
  if (!face) {
    if (!g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                        ("%s: draw-mesh=wireframe needs \"%s\", which does not exist. Run "
                         "tools/fetch-models, or set models-dir (or FACEGRAPH_MODELS) to the "
                         "folder that holds it.",
                         GST_ELEMENT_NAME(self), path.c_str()),
                        ("%s", error.c_str()));
    } else {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ,
                        ("%s: cannot load the canonical face for draw-mesh=wireframe: %s. Run "
                         "tools/fetch-models to download it again.",
                         GST_ELEMENT_NAME(self), error.c_str()),
                        ("%s", error.c_str()));
    }
    return false;
  }
  impl.overlay = fg::draw::FaceOverlay(fg::draw::MeshEdges(face->triangles));
  impl.edges_loaded = true;
  impl.edges_dir = dir;
  GST_INFO_OBJECT(self, "wireframe: %zu triangles from %s", face->triangles.size(), path.c_str());
  return true;
}

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_ANNOTATE(trans);
  GST_OBJECT_LOCK(self);
  const bool wireframe = self->m.options.mesh == fg::draw::MeshStyle::kWireframe;
  const std::string dir = self->m.models_dir;
  GST_OBJECT_UNLOCK(self);
  auto impl = std::make_unique<Impl>();
  // Loud at load: a wireframe that cannot be drawn fails the state change.
  if (wireframe && !LoadEdges(self, *impl, dir)) return FALSE;
  self->m.impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  GST_FACE_ANNOTATE(trans)->m.impl.reset();
  return TRUE;
}

// Frames without faces pass untouched: not mapped for writing, so never copied.
gboolean WantsToWrite(GstFaceBase*, GstBuffer* buffer) {
  const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  return meta && !meta->faces.faces.empty();
}

GstFlowReturn ProcessWritable(GstFaceBase* base, const fg::draw::MutableImageView& view,
                              GstBuffer* buffer) {
  auto* self = GST_FACE_ANNOTATE(base);
  Impl& impl = *self->m.impl;
  const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer);
  if (!meta || meta->faces.faces.empty()) return GST_FLOW_OK;

  GST_OBJECT_LOCK(self);
  const fg::draw::OverlayOptions options = self->m.options;
  const bool reload = options.mesh == fg::draw::MeshStyle::kWireframe &&
                      (!impl.edges_loaded || impl.edges_dir != self->m.models_dir);
  std::string dir;
  if (G_UNLIKELY(reload)) dir = self->m.models_dir;
  GST_OBJECT_UNLOCK(self);
  if (G_UNLIKELY(reload) && !LoadEdges(self, impl, dir)) return GST_FLOW_ERROR;

  impl.overlay.Draw(view, meta->faces, options);
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_ANNOTATE(object);
  GST_OBJECT_LOCK(self);
  fg::draw::OverlayOptions& o = self->m.options;
  switch (id) {
    case PROP_DRAW_BOX: o.box = g_value_get_boolean(value); break;
    case PROP_DRAW_ID: o.id = g_value_get_boolean(value); break;
    case PROP_DRAW_MESH: o.mesh = static_cast<fg::draw::MeshStyle>(g_value_get_enum(value)); break;
    case PROP_DRAW_IRIS: o.iris = g_value_get_boolean(value); break;
    case PROP_DRAW_POSE: o.pose = g_value_get_boolean(value); break;
    case PROP_DRAW_EMOTION: o.emotion = g_value_get_boolean(value); break;
    case PROP_DRAW_BARS: o.bars = g_value_get_boolean(value); break;
    case PROP_DRAW_ACTIONS: o.actions = g_value_get_boolean(value); break;
    case PROP_DRAW_VITALS: o.vitals = g_value_get_boolean(value); break;
    case PROP_DRAW_LIVENESS: o.liveness = g_value_get_boolean(value); break;
    case PROP_COLOR: o.color = fg::draw::Color::FromArgb(g_value_get_uint(value)); break;
    case PROP_MODELS_DIR: {
      const gchar* dir = g_value_get_string(value);
      self->m.models_dir = dir && *dir ? dir : gst_face_base_default_models_dir();
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_ANNOTATE(object);
  GST_OBJECT_LOCK(self);
  const fg::draw::OverlayOptions& o = self->m.options;
  switch (id) {
    case PROP_DRAW_BOX: g_value_set_boolean(value, o.box); break;
    case PROP_DRAW_ID: g_value_set_boolean(value, o.id); break;
    case PROP_DRAW_MESH: g_value_set_enum(value, static_cast<gint>(o.mesh)); break;
    case PROP_DRAW_IRIS: g_value_set_boolean(value, o.iris); break;
    case PROP_DRAW_POSE: g_value_set_boolean(value, o.pose); break;
    case PROP_DRAW_EMOTION: g_value_set_boolean(value, o.emotion); break;
    case PROP_DRAW_BARS: g_value_set_boolean(value, o.bars); break;
    case PROP_DRAW_ACTIONS: g_value_set_boolean(value, o.actions); break;
    case PROP_DRAW_VITALS: g_value_set_boolean(value, o.vitals); break;
    case PROP_DRAW_LIVENESS: g_value_set_boolean(value, o.liveness); break;
    case PROP_COLOR:
      g_value_set_uint(value, (guint{o.color.a} << 24) | (guint{o.color.r} << 16) |
                                  (guint{o.color.g} << 8) | o.color.b);
      break;
    case PROP_MODELS_DIR: g_value_set_string(value, self->m.models_dir.c_str()); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
  GST_OBJECT_UNLOCK(self);
}

void Finalize(GObject* object) {
  GST_FACE_ANNOTATE(object)->m.~Members();
  G_OBJECT_CLASS(gst_face_annotate_parent_class)->finalize(object);
}

constexpr auto kFlags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_PLAYING);

}  // namespace

static void gst_face_annotate_class_init(GstFaceAnnotateClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_annotate_debug, "faceannotate", 0, "facegraph overlay");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  const fg::draw::OverlayOptions d;
  g_object_class_install_property(
      gobject_class, PROP_DRAW_BOX,
      g_param_spec_boolean("draw-box", "Draw box", "Draw the face boxes", d.box, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_ID,
      g_param_spec_boolean("draw-id", "Draw id", "Draw \"#<id>\" above each box", d.id, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_MESH,
      g_param_spec_enum("draw-mesh", "Draw mesh",
                        "The face mesh: none, the landmarks as points, or the canonical "
                        "face's triangle edges (from models-dir)",
                        GST_TYPE_FACE_ANNOTATE_MESH, static_cast<gint>(d.mesh), kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_IRIS,
      g_param_spec_boolean("draw-iris", "Draw iris",
                           "Draw a circle per iris (when the tracker ran with iris=true)",
                           d.iris, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_POSE,
      g_param_spec_boolean("draw-pose", "Draw pose",
                           "Draw the head's x/y/z axes (red/green/blue) from the nose tip",
                           d.pose, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_EMOTION,
      g_param_spec_boolean("draw-emotion", "Draw emotion",
                           "Draw the emotion label and its confidence below the box (faces "
                           "with emotion, e.g. after faceemotion)",
                           d.emotion, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_BARS,
      g_param_spec_boolean("draw-bars", "Draw emotion bars",
                           "Draw a bar per emotion class beside the box, the label's "
                           "highlighted",
                           d.bars, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_ACTIONS,
      g_param_spec_boolean("draw-actions", "Draw actions",
                           "Draw the facial action measures as bars beside the box, and the "
                           "blink count and rate",
                           d.actions, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_VITALS,
      g_param_spec_boolean("draw-vitals", "Draw vitals",
                           "Draw the heart rate with its confidence (grey with \"?\" when "
                           "below 0.5) and the pulse trace below the box",
                           d.vitals, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_DRAW_LIVENESS,
      g_param_spec_boolean("draw-liveness", "Draw liveness",
                           "Draw the liveness decision and scores above the box and, with a "
                           "challenge, its instruction and seconds left (after faceliveness)",
                           d.liveness, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_COLOR,
      g_param_spec_uint("color", "Color", "Colour of boxes, ids, mesh, irises, text and bars (0xAARRGGBB)",
                        0, G_MAXUINT32, kDefaultColor, kFlags));
  g_object_class_install_property(
      gobject_class, PROP_MODELS_DIR,
      g_param_spec_string("models-dir", "Models folder",
                          "Folder with the canonical face (for draw-mesh=wireframe); default "
                          "$FACEGRAPH_MODELS, else the build's default; \"\" = the default",
                          FG_MODELS_DEFAULT_DIR, kFlags));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face overlay", "Filter/Effect/Video",
      "Draws the face results attached to each frame (boxes, ids, mesh, iris, head pose, "
      "emotion, facial actions, vitals)",
      "facegraph");
  gst_type_mark_as_plugin_api(GST_TYPE_FACE_ANNOTATE_MESH, static_cast<GstPluginAPIFlags>(0));

  GST_BASE_TRANSFORM_CLASS(klass)->start = Start;
  GST_BASE_TRANSFORM_CLASS(klass)->stop = Stop;
  GST_FACE_BASE_CLASS(klass)->writes_pixels = TRUE;
  GST_FACE_BASE_CLASS(klass)->process_writable = ProcessWritable;
  GST_FACE_BASE_CLASS(klass)->wants_to_write = WantsToWrite;
}

static void gst_face_annotate_init(GstFaceAnnotate* self) {
  new (&self->m) Members();
  static_assert(fg::draw::Color::FromArgb(kDefaultColor).g == 0xff);
}
