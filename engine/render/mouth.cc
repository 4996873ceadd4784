#include "engine/render/mouth.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "engine/render/raster_kernel.h"

namespace fg::render {

namespace {

// FaceMesh's inner lip contour, corner 78 (the subject's right) to corner 308.
constexpr std::array<int, 11> kUpperInner = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308};
constexpr std::array<int, 11> kLowerInner = {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308};
// A frame along the mouth: u = 0 at corner 78, 1 at corner 308; v in px across, image-down.
struct MouthFrame {
  Eigen::Vector2f o, ax, ay;
  float len = 0;
  bool Set(const std::array<float, 3>& a, const std::array<float, 3>& b) {
    o = {a[0], a[1]};
    const Eigen::Vector2f d(b[0] - a[0], b[1] - a[1]);
    len = d.norm();
    if (!(len > 1e-3f)) return false;
    ax = d / len;
    ay = {-ax.y(), ax.x()};
    return true;
  }
  Eigen::Vector2f Uv(const Eigen::Vector2f& p) const {
    return {(p - o).dot(ax) / len, (p - o).dot(ay)};
  }
  Eigen::Vector2f Point(float u, float v) const { return o + u * len * ax + v * ay; }
};

// v of a contour (points as (u, v), sorted by u) at u, linear between points.
float ContourAt(const std::array<Eigen::Vector2f, 11>& c, float u) {
  if (u <= c.front().x()) return c.front().y();
  for (size_t k = 1; k < c.size(); ++k)
    if (u <= c[k].x()) {
      const float du = c[k].x() - c[k - 1].x();
      const float f = du > 1e-6f ? (u - c[k - 1].x()) / du : 1.0f;
      return c[k - 1].y() + f * (c[k].y() - c[k - 1].y());
    }
  return c.back().y();
}

void Contour(const std::array<int, 11>& idx, std::span<const std::array<float, 3>> pts,
             const MouthFrame& f, std::array<Eigen::Vector2f, 11>* out) {
  for (size_t k = 0; k < idx.size(); ++k)
    (*out)[k] = f.Uv({pts[idx[k]][0], pts[idx[k]][1]});
  std::sort(out->begin(), out->end(),
            [](const Eigen::Vector2f& a, const Eigen::Vector2f& b) { return a.x() < b.x(); });
}

// The warp's own sample (bilinear RGB at a continuous frame position, clamped, rounded).
void Sample(const ImageView& src, float x, float y, uint8_t* out) {
  namespace rk = raster_kernel;
  VisitPixelFormat(src.format, [&]<PixelFormat F>() { rk::SampleRgb<F>(src, x, y, out); });
}

// The largest landmark index used, plus one.
constexpr int kMinPoints = 416;

}  // namespace

void MouthInterior::Draw(const ImageView& src, std::span<const std::array<float, 3>> source,
                         std::span<const std::array<float, 3>> target,
                         const draw::MutableImageView& dst) {
  if (source.size() < static_cast<size_t>(kMinPoints) ||
      target.size() < static_cast<size_t>(kMinPoints) || src.width != dst.width ||
      src.height != dst.height)
    return;
  for (const auto* idx : {&kUpperInner, &kLowerInner})
    for (int i : *idx)
      if (!std::isfinite(source[i][0]) || !std::isfinite(source[i][1]) ||
          !std::isfinite(target[i][0]) || !std::isfinite(target[i][1]))
        return;
  MouthFrame ft, fs;
  if (!ft.Set(target[kUpperInner.front()], target[kUpperInner.back()]) ||
      !fs.Set(source[kUpperInner.front()], source[kUpperInner.back()]))
    return;
  std::array<Eigen::Vector2f, 11> ut, lt, us, ls;
  Contour(kUpperInner, target, ft, &ut);
  Contour(kLowerInner, target, ft, &lt);
  Contour(kUpperInner, source, fs, &us);
  Contour(kLowerInner, source, fs, &ls);
  float lo_x = 1e9f, lo_y = 1e9f, hi_x = -1e9f, hi_y = -1e9f;
  for (const auto* idx : {&kUpperInner, &kLowerInner})
    for (int i : *idx) {
      lo_x = std::min(lo_x, target[i][0]), hi_x = std::max(hi_x, target[i][0]);
      lo_y = std::min(lo_y, target[i][1]), hi_y = std::max(hi_y, target[i][1]);
    }
  if (!(lo_x <= hi_x)) return;
  const int bx = std::max(0, static_cast<int>(std::floor(lo_x)));
  const int by = std::max(0, static_cast<int>(std::floor(lo_y)));
  const int ex = std::min(dst.width, static_cast<int>(std::ceil(hi_x)) + 1);
  const int ey = std::min(dst.height, static_cast<int>(std::ceil(hi_y)) + 1);
  if (ex <= bx || ey <= by) return;
  panel_.Resize(ex - bx, ey - by);
  panel_.Fill({0, 0, 0, 0});
  for (int y = by; y < ey; ++y)
    for (int x = bx; x < ex; ++x) {
      const Eigen::Vector2f uv = ft.Uv({x + 0.5f, y + 0.5f});
      const float u = uv.x(), v = uv.y();
      if (!(u > 0.0f && u < 1.0f)) continue;
      const float vu = ContourAt(ut, u), vl = ContourAt(lt, u);
      if (!(v >= vu && v <= vl)) continue;
      const float su = ContourAt(us, u), sl = ContourAt(ls, u);
      const float ht = vl - vu, hs = std::max(0.0f, sl - su);
      uint8_t* out = panel_.Row(y - by) + 4 * (x - bx);
      float vs;
      if (ht <= hs) {
        vs = su + (ht > 1e-3f ? (v - vu) * hs / ht : 0.0f);
      } else if (v - vu <= 0.5f * hs) {
        vs = su + (v - vu);
      } else if (vl - v <= 0.5f * hs) {
        vs = sl - (vl - v);
      } else {
        std::copy(kMouthCavity.begin(), kMouthCavity.end(), out);
        continue;
      }
      const Eigen::Vector2f p = fs.Point(u, vs);
      Sample(src, p.x(), p.y(), out);
    }
  WriteRgba(panel_, dst, bx, by);
}

}  // namespace fg::render
