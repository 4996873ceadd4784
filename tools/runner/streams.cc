#include "tools/runner/streams.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "engine/graph/latency.h"

namespace fg {
namespace {

constexpr size_t kWindow = 4096;     // latency samples kept per stream
constexpr size_t kMaxInFlight = 256;  // frames remembered between head and tail
constexpr int kMaxWalk = 64;          // elements followed up or down a chain

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsOurs(GstElement* e) {
  GstElementFactory* f = gst_element_get_factory(e);
  if (!f) return false;
  GstPlugin* plugin = gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(f));
  const bool ours = plugin && std::string(gst_plugin_get_name(plugin)) == "facegraph";
  if (plugin) gst_object_unref(plugin);
  return ours;
}

std::string FactoryName(GstElement* e) {
  GstElementFactory* f = gst_element_get_factory(e);
  return f ? GST_OBJECT_NAME(f) : "";
}

// The element on the other side of `pad` (through ghost pads: a bin's element inside), or
// nullptr. The returned element is not referenced (the pipeline holds it).
GstElement* PeerElement(GstPad* pad) {
  GstPad* peer = gst_pad_get_peer(pad);
  if (!peer) return nullptr;
  GstElement* e = nullptr;
  // Into a bin through its ghost pad: follow the target to the element that really has it.
  GstPad* p = peer;
  gst_object_ref(p);
  for (int i = 0; i < kMaxWalk && GST_IS_GHOST_PAD(p); ++i) {
    GstPad* target = gst_ghost_pad_get_target(GST_GHOST_PAD(p));
    if (!target) break;
    gst_object_unref(p);
    p = target;
  }
  GstObject* parent = gst_pad_get_parent(p);
  if (parent && GST_IS_ELEMENT(parent)) e = GST_ELEMENT(parent);
  if (parent) gst_object_unref(parent);
  gst_object_unref(p);
  gst_object_unref(peer);
  return e;
}

// An analysis element: facegraph's, with a sink pad (not the synthetic source).
bool IsAnalysis(GstElement* e) { return e && e->numsinkpads > 0 && IsOurs(e); }

}  // namespace

struct StreamStats::Stream {
  std::string name;
  // Probe side (streaming threads).
  std::mutex mu;
  uint64_t frames = 0;
  int64_t first_ns = -1, last_ns = -1;
  std::deque<std::pair<GstClockTime, int64_t>> entered;  // (running time, NowNs) at the head
  LatencyWindow window{kWindow};
  // Runner-thread side: the attached pipeline's elements whose counters make the drops.
  std::vector<GstElement*> analysis;  // their "dropped" counters
  struct Queue {
    GstElement* queue = nullptr;
    std::atomic<uint64_t> in{0}, out{0};
  };
  std::vector<std::unique_ptr<Queue>> queues;  // leaky queues upstream of the head
  std::vector<std::unique_ptr<Queue>> retired;  // of detached pipelines (probes may still run)
  uint64_t drops_before = 0;                   // of pipelines already detached
};

namespace {

struct PadState {
  StreamStats::Stream* stream;  // NOLINT: opaque to the probes below
  GstSegment segment;
};

}  // namespace

StreamStats::StreamStats(std::string label) : label_(std::move(label)) {}
StreamStats::~StreamStats() = default;

