// cuda_nn_bench: the CUDA NN backend on the GPU (cuda/nn/cuda_backend.h), by CUDA graph replay.
//
// Prints the device, then per model: batch 1 at the native input size, the xorshift32 input
// (seed 625341585, as nn_bench), Prepare + NewContext + the first Run (graph capture) outside
// the timing, warm-up runs, then every Plan::Run timed on its own (host input copy, graph
// launch, synchronize, host output copy): median and p99 (nearest rank). Then FaceMesh at
// batch 64: median time per Run and crops/s = 64 / median. Issue 3's targets on a GPU:
// FaceMesh <= 0.15 ms per call at batch 1, >= 50,000 crops/s at batch 64.
// --cpu=BACKEND (default xnnpack where built, else reference; "none" skips it) times the same
// models and batches on that CPU backend in the same run (all cores, --runs / 20 runs, at
// least 5), with the GPU / CPU speed-up. --cudnn_report prints, per model and batch, the CUDA
// plan's per-layer cuDNN decisions (own vs cuDNN ms, agreement, choice: cuda_backend.h); which
// layers use cuDNN follows $FG_CUDNN / $FG_CUDNN_LAYERS as in every CudaBackend.
//
//   cuda_nn_bench [--models=a,b] [--runs=N] [--batch=64] [--cpu=xnnpack|reference|none]
//                 [--cudnn_report]
// Exit status: 0 measured; 1 a model failed to load / prepare / run; 77 no CUDA device
// ("no CUDA device" on stderr: the automake / ctest skip code).
// Models come from $FACEGRAPH_MODELS or the configured default (tools/fetch-models).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <thread>

#include "cuda/nn/cuda_backend.h"
#include "engine/nn/loader.h"
#include "engine/nn/session.h"
#include "engine/nn/shape_inference.h"
#include "tests/nn/nn_test_util.h"  // XorshiftTensor: tools/tfjs/README.md "random case"

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_ms = 0, p99_ms = 0;
};

void PrintCudnnReport(const fg::nn::Plan& plan, const std::string& what) {
  const fg::nn::gpu::CudnnReport* r = fg::nn::gpu::GetCudnnReport(plan);
  if (!r) return;
  std::printf("cudnn %s: %s\n", what.c_str(), r->status.c_str());
  if (r->layers.empty()) return;
  std::printf("  %-48s %-9s %9s %9s %10s %-6s %-22s %s\n", "layer", "kind", "own ms", "cudnn ms",
              "diff/max", "uses", "algorithm", "note");
  for (const auto& l : r->layers)
    std::printf("  %-48.48s %-9s %9.4f %9.4f %10.2e %-6s %-22s %s\n", l.nodes.c_str(), l.kind.c_str(), l.own_ms,
                l.cudnn_ms, l.max_ref > 0 ? l.max_diff / l.max_ref : l.max_diff, l.cudnn ? "cudnn" : "own",
                l.algorithm.c_str(), l.note.c_str());
}

