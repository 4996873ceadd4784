// Grow-only buffers for the cuda/ classes: device memory, or pinned host memory (the staging
// of async copies). A buffer is a pointer and its capacity in elements; Grow reallocates only
// when a larger size arrives (the contents are NOT kept), so steady frames allocate nothing.
//
// Threading: stateless functions; the buffers belong to their caller.
//
// Example:
//   float* d = nullptr;  size_t cap = 0;
//   if (!fg::cuda::Grow(fg::cuda::Mem::kDevice, &d, &cap, n, error)) return false;
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
bool Grow(Mem where, T** p, size_t* cap, size_t need, std::string* error) {
  if (need <= *cap) return true;
  if (*p) where == Mem::kDevice ? cudaFree(*p) : cudaFreeHost(*p);
  *p = nullptr, *cap = 0;
  void** vp = reinterpret_cast<void**>(p);
  if (where == Mem::kDevice)
    FG_CUDA_CHECK(cudaMalloc(vp, need * sizeof(T)), error);
  else
    FG_CUDA_CHECK(cudaMallocHost(vp, need * sizeof(T)), error);
  *cap = need;
  return true;
}

template <typename T>
void Free(Mem where, T* p) {
  if (p) where == Mem::kDevice ? cudaFree(p) : cudaFreeHost(p);
}

}  // namespace fg::cuda
