// VitalsWorker: heart rate beside the video, never in its way.
//
//   caller's thread (the video)                      worker thread
//   ───────────────────────────                      ─────────────
//   Submit(frame, face, pts)      face mode
//     FaceSTGraph::SampleTriangles + AggregatePatches (~0.1 ms / face)
//   SubmitRegion(frame, pts)      fixed-region mode
//     SampleGrid over the region (cols x rows cells)
//        │ patches, centre, size, pose
//        ▼
//   jobs: SpscEdge<VitalsJob> (drop-oldest) ─────► VitalsEstimator::PushPatches
//                                                  DropTracksBefore(pts - track_timeout_s)
//                                                  UpdateDue() (once a second per track:
//                                                    methods, fusion, Welch, HRV, respiration)
//   Poll(): newest result per track ◄── results: SpscEdge<VitalsUpdate> ◄─┘ (each update)
//   Latest(id) -> VitalsResult;  ToVitals(result, with_bvp) -> fg::Vitals for the metadata
//
// The caller's per-frame work is the sampling (it needs the frame, which the caller may
// release as soon as Submit returns); the estimator and everything spectral live on the
// worker, which owns it alone. Neither side waits for the other: a full job edge drops (the
// worker then works on the newest queue_capacity frames; the lost frames are a gap in the
// track's time series, which the estimator bridges and its `gaps` confidence factor sees), the
// result edge drops oldest too, and both count every drop. Once idle,
// jobs.pushed == processed + jobs.dropped.
//
// Capacity: one job is one face on one frame (patch colours, about 1 KiB). The default 256
// holds 8 s of one face at 30 fps: the once-a-second update (tens of ms) never overflows it
// unless the worker is starved of CPU for seconds.
//
// Modes: kFace measures every tracked face on the 48 STGraph patches (needs the canonical
// face from models_dir); kRegion measures one fixed rectangle (empty = the whole frame) cut
// into grid_cols x grid_rows patches (region_grid.h) and reports it as track id 0 (the
// pseudo-face of the JSON contract). Same methods, same fusion, same confidence.
//
// Tracks: the worker drops a track whose newest frame is track_timeout_s older than the
// frame it is processing; the caller's EndStale(now) forgets tracks it has not submitted
// for as long, and results that arrive for a forgotten track are discarded (stale_results).
//
// Threading: every method except stats() belongs to one thread (the caller's); the worker
// thread is internal and joined by the destructor. stats() may be read from any thread.
// Lifetime: the destructor cancels the job edge, lets the worker finish the job it holds, and
// joins it; queued jobs are discarded (counted as dropped). For a final result at end of
// stream call WaitIdle first.
//
// Example:
//   fg::VitalsWorkerOptions o;  o.models_dir = dir;
//   auto w = fg::VitalsWorker::Create(o, &err);        // err names the file on failure
//   per frame:
//     for (auto& f : faces.faces) w->Submit(view, f, faces.pts_ns);
//     w->Poll();
//     for (auto& f : faces.faces)
//       if (auto* r = w->Latest(f.id); r && r->valid) f.vitals = fg::ToVitals(*r, false);
//     w->EndStale(faces.pts_ns);
#pragma once

#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "engine/face.h"
#include "engine/graph/spsc_edge.h"
#include "engine/image.h"
#include "engine/vitals/stgraph.h"
#include "engine/vitals/vitals_estimator.h"

