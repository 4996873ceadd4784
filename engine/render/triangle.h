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
// The setup and the per-pixel weights are engine/render/raster_kernel.h (FG_HD), which the
// CUDA renderer evaluates per pixel (PixelWeights); here the same integers are stepped row by
// row, so both own the same pixels with the same weights.
//
// Threading: a pure function. Allocation: none.
#pragma once

#include <array>
#include <cstdint>

#include "engine/render/raster_kernel.h"

namespace fg::render {

inline constexpr int kSubBits = raster_kernel::kSubBits;

// fn(x, y, l0, l1, l2): l0 + l1 + l2 = 1, the weights of a, b, c at the pixel centre.
template <typename Fn>
inline void ForEachPixel(std::array<float, 2> a, std::array<float, 2> b, std::array<float, 2> c,
                         int width, int height, Fn&& fn) {
  raster_kernel::Edges e;
  if (!raster_kernel::SetupTriangle(a, b, c, width, height, &e)) return;
  int64_t row[3] = {e.row[0], e.row[1], e.row[2]};
  for (int y = e.py0; y <= e.py1; ++y) {
    int64_t w0 = row[0], w1 = row[1], w2 = row[2];
    for (int x = e.px0; x <= e.px1; ++x) {
      if (raster_kernel::Inside(e, w0, w1, w2)) {
        float l[3];
        raster_kernel::Weights(e, w0, w1, l);
        fn(x, y, l[0], l[1], l[2]);
      }
      w0 += e.dx[0], w1 += e.dx[1], w2 += e.dx[2];
    }
    row[0] += e.dy[0], row[1] += e.dy[1], row[2] += e.dy[2];
  }
}

}  // namespace fg::render
