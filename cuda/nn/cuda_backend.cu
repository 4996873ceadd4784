// The CUDA executor of the lowered plan (cuda_backend.h): device weights, one arena per
// context, one CUDA graph per context captured at the first Run and replayed after.
#include "cuda/nn/cuda_backend.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

#include "cuda/cuda_check.h"
#include "cuda/nn/cudnn_conv.h"
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
  FG_CUDA_CHECK_LAUNCH(stream, error);
  return true;
}

// A launch that runs on cuDNN: the layer's descriptors and algorithm, its KRSC filter, and
// for a padding cuDNN cannot express, the explicit pad launch before it (kernel.h
// ExplicitPadding: the descriptors are then those of the unpadded convolution).
struct CudnnStep {
  std::unique_ptr<cudnn::Conv> conv;
  const float* filter = nullptr;  // device, in the plan's cuDNN weights blob
  bool padded = false;
  KernelArgs pad;  // when padded: in[0] and out are set per run (the input, the pad buffer)
};

// The cuDNN step of launch `a` (bound): [pad into `pad_buffer`,] convolution, epilogue in place.
bool RunCudnnStep(const CudnnStep& step, const KernelArgs& a, const cudnn::Handle& handle, void* workspace,
                  float* pad_buffer, cudaStream_t stream, std::string* error) {
  const float* x = a.in[0];
  if (step.padded) {
    KernelArgs pad = step.pad;
    pad.in[0] = a.in[0];
    pad.out = pad_buffer;
    if (!LaunchStep(pad, stream, error)) return false;
    x = pad_buffer;
  }
  return step.conv->Run(handle, x, step.filter, a.out, workspace, error) &&
         LaunchStep(EpilogueInPlace(a), stream, error);
}

// Decisions of earlier Prepares in this process, by (model path, shapes, options, launch).
struct TunedLayer {
  CudnnLayer report;  // report.cudnn: the decision
  int algorithm = -1;
  size_t workspace = 0;
};
std::mutex g_tuned_mu;
std::map<std::string, TunedLayer> g_tuned;

class CudaContext final : public RunContext {
 public:
  ~CudaContext() override {
    if (stream) cudaStreamSynchronize(stream);  // a replay may still use the arena and staging
    cudnn.reset();
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
    if (workspace) cudaFree(workspace);
    if (pad_buffer) cudaFree(pad_buffer);
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
  std::unique_ptr<cudnn::Handle> cudnn;          // on `stream`, when the plan uses cuDNN
  void* workspace = nullptr;                     // cuDNN's, the plan's largest
  float* pad_buffer = nullptr;                   // the explicitly padded input of a cuDNN step
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
};

class CudaPlan final : public Plan {
 public:
  CudaPlan(const Model& model, LoweredModel lm, float* weights)
      : model_(model), lm_(std::move(lm)), weights_(weights) {}
  ~CudaPlan() override {
    steps_.clear();
    if (cudnn_weights_) cudaFree(cudnn_weights_);
    if (weights_) cudaFree(weights_);
  }

  const CudnnReport& cudnn_report() const { return report_; }

  // Chooses, per convolution launch, the own kernel or cuDNN (cuda_backend.h). Never fails the
  // Prepare: where cuDNN cannot be used the report says why and the own kernels run.
  void SetUpCudnn(const CudaOptions& options);

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
    if (uses_cudnn_) {
      ctx->cudnn = cudnn::Handle::Create(ctx->stream, &error);
      if (!ctx->cudnn) return nullptr;
      if (workspace_bytes_ > 0) {
        ++g_allocations;
        if (cudaMalloc(&ctx->workspace, workspace_bytes_) != cudaSuccess) return nullptr;
      }
      if (pad_elements_ > 0 && !DeviceAlloc(&ctx->pad_buffer, pad_elements_, &error)) return nullptr;
    }
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
      const KernelArgs& a = ctx.launches[k];
      if (!steps_.empty() && steps_[k].conv) {
        *node += " (cuDNN; FG_CUDNN=off runs the own kernels)";
        if (!RunCudnnStep(steps_[k], a, *ctx.cudnn, ctx.workspace, ctx.pad_buffer, ctx.stream, error))
          return false;
        continue;
      }
      if (!LaunchStep(a, ctx.stream, error)) return false;
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

  bool Tune(const CudaOptions& options, std::vector<bool>* candidate, std::string* error);

  const Model& model_;
  LoweredModel lm_;
  float* weights_;  // device copy of lm_.weights, owned
  // cuDNN: one step per launch (empty when no launch uses it), the KRSC filters, the report.
  std::vector<CudnnStep> steps_;
  float* cudnn_weights_ = nullptr;
  bool uses_cudnn_ = false;
  size_t workspace_bytes_ = 0;
  int64_t pad_elements_ = 0;  // the largest explicit padding buffer of a step on cuDNN
  CudnnReport report_;
};

// Deterministic input in [-1, 1) for the tuning run (xorshift32).
void FillUniform(uint32_t seed, std::vector<float>* v) {
  uint32_t x = seed;
  for (float& f : *v) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    f = float(x >> 8) / float(1u << 23) - 1.0f;
  }
}

