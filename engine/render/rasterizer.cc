#include "engine/render/rasterizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/render/triangle.h"

namespace fg::render {

namespace {

using V3 = std::array<float, 3>;

V3 Sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
V3 Cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
V3 Normalize(const V3& v) {
  const float n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (!(n > 0)) return {0, 0, 1};
  return {v[0] / n, v[1] / n, v[2] / n};
}

// Lambert term, two-sided: a normal facing away from the viewer (z < 0) is flipped.
float Lambert(V3 n, const V3& l, const Light& light) {
  if (n[2] < 0) n = {-n[0], -n[1], -n[2]};
  const float d = std::max(0.0f, n[0] * l[0] + n[1] * l[1] + n[2] * l[2]);
  return light.ambient + light.diffuse * d;
}

inline uint8_t Shade(float c, float k) {
  const float v = c * k + 0.5f;
  return static_cast<uint8_t>(v >= 255.f ? 255.f : (v <= 0.f ? 0.f : v));
}

}  // namespace

std::array<float, 3> Texture::Sample(float u, float v) const {
  if (width <= 0 || height <= 0) return {255, 255, 255};
  float x = u * width - 0.5f, y = v * height - 0.5f;
  x = std::clamp(x, 0.0f, static_cast<float>(width - 1));
  y = std::clamp(y, 0.0f, static_cast<float>(height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, width - 1), y1 = std::min(y0 + 1, height - 1);
  const float fx = x - x0, fy = y - y0;
  const uint8_t* a = &rgba[(static_cast<size_t>(y0) * width + x0) * 4];
  const uint8_t* b = &rgba[(static_cast<size_t>(y0) * width + x1) * 4];
  const uint8_t* c = &rgba[(static_cast<size_t>(y1) * width + x0) * 4];
  const uint8_t* d = &rgba[(static_cast<size_t>(y1) * width + x1) * 4];
  std::array<float, 3> out;
  for (int k = 0; k < 3; ++k) {
    const float top = a[k] + (b[k] - a[k]) * fx;
    const float bot = c[k] + (d[k] - c[k]) * fx;
    out[k] = top + (bot - top) * fy;
  }
  return out;
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
  // Vertices to view space (rotation about the pivot), then to pixels.
  for (size_t i = 0; i < n; ++i) {
    const V3 p = Sub(mesh.positions[i], camera.pivot);
    const Eigen::Vector3f v = rotation * Eigen::Vector3f(p[0], p[1], p[2]);
    view_[i] = {v.x(), v.y(), v.z()};
  }
  const V3 l = Normalize(light.direction);
  const bool textured = material.texture != nullptr && mesh.uvs.size() == n;
  const std::array<float, 3> base{static_cast<float>(material.color[0]),
                                  static_cast<float>(material.color[1]),
                                  static_cast<float>(material.color[2])};
  auto valid = [n](const std::array<int, 3>& t) {
    return t[0] >= 0 && t[1] >= 0 && t[2] >= 0 && static_cast<size_t>(t[0]) < n &&
           static_cast<size_t>(t[1]) < n && static_cast<size_t>(t[2]) < n;
  };
  if (shading == Shading::kLit) {
    // Area-weighted vertex normals in view space (the cross product's length is twice the
    // area), then the Lambert term per vertex.
    std::fill_n(normals_.begin(), n, V3{0, 0, 0});
    for (const auto& t : mesh.triangles) {
      if (!valid(t)) continue;
      V3 fn = Cross(Sub(view_[t[1]], view_[t[0]]), Sub(view_[t[2]], view_[t[0]]));
      // Orient every face the same way relative to the viewer before summing, so that
      // meshes of either winding (or mixed) get smooth normals.
      if (fn[2] < 0) fn = {-fn[0], -fn[1], -fn[2]};
      for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 3; ++c) normals_[t[k]][c] += fn[c];
    }
    for (size_t i = 0; i < n; ++i) intensity_[i] = Lambert(Normalize(normals_[i]), l, light);
  }

  const int w = color_.width, h = color_.height;
  auto px = [&](size_t i) -> std::array<float, 2> {
    return {camera.cx + camera.scale * view_[i][0], camera.cy - camera.scale * view_[i][1]};
  };
  for (const auto& t : mesh.triangles) {
    if (!valid(t)) continue;
    const float z0 = -camera.scale * view_[t[0]][2], z1 = -camera.scale * view_[t[1]][2],
                z2 = -camera.scale * view_[t[2]][2];
    float flat = 1.0f;
    if (shading == Shading::kFlat)
      flat = Lambert(Normalize(Cross(Sub(view_[t[1]], view_[t[0]]), Sub(view_[t[2]], view_[t[0]]))), l,
                     light);
    const float k0 = shading == Shading::kLit ? intensity_[t[0]] : flat;
    const float k1 = shading == Shading::kLit ? intensity_[t[1]] : flat;
    const float k2 = shading == Shading::kLit ? intensity_[t[2]] : flat;
    ForEachPixel(px(t[0]), px(t[1]), px(t[2]), w, h, [&](int x, int y, float l0, float l1, float l2) {
      const float z = l0 * z0 + l1 * z1 + l2 * z2;
      float& zb = depth_[static_cast<size_t>(y) * w + x];
      if (!(z < zb)) return;
      zb = z;
      const float k = l0 * k0 + l1 * k1 + l2 * k2;
      std::array<float, 3> c = base;
      if (textured) {
        const auto& a = mesh.uvs[t[0]];
        const auto& b = mesh.uvs[t[1]];
        const auto& d = mesh.uvs[t[2]];
        c = material.texture->Sample(l0 * a[0] + l1 * b[0] + l2 * d[0],
                                     l0 * a[1] + l1 * b[1] + l2 * d[1]);
      }
      uint8_t* o = color_.Row(y) + 4 * x;
      o[0] = Shade(c[0], k);
      o[1] = Shade(c[1], k);
      o[2] = Shade(c[2], k);
      o[3] = 255;
    });
  }
}

}  // namespace fg::render
