// FG_CUDA_CHECK: the one check for CUDA runtime calls in cuda/; FG_CUDA_CHECK_LAUNCH(stream,
// error) right after each <<<...>>> (the launch's error; in debug builds the kernel's too). On failure it writes "<statement>: <CUDA
// error name>: <message> (<function>, <file>:<line>)" to `*error` (when not null) and makes
// the enclosing function return false; library code never exits or throws.
//
// Threading: stateless.
//
// Example:
//   bool Upload(void* dst, const void* src, size_t n, cudaStream_t s, std::string* error) {
//     FG_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s), error);
//     return true;
//   }
#pragma once

#include <cuda_runtime_api.h>

#include <string>

namespace fg::cuda {

inline std::string CudaErrorText(const char* stmt, cudaError_t e, const char* func, const char* file,
                                 int line) {
  return std::string(stmt) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) + " (" + func +
         ", " + file + ":" + std::to_string(line) + ")";
}

// How many CUDA devices this process sees; 0 with *why (when not null) saying why: the
// runtime's error (no driver, no device node), or that it reports none. What the classes'
// DeviceCount() and the GPU tests' skip messages use.
inline int CudaDevices(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (why) *why = CudaErrorText("cudaGetDeviceCount(&n)", e, __func__, __FILE__, __LINE__);
    return 0;
  }
  if (n == 0 && why) *why = "cudaGetDeviceCount reports no CUDA device";
  return n;
}

// After a kernel launch on `stream`: the launch's own error (cudaGetLastError: bad grid, too
// many resources). In debug builds (NDEBUG not defined) it also waits for the stream, so that a
// fault inside the kernel (an illegal address, a trap) is reported at the launch that caused
// it rather than at some later call; not while the stream is being captured into a graph,
// where waiting is illegal (the graph's replay reports it). Use FG_CUDA_CHECK_LAUNCH.
inline cudaError_t LaunchStatus(cudaStream_t stream, const char** what) {
  *what = "cudaGetLastError() after the launch";
  cudaError_t e = cudaGetLastError();
#ifndef NDEBUG
  if (e != cudaSuccess) return e;
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  e = cudaStreamIsCapturing(stream, &capture);
  if (e != cudaSuccess || capture != cudaStreamCaptureStatusNone) return e;
  *what = "cudaStreamSynchronize(stream) after the launch (debug build)";
  e = cudaStreamSynchronize(stream);
#else
  (void)stream;
#endif
  return e;
}

}  // namespace fg::cuda

// Right after every <<<...>>> (see LaunchStatus): reports "<check>: <error> (<function>,
// <file>:<line>)" to *error and returns false from the enclosing function.
#define FG_CUDA_CHECK_LAUNCH(stream, error)                                                   \
  do {                                                                                        \
    const char* fg_cuda_what_ = nullptr;                                                      \
    const cudaError_t fg_cuda_err_ = ::fg::cuda::LaunchStatus((stream), &fg_cuda_what_);      \
    if (fg_cuda_err_ != cudaSuccess) {                                                        \
      if (error) *(error) = ::fg::cuda::CudaErrorText(fg_cuda_what_, fg_cuda_err_, __func__, __FILE__, __LINE__); \
      return false;                                                                           \
    }                                                                                         \
  } while (0)

#define FG_CUDA_CHECK(stmt, error)                                                           \
  do {                                                                                       \
    const cudaError_t fg_cuda_err_ = (stmt);                                                 \
    if (fg_cuda_err_ != cudaSuccess) {                                                       \
      if (error) *(error) = ::fg::cuda::CudaErrorText(#stmt, fg_cuda_err_, __func__, __FILE__, __LINE__); \
      return false;                                                                          \
    }                                                                                        \
  } while (0)
