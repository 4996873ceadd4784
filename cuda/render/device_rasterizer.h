// DeviceRasterizer: render::Rasterizer on a CUDA device. The mesh (positions, triangles, UVs,
// the per-vertex triangle lists of kLit), the texture, the colour target and the depth keys
// live in device memory; a frame is Draw (a handful of launches) and Composite into a frame
// whose planes are in device memory, with no copy to or from the host.
//
//   SetMesh / SetTexture (once) ──► device buffers
//   Clear ──► Draw: vertex stage ─► [kLit: per-vertex lighting] ─► triangle setup
//                   ─► pass 1: one warp per triangle, atomicMin(depth key) per covered pixel
//                   ─► pass 2: one thread per pixel, its winner shades it
//   Composite ──► the frame (device planes, its own pixel format, WriteRgba's rules)
//
// The kernels are cuda/render/render_stages.h over engine/render/raster_kernel.h, the
// arithmetic of the CPU Rasterizer, built with --fmad=false: the pixels and depths equal the
// CPU's bit for bit (the depth keys make "strictly nearer wins, the first triangle drawn keeps
// ties" independent of the order of the atomics; tests/cuda_render checks both, the emulation
// on any machine, the device where there is one).
//
// Threading: thread-compatible: one per stream (it owns a CUDA stream). Calls enqueue work on
// that stream and return; Download and Synchronize wait for it.
// Allocation: SetMesh, SetTexture and SetTarget allocate (device memory grows only); Clear,
// Draw and Composite allocate nothing, on the host or the device.
//
// Example:
//   std::string err;
//   auto r = fg::cuda::DeviceRasterizer::Create(&err);            // null: err says why
//   r->SetMesh({face.vertices, face.triangles, face.uvs}, &err);
//   r->SetTarget(320, 480, &err);
//   r->Clear({20, 20, 30, 255}, &err);
//   r->Draw(rotation, camera, fg::render::Material{}, fg::render::Light{}, fg::render::Shading::kLit, &err);
//   r->Composite(device_frame, x, y, &err);                      // device_frame: device planes
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "engine/draw/canvas.h"
#include "engine/render/rasterizer.h"

namespace fg::cuda {

class DeviceRasterizer {
 public:
  // CUDA devices visible to this process; 0 with `*why` set (the runtime's words) when there is
  // none or no usable driver.
  static int DeviceCount(std::string* why);

  // Null with `*error` naming the failing CUDA call.
  static std::unique_ptr<DeviceRasterizer> Create(std::string* error);
  ~DeviceRasterizer();
  DeviceRasterizer(const DeviceRasterizer&) = delete;
  DeviceRasterizer& operator=(const DeviceRasterizer&) = delete;

  // Uploads the mesh. Triangles with an index out of range are dropped (Rasterizer::Draw skips
  // them); UVs are kept when there is one per position. False with `*error` when the mesh is
  // too large (2^31 vertices) or a CUDA call fails.
  bool SetMesh(const render::MeshView& mesh, std::string* error);
  // New positions for the resident mesh (a morphed avatar), as many as SetMesh's.
  bool UpdatePositions(std::span<const std::array<float, 3>> positions, std::string* error);
  // Uploads the texels that Draw samples when its material has a texture.
  bool SetTexture(const render::Texture& texture, std::string* error);

  bool SetTarget(int width, int height, std::string* error);
  bool Clear(std::array<uint8_t, 4> background, std::string* error);
  // Rasterizer::Draw of the resident mesh; textured when material.texture is set and the mesh
  // has UVs, with SetTexture's texels (an error when none were uploaded).
  bool Draw(const Eigen::Matrix3f& rotation, const render::Camera& camera, const render::Material& material,
            const render::Light& light, render::Shading shading, std::string* error);
  // WriteRgba(image, device_frame, x, y) on the device: device_frame's planes are device memory.
  bool Composite(const draw::MutableImageView& device_frame, int x, int y, std::string* error);

  // The target and its depth (+inf where nothing was drawn) on the host, for tests; waits.
  bool Download(render::RgbaImage* image, std::vector<float>* depth, std::string* error);
  // Waits for the work enqueued so far.
  bool Synchronize(std::string* error);

  int width() const;
  int height() const;

 private:
  struct Impl;
  explicit DeviceRasterizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fg::cuda
