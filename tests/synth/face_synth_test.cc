// FaceSynth on the astronaut photo: where the pulse is (on the face FaceTracker finds), how
// big it is (amplitude, channel ratios), its rate and trajectory, the timestamps (jitter,
// drops), the pixel formats, the motion, and errors for bad options. The expression track
// (issue 7): the truth carries the instruction's weights at each time, the warp changes the
// frame only on the face (still and moving, RGB and I420), a bad instruction is named.
#include "engine/synth/face_synth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdlib>
#include <numbers>

#include "engine/avatar/blendshapes.h"
#include "engine/avatar/curve.h"
#include "engine/avatar/instruction.h"
#include "engine/geometry/canonical_face.h"
#include "engine/tracking/face_tracker.h"

namespace fg {
namespace {

std::string ModelsDir() {
  if (const char* env = std::getenv("FACEGRAPH_MODELS"); env && *env) return env;
  return FG_MODELS_DEFAULT_DIR;
}

FaceSynthOptions Still() {
  FaceSynthOptions o;
  o.photo_path = FG_ASTRONAUT;
  o.motion = SynthMotion::kNone;
  return o;
}

std::unique_ptr<FaceSynth> Make(const FaceSynthOptions& o) {
  std::string err;
  auto s = FaceSynth::Create(o, &err);
  EXPECT_TRUE(s) << err;
  return s;
}

// The still frame at a given pulse value (phase chosen by the caller through the truth).
SynthTruth AtPulse(const FaceSynth& s, double phase) {
  SynthTruth t = s.TruthAt(0);
  t.pulse_phase = phase;
  t.pulse = s.PulseShape(phase);
  return t;
}

TEST(FaceSynth, PulseWeightLiesOnTheFaceTheTrackerFinds) {
  auto synth = Make(Still());
  ASSERT_TRUE(synth);
  SynthFrame frame;
  synth->Render(synth->TruthAt(0), &frame);
  TrackerOptions to;
  to.models_dir = ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(to, &err);
  ASSERT_TRUE(tracker) << err;
  const FrameFaces ff = tracker->Process(frame.View(), 0);
  ASSERT_EQ(ff.faces.size(), 1u);
  const Box b = ff.faces[0].box;
  // At least 80 % of the weight inside the face box grown by 25 % (the map covers the skin of
  // the face, a little of the neck and ears; nothing of the background or the suit).
  const std::vector<float> w = synth->WeightMap();
  double inside = 0, total = 0, max_outside = 0;
  for (int y = 0; y < frame.height; ++y)
    for (int x = 0; x < frame.width; ++x) {
      const float v = w[y * frame.width + x];
      total += v;
      const bool in = x >= b.x - 0.25 * b.w && x <= b.x + 1.25 * b.w && y >= b.y - 0.25 * b.h &&
                      y <= b.y + 1.25 * b.h;
      if (in) inside += v;
      else max_outside = std::max<double>(max_outside, v);
    }
  std::printf("[ synth ] face box %.0fx%.0f at (%.0f, %.0f); weight inside %.1f %%, max outside %.2f\n", b.w, b.h,
              b.x, b.y, 100 * inside / total, max_outside);
  EXPECT_GT(inside / total, 0.8);
  // Forehead (upper fifth of the box, centre) and cheeks (middle, a quarter in from each side)
  // carry more than the nose-to-chin midline at the bottom of the box.
  auto at = [&](double fx, double fy) { return w[static_cast<int>(b.y + fy * b.h) * frame.width + static_cast<int>(b.x + fx * b.w)]; };
  const float forehead = at(0.5, 0.12), left = at(0.22, 0.55), right = at(0.78, 0.55), chin = at(0.5, 0.95);
  std::printf("[ synth ] weight forehead %.2f cheeks %.2f %.2f chin %.2f\n", forehead, left, right, chin);
  EXPECT_GT(forehead, chin);
  EXPECT_GT(std::min(left, right), chin);
  EXPECT_GT(std::max({forehead, left, right}), 0.6f);
}

TEST(FaceSynth, AmplitudeAndChannelRatios) {
  FaceSynthOptions o = Still();
  auto synth = Make(o);
  ASSERT_TRUE(synth);
  // Frames at the pulse's maximum and minimum (searched on the shape).
  double pmax = 0, pmin = 0, vmax = -1e9, vmin = 1e9;
  for (int i = 0; i < 1000; ++i) {
    const double v = synth->PulseShape(i / 1000.0);
    if (v > vmax) vmax = v, pmax = i / 1000.0;
    if (v < vmin) vmin = v, pmin = i / 1000.0;
  }
  EXPECT_NEAR(vmax - vmin, 1.0, 1e-3) << "the shape is normalised to peak-to-peak 1";
  SynthFrame hi, lo;
  synth->Render(AtPulse(*synth, pmax), &hi);
  synth->Render(AtPulse(*synth, pmin), &lo);
  int max_dg = 0, changed = 0;
  double dr = 0, dg = 0, db = 0;
  for (size_t i = 0; i + 2 < hi.data.size(); i += 3) {
    const int d[3] = {hi.data[i] - lo.data[i], hi.data[i + 1] - lo.data[i + 1], hi.data[i + 2] - lo.data[i + 2]};
    max_dg = std::max(max_dg, std::abs(d[1]));
    changed += d[1] != 0;
    dr += d[0], dg += d[1], db += d[2];
  }
  std::printf("[ synth ] green changes on %d pixels, largest %d grey level; mean change R %.3f G %.3f B %.3f\n", changed,
              max_dg, dr / changed, dg / changed, db / changed);
  EXPECT_LE(max_dg, 1) << "default amplitude: at most 1 grey level on the skin";
  EXPECT_GT(changed, 1000) << "the pulse changes the rounded pixels of the face";
  const std::vector<float> wm = synth->WeightMap();
  const long skin = std::count_if(wm.begin(), wm.end(), [](float v) { return v > 0.2f; });
  std::printf("[ synth ] %ld pixels with weight > 0.2\n", skin);
  EXPECT_GT(skin, 5000) << "the weight covers the face's skin (a face of ~90x100 px)";
  // Mostly green: green's summed change is the largest.
  EXPECT_GT(dg, dr);
  EXPECT_GT(dg, db);
  // Perfusion is multiplicative: the summed change of R over that of G is
  // sum(w R) 0.30 / sum(w G) 0.80 (pulse_rgb), the sums over the still scene.
  const std::vector<float> w = synth->WeightMap();
  double wr = 0, wg = 0, wb = 0;
  for (size_t k = 0; k < w.size(); ++k) wr += w[k] * lo.data[3 * k], wg += w[k] * lo.data[3 * k + 1], wb += w[k] * lo.data[3 * k + 2];
  EXPECT_NEAR((dr / dg) / ((wr * 0.30) / (wg * 0.80)), 1.0, 0.15);
  EXPECT_NEAR((db / dg) / ((wb * 0.50) / (wg * 0.80)), 1.0, 0.15);
}

TEST(FaceSynth, PulseShapeHasAnUpstrokeAndADicroticNotch) {
  auto synth = Make(Still());
  ASSERT_TRUE(synth);
  // Systolic peak early in the beat, reached faster than it decays; then a notch (a local
  // minimum) followed by a smaller diastolic peak.
  std::vector<double> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = synth->PulseShape(i / 1000.0);
  const int peak = static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
  EXPECT_GT(peak, 50);
  EXPECT_LT(peak, 250);
  std::vector<int> minima, maxima;
  for (int i = peak + 1; i < 999; ++i) {
    if (v[i] < v[i - 1] && v[i] <= v[i + 1]) minima.push_back(i);
    if (v[i] > v[i - 1] && v[i] >= v[i + 1]) maxima.push_back(i);
  }
  ASSERT_FALSE(minima.empty());
  ASSERT_FALSE(maxima.empty());
  EXPECT_LT(minima[0], maxima[0]) << "notch before the diastolic peak";
  EXPECT_LT(v[maxima[0]], v[peak]);
  EXPECT_GT(v[maxima[0]] - v[minima[0]], 0.05) << "a visible notch";
}

// Dominant frequency of a trace by a dense DFT scan (independent of engine/vitals).
double DominantBpm(const std::vector<double>& x, double fs) {
  double mean = 0;
  for (double v : x) mean += v;
  mean /= x.size();
  double best = 0, best_p = -1;
  for (double bpm = 40; bpm <= 200; bpm += 0.05) {
    std::complex<double> acc = 0;
    for (size_t i = 0; i < x.size(); ++i)
      acc += (x[i] - mean) * std::polar(1.0, -2 * std::numbers::pi * bpm / 60 * i / fs);
    if (std::norm(acc) > best_p) best_p = std::norm(acc), best = bpm;
  }
  return best;
}

TEST(FaceSynth, FaceGreenOscillatesAtTheHeartRate) {
  FaceSynthOptions o = Still();
  o.heart_rate_bpm = 84;
  o.noise = 2;  // the pulse must survive sensor noise in the average
  auto synth = Make(o);
  ASSERT_TRUE(synth);
  const std::vector<float> w = synth->WeightMap();
  SynthFrame f;
  std::vector<double> green;
  for (int i = 0; i < 300; ++i) {
    const SynthTruth t = synth->Next();
    ASSERT_EQ(t.pts_ns, std::llround(i * 1e9 / 30)) << "no jitter: nominal timestamps";
    EXPECT_NEAR(t.bpm, 84, 1e-9);
    synth->Render(t, &f);
    double s = 0;
    for (size_t k = 0; k < w.size(); ++k)
      if (w[k] > 0.5) s += f.data[3 * k + 1];
    green.push_back(s);
  }
  EXPECT_NEAR(DominantBpm(green, 30), 84, 0.5);
}

TEST(FaceSynth, HeartRateTrajectory) {
  std::vector<HeartRatePoint> traj;
  ASSERT_FALSE(ParseHeartRateTrajectory("0:60, 10:120,20:120", &traj));
  ASSERT_EQ(traj.size(), 3u);
  FaceSynthOptions o = Still();
  o.heart_rate_trajectory = traj;
  auto synth = Make(o);
  ASSERT_TRUE(synth);
  EXPECT_DOUBLE_EQ(synth->BpmAt(5), 90);
  EXPECT_DOUBLE_EQ(synth->BpmAt(30), 120);
  EXPECT_NEAR(synth->MeanBpm(0, 10), 90, 1e-9);   // linear ramp: the mean is the midpoint
  EXPECT_NEAR(synth->MeanBpm(10, 20), 120, 1e-9);
  EXPECT_NEAR(synth->PulsePhase(10), 15, 1e-9);   // 10 s at 90 bpm on average
  // Phase advances by bpm / 60 per second, frame by frame.
  double prev = synth->PulsePhase(0);
  for (int i = 1; i < 600; ++i) {
    const double t = i / 30.0, ph = synth->PulsePhase(t);
    EXPECT_NEAR((ph - prev) * 60 * 30, synth->BpmAt(t - 1 / 60.0), 0.01);
    prev = ph;
  }
  // Bad trajectories name the item.
  std::string bad[] = {"", "0:60,x", "0:60,5:300", "5:60,5:70", "0:60;10:70", "-1:60"};
  for (const std::string& s : bad) {
    auto err = ParseHeartRateTrajectory(s, &traj);
    ASSERT_TRUE(err) << s;
    std::printf("[ synth ] \"%s\": %s\n", s.c_str(), err->c_str());
  }
  EXPECT_NE(ParseHeartRateTrajectory("0:60,5:300", &traj)->find("5:300"), std::string::npos);
}

TEST(FaceSynth, JitterAndDroppedFrames) {
  FaceSynthOptions o = Still();
  o.fps = 25;
  o.jitter = 0.2;
  o.drop = 0.1;
  o.seed = 7;
  auto synth = Make(o);
  ASSERT_TRUE(synth);
  int64_t prev_index = -1, prev_pts = -1, gaps = 0;
  double dev2 = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    const SynthTruth t = synth->Next();
    EXPECT_GT(t.index, prev_index);
    EXPECT_GT(t.pts_ns, prev_pts);
    const double dev = t.t_s * 25 - t.index;  // in frame intervals
    EXPECT_LE(std::abs(dev), 0.45 + 1e-9);
    dev2 += dev * dev;
    gaps += t.index - prev_index - 1;
    prev_index = t.index, prev_pts = t.pts_ns;
  }
  const double drop_rate = static_cast<double>(gaps) / (gaps + n), jitter = std::sqrt(dev2 / n);
  std::printf("[ synth ] dropped %.3f, jitter %.3f frames RMS\n", drop_rate, jitter);
  EXPECT_NEAR(drop_rate, 0.1, 0.02);
  EXPECT_NEAR(jitter, 0.2, 0.02);
  // The same seed gives the same clock.
  auto a = Make(o), b = Make(o);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a->Next().pts_ns, b->Next().pts_ns);
}

