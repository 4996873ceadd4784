// nn_bench: latency of the six Human 3.3.6 models per NN backend (Google Benchmark).
//
// For each model x backend: batch 1 at the model's native input size, the xorshift32 input
// of tools/tfjs/README.md (seed 625341585, the tensor bench-tfjs.mjs times too), one thread,
// Prepare + NewContext outside the timing, warm-up runs, then every Plan::Run is timed on its
// own. Reported per benchmark (counters) and as a table at the end:
//   median_ms, p99_ms   of the per-run wall-clock latencies (nearest rank)
//   cpu_median_ms       median of the calling thread's CPU time per run: on a busy machine
//                       (preemption) it estimates the uncontended latency; threads=1 only
//   GFLOP/s             graph FLOPs / median; FLOPs = 2 * MACs of Conv2D, DepthwiseConv2D and
//                       MatMul (everything else is not counted), from the inferred shapes
//
//   nn_bench [--nn_models=a,b] [--nn_backends=reference,xnnpack,xnnpack-only,cuda] [--nn_threads=N]
//            [--tfjs_peer]
//   (xnnpack-only: the XNNPACK backend without its own AVX-512 residual-chain kernel)
//   --tfjs_peer: afterwards, in the same run, times the same models on TF.js's wasm backend
//   (node tools/tfjs/bench-tfjs.mjs --backends wasm --json; needs node and its node_modules)
//   and adds "wasm median ms" and "wasm / this" columns to the table.
//            [google-benchmark flags, e.g. --benchmark_min_time=2]
// Models come from $FACEGRAPH_MODELS or the configured default (tools/fetch-models).
// The CUDA backend ("cuda", cuda/nn) gets a row where it is built and a GPU is present
// (tools/bench/cuda_nn_bench times it by graph replay and at batch 64).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/nn/backend.h"
#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#ifdef FG_HAVE_XNNPACK
#include "engine/nn/xnnpack/xnnpack_backend.h"
#endif
#ifdef FG_HAVE_CUDA_NN
#include "cuda/nn/cuda_backend.h"
#endif

namespace {

using fg::nn::Model;
using fg::nn::Shape;

std::string ModelsDir() {
  const char* env = std::getenv("FACEGRAPH_MODELS");
  return env && *env ? env : FG_MODELS_DEFAULT_DIR;
}

// 2 * MACs of the conv / depthwise / matmul nodes at the prepared shapes.
double CountFlops(const Model& model, const std::vector<Shape>& shapes) {
  double flops = 0;
  for (const fg::nn::Node& n : model.nodes) {
    const Shape& y = shapes[n.output];
    const Shape& w = n.inputs.size() > 1 ? shapes[n.inputs[1]] : y;
    switch (n.op) {
      case fg::nn::OpType::kConv2D:  // y [N,OH,OW,OC], w [KH,KW,IC,OC]
        flops += 2.0 * double(fg::nn::NumElements(y)) * double(w[0] * w[1] * w[2]);
        break;
      case fg::nn::OpType::kDepthwiseConv2D:  // y [N,OH,OW,C*M], w [KH,KW,C,M]
        flops += 2.0 * double(fg::nn::NumElements(y)) * double(w[0] * w[1]);
        break;
      case fg::nn::OpType::kMatMul: {  // y [M,N]; K from a
        const Shape& a = shapes[n.inputs[0]];
        const int64_t k = n.matmul.transpose_a ? a[0] : a[1];
        flops += 2.0 * double(fg::nn::NumElements(y)) * double(k);
        break;
      }
      default:
        break;
    }
  }
  return flops;
}

// xorshift32 as tools/tfjs/README.md ("random case").
std::vector<float> XorshiftInput(uint32_t seed, size_t n) {
  std::vector<float> v(n);
  uint32_t s = seed;
  for (float& x : v) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    x = static_cast<float>(((s >> 8) / 16777216.0) * 2.0 - 1.0);
  }
  return v;
}

int g_threads = 1;

