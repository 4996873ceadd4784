// The runner's HTTP server: the live page and its branch in the pipeline, the kiosk's /healthz
// and /metrics (http_page.h, docs/page.md, docs/kiosk.md).
#include "tools/runner/http_page.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/graph/latency.h"
#include "engine/json.h"
#include "plugins/gstfacemeta.h"  // the struct only: the plugin's functions are not linked

namespace fg {

// The page, compiled in from tools/runner/page/index.html (page_asset.cc.in).
extern const char kPageHtml[];

namespace {

constexpr size_t kLiveRing = 256;           // events a client may lag before it is dropped
constexpr size_t kHistoryChunk = 64 * 1024;  // bytes per write when replaying the history
constexpr int kVideoDelayWindow = 90;  // frames: the last 6 s at 15 fps

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Connections beyond the limit are served by the same threads, but answered 503 at once.
thread_local bool tls_over_limit = false;

// One thread per open connection, created on demand and kept for the next one, up to
// `limit` + `spare`; a connection that finds more than `limit` others open is refused (503)
// by the pre-routing handler; the `spare` threads are there so that the refusal happens at
// once. Beyond limit + spare, connections wait for a thread.
class ConnectionPool : public httplib::TaskQueue {
 public:
  ConnectionPool(int limit, int spare, std::atomic<int>* open)
      : limit_(limit), cap_(limit + spare), open_(open) {}
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
    // idle_ counts threads that have not yet taken a task since they woke: a new thread when
    // there are more waiting tasks than those.
    if (static_cast<size_t>(idle_) < tasks_.size() && static_cast<int>(threads_.size()) < cap_)
      threads_.emplace_back([this] { Work(); });
    else
      cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ++idle_;
        cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        --idle_;
        if (stop_ && tasks_.empty()) return;
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      }
      const int open = open_->fetch_add(1) + 1;
      tls_over_limit = open > limit_;
      fn();  // reads the request, answers, closes the socket
      open_->fetch_sub(1);
    }
  }

  const int limit_, cap_;
  std::atomic<int>* open_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;  // only the thread calling enqueue (the listener) adds
  int idle_ = 0;
  bool stop_ = false;
};

std::string SseBlock(const char* event, const std::string& data) {
  std::string s;
  s.reserve(data.size() + 32);
  s += "event: ";
  s += event;
  s += "\ndata: ";
  s += data;
  s += "\n\n";
  return s;
}

// A numeric 127.0.0.0/8, ::1 or ::ffff:127.x.y.z, or "localhost". Any other name is not
// known to be this machine: "127.example.com" resolves wherever its owner points it (the
// Host-header check below is what stops DNS rebinding).
bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

// The Host header's name without the port: one of this machine's loopback names.
bool LoopbackHost(const std::string& header) {
  std::string h = header;
  if (!h.empty() && h[0] == '[') {
    h = h.substr(1, h.find(']') == std::string::npos ? std::string::npos : h.find(']') - 1);
  } else if (const size_t colon = h.find(':'); colon != std::string::npos) {
    h.resize(colon);
  }
  return IsLoopback(h);
}

}  // namespace

bool IsLoopbackAddress(const std::string& host) { return IsLoopback(host); }

