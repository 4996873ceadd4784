// facegraph: runs a graph file (a GStreamer pipeline in gst-launch syntax) and reports where
// the time went.
//
// Usage:
//   facegraph run FILE [--verbose] [--fatal-warnings] [--reconnect] [--stall-timeout=S]
//   facegraph run FILE1 FILE2 ... [--stats-json=FILE]   several streams in one process, with
//                                 counters per stream (tools/runner/streams.h, docs/streams.md)
//   facegraph check FILE          parse and link only (no state change); exit 0 or 2
//   facegraph serve FILE --rtsp [ADDRESS:]PORT/PATH [--rtsp-auth-file=FILE] [--rtsp-no-auth]
//                                 [run options]   run, and serve the annotated video over
//                                 RTSP (tools/runner/serve.h); a network address needs
//                                 user:password lines in FILE, or --rtsp-no-auth
//   facegraph report FILE.jsonl [--out=FILE.html]   the session report (docs/page.md)
//
// Live page and report (docs/page.md, tools/runner/http_page.h, report.h): --http [ADDR:]PORT
// (or --http=...) serves the live page on loopback (127.0.0.1) unless an address is given;
// --report[=FILE.html] writes the session report of the graph's facejson file at the end.
//   facegraph kiosk CONFIG [--print-graph]   unattended: the config's graph, reconnecting,
//                                 watchdog, sd_notify, /healthz + /metrics (tools/runner/kiosk.h)
//   facegraph cameras [--max-height=N] [--modes-file=FILE]   the cameras, their modes and the
//                                 mode the webcam graphs use (docs/cameras.md)
//
// Cameras (graphs with v4l2src, docs/cameras.md): --camera=/dev/videoN or FACEGRAPH_CAMERA sets
// the device of every v4l2src. When the capsfilter after v4l2src leaves the size open (the
// webcam graphs' "video/x-raw,framerate=30/1;image/jpeg,framerate=30/1"), the runner replaces it
// with the camera's best mode for 30 fps (largest size up to --max-height, default 1080; raw
// before MJPG), or with --camera-caps=CAPS / FACEGRAPH_CAMERA_CAPS. A graph with facevitals
// holds exposure, gain and white balance after 2 s of frames (--no-camera-lock: leave them).
// At the end, every leaky queue (the live graphs' queue before the analysis) reports the frames
// it dropped.
//
// Graph files: gst-launch syntax; lines whose first character is '#' are comments; the
// remaining lines are joined with spaces. Every occurrence of $FACEGRAPH_OUT or
// ${FACEGRAPH_OUT} is replaced by the environment variable FACEGRAPH_OUT (default "out");
// when the file uses it, that directory is created. $FACEGRAPH_INPUT or ${FACEGRAPH_INPUT} is
// replaced by the environment variable FACEGRAPH_INPUT (an input file, e.g. a video for
// graphs/file-track.gst); it has no default: a graph that uses it without the variable set
// is refused (exit 2) with a message saying to set it. Relative paths are relative to the
// current directory. Graph files contain no quoting, so they also run without this tool:
//
//   export FACEGRAPH_OUT=out; mkdir -p "$FACEGRAPH_OUT"
//   GST_PLUGIN_PATH=build/plugins gst-launch-1.0 -e $(grep -v '^#' graphs/demo.gst | envsubst '$FACEGRAPH_OUT $FACEGRAPH_INPUT')
//
// Plugins: the facegraph plugin is found without GST_PLUGIN_PATH: the runner scans
// $FACEGRAPH_PLUGIN_DIR when set, else the build's plugin directory (compiled in) when it runs
// from the build tree, else the installed one (<bindir>/../lib/<multiarch>/gstreamer-1.0). Both add
// to whatever GST_PLUGIN_PATH and the system paths provide.
//
// Exit status:
//   0    the pipeline reached end-of-stream
//   1    a bus ERROR (printed with the element that posted it and its debug text, and, when
//        the input is the cause, what it held: a missing decoder with the Debian package that
//        brings it, no video stream, nothing readable), a failed state change, a stream that
//        ended without a single frame reaching a facegraph element, or (with
//        --fatal-warnings) a bus WARNING
//   2    usage error, unreadable graph file, parse error or missing element / failed link
//   130  interrupted (SIGINT or SIGTERM): EOS is sent and awaited for up to 5 s so files are
//        finalised
//
// Network sources (--reconnect): when the source fails (a RESOURCE or STREAM error of an
// element that is not facegraph's: a camera unplugged, an RTSP server gone), stalls (no frame
// reaches the analysis for --stall-timeout seconds, default 5 with --reconnect) or, in a live
// pipeline, ends, the pipeline is torn down and started again after a back-off of 0.5 s,
// doubling to 8 s, back to 0.5 s once frames flow. facejson elements then append to their
// files (the first new line is marked "gap": true). --stall-timeout alone turns a stall into
// an error (exit 1) instead. At the end: reconnections, stalls, RTP packets lost (rtspsrc's
// jitter buffers, added over every connection) and the gaps (DISCONT buffers) the facegraph
// elements saw.
//
// At the end it prints per-element latency to stderr, upstream elements first: for every
// element with a sink and a src pad, the time from a buffer entering a sink pad to the buffer
// with the same running time (PTS mapped through the pad's segment, so encoders that re-stamp
// PTS still match) leaving a src pad. Pad probes take one uncontended lock per buffer and
// remember at most 256 buffers in flight per element; median and p99 are over the last 4096
// buffers (fg::LatencyWindow), with buffer counts in and out. Elements whose input has no
// timestamps (decoders fed by filesrc) show counts only. All of the runner's own output goes to stderr, so
// a graph may write JSON to stdout.
#include <gst/gst.h>
#include <gst/pbutils/missing-plugins.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/graph/latency.h"
#include "tools/runner/cameras.h"
#include "tools/runner/serve.h"
#include "tools/runner/http_page.h"
#include "tools/runner/report.h"
#include "tools/runner/streams.h"
#include "tools/runner/kiosk.h"
#include "tools/runner/run_hooks.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;
constexpr auto kEosTimeout = std::chrono::seconds(5);
constexpr size_t kLatencyWindow = 4096;
constexpr size_t kMaxInFlight = 256;  // PTS remembered per element between sink and src
constexpr double kFirstBackoffS = 0.5;  // reconnection back-off: 0.5, 1, 2, 4, 8, 8, ... s
constexpr double kMaxBackoffS = 8;
constexpr double kDefaultStallS = 5;    // --reconnect without --stall-timeout

volatile std::sig_atomic_t g_interrupts = 0;

void OnSigint(int) { g_interrupts = g_interrupts + 1; }

