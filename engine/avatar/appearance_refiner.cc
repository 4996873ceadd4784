#include "engine/avatar/appearance_refiner.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

namespace fg {

namespace {

// Grey (BT.601 luma, full-range scale) of one pixel; F known at compile time.
template <PixelFormat F>
inline float Grey(const ImageView& v, int x, int y) {
  if constexpr (kFormat<F>.layout == PixelLayout::kGray) {
    return *PixelAddress<F>(v.planes.data(), v.strides.data(), x, y);
  } else if constexpr (IsYuv(F)) {
    // Luma straight from its byte (limited range stretched to 0..255).
    return (*LumaAddress<F>(v.planes.data(), v.strides.data(), x, y) - 16) * (255.0f / 219);
  } else {
    const Rgb8 p = v.AtAs<F>(x, y);
    return 0.299f * p.r + 0.587f * p.g + 0.114f * p.b;
  }
}

template <PixelFormat F>
inline float GreyBilinear(const ImageView& v, float x, float y) {
  x = std::clamp(x, 0.0f, static_cast<float>(v.width - 1));
  y = std::clamp(y, 0.0f, static_cast<float>(v.height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, v.width - 1), y1 = std::min(y0 + 1, v.height - 1);
  const float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
  const float a = Grey<F>(v, x0, y0), b = Grey<F>(v, x1, y0);
  const float c = Grey<F>(v, x0, y1), d = Grey<F>(v, x1, y1);
  const float top = a + (b - a) * fx, bot = c + (d - c) * fx;
  return top + (bot - top) * fy;
}

// Bilinear sample of a w x h float texture, clamped to its border.
inline float Sample(const float* t, int w, int h, float x, float y) {
  x = std::clamp(x, 0.0f, static_cast<float>(w - 1));
  y = std::clamp(y, 0.0f, static_cast<float>(h - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
  const float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
  const float* r0 = t + static_cast<size_t>(y0) * w;
  const float* r1 = t + static_cast<size_t>(y1) * w;
  const float top = r0[x0] + (r0[x1] - r0[x0]) * fx;
  const float bot = r1[x0] + (r1[x1] - r1[x0]) * fx;
  return top + (bot - top) * fy;
}

// The size x size window of bilinear samples whose first sample is at (x0, y0) (unit steps):
// every sample shares one fractional offset, so the fast path blends four texels with
// fixed weights; windows reaching past the border fall back to clamped samples.
inline void SampleWindow(const float* t, int w, int h, float x0, float y0, int size, float* out) {
  const float fx0 = std::floor(x0), fy0 = std::floor(y0);
  const int ix = static_cast<int>(fx0), iy = static_cast<int>(fy0);
  if (ix >= 0 && iy >= 0 && ix + size < w && iy + size < h) {
    const float fx = x0 - fx0, fy = y0 - fy0;
    const float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
    for (int r = 0; r < size; ++r) {
      const float* p = t + static_cast<size_t>(iy + r) * w + ix;
      const float* q = p + w;
      for (int c = 0; c < size; ++c)
        out[r * size + c] = w00 * p[c] + w01 * p[c + 1] + w10 * q[c] + w11 * q[c + 1];
    }
    return;
  }
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c) out[r * size + c] = Sample(t, w, h, x0 + c, y0 + r);
}

// Every x and y finite (landmarks may come from any element's metadata).
bool Finite(const std::vector<std::array<float, 3>>& lm) {
  for (const auto& p : lm)
    if (!std::isfinite(p[0]) || !std::isfinite(p[1])) return false;
  return true;
}

// Level-l position of a level-0 texel position (texel centres at integers on every level).
inline float ToLevel(float p0, int l) { return (p0 + 0.5f) / static_cast<float>(1 << l) - 0.5f; }

}  // namespace

AppearanceRefiner::AppearanceRefiner(const CanonicalFace& canonical, const BlendshapeBasis& basis,
                                     const AppearanceOptions& opts)
    : opts_(opts), tris_(canonical.triangles) {
  opts_.levels = std::clamp(opts_.levels, 1, 3);
  opts_.window = std::clamp(opts_.window | 1, 3, kMaxWindow);
  // A floor of 0 would leave a flat window's system singular.
  opts_.texture_floor = std::max(opts_.texture_floor, 1e-3f);
  half_ = opts_.window / 2;
  const auto& vs = canonical.vertices;
  const int nv = static_cast<int>(vs.size());
  float xmin = 1e9f, xmax = -1e9f, ymin = 1e9f, ymax = -1e9f;
  for (const auto& p : vs) {
    xmin = std::min(xmin, p[0]), xmax = std::max(xmax, p[0]);
    ymin = std::min(ymin, p[1]), ymax = std::max(ymax, p[1]);
  }
  const float g = opts_.texels_per_cm;
  const int top = 1 << (opts_.levels - 1);
  // Margin: the coarsest window's reach plus room for the flow, in level-0 texels.
  const int margin = (half_ + 2) * top + static_cast<int>(std::ceil(opts_.max_flow_cm * g));
  auto round_up = [&](int v) { return (v + top - 1) / top * top; };
  w_ = round_up(static_cast<int>(std::ceil((xmax - xmin) * g)) + 2 * margin);
  h_ = round_up(static_cast<int>(std::ceil((ymax - ymin) * g)) + 2 * margin);
  uv_.resize(nv);
  for (int v = 0; v < nv; ++v)
    uv_[v] = {(vs[v][0] - xmin) * g + margin, (ymax - vs[v][1]) * g + margin};

  // Rasterise the canonical triangulation seen from the front (+z towards the viewer):
  // the front-most triangle owns each texel.
  map_.assign(static_cast<size_t>(w_) * h_, TexelMap{});
  std::vector<float> zbuf(map_.size(), -std::numeric_limits<float>::infinity());
  for (int t = 0; t < static_cast<int>(tris_.size()); ++t) {
    const auto& tr = tris_[t];
    float lo_x = 1e9f, hi_x = -1e9f, lo_y = 1e9f, hi_y = -1e9f;
    for (int k = 0; k < 3; ++k) {
      lo_x = std::min(lo_x, uv_[tr[k]][0]), hi_x = std::max(hi_x, uv_[tr[k]][0]);
      lo_y = std::min(lo_y, uv_[tr[k]][1]), hi_y = std::max(hi_y, uv_[tr[k]][1]);
    }
    for (int y = std::max(0, static_cast<int>(std::ceil(lo_y)));
         y <= std::min(h_ - 1, static_cast<int>(std::floor(hi_y))); ++y)
      for (int x = std::max(0, static_cast<int>(std::ceil(lo_x)));
           x <= std::min(w_ - 1, static_cast<int>(std::floor(hi_x))); ++x) {
        float b[3];
        if (!Barycentric(t, static_cast<float>(x), static_cast<float>(y), b)) continue;
        if (b[0] < -1e-4f || b[1] < -1e-4f || b[2] < -1e-4f) continue;
        const float z = b[0] * vs[tr[0]][2] + b[1] * vs[tr[1]][2] + b[2] * vs[tr[2]][2];
        const size_t i = static_cast<size_t>(y) * w_ + x;
        if (z <= zbuf[i]) continue;
        zbuf[i] = z;
        map_[i].tri = t;
        std::copy(b, b + 3, map_[i].b);
      }
  }
  // The margin: the nearest mapped texel's triangle, its affine map extended (dropped where
  // the extension runs far outside a thin triangle).
  std::vector<TexelMap> filled = map_;
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      if (map_[static_cast<size_t>(y) * w_ + x].tri >= 0) continue;
      int best = -1, best_d = std::numeric_limits<int>::max();
      for (int dy = -margin; dy <= margin; ++dy)
        for (int dx = -margin; dx <= margin; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w_ || yy >= h_) continue;
          const int d = dx * dx + dy * dy;
          if (d < best_d && map_[static_cast<size_t>(yy) * w_ + xx].tri >= 0)
            best_d = d, best = static_cast<int>(static_cast<size_t>(yy) * w_ + xx);
        }
      if (best < 0) continue;
      float b[3];
      const int t = map_[best].tri;
      if (!Barycentric(t, static_cast<float>(x), static_cast<float>(y), b)) continue;
      if (std::max({std::abs(b[0]), std::abs(b[1]), std::abs(b[2])}) > 4.0f) continue;
      TexelMap& m = filled[static_cast<size_t>(y) * w_ + x];
      m.tri = t;
      std::copy(b, b + 3, m.b);
    }
  map_ = std::move(filled);

