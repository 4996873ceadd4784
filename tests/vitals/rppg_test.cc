// rPPG building blocks and the estimator on generated traces with a known pulse: every method
// over 45-180 bpm, resampling under timestamp jitter and dropped frames, sub-bin peak
// interpolation, SNR, confidence (noise, partial window, motion, light), HRV and respiration.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/vitals/region_grid.h"
#include "engine/vitals/rppg.h"
#include "engine/vitals/vitals_estimator.h"
#include "tests/vitals/vitals_test_util.h"

namespace fg {
namespace {

constexpr double kPi = std::numbers::pi;

// RGB traces of skin: base colour x (1 + pulse along the blood-volume signature
// [0.33, 0.77, 0.53] (de Haan 2014) x amplitude), x a common illumination drift, plus a common
// specular / motion component (same in all channels), plus independent sensor noise.
struct TraceSpec {
  double bpm = 72;
  double amplitude = 0.004;    // relative pulse amplitude (green: 0.77 of it)
  double noise = 0.1;          // grey levels, per channel and frame (a region mean: ~1000 px
                               // of sensor noise sigma 3)
  double drift = 0.08;         // relative illumination drift amplitude (0.03 Hz + linear)
  double specular = 0.4;       // grey levels, common to all channels, 0.2-0.45 Hz wobble
  double motion = 0;           // relative intensity wobble (all channels alike) at motion_hz
  double motion_hz = 2.1;
};

struct Trace {
  std::vector<double> t;
  std::vector<float> r, g, b;
};

double PulseAt(double t, double hz) {
  // Not a pure sine: a systolic peak and a dicrotic bump (first harmonic at 0.35).
  const double ph = 2 * kPi * hz * t;
  return std::sin(ph) + 0.35 * std::sin(2 * ph + 0.8);
}

Trace MakeTrace(const std::vector<double>& times, const TraceSpec& s, std::mt19937* rng) {
  std::normal_distribution<double> n(0, 1);
  Trace tr;
  tr.t = times;
  const double base[3] = {160, 115, 95}, sig[3] = {0.33, 0.77, 0.53};
  const double T = times.back() + 1e-9;
  for (double t : times) {
    const double light = 1 + s.drift * (std::sin(2 * kPi * 0.03 * t) + t / T);
    const double spec = s.specular * (std::sin(2 * kPi * 0.2 * t) + 0.5 * std::sin(2 * kPi * 0.45 * t + 1));
    const double p = PulseAt(t, s.bpm / 60);
    const double wobble = 1 + s.motion * std::sin(2 * kPi * s.motion_hz * t + 0.3);
    float* out[3] = {nullptr, nullptr, nullptr};
    tr.r.push_back(0), tr.g.push_back(0), tr.b.push_back(0);
    out[0] = &tr.r.back(), out[1] = &tr.g.back(), out[2] = &tr.b.back();
    for (int k = 0; k < 3; ++k)
      *out[k] = static_cast<float>(base[k] * light * wobble * (1 + s.amplitude * sig[k] * p) + spec + s.noise * n(*rng));
  }
  return tr;
}

std::vector<double> Uniform(double fps, double seconds) {
  std::vector<double> t;
  for (int i = 0; i < static_cast<int>(seconds * fps); ++i) t.push_back(i / fps);
  return t;
}

// The estimator's single-node chain: resample to 30 Hz, method, band-pass, Welch over the last
// 10 s, interpolated peak. Returns bpm; *snr if given.
double EstimateBpm(const Trace& tr, RppgMethod m, double* snr = nullptr) {
  const double fs = 30;
  const int n = static_cast<int>(std::floor((tr.t.back() - tr.t.front()) * fs)) + 1;
  std::vector<float> r(n), g(n), b(n), h(n), scratch;
  ResampleLinear(tr.t, tr.r, tr.t.front(), fs, r);
  ResampleLinear(tr.t, tr.g, tr.t.front(), fs, g);
  ResampleLinear(tr.t, tr.b, tr.t.front(), fs, b);
  ApplyMethod(m, r, g, b, fs, h);
  const VitalsOptions o;  // the estimator's band-pass corners, search band and peak rule
  BandPass(fs, o.filter_lo_hz, o.filter_hi_hz).Apply(h, &scratch);
  const int wn = std::min(n, 300);
  Welch welch(fs, 240, 30, 2048);
  Spectrum s;
  welch.Compute(std::span<const float>(h).subspan(n - wn), &s);
  const SpectralPeak pk = FindPulsePeak(s, o.band_lo_hz, o.band_hi_hz, o.subharmonic_ratio);
  if (snr) *snr = SnrDb(s, pk.hz, 0.7, 3.5);
  return 60 * pk.hz;
}

TEST(Rppg, MethodNamesRoundTrip) {
  for (RppgMethod m : kAllRppgMethods) EXPECT_EQ(RppgMethodFromName(RppgMethodName(m)), m);
  EXPECT_FALSE(RppgMethodFromName("ica"));
}

TEST(Rppg, EveryMethodRecoversThePulseFrom45To180Bpm) {
  std::mt19937 rng(42);
  std::printf("[ methods ] |error| bpm on 15 s traces at 30 fps (drift, specular, noise)\n   bpm ");
  for (RppgMethod m : kAllRppgMethods) std::printf(" %6s", std::string(RppgMethodName(m)).c_str());
  std::printf("\n");
  double worst[6] = {};
  for (double bpm : {45.0, 52.0, 60.0, 72.0, 85.0, 100.0, 117.0, 130.0, 150.0, 165.0, 180.0}) {
    TraceSpec spec;
    spec.bpm = bpm;
    const Trace tr = MakeTrace(Uniform(30, 15), spec, &rng);
    std::printf("  %5.1f ", bpm);
    int i = 0;
    for (RppgMethod m : kAllRppgMethods) {
      const double err = std::abs(EstimateBpm(tr, m) - bpm);
      worst[i] = std::max(worst[i], err);
      ++i;
      std::printf(" %6.2f", err);
      EXPECT_LE(err, 1.5) << RppgMethodName(m) << " at " << bpm << " bpm";
    }
    std::printf("\n");
  }
  std::printf("  worst ");
  for (double w : worst) std::printf(" %6.2f", w);
  std::printf("\n");
}

TEST(Rppg, ColourModelsRejectInBandIntensityMotion) {
  // An intensity wobble at 2.1 Hz (head bobbing, a flickering light), the same in all channels
  // and twice the pulse's green amplitude: GREEN locks onto it; the colour models (CHROM, POS,
  // LGI, PBV, OMIT) project intensity out and keep the pulse.
  std::mt19937 rng(11);
  int green_wrong = 0;
  std::printf("[ motion ] |error| bpm  green  chrom    pos    lgi    pbv   omit\n");
  for (double bpm : {50.0, 80.0, 110.0, 150.0}) {
    TraceSpec spec;
    spec.bpm = bpm;
    spec.motion = 0.006;
    const Trace tr = MakeTrace(Uniform(30, 15), spec, &rng);
    std::printf("              %5.1f  ", bpm);
    for (RppgMethod m : kAllRppgMethods) {
      const double err = std::abs(EstimateBpm(tr, m) - bpm);
      std::printf(" %6.2f", err);
      if (m == RppgMethod::kGreen) {
        green_wrong += err > 1.5;
      } else {
        EXPECT_LE(err, 1.5) << RppgMethodName(m) << " at " << bpm << " bpm";
      }
    }
    std::printf("\n");
  }
  EXPECT_EQ(green_wrong, 4) << "GREEN has no way to tell intensity from pulse";
}

TEST(Rppg, ResamplingCopesWithJitterAndDroppedFrames) {
  // Frame times jittered by +-20% of the frame interval, 10% of the frames dropped at random
  // and a burst of 6 consecutive frames lost.
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> jitter(-0.2, 0.2), u(0, 1);
  std::vector<double> t;
  for (int i = 0; i < 450; ++i) {
    if (u(rng) < 0.1 || (i >= 200 && i < 206)) continue;
    t.push_back((i + jitter(rng)) / 30.0);
  }
  // The resampled sine matches the true one on the grid (linear interpolation error only).
  {
    std::vector<float> x;
    for (double ti : t) x.push_back(static_cast<float>(std::sin(2 * kPi * 1.3 * ti)));
    std::vector<float> y(400);
    ResampleLinear(t, x, 0.5, 30, y);
    double se = 0;
    for (int k = 0; k < 400; ++k) se += std::pow(y[k] - std::sin(2 * kPi * 1.3 * (0.5 + k / 30.0)), 2);
    const double rms = std::sqrt(se / 400);
    std::printf("[ resample ] %zu of 450 frames, jitter +-20%%: RMS error of a 1.3 Hz unit sine %.4f\n", t.size(), rms);
    EXPECT_LT(rms, 0.05);
  }
  std::printf("[ jitter ] |error| bpm  green  chrom    pos    lgi    pbv   omit\n");
  for (double bpm : {48.0, 75.0, 110.0, 170.0}) {
    TraceSpec spec;
    spec.bpm = bpm;
    const Trace tr = MakeTrace(t, spec, &rng);
    std::printf("              %5.1f  ", bpm);
    for (RppgMethod m : kAllRppgMethods) {
      const double est = EstimateBpm(tr, m);
      std::printf(" %6.2f", std::abs(est - bpm));
      EXPECT_LE(std::abs(est - bpm), 1.5) << RppgMethodName(m) << " at " << bpm << " bpm: " << est;
    }
    std::printf("\n");
  }
}

TEST(Rppg, PeakInterpolationIsWithinAFifthOfABpm) {
  // Clean sines between bins (bins are 30/2048 Hz = 0.88 bpm apart), the estimator's Welch
  // configuration (10 s, 8 s segments).
  Welch welch(30, 240, 30, 2048);
  double worst = 0;
  for (double hz = 0.75; hz < 3.45; hz += 0.0937) {
    std::vector<float> x(300);
    for (int i = 0; i < 300; ++i) x[i] = static_cast<float>(std::sin(2 * kPi * hz * i / 30.0 + 0.3));
    Spectrum s;
    welch.Compute(x, &s);
    const SpectralPeak pk = FindPeak(s, 0.7, 3.5);
    const double bin_err = std::abs(hz / s.df - std::round(hz / s.df));
    const double err = 60 * std::abs(pk.hz - hz);
    worst = std::max(worst, err);
    EXPECT_LE(err, 0.2) << hz << " Hz (" << bin_err << " bins off the grid)";
  }
  std::printf("[ peak ] worst interpolation error %.4f bpm over 0.75-3.45 Hz\n", worst);
}

// A Welch spectrum (the estimator's configuration: 10 s at 30 Hz, 8 s segments) of tones at
// the given frequencies (Hz) and amplitudes.
Spectrum TonesSpectrum(const std::vector<std::pair<double, double>>& tones) {
  std::vector<float> x(300);
  for (int i = 0; i < 300; ++i) {
    double v = 0;
    for (auto [hz, a] : tones) v += a * std::sin(2 * kPi * hz * i / 30.0 + hz);
    x[i] = static_cast<float>(v);
  }
  Spectrum s;
  Welch(30, 240, 30, 2048).Compute(x, &s);
  return s;
}

TEST(Rppg, PulsePeakPrefersTheFundamentalOverAStrongerHarmonic) {
  // 45 bpm whose fundamental lost to its 2nd harmonic (amplitude 0.8 vs 1: power 0.64 of it,
  // above the 0.5 rule) or its 3rd (0.75 vs 1): the plain strongest bin reads 90 or 135 bpm,
  // the pulse peak 45.
  const Spectrum h2 = TonesSpectrum({{0.75, 0.8}, {1.5, 1.0}});
  EXPECT_NEAR(60 * FindPeak(h2, 0.7, 3.5).hz, 90, 0.5);
  EXPECT_NEAR(60 * FindPulsePeak(h2, 0.7, 3.5, 0.5).hz, 45, 0.5);
  EXPECT_NEAR(60 * FindPulsePeak(h2, 0.7, 3.5, 0).hz, 90, 0.5) << "ratio 0 turns the check off";
  const Spectrum h3 = TonesSpectrum({{0.75, 0.75}, {2.25, 1.0}});
  EXPECT_NEAR(60 * FindPeak(h3, 0.7, 3.5).hz, 135, 0.5);
  EXPECT_NEAR(60 * FindPulsePeak(h3, 0.7, 3.5, 0.5).hz, 45, 0.5);
  // A real 90 bpm pulse with its harmonics and a weaker component at 45 bpm (amplitude 0.6:
  // power 0.36 of the pulse's, under the 0.5 rule) stays at 90.
  const Spectrum p90 = TonesSpectrum({{0.75, 0.6}, {1.5, 1.0}, {3.0, 0.5}});
  EXPECT_NEAR(60 * FindPulsePeak(p90, 0.7, 3.5, 0.5).hz, 90, 0.5);
  // 60 bpm with a 2nd harmonic of 0.5: nothing at 30 bpm (outside the band anyway) or 40.
  const Spectrum p60 = TonesSpectrum({{1.0, 1.0}, {2.0, 0.5}, {3.0, 0.3}});
  EXPECT_NEAR(60 * FindPulsePeak(p60, 0.7, 3.5, 0.5).hz, 60, 0.5);
  // Only a local maximum is a peak: a strong 0.55 Hz component (breathing-rate motion) whose
  // skirt is the strongest bin at the 0.7 Hz band edge does not hide a weaker 72 bpm pulse.
  const Spectrum skirt = TonesSpectrum({{0.55, 3.0}, {1.2, 0.4}});
  EXPECT_NEAR(60 * FindPeak(skirt, 0.7, 3.5).hz, 42, 0.5) << "the plain maximum is the band edge";
  EXPECT_NEAR(60 * FindPulsePeak(skirt, 0.7, 3.5, 0.5).hz, 72, 0.5);
}

// One 10 s window (30 Hz, the estimator's Welch) of a pulse at `hz` (fundamental 1, 2nd
// harmonic 0.5) plus a tone at `noise_hz` of amplitude `noise_amp` and white noise.
Spectrum WindowSpectrum(double hz, double noise_hz, double noise_amp, double white, std::mt19937* rng) {
  std::normal_distribution<double> n(0, 1);
  std::uniform_real_distribution<double> ph(0, 2 * kPi);
  const double p1 = ph(*rng), p2 = ph(*rng), p3 = ph(*rng);
  std::vector<float> x(300);
  for (int i = 0; i < 300; ++i) {
    const double t = i / 30.0;
    x[i] = static_cast<float>(std::sin(2 * kPi * hz * t + p1) + 0.5 * std::sin(4 * kPi * hz * t + p2) +
                              noise_amp * std::sin(2 * kPi * noise_hz * t + p3) + white * n(*rng));
  }
  Spectrum s;
  Welch(30, 240, 30, 2048).Compute(x, &s);
  return s;
}

TEST(RateTracker, FirstUpdateIsTheWindowsOwnPeak) {
  std::mt19937 rng(21);
  const Spectrum s = WindowSpectrum(1.3, 0.9, 0.3, 0.2, &rng);
  const double pick = FindPulsePeak(s, 0.7, 3.5).hz;
  RateTracker tr(s.df, 0.7, 3.5, RateTrackerOptions{});
  EXPECT_FALSE(tr.started());
  EXPECT_DOUBLE_EQ(tr.Update(s, pick, 1.0), pick);
  EXPECT_TRUE(tr.started());
  // A spectrum of another bin width is not tracked: the pick comes back unchanged.
  Spectrum other = s;
  other.df *= 2;
  EXPECT_DOUBLE_EQ(tr.Update(other, 2.0, 1.0), 2.0);
}

TEST(RateTracker, WindowsLostToNoiseDoNotMoveTheRate) {
  // 108 bpm; every third window a noise tone at 62 bpm is 1.6x the pulse (the window's own peak
  // reads 62 there), as on real compressed video. The tracked rate stays at 108.
  for (unsigned seed : {3u, 4u}) {
    std::mt19937 rng(seed);
    RateTracker tr(30.0 / 2048, 0.7, 3.5, RateTrackerOptions{});
    int raw_wrong = 0;
    double worst = 0;
    for (int u = 0; u < 30; ++u) {
      const bool noisy = u % 3 == 2;
      const Spectrum s = WindowSpectrum(1.8, 62 / 60.0, noisy ? 1.6 : 0.4, 0.3, &rng);
      const double pick = FindPulsePeak(s, 0.7, 3.5, 0.5, 0).hz;
      raw_wrong += std::abs(60 * pick - 108) > 5;
      worst = std::max(worst, std::abs(60 * tr.Update(s, pick, 1.0) - 108));
    }
    std::printf("[ tracker ] seed %u: windows whose own peak is off by > 5 bpm %d of 30, tracked worst %.2f bpm\n",
                seed, raw_wrong, worst);
    EXPECT_GE(raw_wrong, 8) << "the test must hold windows lost to the noise";
    EXPECT_LT(worst, 2.0) << "seed " << seed;
  }
}

TEST(RateTracker, FollowsARealChangeAndLeavesALockOnNoise) {
  std::mt19937 rng(8);
  RateTracker tr(30.0 / 2048, 0.7, 3.5, RateTrackerOptions{});
  // A ramp from 70 to 100 bpm at 1 bpm a second: within 3 bpm all along.
  double worst = 0;
  for (int u = 0; u <= 30; ++u) {
    const double bpm = 70 + u;
    const Spectrum s = WindowSpectrum(bpm / 60, 2.9, 0.2, 0.3, &rng);
    worst = std::max(worst, std::abs(60 * tr.Update(s, FindPulsePeak(s, 0.7, 3.5).hz, 1.0) - bpm));
  }
  std::printf("[ tracker ] ramp 70-100 bpm: worst %.2f bpm\n", worst);
  EXPECT_LT(worst, 3.0);
  // Then the pulse is gone and a noise tone at 150 bpm holds 10 windows; when the pulse (now 80)
  // comes back, the tracker is there within 6 updates.
  for (int u = 0; u < 10; ++u) {
    const Spectrum s = WindowSpectrum(2.5, 2.5, 0.0, 0.3, &rng);
    tr.Update(s, FindPulsePeak(s, 0.7, 3.5).hz, 1.0);
  }
  int back = -1;
  for (int u = 0; u < 15 && back < 0; ++u) {
    const Spectrum s = WindowSpectrum(80 / 60.0, 2.5, 0.3, 0.3, &rng);
    if (std::abs(60 * tr.Update(s, FindPulsePeak(s, 0.7, 3.5).hz, 1.0) - 80) < 2) back = u + 1;
  }
  std::printf("[ tracker ] back on the pulse after %d updates\n", back);
  EXPECT_GE(back, 1);
  EXPECT_LE(back, 6);
}

TEST(RateTracker, TheWindowsSubharmonicChoiceIsKept) {
  // 45 bpm whose 2nd harmonic is stronger (FindPulsePeak's sub-harmonic rule picks 45): the
  // tracker reads 45 on every update, not the harmonic's 90.
  const Spectrum h2 = TonesSpectrum({{0.75, 0.8}, {1.5, 1.0}});
  const double pick = FindPulsePeak(h2, 0.7, 3.5, 0.5).hz;
  ASSERT_NEAR(60 * pick, 45, 0.5);
  RateTracker tr(h2.df, 0.7, 3.5, RateTrackerOptions{});
  for (int u = 0; u < 10; ++u) EXPECT_NEAR(60 * tr.Update(h2, pick, 1.0), 45, 0.5) << "update " << u;
}

TEST(Rppg, SnrIsHigherForAPulseThanForNoise) {
  std::mt19937 rng(9);
  TraceSpec clean;
  clean.bpm = 80;
  TraceSpec noise = clean;
  noise.amplitude = 0;
  noise.noise = 1.0;
  double snr_clean, snr_noise;
  EstimateBpm(MakeTrace(Uniform(30, 15), clean, &rng), RppgMethod::kPos, &snr_clean);
  EstimateBpm(MakeTrace(Uniform(30, 15), noise, &rng), RppgMethod::kPos, &snr_noise);
  std::printf("[ snr ] clean pulse %.1f dB, noise %.1f dB\n", snr_clean, snr_noise);
  EXPECT_GT(snr_clean, snr_noise + 6);
}

TEST(Rppg, BandPassKeepsTheBandAndRejectsTheRest) {
  // 2nd-order high- and low-pass, forwards and backwards: 0.92 at 1.5 Hz (both skirts),
  // < 0.01 at 0.2 Hz, < 0.05 at 8 Hz.
  for (double hz : {0.2, 1.5, 8.0}) {
    std::vector<float> x(900), scratch;
    for (int i = 0; i < 900; ++i) x[i] = static_cast<float>(std::sin(2 * kPi * hz * i / 30.0));
    BandPass(30, 0.7, 3.5).Apply(x, &scratch);
    double p = 0;
    for (int i = 300; i < 600; ++i) p += x[i] * x[i];
    const double gain = std::sqrt(p / 150);  // rms / (1 / sqrt 2)
    if (hz == 1.5) {
      EXPECT_NEAR(gain, 0.92, 0.03) << hz;
    } else {
      EXPECT_LT(gain, hz < 1 ? 0.01 : 0.05) << hz;
    }
  }
}

TEST(Rppg, EstimatorBandPassIsFlatAtTheSearchBandsLowEdge) {
  // The estimator's corners (0.5, 4 Hz) lie outside the 0.7-3.5 Hz search band. A 45 bpm
  // fundamental (0.75 Hz) keeps >= 0.8 of its amplitude (2nd-order Butterworth, both
  // directions: 0.835) where a 0.7 Hz corner kept 0.57, and its 2nd harmonic (1.5 Hz) is
  // passed nearly whole, so the band-pass no longer tips the balance towards the harmonic.
  const VitalsOptions o;
  auto gain = [](double lo, double hi, double hz) {
    std::vector<float> x(900), scratch;
    for (int i = 0; i < 900; ++i) x[i] = static_cast<float>(std::sin(2 * kPi * hz * i / 30.0));
    BandPass(30, lo, hi).Apply(x, &scratch);
    double p = 0;
    for (int i = 300; i < 600; ++i) p += x[i] * x[i];
    return std::sqrt(p / 150);
  };
  const double g45 = gain(o.filter_lo_hz, o.filter_hi_hz, 0.75), g90 = gain(o.filter_lo_hz, o.filter_hi_hz, 1.5);
  const double old45 = gain(0.7, 3.5, 0.75);
  std::printf("[ band ] amplitude gain at 0.75 Hz %.3f (0.7 Hz corner: %.3f), at 1.5 Hz %.3f\n", g45, old45, g90);
  EXPECT_GE(g45, 0.8);
  EXPECT_NEAR(old45, 0.57, 0.03);
  EXPECT_GE(g90, 0.95);
}

TEST(Rppg, DetrendRemovesDriftAndKeepsTheSignal) {
  // 20 s at 30 Hz: a ramp plus a 0.02 Hz swing (drift) plus a 0.25 Hz breath; a 10 s window.
  std::vector<float> x(600), scratch;
  for (int i = 0; i < 600; ++i) {
    const double t = i / 30.0;
    x[i] = static_cast<float>(100 + 2 * t + 5 * std::sin(2 * kPi * 0.02 * t) + std::sin(2 * kPi * 0.25 * t));
  }
  DetrendMovingAverage(x, 30, 10, &scratch);
  double err = 0;
  for (int i = 150; i < 450; ++i) err = std::max(err, std::abs(x[i] - std::sin(2 * kPi * 0.25 * i / 30.0)));
  EXPECT_LT(err, 0.35) << "away from the ends, what is left is the breath (within the kernel's ripple)";
}

// ---------------------------------------------------------------------------------------------
// The estimator fed with patch samples: every patch of the graph gets the trace of its skin,
// with independent noise per patch.
class Estimator : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    est_ = VitalsEstimator::Create(vitals_testing::Canonical(), opts_, &err);
    ASSERT_TRUE(est_) << err;
  }
  struct Feed {
    double bpm = 72, amplitude = 0.004, noise = 0.5, seconds = 15, fps = 30;
    double motion_px = 0;      // face centre wobble amplitude (px, 0.7 Hz)
    double light_step = 0;     // relative illumination step at half time
    double resp_hz = 0, resp_amplitude = 0;  // respiration: intensity modulation
    double hrv_hz = 0, hrv_depth = 0;        // heart-rate modulation (respiratory sinus arrhythmia)
    int bad_every = 0;         // every n-th patch: no pulse, 6x the noise
    double h2 = 0.35, h3 = 0;  // 2nd and 3rd harmonic amplitudes (fundamental 1)
    double gap_at = -1, gap_s = 0;  // no frames in [gap_at, gap_at + gap_s) (a stream gap)
  };
  // Pushes the frames, updating once a second as a caller would; returns the last result.
  const VitalsResult* Run(const Feed& f, int64_t id = 1, RppgMethod method = RppgMethod::kPos,
                          int laplacian_iterations = 2,
                          const std::function<void(const VitalsResult&)>& on_update = nullptr) {
    VitalsOptions o = opts_;
    o.method = method;
    o.laplacian_iterations = laplacian_iterations;
    std::string err;
    est_ = VitalsEstimator::Create(vitals_testing::Canonical(), o, &err);
    std::mt19937 rng(static_cast<unsigned>(id * 7 + 1));
    std::normal_distribution<double> n(0, 1);
    const int np = est_->graph().num_patches();
    PatchSamples ps;
    ps.rgb.resize(np);
    ps.weight.assign(np, 200.0f);
    const double base[3] = {160, 115, 95}, sig[3] = {0.33, 0.77, 0.53};
    double phase = 0;
    const int frames = static_cast<int>(f.seconds * f.fps);
    for (int i = 0; i < frames; ++i) {
      const double t = i / f.fps;
      const double hr = f.bpm / 60 * (1 + f.hrv_depth * std::sin(2 * kPi * f.hrv_hz * t));
      phase += 2 * kPi * hr / f.fps;
      const double p = std::sin(phase) + f.h2 * std::sin(2 * phase + 0.8) + f.h3 * std::sin(3 * phase + 1.9);
      double light = 1 + 0.03 * std::sin(2 * kPi * 0.05 * t) + f.resp_amplitude * std::sin(2 * kPi * f.resp_hz * t);
      if (f.light_step != 0 && t > f.seconds / 2) light *= 1 + f.light_step;
      for (int q = 0; q < np; ++q) {
        const bool bad = f.bad_every > 0 && q % f.bad_every == 0;
        for (int k = 0; k < 3; ++k)
          ps.rgb[q][k] = static_cast<float>(base[k] * light * (1 + (bad ? 0 : f.amplitude) * sig[k] * p) +
                                            (bad ? 6 : 1) * f.noise * n(rng));
      }
      const float wob = static_cast<float>(f.motion_px * std::sin(2 * kPi * 0.7 * t));
      if (t >= f.gap_at && t < f.gap_at + f.gap_s) continue;  // lost in the stream
      est_->PushPatches(id, static_cast<int64_t>(std::llround(t * 1e9)), ps, {320 + wob, 240}, 150, HeadPose{});
      est_->UpdateDue();
      if (on_update && est_->Result(id) && est_->Result(id)->pts_ns == static_cast<int64_t>(std::llround(t * 1e9)))
        on_update(*est_->Result(id));
    }
    return est_->Result(id);
  }
  VitalsOptions opts_;
  std::unique_ptr<VitalsEstimator> est_;
};

