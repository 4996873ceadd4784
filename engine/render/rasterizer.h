// The avatar renderer: a CPU triangle rasterizer with a z-buffer, Lambert lighting and
// optional bilinear texturing, drawing a mesh into an RGBA panel (engine/render/composite.h
// then writes the panel into the frame in the frame's own pixel format).
//
// Why our own rasterizer rather than OpenGL through EGL (Mesa llvmpipe): the result is
// bit-exact on every machine, so golden-image tests compare pixels with analytic expectations
// (tests/render); kiosks need no GL stack, no DRI device and no driver quirks; and the mesh
// is tiny (468 vertices, 898 triangles for the canonical face), so one core renders a
// 640x480 panel in well under the 4 ms budget (tools/bench/render_bench). The CUDA port
// (cuda/render) runs the same setup with a per-triangle depth pass and a per-pixel resolve.
//
// Conventions:
//   model space   x right, y up, z towards the viewer (the canonical face, glTF)
//   camera        orthographic: view = R * (p - pivot); pixel x = cx + scale * view.x,
//                 pixel y = cy - scale * view.y; depth = -scale * view.z (smaller = nearer).
//                 With an orthographic camera screen-space (affine) interpolation IS
//                 perspective-correct, so depth, normals' lighting and UVs are interpolated
//                 linearly in the barycentrics of the pixel centre.
//   head pose     R = fg::YawPitchRollToRotation(yaw, pitch, roll) (engine/tracking/head_pose.h),
//                 so the avatar turns as the tracked face does.
//   pixels        pixel (x, y) covers [x, x+1) x [y, y+1); it is inside a triangle when its
//                 centre (x + 0.5, y + 0.5) is, with the top-left fill rule on edges (shared
//                 edges of a watertight mesh cover each pixel exactly once). Vertices are
//                 snapped to 1/256 pixel and edge functions are evaluated in 64-bit integers,
//                 so the rule is exact.
//   depth test    strictly nearer wins (the first triangle drawn keeps ties).
//   shading       colour = base * (ambient + diffuse * max(0, n . l)), clamped to 255, with
//                 n the unit normal in view space and l the unit direction towards the light.
//                 kFlat: n is the triangle's normal (faceted look, one colour per triangle);
//                 kLit: Gouraud, n is the area-weighted vertex normal and the intensity is
//                 interpolated. Lighting is two-sided (a normal facing away from the viewer is
//                 flipped), so the mesh's winding order does not matter.
//   texture       colour = texel(u, v) * lighting; bilinear, clamped at the edges; (u, v) =
//                 (0, 0) is the image's top-left texel corner (glTF's convention).
//
// Threading: a Rasterizer is one render target; use one per thread.
// The arithmetic is engine/render/raster_kernel.h (FG_HD), shared with the CUDA renderer
// (cuda/render/device_rasterizer.h), which draws the same pixels on a GPU.
//
// Allocation: SetTarget() allocates the colour and depth buffers, Draw() grows its
// per-vertex scratch only when a mesh with more vertices arrives; with a fixed target and
// mesh, frames do not allocate.
//
// Example:
//   fg::render::Rasterizer r;
//   r.SetTarget(320, 480);
//   r.Clear({20, 20, 30, 255});
//   fg::render::Camera cam = fg::render::Camera::Fit(positions, 320, 480, 0.9f);
//   r.Draw({positions, triangles, {}}, fg::YawPitchRollToRotation(yaw, pitch, roll), cam,
//          fg::render::Material{}, fg::render::Light{}, fg::render::Shading::kLit);
//   fg::render::WriteRgba(r.image(), frame, x, y);
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "engine/render/composite.h"
#include "engine/render/raster_kernel.h"

namespace fg::render {

enum class Shading { kFlat, kLit };

struct Light {
  std::array<float, 3> direction{0.3f, 0.4f, 1.0f};  // towards the light, view space
  float ambient = 0.35f;
  float diffuse = 0.65f;
};

struct Texture {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4
  // Bilinear at (u, v) in [0,1] (clamped), texel centres at ((i + 0.5) / width, ...).
  std::array<float, 3> Sample(float u, float v) const;
};

struct Material {
  std::array<uint8_t, 3> color{225, 190, 165};
  const Texture* texture = nullptr;  // used when set and the mesh has UVs
};

struct Camera {
  std::array<float, 3> pivot{0, 0, 0};  // model point the rotation turns about
  float scale = 1;                      // pixels per model unit
  float cx = 0, cy = 0;                 // where the pivot lands (continuous pixel coords)
  // The pivot at the centre of the positions' bounding box, in the middle of a w x h
  // target, scaled so that the bounding sphere spans `fill` of the smaller side (so any
  // rotation stays inside).
  static Camera Fit(std::span<const std::array<float, 3>> positions, int w, int h,
                    float fill = 0.9f);
};

struct MeshView {
  std::span<const std::array<float, 3>> positions;
  std::span<const std::array<int, 3>> triangles;  // indices must be < positions.size()
  std::span<const std::array<float, 2>> uvs;      // empty, or one per position
};

class Rasterizer {
 public:
  // Sets the panel size (allocates only when it grows).
  void SetTarget(int width, int height);
  // Colour to `background` (alpha included: 0 leaves the frame visible where nothing is
  // drawn), depth to +infinity.
  void Clear(std::array<uint8_t, 4> background);
  // Draws the mesh (see the conventions above). Triangles with an index out of range are
  // skipped. Drawn pixels get alpha 255.
  void Draw(const MeshView& mesh, const Eigen::Matrix3f& rotation, const Camera& camera,
            const Material& material, const Light& light, Shading shading);

  const RgbaImage& image() const { return color_; }
  float depth(int x, int y) const { return depth_[static_cast<size_t>(y) * color_.width + x]; }

 private:
  RgbaImage color_;
  std::vector<float> depth_;
  // Per-vertex scratch, grown to the largest mesh seen.
  std::vector<std::array<float, 3>> view_;     // view-space positions
  std::vector<std::array<float, 3>> normals_;  // view-space vertex normals
  std::vector<float> intensity_;               // Gouraud lighting per vertex
};

// The camera and rotation, and the light, in raster_kernel.h's plain form (what the CUDA
// renderer takes).
raster_kernel::ViewParams ToViewParams(const Eigen::Matrix3f& rotation, const Camera& camera);
raster_kernel::LightParams ToLightParams(const Light& light);

}  // namespace fg::render
