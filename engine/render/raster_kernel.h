// The rasterizer's and the face warp's per-vertex, per-triangle and per-pixel arithmetic, shared
// by the CPU renderer (rasterizer.cc, warp.cc, triangle.h), the CUDA renderer (cuda/render/*.cu)
// and its CPU emulation (cuda/render/emulator.cc).
//
// Every function here is FG_HD (engine/hd.h): the host compiler and nvcc compile the very same
// code, and cuda/ builds with --fmad=false, so a pixel's coverage (exact 64-bit edge functions),
// barycentrics, depth, lighting, texel and colour are the same bits on both sides.
//
// The CPU draws triangles one after another with a depth test ("strictly nearer wins, the first
// triangle drawn keeps ties"). The device draws them all at once in two passes:
//
//   vertex stage     ViewVertex, ScreenXY, Depth; kLit: VertexNormal (a gather over the
//                    vertex's triangles in drawing order: the CPU's scatter, the same adds)
//   triangle setup   SetupTriangle ──► Edges (snapped, clipped box, top-left rule)
//   pass 1 (depth)   DepthLanes: for each covered pixel, atomicMin of
//                    DepthKey(z, triangle) = (order-preserving bits of z) << 32 | triangle,
//                    so the smallest z wins and, among equal z, the smallest triangle number
//                    (the one drawn first): the CPU's depth test, in any order of the atomics
//   pass 2 (resolve) each pixel re-evaluates ITS winner's barycentrics (PixelWeights) and
//                    shades it (ShadePixel / SampleRgb): the colour the CPU wrote last there
//
// Both passes skip depths the CPU's `z < depth` never accepts (NaN, +inf). -0 and +0 get one
// key (the CPU treats them as equal).
//
// Composition (WritePackedPixel, WriteYuvBlock) is engine/render/composite.cc's WriteRgba per
// output pixel / per 2x2 chroma block, for the device's composite kernel; tests/cuda_render
// checks it against WriteRgba in every format.
//
// Threading: pure functions of their arguments.
//
// Example (one triangle on the CPU, see triangle.h ForEachPixel):
//   raster_kernel::Edges e;
//   if (raster_kernel::SetupTriangle(a, b, c, width, height, &e))
//     for (int y = e.py0; y <= e.py1; ++y)
//       for (int x = e.px0; x <= e.px1; ++x)
//         if (float l[3]; raster_kernel::PixelWeights(e, x, y, l)) ... l[0] a + l[1] b + l[2] c
#pragma once

#include <math.h>  // llroundf, sqrtf, INFINITY: the same names on the host and in device code

#include <array>
#include <cstdint>
#include <cstring>

#include "engine/hd.h"
#include "engine/image.h"

