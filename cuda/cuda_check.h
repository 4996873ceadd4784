// FG_CUDA_CHECK: the one check for CUDA runtime calls in cuda/ (launches included: check
// cudaGetLastError() right after each <<<...>>>). On failure it writes "<statement>: <CUDA
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

}  // namespace fg::cuda

#define FG_CUDA_CHECK(stmt, error)                                                           \
  do {                                                                                       \
    const cudaError_t fg_cuda_err_ = (stmt);                                                 \
    if (fg_cuda_err_ != cudaSuccess) {                                                       \
      if (error) *(error) = ::fg::cuda::CudaErrorText(#stmt, fg_cuda_err_, __func__, __FILE__, __LINE__); \
      return false;                                                                          \
    }                                                                                        \
  } while (0)
