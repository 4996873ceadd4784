#include "engine/nn/model_cache.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/nn/loader.h"
#include "engine/nn/session.h"
#include "engine/nn/shape_inference.h"

namespace fg::nn {

namespace {

// 64-bit multiply-xorshift hash over 8-byte words (word-wise so a few MiB of weights hash in
// about a millisecond); the length is mixed in at the end.
class Hasher {
 public:
  void Add(const char* p, size_t n) {
    total_ += n;
    while (n > 0) {
      const size_t take = std::min(n, sizeof(uint64_t) - fill_);
      std::memcpy(reinterpret_cast<char*>(&word_) + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == sizeof(uint64_t)) Flush();
    }
  }
  uint64_t Finish() {
    if (fill_ > 0) Flush();
    Mix(total_);
    return h_;
  }

 private:
  void Flush() {
    Mix(word_);
    word_ = 0;
    fill_ = 0;
  }
  void Mix(uint64_t w) {
    h_ ^= w + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2);
    h_ *= 0xff51afd7ed558ccdULL;
    h_ ^= h_ >> 33;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL;
  uint64_t word_ = 0;
  size_t fill_ = 0;
  uint64_t total_ = 0;
};

bool HashFile(const std::filesystem::path& p, Hasher* h, std::string* text = nullptr) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  char buf[1 << 16];
  while (f) {
    f.read(buf, sizeof buf);
    const std::streamsize got = f.gcount();
    if (got <= 0) break;
    h->Add(buf, static_cast<size_t>(got));
    if (text) text->append(buf, static_cast<size_t>(got));
  }
  return true;
}

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}

bool CacheDisabledByEnvironment() {
  const char* v = std::getenv("FG_MODEL_CACHE");
  if (!v) return false;
  const std::string s(v);
  return s == "off" || s == "0" || s == "no" || s == "false";
}

// FG_MODEL_CACHE_LOG=1: one stderr line per load and per share (read once).
bool LogEnabled() {
  static const bool on = [] {
    const char* v = std::getenv("FG_MODEL_CACHE_LOG");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

}  // namespace

uint64_t ModelChecksum(const std::string& model_json) {
  Hasher h;
  std::string text;
  if (!HashFile(model_json, &h, &text)) return h.Finish();
  try {
    const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    const auto wm = root.is_object() ? root.find("weightsManifest") : root.end();
    if (root.is_object() && wm != root.end() && wm->is_array()) {
      const std::filesystem::path dir = std::filesystem::path(model_json).parent_path();
      for (const auto& group : *wm) {
        if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array()) continue;
        for (const auto& p : group["paths"]) {
          if (!p.is_string()) continue;
          const std::string name = p.get<std::string>();
          h.Add(name.data(), name.size());
          HashFile(dir / name, &h);  // missing: LoadModel names it
        }
      }
    }
  } catch (const std::exception&) {
    // A manifest that cannot be walked: the model.json bytes alone key it; LoadModel reports.
  }
  return h.Finish();
}

// `model` / `prepared` are written holding both the slot's lock and mu_, read holding either.
struct ModelCache::ModelSlot {
  std::mutex load_mu;  // held while this key loads: a second user waits instead of loading
  std::weak_ptr<const Model> model;
};

struct ModelCache::PlanSlot {
  std::mutex prepare_mu;
  std::weak_ptr<const PreparedModel> prepared;
};

ModelCache& ModelCache::Global() {
  static ModelCache* cache = new ModelCache();  // never destroyed: sessions may outlive main
  return *cache;
}

ModelCache::ModelCache() : enabled_(!CacheDisabledByEnvironment()) {}

void ModelCache::SetEnabled(bool enabled) {
  std::lock_guard<std::mutex> lock(mu_);
  enabled_ = enabled;
}

bool ModelCache::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return enabled_;
}

std::shared_ptr<ModelCache::ModelSlot> ModelCache::ModelSlotFor(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  // Forget slots whose model died and that nobody is loading (keeps the map small).
  for (auto it = models_.begin(); it != models_.end();) {
    if (it->first != key && it->second.use_count() == 1 && it->second->model.expired())
      it = models_.erase(it);
    else
      ++it;
  }
  std::shared_ptr<ModelSlot>& slot = models_[key];
  if (!slot) slot = std::make_shared<ModelSlot>();
  return slot;
}