TEST_F(Estimator, CleanPulseIsConfidentAndRight) {
  for (double bpm : {50.0, 75.0, 140.0}) {
    Feed f;
    f.bpm = bpm;
    const VitalsResult* r = Run(f);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->valid);
    std::printf("[ estimator ] %.0f bpm: got %.2f, SNR %.1f dB, confidence %.2f (fill %.2f snr %.2f motion %.2f light %.2f agree %.2f), %d patches\n",
                bpm, r->vitals.bpm, r->vitals.snr, r->vitals.confidence, r->fill, r->snr_factor, r->motion,
                r->light, r->agreement, r->patches_used);
    EXPECT_NEAR(r->vitals.bpm, bpm, 1.5);
    EXPECT_GT(r->vitals.confidence, 0.7);
    EXPECT_EQ(r->bvp.size(), 300u);
    EXPECT_EQ(r->bvp_fs, 30);
  }
}

TEST_F(Estimator, GraphSmoothingAndSnrWeightsOutweighNoisyPatches) {
  // One patch in three carries no pulse and six times the noise (say, hair or a shadow the
  // mask missed). The SNR weights push them down; the graph smoothing lends each patch its
  // neighbours' pulse. Fused SNR with and without the smoothing is printed.
  for (double bpm : {55.0, 95.0, 160.0}) {
    Feed f;
    f.bpm = bpm;
    f.noise = 0.6;
    f.bad_every = 3;
    const VitalsResult smooth = *Run(f, 1, RppgMethod::kPos, 2);
    const VitalsResult plain = *Run(f, 1, RppgMethod::kPos, 0);
    std::printf("[ graph ] %.0f bpm with noisy patches: smoothed %.2f bpm SNR %.1f dB conf %.2f; unsmoothed %.2f bpm SNR %.1f dB conf %.2f\n",
                bpm, smooth.vitals.bpm, smooth.vitals.snr, smooth.vitals.confidence, plain.vitals.bpm,
                plain.vitals.snr, plain.vitals.confidence);
    EXPECT_NEAR(smooth.vitals.bpm, bpm, 1.5);
    EXPECT_GT(smooth.vitals.confidence, 0.5);
  }
}

