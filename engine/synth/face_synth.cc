#include "engine/synth/face_synth.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "engine/avatar/blendshapes.h"
#include "engine/avatar/instruction.h"
#include "engine/draw/canvas.h"
#include "engine/geometry/canonical_face.h"
#include "engine/io/png.h"
#include "engine/io/jpeg.h"
#include "engine/render/composite.h"
#include "engine/synth/expression_track.h"

namespace fg {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr int kNoiseTable = 1 << 18;

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double Gauss(double x, double mu, double sigma) {
  const double d = (x - mu) / sigma;
  return std::exp(-0.5 * d * d);
}

// Un-normalised pulse shape over one beat (phase in [0, 1)), periodic: each term is summed
// over the neighbouring beats so that the wave is continuous across beat boundaries. Its
// harmonics (amplitude relative to the fundamental: 2nd 0.46, 3rd 0.44, 4th 0.12) are at the
// strong end of what fingertip and facial PPG show (a visible notch needs them); a sharper
// systolic peak would put most of the power in the harmonics, which no real pulse does.
double RawShape(double phase) {
  double v = 0;
  for (int k = -1; k <= 1; ++k) {
    const double p = phase + k;
    v += Gauss(p, 0.20, 0.08)          // systolic peak: upstroke from the foot near 0
         + 0.30 * Gauss(p, 0.30, 0.06)  // late-systolic shoulder
         + 0.50 * Gauss(p, 0.52, 0.08); // diastolic (dicrotic) wave; the notch is between
  }
  return v;
}

uint8_t ToU8(float v) {
  v += 0.5f;
  return static_cast<uint8_t>(v <= 0 ? 0 : (v >= 255 ? 255 : static_cast<int>(v)));
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Box blur of radius r along rows then columns (edges clamped), in place.
void BoxBlur(std::vector<float>* img, int w, int h, int r) {
  std::vector<float> tmp(img->size());
  const float inv = 1.0f / (2 * r + 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float a = 0;
      for (int d = -r; d <= r; ++d) a += (*img)[y * w + std::clamp(x + d, 0, w - 1)];
      tmp[y * w + x] = a * inv;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float a = 0;
      for (int d = -r; d <= r; ++d) a += tmp[std::clamp(y + d, 0, h - 1) * w + x];
      (*img)[y * w + x] = a * inv;
    }
}

}  // namespace

std::string_view SynthMotionName(SynthMotion m) {
  switch (m) {
    case SynthMotion::kNone: return "none";
    case SynthMotion::kBreathing: return "breathing";
    case SynthMotion::kHead: return "head";
  }
  return "?";
}

std::optional<SynthMotion> SynthMotionFromName(std::string_view name) {
  for (SynthMotion m : {SynthMotion::kNone, SynthMotion::kBreathing, SynthMotion::kHead})
    if (SynthMotionName(m) == name) return m;
  return std::nullopt;
}

std::optional<std::string> ParseHeartRateTrajectory(std::string_view text,
                                                    std::vector<HeartRatePoint>* out) {
  out->clear();
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  auto number = [](std::string_view s, double* v) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*v);
  };
  if (trim(text).empty()) return "empty heart-rate trajectory (expected \"t:bpm,t:bpm,...\", e.g. \"0:60,20:120\")";
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = trim(text.substr(start, end - start));
    const size_t colon = item.find(':');
    HeartRatePoint p;
    if (colon == std::string_view::npos || !number(trim(item.substr(0, colon)), &p.t_s) ||
        !number(trim(item.substr(colon + 1)), &p.bpm))
      return "heart-rate trajectory item \"" + std::string(item) +
             "\" is not seconds:bpm (e.g. \"0:60,20:120\")";
    if (p.t_s < 0) return "heart-rate trajectory item \"" + std::string(item) + "\": negative time";
    if (p.bpm < 20 || p.bpm > 250)
      return "heart-rate trajectory item \"" + std::string(item) + "\": bpm must be in 20..250";
    if (!out->empty() && p.t_s <= out->back().t_s)
      return "heart-rate trajectory item \"" + std::string(item) +
             "\": times must increase (previous " + Num(out->back().t_s) + " s)";
    out->push_back(p);
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> CheckExpressionInstruction(std::string_view text,
                                                      const std::string& models_dir,
                                                      std::vector<std::string>* names) {
  std::string err;
  auto canonical = LoadCanonicalFace(models_dir + "/" + kCanonicalFaceFile, &err);
  if (!canonical) return "models_dir: " + err;
  auto basis = BlendshapeBasis::Create(*canonical, &err);
  if (!basis) return "models_dir: " + err;
  if (names) *names = basis->names();
  const InstructionResult r = ParseInstruction(text, *basis);
  if (!r.ok()) return FormatInstructionError(*r.error);
  return std::nullopt;
}

