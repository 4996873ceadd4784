// The CUDA STGraph sampler's per-thread work (cuda/vitals/stgraph_sampler.cu), as FG_HD
// functions that the kernel calls on the device and the CPU emulation (sampler_emulator.h,
// tests/cuda_vitals) calls on the host: one copy of every line the kernel runs, except the
// warp shuffle itself, which only the device has and the emulator replays lane by lane.
//
// A thread of the launch (GridBlocks(faces, T) blocks of kTrianglesPerBlock warps):
//
//   LaneBegin     MapWarp -> (face, triangle); the triangle's Raster; this lane's LaneSums
//   (the warp)    for off = kLanes / 2 .. 1: sums += lane (l + off)'s sums  (AddLanes)
//   LaneFinish    lane 0 only: FinishTriangle + Visibility, one store to out[face * T + t]
//
// The arithmetic is engine/vitals/stgraph_kernel.h, the CPU sampler's own.
//
// Threading: pure functions of their arguments; each warp writes only its own output.
#pragma once

#include <cstddef>

#include "engine/face.h"
#include "engine/hd.h"
#include "engine/image.h"
#include "engine/vitals/stgraph_kernel.h"

namespace fg::cuda::sampler_stages {

namespace sk = ::fg::stgraph_kernel;

// One launch: the frame (planes in device memory on the GPU), the triangulation (3 landmark
// indices a triangle, nt triangles), `faces` faces of packed landmarks (468 x 3 floats each)
// and the faces x nt results.
struct SampleArgs {
  ImageView frame;
  const int* tris;
  int nt;
  const float* lm;
  int faces;
  sk::TriangleResult* out;
};

struct LaneState {
  sk::WarpTask task;
  sk::Raster r;
  sk::Sums s;
};

FG_HD inline int LaneOf(int thread) { return thread % sk::kLanes; }

// Phase 1 of thread `thread` of block `block`. False for the idle warps of the last block:
// the whole warp returns (the shuffles that follow see all 32 lanes or none).
template <PixelFormat F>
FG_HD inline bool LaneBegin(const SampleArgs& a, int block, int thread, LaneState* st) {
  st->task = sk::MapWarp(block, thread / sk::kLanes, a.nt);
  if (st->task.face >= a.faces) return false;
  const float* face_lm = a.lm + static_cast<size_t>(st->task.face) * kMeshLandmarks * 3;
  st->r = sk::SetupTriangle(face_lm, a.tris + 3 * st->task.triangle, a.frame.width, a.frame.height);
  st->s = sk::Sums{};
  sk::LaneSums<F>(st->r, a.frame, LaneOf(thread), sk::kLanes, &st->s);
  return true;
}

// One step of the warp's reduction tree: this lane's sums plus lane (l + off)'s (integers:
// exact, any order).
FG_HD inline void AddLanes(sk::Sums* s, const sk::Sums& other) {
  s->r += other.r, s->g += other.g, s->b += other.b, s->count += other.count;
}

// Lane 0, after the reduction: the triangle's result, stored once.
template <PixelFormat F>
FG_HD inline void LaneFinish(const SampleArgs& a, const LaneState& st) {
  const float* face_lm = a.lm + static_cast<size_t>(st.task.face) * kMeshLandmarks * 3;
  sk::TriangleResult res = sk::FinishTriangle<F>(st.r, a.frame, st.s);
  res.visibility = sk::Visibility(face_lm, a.tris + 3 * st.task.triangle);
  a.out[static_cast<size_t>(st.task.face) * a.nt + st.task.triangle] = res;
}

}  // namespace fg::cuda::sampler_stages