  incident_.assign(nv, {});
  for (int t = 0; t < static_cast<int>(tris_.size()); ++t)
    for (int k = 0; k < 3; ++k) incident_[tris_[t][k]].push_back(t);

  // Vertex normals (area-weighted), oriented towards the viewer at the nose tip.
  normals_.assign(nv, {0, 0, 0});
  for (const auto& tr : tris_) {
    const Eigen::Vector3f a(vs[tr[0]][0], vs[tr[0]][1], vs[tr[0]][2]);
    const Eigen::Vector3f b(vs[tr[1]][0], vs[tr[1]][1], vs[tr[1]][2]);
    const Eigen::Vector3f c(vs[tr[2]][0], vs[tr[2]][1], vs[tr[2]][2]);
    const Eigen::Vector3f n = (b - a).cross(c - a);
    for (int k = 0; k < 3; ++k)
      for (int d = 0; d < 3; ++d) normals_[tr[k]][d] += n[d];
  }
  const float flip = nv > 1 && normals_[1][2] < 0 ? -1.0f : 1.0f;  // 1: the nose tip
  for (auto& n : normals_) {
    const float len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    for (float& x : n) x = len > 0 ? flip * x / len : 0.0f;
  }

  // The vertices the basis moves (and the map reaches).
  for (int v = 0; v < std::min(nv, basis.vertex_count()); ++v) {
    float m = 0;
    for (int k = 0; k < basis.size(); ++k) {
      const auto& d = basis.Delta(k)[v];
      m = std::max(m, std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]));
    }
    if (m >= opts_.moving_threshold_cm && TriangleAt(uv_[v][0], uv_[v][1]) >= 0)
      moving_.push_back(v);
  }
  // Texels to frontalise each frame: those some Lucas-Kanade window can reach (a moving
  // vertex's coarsest window plus the longest flow), not the whole map.
  const int reach = (half_ + 2) * top + static_cast<int>(std::ceil(opts_.max_flow_cm * g));
  std::vector<uint8_t> needed(map_.size(), 0);
  for (int v : moving_) {
    const int cx = static_cast<int>(std::lround(uv_[v][0]));
    const int cy = static_cast<int>(std::lround(uv_[v][1]));
    for (int y = std::max(0, cy - reach); y <= std::min(h_ - 1, cy + reach); ++y)
      for (int x = std::max(0, cx - reach); x <= std::min(w_ - 1, cx + reach); ++x)
        needed[static_cast<size_t>(y) * w_ + x] = 1;
  }
  for (size_t i = 0; i < map_.size(); ++i)
    if (map_[i].tri >= 0 && needed[i]) mapped_.push_back(static_cast<int>(i));
}

