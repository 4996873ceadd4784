// FaceSynth: a face video with a known pulse, for testing and scoring the vitals pipeline.
//
// It animates one still photo (the public-domain astronaut of python3-imageio) and knows, for
// every frame, the truth a vitals estimator should find: the pulse phase, the instantaneous
// heart rate, the pulse value, the breathing phase and the motion and light applied.
//
//   photo (PNG) ──► placed in the frame (scaled to fit, centred) ──► per pixel: RGB + weight
//                   skin map from the photo itself:                   (prepared once, Create)
//                     YCbCr skin classifier ─► majority filter ─► largest blob
//                     ─► box blur x2
//                     x smooth perfusion profile over the blob (forehead and cheeks 1.0,
//                       the rest of the skin lower, the neck lowest)
//
//   per frame (Render):  pixel = gain(t) x (base + d) x (1 + weight x a_c x pulse(phase(t)))
//                                + sensor noise (seeded Gaussian)
//                        d: a fixed sub-grey-level offset per pixel (+-0.5, a hash of the
//                        position) standing for the fractions the 8-bit photo lost, so that a
//                        pulse below one grey level still moves rounded pixels in proportion
//                        sampled through the head motion (bilinear; identity is copied)
//
// Pulse: phase(t) = integral of bpm(t)/60 (bpm constant or a piecewise-linear trajectory),
// shape = a systolic upstroke to a peak at phase 0.22, a late-systolic shoulder, the dicrotic
// notch near 0.40 and a diastolic wave at 0.52 (sum of three periodic Gaussians), normalised
// to zero mean and peak-to-peak 1. Phase 0 is (about) the foot of the upstroke.
// Perfusion is multiplicative per channel, as blood volume changes absorption: a_c is
// proportional to `pulse_rgb` (normalised AC/DC per channel, mostly green), scaled so that the
// largest green change of any pixel, peak to peak, is `amplitude` grey levels (default 1).
// The weight map comes from the photo's own skin and a smooth function of position within
// the skin blob: it knows nothing of the analyser's mesh triangles or regions.
//
// Motion (about the skin blob's centre, so the face stays in view):
//   kNone       the photo is still.
//   kBreathing  vertical shift (breathing_shift_px) and scale (breathing_scale) at the
//               breathing rate: the head rides on the chest.
//   kHead       breathing plus a slow head movement: roll (head_roll_deg), translation
//               (head_shift_px) and scale (head_scale) on incommensurate periods of 5-9 s.
// The photo is flat, so "rotation" is in the image plane (roll); yaw and pitch would need a
// 3D face.
//
// Light: gain(t) = 1 + light_drift x sin(2 pi t / light_period_s) (slow global drift), and
// optionally a step of the camera's exposure / white balance: from light_step_s on, channel c
// is multiplied by light_step_rgb[c] (a gain and a colour cast switched in one frame).
// Noise: Gaussian, sigma `noise` grey levels per channel, from a table drawn once from
// `seed`; each frame picks its rows' offsets from (seed, frame index), so a frame renders the
// same whatever was rendered before it.
// Timing: frame k is due at k / fps; `jitter` adds Gaussian noise of jitter x (1 / fps)
// (clipped to +-0.45 of a frame so timestamps stay ordered) and `drop` is the probability
// that a frame never arrives (its index is skipped, leaving a gap), both from `seed`.
//
// Expression track (issue 7; `expression` non-empty): the face pulls known expressions.
// At Create the still scene (the photo placed in the frame, no motion, pulse, light or noise)
// goes to ExpressionTrack (engine/synth/expression_track.h: FaceTracker once, head fit,
// blendshape basis) and the instruction (engine/avatar/instruction.h, e.g. "neutral, then
// very happy over 1.5 s, hold 1 s, then surprised over 0.5 s") becomes a weight curve.
// TruthAt(t) gains the curve's weights at t (SynthTruth::blendshapes, basis order:
// BlendshapeNames()); Render() renders the frame as without expression, then warps it in
// place (from a copy of it) by those weights, with the frame's motion as the placement, so
// the pulse, noise and light move with the skin. Pixels outside the deformed face mesh are
// untouched. Any output format. Off (the default), nothing of it is built or run.
//   Cost: Create runs the tracker 4 times (needs models_dir); Render adds one frame copy
//   and a warp of the face box.