ImageView SynthFrame::View() const {
  ImageView v;
  std::array<const uint8_t*, 3> p{};
  for (int i = 0; i < PlaneCount(format); ++i) p[i] = data.data() + offsets[i];
  (void)ImageView::Wrap(format, width, height, p, strides, &v);
  return v;
}

std::unique_ptr<FaceSynth> FaceSynth::Create(const FaceSynthOptions& o, std::string* error) {
  auto fail = [&](const std::string& msg) {
    if (error) *error = "FaceSynth: " + msg;
    return nullptr;
  };
  auto range = [&](const char* name, double v, double lo, double hi) -> std::optional<std::string> {
    if (!(v >= lo && v <= hi))
      return std::string(name) + " = " + Num(v) + " is out of range " + Num(lo) + ".." + Num(hi);
    return std::nullopt;
  };
  for (auto err : {range("width", o.width, 16, 8192), range("height", o.height, 16, 8192),
                   range("fps", o.fps, 1, 1000), range("photo_scale", o.photo_scale, 0.05, 1),
                   range("heart_rate_bpm", o.heart_rate_bpm, 20, 250),
                   range("amplitude", o.amplitude, 0, 50),
                   range("breathing_rate_bpm", o.breathing_rate_bpm, 0, 60),
                   range("light_drift", o.light_drift, 0, 0.9),
                   range("light_period_s", o.light_period_s, 1, 1e6),
                   range("noise", o.noise, 0, 50), range("jitter", o.jitter, 0, 0.45),
                   range("drop", o.drop, 0, 0.5)})
    if (err) return fail(*err);
  for (int c = 0; c < 3; ++c)
    if (auto err = range("pulse_rgb", o.pulse_rgb[c], 0, 10)) return fail(*err);
  for (int c = 0; c < 3; ++c)
    if (auto err = range("light_step_rgb", o.light_step_rgb[c], 0.1, 10)) return fail(*err);
  if (!(o.pulse_rgb[1] > 0)) return fail("pulse_rgb: the green component must be > 0");
  for (size_t i = 0; i < o.heart_rate_trajectory.size(); ++i) {
    const HeartRatePoint& p = o.heart_rate_trajectory[i];
    if (auto err = range("heart_rate_trajectory bpm", p.bpm, 20, 250)) return fail(*err);
    if (p.t_s < 0 || (i > 0 && p.t_s <= o.heart_rate_trajectory[i - 1].t_s))
      return fail("heart_rate_trajectory: times must be >= 0 and increasing");
  }
  if (o.photo_path.empty()) return fail("no photo (photo_path is empty)");
  // The instruction first: a typo should not wait for the photo and the tracker.
  const std::string models_dir = o.models_dir.empty() ? FG_MODELS_DEFAULT_DIR : o.models_dir;
  if (!o.expression.empty())
    if (auto err = CheckExpressionInstruction(o.expression, models_dir))
      return fail(err->starts_with("models_dir") ? "expression needs the models: " + *err
                                                 : "expression \"" + o.expression + "\": " + *err);
  RgbImage photo;
  if (auto err = ReadImageRgb(o.photo_path, &photo)) return fail(*err);

  std::unique_ptr<FaceSynth> s(new FaceSynth());
  s->opts_ = o;
  const int w = s->w_ = o.width, h = s->h_ = o.height;
  const int pw = photo.width, ph = photo.height;

  // 1. Skin by chroma and brightness (BT.601): Cb 100..120, Cr 140..165, Y > 100. Tighter than
  //    the usual Chai & Ngan box (77..127 x 133..173), which also takes the photo's reddish hair
  //    and pink clouds; then a majority filter (box of about 1/60 of the photo, > 75 % skin)
  //    that removes the speckle of hair strands and closes nothing larger than a few pixels.
  std::vector<float> skinf(pw * ph, 0.0f);
  for (int i = 0; i < pw * ph; ++i) {
    const uint8_t* p = &photo.pixels[3 * i];
    const double cb = 128 + (-37.945 * p[0] - 74.494 * p[1] + 112.439 * p[2]) / 256;
    const double cr = 128 + (112.439 * p[0] - 94.154 * p[1] - 18.285 * p[2]) / 256;
    const double y = 16 + (65.738 * p[0] + 129.057 * p[1] + 25.064 * p[2]) / 256;
    skinf[i] = cb >= 100 && cb <= 120 && cr >= 140 && cr <= 165 && y > 100;
  }
  BoxBlur(&skinf, pw, ph, std::max(1, std::min(pw, ph) / 120));
  std::vector<uint8_t> skin(pw * ph, 0);
  for (int i = 0; i < pw * ph; ++i) skin[i] = skinf[i] > 0.75f;
  // 2. The largest 4-connected blob: the face (stray skin-coloured bits elsewhere are not skin).
  std::vector<int> label(pw * ph, -1), stack;
  int best = -1, best_size = 0;
  for (int i = 0, next = 0; i < pw * ph; ++i) {
    if (!skin[i] || label[i] >= 0) continue;
    int size = 0;
    stack.assign(1, i);
    label[i] = next;
    while (!stack.empty()) {
      const int j = stack.back();
      stack.pop_back();
      ++size;
      const int x = j % pw, y = j / pw;
      const int nb[4] = {x > 0 ? j - 1 : -1, x + 1 < pw ? j + 1 : -1, y > 0 ? j - pw : -1,
                         y + 1 < ph ? j + pw : -1};
      for (int k : nb)
        if (k >= 0 && skin[k] && label[k] < 0) label[k] = next, stack.push_back(k);
    }
    if (size > best_size) best_size = size, best = next;
    ++next;
  }
  if (best_size < 100) return fail("no skin found in \"" + o.photo_path + "\"");
  // 3. Its centre and spread, and a smooth perfusion profile over it: forehead and cheeks
  //    (the best-perfused facial skin) 1, the rest of the face 0.45, falling off downwards
  //    (jaw, neck) to 0.2.
  double sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < pw * ph; ++i)
    if (label[i] == best) {
      const double x = i % pw + 0.5, y = i / pw + 0.5;
      sx += x, sy += y, sxx += x * x, syy += y * y;
    }
  const double mx = sx / best_size, my = sy / best_size;
  const double dx = std::sqrt(std::max(1.0, sxx / best_size - mx * mx));
  const double dy = std::sqrt(std::max(1.0, syy / best_size - my * my));
  std::vector<float> weight(pw * ph, 0.0f);
  for (int i = 0; i < pw * ph; ++i) {
    if (label[i] != best) continue;
    const double u = (i % pw + 0.5 - mx) / dx, v = (i / pw + 0.5 - my) / dy;
    const double forehead = Gauss(u, 0, 0.9) * Gauss(v, -1.2, 0.45);
    const double cheeks = std::max(Gauss(u, -0.75, 0.4), Gauss(u, 0.75, 0.4)) * Gauss(v, 0.1, 0.45);
    const double low = 1 / (1 + std::exp((v - 1.2) / 0.25));  // jaw and neck: less
    weight[i] = static_cast<float>(0.2 + 0.25 * low + 0.55 * std::max(forehead, cheeks));
  }
  // Spatially smooth (perfusion has no pixel-sharp edges), radius ~ 3 % of the blob.
  const int r = std::max(1, static_cast<int>(std::lround(0.06 * std::max(dx, dy))));
  BoxBlur(&weight, pw, ph, r);
  BoxBlur(&weight, pw, ph, r);
  float wmax = 0;
  for (float v : weight) wmax = std::max(wmax, v);
  for (float& v : weight) v /= wmax;

  // 4. Place the photo (bilinear) and the weights in the output frame.
  const double scale = o.photo_scale * std::min(static_cast<double>(w) / pw, static_cast<double>(h) / ph);
  const double ox = (w - scale * pw) / 2, oy = (h - scale * ph) / 2;
  s->scene_.assign(static_cast<size_t>(w) * h, {o.background, o.background, o.background, 0});
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double px = (x + 0.5 - ox) / scale - 0.5, py = (y + 0.5 - oy) / scale - 0.5;
      if (px < -0.5 || py < -0.5 || px > pw - 0.5 || py > ph - 0.5) continue;
      const double cx = std::clamp(px, 0.0, pw - 1.0), cy = std::clamp(py, 0.0, ph - 1.0);
      const int x0 = std::min(static_cast<int>(cx), pw - 2), y0 = std::min(static_cast<int>(cy), ph - 2);
      const float fx = static_cast<float>(cx - x0), fy = static_cast<float>(cy - y0);
      auto& out = s->scene_[static_cast<size_t>(y) * w + x];
      for (int c = 0; c < 4; ++c) {
        auto at = [&](int xx, int yy) {
          return c < 3 ? static_cast<float>(photo.pixels[3 * (yy * pw + xx) + c]) : 255 * weight[yy * pw + xx];
        };
        out[c] = ToU8((1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
                      fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1)));
      }
    }
  s->centre_x_ = static_cast<float>(ox + scale * mx);
  s->centre_y_ = static_cast<float>(oy + scale * my);
  // 5. Pulse gain per channel: the largest green change (weight x green) is `amplitude` peak
  //    to peak; red and blue in the ratio of pulse_rgb.
  float wg = 0;
  for (const auto& p : s->scene_) wg = std::max(wg, p[3] / 255.0f * p[1]);
  const double rel = wg > 0 ? o.amplitude / wg : 0;
  for (int c = 0; c < 3; ++c)
    s->gain_rgb_[c] = static_cast<float>(rel * o.pulse_rgb[c] / o.pulse_rgb[1]);

  // 6. Noise table, pulse shape normalisation, heart-rate trajectory.
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> n01(0.0f, 1.0f);
  s->noise_table_.resize(kNoiseTable);
  for (float& v : s->noise_table_) v = n01(rng);
  double lo = 1e9, hi = -1e9, sum = 0;
  constexpr int kShapeSamples = 2000;
  for (int i = 0; i < kShapeSamples; ++i) {
    const double v = RawShape(static_cast<double>(i) / kShapeSamples);
    lo = std::min(lo, v), hi = std::max(hi, v), sum += v;
  }
  s->shape_mean_ = sum / kShapeSamples;
  s->shape_scale_ = 1 / (hi - lo);
  s->traj_ = o.heart_rate_trajectory;
  if (s->traj_.empty()) s->traj_.push_back({0, o.heart_rate_bpm});
  s->traj_phase_.assign(s->traj_.size(), 0);
  s->traj_phase_[0] = s->traj_[0].t_s * s->traj_[0].bpm / 60;  // held before the first point
  for (size_t i = 1; i < s->traj_.size(); ++i)
    s->traj_phase_[i] = s->traj_phase_[i - 1] + (s->traj_[i].t_s - s->traj_[i - 1].t_s) *
                                                    (s->traj_[i].bpm + s->traj_[i - 1].bpm) / 120;
  s->clock_rng_.seed(SplitMix(o.seed ^ 0x5eed));

  // 7. Expression track: measured on the still scene (no motion, pulse, light or noise).
  if (!o.expression.empty()) {
    std::vector<uint8_t> still(static_cast<size_t>(w) * h * 3);
    for (size_t i = 0; i < s->scene_.size(); ++i)
      for (int c = 0; c < 3; ++c) still[3 * i + c] = s->scene_[i][c];
    ImageView view;
    if (auto err = ImageView::Wrap(PixelFormat::kRGB, w, h, {still.data(), nullptr, nullptr},
                                   {3 * w, 0, 0}, &view))
      return fail("expression: " + *err);
    ExpressionTrackOptions eo;
    eo.models_dir = models_dir;
    eo.backend = o.backend;
    std::string err;
    s->expr_ = ExpressionTrack::Create(view, eo, &err);
    if (!s->expr_) return fail("expression: " + err);
    s->expr_->SetNeutralise(o.expression_neutralise);
    InstructionError perr;
    if (!s->expr_->SetInstruction(o.expression, &perr))
      return fail("expression \"" + o.expression + "\": " + FormatInstructionError(perr));
    s->expr_copy_ = std::make_unique<render::FrameCopy>();
  }
  return s;
}

