// live_latency: the latency a live 30 fps graph adds between the camera and the display, and
// the frames the leaky queue drops before the analysis (issue 13, "Live sources"). Not a test:
// a measurement to run by hand; results with date and machine go in docs/cameras.md.
//
// Two pipelines, one after the other, each for --seconds (default 20) of live frames:
//   baseline  SRC ! CAPS ! queue leaky ! videoconvert                                ! fakesink
//   analysis  SRC ! CAPS ! queue leaky ! videoconvert ! facetrack ! faceemotion
//                                        ! facevitals ! faceannotate                 ! fakesink
// SRC is a live source that stamps each frame with the pipeline clock's running time when it
// is pushed: by default the public-domain astronaut photo (FG_ASTRONAUT) decoded once and sent
// at 30 fps by `imagefreeze is-live=true` (cheap, so the source keeps its rate as a camera does,
// and a real face for the analysis); --source=facesynthsrc (a synthetic face with a pulse, but
// rendered per frame: on a loaded machine it falls behind 30 fps and its timestamps, counted
// from the frame number, run ahead of the clock) or --source=videotestsrc (no face).
// A probe on fakesink's sink pad takes the clock's running time at each frame's arrival;
// arrival - PTS is the frame's latency from "capture" to the display sink (before the sink's
// sync wait; fakesink sync=true renders at PTS + the pipeline's latency, like a display). The
// added latency is the analysis pipeline's minus the baseline's (the source's own offset).
// The first second of frames is left out (start-up). Drops: buffers into the leaky queue minus
// buffers out of it (minus what it still holds at the end). Columns: frames measured, median,
// p99 and max of arrival - PTS, the share of frames over one frame interval (33.3 ms), buffers
// into the queue, dropped there, and the pipeline's reported latency (the sink shows a frame at
// PTS + this; a frame arriving later is late on the display).
//
//   build/tools/bench/live_latency [--seconds=20] [--width=640 --height=480]
//                                  [--source=photo|facesynthsrc|videotestsrc] [--analysis-only]
// Needs the plugin built (ninja gstfacegraph) and the models (tools/fetch-models).
#include <gst/gst.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Probe {
  std::mutex mu;
  std::vector<double> latency_ms;  // arrival - PTS, in running time
  GstSegment segment;
  GstClockTime skip_before = GST_SECOND;  // start-up frames left out
  uint64_t queue_in = 0, queue_out = 0, sink_frames = 0;
};

GstPadProbeReturn OnSink(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* p = static_cast<Probe*>(data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* e = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(e) == GST_EVENT_SEGMENT) {
      std::lock_guard<std::mutex> lock(p->mu);
      gst_event_copy_segment(e, &p->segment);
    }
    return GST_PAD_PROBE_OK;
  }
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  GstElement* sink = gst_pad_get_parent_element(pad);
  GstClock* clock = gst_element_get_clock(sink);
  const GstClockTime base = gst_element_get_base_time(sink);
  if (clock && GST_BUFFER_PTS_IS_VALID(b)) {
    const GstClockTime now = gst_clock_get_time(clock) - base;
    std::lock_guard<std::mutex> lock(p->mu);
    ++p->sink_frames;
    const GstClockTime rt = gst_segment_to_running_time(&p->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(b));
    if (GST_CLOCK_TIME_IS_VALID(rt) && rt >= p->skip_before)
      p->latency_ms.push_back((static_cast<double>(now) - static_cast<double>(rt)) / 1e6);
  }
  if (clock) gst_object_unref(clock);
  gst_object_unref(sink);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn Count(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* counter = static_cast<std::pair<Probe*, uint64_t Probe::*>*>(data);
  std::lock_guard<std::mutex> lock(counter->first->mu);
  ++(counter->first->*counter->second);
  return GST_PAD_PROBE_OK;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

struct Result {
  bool ok = false;
  size_t frames = 0;
  double median = 0, p99 = 0, max = 0, over_frame = 0;  // over_frame: share > 33.3 ms
  uint64_t queue_in = 0, dropped = 0, sink_frames = 0;
  GstClockTime reported_latency = 0;
};

Result Measure(const std::string& description, double seconds) {
  Result r;
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (!pipeline || err) {
    std::fprintf(stderr, "live_latency: %s\n", err ? err->message : "parse failed");
    g_clear_error(&err);
    return r;
  }
  Probe probe;
  gst_segment_init(&probe.segment, GST_FORMAT_TIME);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstElement* queue = gst_bin_get_by_name(GST_BIN(pipeline), "leak");
  GstPad* sink_pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(sink_pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                           GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    OnSink, &probe, nullptr);
  std::pair<Probe*, uint64_t Probe::*> in{&probe, &Probe::queue_in}, out{&probe, &Probe::queue_out};
  GstPad* qsink = gst_element_get_static_pad(queue, "sink");
  GstPad* qsrc = gst_element_get_static_pad(queue, "src");
  gst_pad_add_probe(qsink, GST_PAD_PROBE_TYPE_BUFFER, Count, &in, nullptr);
  gst_pad_add_probe(qsrc, GST_PAD_PROBE_TYPE_BUFFER, Count, &out, nullptr);

  GstBus* bus = gst_element_get_bus(pipeline);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::fprintf(stderr, "live_latency: the pipeline failed to start\n");
  } else {
    const gint64 end = g_get_monotonic_time() + static_cast<gint64>(seconds * 1e6);
    bool failed = false;
    while (!failed && g_get_monotonic_time() < end) {
      GstMessage* msg = gst_bus_timed_pop_filtered(
          bus, 100 * GST_MSECOND, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
      if (!msg) continue;
      if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError* e = nullptr;
        gst_message_parse_error(msg, &e, nullptr);
        std::fprintf(stderr, "live_latency: error from %s: %s\n", GST_MESSAGE_SRC_NAME(msg),
                     e ? e->message : "?");
        g_clear_error(&e);
      }
      failed = true;
      gst_message_unref(msg);
    }
    GstQuery* q = gst_query_new_latency();
    if (gst_element_query(pipeline, q)) gst_query_parse_latency(q, nullptr, &r.reported_latency, nullptr);
    gst_query_unref(q);
    guint level = 0;
    g_object_get(queue, "current-level-buffers", &level, nullptr);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    std::lock_guard<std::mutex> lock(probe.mu);
    r.ok = !failed && !probe.latency_ms.empty();
    r.frames = probe.latency_ms.size();
    r.median = Percentile(probe.latency_ms, 0.5);
    r.p99 = Percentile(probe.latency_ms, 0.99);
    r.max = Percentile(probe.latency_ms, 1.0);
    r.over_frame = static_cast<double>(std::count_if(probe.latency_ms.begin(), probe.latency_ms.end(),
                                                     [](double ms) { return ms > 1000.0 / 30; })) /
                   probe.latency_ms.size();
    r.queue_in = probe.queue_in;
    r.dropped = probe.queue_in - std::min<uint64_t>(probe.queue_in, probe.queue_out + level);
    r.sink_frames = probe.sink_frames;
  }
  gst_object_unref(qsink);
  gst_object_unref(qsrc);
  gst_object_unref(sink_pad);
  gst_object_unref(queue);
  gst_object_unref(sink);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return r;
}

