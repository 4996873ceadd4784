// streams: many camera streams in one `facegraph run` process, with counters per stream.
//
//   facegraph run A.gst B.gst C.gst [--stats-json=FILE]
//
// Several graph files: each runs as its own pipeline (own bus, own clock, own reconnection)
// on its own runner thread, all in one process, so the models are loaded once and shared by
// every element instance (engine/nn/model_cache.h). A stream that fails does not stop the
// others; the exit status is the worst of them. $FACEGRAPH_OUT becomes
// $FACEGRAPH_OUT/<graph file stem> per graph (…-2, -3 when stems repeat), so every stream
// writes its own JSON. One graph file with several branches works too: every chain of
// facegraph elements is a stream.
//
// A stream is a chain of facegraph elements: its head is a facegraph element with a sink pad
// whose upstream has no facegraph element (normally facetrack); its tail is the last
// facegraph element reached by following the first src pad downstream (through queues,
// converters, tees). Per stream, counted by pad probes:
//   frames    buffers into the head
//   fps       frames / seconds between the first and the last frame into the head
//   latency   head sink pad -> tail src pad for the same running time (median, p99 over the
//             last 4096 frames): what the analysis adds to the frame
//   drops     frames dropped by a leaky queue upstream of the head (in - out - still queued)
//             + work the stream's elements dropped (their "dropped" counters: faceemotion's
//             and facevitals' workers)
// Printed as one table at the end; --stats-json=FILE writes them as JSON:
//   {"streams": [{"stream": "a.gst:facetrack0", "frames": 300, "fps": 29.9,
//                 "latency_ms": {"median": 4.1, "p99": 9.8, "matched": 300}, "drops": 0}, ...]}
//
// Threading: StreamStats::Attach and Collect run on the runner thread that owns the pipeline;
// probes run on streaming threads (one uncontended lock per frame and stream).
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fg {

struct StreamCounters {
  std::string stream;  // "<graph file>:<head element>"
  uint64_t frames = 0;
  double fps = 0;
  uint64_t latency_matched = 0;
  double latency_median_ms = 0, latency_p99_ms = 0;
  uint64_t drops = 0;
};

// The streams of one pipeline. Attach after parsing, Collect before the pipeline goes to NULL
// (a reconnection attaches to the new pipeline and adds to the same counters).
class StreamStats {
 public:
  explicit StreamStats(std::string label);
  ~StreamStats();
  StreamStats(const StreamStats&) = delete;
  StreamStats& operator=(const StreamStats&) = delete;

  void Attach(GstBin* pipeline);
  // Adds the attached pipeline's drop counters (read from its elements) and forgets it.
  void Detach();
  std::vector<StreamCounters> Counters() const;

  struct Stream;  // one chain of analysis elements (defined in streams.cc)

 private:
  std::string label_;
  std::vector<std::unique_ptr<Stream>> streams_;
};

// The per-stream table (stderr) and, when json_path is not empty, the JSON file. Returns
// false (with a message on stderr) when the file cannot be written.
bool ReportStreams(const std::vector<StreamCounters>& streams, const std::string& json_path);

// Runs one graph per file, each on its own thread: run(file, out_dir, stats) runs a graph as
// the single-graph runner does and returns its exit status. out_dir is "" for one file (the
// runner's default) and $FACEGRAPH_OUT/<stem> otherwise. Returns the worst status
// (error 1 > interrupted 130 > usage 2 > ok 0 is not an order: any non-zero status wins,
// the first stream's first).
int RunStreams(const std::vector<std::string>& files, const std::string& base_out,
               const std::function<int(const std::string& file, const std::string& out_dir,
                                       StreamStats* stats)>& run,
               const std::string& stats_json);

}  // namespace fg
