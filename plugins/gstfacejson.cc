#include "plugins/gstfacejson.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine/emotion/session_summary.h"
#include "engine/json.h"
#include "plugins/gstfacemeta.h"

GST_DEBUG_CATEGORY_STATIC(gst_face_json_debug);
#define GST_CAT_DEFAULT gst_face_json_debug

namespace {

constexpr const char* kDefaultLocation = "-";

enum { PROP_0, PROP_LOCATION, PROP_SUMMARY_LOCATION, PROP_APPEND, PROP_MAX_SIZE, PROP_MAX_AGE, PROP_MAX_FILES };

// Opens `path` for writing ("-"/empty: stdout); posts RESOURCE/OPEN_WRITE naming the property
// and the path on failure.
std::FILE* OpenOutput(GstElement* self, const char* property, const std::string& path,
                      bool append, std::string* shown, bool* owned) {
  if (path.empty() || path == "-") {
    *shown = "stdout";
    *owned = false;
    return stdout;
  }
  const char* mode = append ? "a" : "w";
  std::FILE* f = std::fopen(path.c_str(), mode);
  if (!f) {
    const int err = errno;
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("%s: could not open %s \"%s\" for writing: %s", GST_ELEMENT_NAME(self),
                       property, path.c_str(), g_strerror(err)),
                      ("fopen(\"%s\", \"%s\"): %s", path.c_str(), mode, g_strerror(err)));
    return nullptr;
  }
  *shown = path;
  *owned = true;
  return f;
}

// Everything that lives from start() to stop().
struct Impl {
  std::string path;             // as given, for messages
  std::FILE* file = nullptr;    // stdout or an owned file
  bool owned = false;
  fg::FrameFaces empty;         // reused for frames without meta (only pts changes)
  fg::SessionSummary summary;   // every frame, written on EOS
  std::string summary_path;     // as shown in messages; empty: into `file`
  std::FILE* summary_file = nullptr;
  bool summary_owned = false;
  uint64_t lines = 0;           // frame lines written: a DISCONT on the first is no gap
  // Rotation (max-size, max-age; owned files only): bytes in the current file, when it opened.
  uint64_t max_size = 0, max_age_s = 0;
  unsigned max_files = 10;
  uint64_t bytes = 0;
  int64_t opened_us = 0;

  ~Impl() {
    if (owned && file) std::fclose(file);
    if (summary_owned && summary_file) std::fclose(summary_file);
  }
};

}  // namespace

struct _GstFaceJson {
  GstFaceBase parent;
  gchar* location;              // property; GST_OBJECT_LOCK
  gchar* summary_location;      // property; GST_OBJECT_LOCK; nullptr: into `location`
  gboolean append;              // property; GST_OBJECT_LOCK
  guint64 max_size;             // property; GST_OBJECT_LOCK
  guint max_age;                // property; GST_OBJECT_LOCK
  guint max_files;              // property; GST_OBJECT_LOCK
  std::unique_ptr<Impl> impl;   // created in start(), reset in stop(); constructed in init
};

G_DEFINE_TYPE(GstFaceJson, gst_face_json, GST_TYPE_FACE_BASE)
GST_ELEMENT_REGISTER_DEFINE(facejson, "facejson", GST_RANK_NONE, GST_TYPE_FACE_JSON)