// The usage on stderr, exit status 2 (a wrong command line); --help prints it on stdout, 0.
int Usage(std::FILE* out = stderr) {
  std::fprintf(out,
               "usage: facegraph run FILE [--verbose] [--fatal-warnings] [--reconnect]\n"
               "                          [--stall-timeout=SECONDS]\n"
               "                          [--http [ADDR:]PORT] [--report[=FILE.html]]\n"
               "       facegraph run FILE1 FILE2 ... [--stats-json=FILE]  (streams side by side)\n"
               "       facegraph check FILE\n"
               "       facegraph serve FILE --rtsp [ADDRESS:]PORT/PATH [--rtsp-auth-file=FILE]\n"
               "                            [--rtsp-no-auth] [run options]   (docs/serve.md)\n"
               "       facegraph report FILE.jsonl [--out=FILE.html]\n"
               "       facegraph kiosk CONFIG [--print-graph] [--verbose]   (docs/kiosk.md)\n"
               "       facegraph cameras [--max-height=N] [--modes-file=V4L2CTL_OUTPUT]\n"
               "Camera graphs: --camera=/dev/videoN (FACEGRAPH_CAMERA), --camera-caps=CAPS\n"
               "(FACEGRAPH_CAMERA_CAPS), --max-height=N (default 1080), --no-camera-lock\n"
               "Runs a GStreamer graph file (gst-launch syntax, '#' comment lines).\n"
               "$FACEGRAPH_OUT in the file is replaced by $FACEGRAPH_OUT (default: out),\n"
               "$FACEGRAPH_INPUT by $FACEGRAPH_INPUT (no default: set it).\n");
  return out == stderr ? kExitUsage : kExitOk;
}

// $FACEGRAPH_OUT (default "out"): several streams each write under their own folder in it.
std::string OutBase() {
  const char* env = std::getenv("FACEGRAPH_OUT");
  return (env && *env) ? env : "out";
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Replaces every $NAME and ${NAME} in text by value; true when there was one.
bool Substitute(std::string* text, const std::string& name, const std::string& value) {
  bool found = false;
  for (const std::string& token : {"${" + name + "}", "$" + name}) {
    for (size_t pos = 0; (pos = text->find(token, pos)) != std::string::npos;) {
      text->replace(pos, token.size(), value);
      pos += value.size();
      found = true;
    }
  }
  return found;
}

// Reads FILE, drops comment lines, joins the rest and substitutes $FACEGRAPH_OUT and
// $FACEGRAPH_INPUT.
// out_override: $FACEGRAPH_OUT for this graph instead of the environment's (one stream of
// several: streams.h).
bool LoadGraph(const std::string& path, std::string* description, std::string* out_dir,
               bool* uses_out, std::string* error, const std::string& out_override = "") {
  std::ifstream in(path);
  if (!in) {
    *error = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  std::string line, text;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    text += line;
    text += ' ';
  }
  const char* env = std::getenv("FACEGRAPH_OUT");
  *out_dir = !out_override.empty() ? out_override : (env && *env) ? env : "out";
  *uses_out = Substitute(&text, "FACEGRAPH_OUT", *out_dir);
  const char* input = std::getenv("FACEGRAPH_INPUT");
  if (text.find("$FACEGRAPH_INPUT") != std::string::npos ||
      text.find("${FACEGRAPH_INPUT}") != std::string::npos) {
    if (!input || !*input) {
      *error = "the graph reads $FACEGRAPH_INPUT: set FACEGRAPH_INPUT to the input file, e.g. "
               "FACEGRAPH_INPUT=video.mp4 facegraph run " + path;
      return false;
    }
    Substitute(&text, "FACEGRAPH_INPUT", input);
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    *error = "no pipeline in the file (only comments or blank lines)";
    return false;
  }
  *description = text;
  return true;
}

// Adds the facegraph plugin directory to the registry, independent of GST_PLUGIN_PATH.
// The plugin directory of this runner: the build's when the runner runs from the build tree,
// else the installed one beside it (<bindir>/../lib/<multiarch>/gstreamer-1.0: cmake --install
// with any prefix), which GStreamer's own path also covers when the prefix is /usr.
std::string OwnPluginDir() {
  gchar* exe = g_file_read_link("/proc/self/exe", nullptr);
  const std::string self = exe ? exe : "";
  g_free(exe);
  const std::string build = FG_BUILD_DIR;
  if (self.empty() || self.rfind(build + "/", 0) == 0) return FG_PLUGIN_DIR;
  gchar* bindir = g_path_get_dirname(self.c_str());
  const std::string installed = std::string(bindir) + "/../" FG_INSTALL_PLUGIN_SUBDIR;
  g_free(bindir);
  return installed;
}

void ScanPluginDir(bool verbose) {
  static std::mutex scan_mu;  // several streams start on their own threads
  std::lock_guard<std::mutex> lock(scan_mu);
  const char* env = std::getenv("FACEGRAPH_PLUGIN_DIR");
  const std::string dir = (env && *env) ? env : OwnPluginDir();
  if (!g_file_test(dir.c_str(), G_FILE_TEST_IS_DIR)) {
    if (verbose) std::fprintf(stderr, "facegraph: plugin directory %s not found\n", dir.c_str());
    return;
  }
  gst_registry_scan_path(gst_registry_get(), dir.c_str());
  if (verbose) std::fprintf(stderr, "facegraph: plugins from %s\n", dir.c_str());
}

// ---- Per-element latency (pad probes) -----------------------------------------------------

struct ElementLatency {
  std::string name;
  std::mutex mu;                                        // sink and src probes may race
  std::deque<std::pair<GstClockTime, int64_t>> entered;  // (running time, ns) unmatched
  uint64_t in = 0, out = 0;
  int64_t first_in_ns = -1;  // when the first buffer arrived: orders the table upstream first
  fg::LatencyWindow window{kLatencyWindow};
};

class LatencyProbes {
 public:
  // Attaches to every non-bin element of the pipeline with a sink and a src pad, and to pads
  // that appear later (demuxers).
  void Attach(GstBin* pipeline) {
    GstIterator* it = gst_bin_iterate_recurse(pipeline);
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* element = GST_ELEMENT(g_value_get_object(&item));
      if (!GST_IS_BIN(element) && element->numsinkpads > 0 &&
          (element->numsrcpads > 0 || ProducesPads(element))) {
        auto stats = std::make_unique<ElementLatency>();
        stats->name = GST_ELEMENT_NAME(element);
        ElementLatency* s = stats.get();
        stats_.push_back(std::move(stats));
        for (GList* l = element->pads; l; l = l->next) AddProbe(GST_PAD(l->data), s);
        g_signal_connect(element, "pad-added", G_CALLBACK(OnPadAdded), s);
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }

  // The table's rows now, upstream first as in Print (for the live page and the report).
  std::vector<fg::ElementStat> Stats() const {
    std::vector<std::pair<int64_t, fg::ElementStat>> rows;
    for (const auto& s : stats_) {
      std::lock_guard<std::mutex> lock(s->mu);
      const fg::LatencySummary sum = s->window.Snapshot();
      rows.push_back({s->first_in_ns < 0 ? INT64_MAX : s->first_in_ns,
                      {s->name, s->in, s->out, sum.count, sum.count ? sum.p50_ms : -1,
                       sum.count ? sum.p99_ms : -1}});
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<fg::ElementStat> out;
    for (auto& r : rows) out.push_back(std::move(r.second));
    return out;
  }

  // The table as numbers (for /metrics), in attachment order.
  std::vector<fg::ElementLatencyStats> Snapshot() const {
    std::vector<fg::ElementLatencyStats> out;
    for (const auto& s : stats_) {
      std::lock_guard<std::mutex> lock(s->mu);
      const fg::LatencySummary sum = s->window.Snapshot();
      out.push_back({s->name, s->in, s->out, static_cast<uint64_t>(sum.count), sum.p50_ms,
                     sum.p99_ms});
    }
    return out;
  }

  void Print() const {
    if (std::none_of(stats_.begin(), stats_.end(), [](const auto& s) {
          std::lock_guard<std::mutex> lock(s->mu);
          return s->in > 0;
        }))
      return;  // nothing flowed (e.g. the graph failed to start): no table
    std::vector<ElementLatency*> order;
    for (const auto& s : stats_) order.push_back(s.get());
    std::stable_sort(order.begin(), order.end(), [](ElementLatency* a, ElementLatency* b) {
      std::scoped_lock lock(a->mu, b->mu);
      return std::make_pair(a->first_in_ns < 0, a->first_in_ns) <
             std::make_pair(b->first_in_ns < 0, b->first_in_ns);
    });
    std::fprintf(stderr, "facegraph: latency per element (sink pad -> src pad, same running time):\n");
    std::fprintf(stderr, "  %-24s %8s %8s %8s %11s %11s\n", "element", "in", "out", "matched",
                 "median ms", "p99 ms");
    for (ElementLatency* s : order) {
      std::lock_guard<std::mutex> lock(s->mu);
      const fg::LatencySummary sum = s->window.Snapshot();
      if (sum.count == 0) {
        std::fprintf(stderr, "  %-24s %8llu %8llu %8s %11s %11s\n", s->name.c_str(),
                     static_cast<unsigned long long>(s->in),
                     static_cast<unsigned long long>(s->out), "0", "-", "-");
      } else {
        std::fprintf(stderr, "  %-24s %8llu %8llu %8llu %11.3f %11.3f\n", s->name.c_str(),
                     static_cast<unsigned long long>(s->in),
                     static_cast<unsigned long long>(s->out),
                     static_cast<unsigned long long>(sum.count), sum.p50_ms, sum.p99_ms);
      }
    }
  }

 private:
  static bool ProducesPads(GstElement* element) {
    for (const GList* l = gst_element_class_get_pad_template_list(GST_ELEMENT_GET_CLASS(element));
         l; l = l->next)
      if (GST_PAD_TEMPLATE_DIRECTION(l->data) == GST_PAD_SRC) return true;
    return false;
  }

  static void OnPadAdded(GstElement*, GstPad* pad, gpointer data) {
    AddProbe(pad, static_cast<ElementLatency*>(data));
  }

  // One per probed pad. `segment` is written and read only by the thread streaming through
  // that pad (events and buffers of a pad are serialised), so it needs no lock.
  struct PadState {
    ElementLatency* element;
    GstSegment segment;
  };

  static void AddProbe(GstPad* pad, ElementLatency* s) {
    auto* state = new PadState{s, {}};
    gst_segment_init(&state->segment, GST_FORMAT_UNDEFINED);
    const bool sink = GST_PAD_DIRECTION(pad) == GST_PAD_SINK;
    gst_pad_add_probe(pad,
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                   GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      sink ? OnSink : OnSrc, state,
                      [](gpointer p) { delete static_cast<PadState*>(p); });
  }

  // Buffers are matched by running time, not raw PTS: encoders re-stamp (GstVideoEncoder adds
  // 1000 h to PTS and moves the segment by as much), the running time stays the same.
  static GstClockTime Key(const PadState* st, GstBuffer* b) {
    if (!GST_BUFFER_PTS_IS_VALID(b)) return GST_CLOCK_TIME_NONE;
    if (st->segment.format != GST_FORMAT_TIME) return GST_BUFFER_PTS(b);
    return gst_segment_to_running_time(&st->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(b));
  }

  // Returns true when the probe saw an event (handled here) rather than buffers.
  static bool TrackSegment(PadState* st, GstPadProbeInfo* info) {
    if (!(info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)) return false;
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT) gst_event_copy_segment(event, &st->segment);
    return true;
  }

  template <class F>
  static void ForEachBuffer(GstPadProbeInfo* info, F f) {
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      f(GST_PAD_PROBE_INFO_BUFFER(info));
    } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
      GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      for (guint i = 0; i < gst_buffer_list_length(list); ++i) f(gst_buffer_list_get(list, i));
    }
  }

  static GstPadProbeReturn OnSink(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* st = static_cast<PadState*>(data);
    if (TrackSegment(st, info)) return GST_PAD_PROBE_OK;
    ElementLatency* s = st->element;
    const int64_t now = NowNs();
    std::lock_guard<std::mutex> lock(s->mu);
    ForEachBuffer(info, [&](GstBuffer* b) {
      ++s->in;
      if (s->first_in_ns < 0) s->first_in_ns = now;
      const GstClockTime key = Key(st, b);
      if (!GST_CLOCK_TIME_IS_VALID(key)) return;
      if (s->entered.size() == kMaxInFlight) s->entered.pop_front();
      s->entered.emplace_back(key, now);
    });
    return GST_PAD_PROBE_OK;
  }

  static GstPadProbeReturn OnSrc(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* st = static_cast<PadState*>(data);
    if (TrackSegment(st, info)) return GST_PAD_PROBE_OK;
    ElementLatency* s = st->element;
    const int64_t now = NowNs();
    std::lock_guard<std::mutex> lock(s->mu);
    ForEachBuffer(info, [&](GstBuffer* b) {
      ++s->out;
      const GstClockTime key = Key(st, b);
      if (!GST_CLOCK_TIME_IS_VALID(key)) return;
      auto it = std::find_if(s->entered.begin(), s->entered.end(),
                             [&](const auto& e) { return e.first == key; });
      if (it == s->entered.end()) return;
      s->window.Record(static_cast<double>(now - it->second) / 1e6);
      s->entered.erase(it);
    });
    return GST_PAD_PROBE_OK;
  }

  std::vector<std::unique_ptr<ElementLatency>> stats_;
};

