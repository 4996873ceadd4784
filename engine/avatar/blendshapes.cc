#include "engine/avatar/blendshapes.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

#include "engine/face.h"

namespace fg {

namespace {

using Vec3 = std::array<float, 3>;
using Field = std::vector<Vec3>;

// FaceMesh anchors on the +x side (the subject's left); the right side is their mirror.
constexpr int kEyeOuter = 263, kEyeInner = 362, kLidUpper = 386, kLidLower = 374;
constexpr int kBrowOuter = 300, kBrowMiddle = 334, kBrowInner = 336;
constexpr int kLipUpperInner = 13, kLipLowerInner = 14;
constexpr int kMouthCorner = 291, kNoseWing = 327;

// Full-intensity amplitudes (canonical cm), each from the reference named in blendshapes.h
// ("Amplitudes").
constexpr float kBrowInnerRaise = 0.85f;   // AU1
constexpr float kBrowOuterRaise = 0.80f;   // AU2
constexpr float kBrowLower = 0.70f;        // AU4, down (inner end; tapering outward)
constexpr float kBrowOuterShare = 0.45f;   // AU4: the taper's share at the outer end's x
constexpr float kBrowDrawIn = 0.40f;       // AU4, towards the midline
constexpr float kForeheadReach = 2.8f;     // AU1/2: forehead above the brow follows this far
constexpr float kCheekRaise = 0.50f;       // AU6
constexpr float kCheekBrowLower = 0.15f;   // AU6, the brow's outer end drawn down
constexpr float kNoseWingRaise = 0.45f;    // AU9
constexpr float kGlabellaLower = 0.20f;    // AU9, the skin between the brows pulled down
constexpr float kSneerLipRaise = 0.20f;    // AU9, the upper lip's middle drawn up
constexpr float kSmileOut = 0.66f, kSmileUp = 0.71f, kSmileBack = 0.20f;  // AU12
constexpr float kFrownDown = 0.50f, kFrownOut = 0.10f;                    // AU15
constexpr float kStretchOut = 0.60f, kStretchDown = 0.20f;                // AU20
constexpr float kLowerLipDown = 0.50f;                                    // AU16

float Bump(float r) {  // (1 - r^2)^2 on [0, 1): C1, 1 at 0, 0 from 1 on
  if (r >= 1) return 0;
  const float a = 1 - r * r;
  return a * a;
}
float FlatBump(float r, float core) {  // 1 up to core, then a bump down to 0 at 1
  return r <= core ? 1.0f : Bump((r - core) / (1 - core));
}
float Smoothstep(float x) {
  x = std::clamp(x, 0.0f, 1.0f);
  return x * x * (3 - 2 * x);
}
float Dist2(const Vec3& v, float cx, float cy) { return std::hypot(v[0] - cx, v[1] - cy); }

// Geometry of the left half that the targets are built from (canonical cm).
struct Anchors {
  const std::vector<Vec3>* v;
  float eye_cx, eye_half_w, gap;  // eye centre x, half width, lid gap 386-374
  float brow_y_gate;              // brows start above this height (upper lid + 0.5)
  float lip_y;                    // inner lip line (13/14 mid)
  float lip_z;
  Vec3 corner;  // 291
  const Vec3& P(int i) const { return (*v)[i]; }
  // Height of the line through the eye corners at x (clamped outside the eye).
  float EyeLine(float x) const {
    const Vec3 &o = P(kEyeOuter), &i = P(kEyeInner);
    const float t = std::clamp((x - i[0]) / (o[0] - i[0]), 0.0f, 1.0f);
    return i[1] + t * (o[1] - i[1]);
  }
  float U(float x) const { return (x - eye_cx) / eye_half_w; }
  float Gap(float x) const { return gap * std::max(0.0f, 1 - U(x) * U(x)); }
  // Upper lid band weight: 1 on the lid, fading upward over `fade` cm; 0 below the line.
  float UpperLid(const Vec3& p, float fade) const {
    const float u = U(p[0]);
    if (std::abs(u) >= 1) return 0;
    const float h = p[1] - EyeLine(p[0]);
    if (h <= 0) return 0;
    const float lid = (P(kLidUpper)[1] - EyeLine(P(kLidUpper)[0])) * (1 - u * u) + 0.05f;
    return h <= lid ? 1.0f : Bump((h - lid) / fade);
  }
  float LowerLid(const Vec3& p, float fade) const {
    const float u = U(p[0]);
    if (std::abs(u) >= 1) return 0;
    const float d = EyeLine(p[0]) - p[1];
    if (d <= 0) return 0;
    const float lid = (EyeLine(P(kLidLower)[0]) - P(kLidLower)[1]) * (1 - u * u) + 0.05f;
    return d <= lid ? 1.0f : Bump((d - lid) / fade);
  }
  float BrowGate(const Vec3& p) const { return Smoothstep((p[1] - brow_y_gate) / 0.8f); }
  // A brow raise's weight field about a brow point (cx, cy): a bump of `radius` across,
  // stretched upward over kForeheadReach above the brow (the lower forehead moves with the
  // brow, fading towards the hairline), gated to nothing at the eyelids.
  float BrowField(const Vec3& p, float cx, float cy, float radius) const {
    const float dx = (p[0] - cx) / radius;
    const float dy = (p[1] - cy) / (p[1] > cy ? kForeheadReach : radius);
    return FlatBump(std::hypot(dx, dy), 0.45f) * BrowGate(p);
  }
};

using Builder = std::function<void(const Anchors&, Field&)>;

// Each builder writes the +x-side (Left) target, or a whole symmetric one.
Field Build(const Anchors& a, const Builder& b) {
  Field f(a.v->size(), Vec3{0, 0, 0});
  b(a, f);
  return f;
}

void ForEach(const Anchors& a, Field& f, const std::function<Vec3(const Vec3&)>& d) {
  for (size_t i = 0; i < f.size(); ++i) f[i] = d((*a.v)[i]);
}

struct TargetDef {
  const char* name;  // the Left name for a pair; "Left" -> "Right" gives the twin
  bool paired;
  Builder build;
};

std::vector<TargetDef> Definitions() {
  const float kJawDeg = 14.0f;
  return {
      {"eyeBlinkLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float g = a.Gap(p[0]);
           return Vec3{0, -0.85f * g * a.UpperLid(p, 1.2f) + 0.15f * g * a.LowerLid(p, 0.6f), 0};
         });
       }},
      {"eyeSquintLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float g = a.Gap(p[0]);
           return Vec3{0, 0.45f * g * a.LowerLid(p, 1.4f) - 0.1f * g * a.UpperLid(p, 1.2f), 0};
         });
       }},
      {"eyeWideLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           return Vec3{0, 0.6f * a.Gap(p[0]) * a.UpperLid(p, 2.2f), 0};
         });
       }},
      {"jawOpen", false,
       [kJawDeg](const Anchors& a, Field& f) {
         const float py = 0, pz = -2;  // pivot near the jaw joints
         ForEach(a, f, [&](const Vec3& p) {
           const float t = 0.15f + 2.35f * Smoothstep((std::abs(p[0]) - 1.5f) / 2.5f);
           const float w = Smoothstep(0.5f + (a.lip_y - p[1]) / (2 * t));
           const float phi = w * kJawDeg * std::numbers::pi_v<float> / 180;
           const float dy = p[1] - py, dz = p[2] - pz;
           const float ny = dy * std::cos(phi) - dz * std::sin(phi);
           const float nz = dy * std::sin(phi) + dz * std::cos(phi);
           return Vec3{0, ny - dy, nz - dz};
         });
       }},
      {"mouthClose", false,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float ax = std::abs(p[0]);
           const float wx = ax <= 1.8f ? 1.0f : Bump((ax - 1.8f) / 1.2f);
           const float d = std::abs(p[1] - a.lip_y);
           const float band = d <= 0.6f ? 1.0f : Bump((d - 0.6f) / 0.8f);
           const float dy = p[1] < a.lip_y ? 0.45f : -0.1f;
           return Vec3{0, dy * wx * band, 0};
         });
       }},
      {"mouthFunnel", false,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float r = std::hypot(p[0] / 3.0f, (p[1] - a.lip_y) / 1.6f);
           const float e = FlatBump(r, 0.75f);
           const float side = std::clamp((p[1] - a.lip_y) / 0.3f, -1.0f, 1.0f);
           return Vec3{-0.2f * (p[0] / a.corner[0]) * e, 0.2f * side * e, 0.45f * e};
         });
       }},
      {"mouthPucker", false,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float r = std::hypot(p[0] / 3.2f, (p[1] - a.lip_y) / 1.8f);
           const float e = FlatBump(r, 0.75f);
           return Vec3{-0.6f * (p[0] / a.corner[0]) * e, 0, 0.35f * e};
         });
       }},
      {"mouthLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           return Vec3{0.5f * FlatBump(Dist2(p, 0, a.lip_y) / 3.2f, 0.5f), 0, 0};
         });
       }},
      {"mouthSmileLeft", true,
       [](const Anchors& a, Field& f) {
         // The corner and the cheek beside it (flat within 0.3 of the radius: the corner
         // region moves as a whole, so the corner gets the full amplitude).
         ForEach(a, f, [&](const Vec3& p) {
           const float b = FlatBump(Dist2(p, a.corner[0], a.corner[1]) / 2.8f, 0.15f);
           return Vec3{kSmileOut * b, kSmileUp * b, -kSmileBack * b};
         });
       }},
      {"mouthFrownLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float b = FlatBump(Dist2(p, a.corner[0], a.corner[1]) / 2.2f, 0.15f);
           return Vec3{kFrownOut * b, -kFrownDown * b, 0};
         });
       }},
      {"mouthDimpleLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float b = Bump(Dist2(p, a.corner[0], a.corner[1]) / 1.6f);
           return Vec3{0.15f * b, 0, -0.35f * b};
         });
       }},
      {"mouthStretchLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float b = FlatBump(Dist2(p, a.corner[0], a.corner[1] - 0.3f) / 2.7f, 0.15f);
           return Vec3{kStretchOut * b, -kStretchDown * b, -0.05f * b};
         });
       }},
      {"mouthShrugLower", false,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float b =
               Bump(Dist2(p, 0, a.lip_y - 2.2f) / 2.2f) * Smoothstep((a.lip_y - p[1]) / 0.2f);
           return Vec3{0, 0.3f * b, 0.15f * b};
         });
       }},
      {"mouthPressLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float wx = Smoothstep((p[0] + 0.6f) / 1.2f) *
                            (p[0] <= 2.3f ? 1.0f : Bump((p[0] - 2.3f) / 0.9f));
           const float d = p[1] - a.lip_y;
           const float band = FlatBump(std::abs(d) / 1.1f, 0.6f);
           const float toward = -std::clamp(d / 0.2f, -1.0f, 1.0f);
           return Vec3{0, 0.25f * toward * band * wx, -0.12f * band * wx};
         });
       }},
      {"mouthLowerDownLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float b =
               Bump(Dist2(p, 1.2f, a.lip_y - 0.6f) / 1.8f) * Smoothstep((a.lip_y - p[1]) / 0.15f);
           return Vec3{0, -kLowerLipDown * b, 0};
         });
       }},
      {"mouthUpperUpLeft", true,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float b =
               Bump(Dist2(p, 1.2f, a.lip_y + 0.55f) / 1.8f) * Smoothstep((p[1] - a.lip_y) / 0.15f);
           return Vec3{0, 0.45f * b, 0};
         });
       }},
      {"browDownLeft", true,
       [](const Anchors& a, Field& f) {
         const Vec3 &m = a.P(kBrowMiddle), &i = a.P(kBrowInner), &o = a.P(kBrowOuter);
         const float cx = 0.5f * (m[0] + i[0]), cy = 0.5f * (m[1] + i[1]);
         ForEach(a, f, [&](const Vec3& p) {
           const float b = FlatBump(Dist2(p, cx, cy) / 2.4f, 0.6f) * a.BrowGate(p);
           // Corrugator and depressor supercilii pull the brow's inner end down and in most:
           // the drop tapers from the inner end (336) towards kBrowOuterShare at the outer
           // end's x (300, itself beyond the bump), so the brows slant down to the nose.
           const float lat = std::clamp((p[0] - i[0]) / (o[0] - i[0]), 0.0f, 1.0f);
           const float down = kBrowLower * (1 - (1 - kBrowOuterShare) * lat);
           return Vec3{-kBrowDrawIn * b, -down * b, 0};
         });
       }},
      {"browInnerUp", false,
       [](const Anchors& a, Field& f) {
         const Vec3& i = a.P(kBrowInner);
         ForEach(a, f, [&](const Vec3& p) {
           const float b = std::min(1.0f, a.BrowField(p, i[0], i[1], 1.9f) +
                                              a.BrowField(p, -i[0], i[1], 1.9f));
           return Vec3{0, kBrowInnerRaise * b, 0};
         });
       }},
      {"browOuterUpLeft", true,
       [](const Anchors& a, Field& f) {
         const Vec3 &o = a.P(kBrowOuter), &m = a.P(kBrowMiddle);
         const float cx = 0.5f * (o[0] + m[0]), cy = 0.5f * (o[1] + m[1]);
         ForEach(a, f, [&](const Vec3& p) {
           return Vec3{0, kBrowOuterRaise * a.BrowField(p, cx, cy, 2.1f), 0};
         });
       }},
      {"cheekPuff", false,
       [](const Anchors& a, Field& f) {
         ForEach(a, f, [&](const Vec3& p) {
           const float bl = Bump(Dist2(p, 3.9f, -2.3f) / 2.2f);
           const float br = Bump(Dist2(p, -3.9f, -2.3f) / 2.2f);
           return Vec3{0.45f * (bl - br), 0, 0.15f * (bl + br)};
         });
       }},
      {"cheekSquintLeft", true,
       [](const Anchors& a, Field& f) {
         const float cy = 0.5f * (a.P(kLidUpper)[1] + a.P(kLidLower)[1]) - 1.8f;
         const Vec3& brow = a.P(kBrowOuter);
         ForEach(a, f, [&](const Vec3& p) {
           // Orbicularis oculi's orbital part also draws the outer brow down a little.
           const float outer = Bump(Dist2(p, brow[0], brow[1]) / 1.6f) * a.BrowGate(p);
           const float b = FlatBump(Dist2(p, a.eye_cx, cy) / 2.2f, 0.3f);
           // The lids themselves stay (AU6's narrowing of the eye is eyeSquint's, see the AU
           // table): the cheek's rise fades out over the lower lid's cushion.
           const float lid = a.LowerLid(p, 0.8f);
           return Vec3{0, kCheekRaise * b * (1 - lid) - kCheekBrowLower * outer, 0.1f * b};
         });
       }},
      {"noseSneerLeft", true,
       [](const Anchors& a, Field& f) {
         const Vec3& n = a.P(kNoseWing);
         const Vec3& brow = a.P(kBrowInner);
         ForEach(a, f, [&](const Vec3& p) {
           // Nose wing and the side of the nose up; the skin between the brows (this side's
           // half) down; the upper lip's middle-to-side drawn up with the wing.
           const float wing = FlatBump(Dist2(p, n[0], n[1] + 0.2f) / 1.8f, 0.2f);
           const float glabella = Bump(Dist2(p, 0.5f * brow[0], brow[1] - 0.3f) / 1.5f) *
                                  Smoothstep((p[0] + 0.3f) / 0.6f);
           const float lip = Bump(Dist2(p, 0.6f, a.lip_y + 0.5f) / 1.3f) *
                             Smoothstep((p[1] - a.lip_y) / 0.15f);
           return Vec3{0, kNoseWingRaise * wing - kGlabellaLower * glabella + kSneerLipRaise * lip, 0};
         });
       }},
  };
}

