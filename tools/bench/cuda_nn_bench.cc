// cuda_nn_bench: the CUDA NN backend on the GPU (cuda/nn/cuda_backend.h), by CUDA graph replay.
//
// Prints the device, then per model: batch 1 at the native input size, the xorshift32 input
// (seed 625341585, as nn_bench), Prepare + NewContext + the first Run (graph capture) outside
// the timing, warm-up runs, then every Plan::Run timed on its own (host input copy, graph
// launch, synchronize, host output copy): median and p99 (nearest rank). Then FaceMesh at
// batch 64: median time per Run and crops/s = 64 / median. Issue 3's targets on a GPU:
// FaceMesh <= 0.15 ms per call at batch 1, >= 50,000 crops/s at batch 64.
//
//   cuda_nn_bench [--models=a,b] [--runs=N] [--batch=64]
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

#include "cuda/nn/cuda_backend.h"
#include "engine/nn/loader.h"
#include "engine/nn/shape_inference.h"
#include "tests/nn/nn_test_util.h"  // XorshiftTensor: tools/tfjs/README.md "random case"

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_ms = 0, p99_ms = 0;
};

// Prepares `model` at batch `batch`, runs `warmup` + `runs` times; false + message on error.
bool Time(const fg::nn::Model& model, int64_t batch, int runs, Timing* t, std::string* error) {
  const std::vector<fg::nn::Shape> shapes = fg::nn::NativeInputShapes(model, batch);
  auto plan = fg::nn::gpu::CudaBackend().Prepare(model, shapes);
  if (!plan.ok()) {
    *error = plan.status().message();
    return false;
  }
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
  const int warmup = std::max(10, runs / 10);
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
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--models=", 9)) models = argv[i] + 9;
    else if (!std::strncmp(argv[i], "--runs=", 7)) runs = std::max(1, std::atoi(argv[i] + 7));
    else if (!std::strncmp(argv[i], "--batch=", 8)) batch = std::max(1, std::atoi(argv[i] + 8));
    else {
      std::fprintf(stderr, "usage: cuda_nn_bench [--models=a,b] [--runs=N] [--batch=64]\n");
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
  std::printf("%-10s %8s %12s %12s\n", "model", "batch", "median ms", "p99 ms");
  int status = 0;
  std::stringstream list(models);
  for (std::string name; std::getline(list, name, ',');) {
    auto model = fg::nn::LoadModel(dir + "/" + name + ".json");
    Timing t;
    std::string error;
    if (!model.ok() || !Time(*model, 1, runs, &t, &error)) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(),
                   model.ok() ? error.c_str() : model.status().message().c_str());
      status = 1;
      continue;
    }
    std::printf("%-10s %8d %12.4f %12.4f\n", name.c_str(), 1, t.median_ms, t.p99_ms);
    if (name == "facemesh") {
      if (!Time(*model, batch, std::max(1, runs / 5), &t, &error)) {
        std::fprintf(stderr, "facemesh batch %lld: %s\n", static_cast<long long>(batch),
                     error.c_str());
        status = 1;
        continue;
      }
      std::printf("%-10s %8lld %12.4f %12.4f   %.0f crops/s\n", name.c_str(),
                  static_cast<long long>(batch), t.median_ms, t.p99_ms,
                  double(batch) / (t.median_ms * 1e-3));
    }
  }
  return status;
}