// ---- What the input held ------------------------------------------------------------------

// Watches the decoders of the graph (decodebin, uridecodebin and their 3 versions: the pads
// they expose, the streams they could not decode) and the frames reaching the facegraph
// elements, so that a file the graph cannot use is explained by what it holds, not by
// "not-linked", and a run that analysed nothing does not end as a success.
class InputWatch {
 public:
  void Attach(GstBin* pipeline) {
    GstIterator* it = gst_bin_iterate_recurse(pipeline);
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* element = GST_ELEMENT(g_value_get_object(&item));
      GstElementFactory* f = gst_element_get_factory(element);
      const std::string factory = f ? GST_OBJECT_NAME(f) : "";
      if (factory == "decodebin" || factory == "decodebin3" || factory == "uridecodebin" ||
          factory == "uridecodebin3") {
        g_signal_connect(element, "pad-added", G_CALLBACK(OnDecoderPad), this);
        if (g_signal_lookup("unknown-type", G_OBJECT_TYPE(element)))
          g_signal_connect(element, "unknown-type", G_CALLBACK(OnUnknownType), this);
        decoders_ = true;
      }
      // Frames into the first analysis element (facegraph's, with a sink pad).
      GstPlugin* plugin = f ? GST_PLUGIN(gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(f))) : nullptr;
      const bool ours = plugin && std::string(gst_plugin_get_name(plugin)) == "facegraph";
      if (plugin) gst_object_unref(plugin);
      if (ours && element->numsinkpads > 0) {
        analysed_elements_ = true;
        elements_.push_back(element);
        Counter& c = frames_[element];
        c.last_ns = &last_frame_ns_;
        for (GList* l = element->sinkpads; l; l = l->next)
          gst_pad_add_probe(GST_PAD(l->data), GST_PAD_PROBE_TYPE_BUFFER, CountFrame, &c, nullptr);
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }

