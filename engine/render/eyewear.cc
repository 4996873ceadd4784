#include "engine/render/eyewear.h"

#include <algorithm>
#include <cmath>

namespace fg::render {

namespace {

struct V2 {
  float a, b;
};

// The subject's left eye, then the right (FaceMesh numbering): corners, lids, the brow's
// upper edge (inner -> outer) and lower edge (inner -> outer).
struct EyeIds {
  int outer, inner, upper, lower;
  std::array<int, 5> brow_up, brow_low;
};
constexpr EyeIds kEyes[2] = {
    {263, 362, 386, 374, {336, 296, 334, 293, 300}, {285, 295, 282, 283, 276}},
    {33, 133, 159, 145, {107, 66, 105, 63, 70}, {55, 65, 52, 53, 46}}};

// Inside the polygon, or within `margin` of its edges.
bool NearPolygon(const V2* poly, int n, V2 p, float margin) {
  bool inside = false;
  float best = 1e30f;
  for (int i = 0, j = n - 1; i < n; j = i++) {
    const V2 a = poly[i], b = poly[j];
    if ((a.b > p.b) != (b.b > p.b) && p.a < (b.a - a.a) * (p.b - a.b) / (b.b - a.b) + a.a)
      inside = !inside;
    const float ex = b.a - a.a, ey = b.b - a.b, l2 = ex * ex + ey * ey;
    const float t = l2 > 0 ? std::clamp(((p.a - a.a) * ex + (p.b - a.b) * ey) / l2, 0.0f, 1.0f) : 0;
    const float dx = p.a - a.a - t * ex, dy = p.b - a.b - t * ey;
    best = std::min(best, dx * dx + dy * dy);
  }
  return inside || best <= margin * margin;
}

uint8_t Luma(Rgb8 c) { return static_cast<uint8_t>((299 * c.r + 587 * c.g + 114 * c.b + 500) / 1000); }

int Median(const std::array<int, 256>& hist) {
  int total = 0;
  for (int c : hist) total += c;
  if (total == 0) return -1;
  for (int v = 0, seen = 0; v < 256; ++v)
    if ((seen += hist[v]) * 2 >= total) return v;
  return 255;
}

}  // namespace

int EyewearLayer::Find(const ImageView& src, std::span<const std::array<float, 3>> lm) {
  found_ = 0;
  w_ = h_ = 0;
  if (lm.size() < 468 || src.width <= 0 || src.height <= 0) return 0;
  // The face's axes: u along the eye line, v down the face.
  const float ox = 0.5f * (lm[33][0] + lm[263][0]), oy = 0.5f * (lm[33][1] + lm[263][1]);
  float ux = lm[263][0] - lm[33][0], uy = lm[263][1] - lm[33][1];
  const float span = std::hypot(ux, uy);
  if (!(span > 1e-3f)) return 0;
  ux /= span, uy /= span;
  const float vx = -uy, vy = ux;
  auto local = [&](float x, float y) { return V2{(x - ox) * ux + (y - oy) * uy, (x - ox) * vx + (y - oy) * vy}; };
  auto L = [&](int i) { return local(lm[i][0], lm[i][1]); };
  const float ew = 0.5f * (std::abs(L(263).a - L(362).a) + std::abs(L(33).a - L(133).a));
  if (!(ew > 4.0f)) return 0;  // too small a face to find a frame on

  struct Eye {
    float a0, a1, b0, b1;            // the band
    float ca, cb, ra, rb;            // the eye's ellipse
    std::array<V2, 10> brow;         // upper edge inner -> outer, lower edge outer -> inner
    float ba0, ba1, bb0, bb1;        // the brow's box (the polygon test only inside it)
  } eyes[2];
  float bx0 = 1e30f, by0 = 1e30f, bx1 = -1e30f, by1 = -1e30f;
  for (int s = 0; s < 2; ++s) {
    const EyeIds& id = kEyes[s];
    Eye& e = eyes[s];
    const V2 o = L(id.outer), in = L(id.inner), up = L(id.upper), lo = L(id.lower);
    float brow_top = 1e30f;
    for (int k = 0; k < 5; ++k) {
      e.brow[k] = L(id.brow_up[k]);
      e.brow[9 - k] = L(id.brow_low[k]);
      brow_top = std::min(brow_top, e.brow[k].b);
    }
    e.ba0 = e.bb0 = 1e30f, e.ba1 = e.bb1 = -1e30f;
    for (const V2& q : e.brow)
      e.ba0 = std::min(e.ba0, q.a), e.ba1 = std::max(e.ba1, q.a), e.bb0 = std::min(e.bb0, q.b),
      e.bb1 = std::max(e.bb1, q.b);
    // Across: from the midline (the bridge; 0.05 ew past it, so the two bands meet) or 0.45
    // ew inside the inner corner if that is further, to 0.45 ew beyond the outer corner.
    if (o.a > in.a)
      e.a0 = std::min(in.a - 0.45f * ew, -0.05f * ew), e.a1 = o.a + 0.45f * ew;
    else
      e.a0 = o.a - 0.45f * ew, e.a1 = std::max(in.a + 0.45f * ew, 0.05f * ew);
    e.b0 = brow_top - 0.35f * ew, e.b1 = lo.b + 0.75f * ew;
    e.ca = 0.5f * (o.a + in.a), e.cb = 0.5f * (up.b + lo.b);
    e.ra = 0.575f * std::abs(o.a - in.a);
    e.rb = 0.5f * std::abs(lo.b - up.b) + 0.12f * ew;
    for (float a : {e.a0, e.a1})
      for (float b : {e.b0, e.b1}) {
        const float x = ox + a * ux + b * vx, y = oy + a * uy + b * vy;
        bx0 = std::min(bx0, x), bx1 = std::max(bx1, x), by0 = std::min(by0, y), by1 = std::max(by1, y);
      }
  }
  x0_ = std::max(0, static_cast<int>(std::floor(bx0)));
  y0_ = std::max(0, static_cast<int>(std::floor(by0)));
  const int x1 = std::min(src.width, static_cast<int>(std::ceil(bx1)) + 1);
  const int y1 = std::min(src.height, static_cast<int>(std::ceil(by1)) + 1);
  if (x1 <= x0_ || y1 <= y0_) return 0;
  w_ = x1 - x0_, h_ = y1 - y0_;
  const size_t n = static_cast<size_t>(w_) * h_;
  if (luma_.size() < n) luma_.resize(n), cls_.resize(n), core_.resize(n), alpha_.resize(n);

  // Classify every box pixel (class in bits 0-1, eye in bit 2) and histogram skin and brow.
  std::array<int, 256> skin_hist[2] = {}, brow_hist[2] = {};
  const float margin = 0.06f * ew;
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      const size_t i = static_cast<size_t>(y) * w_ + x;
      const V2 p = local(x0_ + x + 0.5f, y0_ + y + 0.5f);
      uint8_t c = 0;
      for (int s = 0; s < 2 && !c; ++s) {
        const Eye& e = eyes[s];
        if (p.a < e.a0 || p.a > e.a1 || p.b < e.b0 || p.b > e.b1) continue;
        const float ea = (p.a - e.ca) / e.ra, eb = (p.b - e.cb) / e.rb;
        if (ea * ea + eb * eb <= 1)
          c = 3;
        else if (p.a >= e.ba0 - margin && p.a <= e.ba1 + margin && p.b >= e.bb0 - margin &&
                 p.b <= e.bb1 + margin && NearPolygon(e.brow.data(), 10, p, margin))
          c = 2;
        else
          c = 1;
        c |= static_cast<uint8_t>(s << 2);
      }
      // Bit 3: on the band's upper edge (within 2 px), where hair comes in from above.
      for (int e = 0; e < 2 && c; ++e)
        if ((c >> 2 & 1) == e && p.b < eyes[e].b0 + 2.0f) c |= 8;
      cls_[i] = c;
      luma_[i] = c ? Luma(src.At(x0_ + x, y0_ + y)) : 0;
      if ((c & 3) == 1) ++skin_hist[c >> 2 & 1][luma_[i]];
      if ((c & 3) == 2) ++brow_hist[c >> 2 & 1][luma_[i]];
    }
  int skin[2], thr[2], brow[2];
  for (int s = 0; s < 2; ++s) {
    skin[s] = Median(skin_hist[s]);
    thr[s] = std::max(30, static_cast<int>(0.3f * std::max(skin[s], 0)));
    const int b = Median(brow_hist[s]);
    brow[s] = b < 0 ? skin[s] : b;
  }
  // Dark pixels: below the skin by T; on the brow also below the brow by T / 2.
  for (size_t i = 0; i < n; ++i) {
    const int c = cls_[i] & 3, s = cls_[i] >> 2 & 1;
    core_[i] = 0;
    if (c == 0 || c == 3 || skin[s] < 0) continue;
    int limit = skin[s] - thr[s];
    if (c == 2) limit = std::min(limit, brow[s] - thr[s] / 2);
    core_[i] = luma_[i] < limit;
  }
  // Keep the long components (8-connected): rims, not specks.
  const float min_extent = 0.35f * ew;
  for (size_t start = 0; start < n; ++start) {
    if (core_[start] != 1) continue;
    comp_.clear();
    stack_.clear();
    stack_.push_back(static_cast<int>(start));
    core_[start] = 3;  // visited
    int cx0 = w_, cx1 = -1, cy0 = h_, cy1 = -1;
    bool from_above = false;
    while (!stack_.empty()) {
      const int i = stack_.back();
      stack_.pop_back();
      comp_.push_back(i);
      from_above |= (cls_[i] & 8) != 0;
      const int x = i % w_, y = i / w_;
      cx0 = std::min(cx0, x), cx1 = std::max(cx1, x), cy0 = std::min(cy0, y), cy1 = std::max(cy1, y);
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w_ || ny >= h_) continue;
          const int j = ny * w_ + nx;
          if (core_[j] == 1) core_[j] = 3, stack_.push_back(j);
        }
    }
    // Long, and not coming in over the band's upper edge (hair, a hat's brim).
    const bool keep = std::max(cx1 - cx0 + 1, cy1 - cy0 + 1) >= min_extent && !from_above;
    for (int i : comp_) core_[i] = keep ? 2 : 4;
  }
  // Alpha: 1 on the kept pixels; within 2 px of them (not in the eye) their own darkness.
  std::fill_n(alpha_.begin(), n, 0.0f);
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      if (core_[static_cast<size_t>(y) * w_ + x] != 2) continue;
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w_ || ny >= h_) continue;
          const size_t j = static_cast<size_t>(ny) * w_ + nx;
          const int c = cls_[j] & 3, s = cls_[j] >> 2 & 1;
          if (core_[j] == 2) {
            alpha_[j] = 1;
          } else if (c != 0 && c != 3) {
            const float a = std::clamp(static_cast<float>(skin[s] - luma_[j]) / thr[s], 0.0f, 1.0f);
            alpha_[j] = std::max(alpha_[j], a);
          }
        }
    }
  for (size_t i = 0; i < n; ++i) found_ += alpha_[i] > 0;
  return found_;
}

