#include "tools/runner/kiosk.h"

#include <dirent.h>
#if FG_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace fg {

namespace {

// Element factories a privacy-mode graph may end in: they put frames on a screen (or nowhere).
bool IsDisplaySink(const std::string& factory) {
  static const std::set<std::string> kDisplay = {
      "autovideosink", "kmssink",     "waylandsink",  "glimagesink", "glimagesinkelement",
      "xvimagesink",   "ximagesink",  "fbdevsink",    "gtksink",     "gtkglsink",
      "fakesink",      "fakevideosink", "fpsdisplaysink"};
  return kDisplay.count(factory) > 0;
}

// Process figures from /proc (Linux).
struct ProcessFigures {
  double cpu_s = 0;
  uint64_t rss = 0;
  int threads = 0, fds = 0;
};

ProcessFigures ReadProcess() {
  ProcessFigures p;
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces), from field 3 on.
  const size_t close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::vector<std::string> f;
    std::string w;
    while (in >> w) f.push_back(w);
    // utime, stime are fields 14 and 15 (1-based), i.e. f[11], f[12]; threads field 20.
    if (f.size() > 17) {
      const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
      p.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / tick;
      p.threads = std::stoi(f[17]);
    }
  }
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) p.rss = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++p.fds;
    closedir(d);
    --p.fds;  // the directory stream itself
  }
  return p;
}

std::string Label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// ---- The display sink's probe: faces counted, and blurred when asked ----------------------

struct SinkProbe {
  KioskSession::Counters* counters;
  bool blur;
  bool count;  // only the first sink counts (a tee to two sinks would count twice)
  GstVideoInfo info;
  bool have_info = false;
};

GstPadProbeReturn OnSinkData(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* p = static_cast<SinkProbe*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      p->have_info = gst_video_info_from_caps(&p->info, caps);
    }
    return GST_PAD_PROBE_OK;
  }
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!buffer) return GST_PAD_PROBE_OK;
  struct Box { int x, y, w, h; };
  std::vector<Box> faces;  // a few per frame
  gpointer state = nullptr;
  static const GQuark kFace = g_quark_from_static_string("face");
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
             buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    if (roi->roi_type == kFace)
      faces.push_back({static_cast<int>(roi->x), static_cast<int>(roi->y),
                       static_cast<int>(roi->w), static_cast<int>(roi->h)});
  }
  if (p->count) {
    p->counters->faces.store(static_cast<int>(faces.size()), std::memory_order_relaxed);
    p->counters->frames_shown.fetch_add(1, std::memory_order_relaxed);
    if (!faces.empty()) p->counters->frames_with_faces.fetch_add(1, std::memory_order_relaxed);
  }
  if (!p->blur || faces.empty() || !p->have_info) return GST_PAD_PROBE_OK;
  // Drawn on a private copy when the buffer is shared (a tee): other branches keep theirs.
  buffer = gst_buffer_make_writable(buffer);
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &p->info, buffer, GST_MAP_READWRITE)) return GST_PAD_PROBE_OK;
  for (const Box& b : faces) {
    // A margin of 15 % takes in hair line and chin; blocks of 1/8 of the face leave ~8 across.
    const int mx = b.w * 15 / 100, my = b.h * 15 / 100;
    const int block = std::max(8, b.w / 8);
    if (PixelateRegion(&frame, b.x - mx, b.y - my, b.w + 2 * mx, b.h + 2 * my, block))
      p->counters->faces_blurred.fetch_add(1, std::memory_order_relaxed);
  }
  gst_video_frame_unmap(&frame);
  return GST_PAD_PROBE_OK;
}

}  // namespace

namespace {
// A property value in gst-launch syntax: double-quoted, so paths may hold spaces.
std::string Quoted(const std::string& v) {
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}
}  // namespace

