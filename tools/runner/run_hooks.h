// RunHooks: what `facegraph run`'s main loop (tools/runner/facegraph.cc) tells a supervisor
// that rides along with it: the kiosk (tools/runner/kiosk.h) uses it for sd_notify, /healthz
// and /metrics and the privacy blur, without a second copy of the run loop.
//
// The loop calls, in this order:
//   OnPipeline(p)   after every build of the pipeline (the first and each reconnection's), before
//                   it starts: attach probes here (they die with the pipeline). Returning false
//                   (with *error set) refuses the pipeline: the run ends with exit status 2;
//   OnTick(stats)   about every 0.5 s while running or waiting to reconnect (the first tick
//                   comes right after the first start attempt);
//   OnStopping()    once, when the loop ends (EOS, error, interrupt), before the teardown.
//
// Threading: every call comes from the runner's main thread. Probes attached in OnPipeline run
// on streaming threads and must do their own locking.
//
// Example:
//   struct Printer : fg::RunHooks {
//     void OnTick(const fg::RunStats& s) override { std::printf("%lld\n", (long long)s.frames); }
//   };
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fg {

// Per element, sink pad -> src pad at the same running time (the runner's latency table).
struct ElementLatencyStats {
  std::string name;
  uint64_t in = 0, out = 0;  // buffers through the sink and src pads
  uint64_t matched = 0;      // latencies in the window
  double p50_ms = 0, p99_ms = 0;
};

struct RunStats {
  int64_t now_ns = 0;             // steady clock
  int64_t frames = 0;             // frames that reached the analysis, over every connection
  int64_t last_frame_ns = -1;     // steady clock of the last one; -1 before the first
  int64_t started_ns = 0;         // the last (re)start of the pipeline
  bool waiting = false;           // torn down, waiting to reconnect
  int reconnects = 0, stalls = 0;
  uint64_t dropped = 0;           // frames dropped by the leaky queues, over every connection
  std::vector<ElementLatencyStats> elements;  // the current pipeline's
};

class RunHooks {
 public:
  virtual ~RunHooks() = default;
  virtual bool OnPipeline(GstElement* /*pipeline*/, std::string* /*error*/) { return true; }
  virtual void OnTick(const RunStats& /*stats*/) {}
  virtual void OnStopping() {}
};

}  // namespace fg
