// STGraph per-triangle sampling, the arithmetic shared by the CPU sampler and the CUDA kernel.
//
// FaceSTGraph::SampleTriangles (stgraph.cc) and the CUDA sampler (cuda/vitals/stgraph_sampler.cu)
// both call these FG_HD functions (engine/hd.h), so the rasterisation rule, the pixel fetch
// (ImageView::AtAs, every PixelFormat), the sub-pixel fallback and the visibility are one copy
// of the math. The CPU walks each triangle row by row (RowSums); the kernel gives each triangle
// one warp whose lanes stride over the pixels of the triangle's clipped bounding box
// (LaneSums), then sums the lanes. Both test a pixel with the same RowSpan, so they own the
// same pixels; the sums are integers, so the means agree to the last bit when the device
// arithmetic is IEEE without contraction (cuda/ builds with --fmad=false).
//
//   SetupTriangle ──► RowSums (CPU, per row)    ──┐
//        │        └─► LaneSums (GPU, per lane) ──┴─► Sums ──► FinishTriangle ──► TriangleResult
//   Visibility (normal · view) ───────────────────────────────────────────────────────┘
//
// Grid of the kernel (MapWarp): warp w of the launch samples triangle w % T of face w / T,
// kTrianglesPerBlock warps a block; the CPU emulation test (tests/cuda) replays that order.
//
// Threading: pure functions of their arguments.
//
// Example (one triangle t of a face, landmarks lm: 468 x 3 floats):
//   const stgraph_kernel::Raster r = stgraph_kernel::SetupTriangle(lm, tri[t], W, H);
//   stgraph_kernel::Sums s;
//   for (int y = r.y0; y <= r.y1; ++y) stgraph_kernel::RowSums<PixelFormat::kNV12>(r, view, y, &s);
//   stgraph_kernel::TriangleResult out = stgraph_kernel::FinishTriangle<PixelFormat::kNV12>(r, view, s);
//   out.visibility = stgraph_kernel::Visibility(lm, tri[t]);
#pragma once

#include <math.h>  // floorf, ceilf, sqrtf: the same names on the host and in device code

#include <cstdint>

#include "engine/hd.h"
#include "engine/image.h"