TEST_F(Estimator, WrongEstimatesAreNeverConfident) {
  // Noise from easy to hopeless (per patch and channel, with one patch in three bad): every
  // estimate more than 3 bpm off must come with confidence < 0.5.
  int runs = 0, wrong = 0, confident = 0, confident_wrong = 0;
  for (double noise : {0.5, 1.0, 1.5, 2.5})
    for (int seed = 1; seed <= 4; ++seed) {
      Feed f;
      f.bpm = 48 + 31 * seed + 3 * noise;
      f.noise = noise;
      f.bad_every = 3;
      const VitalsResult r = *Run(f, seed);
      const bool bad = std::abs(r.vitals.bpm - f.bpm) > 3;
      ++runs;
      wrong += bad;
      confident += r.vitals.confidence >= 0.5f;
      confident_wrong += bad && r.vitals.confidence >= 0.5f;
      EXPECT_FALSE(bad && r.vitals.confidence >= 0.5f)
          << "noise " << noise << " truth " << f.bpm << " got " << r.vitals.bpm << " with confidence " << r.vitals.confidence;
    }
  std::printf("[ calibration ] %d runs: %d wrong (> 3 bpm), %d confident (>= 0.5), %d confident and wrong\n", runs,
              wrong, confident, confident_wrong);
  EXPECT_GT(confident, 0) << "the easy cases must be confident";
}

