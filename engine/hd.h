// FG_HD: marks an inline function that both the host C++ compiler and nvcc compile, so that a
// CUDA kernel and its CPU twin (or its CPU emulation in a test) run the very same code.
//
// Under nvcc (__CUDACC__) it expands to `__host__ __device__`; everywhere else to nothing, so
// engine/ stays plain C++ and builds without CUDA. A function marked FG_HD may call only other
// FG_HD functions and plain arithmetic (no std:: algorithms, no allocation, no exceptions).
//
// Example (engine/vitals/stgraph_kernel.h):
//   FG_HD inline float Visibility(...) { ... }   // called by stgraph.cc and by a __global__
#pragma once

#if defined(__CUDACC__)
#define FG_HD __host__ __device__
#else
#define FG_HD
#endif
