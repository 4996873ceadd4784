// The runner's one HTTP server (cpp-httplib, docs/page.md, docs/kiosk.md): the live monitoring
// page of `facegraph run GRAPH --http [ADDR:]PORT`, and the kiosk's /healthz and /metrics
// (`facegraph kiosk`, tools/runner/kiosk.h). On loopback (127.0.0.1:8080 unless another address
// is asked for). Two sets of endpoints, each switched by an option:
//
//   page (HttpPageOptions::page, on by default):
//   /            the page (tools/runner/page/index.html, compiled in: nothing is fetched from
//                anywhere else at run time)
//   /video.mjpg  the annotated video, MJPEG (multipart/x-mixed-replace), at most max_fps
//   /frame.jpg   the newest JPEG frame
//   /events      Server-Sent Events: "history" (the recent frame lines, without waveforms),
//                then "frame" (one JSON line of the project's contract, engine/json.h, without
//                the 468 landmarks and blendshapes, at most events_hz a second) and "stats"
//                (per-element latency and drops, the server's own counters, once a second)
//   /stats.json  the newest "stats" object
//
//   health (HttpPageOptions::health, off by default; the kiosk turns it on):
//   /healthz     200 with the owner's health text while healthy, else 503 (SetHealth)
//   /metrics     the owner's Prometheus text (format 0.0.4), 200 (SetHealth)
//
// Every endpoint answers GET and HEAD; another method is 405. Other paths are 404. The limits
// (read and write timeouts, connections, the loopback Host check, request sizes) are the same
// whichever endpoints are on.
//
// Video delay ("video_delay_ms" in the stats): from the source element pushing a frame to its
// JPEG written to a client's socket (p50/p99 of the last 90 frames sent). "video_age_ms": the
// same from the frame's capture timestamp on the pipeline clock (live sources); it also counts
// a source that is itself late (a synthetic source starved of CPU falls behind its own clock,
// a camera drops frames instead).
//
// How it meets the pipeline:
//
//   ... ! X ! tee ! (the rest of the graph, unchanged)
//               |
//               +-> queue leaky=downstream max-size-buffers=1 ! videoconvert ! jpegenc ! appsink
//
// X is the graph's last faceannotate, else its last facegraph element. A pad probe on X's src
// pad reads the frame metadata (GstFaceGraphMeta) and writes the JSON line; a pad probe on the
// branch's queue drops frames while nobody watches the video and beyond max_fps. The pipeline
// never waits for a client: frames are handed over through one "newest" slot (the JPEG) and
// one bounded ring (the events); every client thread takes from those at its own pace. A video
// client that cannot take a frame within the write timeout, or an event client that falls a
// whole ring behind, is dropped and counted. Beyond max_video_clients / max_event_clients
// clients, and beyond max_connections connections, requests are answered 503.
//
// Threading: construct, Start, Attach, PublishStats, SetHealth and Stop from one thread (the
// runner's main thread); the pad probes and appsink run on streaming threads, the server on
// its own pool; they share state only through the mutex-guarded slot, ring and documents. Attach again after the
// runner rebuilt its pipeline (--reconnect). Stop (or the destructor) before the pipeline is
// destroyed is not needed: the probes hold a reference to shared state.
//
// Example (the kiosk's server: health only):
//   fg::HttpPageOptions o;
//   o.port = 9464, o.page = false, o.health = true;
//   fg::HttpPage http(o);
//   if (!http.Start(&error)) ...;
//   http.SetHealth("# TYPE up gauge\nup 1\n", true, "ok\n");   // curl 127.0.0.1:9464/metrics
//
// Example (the live page):
//   fg::HttpPage page(fg::HttpPageOptions{});          // 127.0.0.1:8080
//   if (!page.Start(&error)) ...;                       // binds now: a busy port is an error
//   page.Attach(pipeline, &error);                      // before PLAYING
//   ... every second: page.PublishStats(elements, frames_analysed);
//   page.Stop();
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/runner/report.h"  // ElementStat

namespace fg {

struct HttpPageOptions {
  std::string host = "127.0.0.1";
  int port = 8080;          // 0: any free port (see HttpPage::port())
  int max_video_clients = 8;
  int max_event_clients = 32;
  int max_connections = 96;  // open connections (each holds one server thread)
  double max_fps = 15;       // video frames a second at most
  double events_hz = 10;     // "frame" events a second at most
  int history_seconds = 300; // "history" replayed to a new page: the last 5 minutes
  int write_timeout_s = 2;   // a client that takes nothing for this long is dropped
  int read_timeout_s = 2;    // a request that does not arrive within this is closed
  int jpeg_quality = 60;
  std::string anchor;        // the element whose output the page shows and reads; empty: the
                             // last faceannotate, else the last facegraph element
  bool page = true;          // the page's endpoints (/, /video.mjpg, /frame.jpg, /events,
                             // /stats.json); off: Attach and PublishStats do nothing
  bool health = false;       // /healthz and /metrics, with the documents given to SetHealth
};

// Parses "--http"'s value: "PORT", "ADDR:PORT" or "[V6ADDR]:PORT". False with a message when
// it is not one of those or the port is outside 0..65535.
bool ParseHttpAddress(const std::string& text, std::string* host, int* port, std::string* error);

// A numeric loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z) or "localhost"; a host name
// such as "127.example.com" is not one (it resolves anywhere). On such an address the server answers only requests whose Host
// header names one of those (403 otherwise: a DNS-rebinding page cannot read the video).
bool IsLoopbackAddress(const std::string& host);

// What the server has counted, for the runner's end-of-run line and the tests.
struct HttpPageCounters {
  uint64_t requests = 0, refused = 0, bad_requests = 0;
  uint64_t video_clients_total = 0, event_clients_total = 0;
  uint64_t slow_clients_dropped = 0;   // write timeouts and event clients a ring behind
  uint64_t frames_encoded = 0, frames_sent = 0, events_sent = 0;
};

class HttpPage {
 public:
  explicit HttpPage(HttpPageOptions options);
  ~HttpPage();
  HttpPage(const HttpPage&) = delete;
  HttpPage& operator=(const HttpPage&) = delete;

  // Binds and starts serving. False with a message (address in use, not an address).
  bool Start(std::string* error);
  // The bound port (the real one when options.port was 0).
  int port() const;
  std::string Url() const;

  // Inserts the video branch and the metadata probe into a parsed pipeline (state NULL).
  // False with a message when the branch cannot be built (jpegenc missing); the graph without
  // a facegraph element still serves the page, with stats only.
  bool Attach(GstElement* pipeline, std::string* error);

  // The runner's latency table and analysed frames; published as a "stats" event.
  void PublishStats(const std::vector<ElementStat>& elements, int64_t frames_analysed);

  // The documents of /metrics and /healthz (options.health): replaced whole, whenever the owner
  // likes. Before the first call /healthz answers 503 "starting".
  void SetHealth(std::string metrics, bool healthy, std::string health);

  // Stops serving (closes every connection). Idempotent.
  void Stop();

  HttpPageCounters counters() const;

  struct Shared;  // the state the server threads and the pad probes share (http_page.cc)

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace fg