TEST(FaceSynth, EveryFormatRendersTheSamePicture) {
  FaceSynthOptions o = Still();
  o.width = 321, o.height = 243;  // odd sizes
  o.noise = 1;
  SynthFrame rgb;
  auto ref = Make(o);
  ASSERT_TRUE(ref);
  const SynthTruth t = ref->TruthAt(0.4);
  ref->Render(t, &rgb);
  const ImageView rv = rgb.View();
  for (PixelFormat f : {PixelFormat::kBGR, PixelFormat::kRGBA, PixelFormat::kBGRA, PixelFormat::kGRAY8,
                        PixelFormat::kNV12, PixelFormat::kI420}) {
    o.format = f;
    auto s = Make(o);
    ASSERT_TRUE(s);
    SynthFrame frame;
    s->Render(t, &frame);
    const ImageView v = frame.View();
    ASSERT_EQ(v.format, f);
    // YUV: chroma is shared by 2x2 pixels, so compare luma-like sums; exact for RGB orders.
    const bool yuv = f == PixelFormat::kNV12 || f == PixelFormat::kI420, gray = f == PixelFormat::kGRAY8;
    double err = 0;
    int worst = 0;
    for (int y = 0; y < o.height; ++y)
      for (int x = 0; x < o.width; ++x) {
        const Rgb8 a = rv.At(x, y), b = v.At(x, y);
        const int ya = (299 * a.r + 587 * a.g + 114 * a.b) / 1000, yb = (299 * b.r + 587 * b.g + 114 * b.b) / 1000;
        const int d = (yuv || gray) ? std::abs(ya - yb) : std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b);
        err += d;
        worst = std::max(worst, d);
      }
    err /= o.width * o.height;
    EXPECT_LE(err, yuv ? 2.0 : 0.51) << PixelFormatName(f);
    if (!yuv) {
      EXPECT_LE(worst, gray ? 1 : 0) << PixelFormatName(f);
    }
  }
}