  // Bus thread: a decoder or demuxer that is not installed.
  void OnElementMessage(GstMessage* msg) {
    if (!gst_is_missing_plugin_message(msg)) return;
    gchar* desc = gst_missing_plugin_message_get_description(msg);
    gchar* detail = gst_missing_plugin_message_get_installer_detail(msg);
    std::lock_guard<std::mutex> lock(mu_);
    missing_.push_back({desc ? desc : "an unknown format", detail ? detail : ""});
    g_free(desc);
    g_free(detail);
  }

  // The explanation of an error posted by `culprit` (nullptr: the end of the stream), or ""
  // when the input is not its cause. "Nothing readable" is said only of errors from the file
  // side (a decoder bin, its typefinder or demuxer, filesrc), never of a camera that failed.
  std::string Explain(GstObject* culprit = nullptr) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!missing_.empty()) {
      std::string text = "the input needs a decoder or demuxer that is not installed: ";
      for (size_t i = 0; i < missing_.size(); ++i) {
        if (i) text += "; ";
        text += missing_[i].first + " (install " + PackageFor(missing_[i]) + ")";
      }
      return text + ". tools/setup installs what the supported formats need.";
    }
    if (decoders_ && !pads_.empty() && std::none_of(pads_.begin(), pads_.end(), [](const std::string& m) {
          return m.rfind("video/", 0) == 0;
        })) {
      std::string held;
      for (const std::string& m : pads_) held += (held.empty() ? "" : ", ") + m;
      return "the input has no video stream (it holds: " + held + ")";
    }
    if (decoders_ && pads_.empty() && unknown_.empty() && (!culprit || FromFileSide(culprit)))
      return "nothing in the input could be read as a video (empty, truncated before its first "
             "frame, or not a media file: check the file)";
    if (!unknown_.empty()) return "no decoder for " + unknown_.front();
    return "";
  }

  // Frames that reached the facegraph elements (the most any one of them saw), or -1 when the
  // graph has none.
  int64_t Frames() const {
    if (!analysed_elements_) return -1;
    int64_t most = 0;
    for (const auto& [element, c] : frames_) most = std::max<int64_t>(most, c.n.load());
    return frames_before_ + most;
  }
  // The gaps (DISCONT buffers) the facegraph elements of the current pipeline saw.
  uint64_t Gaps() const {
    guint64 gaps = 0;
    for (GstElement* e : elements_)
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), "gaps")) {
        guint64 g = 0;
        g_object_get(e, "gaps", &g, nullptr);
        gaps = std::max(gaps, g);
      }
    return gaps;
  }
  // Forgets the elements of a pipeline that was stopped (NULL: no streaming thread runs its
  // probes any more), keeping its frame count.
  void Detach() {
    int64_t most = 0;
    for (const auto& [element, c] : frames_) most = std::max<int64_t>(most, c.n.load());
    frames_before_ += most;
    frames_.clear();
    elements_.clear();
  }
  // When the last frame reached an analysis element (NowNs), -1 before the first.
  int64_t LastFrameNs() const { return last_frame_ns_.load(std::memory_order_relaxed); }
  // The facegraph elements (for their counters and settings).
  const std::vector<GstElement*>& elements() const { return elements_; }

 private:
  struct Counter {
    std::atomic<int64_t> n{0};
    std::atomic<int64_t>* last_ns = nullptr;
  };

  // Streaming threads: one relaxed add and store per frame.
  static bool FromFileSide(GstObject* culprit) {
    gchar* path = gst_object_get_path_string(culprit);
    const std::string p = path ? path : "";
    g_free(path);
    if (p.find("decodebin") != std::string::npos || p.find("typefind") != std::string::npos)
      return true;
    GstElementFactory* f = GST_IS_ELEMENT(culprit) ? gst_element_get_factory(GST_ELEMENT(culprit)) : nullptr;
    return f && std::string(GST_OBJECT_NAME(f)) == "filesrc";
  }

  static GstPadProbeReturn CountFrame(GstPad*, GstPadProbeInfo*, gpointer data) {
    auto* c = static_cast<Counter*>(data);
    c->n.fetch_add(1, std::memory_order_relaxed);
    c->last_ns->store(NowNs(), std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
  }

  static void OnDecoderPad(GstElement*, GstPad* pad, gpointer data) {
    auto* self = static_cast<InputWatch*>(data);
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (!caps) caps = gst_pad_query_caps(pad, nullptr);
    std::string media = "unknown";
    if (caps && gst_caps_get_size(caps) > 0)
      media = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    if (caps) gst_caps_unref(caps);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->pads_.push_back(media);
  }

  static void OnUnknownType(GstElement*, GstPad*, GstCaps* caps, gpointer data) {
    auto* self = static_cast<InputWatch*>(data);
    gchar* text = gst_caps_to_string(caps);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->unknown_.push_back(text ? text : "an unknown stream");
    g_free(text);
  }

  // The Debian package that brings a missing decoder, from the installer detail
  // ("gstreamer|1.0|...|decoder-video/x-h264, ...") and the description.
  static std::string PackageFor(const std::pair<std::string, std::string>& m) {
    const std::string& d = m.second.empty() ? m.first : m.second;
    auto has = [&](const char* s) { return d.find(s) != std::string::npos; };
    if (has("x-h264") || has("x-h265") || has("mpegversion=(int)4") || has("x-divx") ||
        has("x-xvid") || has("mpegversion=(int)2") || has("x-wmv") || has("x-msmpeg") ||
        has("H.264") || has("H.265") || has("MPEG-4"))
      return "gstreamer1.0-libav";
    if (has("x-vp8") || has("x-vp9") || has("x-matroska") || has("webm") || has("quicktime") ||
        has("x-msvideo") || has("image/jpeg"))
      return "gstreamer1.0-plugins-good";
    if (has("x-av1") || has("AV1")) return "gstreamer1.0-plugins-bad";
    return "gstreamer1.0-libav or gstreamer1.0-plugins-bad";
  }

  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> missing_;  // (description, installer detail)
  std::vector<std::string> pads_;                             // media types of decoder pads
  std::vector<std::string> unknown_;                          // caps nothing could decode
  bool decoders_ = false, analysed_elements_ = false;
  // One counter per analysis element; the map is filled in Attach, before any streaming.
  std::map<GstElement*, Counter> frames_;
  std::vector<GstElement*> elements_;  // the pipeline holds them
  std::atomic<int64_t> last_frame_ns_{-1};
  int64_t frames_before_ = 0;  // frames of pipelines torn down by reconnections
};

// ---- Reconnecting network sources ----------------------------------------------------------

// What a network source lost over the run: RTP packets the jitter buffers of rtspsrc /
// rtpbin counted as lost (their counters restart with each connection, so they are added up
// before every teardown) and the gaps the facegraph elements saw (DISCONT buffers).
struct NetworkCounters {
  uint64_t rtp_lost = 0;
  uint64_t gaps_before = 0;  // DISCONT frames seen by earlier pipelines
  int reconnects = 0, stalls = 0;

