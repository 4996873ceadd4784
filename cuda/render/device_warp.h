// DeviceFaceWarp: render::FaceWarp on a CUDA device, the frame in and out in device memory
// (the face re-rendered with a new expression without leaving the GPU).
//
//   source + target landmarks (host, 2 x 468 x 3 floats) ──► one upload
//   the target's box (as FaceWarp) ──► triangle setup ─► pass 1: one warp per triangle,
//   atomicMin(depth key) per covered box pixel ─► pass 2: one thread per box pixel, its winner's
//   bilinear sample of the source frame ─► composite into the destination frame
//
// The arithmetic is engine/render/raster_kernel.h, FaceWarp's own, built with --fmad=false:
// the destination's bytes equal the CPU's (tests/cuda_render).
//
// Threading: thread-compatible: one per stream (it owns a CUDA stream). Warp enqueues and
// returns; Synchronize waits. Allocation: the box buffers grow to the largest face box seen;
// steady frames allocate nothing on the host or the device.
//
// Example:
//   auto warp = fg::cuda::DeviceFaceWarp::Create(canonical.triangles, &err);
//   // src: a device copy of the original frame; dst: the device frame being written
//   warp->Warp(src, face.landmarks, target, dst, &err);
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/image.h"

namespace fg::cuda {

class DeviceFaceWarp {
 public:
  // Null with `*error` naming the bad triangle (a negative index) or the failing CUDA call.
  static std::unique_ptr<DeviceFaceWarp> Create(const std::vector<std::array<int, 3>>& triangles, std::string* error);
  ~DeviceFaceWarp();
  DeviceFaceWarp(const DeviceFaceWarp&) = delete;
  DeviceFaceWarp& operator=(const DeviceFaceWarp&) = delete;

  // FaceWarp::Warp with device_src and device_dst in device memory (same size; they must not
  // alias). Fewer landmarks than the triangulation needs, sizes that differ, or a target box
  // outside the frame: nothing is drawn and the result is true. False with `*error` naming the
  // failing CUDA call.
  bool Warp(const ImageView& device_src, std::span<const std::array<float, 3>> source,
            std::span<const std::array<float, 3>> target, const draw::MutableImageView& device_dst,
            std::string* error);
  bool Synchronize(std::string* error);

 private:
  struct Impl;
  explicit DeviceFaceWarp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fg::cuda