TEST(FaceSynth, HeadMotionMovesTheFaceAndItsPulse) {
  FaceSynthOptions o = Still();
  o.motion = SynthMotion::kHead;
  auto synth = Make(o);
  ASSERT_TRUE(synth);
  // Over 10 s the truth's roll, shift and scale span their set ranges; the frame changes.
  double roll_lo = 0, roll_hi = 0, dx_lo = 0, dx_hi = 0;
  for (int i = 0; i < 300; ++i) {
    const SynthTruth t = synth->TruthAt(i / 30.0);
    roll_lo = std::min(roll_lo, t.roll_deg), roll_hi = std::max(roll_hi, t.roll_deg);
    dx_lo = std::min(dx_lo, t.dx), dx_hi = std::max(dx_hi, t.dx);
  }
  EXPECT_GT(roll_hi - roll_lo, 1.8 * o.head_roll_deg * 0.9);
  EXPECT_GT(dx_hi - dx_lo, 1.8 * o.head_shift_px * 0.9);
  // The face at a moment with 12 px shift right: FaceTracker sees the box moved by the truth.
  TrackerOptions to;
  to.models_dir = ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(to, &err);
  ASSERT_TRUE(tracker) << err;
  SynthTruth a = synth->TruthAt(0), b = a;
  a.dx = a.dy = a.roll_deg = 0, a.scale = 1;
  b.dx = 20, b.dy = -10, b.roll_deg = 0, b.scale = 1;
  SynthFrame fa, fb;
  synth->Render(a, &fa);
  synth->Render(b, &fb);
  const FrameFaces ra = tracker->Process(fa.View(), 0);
  tracker->Reset();
  const FrameFaces rb = tracker->Process(fb.View(), 0);
  ASSERT_EQ(ra.faces.size(), 1u);
  ASSERT_EQ(rb.faces.size(), 1u);
  EXPECT_NEAR(rb.faces[0].box.x - ra.faces[0].box.x, 20, 2.0);
  EXPECT_NEAR(rb.faces[0].box.y - ra.faces[0].box.y, -10, 2.0);
}