namespace fg::render::raster_kernel {

using V2 = std::array<float, 2>;
using V3 = std::array<float, 3>;

// Vertices are snapped to 1/2^kSubBits pixel.
inline constexpr int kSubBits = 8;
// The CUDA kernels' shape: pass 1 gives each triangle one warp whose lanes stride over the
// triangle's box; kTrianglesPerBlock triangles a block.
inline constexpr int kLanes = 32;
inline constexpr int kTrianglesPerBlock = 4;
// An empty depth key: depth +inf, no triangle.
inline constexpr uint64_t kEmptyKey = ~uint64_t{0};

// ---- scalar helpers: the std:: semantics (std::max(a, b) is a < b ? b : a, NaN included) ----

FG_HD inline float MaxF(float a, float b) { return hd::Max(a, b); }
FG_HD inline float MinF(float a, float b) { return hd::Min(a, b); }
FG_HD inline float ClampF(float v, float lo, float hi) { return hd::Clamp(v, lo, hi); }
FG_HD inline int MinI(int a, int b) { return hd::Min(a, b); }
using hd::Max3;
using hd::Min3;

// ---- vertex stage ----

// A row-major 3x3 rotation (m[3 * row + col]).
struct Mat3 {
  float m[9];
};

// The camera of rasterizer.h (orthographic): view = R (p - pivot); pixel x = cx + scale view.x,
// y = cy - scale view.y; depth = -scale view.z.
struct ViewParams {
  Mat3 rotation;
  V3 pivot;
  float scale, cx, cy;
};

FG_HD inline V3 Sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
FG_HD inline V3 Cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
FG_HD inline V3 Normalize(const V3& v) {
  const float n = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (!(n > 0)) return {0, 0, 1};
  return {v[0] / n, v[1] / n, v[2] / n};
}

// R (p - pivot), each row summed as r0 d0 + (r1 d1 + r2 d2): the rounding of Eigen's 3x3
// product, which the CPU renderer used before this header existed (its pixels are unchanged).
FG_HD inline V3 ViewVertex(const ViewParams& vp, const V3& p) {
  const V3 d = Sub(p, vp.pivot);
  const float* r = vp.rotation.m;
  return {r[0] * d[0] + (r[1] * d[1] + r[2] * d[2]), r[3] * d[0] + (r[4] * d[1] + r[5] * d[2]),
          r[6] * d[0] + (r[7] * d[1] + r[8] * d[2])};
}
FG_HD inline V2 ScreenXY(const ViewParams& vp, const V3& v) {
  return {vp.cx + vp.scale * v[0], vp.cy - vp.scale * v[1]};
}
FG_HD inline float Depth(const ViewParams& vp, const V3& v) { return -vp.scale * v[2]; }

// The lighting of rasterizer.h: l is the unit direction towards the light.
struct LightParams {
  V3 l;
  float ambient, diffuse;
};

// Lambert term, two-sided: a normal facing away from the viewer (z < 0) is flipped.
FG_HD inline float Lambert(V3 n, const LightParams& light) {
  if (n[2] < 0) n = {-n[0], -n[1], -n[2]};
  const float d = MaxF(0.0f, n[0] * light.l[0] + n[1] * light.l[1] + n[2] * light.l[2]);
  return light.ambient + light.diffuse * d;
}

// A triangle's normal (twice its area long), turned towards the viewer: kLit sums these per
// vertex so that meshes of either winding (or mixed) get smooth normals.
FG_HD inline V3 OrientedFaceNormal(const V3& a, const V3& b, const V3& c) {
  V3 fn = Cross(Sub(b, a), Sub(c, a));
  if (fn[2] < 0) fn = {-fn[0], -fn[1], -fn[2]};
  return fn;
}
// kFlat: one intensity per triangle.
FG_HD inline float FlatIntensity(const V3& a, const V3& b, const V3& c, const LightParams& light) {
  return Lambert(Normalize(Cross(Sub(b, a), Sub(c, a))), light);
}
// kLit, one vertex: the Lambert term of its summed normal. `tris` are the vertex's triangles in
// drawing order, once per occurrence of the vertex (the CPU adds each valid triangle's normal
// to its three corners in drawing order: the same additions in the same order).
FG_HD inline float VertexIntensity(const V3* view, const int* triangles, const int* tris, int count,
                                   const LightParams& light) {
  V3 n{0, 0, 0};
  for (int k = 0; k < count; ++k) {
    const int* t = triangles + 3 * tris[k];
    const V3 fn = OrientedFaceNormal(view[t[0]], view[t[1]], view[t[2]]);
    for (int c = 0; c < 3; ++c) n[c] += fn[c];
  }
  return Lambert(Normalize(n), light);
}

// ---- triangle setup and coverage (the rule of triangle.h) ----

// A triangle in 1/256-pixel integers: edge i (opposite vertex i) has the value
// row[i] + (x - px0) dx[i] + (y - py0) dy[i] at the centre of pixel (x, y); the centre is
// inside when every value + bias[i] >= 0. px0..px1 x py0..py1: the pixel centres of the
// triangle's box, clipped to the target.
struct Edges {
  int64_t row[3], dx[3], dy[3], bias[3];
  float inv_area;
  int px0, px1, py0, py1;
  bool swapped;  // b and c were swapped to make the area positive (weights swapped back)
};

FG_HD inline int64_t Snap(float v) {
  constexpr float kOne = static_cast<float>(1 << kSubBits);
  constexpr float kLimit = static_cast<float>(1 << 20);
  if (!(v == v)) v = -kLimit;  // NaN: far outside
  v = ClampF(v, -kLimit, kLimit);
  return static_cast<int64_t>(llroundf(v * kOne));
}
FG_HD inline int64_t CeilDiv(int64_t n, int64_t d) { return n >= 0 ? (n + d - 1) / d : -((-n) / d); }
FG_HD inline int64_t FloorDiv(int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); }