TEST_F(Estimator, FortyFiveBpmWithStrongHarmonicsIsReadAt45) {
  // A realistic pulse waveform (2nd harmonic 0.5 of the fundamental, 3rd 0.3) at 45 bpm, the
  // fundamental at 0.75 Hz near the 0.7 Hz band edge, with patch noise as in the grid's
  // degraded conditions. The harmonic (90 bpm) must not win: the band-pass is flat over the
  // search band (corners 0.5 and 4 Hz) and the pulse peak has a sub-harmonic check. The
  // previous configuration (band-pass corner at 0.7 Hz, plain strongest bin) is run alongside
  // for the printout. Tolerance 1.5 bpm (the still-face MAE target).
  int old_wrong = 0;
  double abs_err = 0;
  for (int seed = 1; seed <= 6; ++seed) {
    Feed f;
    f.bpm = 45;
    f.h2 = 0.5;
    f.h3 = 0.3;
    f.noise = 1.5;
    opts_ = VitalsOptions{};
    const VitalsResult now = *Run(f, seed);
    // The ablations read each window's own peak (no rate tracking, which also keeps the
    // harmonic out once the fundamental has won a window).
    opts_.track_rate = false;
    opts_.filter_lo_hz = 0.7, opts_.filter_hi_hz = 3.5;
    const float check_only = Run(f, seed)->vitals.bpm;
    opts_.subharmonic_ratio = 0;
    const VitalsResult old = *Run(f, seed);
    opts_ = VitalsOptions{};
    opts_.track_rate = false;
    opts_.subharmonic_ratio = 0;
    const float filter_only = Run(f, seed)->vitals.bpm;
    opts_ = VitalsOptions{};
    old_wrong += std::abs(old.vitals.bpm - 45) > 10;
    std::printf("[ 45 bpm ] seed %d: %.2f bpm (SNR %.1f dB, confidence %.2f); corner 0.7 Hz without the check: %.2f "
                "bpm; only the check: %.2f; only the corners: %.2f\n",
                seed, now.vitals.bpm, now.vitals.snr, now.vitals.confidence, old.vitals.bpm, check_only, filter_only);
    EXPECT_LT(std::abs(now.vitals.bpm - 45), 10) << "seed " << seed << ": the harmonic won";
    abs_err += std::abs(now.vitals.bpm - 45);
  }
  // The target is a mean absolute error: over the 6 seeds, not per seed (the noisiest seed,
  // SNR -2.5 dB and confidence 0, reads 43.5).
  std::printf("[ 45 bpm ] MAE over 6 seeds %.2f bpm (target 1.5)\n", abs_err / 6);
  EXPECT_LE(abs_err / 6, 1.5);
  std::printf("[ 45 bpm ] previous configuration off by > 10 bpm in %d of 6 runs\n", old_wrong);
  EXPECT_GE(old_wrong, 1) << "the generated case must reproduce the harmonic error, or it proves nothing";
}

