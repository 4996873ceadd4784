#include "engine/render/warp.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/render/triangle.h"

namespace fg::render {

FaceWarp::FaceWarp(std::vector<std::array<int, 3>> triangles) : triangles_(std::move(triangles)) {
  for (const auto& t : triangles_) max_index_ = std::max({max_index_, t[0], t[1], t[2]});
  for (const auto& t : triangles_)
    if (std::min({t[0], t[1], t[2]}) < 0) max_index_ = std::numeric_limits<int>::max();  // unusable
}

namespace {

namespace rk = raster_kernel;

template <PixelFormat F>
void WarpTriangles(const ImageView& src, std::span<const std::array<float, 3>> source,
                   std::span<const std::array<float, 3>> target,
                   const std::vector<std::array<int, 3>>& triangles, int bx, int by,
                   RgbaImage& scratch, float* depth) {
  const int w = scratch.width, h = scratch.height;
  for (const auto& t : triangles) {
    const auto& s0 = source[t[0]];
    const auto& s1 = source[t[1]];
    const auto& s2 = source[t[2]];
    const auto& d0 = target[t[0]];
    const auto& d1 = target[t[1]];
    const auto& d2 = target[t[2]];
    ForEachPixel(rk::WarpXY(d0, bx, by), rk::WarpXY(d1, bx, by), rk::WarpXY(d2, bx, by), w, h,
                 [&](int x, int y, float l0, float l1, float l2) {
                   const float l[3] = {l0, l1, l2};
                   const float z = rk::Interp(l, d0[2], d1[2], d2[2]);
                   float& zb = depth[static_cast<size_t>(y) * w + x];
                   if (!(z < zb)) return;
                   zb = z;
                   rk::WarpSample<F>(src, l, s0, s1, s2, scratch.Row(y) + 4 * x);
                 });
  }
}

}  // namespace

void FaceWarp::Warp(const ImageView& src, std::span<const std::array<float, 3>> source,
                    std::span<const std::array<float, 3>> target,
                    const draw::MutableImageView& dst) {
  if (source.size() != target.size() || max_index_ < 0 ||
      static_cast<size_t>(max_index_) >= source.size())
    return;
  if (src.width != dst.width || src.height != dst.height) return;
  // The target's box, clipped to the frame: the only pixels that can change.
  rk::Box box;
  if (!rk::WarpBox(target.data(), target.size(), dst.width, dst.height, &box)) return;
  const int bx = box.x0, by = box.y0, ex = box.x1, ey = box.y1;
  scratch_.Resize(ex - bx, ey - by);
  scratch_.Fill({0, 0, 0, 0});
  const size_t n = static_cast<size_t>(scratch_.width) * scratch_.height;
  if (depth_.size() < n) depth_.resize(n);
  std::fill_n(depth_.begin(), n, std::numeric_limits<float>::infinity());
  VisitPixelFormat(src.format, [&]<PixelFormat F>() { WarpTriangles<F>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); });
  WriteRgba(scratch_, dst, bx, by);
}

void DisplaceLandmarks(std::span<const std::array<float, 3>> source,
                       std::span<const std::array<float, 3>> deltas_cm,
                       const Eigen::Matrix3f& rotation, float scale_px_per_cm,
                       std::span<std::array<float, 3>> target) {
  const size_t n = std::min(source.size(), target.size());
  for (size_t i = 0; i < n; ++i) {
    target[i] = source[i];
    if (i >= deltas_cm.size()) continue;
    const auto& d = deltas_cm[i];
    const Eigen::Vector3f r = rotation * Eigen::Vector3f(d[0], d[1], d[2]);
    target[i][0] += scale_px_per_cm * r.x();
    target[i][1] -= scale_px_per_cm * r.y();
    target[i][2] -= scale_px_per_cm * r.z();
  }
}

}  // namespace fg::render
