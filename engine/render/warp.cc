#include "engine/render/warp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "engine/render/triangle.h"

namespace fg::render {

FaceWarp::FaceWarp(std::vector<std::array<int, 3>> triangles) : triangles_(std::move(triangles)) {
  for (const auto& t : triangles_) max_index_ = std::max({max_index_, t[0], t[1], t[2]});
  for (const auto& t : triangles_)
    if (std::min({t[0], t[1], t[2]}) < 0) max_index_ = std::numeric_limits<int>::max();  // unusable
}

bool FaceWarp::SetSkirt(float scale) {
  skirt_scale_ = 0;
  band_.clear();
  if (!(scale > 1.0f) || max_index_ < 0 || max_index_ == std::numeric_limits<int>::max())
    return false;
  if (boundary_.empty()) {
    // Edges used by exactly one triangle, kept in the direction their triangle walks them.
    std::map<std::pair<int, int>, int> uses;
    for (const auto& t : triangles_)
      for (int k = 0; k < 3; ++k) {
        const int a = t[k], b = t[(k + 1) % 3];
        ++uses[{std::min(a, b), std::max(a, b)}];
      }
    std::map<int, int> next;  // a -> b along the boundary
    for (const auto& t : triangles_)
      for (int k = 0; k < 3; ++k) {
        const int a = t[k], b = t[(k + 1) % 3];
        if (uses[{std::min(a, b), std::max(a, b)}] == 1) next[a] = b;
      }
    // Walk every loop; keep the longest (the outer boundary; holes are shorter).
    std::map<int, bool> seen;
    for (const auto& [start, unused] : next) {
      if (seen[start]) continue;
      std::vector<int> loop;
      int v = start;
      while (!seen[v] && next.count(v)) {
        seen[v] = true;
        loop.push_back(v);
        v = next[v];
      }
      if (v == start && loop.size() > boundary_.size()) boundary_ = std::move(loop);
    }
  }
  const int n = static_cast<int>(boundary_.size());
  if (n < 3) return false;
  // Band point k is boundary vertex k, point n + k its ring point. The loop follows its
  // triangles' winding, so these two triangles per edge wind the same way.
  for (int k = 0; k < n; ++k) {
    const int j = (k + 1) % n;
    band_.push_back({k, j, n + j});
    band_.push_back({k, n + j, n + k});
  }
  band_source_.resize(2 * n);
  band_target_.resize(2 * n);
  skirt_scale_ = scale;
  return true;
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
  // The skirt's band: boundary points as they are (target and source), ring points the same
  // in both (they do not move). z: the band lies behind every face triangle (the depth
  // test keeps the smaller z), so it fills only what the face did not cover.
  const bool skirt = skirt_scale_ > 1.0f && !band_.empty();
  if (skirt) {
    const size_t n = boundary_.size();
    float cx = 0, cy = 0;
    for (int v : boundary_) cx += source[v][0], cy += source[v][1];
    cx /= static_cast<float>(n), cy /= static_cast<float>(n);
    constexpr float kBehind = 1e30f;
    for (size_t k = 0; k < n; ++k) {
      const auto& s = source[boundary_[k]];
      const auto& t = target[boundary_[k]];
      band_source_[k] = {s[0], s[1], kBehind};
      band_target_[k] = {t[0], t[1], kBehind};
      const std::array<float, 3> ring = {cx + skirt_scale_ * (s[0] - cx),
                                         cy + skirt_scale_ * (s[1] - cy), kBehind};
      band_source_[n + k] = ring;
      band_target_[n + k] = ring;
    }
  }
  // The target's box (with the skirt's ring), clipped to the frame: the only pixels that can
  // change.
  rk::Box box;
  if (!rk::WarpBox(target.data(), target.size(), dst.width, dst.height, &box)) return;
  if (skirt) {
    rk::Box ring;
    if (rk::WarpBox(band_target_.data(), band_target_.size(), dst.width, dst.height, &ring))
      box = {std::min(box.x0, ring.x0), std::min(box.y0, ring.y0), std::max(box.x1, ring.x1),
             std::max(box.y1, ring.y1)};
  }
  // The eyewear layer: the warp samples a copy with the frame filled in (eyewear.h).
  const bool layer = eyewear_on_ && eyewear_.Find(src, source) > 0;
  if (layer) {
    skin_.Assign(src);
    eyewear_.FillSkin(src, skin_.mutable_view());
  }
  const ImageView& sample = layer ? skin_.view() : src;
  const int bx = box.x0, by = box.y0, ex = box.x1, ey = box.y1;
  scratch_.Resize(ex - bx, ey - by);
  scratch_.Fill({0, 0, 0, 0});
  const size_t n = static_cast<size_t>(scratch_.width) * scratch_.height;
  if (depth_.size() < n) depth_.resize(n);
  std::fill_n(depth_.begin(), n, std::numeric_limits<float>::infinity());
  VisitPixelFormat(src.format, [&]<PixelFormat F>() {
    WarpTriangles<F>(sample, source, target, triangles_, bx, by, scratch_, depth_.data());
    // The skirt: the band between the face outline and a fixed outer ring, so pixels just
    // outside a moving outline are stretched, not torn.
    if (skirt) {
      const std::span<const std::array<float, 3>> bs(band_source_), bt(band_target_);
      WarpTriangles<F>(sample, bs, bt, band_, bx, by, scratch_, depth_.data());
    }
  });
  if (layer) eyewear_.Composite(src, scratch_, bx, by);  // the frame over the moved skin
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
