#include "plugins/gstfacejson.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine/json.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_json_debug);
#define GST_CAT_DEFAULT gst_face_json_debug

namespace {

constexpr const char* kDefaultLocation = "-";

enum { PROP_0, PROP_LOCATION };

// Everything that lives from start() to stop().
struct Impl {
  std::string path;             // as given, for messages
  std::FILE* file = nullptr;    // stdout or an owned file
  bool owned = false;
  fg::FrameFaces empty;         // reused for frames without meta (only pts changes)

  ~Impl() {
    if (owned && file) std::fclose(file);
  }
};

}  // namespace

struct _GstFaceJson {
  GstFaceBase parent;
  gchar* location;              // property; GST_OBJECT_LOCK
  std::unique_ptr<Impl> impl;   // created in start(), reset in stop(); constructed in init
};

G_DEFINE_TYPE(GstFaceJson, gst_face_json, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(facejson, "facejson", GST_RANK_NONE, GST_TYPE_FACE_JSON)

namespace {

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_JSON(trans);
  GST_OBJECT_LOCK(self);
  std::string path = self->location ? self->location : "";
  GST_OBJECT_UNLOCK(self);

  auto impl = std::make_unique<Impl>();
  if (path.empty() || path == "-") {
    impl->path = "stdout";
    impl->file = stdout;
  } else {
    impl->path = path;
    impl->file = std::fopen(path.c_str(), "w");
    if (!impl->file) {
      const int err = errno;
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("%s: could not open \"%s\" for writing: %s", GST_ELEMENT_NAME(self),
                         path.c_str(), g_strerror(err)),
                        ("fopen(\"%s\", \"w\"): %s", path.c_str(), g_strerror(err)));
      return FALSE;
    }
    impl->owned = true;
  }
  GST_INFO_OBJECT(self, "writing JSON lines to %s", impl->path.c_str());
  self->impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  auto* self = GST_FACE_JSON(trans);
  self->impl.reset();  // closes an owned file
  return TRUE;
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& /*view*/, GstBuffer* buffer) {
  auto* self = GST_FACE_JSON(base);
  Impl& impl = *self->impl;
  const int64_t pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;

  std::string line;
  if (const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer)) {
    if (meta->faces.pts_ns == pts) {
      line = fg::ToJsonLine(meta->faces);
    } else {
      // The buffer's PTS is the truth (it may have been re-stamped since the analysis).
      fg::FrameFaces faces = meta->faces;
      faces.pts_ns = pts;
      line = fg::ToJsonLine(faces);
    }
  } else {
    impl.empty.pts_ns = pts;
    line = fg::ToJsonLine(impl.empty);
  }
  line.push_back('\n');
  if (std::fwrite(line.data(), 1, line.size(), impl.file) != line.size() ||
      std::fflush(impl.file) != 0) {
    const int err = errno;
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                      ("%s: could not write to \"%s\": %s", GST_ELEMENT_NAME(self),
                       impl.path.c_str(), g_strerror(err)),
                      (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

void SetProperty(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_JSON(object);
  switch (id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK(self);
      g_free(self->location);
      self->location = g_value_dup_string(value);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_FACE_JSON(object);
  switch (id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK(self);
      g_value_set_string(value, self->location);
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

void Finalize(GObject* object) {
  auto* self = GST_FACE_JSON(object);
  self->impl.~unique_ptr();
  g_free(self->location);
  G_OBJECT_CLASS(gst_face_json_parent_class)->finalize(object);
}

}  // namespace

static void gst_face_json_class_init(GstFaceJsonClass* klass) {
  GST_DEBUG_CATEGORY_INIT(gst_face_json_debug, "facejson", 0, "facegraph JSON Lines output");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = SetProperty;
  gobject_class->get_property = GetProperty;
  gobject_class->finalize = Finalize;
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "File to write one JSON line per frame to (\"-\" or empty: stdout)",
                          kDefaultLocation,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face results to JSON Lines", "Filter/Analyzer/Video",
      "Writes each frame's face results as one JSON line and passes the video through",
      "facegraph");

  GST_BASE_TRANSFORM_CLASS(klass)->start = Start;
  GST_BASE_TRANSFORM_CLASS(klass)->stop = Stop;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_json_init(GstFaceJson* self) {
  // GObject allocates the instance as raw memory: construct the C++ member in place (it is
  // destroyed in finalize).
  new (&self->impl) std::unique_ptr<Impl>();
  self->location = g_strdup(kDefaultLocation);
}