FaceSynth::~FaceSynth() = default;

const std::vector<std::string>& FaceSynth::BlendshapeNames() const {
  static const std::vector<std::string> kNone;
  return expr_ ? expr_->basis().names() : kNone;
}

double FaceSynth::BpmAt(double t) const {
  if (t <= traj_.front().t_s) return traj_.front().bpm;
  if (t >= traj_.back().t_s) return traj_.back().bpm;
  const auto it = std::upper_bound(traj_.begin(), traj_.end(), t,
                                   [](double v, const HeartRatePoint& p) { return v < p.t_s; });
  const HeartRatePoint& b = *it;
  const HeartRatePoint& a = *(it - 1);
  return a.bpm + (b.bpm - a.bpm) * (t - a.t_s) / (b.t_s - a.t_s);
}

double FaceSynth::PulsePhase(double t) const {
  if (t <= traj_.front().t_s) return t * traj_.front().bpm / 60;
  size_t i = traj_.size() - 1;
  while (traj_[i].t_s > t) --i;
  // Trapezoid from point i to t (exact for a linear rate; constant after the last point).
  return traj_phase_[i] + (t - traj_[i].t_s) * (traj_[i].bpm + BpmAt(t)) / 120;
}

double FaceSynth::MeanBpm(double t0, double t1) const {
  if (t1 <= t0) return BpmAt(t0);
  return (PulsePhase(t1) - PulsePhase(t0)) * 60 / (t1 - t0);
}

