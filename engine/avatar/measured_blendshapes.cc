#include "engine/avatar/measured_blendshapes.h"

#include <algorithm>
#include <cmath>

namespace fg {

namespace {

float Unit(float v, float full) { return std::clamp(v / full, 0.0f, 1.0f); }

float Mean(std::span<const std::array<float, 3>> r, std::initializer_list<int> ids, int axis) {
  float s = 0;
  for (int i : ids) s += r[i][axis];
  return s / static_cast<float>(ids.size());
}

}  // namespace

void MeasureBlendshapes(std::span<const std::array<float, 3>> residual,
                        std::span<const std::array<float, 3>> points,
                        const std::array<std::array<float, 3>, 2>* iris, std::span<float> out) {
  if (out.size() < static_cast<size_t>(kMeasuredCount)) return;
  std::fill(out.begin(), out.begin() + kMeasuredCount, 0.0f);
  if (residual.size() < 468 || points.size() < 468) return;

  // Gaze, per eye: [0] the subject's left (corners 362 inner, 263 outer), [1] the right
  // (133 inner, 33 outer). Output slots: Down, In, Out, Up; left 0..3, right 4..7.
  if (iris) {
    const int corners[2][2] = {{362, 263}, {133, 33}};
    for (int e = 0; e < 2; ++e) {
      const auto& in = points[corners[e][0]];
      const auto& outer = points[corners[e][1]];
      float ax = outer[0] - in[0], ay = outer[1] - in[1];  // inner -> outer corner
      const float len = std::hypot(ax, ay);
      const auto& c = (*iris)[e];
      if (!(len > 1e-3f) || !std::isfinite(c[0]) || !std::isfinite(c[1])) continue;
      ax /= len, ay /= len;
      const float mx = c[0] - 0.5f * (in[0] + outer[0]), my = c[1] - 0.5f * (in[1] + outer[1]);
      // Across, positive outward (away from the nose); up: the axis turned towards +y. The
      // inner -> outer axis points +x for the left eye and -x for the right, so for the
      // right eye "up" is the axis turned clockwise.
      const float h = mx * ax + my * ay;
      const float v = e == 0 ? (-mx * ay + my * ax) : (mx * ay - my * ax);
      float* o = &out[4 * e];
      o[0] = Unit(-v, kGazeVerticalFullCm);  // Down
      o[1] = Unit(-h, kGazeAcrossFullCm);    // In
      o[2] = Unit(h, kGazeAcrossFullCm);     // Out
      o[3] = Unit(v, kGazeVerticalFullCm);   // Up
    }
  }

  const auto& r = residual;
  // Jaw: the chin's residual.
  const float jx = Mean(r, {152, 148, 377, 176, 400}, 0);
  const float jz = Mean(r, {152, 148, 377, 176, 400}, 2);
  out[8] = Unit(jz, kJawForwardFullCm);  // jawForward
  out[9] = Unit(jx, kJawSideFullCm);     // jawLeft (+x)
  out[10] = Unit(-jx, kJawSideFullCm);   // jawRight
  // Lip roll: the red part's height change (outer minus inner contour for the upper lip,
  // inner minus outer for the lower), shrinking = rolling in.
  const float upper = Mean(r, {0, 37, 267}, 1) - Mean(r, {13, 82, 312}, 1);
  const float lower = Mean(r, {14, 87, 317}, 1) - Mean(r, {17, 84, 314}, 1);
  out[11] = Unit(-lower, kRollLowerFullCm);  // mouthRollLower
  out[12] = Unit(-upper, kRollUpperFullCm);  // mouthRollUpper
  // The upper lip pushed up as a whole.
  out[13] = Unit(Mean(r, {0, 37, 267, 13, 82, 312}, 1), kShrugUpperFullCm);  // mouthShrugUpper
  out[14] = 0.0f;  // tongueOut: no landmark shows the tongue
}

}  // namespace fg
