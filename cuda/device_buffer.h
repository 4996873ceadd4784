// Grow-only buffers for the cuda/ classes: device memory, or pinned host memory (the staging
// of async copies). A buffer is a pointer and its capacity in elements; Grow reallocates only
// when a larger size arrives (the contents are NOT kept), so steady frames allocate nothing.
// Before it frees the old buffer, Grow waits for `stream`, the stream that may still read or
// write it: freeing memory a queued kernel or copy uses is undefined, and cudaFree's implicit
// synchronisation is not something to lean on (stream-ordered and async allocators do not give
// it). Free and the classes' destructors likewise run after the stream has been waited for.
//
// Threading: stateless functions; the buffers belong to their caller.
//
// Example:
//   float* d = nullptr;  size_t cap = 0;
//   if (!fg::cuda::Grow(fg::cuda::Mem::kDevice, &d, &cap, n, stream, error)) return false;
//   ...
//   fg::cuda::Free(fg::cuda::Mem::kDevice, d);
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "cuda/cuda_check.h"

namespace fg::cuda {

enum class Mem { kDevice, kPinned };

template <typename T>
bool Grow(Mem where, T** p, size_t* cap, size_t need, cudaStream_t stream, std::string* error) {
  if (need <= *cap) return true;
  if (*p) {
    FG_CUDA_CHECK(cudaStreamSynchronize(stream), error);  // nothing queued still uses *p
    FG_CUDA_CHECK(where == Mem::kDevice ? cudaFree(*p) : cudaFreeHost(*p), error);
  }
  *p = nullptr, *cap = 0;
  void** vp = reinterpret_cast<void**>(p);
  if (where == Mem::kDevice)
    FG_CUDA_CHECK(cudaMalloc(vp, need * sizeof(T)), error);
  else
    FG_CUDA_CHECK(cudaMallocHost(vp, need * sizeof(T)), error);
  *cap = need;
  return true;
}

// The caller has waited for every stream that used `p`.
template <typename T>
void Free(Mem where, T* p) {
  if (p) where == Mem::kDevice ? cudaFree(p) : cudaFreeHost(p);
}

}  // namespace fg::cuda