std::unique_ptr<fg::nn::Backend> MakeBackend(const std::string& name) {
  if (name == "reference") return std::make_unique<fg::nn::ReferenceBackend>();
#ifdef FG_HAVE_XNNPACK
  if (name == "xnnpack") return std::make_unique<fg::nn::XnnpackBackend>(g_threads);
  // XNNPACK's kernels only (no engine/nn/cpu chains): the "before" of the own kernels.
  if (name == "xnnpack-only")
    return std::make_unique<fg::nn::XnnpackBackend>(g_threads, /*own_kernels=*/false);
#endif
#ifdef FG_HAVE_CUDA_NN
  if (name == "cuda") return std::make_unique<fg::nn::gpu::CudaBackend>();
#endif
  return nullptr;
}

double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

struct Row {
  double median_ms = 0, p99_ms = 0, cpu_median_ms = 0, gflops = 0, mflop = 0;
  size_t runs = 0;
};
std::map<std::pair<std::string, std::string>, Row> g_rows;  // (model, backend) -> result

void BM_Model(benchmark::State& state, const std::string& model_name,
              const std::string& backend_name) {
  auto loaded = fg::nn::LoadModel(ModelsDir() + "/" + model_name + ".json");
  if (!loaded.ok()) {
    state.SkipWithError(loaded.status().message().c_str());
    return;
  }
  const Model& model = loaded.value();
  auto backend = MakeBackend(backend_name);
  if (!backend) {
    state.SkipWithError(("backend not built: " + backend_name).c_str());
    return;
  }
  const std::vector<Shape> in_shapes = fg::nn::NativeInputShapes(model, 1);
  std::vector<Shape> shapes;
  if (auto s = fg::nn::InferShapes(model, in_shapes, &shapes); !s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  auto plan = backend->Prepare(model, in_shapes);
  if (!plan.ok()) {
    state.SkipWithError(plan.status().message().c_str());
    return;
  }
  auto ctx = (*plan)->NewContext();
  std::vector<std::vector<float>> inputs, outputs;
  std::vector<fg::nn::ConstBuffer> in_bufs;
  std::vector<fg::nn::MutableBuffer> out_bufs;
  for (const Shape& s : (*plan)->input_shapes())
    inputs.push_back(XorshiftInput(625341585u, static_cast<size_t>(fg::nn::NumElements(s))));
  for (const Shape& s : (*plan)->output_shapes())
    outputs.emplace_back(static_cast<size_t>(fg::nn::NumElements(s)));
  for (auto& v : inputs) in_bufs.push_back({v.data(), v.size()});
  for (auto& v : outputs) out_bufs.push_back({v.data(), v.size()});

  // Warm-up: caches, page faults of the arena, XNNPACK's first-touch of packed weights.
  const int warmup = backend_name == "reference" ? 2 : 20;
  for (int i = 0; i < warmup; ++i) {
    if (auto s = (*plan)->Run(in_bufs, out_bufs, *ctx); !s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
  }
  std::vector<double> ms, cpu_ms;
  ms.reserve(1 << 16);
  cpu_ms.reserve(1 << 16);
  for (auto _ : state) {
    const double c0 = ThreadCpuMs();
    const auto t0 = std::chrono::steady_clock::now();
    fg::nn::Status s = (*plan)->Run(in_bufs, out_bufs, *ctx);
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = ThreadCpuMs();
    benchmark::DoNotOptimize(outputs[0].data());
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    if (ms.size() < ms.capacity()) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      cpu_ms.push_back(c1 - c0);
    }
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  auto rank = [&](double q) {  // nearest rank
    size_t i = static_cast<size_t>(std::ceil(q * double(ms.size())));
    return ms[std::min(ms.size() - 1, i == 0 ? 0 : i - 1)];
  };
  Row row;
  row.runs = ms.size();
  row.median_ms = rank(0.5);
  row.p99_ms = rank(0.99);
  row.cpu_median_ms = cpu_ms[cpu_ms.size() / 2];
  row.mflop = CountFlops(model, shapes) * 1e-6;
  row.gflops = row.mflop / row.median_ms;  // MFLOP per ms == GFLOP per s
  state.counters["median_ms"] = row.median_ms;
  state.counters["p99_ms"] = row.p99_ms;
  state.counters["cpu_median_ms"] = row.cpu_median_ms;
  state.counters["GFLOP/s"] = row.gflops;
  state.counters["MFLOP"] = row.mflop;
  g_rows[{model_name, backend_name}] = row;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Runs the TF.js wasm peer on `models`; returns model -> median ms (empty on any failure,
// with the reason on stderr).
std::map<std::string, double> RunTfjsPeer(const std::vector<std::string>& models) {
  std::string list;
  for (const std::string& m : models) list += (list.empty() ? "" : ",") + m;
  const std::string cmd = std::string("node '") + FG_SOURCE_DIR +
                          "/tools/tfjs/bench-tfjs.mjs' --backends wasm --json --models " + list;
  std::fprintf(stderr, "tfjs peer: %s\n", cmd.c_str());
  std::map<std::string, double> out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    std::fprintf(stderr, "tfjs peer: popen failed\n");
    return out;
  }
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) text.append(buf, n);
  if (const int rc = pclose(pipe); rc != 0) {
    std::fprintf(stderr, "tfjs peer: exited with status %d\n", rc);
    return out;
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("results")) {
    std::fprintf(stderr, "tfjs peer: unreadable JSON output\n");
    return out;
  }
  for (const auto& r : j["results"]) out[r.value("model", "")] = r.value("median_ms", 0.0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models = {"blazeface", "facemesh", "iris", "emotion", "antispoof", "liveness"};
  std::vector<std::string> backends = {"reference"};
#ifdef FG_HAVE_XNNPACK
  backends.push_back("xnnpack");
#endif
#ifdef FG_HAVE_CUDA_NN
  if (fg::nn::gpu::CudaDeviceCount() > 0) backends.push_back("cuda");
#endif
  bool tfjs_peer = false;
  // Our flags first; the rest goes to Google Benchmark.
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--nn_models=", 0) == 0) models = Split(a.substr(12));
    else if (a.rfind("--nn_backends=", 0) == 0) backends = Split(a.substr(14));
    else if (a.rfind("--nn_threads=", 0) == 0) g_threads = std::max(1, std::atoi(a.c_str() + 13));
    else if (a == "--tfjs_peer") tfjs_peer = true;
    else rest.push_back(argv[i]);
  }
  for (const std::string& m : models)
    for (const std::string& b : backends) {
      auto* bm = benchmark::RegisterBenchmark(("nn/" + m + "/" + b).c_str(), BM_Model, m, b);
      bm->Unit(benchmark::kMillisecond)->UseRealTime();
      // The reference backend is slow by design: fewer runs keep the table quick.
      bm->MinTime(b == "reference" ? 1.0 : 2.0);
    }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  const std::map<std::string, double> wasm =
      tfjs_peer ? RunTfjsPeer(models) : std::map<std::string, double>{};
  std::printf("\n| model | backend | threads | median ms | p99 ms | cpu median ms | MFLOP | GFLOP/s | runs |%s\n",
              tfjs_peer ? " wasm median ms | wasm / this |" : "");
  std::printf("|---|---|---|---|---|---|---|---|---|%s\n", tfjs_peer ? "---|---|" : "");
  for (const auto& [key, r] : g_rows) {
    std::printf("| %s | %s | %d | %.3f | %.3f | %.3f | %.1f | %.1f | %zu |", key.first.c_str(),
                key.second.c_str(), key.second == "reference" ? 1 : g_threads, r.median_ms,
                r.p99_ms, r.cpu_median_ms, r.mflop, r.gflops, r.runs);
    if (tfjs_peer) {
      const auto it = wasm.find(key.first);
      if (it != wasm.end() && it->second > 0)
        std::printf(" %.2f | %.1fx |", it->second, it->second / r.median_ms);
      else
        std::printf(" n/a | n/a |");
    }
    std::printf("\n");
  }
  return 0;
}
