// Graph<T>: a small in-process dataflow executor. Each node runs on its own thread; nodes
// are joined by SpscEdge queues (engine/graph/spsc_edge.h) with a per-edge backpressure
// policy; each node's processing time is kept as p50/p99 over a sliding window.
// Applications and benchmarks use it without GStreamer; the GStreamer elements wrap the
// same node code.
//
//   [camera] --block--> [track] --keep-latest--> [emotion]
//                           \------drop-oldest--> [vitals]
//
// Topology: sources have no input; every other node has exactly one input edge and any
// number of output edges (fan-out copies T; make T a cheap handle such as
// std::shared_ptr<const Frame>). Fan-in is not supported: merge upstream. Cycles are
// impossible by construction (one input per node, sources have none, and Connect refuses
// an edge that would close a loop).
//
// Shutdown: RequestStop() asks sources to stop after their current call; each node drains
// its input until the edge is closed and empty, then closes its outputs, so in kBlock
// edges every frame in flight is processed. Abort() cancels all edges at once; queued
// items are counted as dropped. Stats() is exact once Wait() returned.
//
// Errors: an exception escaping a node function stops the graph (Abort) and Wait()
// returns a message naming the node.
//
// Threading: build (Add*/Connect) and Start/Wait/Stats from one controlling thread;
// RequestStop()/Abort() may be called from any thread (a signal handler must not: set a
// flag instead).
//
// Example:
//   fg::Graph<int> g;
//   auto src = g.AddSource("count", [n = 0](auto& emit) mutable {
//     emit(n++); return n < 100; });
//   auto sq = g.AddNode("square", [](int v, auto& emit) { emit(v * v); });
//   auto out = g.AddNode("print", [](int v, auto&) { std::printf("%d\n", v); });
//   g.Connect(src, sq); g.Connect(sq, out, {4, fg::Backpressure::kDropOldest});
//   if (auto err = g.Start()) return *err;
//   if (auto err = g.Wait()) return *err;
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/graph/latency.h"
#include "engine/graph/spsc_edge.h"

namespace fg {

struct EdgeOptions {
  size_t capacity = 4;
  Backpressure policy = Backpressure::kBlock;
  size_t headroom = 16;  // extra ring slots for the drop modes (see SpscEdge)
};

struct NodeStats {
  std::string name;
  LatencySummary latency;  // time inside the node function per call
};

struct EdgeStats {
  std::string from, to;
  Backpressure policy;
  EdgeCounters counters;
};

struct GraphStats {
  std::vector<NodeStats> nodes;
  std::vector<EdgeStats> edges;
};

template <class T>
class Graph {
 public:
  using NodeId = int;

  // Hands a node's outputs to every outgoing edge. Only the node's own thread calls it.
  class Emitter {
   public:
    void operator()(const T& v) {
      for (SpscEdge<T>* e : outs_) e->Push(v);
    }

   private:
    friend class Graph;
    std::vector<SpscEdge<T>*> outs_;
  };

  using SourceFn = std::function<bool(Emitter&)>;     // false: no more data
  using ProcessFn = std::function<void(T, Emitter&)>;

  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph() {
    if (started_ && !joined_) {
      Abort();
      Wait();
    }
  }

  NodeId AddSource(std::string name, SourceFn fn) {
    nodes_.push_back(std::make_unique<Node>(std::move(name), std::move(fn), nullptr));
    return static_cast<NodeId>(nodes_.size()) - 1;
  }

  NodeId AddNode(std::string name, ProcessFn fn) {
    nodes_.push_back(std::make_unique<Node>(std::move(name), nullptr, std::move(fn)));
    return static_cast<NodeId>(nodes_.size()) - 1;
  }

  // Returns an error naming the nodes when the edge is not allowed.
  std::optional<std::string> Connect(NodeId from, NodeId to, EdgeOptions opts = {}) {
    if (started_) return "graph: Connect after Start";
    if (!Valid(from) || !Valid(to))
      return "graph: Connect(" + std::to_string(from) + ", " + std::to_string(to) +
             "): no such node";
    Node& dst = *nodes_[to];
    if (dst.source) return "graph: edge " + Name(from) + " -> " + dst.name + ": a source has no input";
    if (dst.in) return "graph: edge " + Name(from) + " -> " + dst.name + ": node already has an input (fan-in is not supported)";
    for (NodeId n = from; n >= 0; n = nodes_[n]->upstream)
      if (n == to) return "graph: edge " + Name(from) + " -> " + dst.name + ": would make a cycle";
    edges_.push_back(std::make_unique<EdgeRec>(from, to, opts));
    dst.in = &edges_.back()->edge;
    dst.upstream = from;
    nodes_[from]->emit.outs_.push_back(&edges_.back()->edge);
    return std::nullopt;
  }