// False when the triangle covers no pixel centre of the width x height target (degenerate, or
// its box misses the target).
FG_HD inline bool SetupTriangle(const V2& a, const V2& b, const V2& c, int width, int height, Edges* e) {
  int64_t x0 = Snap(a[0]), y0 = Snap(a[1]), x1 = Snap(b[0]), y1 = Snap(b[1]), x2 = Snap(c[0]), y2 = Snap(c[1]);
  // E(a, b, p) = (b.x - a.x)(p.y - a.y) - (b.y - a.y)(p.x - a.x)
  int64_t area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
  if (area == 0) return false;
  e->swapped = false;
  if (area < 0) {  // make it positive: swap b and c (and their weights back in Weights)
    int64_t t = x1;
    x1 = x2, x2 = t;
    t = y1, y1 = y2, y2 = t;
    area = -area;
    e->swapped = true;
  }
  constexpr int64_t kHalf = int64_t{1} << (kSubBits - 1);
  constexpr int64_t kPx = int64_t{1} << kSubBits;
  // Pixel centres inside the box: x*256 + 128 >= min_x  <=>  x >= (min_x - 128) / 256.
  const int64_t bx0 = CeilDiv(Min3(x0, x1, x2) - kHalf, kPx), bx1 = FloorDiv(Max3(x0, x1, x2) - kHalf, kPx);
  const int64_t by0 = CeilDiv(Min3(y0, y1, y2) - kHalf, kPx), by1 = FloorDiv(Max3(y0, y1, y2) - kHalf, kPx);
  e->px0 = static_cast<int>(bx0 < 0 ? 0 : bx0);
  e->px1 = static_cast<int>(bx1 < width - 1 ? bx1 : width - 1);
  e->py0 = static_cast<int>(by0 < 0 ? 0 : by0);
  e->py1 = static_cast<int>(by1 < height - 1 ? by1 : height - 1);
  if (e->px0 > e->px1 || e->py0 > e->py1) return false;
  // Edge i is opposite vertex i: e0 = (v1, v2), e1 = (v2, v0), e2 = (v0, v1). Top-left rule:
  // a centre on a top edge (horizontal, the triangle below it) or a left edge is inside.
  const int64_t ax[3] = {x1, x2, x0}, ay[3] = {y1, y2, y0}, bx[3] = {x2, x0, x1}, by[3] = {y2, y0, y1};
  const int64_t sx = int64_t{e->px0} * kPx + kHalf, sy = int64_t{e->py0} * kPx + kHalf;
  for (int i = 0; i < 3; ++i) {
    const bool top = ay[i] == by[i] && bx[i] > ax[i];
    const bool left = by[i] < ay[i];
    e->bias[i] = (top || left) ? 0 : -1;
    e->row[i] = (bx[i] - ax[i]) * (sy - ay[i]) - (by[i] - ay[i]) * (sx - ax[i]);
    e->dx[i] = -(by[i] - ay[i]) * kPx;
    e->dy[i] = (bx[i] - ax[i]) * kPx;
  }
  e->inv_area = 1.0f / static_cast<float>(area);
  return true;
}