bool ParseHttpAddress(const std::string& text, std::string* host, int* port, std::string* error) {
  std::string h = "127.0.0.1", p = text;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("]:");
    if (close == std::string::npos) {
      *error = "wants PORT or ADDRESS:PORT or [IPV6]:PORT, not \"" + text + "\"";
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string::npos) {
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  char* end = nullptr;
  const long n = std::strtol(p.c_str(), &end, 10);
  if (h.empty() || p.empty() || *end || n < 0 || n > 65535) {
    *error = "wants PORT or ADDRESS:PORT (e.g. 127.0.0.1:8080), not \"" + text + "\"";
    return false;
  }
  *host = h;
  *port = static_cast<int>(n);
  return true;
}

struct HttpPage::Shared {
  HttpPageOptions opt;
  httplib::Server server;
  std::thread listener;
  int bound_port = -1;
  bool started = false;

  std::mutex mu;  // guards everything below up to the atomics
  std::condition_variable cv;
  bool stopping = false;
  // The newest JPEG (written by the appsink's streaming thread).
  uint64_t jpeg_seq = 0;
  std::shared_ptr<const std::string> jpeg;
  int64_t jpeg_capture_ns = -1;  // steady clock at the capture timestamp (live), else -1
  int64_t jpeg_source_ns = -1;   // steady clock when the source pushed the frame, else -1
  // Events: the live ring (SSE text blocks) and the history (frame lines without waveforms).
  std::deque<std::pair<uint64_t, std::shared_ptr<const std::string>>> live;
  uint64_t next_seq = 1;
  std::deque<std::shared_ptr<const std::string>> history;
  size_t history_cap = 3000;
  std::shared_ptr<const std::string> stats_json;
  // /metrics and /healthz (options.health): the owner's documents, replaced whole.
  std::shared_ptr<const std::string> metrics_text = std::make_shared<const std::string>();
  std::shared_ptr<const std::string> health_text = std::make_shared<const std::string>("starting\n");
  bool healthy = false;
  LatencyWindow video_delay{kVideoDelayWindow};  // source pushed -> written to a client, ms
  LatencyWindow video_age{kVideoDelayWindow};    // capture timestamp -> written to a client, ms
  // When the sources pushed their last frames, by PTS (source streaming threads write).
  std::mutex source_mu;
  std::deque<std::pair<GstClockTime, int64_t>> source_times;

  void OnSourceFrame(GstBuffer* buffer) {
    if (!GST_BUFFER_PTS_IS_VALID(buffer)) return;
    std::lock_guard<std::mutex> lock(source_mu);
    source_times.emplace_back(GST_BUFFER_PTS(buffer), SteadyNs());
    if (source_times.size() > 128) source_times.pop_front();
  }
  int64_t SourceTime(GstClockTime pts) {
    std::lock_guard<std::mutex> lock(source_mu);
    for (auto it = source_times.rbegin(); it != source_times.rend(); ++it)
      if (it->first == pts) return it->second;
    return -1;
  }
  int64_t last_stats_ns = -1;
  int64_t last_stats_frames = 0;

  std::atomic<int> video_clients{0}, event_clients{0}, connections{0};
  std::atomic<int64_t> frame_wanted_until_ns{0};  // /frame.jpg asked for a frame
  std::atomic<int64_t> last_video_pass_ns{0};     // branch probe: rate limit
  std::atomic<uint64_t> requests{0}, refused{0}, bad_requests{0}, video_total{0}, events_total{0},
      slow_dropped{0}, frames_encoded{0}, frames_sent{0}, events_sent{0};
  std::atomic<bool> has_video{false}, has_meta{false};

  // Streaming thread of the anchor element: one frame's metadata.
  int64_t last_event_pts = INT64_MIN;  // only that thread
  int64_t last_event_wall = INT64_MIN;
  GType meta_api = 0;

  void PushEvent(std::shared_ptr<const std::string> block) {
    std::lock_guard<std::mutex> lock(mu);
    live.emplace_back(next_seq++, std::move(block));
    if (live.size() > kLiveRing) live.pop_front();
    cv.notify_all();
  }

  void OnFrameMeta(GstBuffer* buffer) {
    if (meta_api == 0) meta_api = g_type_from_name("GstFaceGraphMetaAPI");
    const int64_t pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<int64_t>(GST_BUFFER_PTS(buffer)) : -1;
    const int64_t now = SteadyNs();
    const int64_t min_gap = static_cast<int64_t>(1e9 / std::max(0.1, opt.events_hz));
    // Time by the stream's own timestamps, so a file analysed faster than real time keeps its
    // trend; the wall clock where there are none.
    if (pts >= 0 && last_event_pts != INT64_MIN && pts >= last_event_pts &&
        pts - last_event_pts < min_gap - min_gap / 10)
      return;
    if (pts < 0 && now - last_event_wall < min_gap) return;
    last_event_pts = pts;
    last_event_wall = now;
    FrameFaces frame;
    frame.pts_ns = pts;
    if (meta_api) {
      if (GstMeta* m = gst_buffer_get_meta(buffer, meta_api)) {
        const FrameFaces& faces = reinterpret_cast<GstFaceGraphMeta*>(m)->faces;
        frame.faces.reserve(faces.faces.size());
        for (const Face& f : faces.faces) {
          Face c;
          c.id = f.id;
          c.box = f.box;
          c.score = f.score;
          c.pose = f.pose;
          c.emotion = f.emotion;
          c.vitals = f.vitals;
          c.actions = f.actions;
          frame.faces.push_back(std::move(c));  // no landmarks, no blendshapes: the page has no use for them
        }
      }
    }
    auto full = std::make_shared<const std::string>(SseBlock("frame", ToJsonLine(frame)));
    for (Face& f : frame.faces)
      if (f.vitals) f.vitals->bvp.clear(), f.vitals->bvp_fs = 0;
    auto light = std::make_shared<const std::string>(ToJsonLine(frame));
    has_meta = true;
    std::lock_guard<std::mutex> lock(mu);
    history.push_back(std::move(light));
    while (history.size() > history_cap) history.pop_front();
    live.emplace_back(next_seq++, std::move(full));
    if (live.size() > kLiveRing) live.pop_front();
    cv.notify_all();
  }

  // Branch probe (anchor's streaming thread): frames go to the encoder only while someone
  // watches, and at most max_fps.
  bool WantVideoFrame() {
    const int64_t now = SteadyNs();
    if (video_clients.load(std::memory_order_relaxed) == 0 &&
        frame_wanted_until_ns.load(std::memory_order_relaxed) < now)
      return false;
    const int64_t gap = static_cast<int64_t>(1e9 / std::max(0.1, opt.max_fps));
    const int64_t last = last_video_pass_ns.load(std::memory_order_relaxed);
    if (now - last < gap - gap / 10) return false;
    last_video_pass_ns.store(now, std::memory_order_relaxed);
    return true;
  }

  void OnJpeg(GstElement* sink) {
    GstSample* sample = nullptr;
    g_signal_emit_by_name(sink, "pull-sample", &sample);
    if (!sample) return;
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      auto jpeg_copy = std::make_shared<const std::string>(reinterpret_cast<const char*>(map.data), map.size);
      gst_buffer_unmap(buffer, &map);
      // How old the frame is: the pipeline clock now minus the frame's running time plus the
      // base time (live sources stamp frames with their capture time).
      int64_t capture = -1;
      const GstSegment* segment = gst_sample_get_segment(sample);
      GstClock* clock = gst_element_get_clock(sink);
      if (clock && segment && GST_BUFFER_PTS_IS_VALID(buffer)) {
        const GstClockTime running =
            gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
        const GstClockTime now = gst_clock_get_time(clock);
        const GstClockTime base = gst_element_get_base_time(sink);
        if (GST_CLOCK_TIME_IS_VALID(running) && now >= base + running)
          capture = SteadyNs() - static_cast<int64_t>(now - (base + running));
      }
      if (clock) gst_object_unref(clock);
      frames_encoded.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(mu);
      jpeg = std::move(jpeg_copy);
      jpeg_capture_ns = capture;
      jpeg_source_ns = GST_BUFFER_PTS_IS_VALID(buffer) ? SourceTime(GST_BUFFER_PTS(buffer)) : -1;
      ++jpeg_seq;
      cv.notify_all();
    }
    gst_sample_unref(sample);
  }
};