bool AppearanceRefiner::Barycentric(int tri, float x, float y, float b[3]) const {
  const auto& p0 = uv_[tris_[tri][0]];
  const auto& p1 = uv_[tris_[tri][1]];
  const auto& p2 = uv_[tris_[tri][2]];
  const float d = (p1[1] - p2[1]) * (p0[0] - p2[0]) + (p2[0] - p1[0]) * (p0[1] - p2[1]);
  if (std::abs(d) < 1e-6f) return false;  // a triangle seen edge-on from the front
  b[0] = ((p1[1] - p2[1]) * (x - p2[0]) + (p2[0] - p1[0]) * (y - p2[1])) / d;
  b[1] = ((p2[1] - p0[1]) * (x - p2[0]) + (p0[0] - p2[0]) * (y - p2[1])) / d;
  b[2] = 1.0f - b[0] - b[1];
  return true;
}

int AppearanceRefiner::TriangleAt(float x, float y) const {
  const int xi = static_cast<int>(std::lround(x)), yi = static_cast<int>(std::lround(y));
  if (xi < 0 || yi < 0 || xi >= w_ || yi >= h_) return -1;
  return map_[static_cast<size_t>(yi) * w_ + xi].tri;
}

int AppearanceRefiner::TriangleFor(int v, float qx, float qy, float b[3]) const {
  int best = -1;
  float best_min = -1e9f, bb[3];
  for (int t : incident_[v]) {
    if (!Barycentric(t, qx, qy, bb)) continue;
    const float m = std::min({bb[0], bb[1], bb[2]});
    if (m > best_min) best_min = m, best = t, std::copy(bb, bb + 3, b);
  }
  if (best >= 0 && best_min >= -1e-4f) return best;
  const int t = TriangleAt(qx, qy);
  if (t < 0 || !Barycentric(t, qx, qy, b)) return -1;
  return t;
}

