#include "engine/emotion/emotion_classifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/face.h"

namespace fg {

namespace {
// FaceMesh eye corners: subject's right eye (image left) 33 outer / 133 inner, left eye 362
// inner / 263 outer.
constexpr int kRightOuter = 33, kRightInner = 133, kLeftInner = 362, kLeftOuter = 263;
}  // namespace

bool EmotionCropTransform(const std::vector<std::array<float, 3>>& lm,
                          const EmotionCropOptions& opts, Affine2D* m) {
  if (lm.size() < static_cast<size_t>(kMeshLandmarks)) return false;
  float r[3], l[3];
  for (int k = 0; k < 3; ++k) {
    r[k] = 0.5f * (lm[kRightOuter][k] + lm[kRightInner][k]);
    l[k] = 0.5f * (lm[kLeftInner][k] + lm[kLeftOuter][k]);
  }
  const float dx = l[0] - r[0], dy = l[1] - r[1], dz = l[2] - r[2];
  const float iod = std::sqrt(dx * dx + dy * dy + dz * dz);
  if (!(iod > 1e-3f)) return false;
  // Same angle convention as the tracker's crops: counter-clockwise on screen, eye line level.
  const float angle = std::atan2(-dy, dx);
  // The face's "down" in the image, perpendicular to the eye line (y points down).
  const float down_x = std::sin(angle), down_y = std::cos(angle);
  const float off = opts.centre_below_eyes_iod * iod;
  const float cx = 0.5f * (r[0] + l[0]) + off * down_x;
  const float cy = 0.5f * (r[1] + l[1]) + off * down_y;
  *m = Affine2D::SquareCrop(cx, cy, opts.side_per_iod * iod, angle, kEmotionInputSize);
  return true;
}

bool SampleEmotionCrop(const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
                       const EmotionCropOptions& opts, float* out) {
  Affine2D m;
  if (!EmotionCropTransform(landmarks, opts, &m)) return false;
  SampleCrop(frame, m, kEmotionInputSize, kEmotionInputSize, CropNorm::kSigned,
             CropChannels::kGray, out);
  return true;
}

std::string CheckEmotionShapes(const std::string& model_json, size_t inputs, size_t outputs,
                               const nn::Shape& in, const nn::Shape& out0) {
  auto shape_str = [](const nn::Shape& sh) {
    std::string t = "[";
    for (size_t i = 0; i < sh.size(); ++i) t += (i ? "," : "") + std::to_string(sh[i]);
    return t + "]";
  };
  if (inputs != 1 || outputs < 1)
    return model_json + ": emotion model needs 1 input and 1 output, has " +
           std::to_string(inputs) + " and " + std::to_string(outputs);
  if (in.size() != 4 || in[1] != kEmotionInputSize || in[2] != kEmotionInputSize || in[3] != 1 ||
      (in[0] != 1 && in[0] != -1))
    return model_json + ": emotion input must be [1,64,64,1] (gray), is " + shape_str(in);
  int64_t n = 1;
  for (int64_t d : out0) n *= (d < 0 ? 1 : d);
  if (n != kEmotionClasses)
    return model_json + ": emotion output must hold 7 classes, is " + shape_str(out0);
  return "";
}

std::unique_ptr<EmotionClassifier> EmotionClassifier::Create(const std::string& model_json,
                                                             std::string_view backend,
                                                             std::string* error) {
  auto s = nn::Session::Open(model_json, backend);
  if (!s.ok()) {
    *error = s.status().message();
    return nullptr;
  }
  std::unique_ptr<EmotionClassifier> c(new EmotionClassifier);
  c->session_ = std::move(s).value();
  nn::Session& ss = *c->session_;
  *error = CheckEmotionShapes(model_json, ss.num_inputs(), ss.num_outputs(),
                              ss.num_inputs() ? ss.input_shape(0) : nn::Shape{},
                              ss.num_outputs() ? ss.output_shape(0) : nn::Shape{});
  if (!error->empty()) return nullptr;
  c->output_ = 0;
  return c;
}

bool EmotionClassifier::Run(EmotionProbs* out) {
  const nn::Status st = session_->Run();
  if (!st.ok()) {
    last_error_ = st.message();  // allocates, but only on failure
    return false;
  }
  std::memcpy(out->data(), session_->output(output_), sizeof(float) * kEmotionClasses);
  return true;
}

bool EmotionClassifier::Classify(const float* crop, EmotionProbs* out) {
  std::memcpy(session_->input(0), crop, sizeof(float) * kEmotionCropElements);
  return Run(out);
}

int ArgMax(const EmotionProbs& p) {
  return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
}

}  // namespace fg
