// Per-track baselines for a person who arrives with an expression (issue 13 "Scenes";
// docs/baselines.md): the facial action measures (engine/emotion/face_actions.h) and the
// avatar mirror (engine/avatar/mirror.h) start from the population prior (the canonical
// face) and move to a track's own neutral only on evidence of rest.
//
// Targets (from the issue; "reference" = the same smile read after a neutral start):
//   (a) enters smiling and holds it 60 s: the smile measure and the mirror's mouthSmile
//       still read >= 0.5 of the reference at the end;
//   (b) enters smiling, relaxes after 10 s, smiles again: the neutral stretch reads
//       <= 0.1 and the final smile >= 0.5 of the reference (synthetic: within 0.1 of it);
//   (c) starts neutral: reads the smile as the neutral-is-the-first-seconds rule did.
//   (d) a person whose own neutral lies beyond the prior's band (lip corners set high)
//       reads <= 0.1 after 10 minutes at rest.
// Two kinds of input:
//   - synthetic meshes: the canonical face plus known blendshape displacements (the
//     "very happy" prototype of engine/avatar/instruction.h), posed frontal in frame
//     pixels, for the long sessions (cheap: no pixels, no tracker);
//   - real pixels: FaceSynth (engine/synth/face_synth.h, the engine behind
//     `facesynthsrc expression=...`) with Grace Hopper's photo (a face at rest; the
//     astronaut smiles in hers), through FaceTracker (XNNPACK, BlazeFace + FaceMesh), at
//     320x240 and 5 fps to keep the run short; and both photos still.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/avatar/curve.h"
#include "engine/avatar/instruction.h"
#include "engine/avatar/mirror.h"
#include "engine/emotion/face_actions.h"
#include "engine/io/jpeg.h"
#include "engine/synth/face_synth.h"
#include "engine/tracking/face_tracker.h"
#include "engine/tracking/head_pose.h"
#include "tests/avatar/avatar_test_util.h"
#include "tests/nn/nn_test_util.h"

namespace fg {
namespace {

namespace nt = nn::testing;
using avatar_testing::Basis;
using avatar_testing::Canonical;
using Verts = std::vector<std::array<float, 3>>;

constexpr int kW = 640, kH = 480;

// The targets.
constexpr float kHeldFraction = 0.5f;   // (a), (b): smile read >= this x the reference
constexpr float kNeutralMax = 0.1f;     // (b): the neutral stretch
constexpr float kSyntheticMatch = 0.1f; // (b) synthetic: the final smile within this of the reference
constexpr float kSameAsBefore = 0.02f;  // (c): neutral start, against the old rule

WeightCurve Curve(const char* text) {
  InstructionResult r = ParseInstruction(text, Basis());
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : FormatInstructionError(*r.error));
  return WeightCurve(std::move(r.keyframes));
}

// The canonical face deformed by `w` (basis order) plus `identity` (cm), posed frontal at
// 10 px per cm in a 640x480 frame, as FaceMesh reports landmarks (x right, y down, z away).
Face MakeFace(std::span<const float> w, const Verts* identity = nullptr) {
  Verts v = Canonical().vertices;
  for (int k = 0; k < Basis().size(); ++k) {
    if (w[k] == 0) continue;
    const auto& d = Basis().Delta(k);
    for (size_t i = 0; i < v.size(); ++i)
      for (int c = 0; c < 3; ++c) v[i][c] += w[k] * d[i][c];
  }
  if (identity)
    for (size_t i = 0; i < v.size(); ++i)
      for (int c = 0; c < 3; ++c) v[i][c] += (*identity)[i][c];
  Face f;
  f.id = 1;
  f.landmarks.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    f.landmarks[i] = {kW / 2 + 10 * v[i][0], kH / 2 - 10 * v[i][1], -10 * v[i][2]};
  f.pose = FitHeadPose(Canonical(), f.landmarks, kW, kH).pose;
  return f;
}

float MirrorSmile(const MirrorResult& m) {
  return 0.5f * (m.blendshapes.at("mouthSmileLeft") + m.blendshapes.at("mouthSmileRight"));
}

// One session's readings: the face-action smile and the mirror's mouthSmile per frame.
struct Reading {
  std::vector<double> t;
  std::vector<float> smile, mirror;
  // Mean over [t0, t1] (frames with a calibrated reading only).
  float Mean(const std::vector<float>& v, double t0, double t1) const {
    double s = 0;
    int n = 0;
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i] >= t0 && t[i] <= t1) s += v[i], ++n;
    EXPECT_GT(n, 0) << "no reading in [" << t0 << ", " << t1 << "]";
    return n ? static_cast<float>(s / n) : 0.0f;
  }
  float Max(const std::vector<float>& v, double t0, double t1) const {
    float m = 0;
    for (size_t i = 0; i < t.size(); ++i)
      if (t[i] >= t0 && t[i] <= t1) m = std::max(m, v[i]);
    return m;
  }
};