  void AddRtpLoss(GstBin* pipeline) {
    GstIterator* it = gst_bin_iterate_recurse(pipeline);
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* element = GST_ELEMENT(g_value_get_object(&item));
      GstElementFactory* f = gst_element_get_factory(element);
      if (f && std::string(GST_OBJECT_NAME(f)) == "rtpjitterbuffer") {
        GstStructure* stats = nullptr;
        g_object_get(element, "stats", &stats, nullptr);
        guint64 lost = 0;
        if (stats && gst_structure_get_uint64(stats, "num-lost", &lost)) rtp_lost += lost;
        if (stats) gst_structure_free(stats);
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }
};

// An error that a reconnection may cure: a resource or stream error of a source-side element
// (a camera or server that went away), never one of facegraph's own elements (bad models,
// bad settings: restarting would only repeat it).
bool Reconnectable(GstMessage* msg, const InputWatch& input) {
  GError* err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  const bool domain = err && (err->domain == GST_RESOURCE_ERROR || err->domain == GST_STREAM_ERROR);
  g_clear_error(&err);
  if (!domain) return false;
  for (GstElement* e : input.elements())
    if (GST_MESSAGE_SRC(msg) == GST_OBJECT(e)) return false;
  return true;
}

// Sets `append` on every facejson so a reconnection adds to the files instead of truncating.
void AppendJsonOnRestart(const InputWatch& input) {
  for (GstElement* e : input.elements()) {
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && std::string(GST_OBJECT_NAME(f)) == "facejson") g_object_set(e, "append", TRUE, nullptr);
  }
}

// ---- Running -------------------------------------------------------------------------------

// Prints an ERROR or WARNING message with the element that posted it.
void PrintMessage(const std::string& file, GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  const char* kind = "error";
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(msg, &err, &debug);
  } else {
    gst_message_parse_warning(msg, &err, &debug);
    kind = "warning";
  }
  gchar* path = GST_MESSAGE_SRC(msg) ? gst_object_get_path_string(GST_MESSAGE_SRC(msg))
                                     : g_strdup("(unknown)");
  std::fprintf(stderr, "facegraph: %s: %s from element %s (%s): %s\n", file.c_str(), kind,
               GST_MESSAGE_SRC_NAME(msg), path, err ? err->message : "(no message)");
  if (debug && *debug) std::fprintf(stderr, "  debug: %s\n", debug);
  g_free(path);
  g_clear_error(&err);
  g_free(debug);
}

// Parses a pipeline description; a single element is wrapped so it has a bus and a clock.
GstElement* Build(const std::string& description, std::string* error) {
  GError* parse_error = nullptr;
  GstElement* pipeline = gst_parse_launch_full(description.c_str(), nullptr,
                                               GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (!pipeline || parse_error) {
    *error = parse_error ? parse_error->message : "could not build the pipeline";
    g_clear_error(&parse_error);
    if (pipeline) gst_object_unref(pipeline);
    return nullptr;
  }
  if (!GST_IS_PIPELINE(pipeline)) {
    GstElement* bin = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(bin), pipeline);
    pipeline = bin;
  }
  return pipeline;
}

struct Options {
  std::string command;
  std::string file;
  bool verbose = false;
  bool fatal_warnings = false;
  bool reconnect = false;        // restart the pipeline when its source fails, stalls or ends live
  double stall_timeout_s = 0;    // no frame for this long: a stalled source (0: not watched)
  fg::CameraOptions camera;      // device, caps and control lock for v4l2src graphs
  std::string modes_file;        // cameras --modes-file: v4l2-ctl output instead of the monitor
  std::string rtsp;              // serve --rtsp [ADDRESS:]PORT/PATH (serve.h)
  std::string rtsp_auth_file;    // serve --rtsp-auth-file FILE: user:password lines
  bool rtsp_no_auth = false;     // serve --rtsp-no-auth: serve a network address to anyone
  std::string http;              // --http [ADDR:]PORT: the live page (http_page.h)
  bool report = false;           // --report[=FILE]: the session report at the end (report.h)
  std::string report_file;
  std::vector<std::string> files;  // run: more than one graph file runs them side by side
  std::string stats_json;        // run --stats-json=FILE: per-stream counters as JSON
  std::string out_dir;           // this stream's $FACEGRAPH_OUT (several streams: streams.h)
  fg::StreamStats* streams = nullptr;  // per-stream counters of this run (streams.h)
  // Set by `facegraph kiosk` (tools/runner/kiosk.h):
  std::string description;       // the pipeline itself (file then only names it in messages)
  double max_backoff_s = kMaxBackoffS;
  bool restart_on_eos = false;   // any end of stream is a lost source (a kiosk never ends)
  fg::RunHooks* hooks = nullptr;
  fg::HttpPage* page = nullptr;  // the kiosk's server when it serves the live page (started)
};