AppearanceRefiner::State AppearanceRefiner::NewTrack() const {
  State s;
  const int n = opts_.window * opts_.window;
  s.sum.assign(static_cast<size_t>(w_) * h_, 0.0f);
  s.texture.resize(opts_.levels);
  for (int l = 0; l < opts_.levels; ++l)
    s.texture[l].assign(static_cast<size_t>(LevelWidth(l)) * LevelHeight(l), 0.0f);
  const size_t cells = static_cast<size_t>(opts_.levels) * moving_.size();
  s.win.assign(cells * n, 0.0f);
  s.wgx.assign(cells * n, 0.0f);
  s.wgy.assign(cells * n, 0.0f);
  s.hinv.assign(cells, {});
  s.info.assign(moving_.size(), {0, 0, 0});
  s.flow.assign(moving_.size(), {0, 0});
  s.used.assign(moving_.size(), 0);
  s.points.assign(uv_.size(), {0, 0, 0});
  s.pos.assign(2 * mapped_.size(), 0.0f);
  return s;
}

void AppearanceRefiner::Frontalise(const ImageView& frame,
                                   const std::vector<std::array<float, 3>>& lm,
                                   std::span<float> out) const {
  std::vector<float> pos, grey;  // a tool's or a test's call: its own scratch
  FrontaliseWith(frame, lm, out, pos, grey);
}

