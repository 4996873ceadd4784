#include "engine/render/face_features.h"

#include <algorithm>
#include <cmath>

#include "engine/render/mouth.h"

namespace fg::render {

namespace {

namespace rk = raster_kernel;
using P2 = std::array<float, 2>;

constexpr int kEyeL[] = {263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249};
constexpr int kEyeR[] = {33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7};
// Inner lip contour: upper half corner 78 -> corner 308, lower half 308 -> 78.
// The lower inner lip from corner 78 to corner 308 (kLower reversed): the seam's partner.
constexpr int kInnerLoSeam[] = {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308};
constexpr int kUpper[] = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308};
constexpr int kLower[] = {308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78};
constexpr float kDepthTolCm = 0.8f;
// How much a stroke darkens the skin at its middle at full intensity: a fine wrinkle (the
// forehead's lines, crow's feet) and a furrow or fold deep enough to hold a shadow (AU4's
// glabellar furrows, AU9's nose creases, the nasolabial furrow, AU15's corner fold).
constexpr float kFineLine = 0.22f;
constexpr float kFurrow = 0.4f;

template <size_t N>
bool Inside(const P2 (&poly)[N], float x, float y) {  // even-odd rule
  bool in = false;
  for (size_t i = 0, j = N - 1; i < N; j = i++) {
    const P2 &a = poly[i], &b = poly[j];
    if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0])
      in = !in;
  }
  return in;
}

void Put(RgbaImage& panel, int x, int y, const std::array<uint8_t, 3>& c, float a = 1) {
  uint8_t* p = panel.Row(y) + 4 * x;
  for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(p[k] + a * (c[k] - p[k]) + 0.5f);
  p[3] = 255;
}

// Height of a polyline (points sorted by t along the mouth axis) at t: linear, clamped.
template <size_t N>
float At(const P2 (&pts)[N], float t) {  // pts[k] = {t, s}
  if (t <= pts[0][0]) return pts[0][1];
  for (size_t k = 1; k < N; ++k)
    if (t <= pts[k][0]) {
      const float span = pts[k][0] - pts[k - 1][0];
      const float f = span > 1e-6f ? (t - pts[k - 1][0]) / span : 1.0f;
      return pts[k - 1][1] + f * (pts[k][1] - pts[k - 1][1]);
    }
  return pts[N - 1][1];
}

using V3 = std::array<float, 3>;

// z of the mesh's vertex nearest to (x, y) in the x-y plane (head frame): puts a wrinkle's
// points on the surface.
float SurfaceZ(std::span<const V3> m, float x, float y) {
  float best = 1e30f, z = 0;
  for (size_t i = 0; i < 468; ++i) {
    const float d = (m[i][0] - x) * (m[i][0] - x) + (m[i][1] - y) * (m[i][1] - y);
    if (d < best) best = d, z = m[i][2];
  }
  return z;
}

}  // namespace

Gaze GazeFromLandmarks(std::span<const std::array<float, 3>> lm) {
  Gaze g{};
  if (lm.size() < 478) return g;
  // Per eye: the corner at the image's left, the one at its right, the iris centre.
  const int eyes[2][3] = {{362, 263, 468}, {33, 133, 473}};
  for (int e = 0; e < 2; ++e) {
    const auto &a = lm[eyes[e][0]], &b = lm[eyes[e][1]], &c = lm[eyes[e][2]];
    const float ax = b[0] - a[0], ay = b[1] - a[1], len = std::hypot(ax, ay);
    if (!(len > 1e-3f) || !std::isfinite(c[0]) || !std::isfinite(c[1])) continue;
    const float ux = ax / len, uy = ay / len;  // along the eye, image right
    const float mx = c[0] - 0.5f * (a[0] + b[0]), my = c[1] - 0.5f * (a[1] + b[1]);
    const float half = 0.5f * len;
    // Image right is the subject's left (+x); perpendicular (ux, uy) turned to point down
    // the image is (-uy, ux): up = minus that.
    g[e].x = std::clamp((mx * ux + my * uy) / half, -0.6f, 0.6f);
    g[e].y = std::clamp(-(mx * -uy + my * ux) / half, -0.6f, 0.6f);
  }
  return g;
}