namespace {

gboolean Start(GstBaseTransform* trans) {
  auto* self = GST_FACE_JSON(trans);
  GST_OBJECT_LOCK(self);
  std::string path = self->location ? self->location : "";
  const bool separate_summary = self->summary_location && *self->summary_location;
  std::string summary_path = separate_summary ? self->summary_location : "";
  const bool append = self->append;
  auto impl = std::make_unique<Impl>();
  impl->max_size = self->max_size;
  impl->max_age_s = self->max_age;
  impl->max_files = self->max_files;
  GST_OBJECT_UNLOCK(self);

  impl->file = OpenOutput(GST_ELEMENT(self), "location", path, append, &impl->path, &impl->owned);
  if (!impl->file) return FALSE;
  // Appending after earlier lines (a runner that reconnected its source): the first new line
  // follows lost data, so it is marked as a gap like any other.
  if (append && impl->owned && std::ftell(impl->file) > 0) impl->lines = 1;
  if (impl->owned) impl->bytes = static_cast<uint64_t>(std::max(0L, std::ftell(impl->file)));
  impl->opened_us = g_get_monotonic_time();
  if (separate_summary) {
    impl->summary_file = OpenOutput(GST_ELEMENT(self), "summary-location", summary_path, append,
                                    &impl->summary_path, &impl->summary_owned);
    if (!impl->summary_file) return FALSE;
  }
  GST_INFO_OBJECT(self, "writing JSON lines to %s, the summary to %s", impl->path.c_str(),
                  separate_summary ? impl->summary_path.c_str() : impl->path.c_str());
  self->impl = std::move(impl);
  return TRUE;
}

gboolean Stop(GstBaseTransform* trans) {
  auto* self = GST_FACE_JSON(trans);
  self->impl.reset();  // closes an owned file
  return TRUE;
}

// Rotation: location.N-1 -> location.N, ..., location -> location.1, and a new location. The
// oldest (location.<max-files>) is replaced. False with an element error on failure.
bool Rotate(GstFaceJson* self, Impl& impl) {
  std::fclose(impl.file);
  impl.file = nullptr;
  auto name = [&](unsigned k) { return k == 0 ? impl.path : impl.path + "." + std::to_string(k); };
  for (unsigned k = impl.max_files; k-- > 0;) {
    if (std::rename(name(k).c_str(), name(k + 1).c_str()) != 0 && errno != ENOENT) {
      const int err = errno;
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                        ("%s: could not rotate \"%s\" to \"%s\": %s", GST_ELEMENT_NAME(self),
                         name(k).c_str(), name(k + 1).c_str(), g_strerror(err)),
                        (nullptr));
      return false;
    }
  }
  impl.file = std::fopen(impl.path.c_str(), "w");
  if (!impl.file) {
    const int err = errno;
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                      ("%s: could not open location \"%s\" for writing after rotating: %s",
                       GST_ELEMENT_NAME(self), impl.path.c_str(), g_strerror(err)),
                      (nullptr));
    return false;
  }
  impl.bytes = 0;
  impl.opened_us = g_get_monotonic_time();
  GST_INFO_OBJECT(self, "rotated %s (kept %u files)", impl.path.c_str(), impl.max_files);
  return true;
}

GstFlowReturn Process(GstFaceBase* base, const fg::ImageView& /*view*/, GstBuffer* buffer) {
  auto* self = GST_FACE_JSON(base);
  Impl& impl = *self->impl;
  const int64_t pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;

  std::string line;
  if (const GstFaceGraphMeta* meta = gst_buffer_get_face_graph_meta(buffer)) {
    if (meta->faces.pts_ns == pts) {
      line = fg::ToJsonLine(meta->faces);
      impl.summary.Add(meta->faces);
    } else {
      // The buffer's PTS is the truth (it may have been re-stamped since the analysis).
      fg::FrameFaces faces = meta->faces;
      faces.pts_ns = pts;
      line = fg::ToJsonLine(faces);
      impl.summary.Add(faces);
    }
  } else {
    impl.empty.pts_ns = pts;
    line = fg::ToJsonLine(impl.empty);
    impl.summary.Add(impl.empty);  // frames without faces still time the ones with
  }
  // Data was lost upstream before this frame (packet loss, a decoder that skipped a broken
  // frame): the line says so, so a reader can tell a gap from a scene without faces.
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT) && impl.lines > 0)
    line.insert(1, "\"gap\": true, ");
  ++impl.lines;
  line.push_back('\n');
  if (impl.owned && impl.bytes > 0 &&
      ((impl.max_size && impl.bytes + line.size() > impl.max_size) ||
       (impl.max_age_s && g_get_monotonic_time() - impl.opened_us >= int64_t(impl.max_age_s) * 1000000)) &&
      !Rotate(self, impl))
    return GST_FLOW_ERROR;
  impl.bytes += line.size();
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

