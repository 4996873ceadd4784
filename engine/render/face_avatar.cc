#include "engine/render/face_avatar.h"

#include <algorithm>
#include <span>

#include <Eigen/Geometry>

#include "engine/tracking/head_pose.h"

namespace fg::render {

std::unique_ptr<FaceAvatar> FaceAvatar::Create(const std::string& models_dir, std::string* err) {
  auto face = LoadCanonicalFace(models_dir + "/" + kCanonicalFaceFile, err);
  if (!face) return nullptr;
  auto basis = BlendshapeBasis::Create(*face, err);
  if (!basis) return nullptr;
  std::unique_ptr<FaceAvatar> a(new FaceAvatar());
  a->canonical_ = std::move(*face);
  a->basis_ = std::move(*basis);
  a->mirror_ = std::make_unique<MirrorSolver>(a->canonical_, *a->basis_);
  a->warp_ = std::make_unique<FaceWarp>(a->canonical_.triangles);
  a->warp_->SetSkirt(kWarpSkirtScale);  // no tear where the face oval moves (warp.h)
  a->face_texture_ = MakeFaceTexture(a->canonical_, 512, /*iris=*/false);  // face_features.h
  a->head_ = MakeAvatarHead(a->canonical_);  // hair, ears, neck (avatar_head.h)
  a->head_scratch_.resize(a->head_.vertex_count());
  const size_t n = static_cast<size_t>(a->basis_->size());
  a->overlay_.assign(n, 0.f);
  a->scratch_w_.assign(n, 0.f);
  a->morphed_.resize(a->canonical_.vertices.size());
  a->deltas_.resize(a->canonical_.vertices.size());
  a->target_.resize(a->canonical_.vertices.size());
  a->gltf_measured_index_.fill(-1);
  for (const char* m : kMeasuredBlendshapes) a->measured_names_.emplace_back(m);
  return a;
}

bool FaceAvatar::SetCalibration(const std::string& path, std::string* err) {
  auto m = std::make_unique<MirrorSolver>(canonical_, *basis_);
  if (!path.empty()) {
    auto r = LoadResponseBasis(path, err);
    if (!r) return false;
    std::string e;
    if (!m->SetResponseBasis(*r, &e)) {
      *err = path + ": " + e;
      return false;
    }
  }
  mirror_ = std::move(m);
  return true;
}

bool FaceAvatar::SetAvatar(const std::string& path, std::string* err, std::string* warning) {
  warning->clear();
  if (path.empty()) {
    gltf_.reset();
    gltf_index_.clear();
    gltf_measured_index_.fill(-1);
    morphed_.resize(canonical_.vertices.size());
    return true;
  }
  // Driven: the basis's targets and the mirror's measured ones (tongueOut is never driven:
  // the warning names it).
  std::vector<std::string> driven = basis_->names();
  for (const char* m : kMeasuredBlendshapes)
    if (std::string_view(m) != "tongueOut") driven.emplace_back(m);
  auto g = LoadGltfAvatar(path, driven, err, warning);
  if (!g) return false;
  gltf_ = std::move(*g);
  gltf_index_.assign(basis_->size(), -1);
  for (int i = 0; i < basis_->size(); ++i) gltf_index_[i] = gltf_->TargetIndex(basis_->names()[i]);
  for (int k = 0; k < kMeasuredCount; ++k)
    gltf_measured_index_[k] = std::string_view(kMeasuredBlendshapes[k]) == "tongueOut"
                                  ? -1
                                  : gltf_->TargetIndex(kMeasuredBlendshapes[k]);
  gltf_w_.assign(gltf_->target_names.size(), 0.f);
  morphed_.resize(gltf_->positions.size());
  return true;
}

bool FaceAvatar::SetInstruction(std::string_view text, InstructionError* error) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    instruction_ = WeightCurve();
    return true;
  }
  InstructionResult r = ParseInstruction(text, *basis_);
  if (!r.ok()) {
    *error = *r.error;
    return false;
  }
  instruction_ = WeightCurve(std::move(r.keyframes));
  instruction_.SetTiming(FacsOnsetTiming(basis_->names()));  // brows lead, cheeks lag (curve.h)
  overlay_origin_pending_ = true;
  return true;
}