TEST(FaceSynth, BadOptionsNameTheOption) {
  struct Case {
    const char* name;
    void (*set)(FaceSynthOptions*);
  } cases[] = {
      {"heart_rate_bpm", [](FaceSynthOptions* o) { o->heart_rate_bpm = 400; }},
      {"jitter", [](FaceSynthOptions* o) { o->jitter = 0.7; }},
      {"width", [](FaceSynthOptions* o) { o->width = 4; }},
      {"noise", [](FaceSynthOptions* o) { o->noise = -1; }},
      {"astronaut.pngx", [](FaceSynthOptions* o) { o->photo_path += "x"; }},
  };
  for (const Case& c : cases) {
    FaceSynthOptions o = Still();
    c.set(&o);
    std::string err;
    EXPECT_FALSE(FaceSynth::Create(o, &err));
    EXPECT_NE(err.find(c.name), std::string::npos) << err;
  }
}

// --- Expression track -----------------------------------------------------------------

constexpr const char* kInstruction = "neutral, then very happy over 1 s, hold 0.5 s, then surprised over 0.5 s";

FaceSynthOptions WithExpression(FaceSynthOptions o) {
  o.expression = kInstruction;
  o.models_dir = ModelsDir();
  return o;
}

// The basis and curve built here from the models and the instruction, independently of
// FaceSynth.
struct Reference {
  std::optional<BlendshapeBasis> basis;
  WeightCurve curve;
};
Reference MakeReference() {
  Reference r;
  std::string err;
  auto canonical = LoadCanonicalFace(ModelsDir() + "/" + kCanonicalFaceFile, &err);
  EXPECT_TRUE(canonical) << err;
  if (!canonical) return r;
  r.basis = BlendshapeBasis::Create(*canonical, &err);
  EXPECT_TRUE(r.basis) << err;
  if (!r.basis) return r;
  InstructionResult parsed = ParseInstruction(kInstruction, *r.basis);
  EXPECT_TRUE(parsed.ok());
  r.curve = WeightCurve(std::move(parsed.keyframes));
  // With the per-AU onset timing the instruction language uses (engine/avatar/curve.h), as
  // ExpressionTrack and faceavatar do.
  r.curve.SetTiming(FacsOnsetTiming(r.basis->names()));
  return r;
}