TEST_F(Estimator, PureNoiseIsNotConfident) {
  for (int seed = 1; seed <= 5; ++seed) {
    Feed f;
    f.amplitude = 0;
    f.noise = 1.0;
    const VitalsResult* r = Run(f, seed);
    ASSERT_TRUE(r);
    std::printf("[ noise ] seed %d: %.1f bpm, SNR %.1f dB, confidence %.2f\n", seed, r->vitals.bpm, r->vitals.snr, r->vitals.confidence);
    EXPECT_LT(r->vitals.confidence, 0.5);
  }
}

TEST_F(Estimator, PartialWindowIsNotConfident) {
  Feed f;
  f.seconds = 7;
  const VitalsResult* r = Run(f);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->valid);
  EXPECT_LT(r->fill, 1.0f);
  EXPECT_LT(r->vitals.confidence, 0.5);
  EXPECT_NEAR(r->vitals.bpm, 72, 3) << "an estimate is given, with low confidence";
  // Before min_seconds: nothing.
  f.seconds = 3;
  r = Run(f);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->valid);
  EXPECT_EQ(r->vitals.confidence, 0);
}

TEST_F(Estimator, MotionAndLightChangesLowerConfidence) {
  Feed still;
  const float c_still = Run(still)->vitals.confidence;
  Feed moving;
  moving.motion_px = 25;  // the face centre swings +-25 px (1/6 of its size)
  const VitalsResult rm = *Run(moving);  // copies: the next Run() replaces the estimator
  Feed step;
  step.light_step = 0.1;  // the light jumps by 10% mid-window
  const VitalsResult rl = *Run(step);
  std::printf("[ penalties ] still %.2f, moving %.2f (motion factor %.2f, bpm %.1f), light step %.2f (light factor %.2f, bpm %.1f)\n",
              c_still, rm.vitals.confidence, rm.motion, rm.vitals.bpm, rl.vitals.confidence, rl.light, rl.vitals.bpm);
  EXPECT_LT(rm.vitals.confidence, 0.5);
  EXPECT_LT(rm.motion, 0.2);
  EXPECT_LT(rl.vitals.confidence, 0.5);
  EXPECT_LT(rl.light, 0.2);
  EXPECT_GT(c_still, 0.7);
}