WrinkleDrive WrinkleDriveFromWeights(const BlendshapeBasis& basis, std::span<const float> weights) {
  auto w = [&](const char* name) {
    const int i = basis.Index(name);
    return i >= 0 && i < static_cast<int>(weights.size()) ? std::clamp(weights[i], 0.0f, 1.0f) : 0.0f;
  };
  auto pair = [&](const char* l, const char* r) { return 0.5f * (w(l) + w(r)); };
  WrinkleDrive d;
  d.au1 = w("browInnerUp");
  d.au2 = pair("browOuterUpLeft", "browOuterUpRight");
  d.au4 = pair("browDownLeft", "browDownRight");
  d.au6 = pair("cheekSquintLeft", "cheekSquintRight");
  d.au9 = pair("noseSneerLeft", "noseSneerRight");
  d.au10 = pair("mouthUpperUpLeft", "mouthUpperUpRight");
  d.au12 = pair("mouthSmileLeft", "mouthSmileRight");
  d.au15 = pair("mouthFrownLeft", "mouthFrownRight");
  d.au23 = pair("mouthPressLeft", "mouthPressRight");
  return d;
}

void ApplyBrowCorrective(const BlendshapeBasis& basis, std::span<const float> weights,
                         std::span<std::array<float, 3>> mesh) {
  const int inner = basis.Index("browInnerUp");
  if (inner < 0 || inner >= static_cast<int>(weights.size()) ||
      mesh.size() < static_cast<size_t>(basis.vertex_count()))
    return;
  const float w1 = std::clamp(weights[inner], 0.0f, 1.0f);
  if (w1 <= 0) return;
  const auto& d1 = basis.Delta(inner);
  float most = 0;
  for (const auto& d : d1) most = std::max(most, std::hypot(d[0], d[1], d[2]));
  if (!(most > 0)) return;
  for (const char* name : {"browDownLeft", "browDownRight"}) {
    const int k = basis.Index(name);
    if (k < 0 || k >= static_cast<int>(weights.size())) continue;
    const float c = std::min(w1, std::clamp(weights[k], 0.0f, 1.0f));
    if (c <= 0) continue;
    const auto& d4 = basis.Delta(k);
    for (int v = 0; v < basis.vertex_count(); ++v) {
      if (!(d4[v][1] < 0)) continue;  // only the downward pull is given back
      const float share = std::hypot(d1[v][0], d1[v][1], d1[v][2]) / most;
      mesh[v][1] -= 0.6f * c * share * d4[v][1];
    }
  }
}

