// The CUDA renderer's per-thread work, one FG_HD function per kernel: the .cu files launch
// them, cuda/render/emulator.cc calls them in loops on the CPU (tests/cuda_render compares that
// with the CPU Rasterizer and FaceWarp pixel for pixel, on machines without a GPU). Each one is
// a thin composition of engine/render/raster_kernel.h, the arithmetic the CPU renderer runs.
//
// Rasterizer, one Draw (a resident mesh of V vertices and T triangles, a W x H target):
//
//   VertexStage    (V threads)   view-space position, pixel position and depth per vertex
//   IntensityStage (V threads)   kLit only: Gouraud lighting, a gather over the vertex's
//                                triangles in drawing order (adjacency built at upload)
//   TriangleStage  (T threads)   edges, corner depths and lighting per triangle -> DrawTri
//   DepthStage     (T warps)     pass 1: atomicMin of DepthKey(z, base + t) per covered pixel
//   ResolveStage   (W x H)       pass 2: the pixel's winner of THIS draw shades it
//
// Face warp (a box of bw x bh frame pixels at (bx, by)):
//
//   WarpTriangleStage (T threads) ─► DepthStage (T warps, key = t) ─► WarpResolveStage
//   (bw x bh: the winner's source sample, or alpha 0) ─► composite into the frame
//
// Composition of an RGBA panel into a frame: CompositePackedStage (one thread per pixel of
// the clipped rectangle) or WriteYuvBlock (one per chroma block: 2x2, or 2x1 for 4:2:2),
// WriteRgba's rules.
//
// Threading: pure functions of their arguments; writes go to the output slot named by the
// thread's index only (atomics aside), so any launch order gives the same result.
#pragma once

#include <cstdint>

#include "engine/hd.h"
#include "engine/image.h"
#include "engine/render/raster_kernel.h"

