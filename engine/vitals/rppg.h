// rPPG signal processing: from RGB traces with real timestamps to a pulse waveform, its
// spectrum, heart rate, SNR, beats and HRV. Building blocks of vitals_estimator.h, kept as
// free functions and small prepared objects so each can be tested on generated traces.
//
//   (t_i, R_i, G_i, B_i)  irregular timestamps, dropped frames
//        │ ResampleLinear                      uniform grid at fs (default 30 Hz)
//        ▼
//   R, G, B ── ApplyMethod (GREEN | CHROM | POS | LGI | PBV | OMIT) ──► h   (per node)
//        │                   (temporal normalisation inside: per-window means)
//        ▼
//   BandPass (0.5-4 Hz, Butterworth, zero phase) ──► bvp ──► Welch ──► FindPulsePeak, SnrDb
//     (the filter's corners lie outside the 0.7-3.5 Hz search band, so it is flat across it)
//                                                        └──► DetectBeats ──► ComputeHrv
//
// Detrending: every method divides each channel by its mean over a short sliding window
// (the 1.6 s of POS, Wang 2017, used for all methods), which removes illumination drift and
// the skin-tone DC multiplicatively; the band-pass then removes what is left below 0.5 Hz.
// For respiration (0.1-0.5 Hz) the slow component is what we want, so DetrendMovingAverage
// with a long window is used there instead.
//
// Threading: free functions are reentrant. Welch and BandPass are immutable after
// construction (const methods, caller-owned outputs): share them between threads. These run
// in the once-a-second update, not on the frame path: ApplyMethod and Welch::Compute
// allocate their working buffers per call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace fg {

enum class RppgMethod { kGreen, kChrom, kPos, kLgi, kPbv, kOmit };
inline constexpr RppgMethod kAllRppgMethods[] = {RppgMethod::kGreen, RppgMethod::kChrom,
                                                 RppgMethod::kPos,   RppgMethod::kLgi,
                                                 RppgMethod::kPbv,   RppgMethod::kOmit};
std::string_view RppgMethodName(RppgMethod m);  // "green", "chrom", "pos", "lgi", "pbv", "omit"
std::optional<RppgMethod> RppgMethodFromName(std::string_view name);

// Linear interpolation of samples (t[i], x[i]) (seconds, ascending) onto t0 + k / fs for
// k < out.size(). Grid points before the first / after the last sample hold the end value.
// Gaps (dropped frames) are bridged linearly.
void ResampleLinear(std::span<const double> t, std::span<const float> x, double t0, double fs,
                    std::span<float> out);

// x -= its centred moving average (a box of `window_s` / 2 applied twice: a triangular kernel
// `window_s` wide, first zero of its response at 2 / window_s Hz). Ends use the shorter
// available window.
void DetrendMovingAverage(std::span<float> x, double fs, double window_s,
                          std::vector<float>* scratch);

// Pulse signal from uniformly sampled RGB traces (any scale, e.g. mean pixel values).
// Window-based methods use sliding windows of `window_s` (default 1.6 s, Wang 2017) with a
// hop of one sample and plain overlap-add of each window's zero-mean output (as in POS).
// The output is not band-passed. r, g, b and out have the same length (>= 2).
void ApplyMethod(RppgMethod m, std::span<const float> r, std::span<const float> g,
                 std::span<const float> b, double fs, std::span<float> out,
                 double window_s = 1.6);

// Zero-phase Butterworth band-pass: a 2nd-order high-pass and a 2nd-order low-pass section
// (RBJ biquads, Q = 1/sqrt(2)), run forwards and backwards (4th-order magnitude on each
// edge), with odd-reflection padding of up to 2 s at both ends to settle the transients.
class BandPass {
 public:
  BandPass(double fs, double lo_hz, double hi_hz);
  void Apply(std::span<float> x, std::vector<float>* scratch) const;

 private:
  struct Biquad {
    double b0, b1, b2, a1, a2;
  };
  void Run(std::span<float> x) const;
  Biquad hp_{}, lp_{};
  int pad_ = 0;
};