// The synthetic session: `text` (an instruction) at `fps` for `seconds`.
Reading RunSynthetic(const char* text, double seconds, double fps,
                     const FaceActionOptions& fo = {}, const MirrorOptions& mo = {},
                     const Verts* identity = nullptr) {
  const WeightCurve curve = Curve(text);
  FaceActionTracks actions(fo);
  MirrorOptions m = mo;
  m.appearance = false;
  MirrorSolver mirror(Canonical(), Basis(), m);
  std::vector<float> w(Basis().size());
  Reading r;
  const int frames = static_cast<int>(std::floor(seconds * fps)) + 1;
  for (int k = 0; k < frames; ++k) {
    const double t = k / fps;
    const int64_t pts = std::llround(t * 1e9);
    curve.Evaluate(t, w);
    const Face f = MakeFace(w, identity);
    const FaceActions* a = actions.Update(f, pts);
    const MirrorResult* mr = mirror.Update(f, pts, kW, kH);
    if (!a || !mr || !a->calibrated || !mr->calibrated) continue;
    r.t.push_back(t);
    r.smile.push_back(a->smile);
    r.mirror.push_back(MirrorSmile(*mr));
  }
  return r;
}

// The reference: a neutral start, then the same smile.
constexpr const char* kReference = "neutral, hold 5 s, then very happy over 0.5 s, hold 10 s";

// The old rule: the first seconds are neutral (prior off, evidence = the first window only).
MirrorOptions OldMirror() {
  MirrorOptions o;
  o.use_prior = false;
  return o;
}
FaceActionOptions OldActions() {
  FaceActionOptions o;
  o.smile_band = o.mouth_band = o.brow_band = o.jaw_band = o.eye_band = 1e6f;  // any evidence at once
  return o;
}

TEST(Baseline, PopulationPriorIsTheCanonicalFace) {
  FaceActionMeasures m;
  const std::vector<float> zero(Basis().size(), 0.0f);
  ASSERT_TRUE(MeasureFaceActions(MakeFace(zero), &m));
  std::printf("[ prior ] canonical: eyes %.4f %.4f mouth %.4f smile %.4f brow %.4f jaw %.4f\n",
              m.eye_open_right, m.eye_open_left, m.mouth_open, m.smile, m.brow, m.jaw);
  const FaceActionMeasures& p = kPopulationNeutral;
  EXPECT_NEAR(m.eye_open_right, p.eye_open_right, 1e-3f);
  EXPECT_NEAR(m.eye_open_left, p.eye_open_left, 1e-3f);
  EXPECT_NEAR(m.mouth_open, p.mouth_open, 1e-3f);
  EXPECT_NEAR(m.smile, p.smile, 1e-3f);
  EXPECT_NEAR(m.brow, p.brow, 1e-3f);
  EXPECT_NEAR(m.jaw, p.jaw, 1e-3f);
}