bool FaceAvatar::SetTimeline(std::string_view json, std::string* err) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    timeline_.reset();
    return true;
  }
  auto tl = Timeline::Parse(json, *basis_, err);
  if (!tl) return false;
  timeline_ = std::move(*tl);
  overlay_origin_pending_ = true;
  return true;
}

void FaceAvatar::Reset() {
  mirror_ = std::make_unique<MirrorSolver>(canonical_, *basis_);
  slots_.clear();
  first_pts_.reset();
  frames_ = 0;
  overlay_origin_pending_ = true;
}

double FaceAvatar::Seconds(int64_t pts_ns) {
  const int64_t frame = frames_++;
  if (pts_ns < 0) return frame / 30.0;
  if (!first_pts_) first_pts_ = pts_ns;
  return static_cast<double>(pts_ns - *first_pts_) * 1e-9;
}

void FaceAvatar::UpdateSlot(Slot& s, const MirrorResult* live, double t) {
  const size_t n = overlay_.size();
  if (s.mirror.size() != n) {
    s.mirror.assign(n, 0.f);
    s.from.assign(n, 0.f);
    s.shown.assign(n, 0.f);
  }
  const bool present = live != nullptr;
  if (present != s.present) {  // start an ease from what is shown now
    s.present = present;
    s.change_s = t;
    s.from = s.mirror;
    s.from_measured = s.measured;
    s.from_rot = s.rot;
  }
  const double tau = opts_.ease_s > 0 ? (t - s.change_s) / opts_.ease_s : 1.0;
  const float k = static_cast<float>(MinimumJerk(tau));
  for (size_t i = 0; i < n; ++i) {
    const float target = present && i < live->weights.size() ? live->weights[i] : 0.f;
    s.mirror[i] = s.from[i] + (target - s.from[i]) * k;
  }
  for (int i = 0; i < kMeasuredCount; ++i) {
    const float target =
        present && i < static_cast<int>(live->measured.size()) ? live->measured[i] : 0.f;
    s.measured[i] = s.from_measured[i] + (target - s.from_measured[i]) * k;
  }
  const Eigen::Matrix3f target_rot = present ? live->rotation : Eigen::Matrix3f::Identity();
  const Eigen::Quaternionf qa(s.from_rot), qb(target_rot);
  s.rot = qa.slerp(k, qb).normalized().toRotationMatrix();
  CombineWeights(s.mirror, overlay_, CombineRule::kMax, s.shown);
}