TEST_F(Estimator, AGapIsResampledAcrossAndLowersTheConfidence) {
  // Issue 13: a stream gap (DISCONT, lost packets) is not a restart. 2 s without frames at
  // 10 s of a 25 s run at 84 bpm: every update whose 10 s window holds the gap still reads the
  // rate (resampled across it; bound 1.5 bpm, the still-face target) but says so with the gaps
  // factor max_gap_s / gap (0.5 / 2 = 0.25) in its confidence; once the gap has left the window
  // the factor is back to 1.
  Feed f;
  f.bpm = 84;
  f.seconds = 25;
  f.gap_at = 10;
  f.gap_s = 2;
  int across = 0, after = 0;
  Run(f, 1, RppgMethod::kPos, 2, [&](const VitalsResult& r) {
    if (!r.valid) return;
    const double t = r.pts_ns * 1e-9;
    SCOPED_TRACE("update at " + std::to_string(t) + " s");
    if (t >= 12 && t - 10 < 10) {  // the window holds the gap
      ++across;
      EXPECT_NEAR(r.gaps, 0.25, 0.02);
      EXPECT_LE(r.vitals.confidence, 0.25f + 1e-6f);
      EXPECT_NEAR(r.vitals.bpm, 84, 1.5);
    } else if (t - 10 > 12.1) {
      ++after;
      EXPECT_FLOAT_EQ(r.gaps, 1.0f);
      EXPECT_NEAR(r.vitals.bpm, 84, 1.5);
    }
  });
  std::printf("[ gap ] %d updates across the 2 s gap, %d after it left the window\n", across, after);
  EXPECT_GE(across, 7);
  EXPECT_GE(after, 2);
}