std::string KioskGraph(const KioskConfig& cfg) {
  if (!cfg.graph.empty()) return "";
  std::string g;
  if (!cfg.source.empty()) {
    g = cfg.source;
  } else {
    // The runner's camera logic fills in the best mode when width/height are left open.
    std::string size;
    if (cfg.width > 0) size += ",width=" + std::to_string(cfg.width);
    if (cfg.height > 0) size += ",height=" + std::to_string(cfg.height);
    const std::string rate = ",framerate=" + std::to_string(cfg.fps) + "/1";
    g = "v4l2src device=" + Quoted(cfg.camera) + " ! video/x-raw" + size + rate + ";image/jpeg" + size +
        rate + " ! decodebin";
  }
  // A live camera cannot wait: the oldest frame is dropped when the analysis falls behind.
  g += " ! queue name=kiosk_queue max-size-buffers=2 max-size-time=0 max-size-bytes=0 "
       "leaky=downstream ! videoconvert ! facetrack";
  if (cfg.emotion) g += " ! faceemotion";
  if (cfg.vitals) g += std::string(" ! facevitals") + (cfg.annotate ? " bvp=true" : "");
  if (!cfg.extra.empty()) g += " ! " + cfg.extra;
  if (cfg.annotate) g += " ! faceannotate";
  if (!cfg.json.empty()) {
    g += " ! facejson location=" + Quoted(cfg.json);
    if (cfg.json_max_size) g += " max-size=" + std::to_string(cfg.json_max_size);
    if (cfg.json_max_age_s) g += " max-age=" + std::to_string(cfg.json_max_age_s);
    if (cfg.json_max_size || cfg.json_max_age_s)
      g += " max-files=" + std::to_string(cfg.json_max_files);
  }
  g += " ! videoconvert ! ";
  if (!cfg.display_sink.empty()) {
    g += cfg.display_sink;
  } else if (cfg.display == "none") {
    g += "fakesink name=display sync=true";
  } else if (cfg.display == "window") {
    g += "autovideosink name=display";
  } else {
    // Full screen: Wayland (a kiosk compositor such as cage) or the console (KMS, no desktop).
    // Under X11 a window manager's kiosk session makes the window full screen.
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    const char* x11 = std::getenv("DISPLAY");
    if (wayland && *wayland) g += "waylandsink name=display fullscreen=true";
    else if (x11 && *x11) g += "autovideosink name=display";
    else g += "kmssink name=display";
  }
  return g;
}

bool CheckPrivacy(GstElement* pipeline, std::string* error) {
  bool ok = true;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (ok && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* element = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(element);
    if (f) {
      const std::string factory = GST_OBJECT_NAME(f);
      const char* k = gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS);
      const std::string klass = k ? k : "";
      GstPlugin* plugin = GST_PLUGIN(gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(f)));
      const bool ours = plugin && std::string(gst_plugin_get_name(plugin)) == "facegraph";
      if (plugin) gst_object_unref(plugin);
      std::string why;
      if (ours) {
        // facejson writes JSON (no pixels); the others draw or analyse in memory.
      } else if (klass.find("Encoder") != std::string::npos) {
        why = "an encoder";
      } else if (klass.find("Muxer") != std::string::npos) {
        why = "a muxer";
      } else if (klass.find("Payloader") != std::string::npos) {
        why = "a payloader";
      } else if (klass.find("Sink") != std::string::npos && !IsDisplaySink(factory)) {
        why = "a sink that is not a display";
      }
      if (!why.empty()) {
        *error = "privacy mode: element " + std::string(GST_ELEMENT_NAME(element)) + " (" +
                 factory + ") is " + why + " and could write frames; privacy mode shows frames "
                 "on the screen only (remove it, or set privacy = off)";
        ok = false;
      }
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return ok;
}

