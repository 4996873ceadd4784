#include "engine/draw/face_overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "engine/draw/font.h"
#include "engine/tracking/head_pose.h"

namespace fg::draw {
namespace {

constexpr int kNoseTip = 4;
constexpr int kIrisFirst = kMeshLandmarks;  // 468..472: image-right iris, 473..477: the other
constexpr int kIrisPoints = 5;

}  // namespace

std::vector<std::array<int, 2>> MeshEdges(const std::vector<std::array<int, 3>>& triangles) {
  std::vector<std::array<int, 2>> edges;
  edges.reserve(triangles.size() * 3);
  for (const auto& t : triangles)
    for (int k = 0; k < 3; ++k) {
      int a = t[k], b = t[(k + 1) % 3];
      if (a > b) std::swap(a, b);
      edges.push_back({a, b});
    }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  return edges;
}

FaceOverlay::FaceOverlay(std::vector<std::array<int, 2>> edges) : edges_(std::move(edges)) {}

void FaceOverlay::Draw(const MutableImageView& img, const FrameFaces& faces,
                       const OverlayOptions& o) const {
  const Pen pen = Pen::Make(img.format, o.color);
  for (const Face& f : faces.faces) {
    if (o.mesh != MeshStyle::kNone) DrawMesh(img, pen, f, o.mesh);
    if (o.box) DrawBox(img, pen, f, o.box_thickness);
    if (o.iris) DrawIris(img, pen, f);
    if (o.pose) DrawPose(img, f);
    if (o.id) DrawId(img, pen, f, o.text_scale);
  }
}

void FaceOverlay::DrawMesh(const MutableImageView& img, const Pen& pen, const Face& f,
                           MeshStyle style) const {
  const size_t n = std::min<size_t>(f.landmarks.size(), kMeshLandmarks);
  if (style == MeshStyle::kWireframe && !edges_.empty()) {
    for (const auto& [a, b] : edges_) {
      if (static_cast<size_t>(b) >= n) continue;
      const auto x0 = ToPixel(f.landmarks[a][0]), y0 = ToPixel(f.landmarks[a][1]);
      const auto x1 = ToPixel(f.landmarks[b][0]), y1 = ToPixel(f.landmarks[b][1]);
      if (x0 && y0 && x1 && y1) Line(img, pen, *x0, *y0, *x1, *y1, 1);
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const auto x = ToPixel(f.landmarks[i][0]), y = ToPixel(f.landmarks[i][1]);
    if (x && y) Point(img, pen, *x, *y);
  }
}

void FaceOverlay::DrawBox(const MutableImageView& img, const Pen& pen, const Face& f,
                          int thickness) const {
  const auto x0 = ToPixel(f.box.x), y0 = ToPixel(f.box.y);
  const auto x1 = ToPixel(f.box.x + f.box.w), y1 = ToPixel(f.box.y + f.box.h);
  if (!x0 || !y0 || !x1 || !y1) return;
  Rect(img, pen, *x0, *y0, std::max(*x1 - *x0, 1), std::max(*y1 - *y0, 1), thickness);
}

void FaceOverlay::DrawIris(const MutableImageView& img, const Pen& pen, const Face& f) const {
  if (f.landmarks.size() < static_cast<size_t>(kIrisFirst + 2 * kIrisPoints)) return;
  for (int eye = 0; eye < 2; ++eye) {
    const auto& c = f.landmarks[kIrisFirst + eye * kIrisPoints];
    float r = 0;
    for (int k = 1; k < kIrisPoints; ++k) {
      const auto& p = f.landmarks[kIrisFirst + eye * kIrisPoints + k];
      r += std::hypot(p[0] - c[0], p[1] - c[1]);
    }
    r /= kIrisPoints - 1;
    const auto x = ToPixel(c[0]), y = ToPixel(c[1]), rr = ToPixel(r + 0.5f);
    if (!x || !y || !rr) continue;
    Circle(img, pen, *x, *y, std::max(*rr, 1));
    Point(img, pen, *x, *y);
  }
}

void FaceOverlay::DrawPose(const MutableImageView& img, const Face& f) const {
  if (!f.pose || f.landmarks.size() <= static_cast<size_t>(kNoseTip)) return;
  const Color axis_colors[3] = {Color::FromArgb(0xffff0000), Color::FromArgb(0xff00ff00),
                                Color::FromArgb(0xff0080ff)};
  const Eigen::Matrix3f r = YawPitchRollToRotation(f.pose->yaw, f.pose->pitch, f.pose->roll);
  const float len = 0.5f * std::max(f.box.w, f.box.h);
  const auto& nose = f.landmarks[kNoseTip];
  const auto x0 = ToPixel(nose[0]), y0 = ToPixel(nose[1]);
  if (!x0 || !y0) return;
  for (int k = 0; k < 3; ++k) {
    // Column k: the head's axis k in camera coordinates (x right, y up): image y is down.
    const auto x1 = ToPixel(nose[0] + len * r(0, k)), y1 = ToPixel(nose[1] - len * r(1, k));
    if (!x1 || !y1) continue;
    Line(img, Pen::Make(img.format, axis_colors[k]), *x0, *y0, *x1, *y1, 2);
  }
}

void FaceOverlay::DrawId(const MutableImageView& img, const Pen& pen, const Face& f,
                         int scale) const {
  if (f.id < 0) return;
  char label[24];
  const int n = std::snprintf(label, sizeof label, "#%lld", static_cast<long long>(f.id));
  const auto x = ToPixel(f.box.x), y = ToPixel(f.box.y);
  if (!x || !y || n <= 0) return;
  const int h = TextHeight(scale);
  const int ty = *y - h - 3 >= 0 ? *y - h - 3 : *y + 4;  // above the box, else inside it
  Text(img, pen, *x, ty, std::string_view(label, static_cast<size_t>(n)), scale);
}

}  // namespace fg::draw
