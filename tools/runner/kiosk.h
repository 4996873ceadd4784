// `facegraph kiosk CONFIG`: one config file turned into a live graph that runs unattended
// (docs/kiosk.md): camera (or any source), analysis, overlay, full-screen display, JSON that
// rotates, privacy mode, a watchdog that rebuilds a failed or stalled pipeline, sd_notify for
// systemd (Type=notify, WatchdogSec) and /healthz + /metrics on loopback, served by the runner's
// one HTTP server (tools/runner/http_page.h), with the live page too when the config asks.
//
// The pipeline runs in `facegraph run`'s own loop (tools/runner/facegraph.cc) with
// reconnection on, every end of stream treated as a lost source, the back-off capped at
// max-backoff (1 s: a replugged camera is back within 2 s) and the hooks of KioskSession.
//
// Config: tools/runner/kiosk_config.h (the parser, a library of its own that the fuzzer links;
// tools/kiosk/kiosk.conf is the documented example).
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

#include "tools/runner/http_page.h"
#include "tools/runner/kiosk_config.h"
#include "tools/runner/run_hooks.h"

namespace fg {

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
  // Starts the HTTP server (when `metrics` is not off): /healthz and /metrics, and the live
  // page with `page = on`. False with *error (address in use, ...).
  bool Start(std::string* error);
  int metrics_port() const { return http_ ? http_->port() : -1; }
  // The server when it serves the live page too (`page = on`), else nullptr: the run loop
  // attaches it to every pipeline it builds and publishes its stats, as for `run --http`.
  HttpPage* page() const { return cfg_.page ? http_.get() : nullptr; }

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
  std::unique_ptr<HttpPage> http_;
  Counters counters_;
  bool ready_ = false;
  bool watchdog_ = false;
  int64_t fps_frames_ = 0, fps_ns_ = 0;  // the last fps sample
  double fps_ = 0;
};

}  // namespace fg