void AppearanceRefiner::FrontaliseWith(const ImageView& frame,
                                       const std::vector<std::array<float, 3>>& lm,
                                       std::span<float> out, std::vector<float>& pos,
                                       std::vector<float>& grey) const {
  if (out.size() < map_.size() || lm.size() < uv_.size() || frame.width <= 0 ||
      frame.height <= 0)
    return;
  // 1. Each texel's frame position (clamped to the frame, as GreyBilinear clamps), and
  //    their bounding box.
  if (pos.size() < 2 * mapped_.size()) pos.resize(2 * mapped_.size());
  const float wmax = static_cast<float>(frame.width - 1), hmax = static_cast<float>(frame.height - 1);
  float x_lo = wmax, x_hi = 0, y_lo = hmax, y_hi = 0;
  for (size_t k = 0; k < mapped_.size(); ++k) {
    const TexelMap& m = map_[mapped_[k]];
    const auto& a = lm[tris_[m.tri][0]];
    const auto& b = lm[tris_[m.tri][1]];
    const auto& c = lm[tris_[m.tri][2]];
    const float x = std::clamp(m.b[0] * a[0] + m.b[1] * b[0] + m.b[2] * c[0], 0.0f, wmax);
    const float y = std::clamp(m.b[0] * a[1] + m.b[1] * b[1] + m.b[2] * c[1], 0.0f, hmax);
    pos[2 * k] = x, pos[2 * k + 1] = y;
    x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
  }
  if (mapped_.empty()) return;
  // 2. Formats with a luma plane sample it directly; the RGB family converts the box to grey
  //    once (each pixel once instead of four times per texel) and samples that. Same values
  //    either way: GreyBilinear's arithmetic on the same luma.
  auto direct = [&]<PixelFormat F>() {
    for (size_t k = 0; k < mapped_.size(); ++k)
      out[mapped_[k]] = GreyBilinear<F>(frame, pos[2 * k], pos[2 * k + 1]);
  };
  auto boxed = [&]<PixelFormat F>() {
    const int bx0 = static_cast<int>(x_lo), by0 = static_cast<int>(y_lo);
    const int bx1 = std::min(frame.width - 1, static_cast<int>(x_hi) + 1);
    const int by1 = std::min(frame.height - 1, static_cast<int>(y_hi) + 1);
    const int bw = bx1 - bx0 + 1, bh = by1 - by0 + 1;
    if (grey.size() < static_cast<size_t>(bw) * bh) grey.resize(static_cast<size_t>(bw) * bh);
    for (int y = 0; y < bh; ++y)
      for (int x = 0; x < bw; ++x) grey[static_cast<size_t>(y) * bw + x] = Grey<F>(frame, bx0 + x, by0 + y);
    for (size_t k = 0; k < mapped_.size(); ++k) {
      const float x = pos[2 * k], y = pos[2 * k + 1];
      const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
      const int x1 = std::min(x0 + 1, frame.width - 1), y1 = std::min(y0 + 1, frame.height - 1);
      const float fx = x - static_cast<float>(x0), fy = y - static_cast<float>(y0);
      const float* r0 = &grey[static_cast<size_t>(y0 - by0) * bw - bx0];
      const float* r1 = &grey[static_cast<size_t>(y1 - by0) * bw - bx0];
      const float top = r0[x0] + (r0[x1] - r0[x0]) * fx, bot = r1[x0] + (r1[x1] - r1[x0]) * fx;
      out[mapped_[k]] = top + (bot - top) * fy;
    }
  };
  VisitPixelFormat(frame.format, [&]<PixelFormat F>() {
    if constexpr (kFormat<F>.layout == PixelLayout::kPackedRgb)
      boxed.template operator()<F>();
    else
      direct.template operator()<F>();
  });
}

void AppearanceRefiner::Downsample(const std::vector<float>& src, int sw, int sh,
                                   std::vector<float>& dst, int dw, int dh) const {
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x) {
      const int x0 = std::min(2 * x, sw - 1), x1 = std::min(2 * x + 1, sw - 1);
      const int y0 = std::min(2 * y, sh - 1), y1 = std::min(2 * y + 1, sh - 1);
      dst[static_cast<size_t>(y) * dw + x] =
          0.25f * (src[static_cast<size_t>(y0) * sw + x0] + src[static_cast<size_t>(y0) * sw + x1] +
                   src[static_cast<size_t>(y1) * sw + x0] + src[static_cast<size_t>(y1) * sw + x1]);
    }
}

bool AppearanceRefiner::AddNeutral(State& s, const ImageView& frame,
                                   const std::vector<std::array<float, 3>>& lm) const {
  if (lm.size() < uv_.size() || s.sum.size() != map_.size() || !Finite(lm)) return false;
  FrontaliseWith(frame, lm, s.texture[0], s.pos, s.grey);
  for (int i : mapped_) s.sum[i] += s.texture[0][i];
  ++s.neutral_frames;
  return true;
}