TEST(FaceSynthExpression, TruthHasTheInstructionsWeightsAtEachTime) {
  auto synth = Make(WithExpression(Still()));
  ASSERT_TRUE(synth);
  const Reference ref = MakeReference();
  ASSERT_TRUE(ref.basis);
  ASSERT_EQ(synth->BlendshapeNames(), ref.basis->names());
  std::vector<float> want(ref.basis->size());
  // Every 50 ms over the whole instruction and past its end (held), through TruthAt and
  // through Next() (the frame clock): the same weights as the curve, to float rounding.
  for (int k = 0; k <= 70; ++k) {
    const double t = 0.05 * k;
    const SynthTruth tr = synth->TruthAt(t);
    ref.curve.Evaluate(t, want);
    ASSERT_EQ(tr.blendshapes.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(tr.blendshapes[i], want[i], 1e-6) << "t " << t << " " << ref.basis->names()[i];
  }
  for (int k = 0; k < 60; ++k) {
    const SynthTruth tr = synth->Next();
    ref.curve.Evaluate(tr.t_s, want);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(tr.blendshapes[i], want[i], 1e-6) << tr.t_s;
  }
  // And the curve is the instruction's: neutral at 0, smiling once happy, the jaw open
  // once surprised (weights 0..1).
  const int smile = ref.basis->Index("mouthSmileLeft"), jaw = ref.basis->Index("jawOpen");
  ASSERT_GE(smile, 0);
  ASSERT_GE(jaw, 0);
  for (float w : synth->TruthAt(0).blendshapes) EXPECT_EQ(w, 0.0f);
  EXPECT_GT(synth->TruthAt(1.2).blendshapes[smile], 0.3f);
  EXPECT_GT(synth->TruthAt(2.5).blendshapes[jaw], 0.2f);
  // Off: no weights, no names.
  auto plain = Make(Still());
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->TruthAt(1.2).blendshapes.empty());
  EXPECT_TRUE(plain->BlendshapeNames().empty());
}