  std::optional<std::string> Start() {
    if (started_) return "graph: already started";
    for (auto& n : nodes_)
      if (!n->source && !n->in) return "graph: node " + n->name + " has no input edge";
    started_ = true;
    for (auto& n : nodes_) n->thread = std::thread([this, node = n.get()] { RunNode(*node); });
    return std::nullopt;
  }

  // Sources stop after their current call; everything queued is still processed.
  void RequestStop() { stop_.store(true, std::memory_order_release); }

  // Stops now: every edge is cancelled; queued items are counted as dropped.
  void Abort() {
    stop_.store(true, std::memory_order_release);
    aborted_.store(true, std::memory_order_release);
    for (auto& n : nodes_)
      if (n->in) n->in->Cancel();  // flags and wake-ups only: safe from any thread
  }

  // Joins every node thread. Returns the first node error, if any.
  std::optional<std::string> Wait() {
    for (auto& n : nodes_)
      if (n->thread.joinable()) n->thread.join();
    joined_ = true;
    // Every thread is gone: count what an abort left queued, so counters balance.
    for (auto& e : edges_) e->edge.DiscardRemaining();
    std::lock_guard lock(error_mu_);
    return error_;
  }

  GraphStats Stats() const {
    GraphStats s;
    for (auto& n : nodes_) s.nodes.push_back({n->name, n->latency.Snapshot()});
    for (auto& e : edges_)
      s.edges.push_back({nodes_[e->from]->name, nodes_[e->to]->name, e->edge.policy(),
                         e->edge.Counters()});
    return s;
  }

  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }

 private:
  struct Node {
    Node(std::string n, SourceFn s, ProcessFn p)
        : name(std::move(n)), source(std::move(s)), process(std::move(p)) {}
    std::string name;
    SourceFn source;
    ProcessFn process;
    SpscEdge<T>* in = nullptr;
    NodeId upstream = -1;
    Emitter emit;
    LatencyWindow latency{1024};
    std::thread thread;
  };
  struct EdgeRec {
    EdgeRec(NodeId f, NodeId t, EdgeOptions o)
        : from(f), to(t), edge(o.capacity, o.policy, o.headroom) {}
    NodeId from, to;
    SpscEdge<T> edge;
  };

  bool Valid(NodeId id) const { return id >= 0 && id < static_cast<NodeId>(nodes_.size()); }
  std::string Name(NodeId id) const { return Valid(id) ? nodes_[id]->name : "?"; }

  void RunNode(Node& node) {
    using Clock = std::chrono::steady_clock;
    try {
      if (node.source) {
        while (!stop_.load(std::memory_order_acquire)) {
          const auto t0 = Clock::now();
          const bool more = node.source(node.emit);
          node.latency.Record(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!more) break;
        }
      } else {
        while (auto item = node.in->Pop()) {
          const auto t0 = Clock::now();
          node.process(std::move(*item), node.emit);
          node.latency.Record(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
      }
    } catch (const std::exception& e) {
      Fail("graph: node " + node.name + " failed: " + e.what());
    } catch (...) {
      Fail("graph: node " + node.name + " failed with an unknown exception");
    }
    for (SpscEdge<T>* out : node.emit.outs_) out->Close();
  }

  void Fail(std::string msg) {
    {
      std::lock_guard lock(error_mu_);
      if (!error_) error_ = std::move(msg);
    }
    stop_.store(true, std::memory_order_release);
    aborted_.store(true, std::memory_order_release);
    for (auto& n : nodes_)
      if (n->in) n->in->Cancel();
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<EdgeRec>> edges_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> aborted_{false};
  bool started_ = false;
  bool joined_ = false;
  std::mutex error_mu_;
  std::optional<std::string> error_;
};

}  // namespace fg
