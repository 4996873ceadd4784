// The CUDA executor of the lowered plan (cuda_backend.h): device weights, one arena per
// context, one CUDA graph per context captured at the first Run and replayed after.
#include "cuda/nn/cuda_backend.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "cuda/cuda_check.h"
#include "cuda/nn/emulator.h"
#include "cuda/nn/kernel.h"
#include "cuda/nn/lowering.h"

namespace fg::nn::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t{1} << 24;  // beyond: grid-stride loop

std::atomic<int64_t> g_allocations{0};

// Every device / pinned allocation of this backend: counted, checked.
bool DeviceAlloc(float** p, int64_t floats, std::string* error) {
  ++g_allocations;
  FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(p), size_t(std::max<int64_t>(floats, 1)) * 4),
                error);
  return true;
}
bool PinnedAlloc(float** p, int64_t floats, std::string* error) {
  ++g_allocations;
  FG_CUDA_CHECK(
      cudaMallocHost(reinterpret_cast<void**>(p), size_t(std::max<int64_t>(floats, 1)) * 4),
      error);
  return true;
}

// One thread per output element (softmax: per row); the work is kernel.h's EvalElement.
template <Kind K>
__global__ void StepKernel(KernelArgs a) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < a.count; i += stride)
    EvalElement<K>(a, i);
}

bool LaunchStep(const KernelArgs& a, cudaStream_t stream, std::string* error) {
  if (a.count == 0) return true;
  const int64_t blocks = std::min((a.count + kThreads - 1) / kThreads, kMaxBlocks);
  VisitKind(a.kind, [&](auto kind) {
    StepKernel<decltype(kind)::value><<<unsigned(blocks), kThreads, 0, stream>>>(a);
  });
  FG_CUDA_CHECK(cudaGetLastError(), error);  // the launch itself
  return true;
}

class CudaContext final : public RunContext {
 public:
  ~CudaContext() override {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
    if (arena) cudaFree(arena);
    if (staging) cudaFreeHost(staging);
    if (stream) cudaStreamDestroy(stream);
  }
  const void* owner = nullptr;
  cudaStream_t stream = nullptr;
  float* arena = nullptr;    // device activations (lowering's memory plan)
  float* staging = nullptr;  // pinned: inputs then outputs, back to back
  std::vector<int64_t> in_offsets, out_offsets;  // into staging
  std::vector<KernelArgs> launches;              // bound to arena and the plan's weights
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
};

class CudaPlan final : public Plan {
 public:
  CudaPlan(const Model& model, LoweredModel lm, float* weights)
      : model_(model), lm_(std::move(lm)), weights_(weights) {}
  ~CudaPlan() override {
    if (weights_) cudaFree(weights_);
  }

  const std::vector<Shape>& input_shapes() const override { return lm_.input_shapes; }
  const std::vector<Shape>& output_shapes() const override { return lm_.output_shapes; }