// (c) and the reference: a neutral start reads the smile as the old rule did.
TEST(Baseline, NeutralStartReadsAsBefore) {
  const Reading now = RunSynthetic(kReference, 15, 10);
  const Reading old = RunSynthetic(kReference, 15, 10, OldActions(), OldMirror());
  const float s = now.Mean(now.smile, 11, 15), s_old = old.Mean(old.smile, 11, 15);
  const float m = now.Mean(now.mirror, 11, 15), m_old = old.Mean(old.mirror, 11, 15);
  std::printf("[ neutral start ] smile %.3f (old rule %.3f), mirror mouthSmile %.3f (old %.3f); "
              "at rest %.3f / %.3f\n",
              s, s_old, m, m_old, now.Max(now.smile, 2, 5), now.Max(now.mirror, 2, 5));
  EXPECT_GT(s, 0.5f) << "the reference smile must be a clear smile";
  EXPECT_GT(m, 0.5f);
  EXPECT_NEAR(s, s_old, kSameAsBefore);
  EXPECT_NEAR(m, m_old, kSameAsBefore);
  EXPECT_LE(now.Max(now.smile, 2, 5), kSameAsBefore) << "neutral reads neutral";
  EXPECT_LE(now.Max(now.mirror, 2, 5), kSameAsBefore);
}

// (a) synthetic: a smile from the first frame, held 60 s.
TEST(Baseline, SmileHeldFromTheStartStillReadsAfterAMinute) {
  const Reading ref = RunSynthetic(kReference, 15, 10);
  const Reading held = RunSynthetic("very happy, hold 60 s", 60, 10);
  const Reading old = RunSynthetic("very happy, hold 60 s", 60, 10, OldActions(),
                                   OldMirror());
  const float s_ref = ref.Mean(ref.smile, 11, 15), m_ref = ref.Mean(ref.mirror, 11, 15);
  const float s = held.Mean(held.smile, 58, 60), m = held.Mean(held.mirror, 58, 60);
  std::printf("[ held 60 s ] smile %.3f (reference %.3f, old rule %.3f), mirror %.3f "
              "(reference %.3f, old rule %.3f); at 3 s: %.3f, %.3f\n",
              s, s_ref, old.Mean(old.smile, 58, 60), m, m_ref, old.Mean(old.mirror, 58, 60),
              held.Mean(held.smile, 2.5, 3.5), held.Mean(held.mirror, 2.5, 3.5));
  EXPECT_GE(s, kHeldFraction * s_ref);
  EXPECT_GE(m, kHeldFraction * m_ref);
  EXPECT_LT(old.Mean(old.smile, 58, 60), 0.1f) << "the old rule read it as neutral (the bug)";
}

// (b) synthetic: smiling 10 s, relaxed 20 s, smiling again.
TEST(Baseline, RelaxingTeachesTheNeutral) {
  const Reading ref = RunSynthetic(kReference, 15, 10);
  const Reading r = RunSynthetic(
      "very happy, hold 10 s, then neutral over 0.5 s, hold 20 s, then very happy over 0.5 s, "
      "hold 10 s",
      41, 10);
  const float s_ref = ref.Mean(ref.smile, 11, 15), m_ref = ref.Mean(ref.mirror, 11, 15);
  const float s_rest = r.Max(r.smile, 22, 30.5), m_rest = r.Max(r.mirror, 22, 30.5);
  const float s_end = r.Mean(r.smile, 37, 41), m_end = r.Mean(r.mirror, 37, 41);
  std::printf("[ smile, rest, smile ] first smile %.3f / %.3f; rest (22-30.5 s) max %.3f / %.3f; "
              "final %.3f / %.3f (reference %.3f / %.3f)  [face actions / mirror]\n",
              r.Mean(r.smile, 5, 10), r.Mean(r.mirror, 5, 10), s_rest, m_rest, s_end, m_end,
              s_ref, m_ref);
  EXPECT_GE(r.Mean(r.smile, 5, 10), kHeldFraction * s_ref);
  EXPECT_GE(r.Mean(r.mirror, 5, 10), kHeldFraction * m_ref);
  EXPECT_LE(s_rest, kNeutralMax);
  EXPECT_LE(m_rest, kNeutralMax);
  EXPECT_NEAR(s_end, s_ref, kSyntheticMatch);
  EXPECT_NEAR(m_end, m_ref, kSyntheticMatch);
}

