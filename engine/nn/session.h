// Session: one loaded model, prepared on one backend, with its run context and its input
// and output buffers: what an analysis (detector, mesh, emotion) holds per stream.
//
//   auto s = fg::nn::Session::Open(models_dir + "/facemesh.json", "auto");
//   if (!s.ok()) return s.status();          // names the file (and node)
//   float* in = (*s)->input(0);               // NHWC, shape (*s)->input_shape(0)
//   ... fill in ...
//   (*s)->Run();                              // allocation-free
//   const float* mesh = (*s)->output("output_mesh");
//
// Backends: "reference", "xnnpack" (when built with XNNPACK), "cuda" (when built with cuda/:
// cuda/nn/cuda_backend.h; Open fails, naming the CUDA call, where no GPU is present), or
// "auto" (XNNPACK when available, else the reference; never the GPU). Threads only matter
// for XNNPACK (default 1: the pipeline gets its parallelism from running stages side by side).
//
// Models are loaded once per process: Open takes the model and its prepared plan from the
// process-wide ModelCache (model_cache.h), shared with every other Session of the same file,
// backend and threads; a Session owns only its RunContext and its buffers.
//
// Threading: thread-compatible: one Session per stream/thread. Open is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/nn/backend.h"
#include "engine/nn/model.h"
#include "engine/nn/model_cache.h"
#include "engine/nn/status.h"

namespace fg::nn {

// The backend names this build has and can run here, best first ("xnnpack", "reference",
// then "cuda" where built and a GPU is present).
std::vector<std::string> AvailableBackends();
// A backend by name ("auto" = the best available); nullptr for an unknown or absent one.
std::unique_ptr<Backend> MakeBackend(std::string_view name, int threads = 1);

class Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const std::string& model_json,
                                               std::string_view backend = "auto", int threads = 1);

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const Shape& input_shape(int i) const { return plan_->input_shapes()[i]; }
  const Shape& output_shape(int i) const { return plan_->output_shapes()[i]; }
  float* input(int i) { return inputs_[i].data(); }
  const float* output(int i) const { return outputs_[i].data(); }
  // By tensor name ("Identity_2") or signature alias ("output_mesh"); nullptr if unknown.
  const float* output(std::string_view name) const;
  int output_index(std::string_view name) const { return model_->FindOutput(name); }

  Status Run();
  std::string_view backend_name() const { return prepared_->backend_name(); }
  const Model& model() const { return *model_; }
  // The shared model + plan (the same object for every Session of this model and backend).
  const std::shared_ptr<const PreparedModel>& prepared() const { return prepared_; }

 private:
  Session() = default;
  std::shared_ptr<const PreparedModel> prepared_;  // shared; keeps model_ and plan_ alive
  const Model* model_ = nullptr;
  const Plan* plan_ = nullptr;
  std::unique_ptr<RunContext> ctx_;  // declared after prepared_: destroyed before the plan
  std::vector<std::vector<float>> inputs_, outputs_;
  std::vector<ConstBuffer> in_bufs_;
  std::vector<MutableBuffer> out_bufs_;
};

}  // namespace fg::nn