float EyewearLayer::alpha(int x, int y) const {
  x -= x0_, y -= y0_;
  if (found_ == 0 || x < 0 || y < 0 || x >= w_ || y >= h_) return 0;
  return alpha_[static_cast<size_t>(y) * w_ + x];
}

void EyewearLayer::FillSkin(const ImageView& src, const draw::MutableImageView& dst) {
  if (found_ == 0 || src.width != dst.width || src.height != dst.height) return;
  // The box's colours (a one-pixel ring around it too, so every masked pixel has four
  // neighbours here), then the masked ones filled: a first guess from the nearest unmasked
  // pixel in each of the four directions (inverse-distance weighted), smoothed by
  // Gauss-Seidel sweeps of the four-neighbour mean (the fill tends to the harmonic one, so
  // a thick rim leaves no streaks where the skin above and below it differ column by column).
  const int rw = w_ + 2, rh = h_ + 2;
  fill_.resize(static_cast<size_t>(rw) * rh * 3);
  auto at = [&](int x, int y) -> float* { return &fill_[(static_cast<size_t>(y + 1) * rw + x + 1) * 3]; };
  auto masked = [&](int x, int y) {  // box coordinates
    return x >= 0 && y >= 0 && x < w_ && y < h_ && alpha_[static_cast<size_t>(y) * w_ + x] > 0;
  };
  for (int y = -1; y <= h_; ++y)
    for (int x = -1; x <= w_; ++x) {
      const Rgb8 c = src.At(std::clamp(x0_ + x, 0, src.width - 1), std::clamp(y0_ + y, 0, src.height - 1));
      float* o = at(x, y);
      o[0] = c.r, o[1] = c.g, o[2] = c.b;
    }
  constexpr int kDir[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      if (!masked(x, y)) continue;
      float sum[3] = {0, 0, 0}, wsum = 0;
      for (const auto& d : kDir) {
        int px = x, py = y, dist = 0;
        while (masked(px, py)) px += d[0], py += d[1], ++dist;
        if (px < -1 || py < -1 || px > w_ || py > h_) continue;
        const float* c = at(px, py);
        const float w = 1.0f / static_cast<float>(dist);
        sum[0] += w * c[0], sum[1] += w * c[1], sum[2] += w * c[2], wsum += w;
      }
      float* o = at(x, y);
      for (int c = 0; c < 3; ++c) o[c] = sum[c] / wsum;  // wsum > 0: the ring is unmasked
    }
  for (int sweep = 0; sweep < 24; ++sweep)
    for (int y = 0; y < h_; ++y)
      for (int x = 0; x < w_; ++x) {
        if (!masked(x, y)) continue;
        float* o = at(x, y);
        for (int c = 0; c < 3; ++c)
          o[c] = 0.25f * (at(x - 1, y)[c] + at(x + 1, y)[c] + at(x, y - 1)[c] + at(x, y + 1)[c]);
      }
  patch_.Resize(w_, h_);
  patch_.Fill({0, 0, 0, 0});
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      if (!masked(x, y)) continue;
      uint8_t* o = patch_.Row(y) + 4 * x;
      const float* c = at(x, y);
      for (int k = 0; k < 3; ++k) o[k] = static_cast<uint8_t>(std::clamp(std::lround(c[k]), 0L, 255L));
      o[3] = 255;
    }
  WriteRgba(patch_, dst, x0_, y0_);
}

void EyewearLayer::Composite(const ImageView& src, RgbaImage& scratch, int bx, int by) const {
  if (found_ == 0) return;
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      const float a = alpha_[static_cast<size_t>(y) * w_ + x];
      if (!(a > 0)) continue;
      const int fx = x0_ + x, fy = y0_ + y, sx = fx - bx, sy = fy - by;
      if (sx < 0 || sy < 0 || sx >= scratch.width || sy >= scratch.height) continue;
      uint8_t* o = scratch.Row(sy) + 4 * sx;
      if (o[3] == 0) continue;
      const Rgb8 c = src.At(fx, fy);
      const uint8_t rgb[3] = {c.r, c.g, c.b};
      for (int k = 0; k < 3; ++k)
        o[k] = static_cast<uint8_t>(std::lround(a * rgb[k] + (1 - a) * o[k]));
    }
}

}  // namespace fg::render
