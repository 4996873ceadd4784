// ModelCache: the models of a process, loaded once and shared by every analysis that uses them.
//
// A process that runs many streams (several facetrack / faceemotion / facevitals instances,
// several graphs in one `facegraph run`, an embedding program with many cameras) would
// otherwise parse, dequantize and prepare every model once per element instance. Session::Open
// (session.h) asks this cache instead, so each model is loaded once per process and each
// (model, backend, threads) plan is prepared once; every Session then only makes its own
// RunContext (the per-stream activation arena) and its input / output buffers.
//
//   key of a model   the model.json's canonical path + a 64-bit checksum of the model.json
//                    and every weight shard its manifest names (so a file replaced on disk
//                    under the same name is a new model, never a stale one)
//   key of a plan    the model's key + the resolved backend name ("auto" resolved) + threads
//
// Ref-counted: the cache holds only weak references. A model lives while some Session (or a
// caller's shared_ptr) uses it and is freed with its last user; the next Open loads it again.
// A load that fails is not remembered: the next Open tries again and reports the same error.
//
// What is shared and what is not: the Model (weights as float32) and the Plan (shapes, the
// memory plan, packed weights of the plan) are immutable and shared (backend.h allows any
// number of threads to run one Plan, each with its own RunContext). The RunContext is per
// Session; with the XNNPACK backend it holds XNNPACK runtimes that pack their own copy of the
// weights (the Debian XNNPACK has no shared weights cache: xnnpack_backend.h), so a stream
// still costs one arena and one packed copy of each model.
//
// Switch: FG_MODEL_CACHE=off in the environment (read once, at first use) or
// SetEnabled(false) makes every Open load and prepare its own copy, as before the cache
// (for comparisons; the results are identical: tests/nn/model_cache_test.cc).
//
// FG_MODEL_CACHE_LOG=1 prints one stderr line per load ("facegraph: model loaded: PATH") and
// per share ("facegraph: model shared: PATH"): how a process shows what it loaded (the
// runner's streams test counts them).
//
// Threading: thread-safe. Two threads opening the same model at once load it once: the second
// waits for the first (per-key lock; different models load in parallel). Never throws.
//
// Example:
//   auto prepared = fg::nn::ModelCache::Global().Prepare(dir + "/facemesh.json", "auto", 1);
//   if (!prepared.ok()) return prepared.status();         // names the file (and node)
//   auto ctx = (*prepared)->plan().NewContext();          // one per stream
//   fg::nn::ModelCacheStats s = fg::nn::ModelCache::Global().stats();   // loads, hits
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/nn/backend.h"
#include "engine/nn/model.h"
#include "engine/nn/status.h"

namespace fg::nn {

// A Model prepared on one backend: immutable, shared by every Session of that model, backend
// and thread count. Keeps its Model alive (the Plan points into its constants).
class PreparedModel {
 public:
  PreparedModel(std::shared_ptr<const Model> model, std::unique_ptr<Backend> backend,
                std::unique_ptr<Plan> plan)
      : model_(std::move(model)), backend_(std::move(backend)), plan_(std::move(plan)) {}
  ~PreparedModel() { plan_.reset(); }  // the plan goes before the model it points into
  const Model& model() const { return *model_; }
  const Plan& plan() const { return *plan_; }
  const Backend& backend() const { return *backend_; }
  std::string_view backend_name() const { return backend_->name(); }

 private:
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Plan> plan_;
};

// Counters since the process started (or since ResetStats).
struct ModelCacheStats {
  uint64_t model_loads = 0;     // LoadModel calls (parse + dequantize): cache misses
  uint64_t model_hits = 0;      // a model already held was handed out again
  uint64_t plan_prepares = 0;   // Backend::Prepare calls
  uint64_t plan_hits = 0;       // a prepared plan already held was handed out again
  uint64_t models_held = 0;     // models alive now (some user holds them)
  uint64_t plans_held = 0;      // plans alive now
};

class ModelCache {
 public:
  // The process-wide cache (Session::Open uses it).
  static ModelCache& Global();

  ModelCache();
  ModelCache(const ModelCache&) = delete;
  ModelCache& operator=(const ModelCache&) = delete;

  // The model at `model_json`, loaded now or shared with its other users.
  Result<std::shared_ptr<const Model>> Load(const std::string& model_json);

  // The model prepared on `backend` ("auto" = the best available, as MakeBackend) with
  // `threads`, for the model's native input shapes (NativeInputShapes).
  Result<std::shared_ptr<const PreparedModel>> Prepare(const std::string& model_json,
                                                       std::string_view backend, int threads);

  // False: every call loads and prepares its own copy (nothing is remembered).
  void SetEnabled(bool enabled);
  bool enabled() const;

  ModelCacheStats stats() const;
  // LoadModel calls for this model.json (canonical path) since the process started.
  uint64_t LoadsOf(const std::string& model_json) const;
  void ResetStats();

 private:
  struct ModelSlot;
  struct PlanSlot;
  std::shared_ptr<ModelSlot> ModelSlotFor(const std::string& key);
  std::shared_ptr<PlanSlot> PlanSlotFor(const std::string& key);

  mutable std::mutex mu_;  // guards the maps and counters; never held while loading
  bool enabled_ = true;
  std::map<std::string, std::shared_ptr<ModelSlot>> models_;
  std::map<std::string, std::shared_ptr<PlanSlot>> plans_;
  std::map<std::string, uint64_t> loads_by_path_;
  ModelCacheStats stats_;
};

// A 64-bit checksum of a model.json and every weight shard named in its weightsManifest
// (missing or unreadable shards count as empty: LoadModel reports them). Not cryptographic:
// it tells files apart, it does not authenticate them (tools/models.sha256 does that).
uint64_t ModelChecksum(const std::string& model_json);

}  // namespace fg::nn