double FaceSynth::PulseShape(double phase) const {
  const double f = phase - std::floor(phase);
  return (RawShape(f) - shape_mean_) * shape_scale_;
}

SynthTruth FaceSynth::TruthAt(double t) const {
  const FaceSynthOptions& o = opts_;
  SynthTruth tr;
  tr.t_s = t;
  tr.pts_ns = std::llround(t * 1e9);
  tr.index = std::llround(t * o.fps);
  tr.pulse_phase = PulsePhase(t);
  tr.bpm = BpmAt(t);
  tr.pulse = PulseShape(tr.pulse_phase);
  tr.breathing_phase = t * o.breathing_rate_bpm / 60;
  tr.light_gain = 1 + o.light_drift * std::sin(2 * kPi * t / o.light_period_s);
  if (o.light_step_s >= 0 && t >= o.light_step_s) tr.light_rgb = o.light_step_rgb;
  if (o.motion != SynthMotion::kNone) {
    const double b = std::sin(2 * kPi * tr.breathing_phase);
    tr.dy = -o.breathing_shift_px * b;  // the head rises as the chest fills
    tr.scale = 1 + o.breathing_scale * b;
  }
  if (o.motion == SynthMotion::kHead) {
    tr.roll_deg = o.head_roll_deg * std::sin(2 * kPi * t / 7.3);
    tr.dx += o.head_shift_px * std::sin(2 * kPi * t / 9.1 + 0.5);
    tr.dy += 0.5 * o.head_shift_px * std::sin(2 * kPi * t / 5.7 + 1.3);
    tr.scale *= 1 + o.head_scale * std::sin(2 * kPi * t / 8.3 + 2.1);
  }
  if (expr_) {
    tr.blendshapes.resize(expr_->basis().size());
    expr_->WeightsAt(t, tr.blendshapes);
  }
  return tr;
}

