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

// Bilinear RGB at continuous position (x, y) (pixel centres at integer + 0.5), clamped to
// the frame, with the format fixed at compile time.
template <PixelFormat F>
inline void SampleRgb(const ImageView& src, float x, float y, uint8_t* out) {
  x = std::clamp(x - 0.5f, 0.0f, static_cast<float>(src.width - 1));
  y = std::clamp(y - 0.5f, 0.0f, static_cast<float>(src.height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
  const float fx = x - x0, fy = y - y0;
  const Rgb8 a = src.AtAs<F>(x0, y0), b = src.AtAs<F>(x1, y0), c = src.AtAs<F>(x0, y1),
             d = src.AtAs<F>(x1, y1);
  auto mix = [&](int pa, int pb, int pc, int pd) {
    const float top = pa + (pb - pa) * fx;
    const float bot = pc + (pd - pc) * fx;
    return static_cast<uint8_t>(top + (bot - top) * fy + 0.5f);
  };
  out[0] = mix(a.r, b.r, c.r, d.r);
  out[1] = mix(a.g, b.g, c.g, d.g);
  out[2] = mix(a.b, b.b, c.b, d.b);
  out[3] = 255;
}

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
    ForEachPixel({d0[0] - bx, d0[1] - by}, {d1[0] - bx, d1[1] - by}, {d2[0] - bx, d2[1] - by}, w,
                 h, [&](int x, int y, float l0, float l1, float l2) {
                   const float z = l0 * d0[2] + l1 * d1[2] + l2 * d2[2];
                   float& zb = depth[static_cast<size_t>(y) * w + x];
                   if (!(z < zb)) return;
                   zb = z;
                   SampleRgb<F>(src, l0 * s0[0] + l1 * s1[0] + l2 * s2[0],
                                l0 * s0[1] + l1 * s1[1] + l2 * s2[1], scratch.Row(y) + 4 * x);
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
  float lo_x = std::numeric_limits<float>::infinity(), lo_y = lo_x, hi_x = -lo_x, hi_y = -lo_x;
  for (const auto& p : target) {
    if (!std::isfinite(p[0]) || !std::isfinite(p[1])) continue;
    lo_x = std::min(lo_x, p[0]), hi_x = std::max(hi_x, p[0]);
    lo_y = std::min(lo_y, p[1]), hi_y = std::max(hi_y, p[1]);
  }
  if (!(lo_x <= hi_x)) return;
  const int bx = std::max(0, static_cast<int>(std::floor(std::max(lo_x, -1e6f))));
  const int by = std::max(0, static_cast<int>(std::floor(std::max(lo_y, -1e6f))));
  const int ex = std::min(dst.width, static_cast<int>(std::ceil(std::min(hi_x, 1e6f))) + 1);
  const int ey = std::min(dst.height, static_cast<int>(std::ceil(std::min(hi_y, 1e6f))) + 1);
  if (ex <= bx || ey <= by) return;
  scratch_.Resize(ex - bx, ey - by);
  scratch_.Fill({0, 0, 0, 0});
  const size_t n = static_cast<size_t>(scratch_.width) * scratch_.height;
  if (depth_.size() < n) depth_.resize(n);
  std::fill_n(depth_.begin(), n, std::numeric_limits<float>::infinity());
  switch (src.format) {
    case PixelFormat::kRGB: WarpTriangles<PixelFormat::kRGB>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
    case PixelFormat::kBGR: WarpTriangles<PixelFormat::kBGR>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
    case PixelFormat::kRGBA: WarpTriangles<PixelFormat::kRGBA>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
    case PixelFormat::kBGRA: WarpTriangles<PixelFormat::kBGRA>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
    case PixelFormat::kGRAY8: WarpTriangles<PixelFormat::kGRAY8>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
    case PixelFormat::kNV12: WarpTriangles<PixelFormat::kNV12>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
    case PixelFormat::kI420: WarpTriangles<PixelFormat::kI420>(src, source, target, triangles_, bx, by, scratch_, depth_.data()); break;
  }
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