namespace fg::stgraph_kernel {

// The CUDA kernel's shape: one warp a triangle, kTrianglesPerBlock triangles a block.
inline constexpr int kLanes = 32;
inline constexpr int kTrianglesPerBlock = 4;

// A triangle in frame pixels, ready to rasterise: edge functions E_k(p) = A_k px + B_k py + C_k
// (positive inside, counter-clockwise after SetupTriangle's swap), the rows y0..y1 and columns
// xlo..xhi of its bounding box clipped to the frame (empty when y1 < y0 or xhi < xlo), and the
// centroid for a triangle too small to own a pixel centre.
struct Raster {
  float A[3], B[3], C[3];
  bool incl[3];  // pixel centres on edge k belong to this triangle (top-left style tie rule)
  int y0, y1, xlo, xhi;
  float gx, gy;
};

// Integer sums over a triangle's pixels (exact, so any summation order gives the same result).
struct Sums {
  uint32_t r = 0, g = 0, b = 0;
  int count = 0;
};

// One triangle's sample: mean RGB [0,255], pixels averaged (1 for a sub-pixel triangle, 0 when
// it owns no pixel in the frame), cos(normal, view) in [0,1].
struct TriangleResult {
  float r, g, b;
  int pixels;
  float visibility;
};

FG_HD inline bool Finite(float v) { return v - v == 0.0f; }  // false for inf and NaN
using hd::Max3;
using hd::Min3;
// Clamped in float first: a wild landmark must not overflow the int conversion.
FG_HD inline int ClampToInt(float f, int lo, int hi) {
  const float l = static_cast<float>(lo), h = static_cast<float>(hi);
  return static_cast<int>(f < l ? l : (h < f ? h : f));
}

// `lm`: 468 x 3 floats (x, y, z per landmark, frame pixels); `tri`: three landmark indices.
// Always inlined: a call returns the Raster through memory, and the row loop then reloads the
// edge coefficients (slower: docs/speed.md, "STGraph sampler").
[[gnu::always_inline]] FG_HD inline Raster SetupTriangle(const float* lm, const int* tri, int W, int H) {
  Raster r;
  r.y0 = 0, r.y1 = -1, r.xlo = 0, r.xhi = -1;
  const float ax = lm[3 * tri[0]], ay = lm[3 * tri[0] + 1];
  float bx = lm[3 * tri[1]], by = lm[3 * tri[1] + 1];
  float cx = lm[3 * tri[2]], cy = lm[3 * tri[2] + 1];
  const float area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
  if (Finite(area) && area != 0) {
    if (area < 0) {
      const float tx = bx, ty = by;
      bx = cx, by = cy, cx = tx, cy = ty;
    }
    const float ex[3] = {ax, bx, cx}, ey[3] = {ay, by, cy};
    for (int k = 0; k < 3; ++k) {
      const float x0 = ex[k], y0 = ey[k], x1 = ex[(k + 1) % 3], y1 = ey[(k + 1) % 3];
      const float dx = x1 - x0, dy = y1 - y0;
      // E = dx * (py - y0) - dy * (px - x0)
      r.A[k] = -dy;
      r.B[k] = dx;
      r.C[k] = dy * x0 - dx * y0;
      // Of the two triangles sharing an edge (traversed in opposite directions), exactly one
      // includes pixel centres lying on it.
      r.incl[k] = dy < 0 || (dy == 0 && dx > 0);
    }
    r.y0 = ClampToInt(floorf(Min3(ay, by, cy) - 0.5f), 0, H);
    r.y1 = ClampToInt(ceilf(Max3(ay, by, cy) - 0.5f), -1, H - 1);
    r.xlo = ClampToInt(floorf(Min3(ax, bx, cx) - 0.5f), 0, W);
    r.xhi = ClampToInt(ceilf(Max3(ax, bx, cx) - 0.5f), -1, W - 1);
  }
  r.gx = (ax + bx + cx) / 3, r.gy = (ay + by + cy) / 3;
  return r;
}

// Columns i0..i1 (empty when i1 < i0) of row y whose pixel centres (i + 0.5, y + 0.5) are
// inside the triangle, within xlo..xhi.
FG_HD inline void RowSpan(const Raster& r, int y, int* i0_out, int* i1_out) {
  const float py = static_cast<float>(y) + 0.5f;
  int i0 = r.xlo, i1 = r.xhi;
  for (int k = 0; k < 3 && i0 <= i1; ++k) {
    const float b = r.B[k] * py + r.C[k];
    if (r.A[k] == 0) {
      if (b < 0 || (b == 0 && !r.incl[k])) i1 = i0 - 1;
      continue;
    }
    // A * (i + 0.5) + b > 0 (>= 0 when inclusive).
    const float vx = -b / r.A[k] - 0.5f;
    if (r.A[k] > 0) {
      const float lo = r.incl[k] ? ceilf(vx) : floorf(vx) + 1;
      if (lo > static_cast<float>(i0)) i0 = lo > static_cast<float>(r.xhi) ? r.xhi + 1 : static_cast<int>(lo);
    } else {
      const float hi = r.incl[k] ? floorf(vx) : ceilf(vx) - 1;
      if (hi < static_cast<float>(i1)) i1 = hi < static_cast<float>(r.xlo) ? r.xlo - 1 : static_cast<int>(hi);
    }
  }
  *i0_out = i0, *i1_out = i1;
}

// CPU order: the pixels of row y.
template <PixelFormat F>
FG_HD inline void RowSums(const Raster& r, const ImageView& v, int y, Sums* s) {
  int i0, i1;
  RowSpan(r, y, &i0, &i1);
  // Local sums: stores through `s` could alias the pixel bytes (uint8_t reads may alias
  // anything), which would keep the sums out of registers.
  uint32_t sr = 0, sg = 0, sb = 0;
  for (int x = i0; x <= i1; ++x) {
    const Rgb8 p = v.AtAs<F>(x, y);
    sr += p.r, sg += p.g, sb += p.b;
  }
  s->r += sr, s->g += sg, s->b += sb;
  if (i1 >= i0) s->count += i1 - i0 + 1;
}

// Pixels in the clipped bounding box (0 when it is empty).
FG_HD inline int BoxPixels(const Raster& r) {
  return r.y1 < r.y0 || r.xhi < r.xlo ? 0 : (r.y1 - r.y0 + 1) * (r.xhi - r.xlo + 1);
}

// GPU order: lane `lane` of `lanes` takes box pixels lane, lane + lanes, ... (row-major), and
// keeps those its row's span contains.
template <PixelFormat F>
FG_HD inline void LaneSums(const Raster& r, const ImageView& v, int lane, int lanes, Sums* s) {
  const int n = BoxPixels(r), bw = r.xhi - r.xlo + 1;
  Sums t;  // local, as in RowSums
  for (int i = lane; i < n; i += lanes) {
    const int y = r.y0 + i / bw, x = r.xlo + i % bw;
    int i0, i1;
    RowSpan(r, y, &i0, &i1);
    if (x < i0 || x > i1) continue;
    const Rgb8 p = v.AtAs<F>(x, y);
    t.r += p.r, t.g += p.g, t.b += p.b;
    ++t.count;
  }
  s->r += t.r, s->g += t.g, s->b += t.b, s->count += t.count;
}

// Means from the sums; a triangle that owns no pixel centre is sampled at the pixel under its
// centroid when that is in the frame. Visibility is left 0 (see Visibility).
template <PixelFormat F>
FG_HD inline TriangleResult FinishTriangle(const Raster& r, const ImageView& v, Sums s) {
  if (s.count == 0 && r.gx >= 0 && r.gy >= 0 && r.gx < static_cast<float>(v.width) &&
      r.gy < static_cast<float>(v.height)) {
    const Rgb8 p = v.AtAs<F>(static_cast<int>(r.gx), static_cast<int>(r.gy));
    s.r = p.r, s.g = p.g, s.b = p.b;
    s.count = 1;
  }
  TriangleResult out{0, 0, 0, s.count, 0};
  if (s.count > 0) {
    const float inv = 1.0f / static_cast<float>(s.count);
    out.r = static_cast<float>(s.r) * inv;
    out.g = static_cast<float>(s.g) * inv;
    out.b = static_cast<float>(s.b) * inv;
  }
  return out;
}

// cos of the angle between the triangle's normal and the viewing direction, 0 when back-facing.
// Landmark space is canonical space rotated 180 degrees about x (y down, z away), so a canonical
// outward normal (+z, to the viewer) becomes -z here: facing the camera.
FG_HD inline float Visibility(const float* lm, const int* tri) {
  const float* a = lm + 3 * tri[0];
  const float* b = lm + 3 * tri[1];
  const float* c = lm + 3 * tri[2];
  const float ux = b[0] - a[0], uy = b[1] - a[1], uz = b[2] - a[2];
  const float vx = c[0] - a[0], vy = c[1] - a[1], vz = c[2] - a[2];
  const float nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
  const float len = sqrtf(nx * nx + ny * ny + nz * nz);
  const float cosv = len > 0 ? -nz / len : 0.0f;
  return Finite(cosv) && cosv > 0 ? cosv : 0.0f;
}

// Which (face, triangle) warp `warp` of the launch samples; face >= faces for the idle warps of
// the last block.
struct WarpTask {
  int face, triangle;
};
FG_HD inline WarpTask MapWarp(int block, int warp_in_block, int num_triangles) {
  const int w = block * kTrianglesPerBlock + warp_in_block;
  return {w / num_triangles, w % num_triangles};
}
FG_HD inline int GridBlocks(int faces, int num_triangles) {
  return (faces * num_triangles + kTrianglesPerBlock - 1) / kTrianglesPerBlock;
}

}  // namespace fg::stgraph_kernel