FG_HD inline bool Inside(const Edges& e, int64_t w0, int64_t w1, int64_t w2) {
  return (w0 + e.bias[0]) >= 0 && (w1 + e.bias[1]) >= 0 && (w2 + e.bias[2]) >= 0;
}
// The weights of the triangle's vertices a, b, c (as passed to SetupTriangle) at a centre with
// edge values w0, w1, w2: l[0] + l[1] + l[2] = 1.
FG_HD inline void Weights(const Edges& e, int64_t w0, int64_t w1, float l[3]) {
  const float l0 = static_cast<float>(w0) * e.inv_area;
  const float l1 = static_cast<float>(w1) * e.inv_area;
  const float l2 = 1.0f - l0 - l1;
  l[0] = l0;
  l[1] = e.swapped ? l2 : l1;
  l[2] = e.swapped ? l1 : l2;
}
// One pixel evaluated directly (the device's way; the CPU steps the same integers row by row):
// false when (x, y) is outside the triangle or its box.
FG_HD inline bool PixelWeights(const Edges& e, int x, int y, float l[3]) {
  if (x < e.px0 || x > e.px1 || y < e.py0 || y > e.py1) return false;
  const int64_t dx = x - e.px0, dy = y - e.py0;
  const int64_t w0 = e.row[0] + dx * e.dx[0] + dy * e.dy[0];
  const int64_t w1 = e.row[1] + dx * e.dx[1] + dy * e.dy[1];
  const int64_t w2 = e.row[2] + dx * e.dx[2] + dy * e.dy[2];
  if (!Inside(e, w0, w1, w2)) return false;
  Weights(e, w0, w1, l);
  return true;
}

FG_HD inline float Interp(const float l[3], float a, float b, float c) { return l[0] * a + l[1] * b + l[2] * c; }

// ---- depth keys (pass 1) ----

// True for the depths the CPU's `z < depth` can ever accept (not NaN, not +inf).
FG_HD inline bool Drawable(float z) { return z < INFINITY; }

