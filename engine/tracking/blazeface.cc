#include "engine/tracking/blazeface.h"

#include <algorithm>
#include <cmath>

namespace fg {

LetterBox LetterBox::Fit(int frame_w, int frame_h, int size) {
  LetterBox lb;
  const int longest = std::max(frame_w, frame_h);
  lb.scale = longest > 0 ? static_cast<float>(size) / static_cast<float>(longest) : 1.0f;
  lb.pad_x = 0.5f * (static_cast<float>(size) - lb.scale * static_cast<float>(frame_w));
  lb.pad_y = 0.5f * (static_cast<float>(size) - lb.scale * static_cast<float>(frame_h));
  return lb;
}

Affine2D LetterBox::ToFrame() const {
  Affine2D m;
  m.a = 1.0f / scale;
  m.b = 0;
  m.c = -pad_x / scale;
  m.d = 0;
  m.e = 1.0f / scale;
  m.f = -pad_y / scale;
  return m;
}

Detection LetterBox::MapToFrame(const Detection& d) const {
  Detection r = d;
  r.box = {(d.box.x - pad_x) / scale, (d.box.y - pad_y) / scale, d.box.w / scale, d.box.h / scale};
  for (auto& k : r.keypoints) k = {(k[0] - pad_x) / scale, (k[1] - pad_y) / scale};
  return r;
}

float IoU(const Box& a, const Box& b) {
  const float x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  const float inter = std::max(0.0f, x1 - x0) * std::max(0.0f, y1 - y0);
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

BlazeFaceDecoder::BlazeFaceDecoder(int input_size) : input_size_(input_size) {
  // Two grids: stride size/16 with 2 anchors per cell, stride size/8 with 6 (MediaPipe's
  // SSD anchor options for the 256 model; Human's generateAnchors).
  const struct { int stride, per_cell; } grids[2] = {{input_size / 16, 2}, {input_size / 8, 6}};
  for (const auto& g : grids) {
    const int cells = (input_size + g.stride - 1) / g.stride;
    for (int gy = 0; gy < cells; ++gy)
      for (int gx = 0; gx < cells; ++gx)
        for (int n = 0; n < g.per_cell; ++n)
          anchors_.push_back({g.stride * (gx + 0.5f), g.stride * (gy + 0.5f)});
  }
}

void BlazeFaceDecoder::Decode(const float* logits16, const float* regs16, const float* logits32,
                              const float* regs32, float min_score,
                              std::vector<Detection>* out) const {
  const int rows16 = static_cast<int>(anchors_.size()) - 384;
  // sigmoid(x) >= t  <=>  x >= logit(t): compare logits, call exp only for candidates.
  const float t = std::clamp(min_score, 1e-6f, 1.0f - 1e-6f);
  const float min_logit = std::log(t / (1.0f - t));
  for (int i = 0; i < static_cast<int>(anchors_.size()); ++i) {
    const bool first = i < rows16;
    const float logit = first ? logits16[i] : logits32[i - rows16];
    if (!(logit >= min_logit)) continue;  // also drops NaN
    const float* r = first ? regs16 + 16 * i : regs32 + 16 * (i - rows16);
    const auto& a = anchors_[i];
    Detection d;
    d.score = 1.0f / (1.0f + std::exp(-logit));
    const float cx = a[0] + r[0], cy = a[1] + r[1];
    d.box = {cx - 0.5f * r[2], cy - 0.5f * r[3], r[2], r[3]};
    for (int k = 0; k < 6; ++k) d.keypoints[k] = {a[0] + r[4 + 2 * k], a[1] + r[5 + 2 * k]};
    out->push_back(d);
  }
}

void WeightedNms(std::vector<Detection>& dets, float iou_threshold, int max_faces) {
  std::sort(dets.begin(), dets.end(),
            [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  std::vector<bool> used(dets.size(), false);
  for (size_t i = 0; i < dets.size() && static_cast<int>(kept.size()) < max_faces; ++i) {
    if (used[i]) continue;
    // Average every remaining candidate that overlaps the best one, weighted by score.
    float wsum = 0;
    Detection avg{};
    avg.box = {0, 0, 0, 0};
    for (size_t j = i; j < dets.size(); ++j) {
      if (used[j] || IoU(dets[i].box, dets[j].box) < iou_threshold) continue;
      used[j] = true;
      const float w = dets[j].score;
      wsum += w;
      avg.box.x += w * dets[j].box.x;
      avg.box.y += w * dets[j].box.y;
      avg.box.w += w * dets[j].box.w;
      avg.box.h += w * dets[j].box.h;
      for (int k = 0; k < 6; ++k)
        for (int c = 0; c < 2; ++c) avg.keypoints[k][c] += w * dets[j].keypoints[k][c];
    }
    avg.box = {avg.box.x / wsum, avg.box.y / wsum, avg.box.w / wsum, avg.box.h / wsum};
    for (auto& k : avg.keypoints) k = {k[0] / wsum, k[1] / wsum};
    avg.score = dets[i].score;
    kept.push_back(avg);
  }
  dets = std::move(kept);
}

}  // namespace fg
