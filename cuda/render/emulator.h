// The CUDA renderer's algorithm run on the CPU, for tests on machines without a GPU: the very
// kernels' per-thread functions (render_stages.h, raster_kernel.h) called in loops over their
// grids, with the device's buffers as host vectors and atomicMin as a plain min.
//
//   EmulatedRasterizer   DeviceRasterizer's Draw: vertex stage, kLit gather, triangle setup,
//                        pass 1 (depth keys, one "warp" of kLanes lanes per triangle, triangles
//                        in the order asked for: the atomics' order must not matter), pass 2
//                        (resolve and shade)
//   EmulatedFaceWarp     DeviceFaceWarp's Warp: the same two passes over the target's box,
//                        then the composite stage
//   EmulatedComposite    DeviceRasterizer::Composite / the warp's write-back: one "thread" per
//                        pixel (packed formats) or per chroma block (YUV formats)
//
// tests/cuda_render/emulation_test.cc compares these with render::Rasterizer, FaceWarp and
// WriteRgba pixel for pixel. What is not emulated: the device's memory and streams (cuda/render
// *.cu only moves data around these calls) and concurrency inside a launch (every stage writes
// only its own slot, pass 1 only through atomicMin, which is order-independent).
//
// Threading: one instance per thread. Allocation: buffers grow to the largest mesh and target.
//
// Example:
//   fg::cuda::EmulatedRasterizer r;
//   r.SetMesh({face.vertices, face.triangles, face.uvs});
//   r.SetTarget(640, 480);
//   r.Clear({0, 0, 0, 0});
//   r.Draw(rotation, camera, material, light, fg::render::Shading::kLit);
//   // r.image(): the pixels the GPU draws
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "cuda/render/packed_mesh.h"
#include "cuda/render/render_stages.h"
#include "engine/draw/canvas.h"
#include "engine/image.h"
#include "engine/render/rasterizer.h"

namespace fg::cuda {

// The order in which pass 1 visits the triangles (on a GPU it is any).
enum class EmulatedOrder { kForward, kReverse };

class EmulatedRasterizer {
 public:
  void SetMesh(const render::MeshView& mesh);  // positions, triangles, UVs (copied)
  void SetTexture(const render::Texture& texture);
  void SetTarget(int width, int height);
  void Clear(std::array<uint8_t, 4> background);
  // material.texture: textured when set and the mesh has UVs; the texels are SetTexture's.
  void Draw(const Eigen::Matrix3f& rotation, const render::Camera& camera, const render::Material& material,
            const render::Light& light, render::Shading shading, EmulatedOrder order = EmulatedOrder::kForward);

  const render::RgbaImage& image() const { return color_; }
  float depth(int x, int y) const;

 private:
  PackedMesh mesh_;
  std::vector<std::array<float, 3>> positions_;
  std::vector<std::array<float, 2>> uvs_;
  render::Texture texture_;
  render::RgbaImage color_;
  std::vector<uint64_t> keys_;
  uint32_t base_ = 0;  // key number of this draw's first triangle
  std::vector<std::array<float, 3>> view_;
  std::vector<std::array<float, 2>> screen_;
  std::vector<float> depth_, intensity_;
  std::vector<render_stages::DrawTri> tris_;
};

class EmulatedFaceWarp {
 public:
  explicit EmulatedFaceWarp(std::vector<std::array<int, 3>> triangles);
  // FaceWarp::Warp's contract.
  void Warp(const ImageView& src, std::span<const std::array<float, 3>> source,
            std::span<const std::array<float, 3>> target, const draw::MutableImageView& dst,
            EmulatedOrder order = EmulatedOrder::kForward);

 private:
  std::vector<int> triangles_;  // 3 a triangle
  int max_index_ = -1;          // INT_MAX when an index is negative (nothing is drawn)
  std::vector<uint64_t> keys_;
  std::vector<render_stages::DrawTri> tris_;
  render::RgbaImage scratch_;
};

// WriteRgba(panel, dst, x, y) as the composite kernels do it.
void EmulatedComposite(const render::RgbaImage& panel, const draw::MutableImageView& dst, int x, int y);

}  // namespace fg::cuda