std::string RightName(const std::string& left) {
  std::string r = left;
  const size_t k = r.rfind("Left");
  if (k != std::string::npos) r.replace(k, 4, "Right");
  return r;
}

}  // namespace

std::optional<BlendshapeBasis> BlendshapeBasis::Create(const CanonicalFace& face,
                                                       std::string* err) {
  if (face.vertices.size() != static_cast<size_t>(kMeshLandmarks)) {
    if (err)
      *err = "blendshape basis: the canonical face has " + std::to_string(face.vertices.size()) +
             " vertices, expected " + std::to_string(kMeshLandmarks) + " (FaceMesh topology)";
    return std::nullopt;
  }
  BlendshapeBasis b;
  b.neutral_ = face.vertices;
  const auto& v = b.neutral_;
  const int n = static_cast<int>(v.size());

  // Mirror vertices: nearest to (-x, y, z). The canonical mesh is symmetric to ~1e-3 cm.
  b.mirror_vertex_.resize(n);
  float worst = 0;
  for (int i = 0; i < n; ++i) {
    int best = i;
    float bd = 1e30f;
    for (int j = 0; j < n; ++j) {
      const float dx = v[j][0] + v[i][0], dy = v[j][1] - v[i][1], dz = v[j][2] - v[i][2];
      const float d = dx * dx + dy * dy + dz * dz;
      if (d < bd) bd = d, best = j;
    }
    b.mirror_vertex_[i] = best;
    worst = std::max(worst, std::sqrt(bd));
  }
  if (worst > 0.05f) {
    if (err)
      *err =
          "blendshape basis: the canonical face is not left/right symmetric (a vertex's "
          "mirror image is " +
          std::to_string(worst) + " cm from any vertex)";
    return std::nullopt;
  }

  Anchors a;
  a.v = &v;
  a.eye_cx = 0.5f * (v[kEyeOuter][0] + v[kEyeInner][0]);
  a.eye_half_w = 0.5f * std::abs(v[kEyeOuter][0] - v[kEyeInner][0]);
  a.gap = v[kLidUpper][1] - v[kLidLower][1];
  a.brow_y_gate = v[kLidUpper][1] + 0.5f;
  a.lip_y = 0.5f * (v[kLipUpperInner][1] + v[kLipLowerInner][1]);
  a.lip_z = 0.5f * (v[kLipUpperInner][2] + v[kLipLowerInner][2]);
  a.corner = v[kMouthCorner];
  if (!(a.eye_half_w > 0.1f) || !(a.gap > 0.05f) || !(a.corner[0] > 0.5f)) {
    if (err) *err = "blendshape basis: the canonical face's eye or mouth landmarks are degenerate";
    return std::nullopt;
  }

  for (const TargetDef& d : Definitions()) {
    Field f = Build(a, d.build);
    const int left = b.size();
    b.names_.push_back(d.name);
    b.deltas_.push_back(f);
    b.mirror_target_.push_back(left);
    if (d.paired) {
      Field r(n);
      for (int i = 0; i < n; ++i) {
        const Vec3& m = f[b.mirror_vertex_[i]];
        r[i] = {-m[0], m[1], m[2]};
      }
      b.names_.push_back(RightName(d.name));
      b.deltas_.push_back(std::move(r));
      b.mirror_target_.push_back(left);
      b.mirror_target_[left] = left + 1;
    }
  }
  return b;
}