bool PixelateRegion(GstVideoFrame* frame, int x, int y, int w, int h, int block) {
  const GstVideoFormatInfo* finfo = frame->info.finfo;
  if (GST_VIDEO_FORMAT_INFO_IS_TILED(finfo) || GST_VIDEO_FORMAT_INFO_BITS(finfo) != 8) return false;
  const int width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);
  const int x0 = std::clamp(x, 0, width), y0 = std::clamp(y, 0, height);
  const int x1 = std::clamp(x + w, 0, width), y1 = std::clamp(y + h, 0, height);
  if (x1 <= x0 || y1 <= y0 || block < 1) return true;  // nothing of it in the frame
  const int ncomp = GST_VIDEO_FORMAT_INFO_N_COMPONENTS(finfo);
  for (int p = 0; p < static_cast<int>(GST_VIDEO_FRAME_N_PLANES(frame)); ++p) {
    // The plane's components: the first one sets the plane's geometry; the period is the
    // largest pixel stride (YUY2: a 4-byte macropixel), and only bytes some component owns are
    // touched (RGBx keeps its padding).
    int first = -1, period = 1;
    for (int c = 0; c < ncomp; ++c) {
      if (static_cast<int>(GST_VIDEO_FORMAT_INFO_PLANE(finfo, c)) != p) continue;
      if (first < 0) first = c;
      period = std::max(period, GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, c));
    }
    if (first < 0) continue;
    // The byte phases (within a period) of each component: YUY2's Y is at 0 and 2, U at 1.
    std::vector<std::vector<int>> phases;
    for (int c = 0; c < ncomp; ++c) {
      if (static_cast<int>(GST_VIDEO_FORMAT_INFO_PLANE(finfo, c)) != p) continue;
      const int ps = std::max(1, GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, c));
      phases.emplace_back();
      for (int o = GST_VIDEO_FORMAT_INFO_POFFSET(finfo, c) % period; o < period; o += ps)
        phases.back().push_back(o);
    }
    const int wsub = GST_VIDEO_FORMAT_INFO_W_SUB(finfo, first);
    const int hsub = GST_VIDEO_FORMAT_INFO_H_SUB(finfo, first);
    const int pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, first);
    const int row_bytes = GST_VIDEO_FRAME_COMP_WIDTH(frame, first) * pstride / period * period;
    const int bx0 = (x0 >> wsub) * pstride / period * period;
    const int bx1 = std::min(row_bytes, ((((x1 + (1 << wsub) - 1) >> wsub) * pstride + period - 1) / period) * period);
    const int ry0 = y0 >> hsub;
    const int ry1 = std::min(GST_VIDEO_FRAME_COMP_HEIGHT(frame, first), (y1 + (1 << hsub) - 1) >> hsub);
    const int block_bytes = std::max(period, ((block >> wsub) * pstride + period - 1) / period * period);
    const int block_rows = std::max(1, block >> hsub);
    auto* data = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, p));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
    for (int by = ry0; by < ry1; by += block_rows) {
      const int ey = std::min(ry1, by + block_rows);
      for (int bx = bx0; bx < bx1; bx += block_bytes) {
        const int ex = std::min(bx1, bx + block_bytes);
        for (const std::vector<int>& comp : phases) {
          uint32_t sum = 0, n = 0;
          for (int r = by; r < ey; ++r)
            for (int b = bx; b < ex; b += period)
              for (int o : comp) sum += data[r * stride + b + o], ++n;
          if (!n) continue;
          const uint8_t mean = static_cast<uint8_t>((sum + n / 2) / n);
          for (int r = by; r < ey; ++r)
            for (int b = bx; b < ex; b += period)
              for (int o : comp) data[r * stride + b + o] = mean;
        }
      }
    }
  }
  return true;
}

#if FG_HAVE_SYSTEMD
void KioskNotify(const std::string& state) { sd_notify(0, state.c_str()); }
#else
void KioskNotify(const std::string&) {}  // built without libsystemd-dev (tools/setup has it)
#endif