namespace fg::cuda::render_stages {

namespace rk = ::fg::render::raster_kernel;

// A triangle after setup; ok == 0: it covers no pixel (degenerate or off the target).
struct DrawTri {
  rk::Edges e;
  float z[3];
  rk::ShadeTri shade;
  int ok;
};

FG_HD inline void VertexStage(int i, const rk::ViewParams& vp, const rk::V3* positions, rk::V3* view,
                              rk::V2* screen, float* depth) {
  view[i] = rk::ViewVertex(vp, positions[i]);
  screen[i] = rk::ScreenXY(vp, view[i]);
  depth[i] = rk::Depth(vp, view[i]);
}

// adj[adj_begin[i] .. adj_begin[i + 1]) lists the triangles holding vertex i, in drawing order,
// once per corner.
FG_HD inline void IntensityStage(int i, const rk::V3* view, const int* triangles, const int* adj_begin,
                                 const int* adj, const rk::LightParams& light, float* intensity) {
  intensity[i] = rk::VertexIntensity(view, triangles, adj + adj_begin[i], adj_begin[i + 1] - adj_begin[i], light);
}

// intensity: per vertex (kLit), or null (kFlat: one Lambert term per triangle).
FG_HD inline void TriangleStage(int t, const int* triangles, const rk::V3* view, const rk::V2* screen,
                                const float* depth, const float* intensity, const rk::LightParams& light, int width,
                                int height, DrawTri* out) {
  const int* v = triangles + 3 * t;
  DrawTri d;
  d.ok = rk::SetupTriangle(screen[v[0]], screen[v[1]], screen[v[2]], width, height, &d.e) ? 1 : 0;
  for (int k = 0; k < 3; ++k) d.z[k] = depth[v[k]], d.shade.v[k] = v[k];
  if (intensity) {
    for (int k = 0; k < 3; ++k) d.shade.k[k] = intensity[v[k]];
  } else {
    const float flat = rk::FlatIntensity(view[v[0]], view[v[1]], view[v[2]], light);
    d.shade.k[0] = d.shade.k[1] = d.shade.k[2] = flat;
  }
  out[t] = d;
}

// Pass 1 of the rasterizer and of the warp: thread `thread` of block `block` (blocks of
// kTrianglesPerBlock warps of kLanes lanes; DepthBlocks(nt) blocks). Warp w takes triangle w
// and its lanes stride over the triangle's box (raster_kernel.h DepthLanes), keeping the
// smallest DepthKey(z, base + t) per pixel through `atomic_min(pixel, key)`: atomicMin on the
// device, a plain min in the emulation (order-independent, so any schedule gives one result).
FG_HD inline int DepthBlocks(int nt) { return (nt + rk::kTrianglesPerBlock - 1) / rk::kTrianglesPerBlock; }
template <class AtomicMin>
FG_HD inline void DepthStage(int block, int thread, const DrawTri* tris, int nt, uint32_t base, int width,
                             AtomicMin&& atomic_min) {
  const int t = block * rk::kTrianglesPerBlock + thread / rk::kLanes;
  if (t >= nt || !tris[t].ok) return;
  rk::DepthLanes(tris[t].e, tris[t].z, base + static_cast<uint32_t>(t), width, thread % rk::kLanes, rk::kLanes,
                 atomic_min);
}

// Pixel (x, y) of a width-wide target: shaded when this draw (keys base .. base + count - 1)
// won it, left as it is otherwise (an earlier draw's pixel, or background).
FG_HD inline void ResolveStage(int x, int y, int width, const uint64_t* keys, uint32_t base, int count,
                               const DrawTri* tris, const rk::V3& color, const rk::TextureParams& tex,
                               const rk::V2* uvs, uint8_t* rgba) {
  const size_t p = static_cast<size_t>(y) * width + x;
  const uint64_t key = keys[p];
  if (key == rk::kEmptyKey) return;
  const uint32_t t = rk::KeyTriangle(key);
  if (t < base || t - base >= static_cast<uint32_t>(count)) return;
  const DrawTri& d = tris[t - base];
  float l[3];
  if (!rk::PixelWeights(d.e, x, y, l)) return;  // cannot happen: pass 1 found it inside
  rk::ShadePixel(d.shade, l, color, tex, uvs, rgba + 4 * p);
}

// The warp's triangle t, target landmarks in box coordinates (box top-left at (bx, by)).
FG_HD inline void WarpTriangleStage(int t, const int* triangles, const rk::V3* target, int bx, int by, int bw,
                                    int bh, DrawTri* out) {
  const int* v = triangles + 3 * t;
  DrawTri d;
  d.ok = rk::SetupTriangle(rk::WarpXY(target[v[0]], bx, by), rk::WarpXY(target[v[1]], bx, by),
                           rk::WarpXY(target[v[2]], bx, by), bw, bh, &d.e)
             ? 1
             : 0;
  for (int k = 0; k < 3; ++k) d.z[k] = target[v[k]][2], d.shade.v[k] = v[k], d.shade.k[k] = 1.0f;
  out[t] = d;
}

// Box pixel (x, y): the source sample of the triangle that won it, or alpha 0 (untouched).
template <PixelFormat F>
FG_HD inline void WarpResolveStage(int x, int y, int bw, const uint64_t* keys, const DrawTri* tris,
                                   const rk::V3* source, const ImageView& src, uint8_t* scratch) {
  const size_t p = static_cast<size_t>(y) * bw + x;
  uint8_t* out = scratch + 4 * p;
  const uint64_t key = keys[p];
  float l[3];
  if (key != rk::kEmptyKey) {
    const DrawTri& d = tris[rk::KeyTriangle(key)];
    if (rk::PixelWeights(d.e, x, y, l)) {
      rk::WarpSample<F>(src, l, source[d.shade.v[0]], source[d.shade.v[1]], source[d.shade.v[2]], out);
      return;
    }
  }
  out[0] = out[1] = out[2] = out[3] = 0;
}

// Frame pixel (r.x0 + i, r.y0 + j) of a packed format from the panel (panel_w pixels a row).
template <PixelFormat F>
FG_HD inline void CompositePackedStage(int i, int j, const rk::CompositeRect& r, const uint8_t* panel, int panel_w,
                                       uint8_t* plane0, int stride0) {
  const uint8_t* s = panel + (static_cast<size_t>(r.sy0 + j) * panel_w + r.sx0 + i) * 4;
  if (s[3] == 0) return;
  rk::WritePackedPixel<F>(s, plane0 + static_cast<std::ptrdiff_t>(r.y0 + j) * stride0, r.x0 + i);
}

}  // namespace fg::cuda::render_stages
