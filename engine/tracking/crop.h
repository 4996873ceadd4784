// Crop sampling: fills a model's input tensor straight from the original frame, through an
// affine map (scale, rotation, translation), with bilinear interpolation in the frame's own
// pixel format. Only the crop's pixels are read; the frame is never converted whole.
//
// Used for the detector's letterboxed input (scale + translate) and for FaceMesh / Iris /
// emotion crops rotated by the roll of the eye line.
//
// Threading: stateless; reentrant. Allocation-free.
//
// Example:
//   fg::Affine2D m = fg::Affine2D::RectToSquare(box, angle, 192);   // dst -> src
//   fg::SampleCrop(frame, m, 192, 192, fg::CropNorm::kUnit, fg::CropChannels::kRgb, tensor);
#pragma once

#include <array>

#include "engine/image.h"

namespace fg {

// x_src = a*x + b*y + c ; y_src = d*x + e*y + f   (maps output pixel centres to frame pixels)
struct Affine2D {
  float a = 1, b = 0, c = 0, d = 0, e = 1, f = 0;

  std::array<float, 2> Apply(float x, float y) const { return {a * x + b * y + c, d * x + e * y + f}; }
  Affine2D Inverse() const;
  // Maps an out_size x out_size square onto a square of side `side` centred at (cx, cy),
  // rotated by `angle` radians (counter-clockwise in the image).
  static Affine2D SquareCrop(float cx, float cy, float side, float angle, int out_size);
};

enum class CropNorm {
  kUnit,       // [0, 1]: p / 255            (FaceMesh, Iris, antispoof, liveness)
  kSigned,     // [-1, 1]: p / 127.5 - 1     (BlazeFace)
};
enum class CropChannels { kRgb, kGray };

// Samples out_w x out_h pixels into `out` (NHWC float, 3 or 1 channels). Output pixel (i,j)
// takes the frame at m.Apply(j + 0.5, i + 0.5) - 0.5 (pixel-centre convention); positions
// outside the frame read black (0), as the letterbox padding of the reference pipelines.
// Grayscale: 0.2989 R + 0.5870 G + 0.1140 B (the coefficients Human uses for emotion).
void SampleCrop(const ImageView& frame, const Affine2D& m, int out_w, int out_h, CropNorm norm,
                CropChannels channels, float* out);

}  // namespace fg