// The expression frame against the same truth rendered without the expression: every pixel
// that differs lies in the face box (FaceTracker on the plain frame) grown by 25 % sideways
// and upwards and 40 % downwards (the jaw opens downwards); the face itself does change.
// Returns the centroid of the change (weighted by the largest channel difference).
std::array<double, 2> ExpectChangeOnlyOnTheFace(FaceSynth& plain, FaceSynth& expr,
                                                const SynthTruth& tr) {
  SynthFrame a, b;
  plain.Render(tr, &a);
  expr.Render(tr, &b);
  TrackerOptions to;
  to.models_dir = ModelsDir();
  std::string err;
  auto tracker = FaceTracker::Create(to, &err);
  EXPECT_TRUE(tracker) << err;
  if (!tracker) return {};
  const FrameFaces ff = tracker->Process(a.View(), 0);
  EXPECT_EQ(ff.faces.size(), 1u);
  if (ff.faces.size() != 1) return {};
  const Box f = ff.faces[0].box;
  const ImageView va = a.View(), vb = b.View();
  int changed_in = 0, changed_out = 0, big_in = 0;
  double sw = 0, sx = 0, sy = 0;
  for (int y = 0; y < va.height; ++y)
    for (int x = 0; x < va.width; ++x) {
      const Rgb8 p = va.At(x, y), q = vb.At(x, y);
      const int d = std::max({std::abs(p.r - q.r), std::abs(p.g - q.g), std::abs(p.b - q.b)});
      if (d == 0) continue;
      const bool in = x >= f.x - 0.25 * f.w && x <= f.x + 1.25 * f.w && y >= f.y - 0.25 * f.h &&
                      y <= f.y + 1.4 * f.h;
      (in ? changed_in : changed_out) += 1;
      if (in && d > 30) ++big_in;
      sw += d, sx += d * (x + 0.5), sy += d * (y + 0.5);
    }
  std::printf("[ synth ] expression at %.2f s: face %.0fx%.0f at (%.0f, %.0f), %d px changed in "
              "the box (%d by > 30), %d outside, centroid (%.1f, %.1f)\n",
              tr.t_s, f.w, f.h, f.x, f.y, changed_in, big_in, changed_out, sx / sw, sy / sw);
  EXPECT_EQ(changed_out, 0);
  // The face does change: over a thousand pixels, of which dozens by more than 30 grey levels
  // (edges of the lips and teeth moving by pixels; at 640x480 the face is about 90 px).
  EXPECT_GT(changed_in, 1000);
  EXPECT_GT(big_in, 50);
  return {sw > 0 ? sx / sw : 0, sw > 0 ? sy / sw : 0};
}

TEST(FaceSynthExpression, ChangesTheFrameOnlyOnTheFace) {
  auto plain = Make(Still());
  auto expr = Make(WithExpression(Still()));
  ASSERT_TRUE(plain && expr);
  ExpectChangeOnlyOnTheFace(*plain, *expr, expr->TruthAt(1.2));  // happy, held
}

