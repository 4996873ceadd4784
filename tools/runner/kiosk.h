// `facegraph kiosk CONFIG`: one config file turned into a live graph that runs unattended
// (docs/kiosk.md): camera (or any source), analysis, overlay, full-screen display, JSON that
// rotates, privacy mode, a watchdog that rebuilds a failed or stalled pipeline, sd_notify for
// systemd (Type=notify, WatchdogSec) and /healthz + /metrics on loopback.
//
// The pipeline runs in `facegraph run`'s own loop (tools/runner/facegraph.cc) with
// reconnection on, every end of stream treated as a lost source, the back-off capped at
// max-backoff (1 s: a replugged camera is back within 2 s) and the hooks of KioskSession.
//
// Config: `key = value` lines, '#' starts a comment line, blank lines ignored, every key at
// most once; an unknown key, a bad value or a line without '=' is an error naming the file and
// the line (KioskConfig below lists the keys and defaults; tools/kiosk/kiosk.conf is the
// documented example).
//
// Threading: ParseKioskConfig, KioskGraph and CheckPrivacy are pure / main thread.
// KioskSession's hooks run on the runner's main thread; its probes on streaming threads (atomic
// counters only). PixelateRegion is reentrant.
//
// Example:
//   fg::KioskConfig cfg;
//   std::string error;
//   if (!fg::LoadKioskConfig("/etc/facegraph/kiosk.conf", &cfg, &error)) Fail(error);
//   std::string pipeline = fg::KioskGraph(cfg);   // gst-launch syntax
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "tools/runner/metrics_http.h"
#include "tools/runner/run_hooks.h"

namespace fg {

struct KioskConfig {
  std::string camera = "/dev/video0";  // camera: a V4L2 device
  std::string source;                  // source: a gst-launch fragment instead of the camera
  std::string graph;                   // graph: a whole graph file instead of the generated one
  int width = 0, height = 0;           // width, height: 0 = the camera's best mode
  int fps = 30;                        // fps
  int max_height = 720;                // max-height: the best mode's limit
  bool emotion = true, vitals = true;  // analysis = track [emotion] [vitals]
  std::string extra;                   // extra: elements after the analysis (e.g. liveness)
  bool annotate = true;                // annotate: draw the results
  std::string display = "fullscreen";  // display: fullscreen | window | none
  std::string display_sink;            // display-sink: an element (fragment) instead
  std::string json;                    // json: file for the JSON lines ("" none)
  uint64_t json_max_size = 0;          // json-max-size: rotate at this size (0 off; K, M, G)
  uint64_t json_max_age_s = 0;         // json-max-age: rotate after this (0 off; s, m, h, d)
  int json_max_files = 10;             // json-max-files: rotated files kept (.1 newest)
  bool privacy = false;                // privacy: never a frame to a file or network
  bool blur_faces = false;             // blur-faces: pixelate faces in the display
  double stall_timeout_s = 2;          // stall-timeout: no frame for this long: rebuild
  double max_backoff_s = 1;            // max-backoff: the longest wait between attempts
  std::string metrics_host = "127.0.0.1";  // metrics: HOST:PORT or off
  int metrics_port = 9464;
  bool metrics = true;
};

// Parses config text; `name` is used in errors ("NAME:LINE: ..."). False with *error.
bool ParseKioskConfig(const std::string& text, const std::string& name, KioskConfig* cfg,
                      std::string* error);
bool LoadKioskConfig(const std::string& path, KioskConfig* cfg, std::string* error);

// The pipeline (gst-launch syntax) the config describes. With `graph`, the caller reads that
// file instead (this returns "").
std::string KioskGraph(const KioskConfig& cfg);

// Privacy mode: true when no element of `pipeline` can put a frame anywhere but the screen:
// no encoder, muxer, payloader, and no sink but a display sink or fakesink (facegraph's own
// elements write JSON only). Otherwise false with *error naming the element.
bool CheckPrivacy(GstElement* pipeline, std::string* error);

// Pixelates the rectangle (pixels, clipped to the frame) of a mapped, writable 8-bit video
// frame in blocks of `block` pixels: each block of each component becomes its mean. Every
// packed or planar 8-bit format; padding bytes (RGBx) are left alone. False for formats it
// cannot treat (tiled, more than 8 bits).
bool PixelateRegion(GstVideoFrame* frame, int x, int y, int w, int h, int block);

// systemd notification (libsystemd's sd_notify; a no-op without $NOTIFY_SOCKET).
void KioskNotify(const std::string& state);

// The hooks of a kiosk run: metrics server, sd_notify, face counting and blurring.
class KioskSession : public RunHooks {
 public:
  explicit KioskSession(const KioskConfig& cfg) : cfg_(cfg) {}
  // Starts the metrics server (when configured). False with *error (address in use, ...).
  bool Start(std::string* error);
  int metrics_port() const { return http_.port(); }

  bool OnPipeline(GstElement* pipeline, std::string* error) override;
  void OnTick(const RunStats& stats) override;
  void OnStopping() override;

  // Shared with the sink probes (streaming threads).
  struct Counters {
    std::atomic<int> faces{0};                // in the last frame shown
    std::atomic<uint64_t> frames_shown{0};
    std::atomic<uint64_t> frames_with_faces{0};
    std::atomic<uint64_t> faces_blurred{0};
  };

 private:
  std::string Metrics(const RunStats& stats, bool healthy);

  KioskConfig cfg_;
  MetricsHttp http_;
  Counters counters_;
  bool ready_ = false;
  bool watchdog_ = false;
  int64_t fps_frames_ = 0, fps_ns_ = 0;  // the last fps sample
  double fps_ = 0;
};

}  // namespace fg
