// PrototypeCheck: issue 7's "recognisable" proof on any face photo. The seven cardinal
// expressions of engine/avatar/blendshapes.h (neutral and Ekman's six FACS prototypes, at a
// given intensity) are warped onto the photo's own face (ExpressionTrack, warp mode) and
// each picture is classified exactly as the faceemotion pipeline does it: FaceTracker (no
// smoothing, three frames on the still picture: the crop comes from the landmarks after the
// first), the mesh-aligned 64x64 crop (SampleEmotionCrop, default options) and
// EmotionClassifier. The result is a confusion matrix: rows the rendered expressions,
// columns the network's seven classes.
//
//   photo ──ExpressionTrack (its mesh, head fit)──┐
//   expression weights (FACS) ─► warp [variant] ──┴─► FaceTracker ─► crop ─► EmotionClassifier
//
// Variants (PrototypeVariant): the default is faceavatar output=warp with mirroring off (the
// warp plus its mouth interior, engine/render/mouth.h); mouth_interior = false gives the
// plain warp (faceavatar mouth-interior=false); neutralise warps the photo with its own
// expression taken away first (ExpressionTrack::SetNeutralise).
// "Recognised" counts the six emotional prototypes whose arg-max is the intended class
// (neutral is reported, not counted). Nothing here is tuned to the check: the prototypes
// are the FACS ones.
//
// Used by tests/avatar/prototypes_test (the astronaut photo) and tools/avatar/
// avatar-prototypes (any photo: the check wants a photo of a neutral face).
//
// Threading: thread-compatible (one tracker, one classifier, one warp); one per thread.
//
// Example:
//   auto check = fg::PrototypeCheck::Create(photo_view, models_dir, "xnnpack", &err);
//   fg::EmotionProbs p;
//   check->ClassifyPhoto(&p);
//   fg::PrototypeMatrix m;
//   if (check->Run({}, &m, &err)) print(m.recognised);
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/emotion/emotion_classifier.h"
#include "engine/image.h"
#include "engine/io/png.h"

namespace fg {

class ExpressionTrack;
class FaceTracker;

// The rendered rows, in order, and the class each one intends.
struct PrototypeRow {
  const char* expression;  // engine/avatar/blendshapes.h name
  EmotionClass intended;
};
inline constexpr std::array<PrototypeRow, 7> kPrototypeRows = {{
    {"neutral", kEmotionNeutral},
    {"happy", kEmotionHappy},
    {"sad", kEmotionSad},
    {"surprise", kEmotionSurprise},
    {"fear", kEmotionFear},
    {"anger", kEmotionAngry},
    {"disgust", kEmotionDisgust},
}};

struct PrototypeVariant {
  bool mouth_interior = true;  // ExpressionTrack::SetMouthCavity (faceavatar mouth-interior)
  bool neutralise = false;    // ExpressionTrack::SetNeutralise
  float intensity = 1.0f;     // ExpressionWeights(expression, basis, intensity)
  bool rigid_eyewear = false;  // ExpressionTrack::SetRigidEyewear (faceavatar rigid-eyewear)
};

struct PrototypeMatrix {
  std::array<EmotionProbs, kPrototypeRows.size()> probs{};  // per kPrototypeRows entry
  int recognised = 0;  // of the six emotional rows (neutral excluded)
};

class PrototypeCheck {
 public:
  // photo: packed RGB (kRGB), the face to animate (the largest one found). nullptr and
  // *error naming the cause (a model file, "no face found in the photo", the format).
  static std::unique_ptr<PrototypeCheck> Create(const ImageView& photo,
                                                const std::string& models_dir,
                                                std::string_view backend, std::string* error);
  ~PrototypeCheck();

  // The unwarped photo, classified as the rows are. False when no single face is tracked.
  bool ClassifyPhoto(EmotionProbs* out);
  // Any picture (packed RGB), classified as the rows are (e.g. the rendered avatar). False
  // when no single face is tracked on it.
  bool ClassifyPicture(const ImageView& picture, EmotionProbs* out) {
    return Classify(picture, out);
  }
  // Renders and classifies every row. False and *error naming the row when a rendered
  // picture has not exactly one tracked face or the classifier fails. pictures (optional):
  // the rendered picture of each row (kPrototypeRows order), the photo's size.
  bool Run(const PrototypeVariant& variant, PrototypeMatrix* out, std::string* error,
           std::vector<RgbImage>* pictures = nullptr);
  // The warp's geometry: the photo's neutral mesh, its head fit, the basis.
  const ExpressionTrack& track() const { return *track_; }

  // One table: a header of class names, one line per row with its probabilities and
  // arg-max, then "recognised as intended: N of 6".
  static std::string Format(const PrototypeMatrix& m);

 private:
  PrototypeCheck();
  bool Classify(const ImageView& picture, EmotionProbs* out);

  int width_ = 0, height_ = 0;
  std::vector<uint8_t> photo_, frame_;  // packed RGB
  std::unique_ptr<ExpressionTrack> track_;
  std::unique_ptr<FaceTracker> tracker_;
  std::unique_ptr<EmotionClassifier> classifier_;
};

}  // namespace fg