// Prepares `model` at batch `batch` on `backend`, runs `warmup` + `runs` times; false + message
// on error. `report`: print the CUDA plan's cuDNN decisions.
bool Time(const fg::nn::Backend& backend, const fg::nn::Model& model, int64_t batch, int runs, bool report,
          Timing* t, std::string* error) {
  const std::vector<fg::nn::Shape> shapes = fg::nn::NativeInputShapes(model, batch);
  auto plan = backend.Prepare(model, shapes);
  if (!plan.ok()) {
    *error = plan.status().message();
    return false;
  }
  if (report) PrintCudnnReport(**plan, model.path + " batch " + std::to_string(batch));
  auto ctx = (*plan)->NewContext();
  if (!ctx) {
    *error = "NewContext failed (device memory)";
    return false;
  }
  std::vector<std::vector<float>> ins, outs;
  std::vector<fg::nn::ConstBuffer> in_bufs;
  std::vector<fg::nn::MutableBuffer> out_bufs;
  for (const auto& s : (*plan)->input_shapes())
    ins.push_back(fg::nn::testing::XorshiftTensor(625341585u, fg::nn::NumElements(s)));
  for (const auto& s : (*plan)->output_shapes()) outs.emplace_back(size_t(fg::nn::NumElements(s)));
  for (auto& v : ins) in_bufs.push_back({v.data(), v.size()});
  for (auto& v : outs) out_bufs.push_back({v.data(), v.size()});
  const int warmup = std::min(10, std::max(2, runs / 10));
  std::vector<double> ms;
  for (int i = 0; i < warmup + runs; ++i) {
    const auto t0 = Clock::now();
    const fg::nn::Status s = (*plan)->Run(in_bufs, out_bufs, *ctx);
    const auto t1 = Clock::now();
    if (!s.ok()) {
      *error = s.message();
      return false;
    }
    if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  t->median_ms = ms[ms.size() / 2];
  t->p99_ms = ms[std::min(ms.size() - 1, size_t(double(ms.size()) * 0.99))];
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string models = "blazeface,facemesh,iris,emotion,antispoof,liveness";
  int runs = 1000;
  int64_t batch = 64;
  const auto names = fg::nn::AvailableBackends();
  std::string cpu = std::find(names.begin(), names.end(), "xnnpack") != names.end() ? "xnnpack" : "reference";
  bool cudnn_report = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--models=", 9)) models = argv[i] + 9;
    else if (!std::strncmp(argv[i], "--runs=", 7)) runs = std::max(1, std::atoi(argv[i] + 7));
    else if (!std::strncmp(argv[i], "--batch=", 8)) batch = std::max(1, std::atoi(argv[i] + 8));
    else if (!std::strncmp(argv[i], "--cpu=", 6)) cpu = argv[i] + 6;
    else if (!std::strcmp(argv[i], "--cudnn_report")) cudnn_report = true;
    else {
      std::fprintf(stderr,
                   "usage: cuda_nn_bench [--models=a,b] [--runs=N] [--batch=64] "
                   "[--cpu=xnnpack|reference|none] [--cudnn_report]\n");
      return 2;
    }
  }
  const int threads = std::max(1, int(std::thread::hardware_concurrency()));
  std::unique_ptr<fg::nn::Backend> cpu_backend;
  if (cpu != "none") {
    cpu_backend = fg::nn::MakeBackend(cpu, threads);
    if (!cpu_backend) {
      std::fprintf(stderr, "cuda_nn_bench: no CPU backend '%s' in this build\n", cpu.c_str());
      return 2;
    }
  }
  if (fg::nn::gpu::CudaDeviceCount() == 0) {
    std::fprintf(stderr, "cuda_nn_bench: no CUDA device (cudaGetDeviceCount reports none)\n");
    return 77;
  }
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string dir = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::printf("device: %s\n", fg::nn::gpu::CudaDeviceDescription().c_str());
  const char* fg_cudnn = std::getenv("FG_CUDNN");
  std::printf("cuda backend: FG_CUDNN=%s; cpu backend: %s, %d threads\n", fg_cudnn ? fg_cudnn : "(unset: auto)",
              cpu.c_str(), threads);
  std::printf("%-10s %6s %8s %12s %12s %12s %12s %9s\n", "model", "batch", "backend", "median ms", "p99 ms",
              "cpu med ms", "cpu p99 ms", "speed-up");
  const fg::nn::gpu::CudaBackend cuda;
  int status = 0;
  std::stringstream list(models);
  for (std::string name; std::getline(list, name, ',');) {
    auto model = fg::nn::LoadModel(dir + "/" + name + ".json");
    if (!model.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), model.status().message().c_str());
      status = 1;
      continue;
    }
    std::vector<int64_t> batches = {1};
    if (name == "facemesh" && batch > 1) batches.push_back(batch);
    for (int64_t b : batches) {
      Timing t, c;
      std::string error;
      const int n = b == 1 ? runs : std::max(1, runs / 5);
      if (!Time(cuda, *model, b, n, cudnn_report, &t, &error)) {
        std::fprintf(stderr, "%s batch %lld: %s\n", name.c_str(), static_cast<long long>(b), error.c_str());
        status = 1;
        continue;
      }
      const bool with_cpu = cpu_backend && Time(*cpu_backend, *model, b, std::max(5, n / 20), false, &c, &error);
      if (cpu_backend && !with_cpu) {
        std::fprintf(stderr, "%s batch %lld on %s: %s\n", name.c_str(), static_cast<long long>(b), cpu.c_str(),
                     error.c_str());
        status = 1;
      }
      std::printf("%-10s %6lld %8s %12.4f %12.4f", name.c_str(), static_cast<long long>(b), "cuda", t.median_ms,
                  t.p99_ms);
      if (with_cpu)
        std::printf(" %12.4f %12.4f %8.1fx", c.median_ms, c.p99_ms, c.median_ms / t.median_ms);
      if (b > 1)
        std::printf("   %.0f crops/s (cpu %.0f)", double(b) / (t.median_ms * 1e-3),
                    with_cpu ? double(b) / (c.median_ms * 1e-3) : 0.0);
      // Issue 3's targets, stated beside the measurement (a miss does not change the exit code).
      if (name == "facemesh" && b == 1)
        std::printf("   target <= 0.15 ms: %s", t.median_ms <= 0.15 ? "met" : "MISSED");
      if (name == "facemesh" && b == 64)
        std::printf("   target >= 50000 crops/s: %s", 64.0 / (t.median_ms * 1e-3) >= 50000 ? "met" : "MISSED");
      std::printf("\n");
    }
  }
  return status;
}
