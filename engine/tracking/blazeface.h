// BlazeFace post-processing: letterboxing any frame into the detector's square input,
// decoding the 896 anchors of the 256x256 model, and weighted non-maximum suppression
// (MediaPipe's "WEIGHTED" overlap mode: overlapping candidates are averaged by score,
// which steadies the box compared with keeping only the best one).
//
// The model (Human 3.3.6 `blazeface`, MediaPipe's face detector, 256x256 input in [-1,1])
// has four outputs: for the stride-16 grid (16x16 cells x 2 anchors = 512 rows) a score
// logit and 16 regressors per row, and the same for the stride-32 grid (8x8 x 6 = 384).
// Regressors, in input pixels relative to the anchor centre: box centre dx, dy, width,
// height, then six keypoints (x, y): subject's right eye, left eye, nose tip, mouth centre,
// right ear tragion, left ear tragion ("right" = the subject's, on the image's left).
//
// Threading: the decoder is immutable after construction; Decode is const and reentrant.
//
// Example:
//   fg::LetterBox lb = fg::LetterBox::Fit(frame.width, frame.height, 256);
//   fg::SampleCrop(frame, lb.ToFrame(), 256, 256, fg::CropNorm::kSigned, fg::CropChannels::kRgb, in);
//   ... run the model ...
//   decoder.Decode(s16, r16, s32, r32, 0.5f, &dets);
//   fg::WeightedNms(dets, 0.3f, max_faces);
//   for (auto& d : dets) d = lb.MapToFrame(d);
#pragma once

#include <array>
#include <vector>

#include "engine/face.h"
#include "engine/tracking/crop.h"

namespace fg {

struct Detection {
  Box box;  // pixels (of the detector input, or of the frame after MapToFrame)
  float score = 0;
  std::array<std::array<float, 2>, 6> keypoints{};
};

// The frame scaled (aspect kept) to fit a square `size` and centred; the rest is black.
struct LetterBox {
  float scale = 1;          // input pixels per frame pixel
  float pad_x = 0, pad_y = 0;  // input pixels
  static LetterBox Fit(int frame_w, int frame_h, int size);
  Affine2D ToFrame() const;  // detector input pixel -> frame pixel (for SampleCrop)
  Detection MapToFrame(const Detection& d) const;
};

float IoU(const Box& a, const Box& b);

class BlazeFaceDecoder {
 public:
  explicit BlazeFaceDecoder(int input_size = 256);
  // logits16/regs16: 512 rows (1 and 16 floats each); logits32/regs32: 384 rows.
  // Appends every candidate with sigmoid(logit) >= min_score to *out (input pixels).
  void Decode(const float* logits16, const float* regs16, const float* logits32,
              const float* regs32, float min_score, std::vector<Detection>* out) const;
  int input_size() const { return input_size_; }

 private:
  int input_size_;
  std::vector<std::array<float, 2>> anchors_;  // 896 centres, input pixels
};

// Weighted NMS in place: the result is sorted by score, at most max_faces long.
void WeightedNms(std::vector<Detection>& dets, float iou_threshold, int max_faces);

}  // namespace fg
