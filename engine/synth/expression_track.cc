#include "engine/synth/expression_track.h"

#include <algorithm>
#include <cmath>

#include "engine/face.h"
#include "engine/tracking/face_tracker.h"

namespace fg {

namespace {

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
  t->warp_->SetSkirt(render::kWarpSkirtScale);  // no tear where the face oval moves
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
  curve_.SetTiming(FacsOnsetTiming(basis_->names()));  // as faceavatar's instruction (curve.h)
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
  if (mouth_cavity_) mouth_.Draw(src, source_, target_, dst);
  return true;
}

bool ExpressionTrack::RenderAt(double t_s, const ImageView& src, const draw::MutableImageView& dst,
                               std::span<float> weights_out, const Placement* placement) {
  WeightsAt(t_s, weights_out);
  const size_t n = std::min(weights_out.size(), static_cast<size_t>(basis_->size()));
  return Render(src, weights_out.first(n), dst, placement);
}

}  // namespace fg
