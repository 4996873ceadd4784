#include "engine/liveness/liveness_classifier.h"

#include <algorithm>
#include <cmath>

#include "engine/face.h"

namespace fg {

namespace {
// FaceMesh eye corners: subject's right eye (image left) 33 outer / 133 inner, left eye 362
// inner / 263 outer.
constexpr int kRightOuter = 33, kRightInner = 133, kLeftInner = 362, kLeftOuter = 263;

std::string ShapeString(const nn::Shape& sh) {
  std::string t = "[";
  for (size_t i = 0; i < sh.size(); ++i) t += (i ? "," : "") + std::to_string(sh[i]);
  return t + "]";
}

}  // namespace

std::string CheckLivenessShapes(const std::string& file, int size, int outputs, size_t num_inputs,
                                size_t num_outputs, const nn::Shape& in, const nn::Shape& out0) {
  if (num_inputs != 1 || num_outputs < 1)
    return file + ": needs 1 input and at least 1 output, has " + std::to_string(num_inputs) +
           " and " + std::to_string(num_outputs);
  if (in.size() != 4 || in[1] != size || in[2] != size || in[3] != 3 || (in[0] != 1 && in[0] != -1))
    return file + ": input must be [1," + std::to_string(size) + "," + std::to_string(size) +
           ",3] (RGB), is " + ShapeString(in);
  int64_t n = 1;
  for (int64_t d : out0) n *= (d < 0 ? 1 : d);
  if (n != outputs)
    return file + ": output must hold " + std::to_string(outputs) + " value(s), is " +
           ShapeString(out0);
  return "";
}

namespace {

// Opens one of the two models and checks its input is [1|-1, size, size, 3] and its first
// output holds `outputs` values.
std::unique_ptr<nn::Session> OpenChecked(const std::string& file, std::string_view backend,
                                         int size, int outputs, std::string* error) {
  auto s = nn::Session::Open(file, backend);
  if (!s.ok()) {
    *error = s.status().message();
    return nullptr;
  }
  std::unique_ptr<nn::Session> ss = std::move(s).value();
  *error = CheckLivenessShapes(file, size, outputs, ss->num_inputs(), ss->num_outputs(),
                               ss->num_inputs() ? ss->input_shape(0) : nn::Shape{},
                               ss->num_outputs() ? ss->output_shape(0) : nn::Shape{});
  if (!error->empty()) return nullptr;
  return ss;
}
}  // namespace

bool LivenessCropTransform(const std::vector<std::array<float, 3>>& lm,
                           const LivenessCropOptions& opts, Affine2D* m) {
  if (lm.size() < static_cast<size_t>(kMeshLandmarks)) return false;
  float r[3], l[3];
  for (int k = 0; k < 3; ++k) {
    r[k] = 0.5f * (lm[kRightOuter][k] + lm[kRightInner][k]);
    l[k] = 0.5f * (lm[kLeftInner][k] + lm[kLeftOuter][k]);
  }
  const float dx = l[0] - r[0], dy = l[1] - r[1], dz = l[2] - r[2];
  const float iod = std::sqrt(dx * dx + dy * dy + dz * dz);
  if (!(iod > 1e-3f)) return false;
  // The tracker's angle convention: counter-clockwise on screen, eye line level.
  const float angle = std::atan2(-dy, dx);
  const float down_x = std::sin(angle), down_y = std::cos(angle);  // the face's "down"
  const float off = opts.centre_below_eyes_iod * iod;
  const float cx = 0.5f * (r[0] + l[0]) + off * down_x;
  const float cy = 0.5f * (r[1] + l[1]) + off * down_y;
  *m = Affine2D::SquareCrop(cx, cy, opts.side_per_iod * iod, angle, kLivenessCropSize);
  return true;
}

bool SampleLivenessCrop(const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
                        const LivenessCropOptions& opts, float* out) {
  Affine2D m;
  if (!LivenessCropTransform(landmarks, opts, &m)) return false;
  SampleCrop(frame, m, kLivenessCropSize, kLivenessCropSize, CropNorm::kUnit, CropChannels::kRgb,
             out);
  return true;
}

void ResizeBilinearTf(const float* in, int in_size, int channels, int out_size, float* out) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (int i = 0; i < out_size; ++i) {
    const float sy = static_cast<float>(i) * scale;
    const int y0 = std::min(static_cast<int>(std::floor(sy)), in_size - 1);
    const int y1 = std::min(y0 + 1, in_size - 1);
    const float fy = sy - static_cast<float>(y0);
    for (int j = 0; j < out_size; ++j) {
      const float sx = static_cast<float>(j) * scale;
      const int x0 = std::min(static_cast<int>(std::floor(sx)), in_size - 1);
      const int x1 = std::min(x0 + 1, in_size - 1);
      const float fx = sx - static_cast<float>(x0);
      const float* p00 = in + (static_cast<size_t>(y0) * in_size + x0) * channels;
      const float* p01 = in + (static_cast<size_t>(y0) * in_size + x1) * channels;
      const float* p10 = in + (static_cast<size_t>(y1) * in_size + x0) * channels;
      const float* p11 = in + (static_cast<size_t>(y1) * in_size + x1) * channels;
      float* o = out + (static_cast<size_t>(i) * out_size + j) * channels;
      for (int c = 0; c < channels; ++c) {
        // TF's order: top and bottom rows first, then between them.
        const float top = p00[c] + (p01[c] - p00[c]) * fx;
        const float bottom = p10[c] + (p11[c] - p10[c]) * fx;
        o[c] = top + (bottom - top) * fy;
      }
    }
  }
}

void PrepareLivenessInputs(const float* crop192, float* antispoof128, float* liveness32) {
  ResizeBilinearTf(crop192, kLivenessCropSize, 3, kAntispoofInputSize, antispoof128);
  ResizeBilinearTf(crop192, kLivenessCropSize, 3, kLivenessInputSize, liveness32);
}

std::unique_ptr<LivenessClassifier> LivenessClassifier::Create(const std::string& models_dir,
                                                               std::string_view backend,
                                                               std::string* error) {
  std::unique_ptr<LivenessClassifier> c(new LivenessClassifier);
  c->antispoof_ = OpenChecked(models_dir + "/antispoof.json", backend, kAntispoofInputSize, 1, error);
  if (!c->antispoof_) return nullptr;
  c->liveness_ = OpenChecked(models_dir + "/liveness.json", backend, kLivenessInputSize, 2, error);
  if (!c->liveness_) return nullptr;
  return c;
}

bool LivenessClassifier::Run(LivenessScores* out) {
  nn::Status st = antispoof_->Run();
  if (st.ok()) st = liveness_->Run();
  if (!st.ok()) {
    last_error_ = st.message();  // allocates, but only on failure
    return false;
  }
  out->real = antispoof_->output(0)[0];
  out->live = liveness_->output(0)[0];
  return true;
}

}  // namespace fg