// Welch power spectrum: Hann-windowed segments of `segment` samples (mean removed) every
// `step` samples, each zero-padded to `nfft` (a power of two), periodograms averaged.
// A signal shorter than one segment is used whole as one segment.
struct Spectrum {
  double df = 0;             // Hz per bin
  std::vector<double> power;  // nfft / 2 + 1 bins, arbitrary scale
};
class Welch {
 public:
  Welch(double fs, int segment, int step, int nfft);
  double fs() const { return fs_; }
  void Compute(std::span<const float> x, Spectrum* out) const;

 private:
  double fs_;
  int segment_, step_, nfft_;
  std::vector<double> cos_, sin_;  // twiddles, prepared once
};

// The strongest bin in [lo_hz, hi_hz] with a parabola through the log power of it and its
// neighbours (Gaussian interpolation: exact for a Gaussian-shaped lobe, which a
// Hann-windowed, zero-padded sine nearly is). power = peak bin power.
struct SpectralPeak {
  double hz = 0;
  double power = 0;
  bool found = false;
};
SpectralPeak FindPeak(const Spectrum& s, double lo_hz, double hi_hz);

// The heart-rate peak: like FindPeak, with two rules for a pulse, whose waveform is not a sine
// (a real PPG's 2nd harmonic is about half the fundamental's amplitude, a quarter of its
// power; the synthesiser's 2nd and 3rd are 0.46 and 0.44):
//  1. Only a local maximum counts (a bin >= both neighbours, which may lie outside
//     [lo_hz, hi_hz]): the skirt of a stronger component just outside the band (breathing,
//     drift, motion below lo_hz) is no peak, even where it is the strongest bin in the band.
//     With no local maximum in the band, FindPeak's strongest bin is returned.
//  2. Sub-harmonic check: when the winner f has a local maximum within +-max(2 bins, 0.05 Hz)
//     of f / 2 or f / 3, inside the band, holding >= subharmonic_ratio x f's power, that
//     sub-harmonic is taken (the stronger one if both qualify). A pulse at f has no energy
//     below its fundamental, so a clear peak at f / 2 (f / 3) that strong is not noise beside
//     a harmonic but the fundamental, beaten by its 2nd (3rd) harmonic where noise, motion or
//     the band-pass edge weakened it: at 45 bpm the fundamental is at 0.75 Hz, near the
//     0.7 Hz band edge, and read 90 or 135 bpm. Ratio 0.5: a harmonic beating its fundamental
//     means the fundamental lost most of its usual 4-5x power lead, so it is typically still
//     above half the harmonic's power; for a real pulse at f, a noise peak at f / 2 with half
//     its power means an SNR too poor to trust either answer (confidence is low there).
//     subharmonic_ratio <= 0 turns the check off. The sub-harmonic is taken only where
//     SnrDb(s, sub-harmonic) >= subharmonic_min_snr_db (default: no condition): in a noisy
//     spectrum a peak at f / 2 with half the winner's power is as likely noise (1/f-shaped
//     noise from motion and compression is strongest there) as the fundamental.
SpectralPeak FindPulsePeak(const Spectrum& s, double lo_hz, double hi_hz,
                           double subharmonic_ratio = 0.5, double subharmonic_min_snr_db = -100);