void StreamStats::Attach(GstBin* pipeline) {
  // Every analysis element whose upstream chain has none: a stream's head.
  std::vector<GstElement*> heads;
  GstIterator* it = gst_bin_iterate_recurse(pipeline);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    if (!GST_IS_BIN(e) && IsAnalysis(e)) heads.push_back(e);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  // gst_bin_iterate_recurse lists sinks first; streams are numbered upstream-first by name.
  std::sort(heads.begin(), heads.end(),
            [](GstElement* a, GstElement* b) { return std::string(GST_ELEMENT_NAME(a)) < GST_ELEMENT_NAME(b); });

  for (GstElement* head : heads) {
    std::vector<GstElement*> leaky;
    bool has_upstream_analysis = false;
    GstElement* e = head;
    for (int i = 0; i < kMaxWalk && e && e->sinkpads; ++i) {
      GstElement* up = PeerElement(GST_PAD(e->sinkpads->data));
      if (!up) break;
      if (IsAnalysis(up)) {
        has_upstream_analysis = true;
        break;
      }
      if (FactoryName(up) == "queue") {
        gint mode = 0;
        g_object_get(up, "leaky", &mode, nullptr);
        if (mode != 0) leaky.push_back(up);
      }
      e = up;
    }
    if (has_upstream_analysis) continue;

    // The chain downstream: every analysis element; the last one is the tail.
    std::vector<GstElement*> chain = {head};
    e = head;
    for (int i = 0; i < kMaxWalk && e && e->srcpads; ++i) {
      GstElement* down = PeerElement(GST_PAD(e->srcpads->data));
      if (!down) break;
      if (IsAnalysis(down)) chain.push_back(down);
      e = down;
    }
    GstElement* tail = chain.back();

    const std::string name = label_ + ":" + GST_ELEMENT_NAME(head);
    Stream* s = nullptr;
    for (auto& existing : streams_)
      if (existing->name == name) s = existing.get();
    if (!s) {
      streams_.push_back(std::make_unique<Stream>());
      s = streams_.back().get();
      s->name = name;
    }
    s->analysis = chain;
    for (GstElement* q : leaky) {
      auto counted = std::make_unique<Stream::Queue>();
      counted->queue = q;
      auto* c = counted.get();
      auto count = [](GstPad*, GstPadProbeInfo*, gpointer data) {
        static_cast<std::atomic<uint64_t>*>(data)->fetch_add(1, std::memory_order_relaxed);
        return GST_PAD_PROBE_OK;
      };
      gst_pad_add_probe(GST_PAD(q->sinkpads->data), GST_PAD_PROBE_TYPE_BUFFER, count, &c->in, nullptr);
      gst_pad_add_probe(GST_PAD(q->srcpads->data), GST_PAD_PROBE_TYPE_BUFFER, count, &c->out, nullptr);
      s->queues.push_back(std::move(counted));
    }

    // Head sink: count and remember the frame; tail src: match it and record the latency.
    auto add = [s](GstPad* pad) {
      auto* st = new PadState{s, {}};
      gst_segment_init(&st->segment, GST_FORMAT_UNDEFINED);
      auto probe = [](GstPad* p, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
        auto* st = static_cast<PadState*>(data);
        if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
          GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
          if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) gst_event_copy_segment(ev, &st->segment);
          return GST_PAD_PROBE_OK;
        }
        GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
        GstClockTime key = GST_CLOCK_TIME_NONE;
        if (GST_BUFFER_PTS_IS_VALID(b))
          key = st->segment.format == GST_FORMAT_TIME
                    ? gst_segment_to_running_time(&st->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(b))
                    : GST_BUFFER_PTS(b);
        const int64_t now = NowNs();
        StreamStats::Stream* s = st->stream;
        std::lock_guard<std::mutex> lock(s->mu);
        if (GST_PAD_DIRECTION(p) == GST_PAD_SINK) {
          ++s->frames;
          if (s->first_ns < 0) s->first_ns = now;
          s->last_ns = now;
          if (!GST_CLOCK_TIME_IS_VALID(key)) return GST_PAD_PROBE_OK;
          if (s->entered.size() == kMaxInFlight) s->entered.pop_front();
          s->entered.emplace_back(key, now);
        } else if (GST_CLOCK_TIME_IS_VALID(key)) {
          auto it = std::find_if(s->entered.begin(), s->entered.end(),
                                 [&](const auto& e) { return e.first == key; });
          if (it == s->entered.end()) return GST_PAD_PROBE_OK;
          s->window.Record(static_cast<double>(now - it->second) / 1e6);
          s->entered.erase(s->entered.begin(), it + 1);  // older ones were dropped on the way
        }
        return GST_PAD_PROBE_OK;
      };
      gst_pad_add_probe(pad,
                        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                     GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                        probe, st, [](gpointer p) { delete static_cast<PadState*>(p); });
    };
    add(GST_PAD(head->sinkpads->data));
    if (tail->srcpads) add(GST_PAD(tail->srcpads->data));
  }
}

