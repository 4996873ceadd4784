#include "engine/synth/prototype_check.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <utility>

#include "engine/avatar/blendshapes.h"
#include "engine/synth/expression_track.h"
#include "engine/tracking/face_tracker.h"

namespace fg {

PrototypeCheck::PrototypeCheck() = default;
PrototypeCheck::~PrototypeCheck() = default;

std::unique_ptr<PrototypeCheck> PrototypeCheck::Create(const ImageView& photo,
                                                       const std::string& models_dir,
                                                       std::string_view backend,
                                                       std::string* error) {
  if (photo.format != PixelFormat::kRGB || photo.width <= 0 || photo.height <= 0) {
    if (error) *error = "prototype check: the photo must be packed RGB";
    return nullptr;
  }
  std::unique_ptr<PrototypeCheck> c(new PrototypeCheck());
  c->width_ = photo.width;
  c->height_ = photo.height;
  c->photo_.resize(static_cast<size_t>(photo.width) * photo.height * 3);
  for (int y = 0; y < photo.height; ++y) {
    const uint8_t* row = photo.planes[0] + static_cast<ptrdiff_t>(y) * photo.strides[0];
    std::copy(row, row + 3 * photo.width,
              c->photo_.begin() + static_cast<ptrdiff_t>(y) * 3 * photo.width);
  }
  ImageView pv;
  if (auto e = ImageView::Wrap(PixelFormat::kRGB, c->width_, c->height_, {c->photo_.data()},
                               {3 * c->width_}, &pv)) {
    if (error) *error = "prototype check: " + *e;
    return nullptr;
  }
  std::string err;
  ExpressionTrackOptions eo;
  eo.models_dir = models_dir;
  eo.backend = std::string(backend);
  c->track_ = ExpressionTrack::Create(pv, eo, &err);
  if (!c->track_) {
    if (error) *error = "prototype check: " + err;
    return nullptr;
  }
  c->classifier_ = EmotionClassifier::Create(models_dir + "/emotion.json", backend, &err);
  if (!c->classifier_) {
    if (error) *error = "prototype check: " + err;
    return nullptr;
  }
  TrackerOptions to;
  to.models_dir = models_dir;
  to.backend = std::string(backend);
  to.async_detect = false;
  c->tracker_ = FaceTracker::Create(to, &err);
  if (!c->tracker_) {
    if (error) *error = "prototype check: " + err;
    return nullptr;
  }
  return c;
}

// As faceemotion sees a still frame: the tracker run three frames on it (the crop comes from
// the landmarks after the first), then the crop from the reported mesh.
bool PrototypeCheck::Classify(const ImageView& picture, EmotionProbs* out) {
  tracker_->Reset();
  FrameFaces ff;
  for (int k = 0; k < 3; ++k) ff = tracker_->Process(picture, k * int64_t{33'333'333});
  if (ff.faces.size() != 1u) return false;
  if (!SampleEmotionCrop(picture, ff.faces[0].landmarks, {}, classifier_->input())) return false;
  return classifier_->Run(out);
}

bool PrototypeCheck::ClassifyPhoto(EmotionProbs* out) {
  ImageView pv;
  if (ImageView::Wrap(PixelFormat::kRGB, width_, height_, {photo_.data()}, {3 * width_}, &pv))
    return false;
  return Classify(pv, out);
}

bool PrototypeCheck::Run(const PrototypeVariant& variant, PrototypeMatrix* out,
                         std::string* error, std::vector<RgbImage>* pictures) {
  ImageView pv;
  if (ImageView::Wrap(PixelFormat::kRGB, width_, height_, {photo_.data()}, {3 * width_}, &pv))
    return false;
  track_->SetMouthCavity(variant.mouth_interior);
  track_->SetNeutralise(variant.neutralise);
  track_->SetRigidEyewear(variant.rigid_eyewear);
  *out = PrototypeMatrix{};
  if (pictures) pictures->assign(kPrototypeRows.size(), RgbImage{});
  for (size_t r = 0; r < kPrototypeRows.size(); ++r) {
    const PrototypeRow& row = kPrototypeRows[r];
    const Expression* e = FindExpression(row.expression);
    if (!e) {
      if (error) *error = std::string("prototype check: no expression named ") + row.expression;
      return false;
    }
    const std::vector<float> weights = ExpressionWeights(*e, track_->basis(), variant.intensity);
    frame_ = photo_;  // the warp writes only inside the face: the rest stays the photo's
    draw::MutableImageView dst;
    if (draw::MutableImageView::Wrap(PixelFormat::kRGB, width_, height_, {frame_.data()},
                                     {3 * width_}, &dst) ||
        !track_->Render(pv, weights, dst)) {
      if (error) *error = std::string("prototype check: ") + row.expression + ": warp failed";
      return false;
    }
    if (pictures) (*pictures)[r] = RgbImage{width_, height_, frame_};
    if (!Classify(dst.view(), &out->probs[r])) {
      if (error)
        *error = std::string("prototype check: ") + row.expression +
                 ": not exactly one face tracked on the warped picture, or the classifier "
                 "failed";
      return false;
    }
    if (row.intended != kEmotionNeutral && ArgMax(out->probs[r]) == row.intended)
      ++out->recognised;
  }
  return true;
}

std::string PrototypeCheck::Format(const PrototypeMatrix& m) {
  std::string s;
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %-9s", "rendered");
  s += buf;
  for (auto n : kEmotionNames) {
    std::snprintf(buf, sizeof buf, " %8s", std::string(n).c_str());
    s += buf;
  }
  s += "\n";
  for (size_t r = 0; r < kPrototypeRows.size(); ++r) {
    std::snprintf(buf, sizeof buf, "  %-9s", kPrototypeRows[r].expression);
    s += buf;
    for (float x : m.probs[r]) {
      std::snprintf(buf, sizeof buf, " %8.3f", x);
      s += buf;
    }
    s += "   -> " + std::string(kEmotionNames[ArgMax(m.probs[r])]) + "\n";
  }
  std::snprintf(buf, sizeof buf, "recognised as intended: %d of 6\n", m.recognised);
  s += buf;
  return s;
}

}  // namespace fg
