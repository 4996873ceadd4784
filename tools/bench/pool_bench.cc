// pool_bench: what batching across streams buys per crop. For each model with a free batch
// dimension (emotion, FaceMesh), the CPU time per crop of batch-1 Session runs against the
// InferencePool (engine/nn/inference_pool.h) at batch 2, 4, 8 fed by 8 streams, in the same run.
// CPU time of the process (not wall time): the machine may be shared.
//   build/tools/bench/pool_bench [CROPS]      (default 400 crops per configuration)
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/nn/inference_pool.h"
#include "engine/nn/session.h"

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

}  // namespace

int main(int argc, char** argv) {
  const int crops = argc > 1 ? std::atoi(argv[1]) : 400;
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string dir = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::printf("pool_bench: %d crops per row, CPU ms per crop (process user+sys)\n", crops);
  std::printf("%-10s %8s %12s\n", "model", "batch", "cpu_ms/crop");
  for (const char* name : {"emotion", "facemesh"}) {
    const std::string path = dir + "/" + name + ".json";
    auto s = fg::nn::Session::Open(path, "auto");
    if (!s.ok()) {
      std::fprintf(stderr, "pool_bench: %s\n", s.status().message().c_str());
      return 1;
    }
    for (int i = 0; i < 10; ++i) (void)(*s)->Run();  // warm
    double t0 = CpuSeconds();
    for (int i = 0; i < crops; ++i) (void)(*s)->Run();
    std::printf("%-10s %8d %12.3f\n", name, 1, 1000 * (CpuSeconds() - t0) / crops);
    for (int batch : {2, 4, 8}) {
      auto pool = fg::nn::InferencePool::Create({.model_json = path, .max_batch = batch, .own_thread = false});
      if (!pool.ok()) {
        std::fprintf(stderr, "pool_bench: %s\n", pool.status().message().c_str());
        return 1;
      }
      fg::nn::InferencePool& p = *pool.value();
      for (int st = 0; st < 8; ++st) p.AddStream();
      std::vector<float> in(p.input_elements(), 0.1f);
      for (int i = 0; i < 2 * batch; ++i) p.Submit(i % 8, in.data(), nullptr);
      while (p.RunOnce() > 0) {
      }  // warm
      t0 = CpuSeconds();
      for (int i = 0; i < crops; ++i) p.Submit(i % 8, in.data(), nullptr);
      while (p.RunOnce() > 0) {
      }
      std::printf("%-10s %8d %12.3f\n", name, batch, 1000 * (CpuSeconds() - t0) / crops);
    }
  }
  return 0;
}