std::string TuneKey(const LoweredModel& lm, const CudaOptions& o) {
  std::string k = lm.path;
  for (const Shape& s : lm.input_shapes) k += "|" + ShapeToString(s);
  k += "|mode " + std::to_string(int(o.cudnn));
  for (const std::string& l : o.cudnn_layers) k += "," + l;
  return k;
}

// The decisions of an earlier Tune of the same model, shapes and options (all candidates
// cached), applied to `steps`; false when any is missing.
bool FromCache(const std::string& key, const std::vector<bool>& candidate, std::vector<CudnnStep>* steps,
               CudnnReport* report) {
  std::lock_guard<std::mutex> lock(g_tuned_mu);
  for (size_t k = 0; k < candidate.size(); ++k)
    if (candidate[k] && !g_tuned.count(key + "|" + std::to_string(k))) return false;
  for (size_t k = 0; k < candidate.size(); ++k) {
    if (!candidate[k]) continue;
    const TunedLayer& t = g_tuned.at(key + "|" + std::to_string(k));
    if (t.report.cudnn)
      (*steps)[k].conv->Use(t.algorithm, t.workspace);
    else
      (*steps)[k].conv.reset();
    report->layers.push_back(t.report);
    report->layers.back().note += " (tuned earlier in this process)";
  }
  return true;
}