// (d) a person whose neutral is beyond the band: lip corners set high (the smile
// targets at 0.6 as part of the identity), at rest for 10 minutes (2 fps).
TEST(Baseline, OwnNeutralBeyondTheBandIsLearnedSlowly) {
  Verts identity(Canonical().vertices.size(), {0, 0, 0});
  for (const char* name : {"mouthSmileLeft", "mouthSmileRight"}) {
    const auto& d = Basis().Delta(Basis().Index(name));
    for (size_t i = 0; i < identity.size(); ++i)
      for (int c = 0; c < 3; ++c) identity[i][c] += 0.6f * d[i][c];
  }
  const Reading r = RunSynthetic("neutral, hold 600 s", 600, 2, {}, {}, &identity);
  std::printf("[ own neutral beyond the band ] smile at 3 s %.3f, 60 s %.3f, 300 s %.3f, "
              "600 s %.3f; mirror %.3f, %.3f, %.3f, %.3f\n",
              r.Mean(r.smile, 2.5, 3.5), r.Mean(r.smile, 59, 61), r.Mean(r.smile, 299, 301),
              r.Mean(r.smile, 598, 600), r.Mean(r.mirror, 2.5, 3.5), r.Mean(r.mirror, 59, 61),
              r.Mean(r.mirror, 299, 301), r.Mean(r.mirror, 598, 600));
  EXPECT_LE(r.Mean(r.smile, 598, 600), kNeutralMax);
  EXPECT_LE(r.Mean(r.mirror, 598, 600), kNeutralMax);
}

// ---- real pixels: FaceSynth through FaceTracker ----

struct PixelRun {
  Reading r;
  int frames = 0, missed = 0;
};

PixelRun RunPixels(const char* text, double seconds, const char* photo = FG_GRACE_HOPPER,
                   bool neutralise = false) {
  PixelRun out;
  FaceSynthOptions o;
  o.photo_path = photo;
  o.width = 320;
  o.height = 240;
  o.fps = 5;
  o.motion = SynthMotion::kNone;
  o.amplitude = 0;
  o.expression = text;
  o.expression_neutralise = neutralise;
  o.models_dir = nt::ModelsDir();
  o.backend = "xnnpack";
  std::string err;
  auto synth = FaceSynth::Create(o, &err);
  EXPECT_TRUE(synth) << err;
  if (!synth) return out;
  TrackerOptions to;
  to.models_dir = nt::ModelsDir();
  to.backend = "xnnpack";
  to.async_detect = false;
  auto tracker = FaceTracker::Create(to, &err);
  EXPECT_TRUE(tracker) << err;
  if (!tracker) return out;
  FaceActionTracks actions;
  MirrorOptions mo;
  mo.appearance = false;
  MirrorSolver mirror(Canonical(), Basis(), mo);
  SynthFrame frame;
  for (;;) {
    const SynthTruth t = synth->Next();
    if (t.t_s > seconds) break;
    synth->Render(t, &frame);
    FrameFaces ff = tracker->Process(frame.View(), t.pts_ns);
    ++out.frames;
    if (ff.faces.size() != 1u) {
      ++out.missed;
      continue;
    }
    const FaceActions* a = actions.Update(ff.faces[0], t.pts_ns);
    const MirrorResult* m = mirror.Update(ff.faces[0], t.pts_ns, o.width, o.height);
    if (!a || !m || !a->calibrated || !m->calibrated) continue;
    out.r.t.push_back(t.t_s);
    out.r.smile.push_back(a->smile);
    out.r.mirror.push_back(MirrorSmile(*m));
  }
  return out;
}