// The location of the graph's first facejson that writes to a file, or "".
std::string JsonFileOf(GstElement* pipeline) {
  std::string found;
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (found.empty() && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && std::string(GST_OBJECT_NAME(f)) == "facejson") {
      gchar* location = nullptr;
      g_object_get(e, "location", &location, nullptr);
      if (location && *location && std::string(location) != "-") found = location;
      g_free(location);
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

int Run(const Options& opt) {
  std::string description = opt.description, out_dir, error;
  bool uses_out = false;
  if (description.empty() && !LoadGraph(opt.file, &description, &out_dir, &uses_out, &error, opt.out_dir)) {
    std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), error.c_str());
    return kExitUsage;
  }
  ScanPluginDir(opt.verbose);
  if (opt.verbose) std::fprintf(stderr, "facegraph: pipeline: %s\n", description.c_str());

  std::string parse_message;
  GstElement* pipeline = Build(description, &parse_message);
  if (!pipeline) {
    std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), parse_message.c_str());
    return kExitUsage;
  }
  if (opt.command == "check") {
    gst_object_unref(pipeline);
    std::fprintf(stderr, "facegraph: %s: ok\n", opt.file.c_str());
    return kExitOk;
  }
  fg::CameraSetup camera;
  if (!fg::PrepareCamera(pipeline, opt.camera, &camera, &error)) {
    std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), error.c_str());
    gst_object_unref(pipeline);
    return kExitUsage;
  }
  // serve: the annotated video over RTSP, for this pipeline and every rebuilt one.
  std::unique_ptr<fg::RtspServe> serve;
  if (!opt.rtsp.empty()) {
    fg::RtspSpec spec;
    const bool parsed = fg::ParseRtspSpec(opt.rtsp, &spec, &error) &&
                        fg::ConfigureRtspAuth(opt.rtsp_auth_file, opt.rtsp_no_auth, &spec, &error);
    if (parsed) serve = fg::RtspServe::Start(spec, &error);
    if (!serve || !serve->Attach(pipeline, &error)) {
      // A bad spec or auth file, an unauthenticated network address, or a graph with nothing
      // to serve: usage (2); a port in use: error (1).
      std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), error.c_str());
      gst_object_unref(pipeline);
      return !parsed || serve ? kExitUsage : kExitError;
    }
    const std::string auth = spec.users.empty()
                                 ? std::string(" (no authentication)")
                                 : " (basic authentication, " + std::to_string(spec.users.size()) +
                                       (spec.users.size() == 1 ? " user)" : " users)");
    std::fprintf(stderr, "facegraph: serving the annotated video at %s%s\n", serve->url().c_str(),
                 auth.c_str());
  }
  fg::CameraControlLock camera_lock(pipeline, opt.camera);
  fg::LeakyQueueDrops drops;  // the live graphs' leaky queue: frames dropped, at the end
  drops.Attach(pipeline);
  if (opt.hooks && !opt.hooks->OnPipeline(pipeline, &error)) {
    std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), error.c_str());
    gst_object_unref(pipeline);
    return kExitUsage;
  }
  if (uses_out && g_mkdir_with_parents(out_dir.c_str(), 0755) != 0) {
    std::fprintf(stderr, "facegraph: %s: cannot create output directory %s: %s\n",
                 opt.file.c_str(), out_dir.c_str(), std::strerror(errno));
    gst_object_unref(pipeline);
    return kExitError;
  }

  // Per connection: a reconnection builds the pipeline anew (gst-launch's delayed links, such
  // as rtspsrc's pads to decodebin, are made once per pipeline), so the table is the last one's.
  auto probes = std::make_unique<LatencyProbes>();
  probes->Attach(GST_BIN(pipeline));
  if (opt.streams) opt.streams->Attach(GST_BIN(pipeline));
  InputWatch input;
  input.Attach(GST_BIN(pipeline));
  // The live page (--http): its branch goes in after the probes, so it is not in the table.
  // The kiosk's server (`page = on`) is started by the kiosk and attached here like --http's.
  std::unique_ptr<fg::HttpPage> own_page;
  fg::HttpPage* page = opt.page;
  if (page && !page->Attach(pipeline, &error)) std::fprintf(stderr, "facegraph: page: %s\n", error.c_str());
  if (!opt.http.empty()) {
    fg::HttpPageOptions page_options;
    if (!fg::ParseHttpAddress(opt.http, &page_options.host, &page_options.port, &error) ||
        !(own_page = std::make_unique<fg::HttpPage>(page_options))->Start(&error)) {
      std::fprintf(stderr, "facegraph: --http: %s\n", error.c_str());
      gst_object_unref(pipeline);
      return kExitUsage;
    }
    page = own_page.get();
    if (!page->Attach(pipeline, &error)) std::fprintf(stderr, "facegraph: --http: %s\n", error.c_str());
    std::fprintf(stderr, "facegraph: live page at %s\n", page->Url().c_str());
    if (!fg::IsLoopbackAddress(page_options.host))
      std::fprintf(stderr, "facegraph: --http: %s is not loopback: whoever reaches it sees the "
                           "video and the measurements (no login, no TLS)\n", page_options.host.c_str());
  }
  std::string report_json = opt.report ? JsonFileOf(pipeline) : "";
  if (opt.report && report_json.empty()) {
    std::fprintf(stderr, "facegraph: --report: the graph has no facejson writing to a file\n");
    gst_object_unref(pipeline);
    return kExitUsage;
  }
  const int64_t run_started_ns = NowNs();
  int64_t stats_published_ns = 0;
  // Prints an error and, when the input explains it, what the input held.
  auto report_error = [&](GstMessage* msg) {
    PrintMessage(opt.file, msg);
    const std::string why = input.Explain(GST_MESSAGE_SRC(msg));
    if (!why.empty()) std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), why.c_str());
  };

  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);  // systemctl stop: the same orderly end as Ctrl-C

  GstBus* bus = gst_element_get_bus(pipeline);
  int status = -1;
  NetworkCounters net;
  const int64_t stall_ns = static_cast<int64_t>(opt.stall_timeout_s * 1e9);
  const double first_backoff_s = std::min(kFirstBackoffS, opt.max_backoff_s);
  double backoff_s = first_backoff_s;
  int64_t restart_at = -1;       // NowNs when the next reconnection attempt starts; -1: none due
  int64_t started_ns = NowNs();  // the last (re)start: the stall timer counts from here too
  bool live = false;             // a live pipeline (no preroll): its EOS may be a lost source

  // Tears the pipeline down and schedules the next attempt (back-off doubling to kMaxBackoffS).
  auto schedule_restart = [&](const std::string& why) {
    net.AddRtpLoss(GST_BIN(pipeline));
    if (opt.streams) opt.streams->Detach();
    gst_element_set_state(pipeline, GST_STATE_NULL);
    net.gaps_before += input.Gaps();
    input.Detach();
    std::fprintf(stderr, "facegraph: %s: %s; reconnecting in %.1f s\n", opt.file.c_str(),
                 why.c_str(), backoff_s);
    restart_at = NowNs() + static_cast<int64_t>(backoff_s * 1e9);
    backoff_s = std::min(backoff_s * 2, opt.max_backoff_s);
  };
  // Starts (or restarts) the pipeline; false when the state change failed at once.
  auto start = [&]() {
    started_ns = NowNs();
    const GstStateChangeReturn ret = gst_element_set_state(pipeline, GST_STATE_PLAYING);
    live = ret == GST_STATE_CHANGE_NO_PREROLL;
    return ret != GST_STATE_CHANGE_FAILURE;
  };
  // Prints the start failure's cause from the bus; true when a reconnection may cure it.
  auto report_start_failure = [&]() {
    // The first error is the cause; later ones (e.g. "state change failed") follow from it.
    bool printed = false, curable = false;
    while (GstMessage* msg = gst_bus_pop_filtered(
               bus, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
        input.OnElementMessage(msg);
        gst_message_unref(msg);
        continue;
      }
      if (!printed) curable = Reconnectable(msg, input);
      if (!printed || opt.verbose) report_error(msg);
      gst_message_unref(msg);
      printed = true;
    }
    if (!printed)
      std::fprintf(stderr, "facegraph: %s: the pipeline failed to start\n", opt.file.c_str());
    return curable;
  };

  if (!start()) {
    if (report_start_failure() && opt.reconnect)
      schedule_restart("the source could not be opened");
    else
      status = kExitError;
  }

  int64_t eos_deadline = -1;  // set once EOS was sent after SIGINT
  int seen_interrupts = 0;
  int64_t next_tick_ns = 0;
  while (status < 0) {
    if (opt.hooks && NowNs() >= next_tick_ns) {
      next_tick_ns = NowNs() + 500'000'000;
      fg::RunStats stats;
      stats.now_ns = NowNs();
      stats.frames = std::max<int64_t>(input.Frames(), 0);
      stats.last_frame_ns = input.LastFrameNs();
      stats.started_ns = started_ns;
      stats.waiting = restart_at >= 0;
      stats.reconnects = net.reconnects;
      stats.stalls = net.stalls;
      stats.dropped = drops.Dropped();
      stats.elements = probes->Snapshot();
      opt.hooks->OnTick(stats);
    }
    if (g_interrupts != seen_interrupts) {
      seen_interrupts = g_interrupts;
      if (restart_at >= 0) {  // between attempts nothing is playing: stop now
        std::fprintf(stderr, "facegraph: interrupted while waiting to reconnect\n");
        status = kExitInterrupted;
        break;
      }
      if (eos_deadline < 0) {
        std::fprintf(stderr, "facegraph: interrupted, sending EOS (Ctrl-C again to stop now)\n");
        gst_element_send_event(pipeline, gst_event_new_eos());
        eos_deadline =
            NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(kEosTimeout).count();
      } else {
        status = kExitInterrupted;
        break;
      }
    }
    if (eos_deadline >= 0 && NowNs() > eos_deadline) {
      std::fprintf(stderr, "facegraph: no EOS within %lld s, stopping\n",
                   static_cast<long long>(kEosTimeout.count()));
      status = kExitInterrupted;
      break;
    }
    if (restart_at >= 0) {
      if (NowNs() < restart_at) {
        g_usleep(20000);
        continue;
      }
      restart_at = -1;
      ++net.reconnects;
      // A new pipeline from the same description (it parsed before, so it parses now).
      gst_object_unref(bus);
      gst_object_unref(pipeline);
      pipeline = Build(description, &parse_message);
      if (!pipeline) {
        std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), parse_message.c_str());
        return kExitError;
      }
      fg::ApplyCamera(pipeline, camera);
      if (serve && !serve->Attach(pipeline, &error)) {
        std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), error.c_str());
        gst_object_unref(pipeline);
        return kExitError;
      }
      drops.Attach(pipeline);
      if (opt.hooks) opt.hooks->OnPipeline(pipeline, &error);  // refused before: cannot fail now
      bus = gst_element_get_bus(pipeline);
      probes = std::make_unique<LatencyProbes>();
      probes->Attach(GST_BIN(pipeline));
      if (opt.streams) opt.streams->Attach(GST_BIN(pipeline));
      input.Attach(GST_BIN(pipeline));
      if (page && !page->Attach(pipeline, &error))
        std::fprintf(stderr, "facegraph: --http: %s\n", error.c_str());
      AppendJsonOnRestart(input);
      if (!start()) {
        report_start_failure();
        schedule_restart("the source could not be opened");
      }
      continue;
    }
    camera_lock.Poll(NowNs(), input.Frames() > 0);
    if (page && NowNs() - stats_published_ns >= 1'000'000'000) {
      stats_published_ns = NowNs();
      page->PublishStats(probes->Stats(), input.Frames());
    }
    // Frames flow again since the last (re)start: the next failure starts the back-off anew.
    if (input.LastFrameNs() > started_ns) backoff_s = first_backoff_s;
    // A source that stopped sending without EOS or error (a camera or server that hangs).
    if (stall_ns > 0 && eos_deadline < 0 &&
        NowNs() - std::max(input.LastFrameNs(), started_ns) > stall_ns) {
      ++net.stalls;
      char why[96];
      std::snprintf(why, sizeof why, "no frame for %.1f s (the source stalled)", opt.stall_timeout_s);
      if (opt.reconnect) {
        schedule_restart(why);
        continue;
      }
      std::fprintf(stderr, "facegraph: %s: error: %s\n", opt.file.c_str(), why);
      status = kExitError;
      break;
    }
    GstMessage* msg = gst_bus_timed_pop_filtered(
        bus, 50 * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS |
                                    GST_MESSAGE_STATE_CHANGED | GST_MESSAGE_ELEMENT));
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS:
        if (opt.verbose) std::fprintf(stderr, "facegraph: end of stream\n");
        // A live source that ends by itself (a server that closed the session) is a lost
        // source when reconnecting; a file's end, or the EOS a Ctrl-C sent, is the end.
        if (opt.reconnect && (live || opt.restart_on_eos) && eos_deadline < 0) {
          schedule_restart("the live source ended");
          break;
        }
        status = eos_deadline >= 0 ? kExitInterrupted : kExitOk;
        // A graph that analyses frames but got none has not done its job, however cleanly
        // the stream ended (an empty or truncated file that the demuxer still "plays").
        if (status == kExitOk && input.Frames() == 0) {
          const std::string why = input.Explain();
          std::fprintf(stderr, "facegraph: %s: error: the stream ended without a single video "
                               "frame reaching the analysis%s%s\n",
                       opt.file.c_str(), why.empty() ? "" : ": ", why.c_str());
          status = kExitError;
        }
        break;
      case GST_MESSAGE_ELEMENT:
        input.OnElementMessage(msg);
        break;
      case GST_MESSAGE_ERROR:
        report_error(msg);
        if (opt.reconnect && eos_deadline < 0 && Reconnectable(msg, input)) {
          schedule_restart("the source failed");
          break;
        }
        status = kExitError;
        break;
      case GST_MESSAGE_WARNING:
        PrintMessage(opt.file, msg);
        if (opt.fatal_warnings) status = kExitError;
        break;
      case GST_MESSAGE_STATE_CHANGED:
        if (opt.verbose && GST_MESSAGE_SRC(msg) == GST_OBJECT(pipeline)) {
          GstState old_state, new_state;
          gst_message_parse_state_changed(msg, &old_state, &new_state, nullptr);
          std::fprintf(stderr, "facegraph: pipeline %s -> %s\n",
                       gst_element_state_get_name(old_state),
                       gst_element_state_get_name(new_state));
        }
        break;
      default:
        break;
    }
    gst_message_unref(msg);
  }

  if (opt.hooks) opt.hooks->OnStopping();
  drops.Print();
  net.AddRtpLoss(GST_BIN(pipeline));
  if (opt.streams) opt.streams->Detach();
  gst_element_set_state(pipeline, GST_STATE_NULL);
  camera_lock.Restore();
  gst_object_unref(bus);
  if (input.Frames() >= 0)
    std::fprintf(stderr, "facegraph: %lld video frames analysed\n",
                 static_cast<long long>(input.Frames()));
  if (opt.reconnect || net.rtp_lost > 0 || net.stalls > 0) {
    std::fprintf(stderr,
                 "facegraph: network: %d reconnection attempts, %d stalls, %llu RTP packets lost, %llu "
                 "gaps (DISCONT frames) in the analysed stream\n",
                 net.reconnects, net.stalls, static_cast<unsigned long long>(net.rtp_lost),
                 static_cast<unsigned long long>(net.gaps_before + input.Gaps()));
  }
  if (opt.files.size() <= 1 || opt.verbose) probes->Print();  // several: the stream table
  if (page) {
    page->Stop();
    const fg::HttpPageCounters c = page->counters();
    std::fprintf(stderr,
                 "facegraph: live page: %llu requests, %llu refused, %llu bad, %llu video and %llu "
                 "event clients, %llu slow clients dropped, %llu frames encoded\n",
                 (unsigned long long)c.requests, (unsigned long long)c.refused,
                 (unsigned long long)c.bad_requests, (unsigned long long)c.video_clients_total,
                 (unsigned long long)c.event_clients_total, (unsigned long long)c.slow_clients_dropped,
                 (unsigned long long)c.frames_encoded);
  }
  if (opt.report && (status == kExitOk || status == kExitInterrupted)) {
    fg::RunSpeed speed;
    speed.wall_s = (NowNs() - run_started_ns) / 1e9;
    speed.frames = input.Frames();
    speed.elements = probes->Stats();
    const std::string html = opt.report_file.empty() ? fg::DefaultReportPath(report_json) : opt.report_file;
    std::string warnings;
    std::ofstream(report_json + ".speed.json") << fg::RunSpeedToJson(speed) << "\n";
    if (fg::WriteReport(report_json, html, &speed, &error, &warnings)) {
      std::fprintf(stderr, "facegraph: report: %s\n", html.c_str());
    } else {
      std::fprintf(stderr, "facegraph: report: %s\n", error.c_str());
      if (status == kExitOk) status = kExitError;
    }
  }
  gst_object_unref(pipeline);
  return status;
}

}  // namespace

