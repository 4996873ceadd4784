#include "engine/draw/face_overlay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "engine/draw/font.h"
#include "engine/emotion/emotion_classifier.h"
#include "engine/tracking/head_pose.h"

namespace fg::draw {
namespace {

constexpr int kNoseTip = 4;
constexpr int kIrisFirst = kMeshLandmarks;  // 468..472: image-right iris, 473..477: the other
constexpr int kIrisPoints = 5;

// The action measures face_actions.h writes, in panel order, with their short names.
struct ActionRow {
  std::string_view key, name;
};
constexpr ActionRow kActionRows[] = {
    {"eyeOpenLeft", "eyeL"}, {"eyeOpenRight", "eyeR"}, {"mouthOpen", "mth"},
    {"smile", "smil"},       {"browRaise", "brUp"},    {"browLower", "brDn"},
    {"jawOpen", "jaw"}};
// Keys that are not 0..1 bars.
constexpr std::string_view kNotBars[] = {"eyesClosed", "blinks", "blinkRate"};

bool IsKnownKey(std::string_view key) {
  for (const ActionRow& r : kActionRows)
    if (r.key == key) return true;
  for (std::string_view k : kNotBars)
    if (k == key) return true;
  return false;
}

// The value of `key` in a name -> value map, without building a std::string (no allocation).
const float* Find(const std::map<std::string, float>& m, std::string_view key) {
  for (const auto& [k, v] : m)
    if (k == key) return &v;
  return nullptr;
}

// 0..100 for text; 0 for NaN.
int Percent(float v) {
  return std::isfinite(v) ? static_cast<int>(std::lround(std::clamp(v, 0.f, 1.f) * 100)) : 0;
}

// Whether the panel is drawn for this face, and its left column (see face_overlay.h).
bool PanelLeft(const MutableImageView& img, const Face& f, const OverlayOptions& o, int* px) {
  const bool bars = o.bars && f.emotion;
  const bool actions = o.actions && !f.actions.empty();
  if (!bars && !actions) return false;
  const auto x0 = ToPixel(f.box.x), x1 = ToPixel(f.box.x + f.box.w);
  if (!x0 || !x1) return false;
  *px = *x1 + kPanelGap;
  if (*px + kPanelWidth > img.width && *x0 - kPanelGap - kPanelWidth >= 0)
    *px = *x0 - kPanelGap - kPanelWidth;
  return true;
}

// The left column of a line `width` wide below the box: x0, moved left just enough to end
// before `limit` (exclusive), but not past the frame's left edge.
int LineLeft(int x0, int width, int limit) {
  if (x0 + width <= limit) return x0;
  return std::min(x0, std::max(limit - width, 0));
}

// One panel row: its name, the track over kBarLength and the fill of value (0..1) over it.
void BarRow(const MutableImageView& img, const Pen& text, const Pen& track, const Pen& fill,
            int px, int y, std::string_view name, float value) {
  Text(img, text, px, y, name, 1);
  const int bx = px + kBarOffset;
  FillRect(img, track, bx, y + 1, bx + kBarLength - 1, y + kBarHeight);
  const float v = std::isfinite(value) ? std::clamp(value, 0.f, 1.f) : 0.f;
  const int len = static_cast<int>(std::lround(v * kBarLength));
  if (len > 0) FillRect(img, fill, bx, y + 1, bx + len - 1, y + kBarHeight);
}

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
    if (o.liveness && f.liveness) DrawLiveness(img, f, o);
    int px = 0;
    const bool panel = PanelLeft(img, f, o, &px);
    if (o.emotion || o.vitals) {
      // Lines below the box stay left of a panel on the box's right.
      const auto x0 = ToPixel(f.box.x);
      const int limit = panel && x0 && px > *x0 ? px - 2 : std::numeric_limits<int>::max();
      DrawBelow(img, pen, f, o, limit);
    }
    if (panel) DrawPanel(img, pen, f, o, px);
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

void FaceOverlay::DrawLiveness(const MutableImageView& img, const Face& f,
                               const OverlayOptions& o) const {
  const Liveness& l = *f.liveness;
  const auto x = ToPixel(f.box.x), y = ToPixel(f.box.y);
  if (!x || !y) return;
  const int line = TextHeight(o.text_scale) + 3;
  const Color c = l.decision == "live"    ? o.live_color
                  : l.decision == "spoof" ? o.spoof_color
                                          : o.unsure_color;
  const Pen pen = Pen::Make(img.format, c);
  char text[64];
  const std::string_view d(l.decision.data(), std::min<size_t>(l.decision.size(), 12));
  int n = std::snprintf(text, sizeof text, "%.*s", static_cast<int>(d.size()), d.data());
  if (l.real && n > 0 && n < static_cast<int>(sizeof text))
    n += std::snprintf(text + n, sizeof text - n, " r%d", Percent(*l.real));
  if (l.live && n > 0 && n < static_cast<int>(sizeof text))
    n += std::snprintf(text + n, sizeof text - n, " l%d", Percent(*l.live));
  int ty = std::max(0, *y - 2 * line);
  if (n > 0) Text(img, pen, *x, ty, std::string_view(text, std::min<size_t>(n, sizeof text - 1)), o.text_scale);
  if (!l.challenge) return;
  const LivenessChallenge& ch = *l.challenge;
  if (ch.state == "asking") {
    const char* what = ch.ask == "blink"        ? "Please blink"
                       : ch.ask == "turn-left"  ? "Turn your head left"
                       : ch.ask == "turn-right" ? "Turn your head right"
                       : ch.ask == "smile"      ? "Please smile"
                                                : "?";
    n = std::snprintf(text, sizeof text, "%s %ds", what,
                      static_cast<int>(std::ceil(std::max(0.0f, ch.remaining_s))));
  } else {
    n = std::snprintf(text, sizeof text, "check %s", ch.state == "passed" ? "passed" : "failed");
  }
  ty = std::max(0, *y - 3 * line);
  if (n > 0) Text(img, pen, *x, ty, std::string_view(text, std::min<size_t>(n, sizeof text - 1)), o.text_scale);
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

void FaceOverlay::DrawBelow(const MutableImageView& img, const Pen& pen, const Face& f,
                            const OverlayOptions& o, int limit) const {
  const bool emotion = o.emotion && f.emotion && !f.emotion->label.empty();
  const bool vitals = o.vitals && f.vitals;
  if (!emotion && !vitals) return;
  const auto x0 = ToPixel(f.box.x), y1 = ToPixel(f.box.y + f.box.h);
  if (!x0 || !y1) return;
  const int line = TextHeight(o.text_scale) + 3;
  int y = *y1 + 3;
  char text[64];
  if (emotion) {
    const Emotion& e = *f.emotion;
    const std::string_view label(e.label.data(), std::min<size_t>(e.label.size(), 24));
    int n = 0;
    if (e.confidence)
      n = std::snprintf(text, sizeof text, "%.*s %d%%", static_cast<int>(label.size()),
                        label.data(), Percent(*e.confidence));
    else
      n = std::snprintf(text, sizeof text, "%.*s", static_cast<int>(label.size()), label.data());
    if (n > 0) {
      const std::string_view t(text, static_cast<size_t>(n));
      Text(img, pen, LineLeft(*x0, TextWidth(t, o.text_scale), limit), y, t, o.text_scale);
    }
    y += line;
  }
  if (!vitals) return;
  const Vitals& v = *f.vitals;
  const bool sure = std::isfinite(v.confidence) && v.confidence >= kVitalsMinConfidence;
  const Pen text_pen = sure ? pen : Pen::Make(img.format, o.vitals_dim_color);
  int n = 0;
  if (std::isfinite(v.bpm) && v.bpm >= 0 && v.bpm < 1000)
    n = std::snprintf(text, sizeof text, "%d%s bpm %d%%", static_cast<int>(std::lround(v.bpm)),
                      sure ? "" : "?", Percent(v.confidence));
  else
    n = std::snprintf(text, sizeof text, "? bpm");
  if (n > 0) {
    const std::string_view t(text, static_cast<size_t>(n));
    Text(img, text_pen, LineLeft(*x0, TextWidth(t, o.text_scale), limit), y, t, o.text_scale);
  }
  y += line;

  // The trace: the last kTraceSeconds of the waveform across kTraceWidth pixels.
  if (v.bvp.empty()) return;
  const size_t total = v.bvp.size();
  size_t n_show = std::isfinite(v.bvp_fs) && v.bvp_fs > 0
                      ? static_cast<size_t>(std::max(2.0, std::round(double{v.bvp_fs} * kTraceSeconds)))
                      : static_cast<size_t>(kTraceWidth);
  n_show = std::min(n_show, total);
  const size_t first = total - n_show;
  const int tx = LineLeft(*x0, kTraceWidth, limit);
  const double x_step = n_show > 1 ? static_cast<double>(kTraceWidth - 1) / (n_show - 1) : 0;
  bool have_prev = false;
  int prev_x = 0, prev_y = 0;
  for (size_t i = 0; i < n_show; ++i) {
    const float s = v.bvp[first + i];
    if (!std::isfinite(s)) {
      have_prev = false;  // a gap in the trace
      continue;
    }
    const int px = tx + static_cast<int>(std::lround(i * x_step));
    const double t = std::clamp(0.5 - s / 6.0, 0.0, 1.0);  // +-3 units fill the height
    const int py = y + static_cast<int>(std::lround(t * (kTraceHeight - 1)));
    if (have_prev)
      Line(img, pen, prev_x, prev_y, px, py, 1);
    else
      Point(img, pen, px, py);
    prev_x = px, prev_y = py, have_prev = true;
  }
}

void FaceOverlay::DrawPanel(const MutableImageView& img, const Pen& pen, const Face& f,
                            const OverlayOptions& o, int px) const {
  const bool bars = o.bars && f.emotion;
  const bool actions = o.actions && !f.actions.empty();
  const auto y0 = ToPixel(f.box.y);
  if (!y0) return;
  const Pen track = Pen::Make(img.format, o.track_color);
  int y = *y0;
  if (bars) {
    const Emotion& e = *f.emotion;
    const Pen highlight = Pen::Make(img.format, o.highlight_color);
    for (std::string_view name : kEmotionNames) {
      const float* p = Find(e.scores, name);
      BarRow(img, pen, track, e.label == name ? highlight : pen, px, y, name.substr(0, 3),
             p ? *p : 0.f);
      y += kRowPitch;
    }
  }
  if (!actions) return;
  for (const ActionRow& r : kActionRows)
    if (const float* v = Find(f.actions, r.key)) {
      BarRow(img, pen, track, pen, px, y, r.name, *v);
      y += kRowPitch;
    }
  for (const auto& [key, v] : f.actions)
    if (!IsKnownKey(key) && v >= 0.f && v <= 1.f) {
      BarRow(img, pen, track, pen, px, y, std::string_view(key).substr(0, 4), v);
      y += kRowPitch;
    }
  if (const float* blinks = Find(f.actions, "blinks")) {
    char text[48];
    const float* rate = Find(f.actions, "blinkRate");
    const long long count = std::isfinite(*blinks) ? std::llround(std::clamp(*blinks, 0.f, 1e9f)) : 0;
    int n = 0;
    if (rate && std::isfinite(*rate))
      n = std::snprintf(text, sizeof text, "blink %lld %.0f/m", count,
                        static_cast<double>(std::clamp(*rate, 0.f, 1e6f)));
    else
      n = std::snprintf(text, sizeof text, "blink %lld", count);
    if (n > 0) Text(img, pen, px, y, std::string_view(text, static_cast<size_t>(n)), 1);
  }
}

}  // namespace fg::draw
