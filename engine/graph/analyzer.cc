#include "engine/graph/analyzer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "engine/graph/executor.h"
#include "engine/pixel_format.h"

namespace fg {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One frame on its way through the graph: its own copy of the pixels and what was found.
struct Work {
  std::vector<uint8_t> pixels;  // planes back to back, each at its minimal stride
  ImageView view;
  int64_t pushed_ns = 0;
  FrameFaces faces;
};

// Recycled Work buffers: a frame's memory goes back here when the last stage lets go of it.
class WorkPool {
 public:
  std::shared_ptr<Work> Get() {
    std::unique_ptr<Work> w;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        w = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!w) w = std::make_unique<Work>();
    return std::shared_ptr<Work>(w.release(), [this](Work* p) { Put(p); });
  }

 private:
  void Put(Work* p) {
    p->faces.faces.clear();  // keeps the vector's capacity
    std::lock_guard<std::mutex> lock(mu_);
    free_.emplace_back(p);
  }
  std::mutex mu_;
  std::vector<std::unique_ptr<Work>> free_;
};

using WorkPtr = std::shared_ptr<Work>;

}  // namespace

struct Analyzer::Impl {
  AnalyzerOptions opts;
  FacesFn on_faces;
  // Declared before the graph and the edge: Work deleters return buffers to it.
  WorkPool pool;
  std::unique_ptr<FaceTracker> tracker;
  std::unique_ptr<EmotionWorker> emotion;  // used by the analyse stage's thread only
  std::unique_ptr<VitalsWorker> vitals;    // likewise
  std::unique_ptr<SpscEdge<WorkPtr>> input;
  // The queue way (no callback): the analyse stage's thread pushes, the caller's consumer
  // thread pops. Drop-oldest, so the analyser never waits for the caller.
  std::unique_ptr<SpscEdge<FrameFaces>> output;
  Graph<WorkPtr> graph;
  LatencyWindow latency{4096};
  std::atomic<uint64_t> pushed{0}, analysed{0};
  bool finished = false;
  std::string error;

  ~Impl() {
    if (input) input->Close();
    graph.Abort();  // no-op after Finish (Wait already joined)
    graph.Wait();
  }

  static std::unique_ptr<Analyzer> Build(const AnalyzerOptions& opts, FacesFn on_faces,
                                         std::string* error);

  void Analyse(Work& w) {
    const int64_t pts = w.faces.pts_ns;
    if (emotion) {
      for (const Face& f : w.faces.faces)
        if (f.id >= 0) emotion->Submit(w.view, f, pts);
      emotion->Poll();
    }
    if (vitals) {
      for (const Face& f : w.faces.faces)
        if (f.id >= 0) vitals->Submit(w.view, f, pts);
      vitals->Poll();
    }
    for (Face& f : w.faces.faces) {
      if (f.id < 0) continue;
      if (emotion)
        if (const EmotionState* st = emotion->Latest(f.id); st && st->label >= 0)
          f.emotion = st->ToEmotion();
      if (vitals)
        if (const VitalsResult* r = vitals->Latest(f.id); r && r->valid)
          f.vitals = ToVitals(*r, /*with_bvp=*/false);
    }
    if (emotion) emotion->EndStale(pts);
    if (vitals) vitals->EndStale(pts);
  }
};

Analyzer::Analyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Analyzer::~Analyzer() = default;

std::unique_ptr<Analyzer> Analyzer::Create(const AnalyzerOptions& opts, FacesFn on_faces,
                                           std::string* error) {
  if (!on_faces) {
    *error = "Analyzer: no callback (on_faces) given; Create(opts, &error) delivers to a queue";
    return nullptr;
  }
  return Impl::Build(opts, std::move(on_faces), error);
}

std::unique_ptr<Analyzer> Analyzer::Create(const AnalyzerOptions& opts, std::string* error) {
  if (opts.output_capacity == 0) {
    *error = "Analyzer: output_capacity 0: the results queue must hold at least one frame";
    return nullptr;
  }
  return Impl::Build(opts, nullptr, error);
}

