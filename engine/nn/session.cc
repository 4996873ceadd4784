#include "engine/nn/session.h"

#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#if FG_HAVE_XNNPACK
#include "engine/nn/xnnpack/xnnpack_backend.h"
#endif
#if FG_HAVE_CUDA_NN
#include "cuda/nn/cuda_backend.h"
#endif

namespace fg::nn {

std::vector<std::string> AvailableBackends() {
  // "cuda" is listed after the CPU backends ("auto" stays on the CPU: the GPU is opt-in) and
  // only where a device is present (a build with nvcc may run on a machine without one).
#if FG_HAVE_XNNPACK
  std::vector<std::string> names = {"xnnpack", "reference"};
#else
  std::vector<std::string> names = {"reference"};
#endif
#if FG_HAVE_CUDA_NN
  if (gpu::CudaDeviceCount() > 0) names.push_back("cuda");
#endif
  return names;
}

std::unique_ptr<Backend> MakeBackend(std::string_view requested, int threads) {
  // Owns the chosen name: AvailableBackends() returns a temporary.
  const std::string name = requested == "auto" ? AvailableBackends().front() : std::string(requested);
  if (name == "reference") return std::make_unique<ReferenceBackend>();
#if FG_HAVE_XNNPACK
  if (name == "xnnpack") return std::make_unique<XnnpackBackend>(threads);
#else
  (void)threads;
#endif
#if FG_HAVE_CUDA_NN
  if (name == "cuda") return std::make_unique<gpu::CudaBackend>();
#endif
  return nullptr;
}

Result<std::unique_ptr<Session>> Session::Open(const std::string& model_json,
                                               std::string_view backend, int threads) {
  std::unique_ptr<Session> s(new Session());
  Result<std::shared_ptr<const PreparedModel>> p =
      ModelCache::Global().Prepare(model_json, backend, threads);
  if (!p.ok()) return p.status();
  s->prepared_ = std::move(p).value();
  s->model_ = &s->prepared_->model();
  s->plan_ = &s->prepared_->plan();
  s->ctx_ = s->plan_->NewContext();
  if (!s->ctx_) return Status::Error(model_json + ": out of memory for the run context");
  for (const Shape& sh : s->plan_->input_shapes()) {
    // The inner vectors' storage stays put when the outer vector grows (moves keep it).
    s->inputs_.emplace_back(static_cast<size_t>(NumElements(sh)), 0.0f);
    s->in_bufs_.push_back({s->inputs_.back().data(), s->inputs_.back().size()});
  }
  for (const Shape& sh : s->plan_->output_shapes()) {
    s->outputs_.emplace_back(static_cast<size_t>(NumElements(sh)), 0.0f);
    s->out_bufs_.push_back({s->outputs_.back().data(), s->outputs_.back().size()});
  }
  return s;
}

const float* Session::output(std::string_view name) const {
  const int i = model_->FindOutput(name);
  return i < 0 ? nullptr : outputs_[i].data();
}

Status Session::Run() { return plan_->Run(in_bufs_, out_bufs_, *ctx_); }

}  // namespace fg::nn
