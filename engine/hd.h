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

namespace fg::hd {

// Comparisons with std::min / std::max semantics (std::max(a, b) is a < b ? b : a, NaN
// included), callable from FG_HD code where std:: algorithms are not.
template <typename T>
FG_HD inline T Max(T a, T b) { return a < b ? b : a; }
template <typename T>
FG_HD inline T Min(T a, T b) { return b < a ? b : a; }
template <typename T>
FG_HD inline T Clamp(T v, T lo, T hi) { return v < lo ? lo : (hi < v ? hi : v); }
template <typename T>
FG_HD inline T Min3(T a, T b, T c) { return Min(Min(a, b), c); }
template <typename T>
FG_HD inline T Max3(T a, T b, T c) { return Max(Max(a, b), c); }

}  // namespace fg::hd
