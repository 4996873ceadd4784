#include "tools/runner/cameras.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "tools/runner/camera_modes.h"

namespace fg {
namespace {

bool IsFactory(GstElement* e, const char* name) {
  GstElementFactory* f = gst_element_get_factory(e);
  return f && std::strcmp(GST_OBJECT_NAME(f), name) == 0;
}

std::vector<GstElement*> ElementsOf(GstElement* pipeline, const char* factory) {
  std::vector<GstElement*> found;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    if (IsFactory(e, factory)) found.push_back(e);  // the pipeline holds a reference
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

// The capsfilter right after a v4l2src (gst-launch's "v4l2src ! video/x-raw,..."), or null.
GstElement* CapsfilterAfter(GstElement* src) {
  GstPad* pad = gst_element_get_static_pad(src, "src");
  if (!pad) return nullptr;
  GstPad* peer = gst_pad_get_peer(pad);
  gst_object_unref(pad);
  if (!peer) return nullptr;
  GstElement* next = gst_pad_get_parent_element(peer);
  gst_object_unref(peer);
  if (next && IsFactory(next, "capsfilter")) {
    gst_object_unref(next);  // still held by the pipeline
    return next;
  }
  if (next) gst_object_unref(next);
  return nullptr;
}

void AddRate(std::vector<Fps>* rates, int num, int den) {
  for (const Fps& f : *rates)
    if (static_cast<int64_t>(f.num) * den == static_cast<int64_t>(num) * f.den) return;
  rates->push_back({num, den});
}

}  // namespace

// Sizes given as ranges are skipped (webcams list discrete sizes).
std::vector<CameraMode> ModesFromCaps(const GstCaps* caps) {
  std::vector<CameraMode> modes;
  for (guint i = 0; caps && i < gst_caps_get_size(caps); ++i) {
    const GstStructure* s = gst_caps_get_structure(caps, i);
    CameraMode m;
    if (gst_structure_has_name(s, "video/x-raw")) {
      const char* format = gst_structure_get_string(s, "format");
      if (!format) continue;
      m.encoding = CameraEncoding::kRaw;
      m.format = format;
    } else if (gst_structure_has_name(s, "image/jpeg")) {
      m.encoding = CameraEncoding::kMjpg;
      m.format = "MJPG";
    } else {
      m.encoding = CameraEncoding::kOther;
      m.format = gst_structure_get_name(s);
    }
    if (!gst_structure_get_int(s, "width", &m.width) ||
        !gst_structure_get_int(s, "height", &m.height))
      continue;
    const GValue* fr = gst_structure_get_value(s, "framerate");
    if (fr && GST_VALUE_HOLDS_FRACTION(fr)) {
      AddRate(&m.rates, gst_value_get_fraction_numerator(fr), gst_value_get_fraction_denominator(fr));
    } else if (fr && GST_VALUE_HOLDS_LIST(fr)) {
      for (guint k = 0; k < gst_value_list_get_size(fr); ++k) {
        const GValue* v = gst_value_list_get_value(fr, k);
        if (GST_VALUE_HOLDS_FRACTION(v))
          AddRate(&m.rates, gst_value_get_fraction_numerator(v), gst_value_get_fraction_denominator(v));
      }
    } else if (fr && GST_VALUE_HOLDS_FRACTION_RANGE(fr)) {
      const GValue* lo = gst_value_get_fraction_range_min(fr);
      const GValue* hi = gst_value_get_fraction_range_max(fr);
      const double lo_v = static_cast<double>(gst_value_get_fraction_numerator(lo)) /
                          gst_value_get_fraction_denominator(lo);
      const double hi_v = static_cast<double>(gst_value_get_fraction_numerator(hi)) /
                          gst_value_get_fraction_denominator(hi);
      if (lo_v <= 30 && hi_v >= 30) AddRate(&m.rates, 30, 1);  // the graphs' rate, inside the range
      AddRate(&m.rates, gst_value_get_fraction_numerator(hi), gst_value_get_fraction_denominator(hi));
    }
    if (m.rates.empty()) continue;
    // v4l2src lists one structure per format and size; merge repeats (e.g. colorimetry variants).
    bool merged = false;
    for (CameraMode& other : modes) {
      if (other.format == m.format && other.width == m.width && other.height == m.height) {
        for (const Fps& f : m.rates) AddRate(&other.rates, f.num, f.den);
        merged = true;
      }
    }
    if (!merged) modes.push_back(m);
  }
  return modes;
}

namespace {

// The V4L2 device node of a monitored device ("api.v4l2.path" since 1.20, "device.path" before).
std::string DevicePath(GstDevice* device) {
  std::string path;
  GstStructure* props = gst_device_get_properties(device);
  if (props) {
    for (const char* key : {"api.v4l2.path", "device.path"}) {
      if (const char* v = gst_structure_get_string(props, key)) {
        path = v;
        break;
      }
    }
    gst_structure_free(props);
  }
  return path;
}

struct Camera {
  std::string name, path;
  std::vector<CameraMode> modes;
};

std::vector<Camera> MonitorCameras() {
  std::vector<Camera> cameras;
  GstDeviceMonitor* monitor = gst_device_monitor_new();
  gst_device_monitor_add_filter(monitor, "Video/Source", nullptr);
  GList* devices = gst_device_monitor_get_devices(monitor);  // probes; no start needed
  for (GList* l = devices; l; l = l->next) {
    GstDevice* d = GST_DEVICE(l->data);
    Camera c;
    gchar* name = gst_device_get_display_name(d);
    c.name = name ? name : "(unnamed)";
    g_free(name);
    c.path = DevicePath(d);
    GstCaps* caps = gst_device_get_caps(d);
    c.modes = ModesFromCaps(caps);
    if (caps) gst_caps_unref(caps);
    cameras.push_back(c);
  }
  g_list_free_full(devices, gst_object_unref);
  gst_object_unref(monitor);
  return cameras;
}

void PrintCamera(const Camera& c, const CameraOptions& opt) {
  std::printf("%s  \"%s\"\n", c.path.empty() ? "(no device node)" : c.path.c_str(), c.name.c_str());
  std::printf("  modes:\n");
  for (const CameraMode& m : c.modes)
    std::printf("    %s%s\n", DescribeCameraMode(m).c_str(),
                m.encoding == CameraEncoding::kOther ? "  (not used by the graphs)" : "");
  const CameraChoice choice = ChooseCameraMode(c.modes, opt.max_height);
  if (!choice.found) {
    std::printf("  graphs use: nothing (no raw or MJPG mode)\n");
    return;
  }
  std::printf("  graphs use: %s (%s)\n", DescribeCameraMode(choice.mode).c_str(), choice.why.c_str());
  std::printf("  caps:       %s\n", choice.caps.c_str());
  std::printf("  run:        facegraph run graphs/webcam-track.gst --camera=%s\n",
              c.path.empty() ? "/dev/videoN" : c.path.c_str());
}

}  // namespace

int ListCameras(const CameraOptions& opt, const std::string& modes_file) {
  if (!modes_file.empty()) {
    std::ifstream in(modes_file);
    if (!in) {
      std::fprintf(stderr, "facegraph: %s: cannot read: %s\n", modes_file.c_str(), std::strerror(errno));
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    Camera c{"modes from " + modes_file, "", ParseV4l2FormatList(text.str(), &error)};
    if (c.modes.empty()) {
      std::fprintf(stderr, "facegraph: %s: %s\n", modes_file.c_str(), error.c_str());
      return 2;
    }
    PrintCamera(c, opt);
    return 0;
  }
  const std::vector<Camera> cameras = MonitorCameras();
  if (cameras.empty()) {
    std::printf("no cameras found (GStreamer's device monitor lists no Video/Source device)\n");
    return 0;
  }
  for (const Camera& c : cameras) PrintCamera(c, opt);
  return 0;
}

bool PrepareCamera(GstElement* pipeline, const CameraOptions& opt, CameraSetup* setup,
                   std::string* error) {
  const std::vector<GstElement*> sources = ElementsOf(pipeline, "v4l2src");
  setup->has_v4l2src = !sources.empty();
  if (sources.empty()) {
    if (opt.device_from_flag) {
      *error = "--camera: the graph has no v4l2src (a camera graph is graphs/webcam-*.gst)";
      return false;
    }
    return true;  // FACEGRAPH_CAMERA only concerns camera graphs
  }
  setup->device = opt.device;
  std::string device = opt.device;
  if (device.empty()) {
    gchar* d = nullptr;
    g_object_get(sources[0], "device", &d, nullptr);
    device = d ? d : "/dev/video0";
    g_free(d);
  }
  if (!opt.caps.empty()) {
    GstCaps* caps = gst_caps_from_string(opt.caps.c_str());
    if (!caps) {
      *error = "camera caps do not parse: \"" + opt.caps + "\"";
      return false;
    }
    gst_caps_unref(caps);
    setup->caps = opt.caps;
    std::fprintf(stderr, "facegraph: camera %s: %s (given)\n", device.c_str(), opt.caps.c_str());
  } else if (GstElement* filter = CapsfilterAfter(sources[0])) {
    GstCaps* current = nullptr;
    g_object_get(filter, "caps", &current, nullptr);
    bool open_size = true;  // the graph leaves the size to the runner (the default graphs)
    for (guint i = 0; current && i < gst_caps_get_size(current); ++i) {
      const GstStructure* s = gst_caps_get_structure(current, i);
      if (gst_structure_has_field(s, "width") || gst_structure_has_field(s, "height"))
        open_size = false;
    }
    if (current) gst_caps_unref(current);
    if (open_size) {
      for (const Camera& c : MonitorCameras()) {
        if (c.path != device) continue;
        const CameraChoice choice = ChooseCameraMode(c.modes, opt.max_height);
        if (!choice.found) {
          std::fprintf(stderr, "facegraph: camera %s offers no raw or MJPG mode; the graph's caps stay\n",
                       device.c_str());
          break;
        }
        setup->caps = choice.caps;
        std::fprintf(stderr, "facegraph: camera %s (%s): %s, %s\n", device.c_str(), c.name.c_str(),
                     choice.caps.c_str(), choice.why.c_str());
      }
      // Not found: the graph's own caps stay, and the start fails with v4l2src's error.
    }
  }
  ApplyCamera(pipeline, *setup);
  return true;
}

void ApplyCamera(GstElement* pipeline, const CameraSetup& setup) {
  for (GstElement* src : ElementsOf(pipeline, "v4l2src")) {
    if (!setup.device.empty()) g_object_set(src, "device", setup.device.c_str(), nullptr);
    if (setup.caps.empty()) continue;
    if (GstElement* filter = CapsfilterAfter(src)) {
      GstCaps* caps = gst_caps_from_string(setup.caps.c_str());
      g_object_set(filter, "caps", caps, nullptr);
      gst_caps_unref(caps);
    }
  }
}

// ---- Holding exposure, gain and white balance -----------------------------------------------

namespace {

int Xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do r = ioctl(fd, request, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

// Reads the controls the plan looks at (and only those) from an open device.
std::vector<CameraControl> ReadControls(int fd) {
  std::vector<CameraControl> controls;
  for (uint32_t id : {kV4l2ExposureAuto, kV4l2ExposureAbsolute, kV4l2ExposureAutoPriority,
                      kV4l2AutoGain, kV4l2Gain, kV4l2AutoWhiteBalance,
                      kV4l2WhiteBalanceTemperature}) {
    v4l2_queryctrl q{};
    q.id = id;
    if (Xioctl(fd, VIDIOC_QUERYCTRL, &q) < 0 || (q.flags & V4L2_CTRL_FLAG_DISABLED)) continue;
    v4l2_control c{};
    c.id = id;
    if (Xioctl(fd, VIDIOC_G_CTRL, &c) < 0) continue;
    // v4l2-ctl's names: lower case, runs of other characters as one '_'.
    std::string name;
    for (const char* p = reinterpret_cast<const char*>(q.name); *p; ++p) {
      if (std::isalnum(static_cast<unsigned char>(*p)))
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
      else if (!name.empty() && name.back() != '_')
        name += '_';
    }
    while (!name.empty() && name.back() == '_') name.pop_back();
    const char* type = q.type == V4L2_CTRL_TYPE_BOOLEAN ? "bool"
                       : q.type == V4L2_CTRL_TYPE_MENU  ? "menu"
                                                        : "int";
    controls.push_back({name, id, type, q.minimum, q.maximum, c.value});
  }
  return controls;
}

// Writes in order; logs each refusal. Returns how many the camera took.
int Write(const std::string& device, int fd, const std::vector<ControlWrite>& writes) {
  int ok = 0;
  for (const ControlWrite& w : writes) {
    v4l2_control c{};
    c.id = w.id;
    c.value = static_cast<int32_t>(w.value);
    if (Xioctl(fd, VIDIOC_S_CTRL, &c) < 0) {
      std::fprintf(stderr, "facegraph: camera %s refuses %s=%lld: %s\n", device.c_str(),
                   w.name.c_str(), static_cast<long long>(w.value), std::strerror(errno));
    } else {
      ++ok;
    }
  }
  return ok;
}

}  // namespace

CameraControlLock::CameraControlLock(GstElement* pipeline, const CameraOptions& opt) {
  if (!opt.lock_controls) return;
  const std::vector<GstElement*> sources = ElementsOf(pipeline, "v4l2src");
  if (sources.empty() || ElementsOf(pipeline, "facevitals").empty()) return;
  gchar* d = nullptr;
  g_object_get(sources[0], "device", &d, nullptr);
  device_ = d ? d : "";
  g_free(d);
  active_ = !device_.empty();
}

CameraControlLock::~CameraControlLock() { Restore(); }

void CameraControlLock::Poll(int64_t now_ns, bool frames_flowing) {
  if (!active_ || locked_) return;
  if (!frames_flowing) return;
  if (flowing_since_ns_ < 0) flowing_since_ns_ = now_ns;
  if (now_ns - flowing_since_ns_ < static_cast<int64_t>(kSettleS * 1e9)) return;
  locked_ = true;  // one attempt per run
  // A second handle beside v4l2src's: V4L2 allows several opens; controls are per device.
  const int fd = open(device_.c_str(), O_RDWR | O_NONBLOCK);
  if (fd < 0) {
    std::fprintf(stderr, "facegraph: camera %s: cannot open to hold exposure, gain and white "
                 "balance: %s\n", device_.c_str(), std::strerror(errno));
    return;
  }
  plan_ = PlanControlLock(ReadControls(fd));
  for (const std::string& note : plan_.notes)
    std::fprintf(stderr, "facegraph: camera %s: %s\n", device_.c_str(), note.c_str());
  const int ok = Write(device_, fd, plan_.lock);
  if (!plan_.lock.empty())
    std::fprintf(stderr, "facegraph: camera %s: after %.0f s of settling, held %d of %zu controls "
                 "for vitals (%s)\n", device_.c_str(), kSettleS, ok, plan_.lock.size(),
                 plan_.extra_controls.c_str());
  close(fd);
}

void CameraControlLock::Restore() {
  if (plan_.restore.empty()) return;
  const int fd = open(device_.c_str(), O_RDWR | O_NONBLOCK);
  if (fd >= 0) {
    Write(device_, fd, plan_.restore);
    close(fd);
  }
  plan_.restore.clear();
}

// ---- Leaky queue drops ------------------------------------------------------------------------

struct LeakyQueueDrops::Counter {
  std::string name;
  GstElement* queue = nullptr;  // a reference of ours: the level is read at the end
  std::atomic<uint64_t> in{0}, out{0};  // written by the streaming threads, read by main
};

LeakyQueueDrops::LeakyQueueDrops() = default;

LeakyQueueDrops::~LeakyQueueDrops() {
  for (auto& c : counters_)
    if (c->queue) gst_object_unref(c->queue);
}

void LeakyQueueDrops::Attach(GstElement* pipeline) {
  // The previous pipeline (stopped: no streaming thread runs its probes) is done with.
  for (auto& c : counters_) {
    guint level = 0;
    g_object_get(c->queue, "current-level-buffers", &level, nullptr);
    const uint64_t i = c->in.load(std::memory_order_relaxed);
    const uint64_t o = c->out.load(std::memory_order_relaxed);
    auto& [in, dropped] = before_[c->name];
    in += i;
    dropped += i - std::min<uint64_t>(i, o + level);
    gst_object_unref(c->queue);  // its probes go with it, before their counters below
    c->queue = nullptr;
  }
  counters_.clear();
  for (GstElement* queue : ElementsOf(pipeline, "queue")) {
    gint leaky = 0;
    g_object_get(queue, "leaky", &leaky, nullptr);
    if (leaky == 0) continue;
    auto c = std::make_unique<Counter>();
    c->name = GST_ELEMENT_NAME(queue);
    c->queue = GST_ELEMENT(gst_object_ref(queue));
    auto count = [](GstPad*, GstPadProbeInfo* info, gpointer data) {
      auto* n = static_cast<std::atomic<uint64_t>*>(data);
      if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        n->fetch_add(gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info)), std::memory_order_relaxed);
      else
        n->fetch_add(1, std::memory_order_relaxed);
      return GST_PAD_PROBE_OK;
    };
    const auto type = static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);
    for (auto [pad_name, counter] : {std::pair{"sink", &c->in}, std::pair{"src", &c->out}}) {
      GstPad* pad = gst_element_get_static_pad(queue, pad_name);
      gst_pad_add_probe(pad, type, count, counter, nullptr);
      gst_object_unref(pad);
    }
    counters_.push_back(std::move(c));
  }
}

uint64_t LeakyQueueDrops::Dropped() const {
  uint64_t dropped = 0;
  for (const auto& [name, counts] : before_) dropped += counts.second;
  for (const auto& c : counters_) {
    guint level = 0;
    g_object_get(c->queue, "current-level-buffers", &level, nullptr);
    const uint64_t i = c->in.load(std::memory_order_relaxed);
    const uint64_t o = c->out.load(std::memory_order_relaxed);
    dropped += i - std::min<uint64_t>(i, o + level);
  }
  return dropped;
}

void LeakyQueueDrops::Print() const {
  // One line per queue name: a reconnection's new pipeline has a queue of the same name.
  std::vector<std::string> names;
  for (const auto& [name, counts] : before_) names.push_back(name);
  for (const auto& c : counters_)
    if (std::find(names.begin(), names.end(), c->name) == names.end()) names.push_back(c->name);
  for (const std::string& name : names) {
    uint64_t in = 0, dropped = 0;
    if (auto it = before_.find(name); it != before_.end()) {
      in = it->second.first;
      dropped = it->second.second;
    }
    for (const auto& c : counters_) {
      if (c->name != name) continue;
      guint level = 0;
      g_object_get(c->queue, "current-level-buffers", &level, nullptr);
      const uint64_t i = c->in.load(std::memory_order_relaxed);
      const uint64_t o = c->out.load(std::memory_order_relaxed);
      in += i;
      dropped += i - std::min<uint64_t>(i, o + level);
    }
    if (in == 0) continue;  // nothing flowed (the graph failed to start): nothing to say
    std::fprintf(stderr, "facegraph: leaky queue %s: %llu frames in, %llu dropped (%.1f %%) so "
                 "that the analysis keeps up\n", name.c_str(), static_cast<unsigned long long>(in),
                 static_cast<unsigned long long>(dropped), in ? 100.0 * dropped / in : 0.0);
  }
}

}  // namespace fg