void FaceAvatar::Process(FrameFaces& faces, int64_t pts_ns, const draw::MutableImageView& frame) {
  const double t = Seconds(pts_ns);
  const int64_t now_ns = pts_ns >= 0 ? pts_ns : static_cast<int64_t>(t * 1e9);
  if (overlay_origin_pending_) {
    overlay_origin_s_ = t;
    overlay_origin_pending_ = false;
  }
  const double to = t - overlay_origin_s_;
  std::fill(overlay_.begin(), overlay_.end(), 0.f);
  if (!instruction_.empty()) instruction_.Evaluate(to, overlay_);
  if (timeline_) {
    timeline_->Evaluate(to, scratch_w_);
    CombineWeights(overlay_, scratch_w_, CombineRule::kMax, overlay_);
  }

  // Mirror every face (with the frame unless options.refine is off: the appearance
  // refinement, mirror.h step 1b); every
  // face gets its shown weights as blendshapes. The frame is read before warp mode writes it.
  const std::vector<std::string>& names = basis_->names();
  const ImageView picture = frame.view();
  for (Face& f : faces.faces) {
    const MirrorResult* r =
        opts_.mirror ? mirror_->Update(f, now_ns, frame.width, frame.height,
                                       opts_.refine ? &picture : nullptr)
                     : nullptr;
    for (size_t i = 0; i < names.size(); ++i) {
      const float m = r && i < r->weights.size() ? r->weights[i] : 0.f;
      f.blendshapes[names[i]] = std::max(m, overlay_[i]);
    }
    for (int k = 0; k < kMeasuredCount; ++k)  // mirror.h step 6
      f.blendshapes[measured_names_[k]] =
          r && k < static_cast<int>(r->measured.size()) ? r->measured[k] : 0.f;
  }
  mirror_->DropStale(now_ns);

  // Faces that drive slots, by track id (the lowest first: the longest tracked).
  int64_t ids[64];
  int count = 0;
  for (const Face& f : faces.faces)
    if (f.landmarks.size() >= static_cast<size_t>(kMeshLandmarks) && count < 64) ids[count++] = f.id;
  std::sort(ids, ids + count);
  const int want = opts_.faces == FaceSelection::kAll
                       ? std::clamp(count, 1, std::max(1, opts_.max_slots))
                       : 1;
  slots_.resize(static_cast<size_t>(want));
  for (int i = 0; i < want; ++i) {
    const MirrorResult* live = i < count && opts_.mirror ? mirror_->Get(ids[i]) : nullptr;
    slots_[i].id = i < count ? ids[i] : -1;
    slots_[i].gaze = Gaze{};
    for (const Face& f : faces.faces)
      if (i < count && f.id == ids[i]) slots_[i].gaze = GazeFromLandmarks(f.landmarks);
    UpdateSlot(slots_[i], live, t);
  }

  if (opts_.output == OutputMode::kWarp)
    WarpFaces(faces, frame);
  else
    RenderPanel(frame);
}

void FaceAvatar::RenderPanel(const draw::MutableImageView& frame) {
  const CompositeMode mode = opts_.output == OutputMode::kReplace ? CompositeMode::kReplace
                             : opts_.output == OutputMode::kSideBySide ? CompositeMode::kSideBySide
                                                                       : CompositeMode::kPip;
  const Layout layout = ComputeLayout(mode, frame.width, frame.height, opts_.pip_size);
  if (mode == CompositeMode::kSideBySide && layout.panel.x > 0) {
    ShrinkVideo(frame.view(), layout, opts_.background, &left_);
    WriteRgba(left_, frame, 0, 0);
  }
  if (layout.panel.w <= 0 || layout.panel.h <= 0) return;
  raster_.SetTarget(layout.panel.w, layout.panel.h);
  raster_.Clear(opts_.background);
  const int k = static_cast<int>(slots_.size());
  const int sub_w = std::max(1, layout.panel.w / std::max(1, k));
  Material material;
  if (gltf_) {
    material.color = gltf_->base_color;
    material.texture = gltf_->texture ? &*gltf_->texture : nullptr;
  }
  for (int i = 0; i < k; ++i) {
    const Slot& s = slots_[i];
    MeshView mesh;
    std::span<const std::array<float, 3>> neutral;
    if (gltf_) {
      for (size_t j = 0; j < gltf_index_.size(); ++j)
        if (gltf_index_[j] >= 0) gltf_w_[gltf_index_[j]] = s.shown[j];
      for (int j = 0; j < kMeasuredCount; ++j)
        if (gltf_measured_index_[j] >= 0) gltf_w_[gltf_measured_index_[j]] = s.measured[j];
      gltf_->Apply(gltf_w_, morphed_);
      mesh = gltf_->mesh(morphed_);
      neutral = gltf_->positions;
    } else {
      basis_->Apply(s.shown, morphed_);
      ApplyBrowCorrective(*basis_, s.shown, morphed_);  // AU1+4 (face_features.h)
      mesh = {morphed_, canonical_.triangles, canonical_.uvs};
      material.texture = &face_texture_;
      neutral = basis_->neutral();
    }
    Camera cam = Camera::Fit(neutral, sub_w, layout.panel.h, 0.85f);
    cam.cx += static_cast<float>(i * sub_w);
    raster_.Draw(mesh, s.rot, cam, material, kAvatarLight, opts_.shading);
    if (!gltf_)
      DrawAvatarHead(raster_, head_, morphed_, head_scratch_, s.rot, cam, kAvatarLight, opts_.shading);
  }
  if (gltf_) {
    WriteRgba(raster_.image(), frame, layout.panel.x, layout.panel.y);
    return;
  }
  // The canonical avatar's eyes and mouth (face_features.h), per slot on a copy of the panel.
  const RgbaImage& drawn = raster_.image();
  panel_.Resize(drawn.width, drawn.height);
  std::copy(drawn.px.begin(), drawn.px.begin() + static_cast<size_t>(drawn.width) * drawn.height * 4,
            panel_.px.begin());
  for (int i = 0; i < k; ++i) {
    const Slot& s = slots_[i];
    basis_->Apply(s.shown, morphed_);
    ApplyBrowCorrective(*basis_, s.shown, morphed_);
    Camera cam = Camera::Fit(basis_->neutral(), sub_w, layout.panel.h, 0.85f);
    cam.cx += static_cast<float>(i * sub_w);
    const WrinkleDrive aus = WrinkleDriveFromWeights(*basis_, s.shown);
    DrawFaceFeatures(raster_, morphed_, basis_->neutral(), s.rot, cam, s.gaze, panel_, &aus);
  }
  WriteRgba(panel_, frame, layout.panel.x, layout.panel.y);
}