SynthTruth FaceSynth::Next() {
  const double dt = 1 / opts_.fps;
  std::uniform_real_distribution<double> u01(0, 1);
  std::normal_distribution<double> n01(0, 1);
  for (;;) {
    const int64_t k = next_index_++;
    // Both draws every frame, so the jitter of a frame does not depend on the drop setting.
    const bool dropped = u01(clock_rng_) < opts_.drop;
    const double j = std::clamp(n01(clock_rng_) * opts_.jitter, -0.45, 0.45);
    if (dropped && k > 0) continue;  // the first frame always arrives
    const double t = std::max(0.0, (k + j) * dt);
    SynthTruth tr = TruthAt(t);
    tr.index = k;
    return tr;
  }
}

bool FaceSynth::MapToPhoto(const SynthTruth& tr, std::array<float, 6>* a) const {
  if (tr.dx == 0 && tr.dy == 0 && tr.roll_deg == 0 && tr.scale == 1) return false;
  // Forward: frame = C + d + s R (scene - C), R rotating counter-clockwise on screen (y down).
  // Inverse for the pixel centre X = x + 0.5: scene = C + R^T (X - C - d) / s, and the scene
  // is sampled at scene - 0.5 (its pixel centres).
  const double th = tr.roll_deg * kPi / 180, c = std::cos(th) / tr.scale, s = std::sin(th) / tr.scale;
  const double ex = 0.5 - centre_x_ - tr.dx, ey = 0.5 - centre_y_ - tr.dy;  // X - C - d at x = 0
  // R = [[c, s], [-s, c]] (forward); R^T = [[c, -s], [s, c]].
  (*a)[0] = static_cast<float>(c);
  (*a)[1] = static_cast<float>(-s);
  (*a)[2] = static_cast<float>(centre_x_ + c * ex - s * ey - 0.5);
  (*a)[3] = static_cast<float>(s);
  (*a)[4] = static_cast<float>(c);
  (*a)[5] = static_cast<float>(centre_y_ + s * ex + c * ey - 0.5);
  return true;
}