bool CudaPlan::Tune(const CudaOptions& options, std::vector<bool>* candidate, std::string* error) {
  constexpr int kTimedRuns = 5;
  constexpr size_t kTuneWorkspace = size_t{64} << 20;  // cuDNN's algorithm search may use this
  const size_t n = lm_.launches.size();
  int64_t max_out = 1, max_pad = 1;
  for (const Launch& l : lm_.launches) max_out = std::max(max_out, l.args.count);
  for (size_t k = 0; k < n; ++k)
    if ((*candidate)[k] && steps_[k].padded) max_pad = std::max(max_pad, steps_[k].pad.count);
  // Temporaries, freed on every path.
  struct Temps {
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, stop = nullptr;
    float *arena = nullptr, *scratch = nullptr, *pad = nullptr;
    void* workspace = nullptr;
    std::unique_ptr<cudnn::Handle> handle;
    ~Temps() {
      if (stream) cudaStreamSynchronize(stream);
      handle.reset();
      if (start) cudaEventDestroy(start);
      if (stop) cudaEventDestroy(stop);
      if (arena) cudaFree(arena);
      if (scratch) cudaFree(scratch);
      if (pad) cudaFree(pad);
      if (workspace) cudaFree(workspace);
      if (stream) cudaStreamDestroy(stream);
    }
  } t;
  FG_CUDA_CHECK(cudaStreamCreateWithFlags(&t.stream, cudaStreamNonBlocking), error);
  FG_CUDA_CHECK(cudaEventCreate(&t.start), error);
  FG_CUDA_CHECK(cudaEventCreate(&t.stop), error);
  FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&t.arena), size_t(std::max<int64_t>(lm_.arena_elements, 1)) * 4),
                error);
  FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&t.scratch), size_t(max_out) * 4), error);
  FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&t.pad), size_t(max_pad) * 4), error);
  FG_CUDA_CHECK(cudaMalloc(&t.workspace, kTuneWorkspace), error);
  t.handle = cudnn::Handle::Create(t.stream, error);
  if (!t.handle) return false;
  for (size_t i = 0; i < lm_.input_tensors.size(); ++i) {
    std::vector<float> in(size_t(NumElements(lm_.input_shapes[i])));
    FillUniform(uint32_t(2463534242u + i), &in);
    FG_CUDA_CHECK(cudaMemcpy(t.arena + lm_.where[lm_.input_tensors[i]].offset, in.data(), in.size() * 4,
                             cudaMemcpyHostToDevice),
                  error);
  }
  // Per run, in ms, of `enqueue` (already warmed up once).
  auto time = [&](auto&& enqueue, double* ms) {
    if (!enqueue()) return false;
    FG_CUDA_CHECK(cudaEventRecord(t.start, t.stream), error);
    for (int r = 0; r < kTimedRuns; ++r)
      if (!enqueue()) return false;
    FG_CUDA_CHECK(cudaEventRecord(t.stop, t.stream), error);
    FG_CUDA_CHECK(cudaEventSynchronize(t.stop), error);
    float total = 0;
    FG_CUDA_CHECK(cudaEventElapsedTime(&total, t.start, t.stop), error);
    *ms = double(total) / kTimedRuns;
    return true;
  };
  const std::string key = TuneKey(lm_, options);
  std::vector<float> own_out, cudnn_out;
  for (size_t k = 0; k < n; ++k) {
    const KernelArgs a = Bind(lm_, lm_.launches[k], t.arena, weights_);
    if (!(*candidate)[k]) {
      if (!LaunchStep(a, t.stream, error)) return false;
      continue;
    }
    CudnnLayer rep;
    rep.nodes = lm_.launches[k].nodes;
    rep.kind = a.kind == Kind::kConv2D ? "conv2d" : "depthwise";
    double own_ms = 0;
    if (!time([&] { return LaunchStep(a, t.stream, error); }, &own_ms)) return false;
    rep.own_ms = own_ms;  // a.out now holds the own kernel's result
    std::string why;
    CudnnStep& step = steps_[k];
    KernelArgs into_scratch = a;  // the cuDNN step writes the scratch buffer, not a.out
    into_scratch.out = t.scratch;
    const float* x = a.in[0];
    if (step.padded) {  // the pad buffer's contents for the algorithm search
      KernelArgs pad = step.pad;
      pad.in[0] = a.in[0];
      pad.out = t.pad;
      if (!LaunchStep(pad, t.stream, error)) return false;
      x = t.pad;
    }
    bool ok = step.conv->Tune(*t.handle, x, step.filter, t.scratch, t.workspace, kTuneWorkspace, &why);
    double cudnn_ms = 0;
    if (ok) {
      rep.algorithm = step.conv->algorithm();
      ok = time([&] { return RunCudnnStep(step, into_scratch, *t.handle, t.workspace, t.pad, t.stream, error); },
                &cudnn_ms);
      if (!ok) return false;  // a CUDA / cuDNN error after a successful Tune: report it
      rep.cudnn_ms = cudnn_ms;
      own_out.resize(size_t(a.count));
      cudnn_out.resize(size_t(a.count));
      FG_CUDA_CHECK(cudaMemcpy(own_out.data(), a.out, own_out.size() * 4, cudaMemcpyDeviceToHost), error);
      FG_CUDA_CHECK(cudaMemcpy(cudnn_out.data(), t.scratch, cudnn_out.size() * 4, cudaMemcpyDeviceToHost), error);
      for (size_t i = 0; i < own_out.size(); ++i) {
        rep.max_ref = std::max(rep.max_ref, double(std::fabs(own_out[i])));
        const double d = std::fabs(double(own_out[i]) - double(cudnn_out[i]));
        rep.max_diff = std::isnan(d) ? INFINITY : std::max(rep.max_diff, d);
      }
    }
    const bool agrees = ok && rep.max_diff <= 1e-4 * rep.max_ref;
    const std::string first_node = rep.nodes.substr(0, rep.nodes.find(' '));
    bool use = false;
    if (!options.cudnn_layers.empty()) {
      use = ok && std::find(options.cudnn_layers.begin(), options.cudnn_layers.end(), first_node) !=
                      options.cudnn_layers.end();
      rep.note = !ok ? why : use ? "FG_CUDNN_LAYERS" : "not in FG_CUDNN_LAYERS";
    } else if (options.cudnn == CudnnMode::kOn) {
      use = ok;
      rep.note = !ok ? why : agrees ? "forced (on)" : "forced (on), DISAGREES with the own kernel";
    } else {
      use = agrees && cudnn_ms < own_ms;
      rep.note = !ok ? why : !agrees ? "disagrees with the own kernel beyond 1e-4 x max|own|"
                 : use ? "faster" : "own kernel faster";
    }
    rep.cudnn = use;
    if (step.padded) rep.note += " (explicit padding)";
    {
      std::lock_guard<std::mutex> lock(g_tuned_mu);
      g_tuned[key + "|" + std::to_string(k)] = {rep, ok ? step.conv->algorithm_id() : -1,
                                                 ok ? step.conv->workspace_bytes() : 0};
    }
    if (!use) step.conv.reset();
    report_.layers.push_back(rep);
  }
  FG_CUDA_CHECK(cudaStreamSynchronize(t.stream), error);
  return true;
}