void FaceAvatar::WarpFaces(FrameFaces& faces, const draw::MutableImageView& frame) {
  const int64_t primary = slots_.empty() ? -1 : slots_[0].id;
  bool copied = false;
  const int n = basis_->size();
  for (Face& f : faces.faces) {
    if (f.landmarks.size() < static_cast<size_t>(kMeshLandmarks)) continue;
    if (opts_.faces == FaceSelection::kPrimary && f.id != primary) continue;
    // The weights this face does not already show.
    const MirrorResult* r = opts_.mirror ? mirror_->Get(f.id) : nullptr;
    bool any = false;
    for (int i = 0; i < n; ++i) {
      const float m = r && i < static_cast<int>(r->weights.size()) ? r->weights[i] : 0.f;
      scratch_w_[i] = std::max(0.f, overlay_[i] - m);
      any |= scratch_w_[i] > 1e-4f;
    }
    if (!any) continue;
    std::fill(deltas_.begin(), deltas_.end(), std::array<float, 3>{0, 0, 0});
    for (int i = 0; i < n; ++i) {
      if (scratch_w_[i] <= 1e-4f) continue;
      const auto& d = basis_->Delta(i);
      const float w = scratch_w_[i];
      for (size_t v = 0; v < deltas_.size(); ++v)
        for (int c = 0; c < 3; ++c) deltas_[v][c] += w * d[v][c];
    }
    warp_->SetEyewearLayer(opts_.rigid_eyewear);  // glasses keep their shape (warp.h)
    const HeadPoseFit fit = FitHeadPose(canonical_, f.landmarks, frame.width, frame.height);
    const std::span<const std::array<float, 3>> src(f.landmarks.data(), kMeshLandmarks);
    DisplaceLandmarks(src, deltas_, fit.rotation, fit.scale, target_);
    if (!copied) {
      copy_.Assign(frame.view());
      copied = true;
    }
    warp_->Warp(copy_.view(), src, target_, frame);
    if (opts_.mouth_interior) mouth_.Draw(copy_.view(), src, target_, frame);
  }
}

}  // namespace fg::render
