#include "engine/render/rasterizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/render/triangle.h"

namespace fg::render {

namespace {

namespace rk = raster_kernel;
using V3 = std::array<float, 3>;

V3 Sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }

}  // namespace

std::array<float, 3> Texture::Sample(float u, float v) const {
  return rk::SampleTexture(rgba.data(), width, height, u, v);
}

Camera Camera::Fit(std::span<const std::array<float, 3>> positions, int w, int h, float fill) {
  Camera cam;
  cam.cx = w * 0.5f;
  cam.cy = h * 0.5f;
  if (positions.empty()) return cam;
  V3 lo = positions[0], hi = positions[0];
  for (const auto& p : positions)
    for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
  for (int k = 0; k < 3; ++k) cam.pivot[k] = 0.5f * (lo[k] + hi[k]);
  float r2 = 0;
  for (const auto& p : positions) {
    const V3 d = Sub(p, cam.pivot);
    r2 = std::max(r2, d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  }
  const float r = std::sqrt(r2);
  cam.scale = r > 0 ? fill * std::min(w, h) / (2 * r) : 1.0f;
  return cam;
}

void Rasterizer::SetTarget(int width, int height) {
  color_.Resize(width, height);
  const size_t n = static_cast<size_t>(color_.width) * color_.height;
  if (depth_.size() < n) depth_.resize(n);
}

void Rasterizer::Clear(std::array<uint8_t, 4> background) {
  color_.Fill(background);
  std::fill_n(depth_.begin(), static_cast<size_t>(color_.width) * color_.height,
              std::numeric_limits<float>::infinity());
}

void Rasterizer::Draw(const MeshView& mesh, const Eigen::Matrix3f& rotation, const Camera& camera,
                      const Material& material, const Light& light, Shading shading) {
  const size_t n = mesh.positions.size();
  if (view_.size() < n) {
    view_.resize(n);
    normals_.resize(n);
    intensity_.resize(n);
  }
  // The per-vertex, per-triangle and per-pixel arithmetic is raster_kernel.h, which the CUDA
  // renderer (cuda/render) runs too.
  const rk::ViewParams vp = ToViewParams(rotation, camera);
  const rk::LightParams lp = ToLightParams(light);
  // Vertices to view space (rotation about the pivot), then to pixels.
  for (size_t i = 0; i < n; ++i) view_[i] = rk::ViewVertex(vp, mesh.positions[i]);
  const bool textured = material.texture != nullptr && mesh.uvs.size() == n;
  const rk::TextureParams tex{textured ? material.texture->rgba.data() : nullptr,
                              textured ? material.texture->width : 0, textured ? material.texture->height : 0};
  const rk::V2* uvs = textured ? mesh.uvs.data() : nullptr;
  const V3 base{static_cast<float>(material.color[0]), static_cast<float>(material.color[1]),
                static_cast<float>(material.color[2])};
  auto valid = [n](const std::array<int, 3>& t) {
    return t[0] >= 0 && t[1] >= 0 && t[2] >= 0 && static_cast<size_t>(t[0]) < n &&
           static_cast<size_t>(t[1]) < n && static_cast<size_t>(t[2]) < n;
  };
  if (shading == Shading::kLit) {
    // Area-weighted vertex normals in view space (the cross product's length is twice the
    // area), each face turned towards the viewer, then the Lambert term per vertex.
    std::fill_n(normals_.begin(), n, V3{0, 0, 0});
    for (const auto& t : mesh.triangles) {
      if (!valid(t)) continue;
      const V3 fn = rk::OrientedFaceNormal(view_[t[0]], view_[t[1]], view_[t[2]]);
      for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 3; ++c) normals_[t[k]][c] += fn[c];
    }
    for (size_t i = 0; i < n; ++i) intensity_[i] = rk::Lambert(rk::Normalize(normals_[i]), lp);
  }

  const int w = color_.width, h = color_.height;
  for (const auto& t : mesh.triangles) {
    if (!valid(t)) continue;
    const float z0 = rk::Depth(vp, view_[t[0]]), z1 = rk::Depth(vp, view_[t[1]]), z2 = rk::Depth(vp, view_[t[2]]);
    rk::ShadeTri st{{t[0], t[1], t[2]}, {1.0f, 1.0f, 1.0f}};
    if (shading == Shading::kFlat) {
      const float flat = rk::FlatIntensity(view_[t[0]], view_[t[1]], view_[t[2]], lp);
      st.k[0] = st.k[1] = st.k[2] = flat;
    } else {
      st.k[0] = intensity_[t[0]], st.k[1] = intensity_[t[1]], st.k[2] = intensity_[t[2]];
    }
    ForEachPixel(rk::ScreenXY(vp, view_[t[0]]), rk::ScreenXY(vp, view_[t[1]]), rk::ScreenXY(vp, view_[t[2]]), w, h,
                 [&](int x, int y, float l0, float l1, float l2) {
                   const float l[3] = {l0, l1, l2};
                   const float z = rk::Interp(l, z0, z1, z2);
                   float& zb = depth_[static_cast<size_t>(y) * w + x];
                   if (!(z < zb)) return;
                   zb = z;
                   rk::ShadePixel(st, l, base, tex, uvs, color_.Row(y) + 4 * x);
                 });
  }
}

raster_kernel::ViewParams ToViewParams(const Eigen::Matrix3f& rotation, const Camera& camera) {
  raster_kernel::ViewParams vp;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) vp.rotation.m[3 * r + c] = rotation(r, c);
  vp.pivot = camera.pivot;
  vp.scale = camera.scale;
  vp.cx = camera.cx;
  vp.cy = camera.cy;
  return vp;
}

raster_kernel::LightParams ToLightParams(const Light& light) {
  return {rk::Normalize(light.direction), light.ambient, light.diffuse};
}

}  // namespace fg::render