void StreamStats::Detach() {
  for (auto& s : streams_) {
    for (GstElement* e : s->analysis)
      if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), "dropped")) {
        guint64 d = 0;
        g_object_get(e, "dropped", &d, nullptr);
        s->drops_before += d;
      }
    for (auto& q : s->queues) {
      guint level = 0;
      g_object_get(q->queue, "current-level-buffers", &level, nullptr);
      const uint64_t in = q->in.load(), out = q->out.load();
      s->drops_before += in > out + level ? in - out - level : 0;
    }
    s->analysis.clear();
    // The probes may fire until the pipeline reaches NULL: their counters stay allocated.
    for (auto& q : s->queues) s->retired.push_back(std::move(q));
    s->queues.clear();
  }
}

std::vector<StreamCounters> StreamStats::Counters() const {
  std::vector<StreamCounters> out;
  for (const auto& s : streams_) {
    StreamCounters c;
    c.stream = s->name;
    std::lock_guard<std::mutex> lock(s->mu);
    c.frames = s->frames;
    if (s->frames > 1 && s->last_ns > s->first_ns)
      c.fps = static_cast<double>(s->frames - 1) * 1e9 / static_cast<double>(s->last_ns - s->first_ns);
    const LatencySummary l = s->window.Snapshot();
    c.latency_matched = l.count;
    c.latency_median_ms = l.p50_ms;
    c.latency_p99_ms = l.p99_ms;
    c.drops = s->drops_before;
    out.push_back(c);
  }
  return out;
}

bool ReportStreams(const std::vector<StreamCounters>& streams, const std::string& json_path) {
  std::fprintf(stderr, "facegraph: %zu stream%s:\n", streams.size(), streams.size() == 1 ? "" : "s");
  std::fprintf(stderr, "  %-36s %8s %8s %11s %11s %8s\n", "stream", "frames", "fps", "median ms",
               "p99 ms", "drops");
  for (const StreamCounters& c : streams)
    std::fprintf(stderr, "  %-36s %8llu %8.1f %11.3f %11.3f %8llu\n", c.stream.c_str(),
                 static_cast<unsigned long long>(c.frames), c.fps, c.latency_median_ms,
                 c.latency_p99_ms, static_cast<unsigned long long>(c.drops));
  if (json_path.empty()) return true;
  nlohmann::json j;
  j["streams"] = nlohmann::json::array();
  for (const StreamCounters& c : streams)
    j["streams"].push_back({{"stream", c.stream},
                            {"frames", c.frames},
                            {"fps", c.fps},
                            {"latency_ms",
                             {{"median", c.latency_median_ms},
                              {"p99", c.latency_p99_ms},
                              {"matched", c.latency_matched}}},
                            {"drops", c.drops}});
  std::ofstream f(json_path);
  f << j.dump(2) << "\n";
  if (!f) {
    std::fprintf(stderr, "facegraph: cannot write %s\n", json_path.c_str());
    return false;
  }
  return true;
}

int RunStreams(const std::vector<std::string>& files, const std::string& base_out,
               const std::function<int(const std::string&, const std::string&, StreamStats*)>& run,
               const std::string& stats_json) {
  std::vector<std::unique_ptr<StreamStats>> stats;
  std::vector<std::string> out_dirs;
  std::set<std::string> used;
  for (const std::string& f : files) {
    std::string stem = std::filesystem::path(f).stem().string();
    if (stem.empty()) stem = "stream";
    std::string unique = stem;
    for (int k = 2; used.count(unique); ++k) unique = stem + "-" + std::to_string(k);
    used.insert(unique);
    out_dirs.push_back(files.size() == 1 ? "" : base_out + "/" + unique);
    stats.push_back(std::make_unique<StreamStats>(files.size() == 1 ? f : unique));
  }
  std::vector<int> status(files.size(), 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < files.size(); ++i)
    threads.emplace_back([&, i] { status[i] = run(files[i], out_dirs[i], stats[i].get()); });
  for (std::thread& t : threads) t.join();

  std::vector<StreamCounters> all;
  for (const auto& s : stats)
    for (const StreamCounters& c : s->Counters()) all.push_back(c);
  const bool wrote = ReportStreams(all, stats_json);
  for (size_t i = 0; i < files.size(); ++i)
    if (status[i] != 0) {
      if (files.size() > 1)
        std::fprintf(stderr, "facegraph: %s ended with status %d\n", files[i].c_str(), status[i]);
    }
  for (int s : status)
    if (s != 0) return s;
  return wrote ? 0 : 1;
}

}  // namespace fg
