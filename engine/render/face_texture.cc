#include "engine/render/face_texture.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <vector>

#include "engine/render/mouth.h"

namespace fg::render {

namespace {

using P2 = std::array<float, 2>;
using Rgb = std::array<float, 3>;

constexpr Rgb kSkin = {226, 188, 160};
constexpr Rgb kBlush = {222, 168, 150};
constexpr Rgb kBrow = {70, 52, 42};
// The lips: a little darker than the skin, as real lips are in a grey picture (luma about
// 140 against the skin's 196); the upper lip, which faces down, darker than the lower.
constexpr Rgb kLipUpper = {170, 104, 100};
constexpr Rgb kLipLower = {192, 124, 116};
// The sclera is not paper-white in a photograph.
constexpr Rgb kWhite = {222, 218, 210};
constexpr Rgb kIris = {74, 82, 94};
constexpr Rgb kPupil = {18, 16, 18};
constexpr Rgb kLash = {34, 26, 24};
// Shading painted into the skin (an ambient occlusion a one-light Lambert model lacks):
// eye sockets, the lid crease, the sides of the nose, below the nose and the lower lip.
constexpr Rgb kShade = {140, 108, 92};

constexpr int kLipsOuter[] = {61, 185, 40, 39, 37, 0, 267, 269, 270, 409,
                              291, 375, 321, 405, 314, 17, 84, 181, 91, 146};
constexpr int kLipsInner[] = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415,
                              308, 324, 318, 402, 317, 14, 87, 178, 88, 95};
constexpr int kEyeR[] = {33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7};
constexpr int kEyeL[] = {263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249};
constexpr int kBrowR[] = {70, 63, 105, 66, 107, 55, 65, 52, 53, 46};    // upper row, lower back
constexpr int kBrowL[] = {300, 293, 334, 296, 336, 285, 295, 282, 283, 276};
constexpr int kCheeks[] = {205, 425};

bool Inside(const std::vector<P2>& poly, float x, float y) {  // even-odd rule
  bool in = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const P2 &a = poly[i], &b = poly[j];
    if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0])
      in = !in;
  }
  return in;
}

class Painter {
 public:
  Painter(int size) : n_(size), px_(static_cast<size_t>(size) * size, kSkin) {}
  // Blends `colour` over every texel by the fraction of its 4 x 4 samples `covered` says
  // (texel coordinates), within the box [x0, x1) x [y0, y1).
  void Cover(float x0, float y0, float x1, float y1, const Rgb& colour,
             const std::function<float(float, float)>& covered) {
    const int ix0 = std::max(0, static_cast<int>(std::floor(x0)) - 1);
    const int iy0 = std::max(0, static_cast<int>(std::floor(y0)) - 1);
    const int ix1 = std::min(n_, static_cast<int>(std::ceil(x1)) + 1);
    const int iy1 = std::min(n_, static_cast<int>(std::ceil(y1)) + 1);
    for (int y = iy0; y < iy1; ++y)
      for (int x = ix0; x < ix1; ++x) {
        float a = 0;
        for (int sy = 0; sy < 4; ++sy)
          for (int sx = 0; sx < 4; ++sx) a += covered(x + (sx + 0.5f) / 4, y + (sy + 0.5f) / 4);
        a /= 16;
        if (a <= 0) continue;
        Rgb& p = px_[static_cast<size_t>(y) * n_ + x];
        for (int c = 0; c < 3; ++c) p[c] += a * (colour[c] - p[c]);
      }
  }
  void Polygon(const std::vector<P2>& poly, const Rgb& colour, float grow = 0) {
    float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
    P2 c{0, 0};
    for (const P2& p : poly) {
      x0 = std::min(x0, p[0]), x1 = std::max(x1, p[0]);
      y0 = std::min(y0, p[1]), y1 = std::max(y1, p[1]);
      c[0] += p[0] / poly.size(), c[1] += p[1] / poly.size();
    }
    std::vector<P2> g = poly;  // grown outward from the centroid by `grow` texels
    for (P2& p : g) {
      const float dx = p[0] - c[0], dy = p[1] - c[1], d = std::hypot(dx, dy);
      if (d > 0) p[0] += grow * dx / d, p[1] += grow * dy / d;
    }
    Cover(x0 - grow, y0 - grow, x1 + grow, y1 + grow, colour,
          [&](float x, float y) { return Inside(g, x, y) ? 1.0f : 0.0f; });
  }
  // A disc, clipped to `clip` (a polygon), soft-edged by the sampling.
  void Disc(P2 c, float r, const Rgb& colour, const std::vector<P2>& clip) {
    Cover(c[0] - r, c[1] - r, c[0] + r, c[1] + r, colour, [&](float x, float y) {
      return std::hypot(x - c[0], y - c[1]) <= r && Inside(clip, x, y) ? 1.0f : 0.0f;
    });
  }
  // A soft round patch: colour blended by (1 - (d / r)^2)^2 * strength.
  void Glow(P2 c, float r, const Rgb& colour, float strength) { Glow(c, r, r, colour, strength); }
  // The same, elliptical: radii rx across, ry down.
  void Glow(P2 c, float rx, float ry, const Rgb& colour, float strength) {
    Cover(c[0] - rx, c[1] - ry, c[0] + rx, c[1] + ry, colour, [&](float x, float y) {
      const float q = 1 - std::pow((x - c[0]) / rx, 2.0f) - std::pow((y - c[1]) / ry, 2.0f);
      return q > 0 ? strength * q * q : 0.0f;
    });
  }
  // A line of `width` texels through the points.
  void Polyline(const std::vector<P2>& pts, float width, const Rgb& colour) {
    for (size_t i = 0; i + 1 < pts.size(); ++i) {
      const P2 a = pts[i], b = pts[i + 1];
      const float dx = b[0] - a[0], dy = b[1] - a[1], len2 = std::max(1e-6f, dx * dx + dy * dy);
      Cover(std::min(a[0], b[0]) - width, std::min(a[1], b[1]) - width,
            std::max(a[0], b[0]) + width, std::max(a[1], b[1]) + width, colour,
            [&](float x, float y) {
              const float t = std::clamp(((x - a[0]) * dx + (y - a[1]) * dy) / len2, 0.0f, 1.0f);
              return std::hypot(x - a[0] - t * dx, y - a[1] - t * dy) <= 0.5f * width ? 1.0f : 0.0f;
            });
    }
  }
  Texture Finish() const {
    Texture t;
    t.width = t.height = n_;
    t.rgba.resize(static_cast<size_t>(n_) * n_ * 4);
    for (size_t i = 0; i < px_.size(); ++i) {
      for (int c = 0; c < 3; ++c)
        t.rgba[4 * i + c] = static_cast<uint8_t>(std::clamp(px_[i][c] + 0.5f, 0.0f, 255.0f));
      t.rgba[4 * i + 3] = 255;
    }
    return t;
  }