// autovideosink tries every video sink of rank marginal or more; DirectFB's (from Debian's
// gstreamer1.0-plugins-bad, which brings the H.264/H.265 parsers) crashes the process in its
// own thread where there is no framebuffer, instead of failing its state change like the X11
// and GL sinks. It is taken out of autoplugging unless the user ranked it themselves
// (GST_PLUGIN_FEATURE_RANK, the same variable works for gst-launch-1.0).
void DemoteCrashingSinks() {
  const char* ranks = std::getenv("GST_PLUGIN_FEATURE_RANK");
  std::string value = ranks ? ranks : "";
  if (value.find("dfbvideosink") != std::string::npos) return;
  value += (value.empty() ? "" : ",") + std::string("dfbvideosink:NONE");
  setenv("GST_PLUGIN_FEATURE_RANK", value.c_str(), 1);
}

// `facegraph kiosk CONFIG [--print-graph] [--verbose]` (tools/runner/kiosk.h, docs/kiosk.md):
// the config's graph in Run's loop, reconnecting on any loss, with the kiosk's hooks.
int RunKiosk(const std::vector<std::string>& args) {
  std::string path;
  bool print = false, verbose = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--print-graph") print = true;
    else if (args[i] == "--verbose" || args[i] == "-v") verbose = true;
    else if (!args[i].empty() && args[i][0] != '-' && path.empty()) path = args[i];
    else return Usage();
  }
  if (path.empty()) return Usage();
  fg::KioskConfig cfg;
  std::string error;
  if (!fg::LoadKioskConfig(path, &cfg, &error)) {
    std::fprintf(stderr, "facegraph: %s\n", error.c_str());
    return kExitUsage;
  }
  Options opt;
  opt.command = "run";
  opt.verbose = verbose;
  if (cfg.graph.empty()) {
    opt.file = path;
    opt.description = fg::KioskGraph(cfg);
  } else {
    opt.file = cfg.graph;  // a graph file of its own; $FACEGRAPH_OUT etc. as for `run`
  }
  if (print) {
    std::printf("%s\n", opt.description.empty() ? ("graph file " + cfg.graph).c_str()
                                                   : opt.description.c_str());
    return kExitOk;
  }
  opt.reconnect = true;
  opt.restart_on_eos = true;
  opt.stall_timeout_s = cfg.stall_timeout_s;
  opt.max_backoff_s = cfg.max_backoff_s;
  opt.camera.max_height = cfg.max_height;
  if (cfg.source.empty() && cfg.graph.empty()) opt.camera.device = cfg.camera;
  fg::KioskSession session(cfg);
  if (!session.Start(&error)) {
    std::fprintf(stderr, "facegraph: %s: %s\n", path.c_str(), error.c_str());
    return kExitUsage;
  }
  opt.hooks = &session;
  opt.page = session.page();
  return Run(opt);
}