bool KioskSession::Start(std::string* error) {
#if FG_HAVE_SYSTEMD
  uint64_t usec = 0;
  watchdog_ = sd_watchdog_enabled(0, &usec) > 0;
#endif
  if (!cfg_.metrics) return true;
  HttpPageOptions o;
  o.host = cfg_.metrics_host;
  o.port = cfg_.metrics_port;
  o.health = true;
  o.page = cfg_.page;
  // Health only: a scraper or two; each open connection holds a server thread.
  if (!cfg_.page) o.max_connections = 8;
  http_ = std::make_unique<HttpPage>(o);
  if (!http_->Start(error)) {
    *error = "metrics: " + *error;
    return false;
  }
  std::fprintf(stderr, "facegraph: kiosk: /healthz and /metrics%s on %s\n",
               cfg_.page ? " and the live page" : "", http_->Url().c_str());
  if (!IsLoopbackAddress(cfg_.metrics_host))
    std::fprintf(stderr, "facegraph: kiosk: %s is not loopback: whoever reaches it reads the "
                         "metrics%s (no login, no TLS)\n",
                 cfg_.metrics_host.c_str(), cfg_.page ? " and sees the video" : "");
  return true;
}

bool KioskSession::OnPipeline(GstElement* pipeline, std::string* error) {
  if (cfg_.privacy && !CheckPrivacy(pipeline, error)) return false;
  // The sinks: top-level elements with a sink pad and no src pad (the display, or fakesink).
  // Top level only: autovideosink is a bin whose real sink appears at READY; the probe sits on
  // its ghost pad, which every buffer passes.
  bool first = true;
  GstIterator* it = gst_bin_iterate_elements(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* element = GST_ELEMENT(g_value_get_object(&item));
    if (element->numsinkpads > 0 && element->numsrcpads == 0) {
      auto* probe = new SinkProbe{&counters_, cfg_.blur_faces, first, {}, false};
      first = false;
      GstPad* pad = GST_PAD(element->sinkpads->data);
      gst_pad_add_probe(pad,
                        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                     GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                        OnSinkData, probe, [](gpointer d) { delete static_cast<SinkProbe*>(d); });
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return true;
}

void KioskSession::OnTick(const RunStats& stats) {
  // Healthy: frames flow (the last one within the stall timeout), or the pipeline started less
  // than a stall timeout ago and may still be opening its source.
  const int64_t stall_ns = static_cast<int64_t>(cfg_.stall_timeout_s * 1e9);
  const bool flowing = stats.last_frame_ns >= 0 && stats.now_ns - stats.last_frame_ns <= stall_ns;
  const bool healthy = !stats.waiting && flowing;
  // fps over at least 2 s.
  if (fps_ns_ == 0) {
    fps_ns_ = stats.now_ns;
    fps_frames_ = stats.frames;
  } else if (stats.now_ns - fps_ns_ >= 2'000'000'000) {
    fps_ = (stats.frames - fps_frames_) * 1e9 / static_cast<double>(stats.now_ns - fps_ns_);
    fps_ns_ = stats.now_ns;
    fps_frames_ = stats.frames;
  }
  if (cfg_.metrics) {
    char health[160];
    if (healthy)
      std::snprintf(health, sizeof health, "ok: %.1f fps, %d faces\n", fps_,
                    counters_.faces.load(std::memory_order_relaxed));
    else if (stats.waiting)
      std::snprintf(health, sizeof health, "unhealthy: source lost, reconnecting\n");
    else
      std::snprintf(health, sizeof health, "unhealthy: no frame for %.1f s\n",
                    stats.last_frame_ns < 0 ? (stats.now_ns - stats.started_ns) / 1e9
                                            : (stats.now_ns - stats.last_frame_ns) / 1e9);
    if (http_) http_->SetHealth(Metrics(stats, healthy), healthy, health);
  }
  // READY once the loop runs (a kiosk whose camera is missing at boot is up and retrying);
  // WATCHDOG on every tick: it stops only when this loop hangs (systemd then restarts us).
  std::string state;
  if (!ready_) {
    state = "READY=1\n";
    ready_ = true;
  }
  if (watchdog_) state += "WATCHDOG=1\n";
  char status[96];
  std::snprintf(status, sizeof status, "STATUS=%s, %.1f fps, %d reconnects",
                healthy ? "running" : (stats.waiting ? "reconnecting" : "no frames"), fps_,
                stats.reconnects);
  state += status;
  KioskNotify(state);
}

void KioskSession::OnStopping() {
  KioskNotify("STOPPING=1");
  // With the page on, the run loop stops the server itself after reading its counters.
  if (http_ && !cfg_.page) http_->Stop();
}

std::string KioskSession::Metrics(const RunStats& s, bool healthy) {
  const ProcessFigures proc = ReadProcess();
  std::string m;
  char line[512];
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name,
                  type, name, value);
    m += line;
  };
  metric("facegraph_healthy", "gauge", "1 while frames flow (what /healthz says)", healthy);
  metric("facegraph_frames_total", "counter", "Frames that reached the analysis",
         static_cast<double>(s.frames));
  metric("facegraph_fps", "gauge", "Frames per second into the analysis (over >= 2 s)", fps_);
  metric("facegraph_seconds_since_last_frame", "gauge", "Seconds since a frame reached the analysis",
         s.last_frame_ns < 0 ? -1 : (s.now_ns - s.last_frame_ns) / 1e9);
  metric("facegraph_dropped_frames_total", "counter",
         "Frames dropped by the leaky queue so that the analysis keeps up",
         static_cast<double>(s.dropped));
  metric("facegraph_faces", "gauge", "Faces in the last frame shown",
         counters_.faces.load(std::memory_order_relaxed));
  metric("facegraph_frames_shown_total", "counter", "Frames that reached the display sink",
         static_cast<double>(counters_.frames_shown.load(std::memory_order_relaxed)));
  metric("facegraph_frames_with_faces_total", "counter", "Frames shown with at least one face",
         static_cast<double>(counters_.frames_with_faces.load(std::memory_order_relaxed)));
  metric("facegraph_faces_blurred_total", "counter", "Faces pixelated in the display (blur-faces)",
         static_cast<double>(counters_.faces_blurred.load(std::memory_order_relaxed)));
  metric("facegraph_reconnects_total", "counter", "Pipeline rebuilds after a lost or stalled source",
         s.reconnects);
  metric("facegraph_stalls_total", "counter", "Stalls seen by the watchdog (no frame for stall-timeout)",
         s.stalls);
  m += "# HELP facegraph_element_latency_seconds Sink pad to src pad, same running time, last 4096 buffers\n"
       "# TYPE facegraph_element_latency_seconds summary\n";
  for (const ElementLatencyStats& e : s.elements) {
    if (e.matched == 0) continue;
    const std::string el = Label(e.name);
    std::snprintf(line, sizeof line,
                  "facegraph_element_latency_seconds{element=\"%s\",quantile=\"0.5\"} %.9g\n"
                  "facegraph_element_latency_seconds{element=\"%s\",quantile=\"0.99\"} %.9g\n"
                  "facegraph_element_latency_seconds_count{element=\"%s\"} %llu\n",
                  el.c_str(), e.p50_ms / 1e3, el.c_str(), e.p99_ms / 1e3, el.c_str(),
                  static_cast<unsigned long long>(e.matched));
    m += line;
  }
  m += "# HELP facegraph_element_buffers_total Buffers through an element's pads (current pipeline)\n"
       "# TYPE facegraph_element_buffers_total counter\n";
  for (const ElementLatencyStats& e : s.elements) {
    const std::string el = Label(e.name);
    std::snprintf(line, sizeof line,
                  "facegraph_element_buffers_total{element=\"%s\",pad=\"sink\"} %llu\n"
                  "facegraph_element_buffers_total{element=\"%s\",pad=\"src\"} %llu\n",
                  el.c_str(), static_cast<unsigned long long>(e.in), el.c_str(),
                  static_cast<unsigned long long>(e.out));
    m += line;
  }
  metric("process_cpu_seconds_total", "counter", "User and system CPU time", proc.cpu_s);
  metric("process_resident_memory_bytes", "gauge", "Resident set size", static_cast<double>(proc.rss));
  metric("process_open_fds", "gauge", "Open file descriptors", proc.fds);
  metric("process_threads", "gauge", "Threads", proc.threads);
  return m;
}

}  // namespace fg