namespace fg {

// Patches one job can carry: the STGraph's 48, or a region grid of up to 8 x 8.
inline constexpr int kVitalsMaxPatches = 64;

enum class VitalsMode { kFace, kRegion };

struct VitalsWorkerOptions {
  VitalsOptions vitals;
  VitalsMode mode = VitalsMode::kFace;
  std::string models_dir;      // face mode: holds the canonical face (kCanonicalFaceFile)
  Box region;                  // region mode: frame pixels; w or h <= 0 = the whole frame
  int grid_cols = 4, grid_rows = 4;  // region mode: cells (cols x rows <= kVitalsMaxPatches)
  size_t queue_capacity = 256;  // jobs kept for the worker (newest)
  // true: a full job edge makes Submit wait for room (Backpressure::kBlock) instead of
  // dropping the oldest: every frame is analysed, for files decoded faster than real time
  // (region mode on small frames decodes thousands a second). A live source keeps false.
  bool lossless = false;
  size_t result_capacity = 64;  // results kept for Poll (newest)
  double track_timeout_s = 2;   // a track unseen this long is ended (both threads)
  // Tests only: called on the worker thread before each job (to stall it).
  std::function<void()> before_job;
};

// One face (or the region) on one frame, as the caller sampled it.
struct VitalsJob {
  int64_t id = -1;
  int64_t pts_ns = -1;
  int patches = 0;
  std::array<std::array<float, 3>, kVitalsMaxPatches> rgb{};
  std::array<float, kVitalsMaxPatches> weight{};
  std::array<float, 2> centre{};
  float size = 0;
  HeadPose pose;
};

// One spectral update of one track, as the worker hands it back.
struct VitalsUpdate {
  int64_t id = -1;
  VitalsResult result;
};

struct VitalsWorkerStats {
  EdgeCounters jobs, results;
  uint64_t submitted = 0;      // jobs handed to the edge
  uint64_t no_mesh = 0;        // face-mode Submit calls without 468 landmarks
  uint64_t processed = 0;      // jobs the worker pushed into the estimator
  uint64_t rejected = 0;       // of processed: frames the estimator refused (pts not newer)
  uint64_t updates = 0;        // spectral updates published
  uint64_t stale_results = 0;  // results for tracks the caller had ended
};

// The metadata form of a result: bpm, SNR, confidence; HRV and respiration when the estimator
// judged them valid; the waveform (with its rate) only when asked for.
Vitals ToVitals(const VitalsResult& r, bool with_bvp);

class VitalsWorker {
 public:
  // Errors name the file (face mode: the canonical face) or the option that is wrong.
  static std::unique_ptr<VitalsWorker> Create(const VitalsWorkerOptions& opts, std::string* error);
  ~VitalsWorker();
  VitalsWorker(const VitalsWorker&) = delete;
  VitalsWorker& operator=(const VitalsWorker&) = delete;

  // Face mode: samples the face's patches and hands them off. False when the face has no mesh
  // (counted in no_mesh), in region mode, or when the edge refused it.
  bool Submit(const ImageView& frame, const Face& face, int64_t pts_ns);
  // Region mode: samples the region's grid and hands it off as track 0. The box actually
  // measured (clipped to the frame) is in *measured when non-null.
  bool SubmitRegion(const ImageView& frame, int64_t pts_ns, Box* measured = nullptr);
  // Hands off patches sampled elsewhere (tests, replay); `patches` entries <= kVitalsMaxPatches.
  bool Push(int64_t id, int64_t pts_ns, const PatchSamples& patches, std::array<float, 2> centre,
            float size, const HeadPose& pose);

  // Takes the results that arrived; returns how many. `on_update`, when given, sees each one
  // first (every update of every live track, in order: for consumers that log them all, e.g.
  // a bus message per update, whatever the caller's frame rate).
  using UpdateFn = std::function<void(const VitalsUpdate&)>;
  size_t Poll(const UpdateFn& on_update = nullptr);
  // The newest result of a track (valid or not yet); nullptr before its first or once ended.
  const VitalsResult* Latest(int64_t id) const;
  // Forgets tracks not submitted for track_timeout_s of pts; returns how many.
  size_t EndStale(int64_t now_ns);
  size_t tracks() const { return book_.size(); }
  const VitalsWorkerOptions& options() const { return opts_; }
  int num_patches() const { return num_patches_; }

  // Any thread.
  VitalsWorkerStats stats() const;
  // Caller's thread: waits (up to timeout_s) until the worker has processed or dropped every
  // queued job, then Polls (with on_update). True when idle in time.
  bool WaitIdle(double timeout_s, const UpdateFn& on_update = nullptr);

 private:
  explicit VitalsWorker(const VitalsWorkerOptions& opts);
  void Loop();
  bool Hand(int64_t pts_ns);
  struct Book {
    int64_t last_seen_ns = INT64_MIN;
    bool has_result = false;
    VitalsResult latest;
  };

  VitalsWorkerOptions opts_;
  int num_patches_ = 0;
  // Owned by the worker thread after Create (the caller only reads graph(), which is
  // immutable).
  std::unique_ptr<VitalsEstimator> est_;
  const FaceSTGraph* graph_ = nullptr;  // face mode; immutable, shared
  SpscEdge<VitalsJob> jobs_;
  SpscEdge<VitalsUpdate> results_;
  // Caller's thread only.
  std::unique_ptr<VitalsJob> scratch_;
  TriangleSamples tri_;
  PatchSamples patches_;
  std::unordered_map<int64_t, Book> book_;
  // Worker's thread only.
  PatchSamples worker_patches_;
  std::unordered_map<int64_t, int64_t> published_;  // track -> pts of its last published result
  // Written only by the caller's thread (relaxed load + store), read by stats().
  std::atomic<uint64_t> submitted_{0}, no_mesh_{0}, stale_{0};
  // Written only by the worker thread.
  std::atomic<uint64_t> processed_{0}, rejected_{0}, updates_{0};
  std::thread worker_;
};

}  // namespace fg