// Threading: thread-compatible: one caller for Next() and Render() (Render keeps a scratch
// frame for YUV and gray output, and the expression track's copy and warp scratch);
// TruthAt() and the other const queries may be called from any thread. Render() does not
// allocate after its first call (TruthAt allocates the blendshapes vector when the
// expression track is on).
//
// Example:
//   fg::FaceSynthOptions o;  o.photo_path = FG_ASTRONAUT;  o.heart_rate_bpm = 72;
//   auto synth = fg::FaceSynth::Create(o, &err);      // err names the file / the bad option
//   fg::SynthFrame frame;
//   for (;;) { fg::SynthTruth t = synth->Next(); synth->Render(t, &frame);
//              tracker->Process(frame.View(), t.pts_ns); ... compare with t.bpm }
//   o.expression = "neutral, then very happy over 1.5 s";  o.models_dir = models;
//   // now t.blendshapes[synth->BlendshapeNames() index] is the weight the face shows
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/image.h"

namespace fg {

class ExpressionTrack;
namespace render {
class FrameCopy;
}

enum class SynthMotion { kNone, kBreathing, kHead };
std::string_view SynthMotionName(SynthMotion m);  // "none", "breathing", "head"
std::optional<SynthMotion> SynthMotionFromName(std::string_view name);

// One point of a heart-rate trajectory: from t_s on, the rate moves linearly to the next
// point's; before the first point and after the last the rate is held.
struct HeartRatePoint {
  double t_s = 0;
  double bpm = 0;
};
// Parses "0:60,20:120" (seconds:bpm, comma-separated, times strictly increasing, bpm 20..250).
// Returns an error naming the offending item, or nullopt.
std::optional<std::string> ParseHeartRateTrajectory(std::string_view text,
                                                    std::vector<HeartRatePoint>* out);

// Checks an expression instruction against the blendshape basis of the canonical face in
// `models_dir` without running the tracker (cheap: for validating a setting early). An error
// or nullopt: "models_dir: <the model file's problem>" or the instruction's
// "column 22 (\"ovr\"): unknown word ...". `names` (optional) gets the basis names, the order
// of SynthTruth::blendshapes.
std::optional<std::string> CheckExpressionInstruction(std::string_view text,
                                                      const std::string& models_dir,
                                                      std::vector<std::string>* names = nullptr);

struct FaceSynthOptions {
  std::string photo_path;            // PNG or JPEG (engine/io/jpeg.h ReadImageRgb); required
  int width = 640, height = 480;     // output frame
  PixelFormat format = PixelFormat::kRGB;
  double fps = 30;
  // Photo side as a fraction of the largest that fits (1 = fit the frame, centred).
  double photo_scale = 1.0;
  uint8_t background = 90;           // grey around the photo

  double heart_rate_bpm = 72;
  std::vector<HeartRatePoint> heart_rate_trajectory;  // non-empty: overrides heart_rate_bpm
  double amplitude = 1.0;            // grey levels, peak to peak, largest green change
  std::array<double, 3> pulse_rgb{0.30, 0.80, 0.50};  // relative AC/DC per channel (R, G, B)
  // The default is near de Haan & van Leest's measured skin signature [0.33, 0.77, 0.53] but
  // deliberately not equal to it: PBV assumes exactly that vector and would be handed the answer.

  double breathing_rate_bpm = 15;    // breaths per minute
  SynthMotion motion = SynthMotion::kBreathing;
  double breathing_shift_px = 1.5, breathing_scale = 0.004;
  double head_roll_deg = 8, head_shift_px = 12, head_scale = 0.03;

  double light_drift = 0;            // relative gain amplitude (0.1 = +-10 %)
  double light_period_s = 60;
  double light_step_s = -1;          // < 0: no step
  std::array<double, 3> light_step_rgb{1, 1, 1};  // per-channel gain after the step (R, G, B)
  double noise = 0;                  // sensor noise sigma, grey levels
  double jitter = 0;                 // timestamp jitter sigma, in frame intervals (0..0.45)
  double drop = 0;                   // probability of a dropped frame (0..0.5)
  uint64_t seed = 1;

