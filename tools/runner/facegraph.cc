// facegraph: runs a graph file (a GStreamer pipeline in gst-launch syntax) and reports where
// the time went.
//
// Usage:
//   facegraph run FILE [--verbose] [--fatal-warnings]
//   facegraph check FILE          parse and link only (no state change); exit 0 or 2
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
// $FACEGRAPH_PLUGIN_DIR when set, else the build's plugin directory (compiled in). Both add to
// whatever GST_PLUGIN_PATH and the system paths provide.
//
// Exit status:
//   0    the pipeline reached end-of-stream
//   1    a bus ERROR (printed with the element that posted it and its debug text, and, when
//        the input is the cause, what it held: a missing decoder with the Debian package that
//        brings it, no video stream, nothing readable), a failed state change, a stream that
//        ended without a single frame reaching a facegraph element, or (with
//        --fatal-warnings) a bus WARNING
//   2    usage error, unreadable graph file, parse error or missing element / failed link
//   130  interrupted (SIGINT): EOS is sent and awaited for up to 5 s so files are finalised
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

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;
constexpr auto kEosTimeout = std::chrono::seconds(5);
constexpr size_t kLatencyWindow = 4096;
constexpr size_t kMaxInFlight = 256;  // PTS remembered per element between sink and src

volatile std::sig_atomic_t g_interrupts = 0;

void OnSigint(int) { g_interrupts = g_interrupts + 1; }

int Usage() {
  std::fprintf(stderr,
               "usage: facegraph run FILE [--verbose] [--fatal-warnings]\n"
               "       facegraph check FILE\n"
               "Runs a GStreamer graph file (gst-launch syntax, '#' comment lines).\n"
               "$FACEGRAPH_OUT in the file is replaced by $FACEGRAPH_OUT (default: out),\n"
               "$FACEGRAPH_INPUT by $FACEGRAPH_INPUT (no default: set it).\n");
  return kExitUsage;
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
bool LoadGraph(const std::string& path, std::string* description, std::string* out_dir,
               bool* uses_out, std::string* error) {
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
  *out_dir = (env && *env) ? env : "out";
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
void ScanPluginDir(bool verbose) {
  const char* env = std::getenv("FACEGRAPH_PLUGIN_DIR");
  const std::string dir = (env && *env) ? env : FG_PLUGIN_DIR;
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
        for (GList* l = element->sinkpads; l; l = l->next)
          gst_pad_add_probe(GST_PAD(l->data), GST_PAD_PROBE_TYPE_BUFFER, CountFrame, &frames_[element],
                            nullptr);
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

  // The explanation of an error, or "" when the input is not its cause.
  std::string Explain() const {
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
    if (decoders_ && pads_.empty() && unknown_.empty())
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
    for (const auto& [element, n] : frames_) most = std::max<int64_t>(most, n.load());
    return most;
  }

 private:
  static GstPadProbeReturn CountFrame(GstPad*, GstPadProbeInfo*, gpointer data) {
    static_cast<std::atomic<int64_t>*>(data)->fetch_add(1, std::memory_order_relaxed);
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
  std::map<GstElement*, std::atomic<int64_t>> frames_;
};

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

struct Options {
  std::string command;
  std::string file;
  bool verbose = false;
  bool fatal_warnings = false;
};

int Run(const Options& opt) {
  std::string description, out_dir, error;
  bool uses_out = false;
  if (!LoadGraph(opt.file, &description, &out_dir, &uses_out, &error)) {
    std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), error.c_str());
    return kExitUsage;
  }
  ScanPluginDir(opt.verbose);
  if (opt.verbose) std::fprintf(stderr, "facegraph: pipeline: %s\n", description.c_str());

  GError* parse_error = nullptr;
  GstElement* pipeline = gst_parse_launch_full(description.c_str(), nullptr,
                                               GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (!pipeline || parse_error) {
    std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(),
                 parse_error ? parse_error->message : "could not build the pipeline");
    g_clear_error(&parse_error);
    if (pipeline) gst_object_unref(pipeline);
    return kExitUsage;
  }
  if (!GST_IS_PIPELINE(pipeline)) {  // a single element: wrap it so it has a bus and clock
    GstElement* bin = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(bin), pipeline);
    pipeline = bin;
  }
  if (opt.command == "check") {
    gst_object_unref(pipeline);
    std::fprintf(stderr, "facegraph: %s: ok\n", opt.file.c_str());
    return kExitOk;
  }
  if (uses_out && g_mkdir_with_parents(out_dir.c_str(), 0755) != 0) {
    std::fprintf(stderr, "facegraph: %s: cannot create output directory %s: %s\n",
                 opt.file.c_str(), out_dir.c_str(), std::strerror(errno));
    gst_object_unref(pipeline);
    return kExitError;
  }

  LatencyProbes probes;
  probes.Attach(GST_BIN(pipeline));
  InputWatch input;
  input.Attach(GST_BIN(pipeline));
  // Prints an error and, when the input explains it, what the input held.
  auto report_error = [&](GstMessage* msg) {
    PrintMessage(opt.file, msg);
    const std::string why = input.Explain();
    if (!why.empty()) std::fprintf(stderr, "facegraph: %s: %s\n", opt.file.c_str(), why.c_str());
  };

  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);

  GstBus* bus = gst_element_get_bus(pipeline);
  int status = -1;
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The reason is on the bus (e.g. a device or file that cannot be opened).
    // The first error is the cause; later ones (e.g. "state change failed") follow from it.
    bool printed = false;
    while (GstMessage* msg = gst_bus_pop_filtered(
               bus, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT) {
        input.OnElementMessage(msg);
        gst_message_unref(msg);
        continue;
      }
      if (!printed || opt.verbose) report_error(msg);
      gst_message_unref(msg);
      printed = true;
    }
    if (!printed)
      std::fprintf(stderr, "facegraph: %s: the pipeline failed to start\n", opt.file.c_str());
    status = kExitError;
  }

  int64_t eos_deadline = -1;  // set once EOS was sent after SIGINT
  int seen_interrupts = 0;
  while (status < 0) {
    if (g_interrupts != seen_interrupts) {
      seen_interrupts = g_interrupts;
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
    GstMessage* msg = gst_bus_timed_pop_filtered(
        bus, 50 * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_EOS |
                                    GST_MESSAGE_STATE_CHANGED | GST_MESSAGE_ELEMENT));
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS:
        if (opt.verbose) std::fprintf(stderr, "facegraph: end of stream\n");
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

  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  if (input.Frames() >= 0)
    std::fprintf(stderr, "facegraph: %lld video frames analysed\n",
                 static_cast<long long>(input.Frames()));
  probes.Print();
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

int main(int argc, char** argv) {
  DemoteCrashingSinks();
  gst_init(&argc, &argv);  // takes --gst-* options
  Options opt;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") return Usage();
  opt.command = args[0];
  if (opt.command != "run" && opt.command != "check") return Usage();
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--verbose" || args[i] == "-v") {
      opt.verbose = true;
    } else if (args[i] == "--fatal-warnings") {
      opt.fatal_warnings = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      std::fprintf(stderr, "facegraph: unknown option %s\n", args[i].c_str());
      return Usage();
    } else if (opt.file.empty()) {
      opt.file = args[i];
    } else {
      return Usage();
    }
  }
  if (opt.file.empty()) return Usage();
  const int status = Run(opt);
  gst_deinit();
  return status;
}
