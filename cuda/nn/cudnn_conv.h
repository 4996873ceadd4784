// cuDNN for the CUDA NN backend's convolutions (Conv2D and DepthwiseConv2D launches), one
// layer at a time: an alternative to the own kernels (kernel.h) that CudaBackend picks per
// layer (cuda_backend.h, CudaOptions). UNVERIFIED until it has run on a GPU: docs/gpu.md.
//
// libcudnn.so.9 is opened at run time (dlopen), not linked: a binary of this project loads and
// runs its own kernels on a machine without cuDNN (CI, a bare GPU machine), and uses cuDNN
// where the machine has it ($FG_CUDNN_LIBRARY names the file; else the loader's search path).
// The functions used are cuDNN's legacy convolution API (cudnn_cnn.h): descriptors in NHWC,
// the filter in cuDNN's KRSC layout (FilterKrsc: [out_c, kh, kw, in_c / groups]), a depthwise
// layer as a grouped convolution (groups = in_c), CUDNN_FMA_MATH (no TF32: fp32 results within
// the backend's 1e-4 tolerance), the algorithm found by timing (cudnnFind...Ex). cuDNN computes
// only the convolution; the launch's epilogue (bias, activations, residual) runs after it as
// the backend's own kCopy kernel, in place.
//
// Built with cuDNN's headers where they are found (FG_HAVE_CUDNN); without them Load() says so.
//
// Threading: Load is thread-safe (once per process); a Conv is immutable after Tune and may be
// run on several handles; a Handle belongs to one stream (one RunContext).
//
// Example:
//   std::string why;
//   if (!fg::nn::gpu::cudnn::Load(&why)) return why;
//   auto conv = fg::nn::gpu::cudnn::Conv::Create(launch_args, &why);   // null: cuDNN refuses
//   conv->Tune(handle, x, w_krsc, y, workspace, workspace_bytes, &why);
//   conv->Run(handle, x, w_krsc, y, workspace, &why);
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cuda/nn/kernel.h"

namespace fg::nn::gpu::cudnn {

// Opens libcudnn.so.9 and resolves the functions used (once; later calls return the first
// result). False with *why: not built with cuDNN headers, the library not found (dlerror), a
// missing function, or a major version other than 9.
bool Load(std::string* why);
// "9.19.0": the loaded library's version; "" when not loaded.
std::string Version();

// "" when `a` is a launch cuDNN can run (a kConv2D / kDepthwise); else why not.
std::string Unsupported(const KernelArgs& a);

// The launch's TF filter (HWIO for Conv2D, [kh, kw, c, multiplier] for depthwise) in cuDNN's
// KRSC layout; `tf` holds NumElements of the filter.
std::vector<float> FilterKrsc(const KernelArgs& a, const float* tf);

// One cudnnHandle_t bound to a stream.
class Handle {
 public:
  static std::unique_ptr<Handle> Create(cudaStream_t stream, std::string* error);
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  void* raw() const { return h_; }

 private:
  Handle() = default;
  void* h_ = nullptr;
};

// One convolution layer's descriptors and chosen algorithm.
class Conv {
 public:
  // Descriptors for the launch's geometry. Null with *error when cuDNN refuses them or its
  // output size differs from the launch's (padding cuDNN cannot express, e.g. TF's asymmetric
  // SAME padding of an even input at stride 2).
  static std::unique_ptr<Conv> Create(const KernelArgs& a, std::string* error);
  ~Conv();
  Conv(const Conv&) = delete;
  Conv& operator=(const Conv&) = delete;

  // Times cuDNN's algorithms on these device buffers (y is overwritten) and keeps the fastest
  // that needs at most `workspace_bytes`. False with *error when none runs.
  bool Tune(const Handle& h, const float* x, const float* w_krsc, float* y, void* workspace,
            size_t workspace_bytes, std::string* error);
  // y = conv(x, w) on the handle's stream (Tune first); `workspace`: workspace_bytes() at least.
  bool Run(const Handle& h, const float* x, const float* w_krsc, float* y, void* workspace,
           std::string* error) const;
  size_t workspace_bytes() const { return workspace_; }
  // "IMPLICIT_PRECOMP_GEMM" etc.: the algorithm Tune chose.
  std::string algorithm() const;
  // The chosen algorithm as cuDNN's enum value, and a way to set it without tuning again (an
  // earlier Tune of the same layer in this process).
  int algorithm_id() const { return algo_; }
  void Use(int algorithm_id, size_t workspace_bytes) { algo_ = algorithm_id, workspace_ = workspace_bytes; }

 private:
  Conv() = default;
  void* x_ = nullptr;  // cudnnTensorDescriptor_t
  void* y_ = nullptr;
  void* w_ = nullptr;  // cudnnFilterDescriptor_t
  void* conv_ = nullptr;  // cudnnConvolutionDescriptor_t
  int algo_ = -1;
  size_t workspace_ = 0;
};

}  // namespace fg::nn::gpu::cudnn