int BlendshapeBasis::Index(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

void BlendshapeBasis::Apply(std::span<const float> weights,
                            std::span<std::array<float, 3>> out) const {
  if (out.size() != neutral_.size()) return;
  std::copy(neutral_.begin(), neutral_.end(), out.begin());
  const size_t k = std::min(weights.size(), deltas_.size());
  for (size_t t = 0; t < k; ++t) {
    const float w = weights[t];
    if (w == 0) continue;
    const auto& d = deltas_[t];
    for (size_t i = 0; i < out.size(); ++i)
      for (int c = 0; c < 3; ++c) out[i][c] += w * d[i][c];
  }
}

const std::vector<ActionUnit>& ActionUnitTable() {
  static const std::vector<ActionUnit> table = {
      {1, "inner brow raiser", {{"browInnerUp", 1}}},
      {2, "outer brow raiser", {{"browOuterUpLeft", 1}, {"browOuterUpRight", 1}}},
      {4, "brow lowerer", {{"browDownLeft", 1}, {"browDownRight", 1}}},
      {5, "upper lid raiser", {{"eyeWideLeft", 1}, {"eyeWideRight", 1}}},
      {6, "cheek raiser",
       {{"cheekSquintLeft", 1}, {"cheekSquintRight", 1}, {"eyeSquintLeft", 0.5f}, {"eyeSquintRight", 0.5f}}},
      {7, "lid tightener", {{"eyeSquintLeft", 1}, {"eyeSquintRight", 1}}},
      {9, "nose wrinkler", {{"noseSneerLeft", 1}, {"noseSneerRight", 1}}},
      {10, "upper lip raiser", {{"mouthUpperUpLeft", 1}, {"mouthUpperUpRight", 1}}},
      {12, "lip corner puller", {{"mouthSmileLeft", 1}, {"mouthSmileRight", 1}}},
      {14, "dimpler", {{"mouthDimpleLeft", 1}, {"mouthDimpleRight", 1}}},
      {15, "lip corner depressor", {{"mouthFrownLeft", 1}, {"mouthFrownRight", 1}}},
      {16, "lower lip depressor", {{"mouthLowerDownLeft", 1}, {"mouthLowerDownRight", 1}}},
      {17, "chin raiser", {{"mouthShrugLower", 1}}},
      {18, "lip pucker", {{"mouthPucker", 1}}},
      {20, "lip stretcher", {{"mouthStretchLeft", 1}, {"mouthStretchRight", 1}}},
      {22, "lip funneler", {{"mouthFunnel", 1}}},
      {23, "lip tightener", {{"mouthPressLeft", 1}, {"mouthPressRight", 1}}},
      {24, "lip pressor", {{"mouthPressLeft", 1}, {"mouthPressRight", 1}}},
      {26, "jaw drop", {{"jawOpen", 0.7f}}},
      {27, "mouth stretch", {{"jawOpen", 1}}},
      {43, "eyes closed", {{"eyeBlinkLeft", 1}, {"eyeBlinkRight", 1}}},
  };
  return table;
}

namespace {
Expression FromAUs(std::string name, std::initializer_list<int> aus) {
  Expression e{std::move(name), {}};
  for (int au : aus)
    for (const ActionUnit& u : ActionUnitTable())
      if (u.au == au)
        for (const auto& entry : u.blendshapes) {
          const auto& [shape, w] = entry;
          auto it = std::find_if(e.weights.begin(), e.weights.end(),
                                 [&entry](const auto& p) { return p.first == entry.first; });
          if (it == e.weights.end())
            e.weights.emplace_back(shape, w);
          else
            it->second = std::max(it->second, w);
        }
  return e;
}
}  // namespace

const std::vector<Expression>& CardinalExpressions() {
  static const std::vector<Expression> list = {
      FromAUs("neutral", {}),
      FromAUs("happy", {6, 12}),
      FromAUs("sad", {1, 4, 15}),
      FromAUs("surprise", {1, 2, 5, 26}),
      FromAUs("fear", {1, 2, 4, 5, 7, 20, 26}),
      FromAUs("anger", {4, 5, 7, 23}),
      FromAUs("disgust", {9, 15, 16}),
  };
  return list;
}

const Expression* FindExpression(std::string_view name) {
  for (const Expression& e : CardinalExpressions())
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<float> ExpressionWeights(const Expression& e, const BlendshapeBasis& basis,
                                     float intensity) {
  std::vector<float> w(basis.size(), 0.0f);
  for (const auto& [name, value] : e.weights) {
    const int i = basis.Index(name);
    if (i >= 0) w[i] = std::clamp(value * intensity, 0.0f, 1.0f);
  }
  return w;
}

}  // namespace fg
