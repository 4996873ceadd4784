// EmotionClassifier: one tracked face in, seven class probabilities out.
//
//   frame + 468 landmarks ──► EmotionCropTransform (eye line level, size from the
//   inter-ocular distance) ──► SampleEmotionCrop (64x64 gray, [-1, 1]) ──► Classify ──► probs
//
// The network is Human 3.3.6's `emotion.json`: oarriaga's mini-Xception trained on FER2013
// (48x48 gray faces, here resized to 64x64 by the model's input), 64x64x1 in, softmax over 7.
//
// Class order (Human `src/gear/emotion.ts` l.29, the grayscale branch: "oarriaga and gear"):
//   0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral
// (this is FER2013's own label order; tools/tfjs/README.md "What the outputs are" agrees).
//
// Input normalisation (Human `gear/emotion.ts` l.69-73 on the [0,1] face tensor, constants in
// `tfjs/constants.ts` l.19): g = 0.2989 R + 0.5870 G + 0.1140 B on p/255, then (g - 0.5) * 2,
// so v in [-1, 1]. SampleCrop(kGray, kSigned) gives g/127.5 - 1 = (g/255 - 0.5) * 2 with the
// same coefficients: the same value up to float rounding order (tests/emotion checks it to
// 1e-5 on pixel-exact samples, and the network's outputs against TF.js on the reference's
// input). Human resizes with tf.image.resizeBilinear from its face tensor; we sample the
// 64x64 bilinearly straight from the frame (no 192x192 intermediate), which differs only in
// how much the face is low-pass filtered on the way down.
//
// Post-processing: the model ends in a softmax; Classify returns those probabilities as they
// are (they sum to 1). Human then keeps only classes with p > minConfidence (0.1), reports
// min(0.99, trunc(100 p) / 100) and sorts by score (`gear/emotion.ts` l.77-80). We do NOT
// follow that: truncation to 1 % and the 0.99 cap throw away resolution that the temporal
// smoothing (emotion_tracker.h) needs, and the filter makes the scores stop summing to 1.
// Anything wanting Human's exact JSON can apply that rule to EmotionState::probs.
//
// The crop: the framing the network was trained on. A FER2013 picture is the whole training
// crop (48x48, upscaled to 64x64 by the model's input), so the crop is where such a picture
// lies relative to the face's eyes: a square of side 2.7 x IOD centred 0.3 x IOD below the eye
// midpoint, rotated so the eye line is level. Those are the medians measured with the real
// graph on the development half of FER2013 PublicTest (tools/eval/eval-emotion, columns
// picture_side_iod and picture_centre_below_eyes_iod); the figures, the quartiles and what the
// change from Human's crop did are in docs/eval/emotion.md. Human's crop (the FaceMesh input
// square, 3.6 IOD centred 0.5 IOD below the eyes; liveness_classifier.h still uses it) shows
// the network a face a third smaller than it learned on. IOD is the distance between the eye
// centres (mean of 33/133 and of 362/263), measured in 3D (FaceMesh's z is in x's scale), so
// the crop does not shrink when the head turns; "below" is along the face's own vertical axis.
//
// Threading: EmotionClassifier is thread-compatible (one per thread: it owns a Session);
// the free functions are stateless and reentrant. Classify() does not allocate.
//
// Example:
//   std::string err;
//   auto c = fg::EmotionClassifier::Create(models_dir + "/emotion.json", "auto", &err);
//   if (!c) return err;                                   // names the file and what is wrong
//   fg::SampleEmotionCrop(frame, face.landmarks, {}, c->input());
//   fg::EmotionProbs p;
//   if (c->Run(&p)) use(p[fg::kEmotionHappy]);
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

inline constexpr int kEmotionInputSize = 64;
inline constexpr int kEmotionCropElements = kEmotionInputSize * kEmotionInputSize;
inline constexpr int kEmotionClasses = 7;
enum EmotionClass : int {
  kEmotionAngry = 0,
  kEmotionDisgust = 1,
  kEmotionFear = 2,
  kEmotionHappy = 3,
  kEmotionSad = 4,
  kEmotionSurprise = 5,
  kEmotionNeutral = 6,
};
// Human's names, in the model's output order.
inline constexpr std::array<std::string_view, kEmotionClasses> kEmotionNames = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

using EmotionProbs = std::array<float, kEmotionClasses>;

struct EmotionCropOptions {
  float side_per_iod = 2.7f;          // crop side / inter-ocular distance (see above)
  float centre_below_eyes_iod = 0.3f;  // crop centre below the eye midpoint, in IOD
};

// The crop's map (64x64 output pixels -> frame pixels) from a 468-point mesh in frame pixels.
// False when there are fewer than 468 landmarks or the eyes coincide.
bool EmotionCropTransform(const std::vector<std::array<float, 3>>& landmarks,
                          const EmotionCropOptions& opts, Affine2D* m);

// Samples the 64x64 gray crop, normalised as Human's emotion input, into `out`
// (kEmotionCropElements floats, row-major). False (out untouched) when the transform fails.
// This is the only per-frame work of the caller's thread in EmotionWorker.
bool SampleEmotionCrop(const ImageView& frame, const std::vector<std::array<float, 3>>& landmarks,
                       const EmotionCropOptions& opts, float* out);

// "" when a model with these inputs / outputs and first input and output shapes is the emotion
// network (one input [1|-1,64,64,1], a first output of 7 values); else what is wrong, naming
// `model_json`. EmotionClassifier::Create and EmotionWorker's shared pool check with it.
std::string CheckEmotionShapes(const std::string& model_json, size_t inputs, size_t outputs,
                               const nn::Shape& in, const nn::Shape& out0);

class EmotionClassifier {
 public:
  // Loads and checks the model: one input of shape [1|-1, 64, 64, 1] and one output of 7
  // values; anything else is refused with a message naming the file.
  static std::unique_ptr<EmotionClassifier> Create(const std::string& model_json,
                                                   std::string_view backend, std::string* error);

  // The network's input: kEmotionCropElements floats (fill with SampleEmotionCrop).
  float* input() { return session_->input(0); }
  // Runs on input(); false when the backend fails (its message in last_error()).
  bool Run(EmotionProbs* out);
  // Copies `crop` into input() and runs.
  bool Classify(const float* crop, EmotionProbs* out);
  const std::string& last_error() const { return last_error_; }
  std::string_view backend_name() const { return session_->backend_name(); }

 private:
  EmotionClassifier() = default;
  std::unique_ptr<nn::Session> session_;
  int output_ = 0;
  std::string last_error_;
};

// Index of the largest probability.
int ArgMax(const EmotionProbs& p);

}  // namespace fg
