// Triangle traversal shared by the rasterizer and the warp: calls a function for every pixel
// whose centre lies inside a 2D triangle, with the barycentric weights of that centre.
//
// Pixel (x, y) covers [x, x+1) x [y, y+1); its centre (x + 0.5, y + 0.5) decides. Vertices
// are snapped to 1/256 pixel (kSubBits) and the edge functions are exact 64-bit integers,
// with the top-left fill rule on edges (y down): a centre exactly on an edge belongs to the
// triangle when that edge is a top edge (horizontal, the triangle below it) or a left edge.
// Adjacent triangles therefore cover every pixel of their union exactly once. Degenerate
// (zero-area) triangles cover nothing. Coordinates are clamped to +-2^20 pixels first, so
// no arithmetic can overflow. Traversal is clipped to [0, width) x [0, height).
//
// Threading: a pure function. Allocation: none.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace fg::render {

inline constexpr int kSubBits = 8;

// fn(x, y, l0, l1, l2): l0 + l1 + l2 = 1, the weights of a, b, c at the pixel centre.
template <typename Fn>
inline void ForEachPixel(std::array<float, 2> a, std::array<float, 2> b, std::array<float, 2> c,
                         int width, int height, Fn&& fn) {
  constexpr float kOne = static_cast<float>(1 << kSubBits);
  constexpr float kLimit = static_cast<float>(1 << 20);
  auto snap = [&](float v) -> int64_t {
    if (!(v == v)) v = -kLimit;  // NaN: far outside
    v = std::clamp(v, -kLimit, kLimit);
    return static_cast<int64_t>(std::lround(v * kOne));
  };
  int64_t x0 = snap(a[0]), y0 = snap(a[1]), x1 = snap(b[0]), y1 = snap(b[1]), x2 = snap(c[0]),
          y2 = snap(c[1]);
  // E(a, b, p) = (b.x - a.x)(p.y - a.y) - (b.y - a.y)(p.x - a.x)
  int64_t area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
  if (area == 0) return;
  bool swapped = false;
  if (area < 0) {  // make it positive: swap b and c (and their weights back at the end)
    std::swap(x1, x2);
    std::swap(y1, y2);
    area = -area;
    swapped = true;
  }
  const int64_t min_x = std::min({x0, x1, x2}), max_x = std::max({x0, x1, x2});
  const int64_t min_y = std::min({y0, y1, y2}), max_y = std::max({y0, y1, y2});
  constexpr int64_t kHalf = int64_t{1} << (kSubBits - 1);
  // Pixel centres inside the box: x*256 + 128 >= min_x  <=>  x >= (min_x - 128) / 256.
  auto ceil_div = [](int64_t n, int64_t d) { return n >= 0 ? (n + d - 1) / d : -((-n) / d); };
  auto floor_div = [](int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); };
  const int px0 = static_cast<int>(std::max<int64_t>(0, ceil_div(min_x - kHalf, 1 << kSubBits)));
  const int px1 = static_cast<int>(std::min<int64_t>(width - 1, floor_div(max_x - kHalf, 1 << kSubBits)));
  const int py0 = static_cast<int>(std::max<int64_t>(0, ceil_div(min_y - kHalf, 1 << kSubBits)));
  const int py1 = static_cast<int>(std::min<int64_t>(height - 1, floor_div(max_y - kHalf, 1 << kSubBits)));
  if (px0 > px1 || py0 > py1) return;

  // Edge i is opposite vertex i: e0 = (v1, v2), e1 = (v2, v0), e2 = (v0, v1).
  struct Edge {
    int64_t ax, ay, bx, by, bias;
  };
  auto make = [](int64_t ax, int64_t ay, int64_t bx, int64_t by) {
    const bool top = ay == by && bx > ax;
    const bool left = by < ay;
    return Edge{ax, ay, bx, by, (top || left) ? 0 : -1};
  };
  const Edge e[3] = {make(x1, y1, x2, y2), make(x2, y2, x0, y0), make(x0, y0, x1, y1)};
  const int64_t sx = int64_t{px0} * (1 << kSubBits) + kHalf;
  const int64_t sy = int64_t{py0} * (1 << kSubBits) + kHalf;
  int64_t row[3], dx[3], dy[3];
  for (int i = 0; i < 3; ++i) {
    row[i] = (e[i].bx - e[i].ax) * (sy - e[i].ay) - (e[i].by - e[i].ay) * (sx - e[i].ax);
    dx[i] = -(e[i].by - e[i].ay) * (1 << kSubBits);
    dy[i] = (e[i].bx - e[i].ax) * (1 << kSubBits);
  }
  const float inv_area = 1.0f / static_cast<float>(area);
  for (int y = py0; y <= py1; ++y) {
    int64_t w0 = row[0], w1 = row[1], w2 = row[2];
    for (int x = px0; x <= px1; ++x) {
      if ((w0 + e[0].bias) >= 0 && (w1 + e[1].bias) >= 0 && (w2 + e[2].bias) >= 0) {
        const float l0 = static_cast<float>(w0) * inv_area;
        const float l1 = static_cast<float>(w1) * inv_area;
        const float l2 = 1.0f - l0 - l1;
        if (swapped)
          fn(x, y, l0, l2, l1);
        else
          fn(x, y, l0, l1, l2);
      }
      w0 += dx[0], w1 += dx[1], w2 += dx[2];
    }
    row[0] += dy[0], row[1] += dy[1], row[2] += dy[2];
  }
}

}  // namespace fg::render