void DrawFaceFeatures(const Rasterizer& raster, std::span<const std::array<float, 3>> morphed,
                      std::span<const std::array<float, 3>> neutral,
                      const Eigen::Matrix3f& rotation, const Camera& camera, const Gaze& gaze,
                      RgbaImage& panel, const WrinkleDrive* drive) {
  if (morphed.size() < 468 || neutral.size() < 468 || panel.width != raster.image().width ||
      panel.height != raster.image().height || panel.width <= 0)
    return;
  const rk::ViewParams vp = ToViewParams(rotation, camera);
  auto screen = [&](const std::array<float, 3>& p, float* depth) {
    const rk::V3 v = rk::ViewVertex(vp, p);
    if (depth) *depth = rk::Depth(vp, v);
    const rk::V2 s = rk::ScreenXY(vp, v);
    return P2{s[0], s[1]};
  };
  const float tol = kDepthTolCm * camera.scale;
  auto visible = [&](int x, int y, float depth) {
    const float d = raster.depth(x, y);
    return std::isfinite(d) && std::abs(d - depth) <= tol;
  };
  const int w = panel.width, h = panel.height;

  // Wrinkles and furrows (FACS's appearance changes, which a smooth avatar cannot show by
  // its geometry), each where FACS puts it and as strong as its AU: a faint soft dark line
  // (darkening up to 22 %, 0.07 cm wide, softened over 0.1 cm) through points on the
  // surface. Nothing is drawn at rest (every intensity 0).
  auto stroke = [&](const V3* pts, int n, float intensity, float width_cm = 0.07f,
                    float soft_cm = 0.1f, float darkest = kFineLine) {
    if (!(intensity > 0.02f)) return;
    intensity = std::min(intensity, 1.0f);
    P2 s[12];
    float z[12];
    float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
    for (int k = 0; k < n; ++k) {
      s[k] = screen(pts[k], &z[k]);
      x0 = std::min(x0, s[k][0]), x1 = std::max(x1, s[k][0]);
      y0 = std::min(y0, s[k][1]), y1 = std::max(y1, s[k][1]);
    }
    const float half = 0.5f * width_cm * camera.scale, soft = soft_cm * camera.scale + 0.75f;
    const int ix0 = std::max(0, static_cast<int>(x0 - half - soft) - 1);
    const int ix1 = std::min(w - 1, static_cast<int>(x1 + half + soft) + 1);
    const int iy0 = std::max(0, static_cast<int>(y0 - half - soft) - 1);
    const int iy1 = std::min(h - 1, static_cast<int>(y1 + half + soft) + 1);
    for (int y = iy0; y <= iy1; ++y)
      for (int x = ix0; x <= ix1; ++x) {
        const float px = x + 0.5f, py = y + 0.5f;
        float best = 1e9f, depth = 0;
        for (int k = 0; k + 1 < n; ++k) {
          const float dx = s[k + 1][0] - s[k][0], dy = s[k + 1][1] - s[k][1];
          const float t = std::clamp(((px - s[k][0]) * dx + (py - s[k][1]) * dy) /
                                         std::max(1e-6f, dx * dx + dy * dy),
                                     0.0f, 1.0f);
          const float d = std::hypot(px - s[k][0] - t * dx, py - s[k][1] - t * dy);
          if (d < best) best = d, depth = z[k] + t * (z[k + 1] - z[k]);
        }
        const float a = std::clamp(1 - (best - half) / soft, 0.0f, 1.0f) * intensity;
        if (a <= 0 || !visible(x, y, depth)) continue;
        uint8_t* p = panel.Row(y) + 4 * x;
        for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(p[c] * (1 - darkest * a) + 0.5f);
      }
  };
  auto on_surface = [&](float x, float y) { return V3{x, y, SurfaceZ(morphed, x, y) + 0.02f}; };
  const auto& m = morphed;
  const auto& n0 = neutral;
  WrinkleDrive au;
  if (drive) {
    au = *drive;
  } else {  // from the mesh's own motion
    auto unit = [](float v, float full) { return std::clamp(v / full, 0.0f, 1.0f); };
    au.au4 = unit(0.5f * ((n0[336][0] - m[336][0]) + (m[107][0] - n0[107][0])), 0.4f);
    au.au1 = unit(0.5f * ((m[336][1] - n0[336][1]) + (m[107][1] - n0[107][1])), 0.8f);
    au.au2 = unit(0.5f * ((m[300][1] - n0[300][1]) + (m[70][1] - n0[70][1])), 0.8f);
    au.au9 = unit(0.5f * ((m[327][1] - n0[327][1]) + (m[98][1] - n0[98][1])), 0.45f);
    au.au6 = unit(0.5f * ((m[348][1] - n0[348][1]) + (m[119][1] - n0[119][1])), 0.5f);
    float up = 0;
    for (int corner : {291, 61})
      if (m[corner][1] > n0[corner][1])
        up += 0.5f * std::hypot(m[corner][0] - n0[corner][0], m[corner][1] - n0[corner][1]);
    au.au12 = unit(up, 0.97f);
    float down = 0;
    for (int corner : {291, 61}) down += 0.5f * std::max(0.0f, n0[corner][1] - m[corner][1]);
    au.au15 = unit(down, 0.5f);
  }
  // AU4: two short vertical furrows between the brows.
  for (float side : {-1.0f, 1.0f}) {
    const float cx = 0.5f * (m[336][0] + m[107][0]), cy = m[9][1];
    const V3 line[3] = {on_surface(cx + side * 0.2f, cy + 0.45f), on_surface(cx + side * 0.24f, cy),
                        on_surface(cx + side * 0.3f, cy - 0.4f)};
    stroke(line, 3, 0.8f * au.au4, 0.08f, 0.1f, kFurrow);
  }
  // AU4: the oblique bulge above each inner brow (FACS: "may produce an oblique wrinkle or
  // muscle bulge running up from the inner corner of the brow"): a soft fold from the inner
  // brow's upper edge up and in, at 45 degrees.
  for (int inner : {336, 107}) {
    const float sx = m[inner][0] > 0 ? 1.0f : -1.0f, x = m[inner][0], y = m[inner][1] + 0.15f;
    const V3 line[2] = {on_surface(x + sx * 0.15f, y), on_surface(x - sx * 0.3f, y + 0.45f)};
    stroke(line, 2, 0.7f * au.au4, 0.08f, 0.12f, kFurrow);
  }
  // AU1 / AU2: horizontal forehead lines; AU1's in the middle (|x| < 1.7 cm), AU2's over
  // the outer thirds (1.3 .. 3.2 cm out), both following the brows' height. With AU4 the
  // outer lines fade (Ekman & Friesen on fear's 1+2+4: the wrinkles are in the centre, not
  // across the entire forehead).
  for (float above : {1.0f, 1.5f, 2.0f}) {
    const float base = 0.5f * (m[334][1] + m[105][1]) + above;
    V3 mid[7];
    for (int k = 0; k < 7; ++k) {
      const float x = -1.5f + 0.5f * k;
      mid[k] = on_surface(x, base + 0.12f * (1 - (x / 2.4f) * (x / 2.4f)));
    }
    stroke(mid, 7, 0.7f * au.au1);
    for (float side : {-1.0f, 1.0f}) {
      V3 outer[5];
      for (int k = 0; k < 5; ++k) {
        const float x = side * (1.3f + 0.45f * k);
        outer[k] = on_surface(x, base - 0.08f * k + 0.12f * (1 - (x / 2.4f) * (x / 2.4f)));
      }
      stroke(outer, 5, 0.7f * au.au2 * (1 - au.au4));
    }
  }
  // AU9: creases across the root of the nose.
  for (int mark : {6, 197}) {
    const V3 line[3] = {on_surface(-0.5f, m[mark][1] + 0.05f), on_surface(0, m[mark][1] - 0.05f),
                        on_surface(0.5f, m[mark][1] + 0.05f)};
    stroke(line, 3, 0.8f * au.au9, 0.07f, 0.1f, kFurrow);
  }
  for (int side = 0; side < 2; ++side) {
    const float sx = side == 0 ? 1.0f : -1.0f;
    // AU12 (AU9 and AU10 its upper part): the nasolabial furrow, from beside the nose wing
    // bowing out past the lip corner: a broad soft crease.
    const int wing = side == 0 ? 327 : 98, corner = side == 0 ? 291 : 61;
    const float wx = m[wing][0] + sx * 0.3f, wy = m[wing][1];
    const float cx = m[corner][0] + sx * 0.35f, cy = m[corner][1] - 0.1f;
    V3 fold[8];
    for (int k = 0; k < 8; ++k) {
      const float t = k / 7.0f, bulge = 4 * t * (1 - t) * 0.25f;
      fold[k] = on_surface(wx + t * (cx - wx) + sx * bulge, wy + t * (cy - wy));
    }
    stroke(fold, 8, 0.8f * au.au12, 0.12f, 0.2f, kFurrow);
    stroke(fold, 4, 0.8f * std::max(au.au9, au.au10), 0.12f, 0.2f, kFurrow);
    // AU15 (and AU16): the corner pulled down folds the skin below and beside it: a short
    // soft crease from 0.3 cm beside the corner down and out.
    {
      const float fx = m[corner][0] + sx * 0.3f, fy = m[corner][1] - 0.1f;
      const V3 line[3] = {on_surface(fx, fy), on_surface(fx + sx * 0.12f, fy - 0.45f),
                          on_surface(fx + sx * 0.2f, fy - 0.9f)};
      stroke(line, 3, 0.7f * au.au15, 0.1f, 0.15f, kFurrow);
      // The lip line angled down at the corner (FACS AU15: "the lip line angles down at
      // the corners"): the dark line between the lips carried on from the corner, down
      // and out, as the pulled-down corner shows it in a photograph.
      const float lx = m[corner][0], ly = m[corner][1];
      const V3 angle[3] = {on_surface(lx - sx * 0.05f, ly + 0.02f),
                           on_surface(lx + sx * 0.2f, ly - 0.12f),
                           on_surface(lx + sx * 0.38f, ly - 0.32f)};
      stroke(angle, 3, au.au15, 0.08f, 0.08f, kFurrow);
    }
    // AU9: wrinkles along the side of the nose, slanting down and out from its root.
    {
      const float nx = m[6][0] + sx * 0.45f, ny = m[6][1] - 0.2f;
      const V3 line[3] = {on_surface(nx, ny), on_surface(nx + sx * 0.15f, ny - 0.35f),
                          on_surface(nx + sx * 0.35f, ny - 0.7f)};
      stroke(line, 3, 0.8f * au.au9, 0.07f, 0.1f, kFurrow);
    }
    // AU6: crow's feet, three short lines fanning out from 0.3 cm beyond the outer eye
    // corner, and the furrow below the lower lid.
    const int outer = side == 0 ? 263 : 33, low = side == 0 ? 374 : 145;
    for (float angle : {-0.45f, 0.0f, 0.45f}) {
      const float ca = std::cos(angle), sa = std::sin(angle);
      const float ox = m[outer][0] + sx * 0.3f, oy = m[outer][1];
      const V3 line[2] = {on_surface(ox + sx * 0.1f * ca, oy + 0.1f * sa),
                          on_surface(ox + sx * 0.6f * ca, oy + 0.6f * sa)};
      stroke(line, 2, 0.7f * au.au6);
    }
    V3 under[5];
    for (int k = 0; k < 5; ++k) {
      const float t = k / 4.0f;
      const float x = m[low][0] + sx * (-0.5f + 1.3f * t);
      under[k] = on_surface(x, m[low][1] - 0.45f - 0.15f * std::sin(3.14159f * t) + 0.25f * t);
    }
    stroke(under, 5, 0.5f * au.au6);
  }

  // Brow shadow: per eye, the band between the brow's lower edge (outer -> inner) and the
  // upper lid (inner -> outer), darkened by how far the brow came down towards the lid.
  {
    constexpr int kBrowLowL[] = {276, 283, 282, 295, 285}, kBrowLowR[] = {46, 53, 52, 65, 55};
    constexpr int kLidL[] = {362, 398, 384, 385, 386, 387, 388, 466, 263};
    constexpr int kLidR[] = {133, 173, 157, 158, 159, 160, 161, 246, 33};
    for (int e = 0; e < 2; ++e) {
      const int* brow = e == 0 ? kBrowLowL : kBrowLowR;
      const int* lid = e == 0 ? kLidL : kLidR;
      float now = 0, rest = 0;
      for (int k = 0; k < 5; ++k) {
        const int l = lid[2 * k];
        now += (m[brow[k]][1] - m[l][1]) / 5, rest += (n0[brow[k]][1] - n0[l][1]) / 5;
      }
      const float shade = 0.35f * std::clamp((rest - now) / 0.5f, 0.0f, 1.0f);
      if (shade <= 0.01f) continue;
      P2 band[14];
      float zb = 0;
      for (int k = 0; k < 5; ++k) {
        float z;
        band[k] = screen(m[brow[k]], &z);
        zb += z / 14;
      }
      for (int k = 0; k < 9; ++k) {
        float z;
        band[5 + k] = screen(m[lid[k]], &z);
        zb += z / 14;
      }
      float bx0 = 1e9f, by0 = 1e9f, bx1 = -1e9f, by1 = -1e9f;
      for (const P2& p : band)
        bx0 = std::min(bx0, p[0]), by0 = std::min(by0, p[1]), bx1 = std::max(bx1, p[0]),
        by1 = std::max(by1, p[1]);
      const int x0 = std::max(0, static_cast<int>(bx0)), x1 = std::min(w - 1, static_cast<int>(bx1) + 1);
      const int y0 = std::max(0, static_cast<int>(by0)), y1 = std::min(h - 1, static_cast<int>(by1) + 1);
      const float span = std::max(1.0f, by1 - by0);
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
          // One sample per pixel: the band's edges lie under the brow's and the lashes' dark
          // paint, and the shade is soft (at most 35 %).
          if (!Inside(band, x + 0.5f, y + 0.5f) || !visible(x, y, zb)) continue;
          // Most under the brow, half as much at the lid.
          const float a = shade * (1.0f - 0.5f * (y + 0.5f - by0) / span);
          uint8_t* p = panel.Row(y) + 4 * x;
          for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(p[c] * (1 - a) + 0.5f);
        }
    }
  }

  // AU23 / AU24 (mouthPress): the lips tightened and pressed narrow their red parts (the
  // vermilion rolls in), which the mesh's lips, moved as a whole, do not show: the outer
  // part of each lip's red (up to 45 % of its height at full intensity) takes the skin's
  // colour from just outside the lip.
  if (au.au23 > 0.02f) {
    constexpr int kOuterUp[] = {61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291};
    constexpr int kOuterLo[] = {61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291};
    constexpr int kInnerLo[] = {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308};
    const float f = 0.45f * std::min(au.au23, 1.0f);
    for (int lip = 0; lip < 2; ++lip) {
      const int* outer = lip == 0 ? kOuterUp : kOuterLo;
      const int* inner = lip == 0 ? kUpper : kInnerLo;
      P2 band[22], skin_at[11];
      float zl = 0;
      for (int k = 0; k < 11; ++k) {
        float z;
        const P2 o = screen(m[outer[k]], &z);
        zl += z / 11;
        const P2 i = screen(m[inner[k]], nullptr);
        band[k] = o;
        band[21 - k] = {o[0] + f * (i[0] - o[0]), o[1] + f * (i[1] - o[1])};
        // The skin just outside the lip: 0.2 cm beyond the outer contour, away from the inner.
        const float dx = o[0] - i[0], dy = o[1] - i[1], len = std::max(1e-3f, std::hypot(dx, dy));
        skin_at[k] = {o[0] + 0.2f * camera.scale * dx / len, o[1] + 0.2f * camera.scale * dy / len};
      }
      float bx0 = 1e9f, by0 = 1e9f, bx1 = -1e9f, by1 = -1e9f;
      for (const P2& p : band)
        bx0 = std::min(bx0, p[0]), by0 = std::min(by0, p[1]), bx1 = std::max(bx1, p[0]),
        by1 = std::max(by1, p[1]);
      const int x0 = std::max(0, static_cast<int>(bx0)), x1 = std::min(w - 1, static_cast<int>(bx1) + 1);
      const int y0 = std::max(0, static_cast<int>(by0)), y1 = std::min(h - 1, static_cast<int>(by1) + 1);
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
          if (!Inside(band, x + 0.5f, y + 0.5f) || !visible(x, y, zl)) continue;
          // The skin sample of the nearest contour point (in x).
          int best = 0;
          for (int k = 1; k < 11; ++k)
            if (std::abs(band[k][0] - x) < std::abs(band[best][0] - x)) best = k;
          const int sx = std::clamp(static_cast<int>(skin_at[best][0]), 0, w - 1);
          const int sy = std::clamp(static_cast<int>(skin_at[best][1]), 0, h - 1);
          const uint8_t* src = raster.image().Row(sy) + 4 * sx;
          uint8_t* p = panel.Row(y) + 4 * x;
          for (int c = 0; c < 3; ++c) p[c] = src[c];
        }
    }
    // Pressed lips meet along a firm line (FACS AU24: "the lips are pressed together"; AU23
    // makes the lip line straighter): the seam between them, from corner to corner, dark as
    // a furrow, so the tight mouth keeps its full width where the red has narrowed.
    V3 seam[11];
    for (int k = 0; k < 11; ++k)
      for (int c = 0; c < 3; ++c)
        seam[k][c] = 0.5f * (m[kUpper[k]][c] + m[kInnerLoSeam[k]][c]) + (c == 2 ? 0.05f : 0.0f);
    stroke(seam, 11, au.au23, 0.1f, 0.08f, kFurrow);
  }

  // Eyes.
  for (int e = 0; e < 2; ++e) {
    const int* ids = e == 0 ? kEyeL : kEyeR;
    P2 lid[16];
    float zc = 0;
    for (int k = 0; k < 16; ++k) {
      float z;
      lid[k] = screen(morphed[ids[k]], &z);
      zc += z / 16;
    }
    // The iris centre in the head frame: the eye's rest centre (the neutral lid contour's:
    // the eyeball does not move when the lids do, so a raised upper lid (AU5) bares the
    // white above the iris and a raised lower lid (AU7) covers its bottom) moved by the
    // gaze, in eye half-widths along the canonical axes, at the lids' depth.
    const auto &c0 = neutral[ids[0]], &c8 = neutral[ids[8]];
    const float half = 0.5f * std::hypot(c0[0] - c8[0], c0[1] - c8[1]);
    float mean_y = 0, mean_z = 0;
    for (int k = 0; k < 16; ++k) mean_y += neutral[ids[k]][1] / 16, mean_z += neutral[ids[k]][2] / 16;
    const std::array<float, 3> centre = {0.5f * (c0[0] + c8[0]) + gaze[e].x * half,
                                         mean_y + gaze[e].y * half, mean_z};
    const P2 c = screen(centre, nullptr);
    // Lids nearly together (a blink): the iris fades out over the last 0.15 cm of the gap.
    const int up_mid = e == 0 ? 386 : 159, low_mid = e == 0 ? 374 : 145;
    const float gap_cm = morphed[up_mid][1] - morphed[low_mid][1];
    const float open = std::clamp(gap_cm / 0.15f, 0.0f, 1.0f);
    if (open <= 0) continue;
    const float r_iris = 0.42f * half * camera.scale, r_pupil = 0.18f * half * camera.scale;
    const int x0 = std::max(0, static_cast<int>(std::floor(c[0] - r_iris)) - 1);
    const int x1 = std::min(w - 1, static_cast<int>(std::ceil(c[0] + r_iris)) + 1);
    const int y0 = std::max(0, static_cast<int>(std::floor(c[1] - r_iris)) - 1);
    const int y1 = std::min(h - 1, static_cast<int>(std::ceil(c[1] + r_iris)) + 1);
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        if (!visible(x, y, zc)) continue;
        // 2 x 2 samples per pixel: soft edges at panel sizes.
        float iris = 0, ring = 0, pupil = 0;
        for (int s = 0; s < 4; ++s) {
          const float px = x + 0.25f + 0.5f * (s & 1), py = y + 0.25f + 0.5f * (s >> 1);
          if (!Inside(lid, px, py)) continue;
          const float d = std::hypot(px - c[0], py - c[1]);
          iris += d <= r_iris ? 0.25f : 0.0f;
          ring += d <= r_iris && d > 0.8f * r_iris ? 0.25f : 0.0f;  // the darker limbus
          pupil += d <= r_pupil ? 0.25f : 0.0f;
        }
        if (iris > 0) Put(panel, x, y, kIrisColour, iris * open);
        if (ring > 0) Put(panel, x, y, kLimbusColour, ring * open);
        if (pupil > 0) Put(panel, x, y, kPupilColour, pupil * open);
      }
  }

  // Mouth: the contour in the mouth's own frame, t along corner 78 -> 308 (0..1), s across
  // (pixels, downward in the picture when the head is upright).
  P2 up[11], lo[11], poly[20];
  float zm = 0;
  P2 scr_up[11], scr_lo[11];
  for (int k = 0; k < 11; ++k) {
    float z;
    scr_up[k] = screen(morphed[kUpper[k]], &z);
    zm += z / 22;
    scr_lo[k] = screen(morphed[kLower[10 - k]], &z);  // also from 78 to 308
    zm += z / 22;
  }
  const P2 a = scr_up[0], b = scr_up[10];
  const float ax = b[0] - a[0], ay = b[1] - a[1], len2 = ax * ax + ay * ay;
  if (!(len2 > 4.0f)) return;
  const float len = std::sqrt(len2);
  auto frame = [&](const P2& p) {
    const float dx = p[0] - a[0], dy = p[1] - a[1];
    return P2{(dx * ax + dy * ay) / len2, (-dx * ay + dy * ax) / len};
  };
  for (int k = 0; k < 11; ++k) up[k] = frame(scr_up[k]), lo[k] = frame(scr_lo[k]);
  std::sort(std::begin(up), std::end(up));
  std::sort(std::begin(lo), std::end(lo));
  for (int k = 0; k < 11; ++k) poly[k] = scr_up[k];
  for (int k = 1; k < 10; ++k) poly[10 + k] = scr_lo[10 - k];  // 308 back to 78, corners once
  for (P2& p : poly) p[1] -= 0.1f * camera.scale;  // the box below reaches the grown top
  float opening = 0;
  for (int k = 0; k < 11; ++k) opening = std::max(opening, At(lo, up[k][0]) - At(up, up[k][0]));
  const float px_cm = camera.scale;
  // The rest pose's own gap (the canonical lips are a little apart): only what opens beyond
  // it shows the inside of the mouth.
  const float rest = std::max(0.0f, neutral[13][1] - neutral[14][1]) * px_cm;
  if (!(opening > rest + 0.05f * px_cm)) return;
  float bx0 = 1e9f, by0 = 1e9f, bx1 = -1e9f, by1 = -1e9f;
  for (const P2& p : poly)
    bx0 = std::min(bx0, p[0]), by0 = std::min(by0, p[1]), bx1 = std::max(bx1, p[0]),
    by1 = std::max(by1, p[1]);
  const int mx0 = std::max(0, static_cast<int>(std::floor(bx0))), mx1 = std::min(w - 1, static_cast<int>(std::ceil(bx1)));
  const int my0 = std::max(0, static_cast<int>(std::floor(by0))), my1 = std::min(h - 1, static_cast<int>(std::ceil(by1)));
  const std::array<uint8_t, 3> cavity = {kMouthCavity[0], kMouthCavity[1], kMouthCavity[2]};
  const std::array<uint8_t, 3> gap = {150, 140, 128};
  const float mouth_w_cm = len / px_cm;
  for (int y = my0; y <= my1; ++y)
    for (int x = mx0; x <= mx1; ++x) {
      const float pxc = x + 0.5f, pyc = y + 0.5f;
      const P2 q = frame({pxc, pyc});
      if (!(q[0] > 0 && q[0] < 1) || !visible(x, y, zm)) continue;
      // Between the inner lips; upward by 0.1 cm more, over the texture's cavity (painted
      // a texel beyond the inner lip line, face_texture.h).
      const float su = At(up, q[0]), sl = At(lo, q[0]), open = sl - su;
      if (!(open > rest) || q[1] < su - 0.1f * px_cm || q[1] > sl) continue;
      const float upper_teeth = std::min(0.45f * px_cm, 0.45f * open);
      const float lower_teeth = std::min(0.25f * px_cm, 0.25f * open);
      // Tongue: a mound over the middle of the mouth, highest at the centre.
      const float across = std::clamp(std::abs(q[0] - 0.5f) / 0.42f, 0.0f, 1.0f);
      const float tongue = 0.40f * open * std::sqrt(std::max(0.0f, 1 - across * across));
      const float from_top = std::max(0.0f, q[1] - su), from_bottom = sl - q[1];
      if (from_top <= upper_teeth) {
        // Gap lines between teeth every 0.55 cm from the mouth's middle.
        const float cm = (q[0] - 0.5f) * mouth_w_cm / 0.55f;
        const bool line = std::abs(cm - std::round(cm)) * 0.55f * px_cm < 0.5f;
        Put(panel, x, y, line ? gap : kTeethColour);
      } else if (from_bottom <= lower_teeth) {
        Put(panel, x, y, kTeethColour);
      } else if (from_bottom <= lower_teeth + tongue) {
        Put(panel, x, y, kTongueColour);
      } else {
        Put(panel, x, y, cavity);
      }
    }
}

}  // namespace fg::render