namespace {

// A streaming client takes one of `limit` slots of `clients` (released when its stream ends);
// over the limit it gets 503 with Retry-After and is counted in `refused`.
bool TakeClientSlot(std::atomic<int>& clients, int limit, std::atomic<uint64_t>& refused,
                    const char* what, httplib::Response& res) {
  if (clients.fetch_add(1) < limit) return true;
  clients.fetch_sub(1);
  refused.fetch_add(1, std::memory_order_relaxed);
  res.status = 503;
  res.set_header("Retry-After", "5");
  res.set_content(std::string("too many ") + what + " clients\n", "text/plain");
  return false;
}

// The last element of `pipeline` (stream order) made by `factory`, or by the facegraph plugin
// when factory is empty, that has a src pad. A reference, or nullptr.
GstElement* LastElement(GstBin* pipeline, const std::string& factory) {
  GstIterator* it = gst_bin_iterate_sorted(pipeline);  // sinks first
  GValue item = G_VALUE_INIT;
  GstElement* found = nullptr;
  while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* f = gst_element_get_factory(e);
    if (f && e->numsrcpads > 0) {
      const bool match = factory.empty()
                             ? g_strcmp0(gst_plugin_feature_get_plugin_name(GST_PLUGIN_FEATURE(f)), "facegraph") == 0
                             : factory == GST_OBJECT_NAME(f);
      if (match) found = GST_ELEMENT(gst_object_ref(e));
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return found;
}

// Probes carry a shared_ptr of their own: the pipeline may outlive the page or the reverse.
using SharedRef = std::shared_ptr<HttpPage::Shared>;
void DeleteRef(gpointer p) { delete static_cast<SharedRef*>(p); }

// The page's endpoints: /, /favicon.ico, /stats.json, /frame.jpg, /video.mjpg, /events.
void AddPageRoutes(HttpPage::Shared* s) {
  httplib::Server& svr = s->server;
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(kPageHtml, "text/html; charset=utf-8");
  });
  svr.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  svr.Get("/stats.json", [s](const httplib::Request&, httplib::Response& res) {
    std::shared_ptr<const std::string> stats;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      stats = s->stats_json;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(stats ? *stats : std::string("{}"), "application/json");
  });
  svr.Get("/frame.jpg", [s](const httplib::Request&, httplib::Response& res) {
    if (!s->has_video) {
      res.status = 404;
      res.set_content("this graph has no video branch (no facegraph element)\n", "text/plain");
      return;
    }
    s->frame_wanted_until_ns = SteadyNs() + 2'000'000'000;
    std::unique_lock<std::mutex> lock(s->mu);
    const uint64_t seq = s->jpeg_seq;
    s->cv.wait_for(lock, std::chrono::seconds(2), [&] { return s->stopping || s->jpeg_seq != seq; });
    if (!s->jpeg) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content("no frame yet\n", "text/plain");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(*s->jpeg, "image/jpeg");
  });