std::unique_ptr<Analyzer> Analyzer::Impl::Build(const AnalyzerOptions& opts, FacesFn on_faces,
                                                std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->on_faces = std::move(on_faces);
  std::string dir = opts.models_dir;
  if (dir.empty()) {
    const char* env = std::getenv("FACEGRAPH_MODELS");
    dir = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  }
  if (opts.input_policy == Backpressure::kKeepLatest && opts.input_capacity != 1) {
    // kKeepLatest is capacity 1 by definition (spsc_edge.h); say so rather than surprise.
    *error = "Analyzer: input_policy kKeepLatest holds one frame: set input_capacity = 1";
    return nullptr;
  }

  TrackerOptions t = opts.tracker;
  t.models_dir = dir;
  t.backend = opts.backend;
  impl->tracker = FaceTracker::Create(t, error);
  if (!impl->tracker) return nullptr;
  if (opts.emotion) {
    EmotionWorkerOptions e = opts.emotion_options;
    e.models_dir = dir;
    e.backend = opts.backend;
    impl->emotion = EmotionWorker::Create(e, error);
    if (!impl->emotion) return nullptr;
  }
  if (opts.vitals) {
    VitalsWorkerOptions v = opts.vitals_options;
    v.models_dir = dir;
    impl->vitals = VitalsWorker::Create(v, error);
    if (!impl->vitals) return nullptr;
  }

  Impl* s = impl.get();
  s->input = std::make_unique<SpscEdge<WorkPtr>>(opts.input_capacity, opts.input_policy);
  if (!s->on_faces)
    s->output = std::make_unique<SpscEdge<FrameFaces>>(opts.output_capacity,
                                                       Backpressure::kDropOldest);
  using Emit = Graph<WorkPtr>::Emitter;
  const auto in = s->graph.AddSource("input", [s](Emit& emit) {
    std::optional<WorkPtr> w = s->input->Pop();  // nullopt once Finish closed it and it drained
    if (!w) return false;
    emit(*w);
    return true;
  });
  const auto track = s->graph.AddNode("track", [s](WorkPtr w, Emit& emit) {
    w->faces = s->tracker->Process(w->view, w->faces.pts_ns);
    emit(w);
  });
  const auto analyse = s->graph.AddNode("analyse", [s](WorkPtr w, Emit&) {
    s->Analyse(*w);
    if (s->on_faces)
      s->on_faces(w->faces, w->view);
    else
      s->output->Push(w->faces);  // a copy: the Work and its pixels go back to the pool
    s->latency.Record(static_cast<double>(NowNs() - w->pushed_ns) / 1e6);
    s->analysed.fetch_add(1, std::memory_order_relaxed);
  });
  for (auto [from, to] : {std::pair{in, track}, std::pair{track, analyse}})
    if (auto e = s->graph.Connect(from, to, {2, Backpressure::kBlock})) {
      *error = "Analyzer: " + *e;
      return nullptr;
    }
  if (auto e = s->graph.Start()) {
    *error = "Analyzer: " + *e;
    return nullptr;
  }
  return std::unique_ptr<Analyzer>(new Analyzer(std::move(impl)));
}

bool Analyzer::Push(const ImageView& frame, int64_t pts_ns, std::string* error) {
  Impl& s = *impl_;
  auto refuse = [error](std::string why) {
    if (error) *error = "Analyzer::Push: " + why;
    return false;
  };
  if (s.finished) return refuse("after Finish");
  const int planes = PlaneCount(frame.format);
  if (frame.width <= 0 || frame.height <= 0)
    return refuse("empty frame (" + std::to_string(frame.width) + "x" +
                  std::to_string(frame.height) + "): no pixels to analyse");
  for (int p = 0; p < planes; ++p) {
    if (!frame.planes[p]) return refuse("plane " + std::to_string(p) + " has no pixels (null)");
    const int row = ImageView::MinStride(frame.format, frame.width, p);
    if (frame.strides[p] < row)
      return refuse("plane " + std::to_string(p) + " stride " + std::to_string(frame.strides[p]) +
                    " is shorter than its row (" + std::to_string(row) + " bytes)");
  }
  WorkPtr w = s.pool.Get();
  size_t total = 0;
  std::array<size_t, 3> offset{};
  for (int p = 0; p < planes; ++p) {
    offset[p] = total;
    total += static_cast<size_t>(ImageView::MinStride(frame.format, frame.width, p)) *
             ImageView::PlaneRows(frame.format, frame.height, p);
  }
  if (w->pixels.size() < total) w->pixels.resize(total);  // only for a new or larger size
  std::array<const uint8_t*, 3> dst_planes{};
  std::array<int, 3> dst_strides{};
  for (int p = 0; p < planes; ++p) {
    const int row = ImageView::MinStride(frame.format, frame.width, p);
    const int rows = ImageView::PlaneRows(frame.format, frame.height, p);
    uint8_t* dst = w->pixels.data() + offset[p];
    for (int y = 0; y < rows; ++y)
      std::memcpy(dst + static_cast<size_t>(y) * row,
                  frame.planes[p] + static_cast<size_t>(y) * frame.strides[p], row);
    dst_planes[p] = dst;
    dst_strides[p] = row;
  }
  if (auto e = ImageView::Wrap(frame.format, frame.width, frame.height, dst_planes, dst_strides,
                               &w->view))
    return refuse(*e);
  w->faces.pts_ns = pts_ns;
  w->pushed_ns = NowNs();
  s.pushed.fetch_add(1, std::memory_order_relaxed);
  if (!s.input->Push(std::move(w))) return refuse("the analysis has stopped (Finish says why)");
  return true;
}

std::string Analyzer::Finish() {
  Impl& s = *impl_;
  if (s.finished) return s.error;
  s.finished = true;
  s.input->Close();
  if (auto e = s.graph.Wait()) s.error = *e;
  // The analyse stage, the queue's producer, has been joined: closing it here is the
  // producer's last act, after which Pop returns what is left and then nullopt.
  if (s.output) s.output->Close();
  return s.error;
}

std::optional<FrameFaces> Analyzer::TryPop() {
  if (!impl_->output) return std::nullopt;
  return impl_->output->TryPop();
}

std::optional<FrameFaces> Analyzer::Pop() {
  if (!impl_->output) return std::nullopt;
  return impl_->output->Pop();
}

AnalyzerStats Analyzer::stats() const {
  const Impl& s = *impl_;
  AnalyzerStats st;
  st.pushed = s.pushed.load(std::memory_order_relaxed);
  st.dropped = s.input->Counters().dropped;
  st.analysed = s.analysed.load(std::memory_order_relaxed);
  if (s.output) st.results_dropped = s.output->Counters().dropped;
  st.latency = s.latency.Snapshot();
  if (s.emotion) st.emotion = s.emotion->stats();
  if (s.vitals) st.vitals = s.vitals->stats();
  return st;
}

}  // namespace fg