 private:
  int n_;
  std::vector<Rgb> px_;
};

}  // namespace

Texture MakeFaceTexture(const CanonicalFace& face, int size, bool iris) {
  size = std::clamp(size, 64, 2048);
  Painter paint(size);
  if (face.vertices.size() < 468 || face.uvs.size() < 468) return paint.Finish();
  // UV (0,0) is the top-left texel corner (rasterizer.h): texel coordinates are uv * size.
  auto at = [&](int v) { return P2{face.uvs[v][0] * size, face.uvs[v][1] * size}; };
  auto poly = [&](const auto& ids) {
    std::vector<P2> p;
    for (int v : ids) p.push_back(at(v));
    return p;
  };
  const float texel = 1.0f;
  // Texels per canonical cm, from the eye corners' distance (33 to 263) in UV and in space.
  const float texel_per_cm =
      std::hypot(at(263)[0] - at(33)[0], at(263)[1] - at(33)[1]) /
      std::max(1e-3f, std::hypot(face.vertices[263][0] - face.vertices[33][0],
                                 face.vertices[263][1] - face.vertices[33][1]));
  auto mix = [](P2 a, P2 b, float t) { return P2{a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])}; };
  auto mean = [](const std::vector<P2>& pts) {
    P2 c{0, 0};
    for (const P2& p : pts) c[0] += p[0] / pts.size(), c[1] += p[1] / pts.size();
    return c;
  };
  // Cheeks: a faint warm tone (a strong, darker blush reads as hollow cheeks in grey).
  for (int v : kCheeks) paint.Glow(at(v), 0.07f * size, kBlush, 0.25f);
  // Shading, painted before the features so they cover it. Eye sockets: darkest between the
  // upper lid and the brow towards the nose (the orbit's roof and the nose's side, where a
  // real face is in shadow under any overhead light), a little below the lower lid.
  const std::vector<P2> brows[2] = {poly(kBrowR), poly(kBrowL)};
  const std::vector<P2> eyes[2] = {poly(kEyeR), poly(kEyeL)};
  for (int e = 0; e < 2; ++e) {
    const P2 c = mean(eyes[e]), b = mean(brows[e]);
    const float width = std::hypot(eyes[e][0][0] - eyes[e][8][0], eyes[e][0][1] - eyes[e][8][1]);
    const P2 inner = eyes[e][8];  // the inner corner (133 / 362)
    paint.Glow(mix(c, b, 0.4f), 0.62f * width, 0.42f * width, kShade, 0.6f);
    paint.Glow(mix(inner, b, 0.35f), 0.32f * width, 0.45f * width, kShade, 0.65f);
    paint.Glow(mix(c, b, -0.45f), 0.45f * width, 0.18f * width, kShade, 0.25f);
    // The lid crease (supratarsal fold): a soft line following the upper lid a quarter of
    // the way to the brow; it rides on the lid's skin, so it rises with eyeWide.
    std::vector<P2> crease;
    for (int k = 1; k < 8; ++k) crease.push_back(mix(eyes[e][k], b, 0.22f));
    paint.Polyline(crease, 0.035f * width, kShade);
  }
  // Below the nose (subnasale 2 to the lip's top 0) and below the lower lip (the
  // mentolabial sulcus, 17 to 18): shadowed under light from above.
  paint.Glow(mix(at(2), at(0), 0.35f), 0.045f * size, 0.02f * size, kShade, 0.45f);
  paint.Glow(mix(at(17), at(18), 0.6f), 0.07f * size, 0.022f * size, kShade, 0.4f);
  // The brows, full: the landmark rows bound the brow's densest hair (0.4-0.6 cm between
  // them, 0.85 at the inner head), thinner than a brow looks in a photograph, where the
  // hairs and the shadow under the brow ridge make a band about 0.8 cm tall at its head:
  // the upper row is moved 0.1 cm up, the lower 0.07 cm down, the inner head 0.05 cm more.
  for (const std::vector<P2>& b : brows) {
    std::vector<P2> full = b;
    const float cm = texel_per_cm;
    for (int k = 0; k < 5; ++k) full[k][1] -= (0.10f + (k == 4 ? 0.05f : 0.0f)) * cm;
    for (int k = 5; k < 10; ++k) full[k][1] += (0.07f + (k == 5 ? 0.05f : 0.0f)) * cm;
    paint.Polygon(full, kBrow, 0.5f * texel);
  }
  for (const std::vector<P2>& e : eyes) {
    paint.Polygon(e, kWhite);
    const P2 c = mean(e);
    const float width = std::hypot(e[0][0] - e[8][0], e[0][1] - e[8][1]);
    if (iris) {
      paint.Disc(c, 0.21f * width, kIris, e);
      paint.Disc(c, 0.09f * width, kPupil, e);
    }
    // The lash line: the upper lid's contour (points 0..8 of the list), thick as a real
    // upper lash line looks; the lower one thin.
    paint.Polyline(std::vector<P2>(e.begin(), e.begin() + 9), 0.075f * width, kLash);
    std::vector<P2> lower(e.begin() + 8, e.end());
    lower.push_back(e[0]);
    paint.Polyline(lower, 0.025f * width, kShade);
  }
  // Lips: the upper (outer upper arc 61 .. 0 .. 291, back along the inner 308 .. 13 .. 78)
  // and the lower (outer 291 .. 17 .. 61, inner 78 .. 14 .. 308).
  {
    std::vector<P2> upper, lower;
    for (int k = 0; k <= 10; ++k) upper.push_back(at(kLipsOuter[k]));
    for (int k = 10; k >= 0; --k) upper.push_back(at(kLipsInner[k]));
    for (int k = 10; k < 20; ++k) lower.push_back(at(kLipsOuter[k]));
    lower.push_back(at(kLipsOuter[0]));
    lower.push_back(at(kLipsInner[0]));
    for (int k = 19; k >= 10; --k) lower.push_back(at(kLipsInner[k]));
    paint.Polygon(upper, kLipUpper, 0.5f * texel);
    paint.Polygon(lower, kLipLower, 0.5f * texel);
    // The lower lip's light: its fuller middle catches the light.
    paint.Glow(mix(at(14), at(17), 0.45f), 0.05f * size, 0.012f * size, {214, 150, 140}, 0.5f);
  }
  const Rgb cavity = {static_cast<float>(kMouthCavity[0]), static_cast<float>(kMouthCavity[1]),
                      static_cast<float>(kMouthCavity[2])};
  // Grown by a texel: the inner lips' UVs nearly touch, and the triangles between them
  // (what an opened jaw stretches) must sample the cavity, not the lip.
  paint.Polygon(poly(kLipsInner), cavity, 1.0f * texel);
  return paint.Finish();
}

}  // namespace fg::render