FG_HD inline uint32_t FloatBits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}
FG_HD inline float BitsFloat(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}
// Unsigned order = float order (for non-NaN z; -0 is +0).
FG_HD inline uint64_t DepthKey(float z, uint32_t triangle) {
  const uint32_t b = FloatBits(z == 0.0f ? 0.0f : z);
  const uint32_t ordered = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return (static_cast<uint64_t>(ordered) << 32) | triangle;
}
FG_HD inline float KeyDepth(uint64_t key) {
  if (key == kEmptyKey) return INFINITY;
  const uint32_t o = static_cast<uint32_t>(key >> 32);
  return BitsFloat((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}
FG_HD inline uint32_t KeyTriangle(uint64_t key) { return static_cast<uint32_t>(key); }

// Pass 1 for one lane of the warp of one triangle: the lane takes the box's pixels
// lane, lane + lanes, ... (row-major) and offers DepthKey(z, key_triangle) to each covered one
// through atomic_min(index, key) (atomicMin on the device, a plain min in the emulation).
template <typename AtomicMin>
FG_HD inline void DepthLanes(const Edges& e, const float z[3], uint32_t key_triangle, int width, int lane,
                             int lanes, AtomicMin&& atomic_min) {
  const int bw = e.px1 - e.px0 + 1;
  const int n = bw * (e.py1 - e.py0 + 1);
  for (int i = lane; i < n; i += lanes) {
    const int x = e.px0 + i % bw, y = e.py0 + i / bw;
    float l[3];
    if (!PixelWeights(e, x, y, l)) continue;
    const float d = Interp(l, z[0], z[1], z[2]);
    if (Drawable(d)) atomic_min(static_cast<size_t>(y) * width + x, DepthKey(d, key_triangle));
  }
}

// ---- shading ----

FG_HD inline uint8_t Shade(float c, float k) {
  const float v = c * k + 0.5f;
  return static_cast<uint8_t>(v >= 255.f ? 255.f : (v <= 0.f ? 0.f : v));
}

// Bilinear RGB of an RGBA8 texture (rows packed) at (u, v) in [0,1] (clamped), texel centres
// at ((i + 0.5) / width, ...); white for an empty texture.
FG_HD inline V3 SampleTexture(const uint8_t* rgba, int width, int height, float u, float v) {
  if (width <= 0 || height <= 0) return {255, 255, 255};
  float x = u * width - 0.5f, y = v * height - 0.5f;
  x = ClampF(x, 0.0f, static_cast<float>(width - 1));
  y = ClampF(y, 0.0f, static_cast<float>(height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = MinI(x0 + 1, width - 1), y1 = MinI(y0 + 1, height - 1);
  const float fx = x - x0, fy = y - y0;
  const uint8_t* a = &rgba[(static_cast<size_t>(y0) * width + x0) * 4];
  const uint8_t* b = &rgba[(static_cast<size_t>(y0) * width + x1) * 4];
  const uint8_t* c = &rgba[(static_cast<size_t>(y1) * width + x0) * 4];
  const uint8_t* d = &rgba[(static_cast<size_t>(y1) * width + x1) * 4];
  V3 out;
  for (int k = 0; k < 3; ++k) {
    const float top = a[k] + (b[k] - a[k]) * fx;
    const float bot = c[k] + (d[k] - c[k]) * fx;
    out[k] = top + (bot - top) * fy;
  }
  return out;
}

// What pass 2 needs of a drawn triangle (the rasterizer's).
struct ShadeTri {
  int v[3];     // vertex indices (UVs)
  float k[3];   // lighting per vertex (kFlat: three times the triangle's)
};
// A texture in RGBA8, rows packed (empty: white).
struct TextureParams {
  const uint8_t* rgba;
  int width, height;
};

// The colour of a pixel with weights l of triangle t: base (or, when `uvs` is given, the texel
// of `tex` at the interpolated UV) times the interpolated lighting; alpha 255.
FG_HD inline void ShadePixel(const ShadeTri& t, const float l[3], const V3& base, const TextureParams& tex,
                             const V2* uvs, uint8_t* out) {
  const float k = Interp(l, t.k[0], t.k[1], t.k[2]);
  V3 c = base;
  if (uvs) {
    const V2& a = uvs[t.v[0]];
    const V2& b = uvs[t.v[1]];
    const V2& d = uvs[t.v[2]];
    c = SampleTexture(tex.rgba, tex.width, tex.height, Interp(l, a[0], b[0], d[0]), Interp(l, a[1], b[1], d[1]));
  }
  out[0] = Shade(c[0], k);
  out[1] = Shade(c[1], k);
  out[2] = Shade(c[2], k);
  out[3] = 255;
}

// Bilinear mix of four 8-bit values, rounded.
FG_HD inline uint8_t Mix(int pa, int pb, int pc, int pd, float fx, float fy) {
  const float top = pa + (pb - pa) * fx;
  const float bot = pc + (pd - pc) * fx;
  return static_cast<uint8_t>(top + (bot - top) * fy + 0.5f);
}

// The warp's sample: bilinear RGB at continuous frame position (x, y) (pixel centres at
// integer + 0.5), clamped to the frame, rounded; alpha 255.
template <PixelFormat F>
FG_HD inline void SampleRgb(const ImageView& src, float x, float y, uint8_t* out) {
  x = ClampF(x - 0.5f, 0.0f, static_cast<float>(src.width - 1));
  y = ClampF(y - 0.5f, 0.0f, static_cast<float>(src.height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = MinI(x0 + 1, src.width - 1), y1 = MinI(y0 + 1, src.height - 1);
  const float fx = x - x0, fy = y - y0;
  const Rgb8 a = src.AtAs<F>(x0, y0), b = src.AtAs<F>(x1, y0), c = src.AtAs<F>(x0, y1), d = src.AtAs<F>(x1, y1);
  out[0] = Mix(a.r, b.r, c.r, d.r, fx, fy);
  out[1] = Mix(a.g, b.g, c.g, d.g, fx, fy);
  out[2] = Mix(a.b, b.b, c.b, d.b, fx, fy);
  out[3] = 255;
}

// The warp, one pixel with weights l of the target triangle whose source corners are s0, s1,
// s2 (frame px): the source frame at the same weights.
template <PixelFormat F>
FG_HD inline void WarpSample(const ImageView& src, const float l[3], const V3& s0, const V3& s1, const V3& s2,
                             uint8_t* out) {
  SampleRgb<F>(src, Interp(l, s0[0], s1[0], s2[0]), Interp(l, s0[1], s1[1], s2[1]), out);
}
// A target landmark in the warp's box (whose top-left is frame pixel (bx, by)).
FG_HD inline V2 WarpXY(const V3& d, int bx, int by) { return {d[0] - bx, d[1] - by}; }

// ---- the warp's region (host only) ----

// The face warp's working box: the target landmarks' box, clipped to the w x h frame
// (x0 <= x < x1, y0 <= y < y1: the only pixels a warp can change). False when it is empty.
struct Box {
  int x0, y0, x1, y1;
};
inline bool WarpBox(const std::array<float, 3>* target, size_t n, int w, int h, Box* box) {
  float lo_x = INFINITY, lo_y = lo_x, hi_x = -lo_x, hi_y = -lo_x;
  for (size_t i = 0; i < n; ++i) {
    const auto& p = target[i];
    if (!isfinite(p[0]) || !isfinite(p[1])) continue;
    lo_x = MinF(lo_x, p[0]), hi_x = MaxF(hi_x, p[0]);
    lo_y = MinF(lo_y, p[1]), hi_y = MaxF(hi_y, p[1]);
  }
  if (!(lo_x <= hi_x)) return false;
  box->x0 = static_cast<int>(floorf(MaxF(lo_x, -1e6f)));
  box->y0 = static_cast<int>(floorf(MaxF(lo_y, -1e6f)));
  box->x0 = box->x0 < 0 ? 0 : box->x0;
  box->y0 = box->y0 < 0 ? 0 : box->y0;
  box->x1 = MinI(w, static_cast<int>(ceilf(MinF(hi_x, 1e6f))) + 1);
  box->y1 = MinI(h, static_cast<int>(ceilf(MinF(hi_y, 1e6f))) + 1);
  return box->x1 > box->x0 && box->y1 > box->y0;
}

// ---- composition (composite.cc WriteRgba, one output pixel / chroma block at a time) ----

FG_HD inline uint8_t Luma601Limited(int r, int g, int b) {
  return detail::Clamp8(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
}
FG_HD inline uint8_t U601(int r, int g, int b) { return detail::Clamp8(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128); }
FG_HD inline uint8_t V601(int r, int g, int b) { return detail::Clamp8(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128); }

// RGBA pixel s (alpha != 0) into column x of row d of a packed RGB or grey format: R, G, B
// at the offsets of the format's row in kPixelFormats, an alpha byte opaque, a padding byte
// (RGBx, xRGB, ...) untouched.
template <PixelFormat F>
FG_HD inline void WritePackedPixel(const uint8_t* s, uint8_t* d, int x) {
  constexpr PixelFormatInfo I = kFormat<F>;
  uint8_t* p = d + I.bpp * x;
  if constexpr (I.layout == PixelLayout::kPackedRgb) {
    p[I.r] = s[0], p[I.g] = s[1], p[I.b] = s[2];
    if constexpr (I.alpha) p[I.x] = 255;
  } else {  // GRAY8, full-range luma as draw::Pen
    static_assert(I.layout == PixelLayout::kGray, "WritePackedPixel: packed RGB or grey only");
    p[0] = static_cast<uint8_t>((77 * s[0] + 150 * s[1] + 29 * s[2] + 128) >> 8);
  }
}

// Where an RGBA panel lands in a frame: frame columns x0..x0+w-1, rows y0..y0+h-1 take panel
// pixel (sx0 + x - x0, sy0 + y - y0). Empty (w or h <= 0) when the panel misses the frame.
struct CompositeRect {
  int x0, y0, sx0, sy0, w, h;
};
FG_HD inline CompositeRect ClipComposite(int panel_w, int panel_h, int frame_w, int frame_h, int x, int y) {
  CompositeRect r;
  r.sx0 = x < 0 ? -x : 0;
  r.sy0 = y < 0 ? -y : 0;
  r.x0 = x + r.sx0;
  r.y0 = y + r.sy0;
  r.w = MinI(panel_w - r.sx0, frame_w - r.x0);
  r.h = MinI(panel_h - r.sy0, frame_h - r.y0);
  return r;
}

// U/V of a chroma block from the sums of its n (1..4) written pixels' colours, rounded to
// the nearest mean, into *u and *v (engine/pixel_format.h ChromaAddress).
FG_HD inline void WriteChroma(int r, int g, int b, int n, uint8_t* u, uint8_t* v) {
  if (n == 4) {  // the common case: no division
    r = (r + 2) >> 2, g = (g + 2) >> 2, b = (b + 2) >> 2;
  } else if (n == 2) {
    r = (r + 1) >> 1, g = (g + 1) >> 1, b = (b + 1) >> 1;
  } else if (n == 3) {
    r = (r + 1) / 3, g = (g + 1) / 3, b = (b + 1) / 3;
  }
  *u = U601(r, g, b);
  *v = V601(r, g, b);
}

// The chroma blocks (cx0..cx1, cy0..cy1) a composite rectangle touches in YUV format F.
struct BlockRange {
  int cx0, cx1, cy0, cy1;
};
template <PixelFormat F>
FG_HD inline BlockRange ChromaBlocks(const CompositeRect& r) {
  constexpr int kSx = kFormat<F>.sub_x, kSy = kFormat<F>.sub_y;
  return {r.x0 >> kSx, (r.x0 + r.w - 1) >> kSx, r.y0 >> kSy, (r.y0 + r.h - 1) >> kSy};
}

// YUV format F, chroma block (cx, cy) of the rectangle (a panel of row stride panel_w
// pixels): luma of each written pixel of the block (2x2 for 4:2:0, 2x1 for 4:2:2; the other
// pixels of the block keep theirs), U/V of their mean colour.
template <PixelFormat F>
FG_HD inline void WriteYuvBlock(const uint8_t* panel, int panel_w, const CompositeRect& r, int cx, int cy,
                                uint8_t* const planes[3], const int strides[3]) {
  constexpr int kBw = 1 << kFormat<F>.sub_x, kBh = 1 << kFormat<F>.sub_y;
  int sum[3] = {0, 0, 0}, n = 0;
  const int fx_begin = kBw * cx > r.x0 ? kBw * cx : r.x0, fx_end = MinI(kBw * cx + kBw, r.x0 + r.w);
  for (int k = 0; k < kBh; ++k) {
    const int fy = kBh * cy + k;
    if (fy < r.y0 || fy >= r.y0 + r.h) continue;
    const uint8_t* srow = panel + (static_cast<size_t>(r.sy0 + fy - r.y0) * panel_w) * 4;
    for (int fx = fx_begin; fx < fx_end; ++fx) {
      const uint8_t* p = srow + 4 * (r.sx0 + fx - r.x0);
      if (p[3] == 0) continue;
      *LumaAddress<F>(planes, strides, fx, fy) = Luma601Limited(p[0], p[1], p[2]);
      sum[0] += p[0], sum[1] += p[1], sum[2] += p[2], ++n;
    }
  }
  if (n == 0) return;
  uint8_t *u, *v;
  ChromaAddress<F>(planes, strides, cx, cy, &u, &v);
  WriteChroma(sum[0], sum[1], sum[2], n, u, v);
}

}  // namespace fg::render::raster_kernel