// On EOS (before it travels on): the session summary, one line, to summary-location or
// after the frame lines.
gboolean SinkEvent(GstBaseTransform* trans, GstEvent* event) {
  auto* self = GST_FACE_JSON(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->impl && !self->impl->summary.finished()) {
    Impl& impl = *self->impl;
    impl.summary.Finish();
    std::string line = impl.summary.ToJsonLine();
    line.push_back('\n');
    std::FILE* out = impl.summary_file ? impl.summary_file : impl.file;
    const std::string& path = impl.summary_file ? impl.summary_path : impl.path;
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size() || std::fflush(out) != 0) {
      const int err = errno;
      GST_ELEMENT_ERROR(self, RESOURCE, WRITE,
                        ("%s: could not write the session summary to \"%s\": %s",
                         GST_ELEMENT_NAME(self), path.c_str(), g_strerror(err)),
                        (nullptr));
    }
    GST_INFO_OBJECT(self, "session summary of %zu tracks written to %s",
                    impl.summary.tracks().size(), path.c_str());
  }
  return GST_BASE_TRANSFORM_CLASS(gst_face_json_parent_class)->sink_event(trans, event);
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
    case PROP_SUMMARY_LOCATION:
      GST_OBJECT_LOCK(self);
      g_free(self->summary_location);
      self->summary_location = g_value_dup_string(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_APPEND:
      GST_OBJECT_LOCK(self);
      self->append = g_value_get_boolean(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_SIZE:
      GST_OBJECT_LOCK(self);
      self->max_size = g_value_get_uint64(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_AGE:
      GST_OBJECT_LOCK(self);
      self->max_age = g_value_get_uint(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_FILES:
      GST_OBJECT_LOCK(self);
      self->max_files = g_value_get_uint(value);
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
    case PROP_SUMMARY_LOCATION:
      GST_OBJECT_LOCK(self);
      g_value_set_string(value, self->summary_location);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_APPEND:
      GST_OBJECT_LOCK(self);
      g_value_set_boolean(value, self->append);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_SIZE:
      GST_OBJECT_LOCK(self);
      g_value_set_uint64(value, self->max_size);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_AGE:
      GST_OBJECT_LOCK(self);
      g_value_set_uint(value, self->max_age);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_MAX_FILES:
      GST_OBJECT_LOCK(self);
      g_value_set_uint(value, self->max_files);
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
  g_free(self->summary_location);
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
  g_object_class_install_property(
      gobject_class, PROP_SUMMARY_LOCATION,
      g_param_spec_string("summary-location", "Summary location",
                          "File for the session summary line written on EOS (\"-\": "
                          "stdout); unset or empty: the summary is the last line of location",
                          nullptr,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_APPEND,
      g_param_spec_boolean("append", "Append",
                           "Append to the files instead of truncating them when the element "
                           "starts (the runner sets it when it reconnects a source); the first "
                           "line after earlier ones is marked \"gap\": true",
                           FALSE,
                           static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                    GST_PARAM_MUTABLE_READY)));

  const auto ready = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_MAX_SIZE,
      g_param_spec_uint64("max-size", "Max size",
                          "Rotate location when the next line would take it past this many "
                          "bytes (0: never); see max-files",
                          0, G_MAXUINT64, 0, ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_AGE,
      g_param_spec_uint("max-age", "Max age",
                        "Rotate location when it has been open this many seconds (0: never)",
                        0, G_MAXUINT, 0, ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_FILES,
      g_param_spec_uint("max-files", "Max files",
                        "Rotated files kept: location.1 (newest) to location.N; older ones are "
                        "replaced",
                        1, 10000, 10, ready));

  gst_element_class_set_static_metadata(
      GST_ELEMENT_CLASS(klass), "Face results to JSON Lines", "Filter/Analyzer/Video",
      "Writes each frame's face results as one JSON line and passes the video through",
      "facegraph");

  GST_BASE_TRANSFORM_CLASS(klass)->start = Start;
  GST_BASE_TRANSFORM_CLASS(klass)->stop = Stop;
  GST_BASE_TRANSFORM_CLASS(klass)->sink_event = SinkEvent;
  GST_FACE_BASE_CLASS(klass)->process = Process;
}

static void gst_face_json_init(GstFaceJson* self) {
  // GObject allocates the instance as raw memory: construct the C++ member in place (it is
  // destroyed in finalize).
  new (&self->impl) std::unique_ptr<Impl>();
  self->location = g_strdup(kDefaultLocation);
  self->summary_location = nullptr;
  self->append = FALSE;
  self->max_size = 0;
  self->max_age = 0;
  self->max_files = 10;
}
