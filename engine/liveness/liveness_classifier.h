// LivenessClassifier: one tracked face in, two scores out: Human 3.3.6's `antispoof` ("real":
// is this a real face rather than a photo or a screen) and `liveness` ("live").
//
//   frame + 468 landmarks ──► LivenessCropTransform (Human's face square, eye line level)
//     ──► SampleLivenessCrop (192x192 RGB in [0, 1]) ──► ResizeBilinearTf to 128 and to 32
//     ──► antispoof (128x128x3 -> 1 value) + liveness (32x32x3 -> 2 values, [0] = live)
//
// What Human does (src/face/antispoof.ts and liveness.ts, the same code for both models;
// src/face/face.ts passes them faces[i].tensor): the face tensor is FaceMesh's 192x192 input,
// tf.image.cropAndResize of the detector box enlarged 1.4x and squared, divided by 255 (RGB
// in [0, 1]), unrotated with Human's default detector.rotation=false; it is resized with
// tf.image.resizeBilinear(face, [N, N], alignCorners=false) (half-pixel centres off: source
// = destination x 192 / N) and run; the first output value, rounded to 0.01, is face.real
// resp. face.live. We keep Human's two steps (crop at 192, then the TF resize) because the
// 192 -> 32 resize without antialiasing samples every sixth pixel, and the liveness network
// learned on that aliasing; we skip the rounding (the per-track smoothing wants resolution).
//
// The crop: Human's FaceMesh input square, as measured on Human's runs of the astronaut
// (tests/data/tracking; the emotion crop used it too before it took FER2013's framing,
// docs/eval/emotion.md): a square of
// side 3.6 x the inter-ocular distance (3D, eye centres = midpoints of 33/133 and 362/263)
// centred 0.5 IOD below the eye midpoint, rotated so the eye line is level (Human does not
// rotate; on an upright face that is the same square). tests/liveness/liveness_reference_test
// checks the square against the crop Human cut (tests/data/liveness, written by
// tools/tfjs/make-liveness-references.mjs) and both networks on Human's exact inputs.
//
// Threading: LivenessClassifier is thread-compatible (one per thread: it owns two Sessions);
// the free functions are stateless and reentrant. Run() does not allocate.
//
// Example:
//   std::string err;
//   auto c = fg::LivenessClassifier::Create(models_dir, "auto", &err);
//   if (!c) return err;                                     // names the file and what is wrong
//   std::vector<float> crop(fg::kLivenessCropElements);
//   if (fg::SampleLivenessCrop(frame, face.landmarks, {}, crop.data())) {
//     fg::PrepareLivenessInputs(crop.data(), c->antispoof_input(), c->liveness_input());
//     fg::LivenessScores s;
//     if (c->Run(&s)) use(s.real, s.live);
//   }
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image.h"
#include "engine/nn/session.h"
#include "engine/tracking/crop.h"

namespace fg {

inline constexpr int kLivenessCropSize = 192;  // Human's face tensor (FaceMesh input)
inline constexpr int kLivenessCropElements = kLivenessCropSize * kLivenessCropSize * 3;
inline constexpr int kAntispoofInputSize = 128;
inline constexpr int kAntispoofInputElements = kAntispoofInputSize * kAntispoofInputSize * 3;
inline constexpr int kLivenessInputSize = 32;
inline constexpr int kLivenessInputElements = kLivenessInputSize * kLivenessInputSize * 3;

struct LivenessCropOptions {
  float side_per_iod = 3.6f;          // crop side / inter-ocular distance (see above)
  float centre_below_eyes_iod = 0.5f;  // crop centre below the eye midpoint, in IOD
};

struct LivenessScores {
  float real = 0;  // antispoof output (sigmoid): 1 = a real face
  float live = 0;  // liveness output [0] (softmax of 2): 1 = live
};

// The crop's map (192x192 output pixels -> frame pixels) from a 468-point mesh in frame
// pixels. False when there are fewer than 468 landmarks or the eyes coincide.
bool LivenessCropTransform(const std::vector<std::array<float, 3>>& landmarks,
                           const LivenessCropOptions& opts, Affine2D* m);

// Samples the 192x192 RGB crop in [0, 1] into `out` (kLivenessCropElements floats, NHWC).
// False (out untouched) when the transform fails.
bool SampleLivenessCrop(const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
                        const LivenessCropOptions& opts, float* out);

// tf.image.resizeBilinear(in, [out_size, out_size], alignCorners=false,
// halfPixelCenters=false) of a square in_size x in_size x `channels` image: source position
// = destination index x in_size / out_size, bilinear between floor and floor + 1 (clamped).
void ResizeBilinearTf(const float* in, int in_size, int channels, int out_size, float* out);

// The two networks' inputs from a 192 crop (Human's resizes).
void PrepareLivenessInputs(const float* crop192, float* antispoof128, float* liveness32);

// "" when a model with these inputs / outputs and first input and output shapes is one of the
// two networks (one input [1|-1,size,size,3], a first output of `outputs` values); else what
// is wrong, naming `file`. Used by LivenessClassifier::Create and LivenessWorker's pools.
std::string CheckLivenessShapes(const std::string& file, int size, int outputs, size_t num_inputs,
                                size_t num_outputs, const nn::Shape& in, const nn::Shape& out0);

class LivenessClassifier {
 public:
  // Loads and checks <models_dir>/antispoof.json (one input [1|-1,128,128,3], one output of
  // 1 value) and <models_dir>/liveness.json (one input [1|-1,32,32,3], an output of 2
  // values); anything else is refused with a message naming the file.
  static std::unique_ptr<LivenessClassifier> Create(const std::string& models_dir,
                                                    std::string_view backend, std::string* error);

  float* antispoof_input() { return antispoof_->input(0); }
  float* liveness_input() { return liveness_->input(0); }
  // Runs both networks on their inputs; false when a backend fails (last_error()).
  bool Run(LivenessScores* out);
  const std::string& last_error() const { return last_error_; }
  std::string_view backend_name() const { return antispoof_->backend_name(); }

 private:
  LivenessClassifier() = default;
  std::unique_ptr<nn::Session> antispoof_, liveness_;
  std::string last_error_;
};

}  // namespace fg