std::shared_ptr<ModelCache::PlanSlot> ModelCache::PlanSlotFor(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = plans_.begin(); it != plans_.end();) {
    if (it->first != key && it->second.use_count() == 1 && it->second->prepared.expired())
      it = plans_.erase(it);
    else
      ++it;
  }
  std::shared_ptr<PlanSlot>& slot = plans_[key];
  if (!slot) slot = std::make_shared<PlanSlot>();
  return slot;
}

Result<std::shared_ptr<const Model>> ModelCache::Load(const std::string& model_json) {
  const std::string path = CanonicalPath(model_json);
  auto load = [&]() -> Result<std::shared_ptr<const Model>> {
    Result<Model> m = LoadModel(model_json);
    if (LogEnabled()) std::fprintf(stderr, "facegraph: model loaded: %s\n", path.c_str());
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.model_loads;
      ++loads_by_path_[path];
    }
    if (!m.ok()) return m.status();
    return std::shared_ptr<const Model>(std::make_shared<Model>(std::move(m).value()));
  };
  if (!enabled()) return load();

  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx",
                static_cast<unsigned long long>(ModelChecksum(model_json)));
  const std::string key = path + "#" + sum;
  std::shared_ptr<ModelSlot> slot = ModelSlotFor(key);
  std::lock_guard<std::mutex> hold(slot->load_mu);
  if (std::shared_ptr<const Model> m = slot->model.lock()) {
    if (LogEnabled()) std::fprintf(stderr, "facegraph: model shared: %s\n", path.c_str());
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.model_hits;
    return m;
  }
  Result<std::shared_ptr<const Model>> m = load();
  if (m.ok()) {
    std::lock_guard<std::mutex> lock(mu_);  // stats() reads the slot under mu_
    slot->model = m.value();
  }
  return m;
}

Result<std::shared_ptr<const PreparedModel>> ModelCache::Prepare(const std::string& model_json,
                                                                 std::string_view backend,
                                                                 int threads) {
  std::unique_ptr<Backend> be = MakeBackend(backend, threads);
  if (!be)
    return Status::Error(model_json + ": backend '" + std::string(backend) +
                         "' is not available in this build" +
                         (backend == "cuda" ? std::string(" (built without cuda/: no nvcc, "
                                                          "FG_CUDA=OFF or a sanitizer build)")
                                            : std::string()));
  auto prepare = [&](std::shared_ptr<const Model> model,
                     std::unique_ptr<Backend> b) -> Result<std::shared_ptr<const PreparedModel>> {
    Result<std::unique_ptr<Plan>> plan = b->Prepare(*model, NativeInputShapes(*model));
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.plan_prepares;
    }
    if (!plan.ok()) return plan.status();
    return std::shared_ptr<const PreparedModel>(std::make_shared<PreparedModel>(
        std::move(model), std::move(b), std::move(plan).value()));
  };

  Result<std::shared_ptr<const Model>> model = Load(model_json);
  if (!model.ok()) return model.status();
  if (!enabled()) return prepare(std::move(model).value(), std::move(be));

  // The model's identity is its shared object: the same key loads to the same pointer while
  // it lives, so (pointer, backend, threads) keys the plan without hashing again.
  char id[64];
  std::snprintf(id, sizeof id, "%p#%d#", static_cast<const void*>(model.value().get()),
                threads < 1 ? 1 : threads);
  const std::string key = std::string(id) + std::string(be->name());
  std::shared_ptr<PlanSlot> slot = PlanSlotFor(key);
  std::lock_guard<std::mutex> hold(slot->prepare_mu);
  if (std::shared_ptr<const PreparedModel> p = slot->prepared.lock()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.plan_hits;
    return p;
  }
  Result<std::shared_ptr<const PreparedModel>> p = prepare(std::move(model).value(), std::move(be));
  if (p.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    slot->prepared = p.value();
  }
  return p;
}

ModelCacheStats ModelCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ModelCacheStats s = stats_;
  s.models_held = s.plans_held = 0;
  for (const auto& [key, slot] : models_) s.models_held += slot->model.expired() ? 0 : 1;
  for (const auto& [key, slot] : plans_) s.plans_held += slot->prepared.expired() ? 0 : 1;
  return s;
}

uint64_t ModelCache::LoadsOf(const std::string& model_json) const {
  const std::string path = CanonicalPath(model_json);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = loads_by_path_.find(path);
  return it == loads_by_path_.end() ? 0 : it->second;
}

void ModelCache::ResetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_ = ModelCacheStats{};
  loads_by_path_.clear();
}

}  // namespace fg::nn