  std::unique_ptr<RunContext> NewContext() const override {
    auto ctx = std::make_unique<CudaContext>();
    ctx->owner = this;
    std::string error;
    if (cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking) != cudaSuccess)
      return nullptr;
    int64_t staged = 0;
    for (const Shape& s : lm_.input_shapes) {
      ctx->in_offsets.push_back(staged);
      staged += NumElements(s);
    }
    for (const Shape& s : lm_.output_shapes) {
      ctx->out_offsets.push_back(staged);
      staged += NumElements(s);
    }
    if (!DeviceAlloc(&ctx->arena, lm_.arena_elements, &error) ||
        !PinnedAlloc(&ctx->staging, staged, &error))
      return nullptr;
    for (const Launch& l : lm_.launches)
      ctx->launches.push_back(Bind(lm_, l, ctx->arena, weights_));
    return ctx;
  }

  Status Run(std::span<const ConstBuffer> inputs, std::span<const MutableBuffer> outputs,
             RunContext& base) const override {
    auto* ctx = dynamic_cast<CudaContext*>(&base);
    if (!ctx || ctx->owner != this)
      return Status::Error(model_.path + ": RunContext was made by another plan");
    if (Status s = CheckRunBuffers(model_, lm_, inputs, outputs); !s.ok()) return s;
    for (size_t i = 0; i < inputs.size(); ++i)
      std::memcpy(ctx->staging + ctx->in_offsets[i], inputs[i].data, inputs[i].count * 4);
    if (!ctx->exec)
      if (Status s = Capture(*ctx); !s.ok()) return s;
    std::string error;
    if (!Replay(*ctx, &error)) return Status::Error(model_.path + ": " + error);
    for (size_t i = 0; i < outputs.size(); ++i)
      std::memcpy(outputs[i].data, ctx->staging + ctx->out_offsets[i], outputs[i].count * 4);
    return Status::Ok();
  }

 private:
  bool Replay(CudaContext& ctx, std::string* error) const {
    FG_CUDA_CHECK(cudaGraphLaunch(ctx.exec, ctx.stream), error);
    FG_CUDA_CHECK(cudaStreamSynchronize(ctx.stream), error);
    return true;
  }

  // Records copies in, every launch, copies out; `*node` names the launch that failed.
  bool Record(CudaContext& ctx, std::string* node, std::string* error) const {
    for (size_t i = 0; i < lm_.input_tensors.size(); ++i) {
      *node = "input '" + model_.inputs[i].name + "'";
      FG_CUDA_CHECK(cudaMemcpyAsync(ctx.arena + lm_.where[lm_.input_tensors[i]].offset,
                                    ctx.staging + ctx.in_offsets[i],
                                    size_t(NumElements(lm_.input_shapes[i])) * 4,
                                    cudaMemcpyHostToDevice, ctx.stream),
                    error);
    }
    for (size_t k = 0; k < ctx.launches.size(); ++k) {
      *node = "node '" + lm_.launches[k].nodes + "'";
      if (!LaunchStep(ctx.launches[k], ctx.stream, error)) return false;
    }
    for (size_t i = 0; i < lm_.output_tensors.size(); ++i) {
      *node = "output '" + model_.outputs[i].name + "'";
      const Location& loc = lm_.where[lm_.output_tensors[i]];
      const float* src = (loc.where == Location::kWeights ? weights_ : ctx.arena) + loc.offset;
      FG_CUDA_CHECK(cudaMemcpyAsync(ctx.staging + ctx.out_offsets[i], src,
                                    size_t(NumElements(lm_.output_shapes[i])) * 4,
                                    cudaMemcpyDeviceToHost, ctx.stream),
                    error);
    }
    return true;
  }

  Status Capture(CudaContext& ctx) const {
    std::string node = "capture", error;
    std::string* const err = &error;  // FG_CUDA_CHECK's sink
    auto fail = [&]() { return Status::Error(model_.path + ": " + node + ": " + error); };
    auto begin = [&]() {
      FG_CUDA_CHECK(cudaStreamBeginCapture(ctx.stream, cudaStreamCaptureModeThreadLocal), err);
      return true;
    };
    if (!begin()) return fail();
    const bool recorded = Record(ctx, &node, &error);
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(ctx.stream, &graph);
    if (!recorded) {
      if (graph) cudaGraphDestroy(graph);
      return fail();
    }
    node = "capture";
    auto finish = [&]() {
      FG_CUDA_CHECK(end, err);
      ctx.graph = graph;
      FG_CUDA_CHECK(cudaGraphInstantiate(&ctx.exec, ctx.graph, 0), err);
      return true;
    };
    if (!finish()) return fail();
    return Status::Ok();
  }

  const Model& model_;
  LoweredModel lm_;
  float* weights_;  // device copy of lm_.weights, owned
};

}  // namespace

Result<std::unique_ptr<Plan>> CudaBackend::Prepare(const Model& model,
                                                   std::span<const Shape> input_shapes) const {
  std::string error;
  std::string* const err = &error;  // FG_CUDA_CHECK's sink
  auto device = [&]() {
    int n = 0;
    FG_CUDA_CHECK(cudaGetDeviceCount(&n), err);
    if (n == 0) error = "cudaGetDeviceCount: no CUDA device";
    return n > 0;
  };
  if (!device()) return Status::Error(model.path + ": cuda backend: " + error);
  Result<LoweredModel> lm = Lower(model, input_shapes);
  if (!lm.ok()) return lm.status();
  float* weights = nullptr;
  auto upload = [&]() {
    if (!DeviceAlloc(&weights, int64_t(lm->weights.size()), err)) return false;
    FG_CUDA_CHECK(cudaMemcpy(weights, lm->weights.data(), lm->weights.size() * 4,
                             cudaMemcpyHostToDevice),
                  err);
    return true;
  };
  if (!upload()) {
    if (weights) cudaFree(weights);
    return Status::Error(model.path + ": uploading weights: " + error);
  }
  return std::unique_ptr<Plan>(new CudaPlan(model, std::move(lm).value(), weights));
}

int CudaDeviceCount() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

std::string CudaDeviceDescription() {
  int dev = 0;
  cudaDeviceProp p{};
  if (CudaDeviceCount() == 0 || cudaGetDevice(&dev) != cudaSuccess ||
      cudaGetDeviceProperties(&p, dev) != cudaSuccess)
    return "";
  return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs)";
}

int64_t CudaAllocationCount() { return g_allocations.load(); }

}  // namespace fg::nn::gpu