void FaceSynth::RenderRgbRow(const SynthTruth& tr, int y, bool warp, const std::array<float, 6>& a,
                             uint8_t* out) const {
  const float gain = static_cast<float>(tr.light_gain);
  const float gr = gain * static_cast<float>(tr.light_rgb[0]), gg = gain * static_cast<float>(tr.light_rgb[1]),
              gb = gain * static_cast<float>(tr.light_rgb[2]);
  const float p = static_cast<float>(tr.pulse);
  // Per unit of the 8-bit weight.
  const float pr = gain_rgb_[0] * p / 255, pg = gain_rgb_[1] * p / 255, pb = gain_rgb_[2] * p / 255;
  const float sigma = static_cast<float>(opts_.noise);
  const float* noise = nullptr;
  if (sigma > 0) {
    const uint64_t seed = SplitMix(opts_.seed ^ SplitMix(static_cast<uint64_t>(tr.index) * 0x10001ULL + y));
    noise = noise_table_.data() + seed % (kNoiseTable - 3 * w_);
  }
  const std::array<uint8_t, 4>* row = scene_.data() + static_cast<size_t>(y) * w_;
  float sx = a[1] * y + a[2], sy = a[4] * y + a[5];
  // Bilinear in 8-bit fixed point (positions in 1/256 pixel): exact enough for 8-bit output
  // and about twice as fast as float gathers.
  const int max_x = (w_ - 1) * 256, max_y = (h_ - 1) * 256;
  for (int x = 0; x < w_; ++x, sx += a[0], sy += a[3]) {
    float px[4];
    if (!warp) {
      for (int c = 0; c < 4; ++c) px[c] = row[x][c];
    } else {
      const int ix = std::clamp(static_cast<int>(sx * 256), 0, max_x);
      const int iy = std::clamp(static_cast<int>(sy * 256), 0, max_y);
      const int x0 = std::min(ix >> 8, w_ - 2), y0 = std::min(iy >> 8, h_ - 2);
      const int fx = ix - x0 * 256, fy = iy - y0 * 256;
      const auto* q = scene_.data() + static_cast<size_t>(y0) * w_ + x0;
      const int w00 = (256 - fx) * (256 - fy), w10 = fx * (256 - fy), w01 = (256 - fx) * fy, w11 = fx * fy;
      for (int c = 0; c < 4; ++c)
        px[c] = static_cast<float>(w00 * q[0][c] + w10 * q[1][c] + w01 * q[w_][c] + w11 * q[w_ + 1][c]) *
                (1.0f / 65536);
    }
    // The photo is quantised; the scene it stands for is not. A fixed sub-grey-level offset per
    // pixel and channel (a hash of the position, uniform in +-0.5) restores the fractions, so a
    // pulse smaller than one grey level still moves the rounded pixels in proportion (as a
    // camera's continuous irradiance does), with or without sensor noise.
    uint32_t hsh = (static_cast<uint32_t>(x) * 0x9E3779B1u) ^ (static_cast<uint32_t>(y) * 0x85EBCA77u);
    hsh *= 0xC2B2AE3Du;
    hsh ^= hsh >> 15;
    constexpr float kByte = 1.0f / 256;
    const float d0 = (static_cast<float>(hsh & 255) - 127.5f) * kByte;
    const float d1 = (static_cast<float>((hsh >> 8) & 255) - 127.5f) * kByte;
    const float d2 = (static_cast<float>((hsh >> 16) & 255) - 127.5f) * kByte;
    float r = gr * (px[0] + d0) * (1 + px[3] * pr);
    float g = gg * (px[1] + d1) * (1 + px[3] * pg);
    float b = gb * (px[2] + d2) * (1 + px[3] * pb);
    if (noise) r += sigma * noise[3 * x], g += sigma * noise[3 * x + 1], b += sigma * noise[3 * x + 2];
    out[3 * x] = ToU8(r), out[3 * x + 1] = ToU8(g), out[3 * x + 2] = ToU8(b);
  }
}

