// The CUDA STGraph sampler's launch run on the CPU (header only, no CUDA needed): every thread
// of SampleTrianglesKernel<F> (cuda/vitals/stgraph_sampler.cu) through the kernel's own
// per-thread functions (sampler_stages.h), in the kernel's grid: GridBlocks(faces, T) blocks,
// kTrianglesPerBlock warps a block, kLanes lanes a warp. What is emulated rather than shared:
// the warp itself, i.e. the lanes run one after another up to the shuffle, and
// __shfl_down_sync(mask, x, off) reads lane l + off's value (its own past the warp's end),
// all lanes reading before any writes. tests/cuda_vitals compares the result with
// FaceSTGraph::SampleTriangles.
//
// Threading: pure function of its arguments. Example:
//   std::vector<int> writes;
//   fg::cuda::EmulateSampleKernel<PixelFormat::kNV12>(args, &writes);  // args.out: faces x T
#pragma once

#include <array>
#include <vector>

#include "cuda/vitals/sampler_stages.h"

namespace fg::cuda {

// Runs the launch for `a`; `writes` (when not null) counts the stores to each of the
// faces x nt outputs (a correct grid writes every one exactly once).
template <PixelFormat F>
void EmulateSampleKernel(const sampler_stages::SampleArgs& a, std::vector<int>* writes) {
  namespace ss = sampler_stages;
  namespace sk = stgraph_kernel;
  if (writes) writes->assign(static_cast<size_t>(a.faces) * a.nt, 0);
  for (int block = 0; block < sk::GridBlocks(a.faces, a.nt); ++block)
    for (int warp = 0; warp < sk::kTrianglesPerBlock; ++warp) {
      std::array<ss::LaneState, sk::kLanes> lanes;
      bool active = true;
      for (int lane = 0; lane < sk::kLanes; ++lane)
        active = ss::LaneBegin<F>(a, block, warp * sk::kLanes + lane, &lanes[lane]);
      if (!active) continue;  // the kernel's early return: the whole warp
      for (int off = sk::kLanes / 2; off > 0; off /= 2) {
        const auto before = lanes;
        for (int lane = 0; lane < sk::kLanes; ++lane)
          ss::AddLanes(&lanes[lane].s, before[lane + off < sk::kLanes ? lane + off : lane].s);
      }
      ss::LaneFinish<F>(a, lanes[0]);
      if (writes) ++(*writes)[static_cast<size_t>(lanes[0].task.face) * a.nt + lanes[0].task.triangle];
    }
}

}  // namespace fg::cuda