TEST_F(Estimator, OldOrEqualTimestampsAreDroppedAndTracksAreSeparate) {
  const int np = est_->graph().num_patches();
  PatchSamples ps;
  ps.rgb.assign(np, {100, 100, 100});
  ps.weight.assign(np, 1);
  est_->PushPatches(7, 1000, ps, {0, 0}, 100, HeadPose{});
  est_->PushPatches(7, 1000, ps, {0, 0}, 100, HeadPose{});
  est_->PushPatches(7, 900, ps, {0, 0}, 100, HeadPose{});
  est_->PushPatches(8, 900, ps, {0, 0}, 100, HeadPose{});
  PatchSamples wrong;
  est_->PushPatches(8, 2000, wrong, {0, 0}, 100, HeadPose{});
  EXPECT_EQ(est_->dropped_frames(), 3);
  EXPECT_EQ(est_->Tracks().size(), 2u);
  EXPECT_EQ(est_->Result(7), nullptr);
  EXPECT_EQ(est_->UpdateDue(), 2);
  ASSERT_NE(est_->Result(7), nullptr);
  EXPECT_FALSE(est_->Result(7)->valid);
  est_->DropTracksBefore(950);
  EXPECT_EQ(est_->Tracks(), std::vector<int64_t>{7});
  est_->DropTrack(7);
  EXPECT_TRUE(est_->Tracks().empty());
  EXPECT_FALSE(est_->Update(7));
}

TEST_F(Estimator, UnseenSkinGivesNoEstimate) {
  // 12 s of a face whose skin is never visible (turned away, or fully outside the frame).
  const int np = est_->graph().num_patches();
  PatchSamples ps;
  ps.rgb.assign(np, {0, 0, 0});
  ps.weight.assign(np, 0);
  for (int i = 0; i < 360; ++i) est_->PushPatches(3, int64_t{i} * 33'333'333, ps, {0, 0}, 100, HeadPose{});
  ASSERT_TRUE(est_->Update(3));
  const VitalsResult* r = est_->Result(3);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->valid);
  EXPECT_EQ(r->vitals.confidence, 0);
  EXPECT_EQ(r->patches_used, 0);
}

TEST_F(Estimator, HrvAndRespirationAfterThirtySeconds) {
  Feed f;
  f.seconds = 32;
  f.bpm = 70;
  f.hrv_hz = 0.25;  // sinus arrhythmia at the breathing rate (15 per minute)
  f.hrv_depth = 0.06;
  f.resp_hz = 0.25;
  f.resp_amplitude = 0.004;
  f.noise = 0.2;  // per patch and channel: ~100 px of sensor noise sigma 2
  const VitalsResult* r = Run(f);
  ASSERT_TRUE(r);
  // Truth: instantaneous rate 70 bpm x (1 +- 6%) at 0.25 Hz: intervals 857 ms +- ~51 ms
  // peak, i.e. SDNN ~ 51 / sqrt 2 = 36 ms, RMSSD ~ 2 sin(pi 0.25 0.857) x 36 ms = 45 ms.
  std::printf("[ hrv ] valid %d, %zu intervals, SDNN %.1f ms, RMSSD %.1f ms; respiration valid %d %.2f /min SNR %.1f dB; bpm %.1f conf %.2f\n",
              r->hrv_valid, r->ibi_ms.size(), r->sdnn_ms, r->rmssd_ms, r->resp_valid, r->resp_bpm,
              r->resp_snr_db, r->vitals.bpm, r->vitals.confidence);
  ASSERT_TRUE(r->hrv_valid);
  EXPECT_GE(r->ibi_ms.size(), 30u);
  double mean = 0;
  for (double v : r->ibi_ms) mean += v;
  mean /= r->ibi_ms.size();
  EXPECT_NEAR(mean, 60000.0 / 70, 15);
  EXPECT_NEAR(r->sdnn_ms, 36, 12);
  EXPECT_NEAR(r->rmssd_ms, 45, 15);
  ASSERT_TRUE(r->resp_valid);
  EXPECT_NEAR(r->resp_bpm, 15, 1.5);
  // Without 30 s there is no HRV.
  f.seconds = 20;
  r = Run(f);
  EXPECT_FALSE(r->hrv_valid);
}