void FaceSynth::Render(const SynthTruth& tr, const SynthTarget& dst) {
  RenderScene(tr, dst);
  if (!expr_) return;
  // The expression: the rendered frame warped in place from a copy of it.
  draw::MutableImageView view;
  if (draw::MutableImageView::Wrap(opts_.format, w_, h_, dst.planes, dst.strides, &view)) return;
  expr_copy_->Assign(view.view());
  const Placement p = SimilarityPlacement(centre_x_, centre_y_, static_cast<float>(tr.dx),
                                          static_cast<float>(tr.dy),
                                          static_cast<float>(tr.roll_deg),
                                          static_cast<float>(tr.scale));
  expr_->Render(expr_copy_->view(), tr.blendshapes, view, &p);
}

void FaceSynth::RenderScene(const SynthTruth& tr, const SynthTarget& dst) {
  std::array<float, 6> a{1, 0, 0, 0, 1, 0};
  const bool warp = MapToPhoto(tr, &a);
  const PixelFormat f = opts_.format;
  if (f == PixelFormat::kRGB) {
    for (int y = 0; y < h_; ++y) RenderRgbRow(tr, y, warp, a, dst.planes[0] + static_cast<size_t>(y) * dst.strides[0]);
    return;
  }
  rgb_scratch_.resize(static_cast<size_t>(w_) * h_ * 3);
  for (int y = 0; y < h_; ++y) RenderRgbRow(tr, y, warp, a, rgb_scratch_.data() + static_cast<size_t>(y) * w_ * 3);
  const uint8_t* src = rgb_scratch_.data();
  auto luma = [](const uint8_t* p) {
    return ToU8(16 + (65.738f * p[0] + 129.057f * p[1] + 25.064f * p[2]) / 256);
  };
  uint8_t* const* planes = dst.planes.data();
  const int* strides = dst.strides.data();
  VisitPixelFormat(f, [&]<PixelFormat F>() {
    constexpr PixelFormatInfo I = kFormat<F>;
    if constexpr (I.layout == PixelLayout::kPackedRgb) {
      for (int y = 0; y < h_; ++y) {
        uint8_t* o = PixelAddress<F>(planes, strides, 0, y);
        const uint8_t* p = src + static_cast<size_t>(y) * w_ * 3;
        for (int x = 0; x < w_; ++x, o += I.bpp, p += 3) {
          o[I.r] = p[0], o[I.g] = p[1], o[I.b] = p[2];
          if constexpr (I.x >= 0) o[I.x] = 255;  // alpha opaque; padding too
        }
      }
    } else if constexpr (I.layout == PixelLayout::kGray) {
      for (int y = 0; y < h_; ++y) {
        uint8_t* o = PixelAddress<F>(planes, strides, 0, y);
        const uint8_t* p = src + static_cast<size_t>(y) * w_ * 3;
        for (int x = 0; x < w_; ++x, p += 3) o[x] = ToU8(0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]);
      }
    } else {
      // BT.601 limited range; chroma from the mean of each chroma block (edge blocks of odd
      // sizes average what exists).
      for (int y = 0; y < h_; ++y) {
        const uint8_t* p = src + static_cast<size_t>(y) * w_ * 3;
        for (int x = 0; x < w_; ++x, p += 3) *LumaAddress<F>(planes, strides, x, y) = luma(p);
      }
      constexpr int kBw = 1 << I.sub_x, kBh = 1 << I.sub_y;
      const int cw = (w_ + kBw - 1) / kBw, ch = (h_ + kBh - 1) / kBh;
      for (int j = 0; j < ch; ++j)
        for (int i = 0; i < cw; ++i) {
          float r = 0, g = 0, b = 0;
          int n = 0;
          for (int yy = kBh * j; yy < std::min(kBh * j + kBh, h_); ++yy)
            for (int xx = kBw * i; xx < std::min(kBw * i + kBw, w_); ++xx, ++n) {
              const uint8_t* p = src + (static_cast<size_t>(yy) * w_ + xx) * 3;
              r += p[0], g += p[1], b += p[2];
            }
          r /= n, g /= n, b /= n;
          uint8_t *u, *v;
          ChromaAddress<F>(planes, strides, i, j, &u, &v);
          *u = ToU8(128 + (-37.945f * r - 74.494f * g + 112.439f * b) / 256);
          *v = ToU8(128 + (112.439f * r - 94.154f * g - 18.285f * b) / 256);
        }
    }
  });
}

void FaceSynth::Render(const SynthTruth& tr, SynthFrame* frame) {
  const PixelFormat f = opts_.format;
  if (frame->format != f || frame->width != w_ || frame->height != h_ || frame->data.empty()) {
    frame->format = f, frame->width = w_, frame->height = h_;
    size_t total = 0;
    for (int i = 0; i < PlaneCount(f); ++i) {
      frame->offsets[i] = total;
      frame->strides[i] = ImageView::MinStride(f, w_, i);
      total += static_cast<size_t>(frame->strides[i]) * ImageView::PlaneRows(f, h_, i);
    }
    frame->data.assign(total, 0);
  }
  SynthTarget t;
  for (int i = 0; i < PlaneCount(f); ++i) t.planes[i] = frame->data.data() + frame->offsets[i], t.strides[i] = frame->strides[i];
  Render(tr, t);
}

std::vector<float> FaceSynth::WeightMap() const {
  std::vector<float> m(scene_.size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = scene_[i][3] / 255.0f;
  return m;
}

}  // namespace fg