void CudaPlan::SetUpCudnn(const CudaOptions& options) {
  const size_t n = lm_.launches.size();
  std::vector<bool> candidate(n, false);
  int convs = 0;
  for (size_t k = 0; k < n; ++k) {
    const Launch& l = lm_.launches[k];
    if (l.args.kind != Kind::kConv2D && l.args.kind != Kind::kDepthwise) continue;
    ++convs;
    candidate[k] = l.inputs[1] >= 0 && lm_.where[l.inputs[1]].where == Location::kWeights;
  }
  if (convs == 0) {
    report_.status = "no convolution layers";
    return;
  }
  if (options.cudnn == CudnnMode::kOff && options.cudnn_layers.empty()) {
    report_.status = "off (FG_CUDNN=off): the own kernels";
    return;
  }
  std::string why;
  if (!cudnn::Load(&why)) {
    report_.status = why + ": the own kernels";
    return;
  }
  // Descriptors and KRSC filters for every candidate cuDNN accepts.
  steps_.resize(n);
  std::vector<float> krsc;
  std::vector<int64_t> offsets(n, -1);
  for (size_t k = 0; k < n; ++k) {
    if (!candidate[k]) continue;
    const Launch& l = lm_.launches[k];
    std::string refused;
    steps_[k].conv = cudnn::Conv::Create(l.args, &refused);
    PaddedConv pc;
    std::string refused_padded;
    if (!steps_[k].conv && ExplicitPadding(l.args, &pc)) {
      steps_[k].conv = cudnn::Conv::Create(pc.conv, &refused_padded);
      steps_[k].padded = steps_[k].conv != nullptr;
      steps_[k].pad = pc.pad;
      if (!steps_[k].conv) refused += "; with explicit padding: " + refused_padded;
    }
    if (!steps_[k].conv) {
      candidate[k] = false;
      CudnnLayer rep;
      rep.nodes = l.nodes;
      rep.kind = l.args.kind == Kind::kConv2D ? "conv2d" : "depthwise";
      rep.note = refused;
      report_.layers.push_back(rep);
      continue;
    }
    const std::vector<float> f = cudnn::FilterKrsc(l.args, lm_.weights.data() + lm_.where[l.inputs[1]].offset);
    offsets[k] = (int64_t(krsc.size()) + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    krsc.resize(size_t(offsets[k]), 0.0f);
    krsc.insert(krsc.end(), f.begin(), f.end());
  }
  std::string error;
  std::string* const err = &error;  // FG_CUDA_CHECK's sink
  auto upload = [&]() {
    if (krsc.empty()) return true;
    if (!DeviceAlloc(&cudnn_weights_, int64_t(krsc.size()), err)) return false;
    FG_CUDA_CHECK(cudaMemcpy(cudnn_weights_, krsc.data(), krsc.size() * 4, cudaMemcpyHostToDevice), err);
    return true;
  };
  if (!upload()) {
    steps_.clear();
    report_.status = "cuDNN filters not uploaded (" + error + "): the own kernels";
    return;
  }
  for (size_t k = 0; k < n; ++k)
    if (offsets[k] >= 0) steps_[k].filter = cudnn_weights_ + offsets[k];
  if (!FromCache(TuneKey(lm_, options), candidate, &steps_, &report_) && !Tune(options, &candidate, &error)) {
    steps_.clear();
    report_.status = "cuDNN tuning failed (" + error + "): the own kernels";
    return;
  }
  int used = 0;
  for (size_t k = 0; k < n; ++k)
    if (steps_[k].conv) {
      ++used;
      workspace_bytes_ = std::max(workspace_bytes_, steps_[k].conv->workspace_bytes());
      if (steps_[k].padded) pad_elements_ = std::max(pad_elements_, steps_[k].pad.count);
    }
  uses_cudnn_ = used > 0;
  if (!uses_cudnn_) steps_.clear();
  const char* mode = !options.cudnn_layers.empty() ? "FG_CUDNN_LAYERS"
                     : options.cudnn == CudnnMode::kOn ? "on" : "auto";
  report_.status = "cuDNN " + cudnn::Version() + ", " + mode + ": " + std::to_string(used) + " of " +
                   std::to_string(convs) + " convolution layers on cuDNN (UNVERIFIED until run on a GPU)";
}

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
  auto plan = std::make_unique<CudaPlan>(model, std::move(lm).value(), weights);
  plan->SetUpCudnn(options_);
  return std::unique_ptr<Plan>(std::move(plan));
}

CudaOptions CudaOptions::FromEnvironment() {
  CudaOptions o;
  const char* mode = std::getenv("FG_CUDNN");
  const std::string m = mode ? mode : "";
  o.cudnn = m.empty() || m == "auto" ? CudnnMode::kAuto : m == "on" ? CudnnMode::kOn : CudnnMode::kOff;
  if (const char* layers = std::getenv("FG_CUDNN_LAYERS"); layers && *layers) {
    std::stringstream list(layers);
    for (std::string name; std::getline(list, name, ',');)
      if (!name.empty()) o.cudnn_layers.push_back(name);
  }
  return o;
}

const CudnnReport* GetCudnnReport(const Plan& plan) {
  const auto* p = dynamic_cast<const CudaPlan*>(&plan);
  return p ? &p->cudnn_report() : nullptr;
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