int main(int argc, char** argv) {
  DemoteCrashingSinks();
  gst_init(&argc, &argv);  // takes --gst-* options
  Options opt;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage();
  if (args[0] == "-h" || args[0] == "--help") return Usage(stdout);
  opt.command = args[0];
  if (opt.command == "report") {
    const int status = fg::ReportMain(std::vector<std::string>(args.begin() + 1, args.end()));
    gst_deinit();
    return status;
  }
  if (opt.command == "kiosk") {
    const int status = RunKiosk(args);
    gst_deinit();
    return status;
  }
  if (opt.command != "run" && opt.command != "check" && opt.command != "cameras" &&
      opt.command != "serve")
    return Usage();
  if (const char* cam = std::getenv("FACEGRAPH_CAMERA")) opt.camera.device = cam;
  if (const char* caps = std::getenv("FACEGRAPH_CAMERA_CAPS")) opt.camera.caps = caps;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--verbose" || args[i] == "-v") {
      opt.verbose = true;
    } else if (args[i] == "--fatal-warnings") {
      opt.fatal_warnings = true;
    } else if (args[i] == "--reconnect") {
      opt.reconnect = true;
      if (opt.stall_timeout_s == 0) opt.stall_timeout_s = kDefaultStallS;
    } else if (args[i].rfind("--stall-timeout=", 0) == 0) {
      char* end = nullptr;
      const std::string v = args[i].substr(16);
      opt.stall_timeout_s = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(opt.stall_timeout_s >= 0)) {
        std::fprintf(stderr, "facegraph: --stall-timeout wants seconds >= 0, not \"%s\"\n", v.c_str());
        return Usage();
      }
    } else if (args[i].rfind("--camera=", 0) == 0) {
      opt.camera.device = args[i].substr(9);
      opt.camera.device_from_flag = true;
    } else if (args[i].rfind("--camera-caps=", 0) == 0) {
      opt.camera.caps = args[i].substr(14);
    } else if (args[i].rfind("--modes-file=", 0) == 0) {
      opt.modes_file = args[i].substr(13);
    } else if (args[i].rfind("--rtsp=", 0) == 0) {
      opt.rtsp = args[i].substr(7);
    } else if (args[i] == "--rtsp" && i + 1 < args.size()) {
      opt.rtsp = args[++i];
    } else if (args[i].rfind("--rtsp-auth-file=", 0) == 0) {
      opt.rtsp_auth_file = args[i].substr(17);
    } else if (args[i] == "--rtsp-auth-file" && i + 1 < args.size()) {
      opt.rtsp_auth_file = args[++i];
    } else if (args[i] == "--rtsp-no-auth") {
      opt.rtsp_no_auth = true;
    } else if (args[i] == "--http" && i + 1 < args.size()) {
      opt.http = args[++i];
    } else if (args[i].rfind("--http=", 0) == 0) {
      opt.http = args[i].substr(7);
    } else if (args[i] == "--report" || args[i].rfind("--report=", 0) == 0) {
      opt.report = true;
      if (args[i].size() > 9) opt.report_file = args[i].substr(9);
    } else if (args[i].rfind("--stats-json=", 0) == 0) {
      opt.stats_json = args[i].substr(13);
    } else if (args[i] == "--no-camera-lock") {
      opt.camera.lock_controls = false;
    } else if (args[i].rfind("--max-height=", 0) == 0) {
      char* end = nullptr;
      const std::string v = args[i].substr(13);
      const long h = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || h <= 0 || h > 100000) {
        std::fprintf(stderr, "facegraph: --max-height wants a positive number of lines, not \"%s\"\n",
                     v.c_str());
        return Usage();
      }
      opt.camera.max_height = static_cast<int>(h);
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::fprintf(stderr, "facegraph: unknown option %s\n", args[i].c_str());
      return Usage();
    } else if (opt.file.empty() || opt.command == "run") {
      if (opt.file.empty()) opt.file = args[i];
      opt.files.push_back(args[i]);
    } else {
      return Usage();
    }
  }
  if (opt.command == "cameras") {
    if (!opt.file.empty()) return Usage();
    ScanPluginDir(opt.verbose);
    const int status = fg::ListCameras(opt.camera, opt.modes_file);
    gst_deinit();
    return status;
  }
  if (opt.file.empty()) return Usage();
  // serve is run with the video also served over RTSP; --rtsp belongs to serve only.
  if ((opt.command == "serve") != !opt.rtsp.empty()) {
    std::fprintf(stderr, "facegraph: %s\n", opt.command == "serve"
                                                ? "serve needs --rtsp [ADDRESS:]PORT/PATH"
                                                : "--rtsp is an option of facegraph serve");
    return Usage();
  }
  if (opt.command != "serve" && (!opt.rtsp_auth_file.empty() || opt.rtsp_no_auth)) {
    std::fprintf(stderr, "facegraph: --rtsp-auth-file and --rtsp-no-auth are options of "
                         "facegraph serve\n");
    return Usage();
  }
  // Several graphs (or --stats-json): one runner thread per graph, counters per stream.
  const int status =
      opt.files.size() > 1 || !opt.stats_json.empty()
          ? fg::RunStreams(opt.files, OutBase(),
                           [&opt](const std::string& file, const std::string& out_dir,
                                  fg::StreamStats* stats) {
                             Options one = opt;
                             one.file = file;
                             one.out_dir = out_dir;
                             one.streams = stats;
                             return Run(one);
                           },
                           opt.stats_json)
          : Run(opt);
  gst_deinit();
  return status;
}