void Print(const char* name, const Result& r) {
  std::printf("%-9s %7zu %10.2f %9.2f %9.2f %8.1f%% %10llu %8llu %9.1f%% %10.2f\n", name, r.frames,
              r.median, r.p99, r.max, 100 * r.over_frame, static_cast<unsigned long long>(r.queue_in),
              static_cast<unsigned long long>(r.dropped),
              r.queue_in ? 100.0 * r.dropped / r.queue_in : 0.0, r.reported_latency / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  double seconds = 20;
  int width = 640, height = 480;
  std::string source = "photo";
  bool analysis_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) seconds = std::atof(a.c_str() + 10);
    else if (a.rfind("--width=", 0) == 0) width = std::atoi(a.c_str() + 8);
    else if (a.rfind("--height=", 0) == 0) height = std::atoi(a.c_str() + 9);
    else if (a.rfind("--source=", 0) == 0) source = a.substr(9);
    else if (a == "--analysis-only") analysis_only = true;
    else {
      std::fprintf(stderr, "usage: live_latency [--seconds=S] [--width=W --height=H] "
                           "[--source=photo|facesynthsrc|videotestsrc] [--analysis-only]\n");
      return 2;
    }
  }
  if (!(seconds > 1) || width < 16 || height < 16 ||
      (source != "photo" && source != "facesynthsrc" && source != "videotestsrc")) {
    std::fprintf(stderr, "live_latency: --seconds > 1, sizes >= 16, source photo, facesynthsrc or "
                         "videotestsrc\n");
    return 2;
  }
  const char* dir = std::getenv("FACEGRAPH_PLUGIN_DIR");
  gst_registry_scan_path(gst_registry_get(), dir && *dir ? dir : FG_PLUGIN_DIR);

  char size[120];
  std::snprintf(size, sizeof size, "video/x-raw,format=I420,width=%d,height=%d", width, height);
  const std::string caps = std::string(size) + ",framerate=30/1";
  const std::string src =
      source == "photo"
          ? std::string("filesrc location=") + FG_ASTRONAUT +
                " ! pngdec ! videoconvert ! videoscale add-borders=true ! " + size +
                " ! imagefreeze is-live=true"
          : source + " is-live=true";
  const std::string head = src + " ! " + caps +
                           " ! queue name=leak max-size-buffers=2 max-size-time=0 "
                           "max-size-bytes=0 leaky=downstream ! videoconvert ! ";
  const std::string tail = "fakesink name=sink sync=true";
  const std::string analysis = "facetrack ! faceemotion ! facevitals ! faceannotate ! ";

  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "?";
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("machine: %s, %u cores, load average %.1f %.1f %.1f\n", model.c_str(),
              std::thread::hardware_concurrency(), load[0], load[1], load[2]);
  std::printf("source: %s (live), %dx%d I420 at 30 fps, %.0f s per pipeline (first 1 s left out)\n",
              source.c_str(), width, height, seconds);
  std::printf("%-9s %7s %10s %9s %9s %9s %10s %8s %10s %10s\n", "pipeline", "frames", "median ms",
              "p99 ms", "max ms", "> 33 ms", "queue in", "dropped", "drop %", "latency ms");
  Result base;
  if (!analysis_only) {
    base = Measure(head + tail, seconds);
    if (!base.ok) return 1;
    Print("baseline", base);
  }
  const Result an = Measure(head + analysis + tail, seconds);
  if (!an.ok) return 1;
  Print("analysis", an);
  if (!analysis_only) {
    std::printf("added by tracking+emotion+vitals+faceannotate: median %.2f ms, p99 %.2f ms "
                "(target: under one frame interval, 33.3 ms); %llu of %llu frames dropped before "
                "the analysis\n",
                an.median - base.median, an.p99 - base.median,
                static_cast<unsigned long long>(an.dropped),
                static_cast<unsigned long long>(an.queue_in));
  }
  getloadavg(load, 3);
  std::printf("load average after: %.1f %.1f %.1f\n", load[0], load[1], load[2]);
  gst_deinit();
  return 0;
}