// Heart rate tracked across updates: a hidden Markov model over the spectrum's bins in
// [lo_hz, hi_hz], run forwards only (causal: one step per update, no look-ahead), the
// Bayesian spectral tracking of Viterbi-style HR trackers reduced to the filtering step.
//   prior(f)  = (1 - jump) x (posterior before, convolved with a Gaussian of
//               sigma_bpm x sqrt(dt_s) bpm) + jump / bins     (the rate drifts; or it jumps
//               anywhere, so a lock on noise is left once the pulse wins a few windows)
//   evidence  = (power(f) / max power)^gamma over the band of this update's spectrum, the lobe
//               of `pick_hz` (the window's own answer: FindPulsePeak's, sub-harmonic rule
//               included) lifted to the maximum where another peak was stronger
//   posterior = prior x evidence, normalised
// The reported rate is the posterior's strongest bin, refined on the window's own spectrum: the
// interpolated local maximum within +-gate bins of it (the window's own peak where the two
// agree, so a steady clean pulse reads exactly what FindPulsePeak reads), else the posterior's
// bin refined by a parabola through its log. The first update (a uniform prior) reports
// pick_hz. A window whose pulse drowns in noise (real compressed video) then moves the
// estimate little, where its own argmax would jump to the noise.
//
// Threading: thread-compatible (one tracker per track). Update does not allocate.
//
// Example:
//   RateTracker tr(spec.df, 0.7, 3.5, RateTrackerOptions{});
//   each update:  const double hz = tr.Update(spec, FindPulsePeak(spec, 0.7, 3.5).hz, 1.0);
struct RateTrackerOptions {
  double sigma_bpm = 3;   // the rate's drift per second (Gaussian sigma)
  double jump = 0.02;     // the share of the prior spread over the whole band
  double gamma = 1;       // the evidence's exponent (higher: one window counts more)
  int gate_bins = 3;      // the window's own peak is taken within this many bins of the MAP
};
class RateTracker {
 public:
  // df: the spectra's bin width (Hz); every Update's spectrum must have it.
  RateTracker(double df, double lo_hz, double hi_hz, const RateTrackerOptions& o);
  // One step; dt_s: seconds since the previous Update (ignored on the first). Returns the
  // tracked rate in Hz, or pick_hz when the spectrum is empty or has another bin width.
  double Update(const Spectrum& s, double pick_hz, double dt_s);
  bool started() const { return started_; }
  void Reset() { started_ = false; }

 private:
  RateTrackerOptions o_;
  double df_;
  int k0_, k1_;  // the band's bins
  bool started_ = false;
  std::vector<double> post_, prior_, kernel_;
};

// FindPulsePeak on a tilted copy of the spectrum: *tilted = power x (f / 1 Hz)^tilt (noise from
// motion and compression rises towards low frequencies, a pulse does not), its strongest
// local maximum f taken without the sub-harmonic check; then the check on the untilted
// spectrum (FindPulsePeak(s, ...) with the ratio and SNR condition): where its own reading is
// f / 2 or f / 3 (+-max(2 bins, 0.05 Hz)) with SnrDb >= subharmonic_min_snr_db on `s`, that is
// the fundamental (the tilt raised its harmonic: a clean 45 bpm pulse). The result is refined
// on `s` (its local maximum within +-2 bins, Gaussian-interpolated), so the tilt does not bias
// the rate. tilt 0: FindPulsePeak(s, ...) exactly, *tilted = s.
SpectralPeak FindTiltedPulsePeak(const Spectrum& s, double tilt, double lo_hz, double hi_hz,
                                 double subharmonic_ratio, double subharmonic_min_snr_db,
                                 Spectrum* tilted);

// The local maximum of `s` within +-bins of hz, Gaussian-interpolated; hz itself when none.
double RefinePeak(const Spectrum& s, double hz, int bins);

// SNR in dB (de Haan 2013's definition, narrowed): power within +-halfwidth_hz of f0 and of
// its first harmonic 2 f0 (when 2 f0 is inside [lo_hz, hi_hz]) against the power of every
// other bin in [lo_hz, hi_hz].
double SnrDb(const Spectrum& s, double f0, double lo_hz, double hi_hz, double halfwidth_hz = 0.1);

// Beat times (seconds from the first sample) from a band-passed pulse: local maxima at least
// 0.6 / hr_hz apart (the larger one wins), each refined by a parabola through three samples,
// keeping maxima above 0.3 x the median maximum height (rejects dicrotic bumps).
std::vector<double> DetectBeats(std::span<const float> bvp, double fs, double hr_hz);

// Inter-beat intervals (ms) with outliers (> 30% off the median interval) dropped, and HRV
// over the kept ones: SDNN (std of intervals) and RMSSD (RMS of successive differences of
// consecutive kept intervals).
struct Hrv {
  std::vector<double> ibi_ms;
  double sdnn_ms = 0, rmssd_ms = 0, mean_hr_bpm = 0;
  int rejected = 0;
};
Hrv ComputeHrv(std::span<const double> beat_times_s);

}  // namespace fg
