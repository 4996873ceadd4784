#include "engine/synth/expression_track.h"

#include <algorithm>
#include <cmath>

#include "engine/face.h"
#include "engine/tracking/face_tracker.h"

namespace fg {

namespace {

// FaceMesh's inner lip contour, corner 78 (the subject's right) to corner 308.
constexpr std::array<int, 11> kUpperInner = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308};
constexpr std::array<int, 11> kLowerInner = {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308};
// The mouth's inside where the jaw opens beyond the photo's own opening (dark, a little
// red: the shadowed oral cavity).
constexpr std::array<uint8_t, 4> kCavity = {52, 24, 26, 255};

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

// Bilinear RGB at continuous frame position (pixel centres at +0.5), clamped to the frame.
void Sample(const ImageView& src, float x, float y, uint8_t* out) {
  x = std::clamp(x - 0.5f, 0.0f, static_cast<float>(src.width - 1));
  y = std::clamp(y - 0.5f, 0.0f, static_cast<float>(src.height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, src.width - 1), y1 = std::min(y0 + 1, src.height - 1);
  const float fx = x - x0, fy = y - y0;
  const Rgb8 a = src.At(x0, y0), b = src.At(x1, y0), c = src.At(x0, y1), d = src.At(x1, y1);
  auto mix = [&](int pa, int pb, int pc, int pd) {
    const float top = pa + (pb - pa) * fx, bot = pc + (pd - pc) * fx;
    return static_cast<uint8_t>(top + (bot - top) * fy + 0.5f);
  };
  out[0] = mix(a.r, b.r, c.r, d.r);
  out[1] = mix(a.g, b.g, c.g, d.g);
  out[2] = mix(a.b, b.b, c.b, d.b);
  out[3] = 255;
}

}  // namespace

Placement SimilarityPlacement(float centre_x, float centre_y, float dx, float dy,
                              float roll_deg, float scale) {
  const double th = roll_deg * 3.14159265358979323846 / 180;
  const double c = scale * std::cos(th), s = scale * std::sin(th);
  // Forward R = [[c, s], [-s, c]] (counter-clockwise on screen with y down), as
  // FaceSynth::MapToPhoto inverts it.
  return {static_cast<float>(c), static_cast<float>(s),
          static_cast<float>(centre_x + dx - (c * centre_x + s * centre_y)),
          static_cast<float>(-s), static_cast<float>(c),
          static_cast<float>(centre_y + dy - (-s * centre_x + c * centre_y))};
}

std::unique_ptr<ExpressionTrack> ExpressionTrack::Create(const ImageView& photo,
                                                         const ExpressionTrackOptions& opts,
                                                         std::string* error) {
  std::string err;
  auto canonical = LoadCanonicalFace(opts.models_dir + "/" + kCanonicalFaceFile, &err);
  if (!canonical) {
    if (error) *error = "expression track: " + err;
    return nullptr;
  }
  TrackerOptions to;
  to.models_dir = opts.models_dir;
  to.backend = opts.backend;
  to.smoothing = false;      // a still photo: the mean below does the averaging
  to.async_detect = false;   // one photo, no stream to protect
  auto tracker = FaceTracker::Create(to, &err);
  if (!tracker) {
    if (error) *error = "expression track: " + err;
    return nullptr;
  }
  const int runs = std::max(1, opts.tracker_frames);
  std::vector<std::array<float, 3>> sum(kMeshLandmarks, {0, 0, 0});
  int summed = 0;
  int64_t id = -1;
  for (int k = 0; k < runs; ++k) {
    FrameFaces ff = tracker->Process(photo, k * int64_t{33'333'333});
    const Face* best = nullptr;
    for (const Face& f : ff.faces)
      if (f.landmarks.size() >= static_cast<size_t>(kMeshLandmarks) &&
          (!best || f.box.w * f.box.h > best->box.w * best->box.h))
        best = &f;
    if (!best) continue;
    if (id >= 0 && best->id != id) summed = 0, sum.assign(kMeshLandmarks, {0, 0, 0});
    id = best->id;
    // The first run's crop comes from the detector; later ones from the landmarks.
    if (k == 0 && runs > 1) continue;
    for (int v = 0; v < kMeshLandmarks; ++v)
      for (int c = 0; c < 3; ++c) sum[v][c] += best->landmarks[v][c];
    ++summed;
  }
  if (summed == 0) {
    if (error)
      *error = "expression track: no face found in the photo (" + std::to_string(photo.width) +
               "x" + std::to_string(photo.height) + ")";
    return nullptr;
  }
  for (auto& p : sum)
    for (float& c : p) c /= static_cast<float>(summed);
  return FromLandmarks(*canonical, sum, photo.width, photo.height, error);
}

namespace {

// Per vertex, canonical - photo in canonical cm: the photo's mesh taken into the head frame
// by the inverse of the pose DisplaceLandmarks applies (image axes x right, y down, z away;
// head frame x right, y up, z towards the camera), with the origin that puts the
// canonical's Procrustes landmarks on the photo's on average.
std::vector<std::array<float, 3>> OwnExpression(const CanonicalFace& canonical,
                                                const std::vector<std::array<float, 3>>& mesh,
                                                const HeadPoseFit& fit) {
  auto posed = [&](const std::array<float, 3>& c) {
    const Eigen::Vector3f v = fit.rotation * Eigen::Vector3f(c[0], c[1], c[2]);
    return Eigen::Vector3f(fit.scale * v.x(), -fit.scale * v.y(), -fit.scale * v.z());
  };
  Eigen::Vector3f origin = Eigen::Vector3f::Zero();
  float total = 0;
  for (const auto& b : canonical.procrustes_basis) {
    if (b.landmark < 0 || b.landmark >= kMeshLandmarks) continue;
    const auto& p = mesh[b.landmark];
    origin += b.weight * (Eigen::Vector3f(p[0], p[1], p[2]) - posed(canonical.vertices[b.landmark]));
    total += b.weight;
  }
  std::vector<std::array<float, 3>> own(kMeshLandmarks, {0, 0, 0});
  if (!(total > 0)) return own;
  origin /= total;
  for (int i = 0; i < kMeshLandmarks; ++i) {
    const Eigen::Vector3f o = Eigen::Vector3f(mesh[i][0], mesh[i][1], mesh[i][2]) - origin;
    const Eigen::Vector3f q =
        fit.rotation.transpose() * Eigen::Vector3f(o.x(), -o.y(), -o.z()) / fit.scale;
    for (int c = 0; c < 3; ++c) own[i][c] = canonical.vertices[i][c] - q[c];
  }
  return own;
}

}  // namespace

std::unique_ptr<ExpressionTrack> ExpressionTrack::FromLandmarks(
    const CanonicalFace& canonical, const std::vector<std::array<float, 3>>& landmarks,
    int width, int height, std::string* error) {
  if (landmarks.size() < static_cast<size_t>(kMeshLandmarks)) {
    if (error)
      *error = "expression track: the mesh has " + std::to_string(landmarks.size()) +
               " landmarks, 468 needed";
    return nullptr;
  }
  if (width <= 0 || height <= 0) {
    if (error)
      *error = "expression track: bad photo size " + std::to_string(width) + "x" +
               std::to_string(height);
    return nullptr;
  }
  std::string err;
  auto basis = BlendshapeBasis::Create(canonical, &err);
  if (!basis) {
    if (error) *error = "expression track: " + err;
    return nullptr;
  }
  std::unique_ptr<ExpressionTrack> t(new ExpressionTrack());
  t->canonical_ = canonical;
  t->basis_ = std::move(basis);
  t->neutral_.assign(landmarks.begin(), landmarks.begin() + kMeshLandmarks);
  t->fit_ = FitHeadPose(t->canonical_, t->neutral_, width, height);
  if (!(t->fit_.scale > 0) || !std::isfinite(t->fit_.scale)) {
    if (error) *error = "expression track: the head fit of the mesh failed (degenerate mesh)";
    return nullptr;
  }
  t->width_ = width;
  t->height_ = height;
  t->own_ = OwnExpression(t->canonical_, t->neutral_, t->fit_);
  t->warp_ = std::make_unique<render::FaceWarp>(t->canonical_.triangles);
  t->deltas_.resize(kMeshLandmarks);
  t->source_.resize(kMeshLandmarks);
  t->target_.resize(kMeshLandmarks);
  return t;
}

bool ExpressionTrack::SetInstruction(std::string_view text, InstructionError* error) {
  InstructionResult r = ParseInstruction(text, *basis_);
  if (!r.ok()) {
    if (error) *error = *r.error;
    return false;
  }
  curve_ = WeightCurve(std::move(r.keyframes));
  return true;
}

void ExpressionTrack::WeightsAt(double t_s, std::span<float> out) const {
  const size_t n = std::min(out.size(), static_cast<size_t>(basis_->size()));
  std::fill(out.begin(), out.begin() + n, 0.0f);
  if (!curve_.empty()) curve_.Evaluate(t_s, out.first(n));
}

void ExpressionTrack::Place(const Placement& a, std::span<std::array<float, 3>> points) const {
  const float zs = std::sqrt(std::abs(a[0] * a[4] - a[1] * a[3]));
  for (auto& p : points) {
    const float x = p[0], y = p[1];
    p[0] = a[0] * x + a[1] * y + a[2];
    p[1] = a[3] * x + a[4] * y + a[5];
    p[2] *= zs;
  }
}

void ExpressionTrack::TargetLandmarks(std::span<const float> weights,
                                      std::span<std::array<float, 3>> out,
                                      const Placement* placement) {
  const int n = std::min(static_cast<int>(weights.size()), basis_->size());
  if (neutralise_)
    std::copy(own_.begin(), own_.end(), deltas_.begin());
  else
    std::fill(deltas_.begin(), deltas_.end(), std::array<float, 3>{0, 0, 0});
  for (int i = 0; i < n; ++i) {
    const float w = weights[i];
    if (w == 0.0f) continue;
    const auto& d = basis_->Delta(i);
    for (int v = 0; v < kMeshLandmarks; ++v)
      for (int c = 0; c < 3; ++c) deltas_[v][c] += w * d[v][c];
  }
  const auto m = out.first(std::min(out.size(), static_cast<size_t>(kMeshLandmarks)));
  render::DisplaceLandmarks(neutral_, deltas_, fit_.rotation, fit_.scale, m);
  // The placement is linear, so moving the displaced mesh equals displacing the moved one.
  if (placement) Place(*placement, m);
}

bool ExpressionTrack::Render(const ImageView& src, std::span<const float> weights,
                             const draw::MutableImageView& dst, const Placement* placement) {
  if (src.width != dst.width || src.height != dst.height) return false;
  TargetLandmarks(weights, target_, placement);
  std::copy(neutral_.begin(), neutral_.end(), source_.begin());
  if (placement) Place(*placement, source_);
  warp_->Warp(src, source_, target_, dst);
  if (mouth_cavity_) FillMouth(src, dst);
  return true;
}

// The mesh closes the mouth with triangles between the inner lips, so the warp alone would
// stretch whatever the photo shows there (teeth) over an opening jaw. Instead, across the
// mouth at each u: the top part, as tall as half the photo's own opening there, follows
// the upper lip (upper teeth stay with the skull), the bottom part likewise follows the
// lower lip (lower teeth move with the jaw), and what opens between them is the cavity
// colour. Where the opening is not larger than the photo's, the photo's opening is
// scaled to fit (lips pressing, the jaw closing).
void ExpressionTrack::FillMouth(const ImageView& src, const draw::MutableImageView& dst) {
  MouthFrame ft, fs;
  if (!ft.Set(target_[kUpperInner.front()], target_[kUpperInner.back()]) ||
      !fs.Set(source_[kUpperInner.front()], source_[kUpperInner.back()]))
    return;
  std::array<Eigen::Vector2f, 11> ut, lt, us, ls;
  Contour(kUpperInner, target_, ft, &ut);
  Contour(kLowerInner, target_, ft, &lt);
  Contour(kUpperInner, source_, fs, &us);
  Contour(kLowerInner, source_, fs, &ls);
  float lo_x = 1e9f, lo_y = 1e9f, hi_x = -1e9f, hi_y = -1e9f;
  for (const auto* idx : {&kUpperInner, &kLowerInner})
    for (int i : *idx) {
      lo_x = std::min(lo_x, target_[i][0]), hi_x = std::max(hi_x, target_[i][0]);
      lo_y = std::min(lo_y, target_[i][1]), hi_y = std::max(hi_y, target_[i][1]);
    }
  if (!(lo_x <= hi_x)) return;
  const int bx = std::max(0, static_cast<int>(std::floor(lo_x)));
  const int by = std::max(0, static_cast<int>(std::floor(lo_y)));
  const int ex = std::min(dst.width, static_cast<int>(std::ceil(hi_x)) + 1);
  const int ey = std::min(dst.height, static_cast<int>(std::ceil(hi_y)) + 1);
  if (ex <= bx || ey <= by) return;
  mouth_.Resize(ex - bx, ey - by);
  mouth_.Fill({0, 0, 0, 0});
  for (int y = by; y < ey; ++y)
    for (int x = bx; x < ex; ++x) {
      const Eigen::Vector2f uv = ft.Uv({x + 0.5f, y + 0.5f});
      const float u = uv.x(), v = uv.y();
      if (!(u > 0.0f && u < 1.0f)) continue;
      const float vu = ContourAt(ut, u), vl = ContourAt(lt, u);
      if (!(v >= vu && v <= vl)) continue;
      const float su = ContourAt(us, u), sl = ContourAt(ls, u);
      const float ht = vl - vu, hs = std::max(0.0f, sl - su);
      uint8_t* out = mouth_.Row(y - by) + 4 * (x - bx);
      float vs;
      if (ht <= hs) {
        vs = su + (ht > 1e-3f ? (v - vu) * hs / ht : 0.0f);
      } else if (v - vu <= 0.5f * hs) {
        vs = su + (v - vu);
      } else if (vl - v <= 0.5f * hs) {
        vs = sl - (vl - v);
      } else {
        std::copy(kCavity.begin(), kCavity.end(), out);
        continue;
      }
      const Eigen::Vector2f p = fs.Point(u, vs);
      Sample(src, p.x(), p.y(), out);
    }
  render::WriteRgba(mouth_, dst, bx, by);
}

bool ExpressionTrack::RenderAt(double t_s, const ImageView& src, const draw::MutableImageView& dst,
                               std::span<float> weights_out, const Placement* placement) {
  WeightsAt(t_s, weights_out);
  const size_t n = std::min(weights_out.size(), static_cast<size_t>(basis_->size()));
  return Render(src, weights_out.first(n), dst, placement);
}

}  // namespace fg
