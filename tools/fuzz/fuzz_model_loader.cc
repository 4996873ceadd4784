// libFuzzer target: bytes -> LoadModelFromMemory -> (if it loads and is small) Prepare and
// Run on the ReferenceBackend. Any crash, sanitizer report, uncaught exception or abort is
// a bug: the loader must turn every input into a Status.
//
// Input: <model.json bytes> [ '\0' <shard bytes> ]. Every path named in the weightsManifest
// is served the shard bytes; without a '\0' part each path gets 1 MiB of zeros, enough for
// the weights of the small real models, so mutations of a real model.json reach node
// parsing and shape inference.
//
// Build (clang only):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang-14 \
//     -DCMAKE_CXX_COMPILER=clang++-14 -DFG_ENGINE_ONLY=ON -DFG_BENCHMARKS=OFF \
//     -DFG_FUZZERS=ON -DFG_SANITIZE=address
//   ninja -C build-fuzz fuzz_model_loader
// Run (seeds: the checked-in hand-made model plus the real model.json files, which are
// not copied into the repository):
//   mkdir -p /tmp/fuzz-seeds && cp ~/.cache/facegraph/models/*.json /tmp/fuzz-seeds/
//   build-fuzz/tools/fuzz/fuzz_model_loader -max_len=200000 -max_total_time=120 \
//     -rss_limit_mb=4096 /tmp/fuzz-corpus tools/fuzz/corpus_model_loader /tmp/fuzz-seeds
// (the first folder collects new inputs; create it first).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"

namespace {

// Runs a loaded model only when it is cheap, so the fuzzer stays fast (a timeout is not
// the kind of bug this target looks for).
constexpr int64_t kMaxRunElements = int64_t{1} << 18;
constexpr int64_t kMaxRunMacs = int64_t{1} << 24;

// Rough multiply-accumulate count of one reference run.
int64_t Cost(const fg::nn::Model& model, const std::vector<fg::nn::Shape>& shapes) {
  int64_t total = 0;
  for (const fg::nn::Node& n : model.nodes) {
    int64_t out = fg::nn::NumElements(shapes[n.output]);
    int64_t per = 1;
    const fg::nn::Shape& w = n.inputs.size() > 1 ? shapes[n.inputs[1]] : shapes[n.inputs[0]];
    if (n.op == fg::nn::OpType::kConv2D && w.size() == 4) per = w[0] * w[1] * w[2];
    if (n.op == fg::nn::OpType::kDepthwiseConv2D && w.size() == 4) per = w[0] * w[1];
    if (n.op == fg::nn::OpType::kMaxPool) per = int64_t{n.pool.kernel_h} * n.pool.kernel_w;
    if (n.op == fg::nn::OpType::kMatMul && w.size() == 2) per = w[0] * w[1];
    if (n.op == fg::nn::OpType::kMean || n.op == fg::nn::OpType::kPad)
      out = std::max(out, fg::nn::NumElements(shapes[n.inputs[0]]));
    if (per > kMaxRunMacs || out > kMaxRunMacs) return kMaxRunMacs + 1;
    total += out * per;
    if (total > kMaxRunMacs) return total;
  }
  return total;
}

void MaybeRun(const fg::nn::Model& model) {
  std::vector<fg::nn::Shape> in_shapes = fg::nn::NativeInputShapes(model, 1);
  std::vector<fg::nn::Shape> shapes;
  if (!fg::nn::InferShapes(model, in_shapes, &shapes).ok()) return;
  int64_t total = 0;
  for (const fg::nn::Shape& s : shapes) total += fg::nn::NumElements(s);
  if (total > kMaxRunElements || Cost(model, shapes) > kMaxRunMacs) return;
  fg::nn::ReferenceBackend backend;
  auto plan = backend.Prepare(model, in_shapes);
  if (!plan.ok()) return;
  auto ctx = (*plan)->NewContext();
  if (!ctx) return;
  std::vector<std::vector<float>> ins, outs;
  std::vector<fg::nn::ConstBuffer> in_bufs;
  std::vector<fg::nn::MutableBuffer> out_bufs;
  for (const auto& s : (*plan)->input_shapes()) ins.emplace_back(fg::nn::NumElements(s), 0.5f);
  for (const auto& s : (*plan)->output_shapes()) outs.emplace_back(fg::nn::NumElements(s));
  for (auto& v : ins) in_bufs.push_back({v.data(), v.size()});
  for (auto& v : outs) out_bufs.push_back({v.data(), v.size()});
  (void)(*plan)->Run(in_bufs, out_bufs, *ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t sep = all.find('\0');
  std::string_view json = all.substr(0, sep);
  std::string shard = sep == std::string_view::npos ? std::string(size_t{1} << 20, '\0')
                                                    : std::string(all.substr(sep + 1));
  // Serve the shard under every path the manifest names (parsed leniently here; the
  // loader does the real validation).
  fg::nn::ShardMap shards;
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (j.is_object() && j.contains("weightsManifest") && j["weightsManifest"].is_array())
    for (const auto& g : j["weightsManifest"])
      if (g.is_object() && g.contains("paths") && g["paths"].is_array())
        for (const auto& p : g["paths"])
          if (p.is_string()) shards[p.get<std::string>()] = shard;
  auto model = fg::nn::LoadModelFromMemory(json, "fuzz.json", shards);
  if (model.ok()) MaybeRun(*model);
  return 0;
}