bool AppearanceRefiner::Finish(State& s) const {
  if (s.neutral_frames <= 0 || s.sum.size() != map_.size()) return false;
  std::vector<float>& t0 = s.texture[0];
  std::fill(t0.begin(), t0.end(), 0.0f);
  for (int i : mapped_) t0[i] = s.sum[i] / static_cast<float>(s.neutral_frames);
  for (int l = 1; l < opts_.levels; ++l)
    Downsample(s.texture[l - 1], LevelWidth(l - 1), LevelHeight(l - 1), s.texture[l],
               LevelWidth(l), LevelHeight(l));
  const int n = opts_.window * opts_.window;
  const float lambda = static_cast<float>(n) * opts_.texture_floor * opts_.texture_floor;
  for (int l = 0; l < opts_.levels; ++l) {
    const float* t = s.texture[l].data();
    const int w = LevelWidth(l), h = LevelHeight(l);
    for (size_t m = 0; m < moving_.size(); ++m) {
      const size_t cell = static_cast<size_t>(l) * moving_.size() + m;
      const float cx = ToLevel(uv_[moving_[m]][0], l), cy = ToLevel(uv_[moving_[m]][1], l);
      float* win = &s.win[cell * n];
      float* gx = &s.wgx[cell * n];
      float* gy = &s.wgy[cell * n];
      Eigen::Matrix3d hm = Eigen::Matrix3d::Zero();
      int k = 0;
      for (int dy = -half_; dy <= half_; ++dy)
        for (int dx = -half_; dx <= half_; ++dx, ++k) {
          const float x = cx + dx, y = cy + dy;
          win[k] = Sample(t, w, h, x, y);
          gx[k] = 0.5f * (Sample(t, w, h, x + 1, y) - Sample(t, w, h, x - 1, y));
          gy[k] = 0.5f * (Sample(t, w, h, x, y + 1) - Sample(t, w, h, x, y - 1));
          const Eigen::Vector3d j(gx[k], gy[k], 1.0);
          hm += j * j.transpose();
        }
      if (l == 0) {
        s.info[m] = {static_cast<float>(hm(0, 0) / n), static_cast<float>(hm(0, 1) / n),
                     static_cast<float>(hm(1, 1) / n)};
      }
      hm(0, 0) += lambda;
      hm(1, 1) += lambda;
      const Eigen::Matrix3d inv = hm.inverse();
      for (int i = 0; i < 9; ++i) s.hinv[cell][i] = static_cast<float>(inv(i / 3, i % 3));
    }
  }
  s.ready = true;
  return true;
}