// (a), (b) and (c) on real pixels: Grace Hopper's photo (a face at rest) in FaceSynth,
// two sessions run once: a neutral start (the reference) and one that enters smiling,
// holds it 60 s, relaxes 15 s and smiles again.
struct PixelSessions {
  PixelRun ref, run;
};
const PixelSessions& Sessions() {
  static const PixelSessions s = [] {
    PixelSessions p;
    p.ref = RunPixels("neutral, hold 3 s, then very happy over 0.5 s, hold 5 s", 8.5);
    p.run = RunPixels(
        "very happy, hold 60 s, then neutral over 0.5 s, hold 15 s, then very happy over 0.5 s, "
        "hold 5 s",
        81);
    const Reading& a = p.ref.r;
    const Reading& b = p.run.r;
    std::printf("[ pixels ] reference (neutral start): rest %.3f / %.3f, smile %.3f / %.3f\n"
                "[ pixels ] entering smiling: 3 s %.3f / %.3f, 60 s %.3f / %.3f, rest max %.3f / "
                "%.3f, final %.3f / %.3f  [face actions / mirror]\n",
                a.Max(a.smile, 2, 3), a.Max(a.mirror, 2, 3), a.Mean(a.smile, 5, 8.5),
                a.Mean(a.mirror, 5, 8.5), b.Mean(b.smile, 2.5, 3.5), b.Mean(b.mirror, 2.5, 3.5),
                b.Mean(b.smile, 58, 60), b.Mean(b.mirror, 58, 60), b.Max(b.smile, 70, 75.5),
                b.Max(b.mirror, 70, 75.5), b.Mean(b.smile, 78, 81), b.Mean(b.mirror, 78, 81));
    return p;
  }();
  return s;
}

TEST(BaselinePixels, EnteringSmilingThroughTheTracker) {
  const PixelSessions& p = Sessions();
  ASSERT_GT(p.ref.frames, 0);
  ASSERT_GT(p.run.frames, 0);
  EXPECT_EQ(p.ref.missed + p.run.missed, 0) << "the tracker must keep the face";
  const Reading& a = p.ref.r;
  const Reading& b = p.run.r;
  const float s_ref = a.Mean(a.smile, 5, 8.5), m_ref = a.Mean(a.mirror, 5, 8.5);
  EXPECT_GT(s_ref, 0.1f) << "the reference must read a smile at all";
  EXPECT_GT(m_ref, 0.3f);
  // Face actions: (c), (a), (b).
  EXPECT_LE(a.Max(a.smile, 2, 3), kNeutralMax) << "(c) a neutral start reads neutral";
  EXPECT_GE(b.Mean(b.smile, 58, 60), kHeldFraction * s_ref) << "(a) held 60 s";
  EXPECT_LE(b.Max(b.smile, 70, 75.5), kNeutralMax) << "(b) the neutral stretch";
  EXPECT_GE(b.Mean(b.smile, 78, 81), kHeldFraction * s_ref) << "(b) smiling again";
  // Mirror: (c), (b).
  EXPECT_LE(a.Max(a.mirror, 2, 3), kNeutralMax) << "(c) a neutral start reads neutral";
  EXPECT_LE(b.Max(b.mirror, 70, 75.5), kNeutralMax) << "(b) the neutral stretch";
  EXPECT_GE(b.Mean(b.mirror, 78, 81), kHeldFraction * m_ref) << "(b) smiling again";
}

// The mirror's (a) on real pixels: the held smile after 60 s against the target (0.5 of
// the same smile after a neutral start). It missed with issue 13's first FACS amplitudes
// (0.30 against 0.37, when the synthetic smile was smaller); with issue 15's amplitudes the
// smile moves FaceMesh's mouth more and the target is met (docs/baselines.md). The prior acts
// through the smile measure, which FaceMesh moves by a fraction of the geometric amount.
TEST(BaselinePixels, MirrorHeldSmileThroughTheTracker) {
  const PixelSessions& p = Sessions();
  const Reading& a = p.ref.r;
  const Reading& b = p.run.r;
  const float m_ref = a.Mean(a.mirror, 5, 8.5);
  EXPECT_GE(b.Mean(b.mirror, 58, 60), kHeldFraction * m_ref) << "(a) held 60 s";
}

}  // namespace
}  // namespace fg