TEST(FaceSynthExpression, FollowsTheHeadMotionInYuv) {
  // Large head motion, I420 output at an odd size (half chroma blocks at the edges), sensor
  // noise; surprised (the jaw open) at 2.5 s.
  FaceSynthOptions o = Still();
  o.width = 641, o.height = 481;
  o.motion = SynthMotion::kHead;
  o.head_shift_px = 40;
  o.head_roll_deg = 15;
  o.format = PixelFormat::kI420;
  o.noise = 2;
  auto plain = Make(o);
  auto expr = Make(WithExpression(o));
  ASSERT_TRUE(plain && expr);
  const SynthTruth moved = expr->TruthAt(2.5);
  SynthTruth still = moved;
  still.dx = still.dy = still.roll_deg = 0, still.scale = 1;
  const auto c0 = ExpectChangeOnlyOnTheFace(*plain, *expr, still);
  const auto c1 = ExpectChangeOnlyOnTheFace(*plain, *expr, moved);
  // The change moves with the head: the still change's centroid taken through the truth's
  // motion (frame = C + d + s R (scene - C), R counter-clockwise on screen, face_synth.h)
  // lands on the moved change's centroid, within 3 px (the mouth is ~40 px; the motion here
  // is ~30 px and ~10 deg).
  const auto [cx, cy] = expr->FaceCentre();
  const double th = moved.roll_deg * std::numbers::pi / 180;
  const double ux = c0[0] - cx, uy = c0[1] - cy;
  const double ex = cx + moved.dx + moved.scale * (std::cos(th) * ux + std::sin(th) * uy);
  const double ey = cy + moved.dy + moved.scale * (-std::sin(th) * ux + std::cos(th) * uy);
  std::printf("[ synth ] motion dx %.1f dy %.1f roll %.1f scale %.3f: change centroid expected "
              "(%.1f, %.1f), found (%.1f, %.1f)\n",
              moved.dx, moved.dy, moved.roll_deg, moved.scale, ex, ey, c1[0], c1[1]);
  EXPECT_GT(std::hypot(moved.dx, moved.dy), 20);
  EXPECT_NEAR(c1[0], ex, 3.0);
  EXPECT_NEAR(c1[1], ey, 3.0);
}

TEST(FaceSynthExpression, NeutralWeightsLeaveThePictureAsItWas) {
  // At t = 0 every weight is 0: the warp maps the mesh onto itself, so the frame is the plain
  // one up to bilinear resampling (at most 1 grey level: sampling at the pixel centres is exact
  // but for rounding; the mouth is redrawn from the photo's own opening, unchanged).
  auto plain = Make(Still());
  auto expr = Make(WithExpression(Still()));
  ASSERT_TRUE(plain && expr);
  SynthFrame a, b;
  const SynthTruth tr = expr->TruthAt(0);
  plain->Render(tr, &a);
  expr->Render(tr, &b);
  int worst = 0;
  double sum = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    const int d = std::abs(a.data[i] - b.data[i]);
    worst = std::max(worst, d);
    sum += d;
  }
  std::printf("[ synth ] neutral expression: max difference %d, mean %.4f\n", worst, sum / a.data.size());
  EXPECT_LE(sum / a.data.size(), 0.01);
  EXPECT_LE(worst, 1);
}

TEST(FaceSynthExpression, BadInstructionOrModelsNameTheCause) {
  FaceSynthOptions o = WithExpression(Still());
  o.expression = "neutral, then very hapy over 1 s";
  std::string err;
  EXPECT_FALSE(FaceSynth::Create(o, &err));
  std::printf("[ synth ] %s\n", err.c_str());
  EXPECT_NE(err.find("expression"), std::string::npos) << err;
  EXPECT_NE(err.find("column 20"), std::string::npos) << err;
  EXPECT_NE(err.find("\"hapy\""), std::string::npos) << err;
  // The cheap check (for elements validating a setting) says the same.
  EXPECT_NE(CheckExpressionInstruction(o.expression, ModelsDir()).value_or("").find("column 20 (\"hapy\")"),
            std::string::npos);
  EXPECT_FALSE(CheckExpressionInstruction(kInstruction, ModelsDir()));
  o = WithExpression(Still());
  o.models_dir = "/nonexistent/models";
  EXPECT_FALSE(FaceSynth::Create(o, &err));
  EXPECT_NE(err.find("/nonexistent/models"), std::string::npos) << err;
}

}  // namespace
}  // namespace fg