  svr.Get("/video.mjpg", [s](const httplib::Request&, httplib::Response& res) {
    if (!s->has_video) {
      res.status = 404;
      res.set_content("this graph has no video branch (no facegraph element)\n", "text/plain");
      return;
    }
    if (!TakeClientSlot(s->video_clients, s->opt.max_video_clients, s->refused, "video", res)) return;
    s->video_total.fetch_add(1, std::memory_order_relaxed);
    res.set_header("Cache-Control", "no-cache, no-store");
    auto last_seq = std::make_shared<uint64_t>(0);
    res.set_chunked_content_provider(
        "multipart/x-mixed-replace; boundary=fgframe",
        [s, last_seq](size_t, httplib::DataSink& sink) {
          std::shared_ptr<const std::string> jpeg;
          int64_t capture = -1, pushed = -1;
          {
            std::unique_lock<std::mutex> lock(s->mu);
            s->cv.wait_for(lock, std::chrono::seconds(1),
                           [&] { return s->stopping || s->jpeg_seq != *last_seq; });
            if (s->stopping) return false;
            if (s->jpeg_seq == *last_seq || !s->jpeg) return sink.is_writable();  // nothing new
            // Always the newest frame: a client that is slower than the pipeline skips frames
            // (a queue of one per client).
            jpeg = s->jpeg;
            capture = s->jpeg_capture_ns;
            pushed = s->jpeg_source_ns;
            *last_seq = s->jpeg_seq;
          }
          std::string part = "--fgframe\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                             std::to_string(jpeg->size()) + "\r\n\r\n";
          part += *jpeg;
          part += "\r\n";
          const int64_t t0 = SteadyNs();
          if (!sink.write(part.data(), part.size())) {
            // A write that waited the whole timeout: the client stopped reading.
            if (SteadyNs() - t0 >= (s->opt.write_timeout_s * 1'000'000'000LL) * 9 / 10)
              s->slow_dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
          }
          s->frames_sent.fetch_add(1, std::memory_order_relaxed);
          if (capture >= 0 || pushed >= 0) {
            const int64_t now = SteadyNs();
            std::lock_guard<std::mutex> lock(s->mu);
            if (pushed >= 0) s->video_delay.Record((now - pushed) / 1e6);
            if (capture >= 0) s->video_age.Record((now - capture) / 1e6);
          }
          return true;
        },
        [s](bool) { s->video_clients.fetch_sub(1); });
  });

  svr.Get("/events", [s](const httplib::Request&, httplib::Response& res) {
    if (!TakeClientSlot(s->event_clients, s->opt.max_event_clients, s->refused, "event", res)) return;
    s->events_total.fetch_add(1, std::memory_order_relaxed);
    res.set_header("Cache-Control", "no-cache");
    auto next = std::make_shared<uint64_t>(0);  // 0: history not sent yet
    res.set_chunked_content_provider(
        "text/event-stream",
        [s, next](size_t, httplib::DataSink& sink) {
          std::string out;
          const int64_t t0 = SteadyNs();
          auto write = [&](const std::string& text) {
            if (sink.write(text.data(), text.size())) return true;
            if (SteadyNs() - t0 >= (s->opt.write_timeout_s * 1'000'000'000LL) * 9 / 10)
              s->slow_dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
          };
          if (*next == 0) {
            // First call: the history (a copy of the pointers), the newest stats, then live.
            std::vector<std::shared_ptr<const std::string>> history;
            std::shared_ptr<const std::string> stats;
            {
              std::lock_guard<std::mutex> lock(s->mu);
              history.assign(s->history.begin(), s->history.end());
              stats = s->stats_json;
              *next = s->next_seq;
            }
            out = "retry: 2000\n\n";
            for (const auto& line : history) {
              out += SseBlock("history", *line);
              if (out.size() >= kHistoryChunk) {
                if (!write(out)) return false;
                out.clear();
              }
            }
            if (stats) out += SseBlock("stats", *stats);
            return write(out);
          }
          {
            std::unique_lock<std::mutex> lock(s->mu);
            s->cv.wait_for(lock, std::chrono::seconds(1),
                           [&] { return s->stopping || s->next_seq > *next; });
            if (s->stopping) return false;
            if (!s->live.empty() && s->live.front().first > *next) {
              // The client fell a whole ring behind: drop it (the page reconnects by itself).
              s->slow_dropped.fetch_add(1, std::memory_order_relaxed);
              return false;
            }
            for (const auto& [seq, block] : s->live)
              if (seq >= *next) out += *block;
            *next = s->next_seq;
          }
          if (out.empty()) out = ": idle\n\n";  // finds clients that went away
          else s->events_sent.fetch_add(1, std::memory_order_relaxed);
          return write(out);
        },
        [s](bool) { s->event_clients.fetch_sub(1); });
  });
}

}  // namespace

HttpPage::HttpPage(HttpPageOptions options) : shared_(std::make_shared<Shared>()) {
  shared_->opt = std::move(options);
  shared_->history_cap = static_cast<size_t>(
      std::max(1.0, shared_->opt.history_seconds * shared_->opt.events_hz));
}

HttpPage::~HttpPage() { Stop(); }

int HttpPage::port() const { return shared_->bound_port; }

std::string HttpPage::Url() const {
  const std::string& h = shared_->opt.host;
  const bool v6 = h.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(shared_->bound_port) + "/";
}

HttpPageCounters HttpPage::counters() const {
  const Shared& s = *shared_;
  HttpPageCounters c;
  c.requests = s.requests;
  c.refused = s.refused;
  c.bad_requests = s.bad_requests;
  c.video_clients_total = s.video_total;
  c.event_clients_total = s.events_total;
  c.slow_clients_dropped = s.slow_dropped;
  c.frames_encoded = s.frames_encoded;
  c.frames_sent = s.frames_sent;
  c.events_sent = s.events_sent;
  return c;
}

bool HttpPage::Start(std::string* error) {
  Shared* s = shared_.get();
  const HttpPageOptions& o = s->opt;
  httplib::Server& svr = s->server;
  svr.new_task_queue = [s] {
    return new ConnectionPool(s->opt.max_connections, 16, &s->connections);
  };
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which a second runner on
  // the same port would bind too and the kernel would share the clients between them.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_read_timeout(o.read_timeout_s, 0);
  svr.set_write_timeout(o.write_timeout_s, 0);
  svr.set_keep_alive_timeout(o.read_timeout_s);
  svr.set_payload_max_length(64 * 1024);  // the page sends no bodies; refuse big ones
  const bool loopback = IsLoopback(o.host);
  svr.set_pre_routing_handler([s, loopback](const httplib::Request& req, httplib::Response& res) {
    s->requests.fetch_add(1, std::memory_order_relaxed);
    // On loopback, only pages of this machine's own names may talk to us: a web site whose
    // name resolves to 127.0.0.1 (DNS rebinding) would otherwise read the video.
    // (No Host at all, an HTTP/1.0 tool, is let through: browsers always send one.)
    const std::string host = req.get_header_value("Host");
    if (loopback && !host.empty() && !LoopbackHost(host)) {
      s->bad_requests.fetch_add(1, std::memory_order_relaxed);
      res.status = 403;
      res.set_header("Connection", "close");
      res.set_content("Host must be 127.0.0.1, localhost or [::1]\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Every endpoint only reads: GET and HEAD (cpp-httplib routes HEAD to the GET handlers).
    if (req.method != "GET" && req.method != "HEAD") {
      s->bad_requests.fetch_add(1, std::memory_order_relaxed);
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_header("Connection", "close");
      res.set_content("GET or HEAD only\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!tls_over_limit) return httplib::Server::HandlerResponse::Unhandled;
    s->refused.fetch_add(1, std::memory_order_relaxed);
    res.status = 503;
    res.set_header("Retry-After", "5");
    res.set_header("Connection", "close");
    res.set_content("too many connections\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  svr.set_logger([s](const httplib::Request&, const httplib::Response& res) {
    if (res.status == 400 || res.status == 413 || res.status == 414 || res.status == 431)
      s->bad_requests.fetch_add(1, std::memory_order_relaxed);
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(std::to_string(res.status) + "\n", "text/plain");
  });

  if (o.health) {
    // The kiosk's documents (SetHealth): never computed here, only copied out under the lock.
    svr.Get("/metrics", [s](const httplib::Request&, httplib::Response& res) {
      std::shared_ptr<const std::string> text;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        text = s->metrics_text;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
    });
    svr.Get("/healthz", [s](const httplib::Request&, httplib::Response& res) {
      std::shared_ptr<const std::string> text;
      bool healthy;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        text = s->health_text;
        healthy = s->healthy;
      }
      res.status = healthy ? 200 : 503;
      res.set_header("Cache-Control", "no-store");
      res.set_content(*text, "text/plain");
    });
  }
  if (o.page) AddPageRoutes(s);

  // bind() leaves its errno behind (cpp-httplib closes the socket, which keeps it): "address
  // in use" can be told apart from a host that is not this machine's or does not resolve.
  errno = 0;
  if (o.port == 0) {
    s->bound_port = svr.bind_to_any_port(o.host);
  } else {
    s->bound_port = svr.bind_to_port(o.host, o.port) ? o.port : -1;
  }
  if (s->bound_port <= 0) {
    const int err = errno;
    *error = "cannot listen on " + o.host + ":" + std::to_string(o.port) + " (" +
             (err == EADDRINUSE      ? std::string("address in use")
              : err == EADDRNOTAVAIL ? std::string("not an address of this machine")
              : err == EACCES        ? std::string("permission denied: a port below 1024")
                                     : std::string("address in use, or not an address of this machine")) +
             ")";
    return false;
  }
  s->listener = std::thread([s] { s->server.listen_after_bind(); });
  // server.stop() does nothing before the listener runs: wait for it, so that a Stop right
  // after Start (a graph that fails to start) cannot leave the listener running forever.
  for (int i = 0; i < 5000 && !s->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s->started = true;
  return true;
}

bool HttpPage::Attach(GstElement* pipeline, std::string* error) {
  if (!shared_->opt.page) return true;  // health only: nothing to take from the pipeline
  GstElement* anchor = nullptr;
  if (!shared_->opt.anchor.empty()) {
    anchor = gst_bin_get_by_name(GST_BIN(pipeline), shared_->opt.anchor.c_str());
    if (!anchor) {
      *error = "no element named \"" + shared_->opt.anchor + "\" for the page's video";
      return false;
    }
  }
  if (!anchor) anchor = LastElement(GST_BIN(pipeline), "faceannotate");
  if (!anchor) anchor = LastElement(GST_BIN(pipeline), "");
  if (!anchor) return true;  // stats only
  auto ref = [this] { return new SharedRef(shared_); };
  GstPad* src = gst_element_get_static_pad(anchor, "src");
  if (!src) {
    gst_object_unref(anchor);
    return true;
  }
  // The sources: when each frame left them (the video delay counts from there).
  {
    GstIterator* it = gst_bin_iterate_sources(GST_BIN(pipeline));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* e = GST_ELEMENT(g_value_get_object(&item));
      for (GList* l = e->srcpads; l; l = l->next)
        gst_pad_add_probe(
            GST_PAD(l->data), GST_PAD_PROBE_TYPE_BUFFER,
            [](GstPad*, GstPadProbeInfo* info, gpointer data) {
              (*static_cast<SharedRef*>(data))->OnSourceFrame(GST_PAD_PROBE_INFO_BUFFER(info));
              return GST_PAD_PROBE_OK;
            },
            ref(), DeleteRef);
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  }
  // Metadata: every frame leaving the anchor.
  gst_pad_add_probe(
      src, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        (*static_cast<SharedRef*>(data))->OnFrameMeta(GST_PAD_PROBE_INFO_BUFFER(info));
        return GST_PAD_PROBE_OK;
      },
      ref(), DeleteRef);

  GstElement* tee = gst_element_factory_make("tee", nullptr);
  GstElement* queue = gst_element_factory_make("queue", nullptr);
  GstElement* convert = gst_element_factory_make("videoconvert", nullptr);
  GstElement* encoder = gst_element_factory_make("jpegenc", nullptr);
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  if (!tee || !queue || !convert || !encoder || !sink) {
    for (GstElement* e : {tee, queue, convert, encoder, sink})
      if (e) gst_object_unref(gst_object_ref_sink(e));
    gst_object_unref(src);
    gst_object_unref(anchor);
    *error = "the page's video needs jpegenc and appsink (gstreamer1.0-plugins-good, "
             "gstreamer1.0-plugins-base); the page runs without video";
    return false;
  }
  // leaky queue of one: the pipeline never waits for the encoder or the clients.
  g_object_set(queue, "leaky", 2, "max-size-buffers", 1, "max-size-bytes", 0,
               "max-size-time", static_cast<guint64>(0), nullptr);
  g_object_set(encoder, "quality", shared_->opt.jpeg_quality, nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, "max-buffers", 1, "drop", TRUE,
               "emit-signals", TRUE, "enable-last-sample", FALSE, "qos", FALSE, nullptr);
  g_signal_connect_data(sink, "new-sample",
                        G_CALLBACK(+[](GstElement* s, gpointer data) -> GstFlowReturn {
                          (*static_cast<SharedRef*>(data))->OnJpeg(s);
                          return GST_FLOW_OK;
                        }),
                        ref(), [](gpointer p, GClosure*) { DeleteRef(p); }, GConnectFlags(0));
  gst_bin_add_many(GST_BIN(pipeline), tee, queue, convert, encoder, sink, nullptr);
  GstPad* peer = gst_pad_get_peer(src);
  if (peer) gst_pad_unlink(src, peer);
  bool ok = gst_element_link(anchor, tee);
  if (ok && peer) {
    GstPad* branch = gst_element_request_pad_simple(tee, "src_%u");
    ok = gst_pad_link(branch, peer) == GST_PAD_LINK_OK;
    gst_object_unref(branch);
  }
  ok = ok && gst_element_link_many(tee, queue, convert, encoder, sink, nullptr);
  if (peer) gst_object_unref(peer);
  gst_object_unref(src);
  if (!ok) {
    *error = std::string("could not insert the page's video branch after ") + GST_ELEMENT_NAME(anchor);
    gst_object_unref(anchor);
    return false;
  }
  // Frames enter the encoder only while someone watches, at most max_fps.
  GstPad* qsink = gst_element_get_static_pad(queue, "sink");
  gst_pad_add_probe(
      qsink, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer data) {
        return (*static_cast<SharedRef*>(data))->WantVideoFrame() ? GST_PAD_PROBE_OK
                                                                  : GST_PAD_PROBE_DROP;
      },
      ref(), DeleteRef);
  gst_object_unref(qsink);
  gst_object_unref(anchor);
  shared_->has_video = true;
  return true;
}

void HttpPage::PublishStats(const std::vector<ElementStat>& elements, int64_t frames_analysed) {
  Shared& s = *shared_;
  if (!s.opt.page) return;
  const int64_t now = SteadyNs();
  nlohmann::json j;
  double fps = -1;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.last_stats_ns > 0 && now > s.last_stats_ns)
      fps = (frames_analysed - s.last_stats_frames) * 1e9 / static_cast<double>(now - s.last_stats_ns);
    s.last_stats_ns = now;
    s.last_stats_frames = frames_analysed;
    for (auto [key, window] : {std::pair{"video_delay_ms", &s.video_delay}, std::pair{"video_age_ms", &s.video_age}}) {
      const LatencySummary d = window->Snapshot();
      j[key] = d.count ? nlohmann::json{{"p50", d.p50_ms}, {"p99", d.p99_ms}, {"count", d.count}}
                       : nlohmann::json(nullptr);
    }
  }
  j["t"] = now / 1e9;  // steady clock, seconds: sampled with "frames" (rates over any span)
  j["frames"] = frames_analysed;
  j["fps"] = fps >= 0 ? nlohmann::json(fps) : nlohmann::json(nullptr);
  j["video"] = s.has_video.load();
  nlohmann::json rows = nlohmann::json::array();
  for (const ElementStat& e : elements) {
    nlohmann::json r{{"name", e.name}, {"in", e.in}, {"out", e.out}, {"matched", e.matched}};
    r["p50_ms"] = e.p50_ms >= 0 ? nlohmann::json(e.p50_ms) : nlohmann::json(nullptr);
    r["p99_ms"] = e.p99_ms >= 0 ? nlohmann::json(e.p99_ms) : nlohmann::json(nullptr);
    rows.push_back(std::move(r));
  }
  j["elements"] = std::move(rows);
  const HttpPageCounters c = counters();
  j["server"] = {{"requests", c.requests},
                 {"refused", c.refused},
                 {"bad_requests", c.bad_requests},
                 {"video_clients", s.video_clients.load()},
                 {"event_clients", s.event_clients.load()},
                 {"connections", s.connections.load()},
                 {"slow_clients_dropped", c.slow_clients_dropped},
                 {"frames_encoded", c.frames_encoded},
                 {"frames_sent", c.frames_sent}};
  auto text = std::make_shared<const std::string>(j.dump());
  auto block = std::make_shared<const std::string>(SseBlock("stats", *text));
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stats_json = std::move(text);
  }
  s.PushEvent(std::move(block));
}

void HttpPage::SetHealth(std::string metrics, bool healthy, std::string health) {
  auto m = std::make_shared<const std::string>(std::move(metrics));
  auto h = std::make_shared<const std::string>(std::move(health));
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->metrics_text = std::move(m);
  shared_->health_text = std::move(h);
  shared_->healthy = healthy;
}

void HttpPage::Stop() {
  Shared& s = *shared_;
  if (!s.started) return;
  s.started = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stopping = true;
  }
  s.cv.notify_all();
  s.server.stop();
  if (s.listener.joinable()) s.listener.join();
}

}  // namespace fg