  // Expression track (see above): an instruction of engine/avatar/instruction.h; empty = off.
  std::string expression;
  // The photo's own expression and face shape taken away first (ExpressionTrack::SetNeutralise:
  // at zero weights the face is the canonical face's neutral, posed as the photo's head).
  // The astronaut smiles a little; a baseline test needs a face whose neutral is known.
  bool expression_neutralise = false;
  std::string models_dir;            // tracker models, canonical face; "" = the build's default
  std::string backend = "auto";      // the tracker's NN backend
};

// Ground truth of one frame.
struct SynthTruth {
  int64_t index = 0;          // frame number on the nominal clock (dropped frames skip one)
  int64_t pts_ns = 0;
  double t_s = 0;             // pts in seconds: what the scene was rendered at
  double pulse_phase = 0;     // cycles since t = 0 (fractional part = phase in the beat)
  double bpm = 0;             // instantaneous heart rate
  double pulse = 0;           // pulse shape at the phase, zero mean, peak to peak 1
  double breathing_phase = 0; // cycles since t = 0
  double light_gain = 1;
  std::array<double, 3> light_rgb{1, 1, 1};  // the exposure / white-balance step's gains
  double dx = 0, dy = 0, roll_deg = 0, scale = 1;  // head motion applied (frame pixels)
  // Expression track on: the blendshape weights the face shows (basis order, names in
  // FaceSynth::BlendshapeNames()); empty when off.
  std::vector<float> blendshapes;
};

// A frame in memory the synthesiser owns (tests, tools); planes packed, no padding.
struct SynthFrame {
  PixelFormat format = PixelFormat::kRGB;
  int width = 0, height = 0;
  std::vector<uint8_t> data;
  std::array<size_t, 3> offsets{};
  std::array<int, 3> strides{};
  ImageView View() const;
};

// Where to render: the caller's planes (e.g. a mapped GstVideoFrame), any PixelFormat.
struct SynthTarget {
  std::array<uint8_t*, 3> planes{};
  std::array<int, 3> strides{};
};

class FaceSynth {
 public:
  // Loads the photo, builds the weight map. Errors name the file or the option and its value.
  // With `expression` set, also errors naming the option: "expression: column 7 (...)...",
  // "expression: ... no face found in the photo" or a missing model file.
  static std::unique_ptr<FaceSynth> Create(const FaceSynthOptions& opts, std::string* error);
  ~FaceSynth();

  // The next frame that arrives (dropped frames are skipped) and its truth.
  SynthTruth Next();
  // Truth of the scene at time t_s (index/pts set from t_s).
  SynthTruth TruthAt(double t_s) const;
  // Renders the scene of `truth` into the target (layout of opts.format, width, height).
  void Render(const SynthTruth& truth, const SynthTarget& target);
  void Render(const SynthTruth& truth, SynthFrame* frame);

  // Heart rate averaged over [t0, t1] (cycles x 60 / duration): the truth for a windowed
  // estimate.
  double MeanBpm(double t0_s, double t1_s) const;
  double PulsePhase(double t_s) const;
  double BpmAt(double t_s) const;
  // The pulse shape at a phase (cycles; only the fractional part matters).
  double PulseShape(double phase) const;

  const FaceSynthOptions& options() const { return opts_; }
  // Perfusion weight per frame pixel of the still scene (0..1), width x height: tests check
  // where the pulse is.
  std::vector<float> WeightMap() const;
  // Centre of the skin blob in frame pixels (the head motion's pivot).
  std::array<float, 2> FaceCentre() const { return {centre_x_, centre_y_}; }
  // Per-channel multiplier of pulse x weight (x base colour = the change).
  const std::array<float, 3>& PulseGain() const { return gain_rgb_; }
  // The blendshape names of SynthTruth::blendshapes (ARKit, basis order); empty when the
  // expression track is off.
  const std::vector<std::string>& BlendshapeNames() const;
  // The expression track (nullptr when off): its neutral mesh, basis, curve.
  const ExpressionTrack* expression_track() const { return expr_.get(); }

 private:
  FaceSynth() = default;
  // Frame pixel (x, y) (pixel index) -> still-scene position: sx = a[0] x + a[1] y + a[2],
  // sy = a[3] x + a[4] y + a[5]. Returns false for the identity (no resampling needed).
  bool MapToPhoto(const SynthTruth& truth, std::array<float, 6>* a) const;
  // Render without the expression track.
  void RenderScene(const SynthTruth& truth, const SynthTarget& target);
  // One row as packed RGB8 (the common path of every format).
  void RenderRgbRow(const SynthTruth& truth, int y, bool warp, const std::array<float, 6>& a,
                    uint8_t* out) const;

  FaceSynthOptions opts_;
  int w_ = 0, h_ = 0;
  // The still scene at the output size: R, G, B, weight x 255 per pixel.
  std::vector<std::array<uint8_t, 4>> scene_;
  std::array<float, 3> gain_rgb_{};
  float centre_x_ = 0, centre_y_ = 0;
  std::vector<float> noise_table_;
  // Heart-rate trajectory with cumulative phase at each point.
  std::vector<HeartRatePoint> traj_;
  std::vector<double> traj_phase_;
  double shape_mean_ = 0, shape_scale_ = 1;
  // Frame clock.
  int64_t next_index_ = 0;
  std::mt19937_64 clock_rng_;
  std::vector<uint8_t> rgb_scratch_;  // conversion to non-RGB formats
  // Expression track (nullptr when off) and the copy of the frame it warps from.
  std::unique_ptr<ExpressionTrack> expr_;
  std::unique_ptr<render::FrameCopy> expr_copy_;
};

}  // namespace fg