int AppearanceRefiner::Refine(State& s, const ImageView& frame,
                              const std::vector<std::array<float, 3>>& lm,
                              const Eigen::Matrix3f& rotation,
                              std::span<std::array<float, 3>> points) const {
  s.last_refined = 0;
  if (!s.ready || lm.size() < uv_.size() || points.size() < uv_.size() || !Finite(lm)) return 0;
  std::copy(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(uv_.size()),
            s.points.begin());
  FrontaliseWith(frame, lm, s.texture[0], s.pos, s.grey);
  for (int l = 1; l < opts_.levels; ++l)
    Downsample(s.texture[l - 1], LevelWidth(l - 1), LevelHeight(l - 1), s.texture[l],
               LevelWidth(l), LevelHeight(l));
  const int n = opts_.window * opts_.window;
  const float max_flow = opts_.max_flow_cm * opts_.texels_per_cm;  // level-0 texels
  int moved = 0;
  // Aligns vertex m's window from level `top` down to 0, starting from the level-0 offset
  // (gx, gy) and brightness offset `bias`; returns the final RMS residual.
  auto align = [&](size_t m, int top, float& gx, float& gy, float& bias) {
    const int v = moving_[m];
    float rms = 0;
    gx /= static_cast<float>(1 << top), gy /= static_cast<float>(1 << top);
    for (int l = top; l >= 0; --l) {
      const size_t cell = static_cast<size_t>(l) * moving_.size() + m;
      const float* t = s.texture[l].data();
      const int w = LevelWidth(l), h = LevelHeight(l);
      const float cx = ToLevel(uv_[v][0], l), cy = ToLevel(uv_[v][1], l);
      const float* win = &s.win[cell * n];
      const float* wgx = &s.wgx[cell * n];
      const float* wgy = &s.wgy[cell * n];
      const auto& hi = s.hinv[cell];
      for (int it = 0; it <= opts_.iterations; ++it) {
        float sx = 0, sy = 0, s1 = 0, se = 0;
        float cur[kMaxWindow * kMaxWindow];
        SampleWindow(t, w, h, cx + gx - half_, cy + gy - half_, opts_.window, cur);
        // Eight partial sums per quantity (the compiler keeps them in one vector each).
        float px[8] = {}, py[8] = {}, p1[8] = {}, pe[8] = {};
        const int n8 = n & ~7;
        for (int k0 = 0; k0 < n8; k0 += 8)
          for (int j = 0; j < 8; ++j) {
            const float e = cur[k0 + j] - win[k0 + j] - bias;
            px[j] += wgx[k0 + j] * e, py[j] += wgy[k0 + j] * e, p1[j] += e, pe[j] += e * e;
          }
        for (int j = 0; j < 8; ++j) sx += px[j], sy += py[j], s1 += p1[j], se += pe[j];
        for (int k = n8; k < n; ++k) {
          const float e = cur[k] - win[k] - bias;
          sx += wgx[k] * e, sy += wgy[k] * e, s1 += e, se += e * e;
        }
        rms = std::sqrt(se / static_cast<float>(n));
        if (it == opts_.iterations) break;  // the last pass only measures the residual
        const float ux = hi[0] * sx + hi[1] * sy + hi[2] * s1;
        const float uy = hi[3] * sx + hi[4] * sy + hi[5] * s1;
        const float ub = hi[6] * sx + hi[7] * sy + hi[8] * s1;
        // Inverse compositional: the template moved by u, so the frame's offset moves by -u.
        gx -= ux, gy -= uy, bias += ub;
        if (!std::isfinite(gx) || !std::isfinite(gy))
          return std::numeric_limits<float>::infinity();  // rejected by the caller
        if (ux * ux + uy * uy < 2.5e-3f) {
          // Converged: one more pass for the residual at the final offset.
          it = opts_.iterations - 1;
        }
      }
      if (l > 0) gx *= 2, gy *= 2;
    }
    return rms;
  };
  auto acceptable = [&](float gx, float gy, float rms) {
    return gx * gx + gy * gy <= max_flow * max_flow && rms <= opts_.max_residual;
  };
  for (size_t m = 0; m < moving_.size(); ++m) {
    const int v = moving_[m];
    s.flow[m] = {0, 0};
    s.used[m] = 0;
    // Facing: the vertex normal turned by the head pose, against the camera's axis (+z).
    const float facing = rotation(2, 0) * normals_[v][0] + rotation(2, 1) * normals_[v][1] +
                         rotation(2, 2) * normals_[v][2];
    if (facing < opts_.min_facing) continue;
    float gx_ = 0, gy_ = 0, bias = 0;
    const float rms = align(m, opts_.levels - 1, gx_, gy_, bias);
    const bool ok = acceptable(gx_, gy_, rms);
    if (!ok) continue;
    const float qx = uv_[v][0] + gx_, qy = uv_[v][1] + gy_;
    float b[3];
    const int tri = TriangleFor(v, qx, qy, b);
    if (tri < 0) continue;
    const auto& p0 = s.points[tris_[tri][0]];
    const auto& p1 = s.points[tris_[tri][1]];
    const auto& p2 = s.points[tris_[tri][2]];
    for (int c = 0; c < 3; ++c) points[v][c] = b[0] * p0[c] + b[1] * p1[c] + b[2] * p2[c];
    s.flow[m] = {gx_, gy_};
    s.used[m] = 1;
    ++moved;
  }
  s.last_refined = moved;
  return moved;
}

}  // namespace fg