namespace fg {
namespace {
// Still photos through the tracker, 6 s at 10 fps: the raw measures' offsets from the prior
// at rest (docs/baselines.md) and what the new baseline reads. Grace Hopper's face at rest
// must read neutral (the bands hold a real face); the astronaut smiles in her photo and
// must read as smiling (the old rule read 0: her first seconds were her neutral).
struct Still {
  FaceActions a;
  MirrorResult m;
};
Still RunStill(const char* name, const ImageView& v) {
  std::string err;
  TrackerOptions to;
  to.models_dir = nt::ModelsDir();
  to.backend = "xnnpack";
  to.async_detect = false;
  auto tracker = FaceTracker::Create(to, &err);
  EXPECT_TRUE(tracker) << err;
  Still out;
  if (!tracker) return out;
  MirrorOptions mo;
  mo.appearance = false;
  MirrorSolver mirror(Canonical(), Basis(), mo);
  FaceActionTracks actions;
  const MirrorResult* m = nullptr;
  const FaceActions* a = nullptr;
  for (int k = 0; k < 60; ++k) {
    FrameFaces ff = tracker->Process(v, k * 100'000'000LL);
    if (ff.faces.size() != 1) continue;
    m = mirror.Update(ff.faces[0], k * 100'000'000LL, v.width, v.height);
    a = actions.Update(ff.faces[0], k * 100'000'000LL);
  }
  EXPECT_TRUE(m && a) << name << ": no face";
  if (!m || !a) return out;
  const FaceActionMeasures& p = kPopulationNeutral;
  std::printf("[ still %s ] raw - prior: eyes %+.4f %+.4f mouth %+.4f smile %+.4f brow %+.4f jaw "
              "%+.4f; reads smile %.2f mouth %.2f brow +%.2f -%.2f jaw %.2f eyes %.2f %.2f, "
              "mirror mouthSmile %.2f jawOpen %.2f\n",
              name, a->raw.eye_open_right - p.eye_open_right, a->raw.eye_open_left - p.eye_open_left,
              a->raw.mouth_open - p.mouth_open, a->raw.smile - p.smile, a->raw.brow - p.brow,
              a->raw.jaw - p.jaw, a->smile, a->mouth_open, a->brow_raise, a->brow_lower,
              a->jaw_open, a->eye_open_right, a->eye_open_left, MirrorSmile(*m),
              m->blendshapes.at("jawOpen"));
  out.a = *a;
  out.m = *m;
  return out;
}

TEST(BaselinePixels, StillPhotosAtRestAndSmiling) {
  RgbImage hopper;
  ASSERT_FALSE(ReadImageRgb(FG_GRACE_HOPPER, &hopper));
  const Still h = RunStill("grace hopper", hopper.View());
  for (float v : {h.a.smile, h.a.mouth_open, h.a.brow_raise, h.a.brow_lower, h.a.jaw_open,
                  MirrorSmile(h.m), h.m.blendshapes.at("jawOpen")})
    EXPECT_LE(v, kNeutralMax) << "a face at rest reads neutral";
  EXPECT_GE(std::min(h.a.eye_open_right, h.a.eye_open_left), 0.9f);
  RgbImage astronaut;
  ASSERT_FALSE(ReadImageRgb(FG_ASTRONAUT, &astronaut));
  const Still s = RunStill("astronaut", astronaut.View());
  EXPECT_GE(s.a.smile, 0.5f) << "her smile reads as a smile";
  EXPECT_GE(MirrorSmile(s.m), 0.5f);
  // Issue 15's mirror strength: a real broad smile maps to mouthSmile >= 0.7 (measured 1.00
  // on her; the only real smiling face CI has). Its closed-eye half (eyeBlink >= 0.8) has no
  // real closed-eye photo here: not tested.
  EXPECT_GE(s.m.blendshapes.at("mouthSmileLeft"), 0.7f);
  EXPECT_GE(s.m.blendshapes.at("mouthSmileRight"), 0.7f);
}

}  // namespace
}  // namespace fg