// The defect found on real compressed video (UBFC-rPPG, docs/eval/vitals.md), as generated
// data: a face whose skin carries a weak pulse at 110 bpm everywhere, and whose many tiny
// patches at its edge (a few pixels each) are also partly covered by the background as the face
// sways at 51 bpm, a colour change common to them all. Per patch
// the tiny ones have the clearer spectrum, so weighting unit-variance patches by their own SNR
// (PatchFusion::kSnr, the design before) reads 51 bpm; weighting by pixels over variance reads
// the skin's 110. 4 x 4 grid: the diagonal's 4 cells are skin (400 px each), the 12 others
// edge (4 px each, up to 8 % covered by the wall). Tolerance 3 bpm.
double FusedBpm(PatchFusion fusion, unsigned seed) {
  VitalsOptions o;
  o.fusion = fusion;
  if (fusion == PatchFusion::kSnr) {  // the design before, whole: no spectral tilt, no tracking
    o.spectral_tilt = 0;
    o.track_rate = false;
  }
  std::string err;
  auto est = VitalsEstimator::Create(GridLayout(4, 4), o, &err);
  EXPECT_TRUE(est) << err;
  if (!est) return 0;
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  PatchSamples ps;
  ps.rgb.resize(16);
  ps.weight.resize(16);
  const double base[3] = {160, 115, 95}, sig[3] = {0.33, 0.77, 0.53};
  const double fps = 30;
  for (int i = 0; i < 15 * 30; ++i) {
    const double t = i / fps;
    const double pulse = 0.003 * std::sin(2 * kPi * 110 / 60 * t);
    // The share of an edge patch that the background (a blue-grey wall) covers as the face moves.
    const double cover = 0.04 * (1 + std::sin(2 * kPi * 51 / 60 * t + 0.4));
    const double wall[3] = {90, 110, 150};
    for (int q = 0; q < 16; ++q) {
      const bool skin = q % 5 == 0;  // the diagonal: every region but two holds skin and edge
      ps.weight[q] = skin ? 400.0f : 4.0f;
      // Noise of a mean over the patch's pixels: sigma 8 grey levels per pixel (sensor and
      // compression blocks).
      const double noise = 8.0 / std::sqrt(ps.weight[q]);
      for (int k = 0; k < 3; ++k) {
        const double c = base[k] * (1 + pulse * sig[k]);
        ps.rgb[q][k] = static_cast<float>((skin ? c : (1 - cover) * c + cover * wall[k]) + noise * n(rng));
      }
    }
    est->PushPatches(0, static_cast<int64_t>(std::llround(t * 1e9)), ps, {320, 240}, 150, HeadPose{});
    est->UpdateDue();
  }
  const VitalsResult* r = est->Result(0);
  EXPECT_TRUE(r && r->valid);
  return r && r->valid ? r->vitals.bpm : 0;
}

TEST(VitalsFusion, SmallNoisyPatchesDoNotOutvoteTheSkin) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const double now = FusedBpm(PatchFusion::kPixels, seed), before = FusedBpm(PatchFusion::kSnr, seed);
    std::printf("[ fusion ] seed %u: pixels over variance %.2f bpm, SNR at unit variance (before) %.2f bpm; truth 110\n",
                seed, now, before);
    EXPECT_NEAR(now, 110, 3) << "seed " << seed;
    EXPECT_GT(std::abs(before - 110), 10) << "the old fusion should fail here, or the test no longer shows the defect";
  }
}

TEST(VitalsFusion, NoiseAtHalfTheRateIsNotTakenForTheFundamental) {
  // A weak pulse at 116 bpm (2nd harmonic 0.4) in broadband noise (tones every 0.037 Hz at
  // random phases, amplitude 0.25) plus a noise peak at 58 bpm (amplitude 0.75): the
  // sub-harmonic rule alone (ratio 0.5) halves the rate, as it did on real video; the
  // sub-harmonic reading must itself be a clear pulse (the default subharmonic_min_snr_db,
  // 0 dB; here it scores about -2 dB), so 116 stays. The clean 45 bpm case of
  // PulsePeakPrefersTheFundamentalOverAStrongerHarmonic still switches with the default.
  // Tolerance 3 bpm (the noise moves the peak by up to 2.4).
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> phase(0, 2 * kPi);
  std::vector<std::pair<double, double>> tones = {{116 / 60.0, 1.0}, {2 * 116 / 60.0, 0.4}, {58 / 60.0, 0.75}};
  std::vector<double> phases = {0.3, 1.1, 2.0};
  for (double hz = 0.71; hz < 3.5; hz += 0.037) tones.push_back({hz, 0.25}), phases.push_back(phase(rng));
  std::vector<float> x(300);
  for (int i = 0; i < 300; ++i) {
    double v = 0;
    for (size_t k = 0; k < tones.size(); ++k)
      v += tones[k].second * std::sin(2 * kPi * tones[k].first * i / 30.0 + phases[k]);
    x[i] = static_cast<float>(v);
  }
  Spectrum s;
  Welch(30, 240, 30, 2048).Compute(x, &s);
  const VitalsOptions o;
  const double plain = 60 * FindPeak(s, 0.7, 3.5).hz, rule = 60 * FindPulsePeak(s, 0.7, 3.5, 0.5).hz;
  const double now = 60 * FindPulsePeak(s, 0.7, 3.5, o.subharmonic_ratio, o.subharmonic_min_snr_db).hz;
  std::printf("[ half rate ] strongest bin %.1f bpm, the rule alone %.1f, with the SNR condition %.1f; SNR of the "
              "sub-harmonic reading %.1f dB\n", plain, rule, now, SnrDb(s, rule / 60, 0.7, 3.5));
  EXPECT_NEAR(plain, 116, 3);
  EXPECT_NEAR(rule, 58, 3) << "the rule alone must halve here, or the test no longer shows the defect";
  EXPECT_NEAR(now, 116, 3);
  const Spectrum h2 = TonesSpectrum({{0.75, 0.8}, {1.5, 1.0}});
  EXPECT_NEAR(60 * FindPulsePeak(h2, 0.7, 3.5, o.subharmonic_ratio, o.subharmonic_min_snr_db).hz, 45, 0.5);
}

}  // namespace
}  // namespace fg
