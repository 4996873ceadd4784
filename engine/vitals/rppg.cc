#include "engine/vitals/rppg.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <numeric>

#include <Eigen/Dense>

namespace fg {

namespace {

constexpr double kPi = std::numbers::pi;

// Centred box average of width w (odd) with shrinking windows at the ends.
void BoxAverage(std::span<const float> in, int w, std::span<float> out, std::vector<double>* prefix) {
  const int n = static_cast<int>(in.size());
  prefix->assign(n + 1, 0.0);
  for (int i = 0; i < n; ++i) (*prefix)[i + 1] = (*prefix)[i] + in[i];
  const int h = w / 2;
  for (int i = 0; i < n; ++i) {
    const int a = std::max(0, i - h), b = std::min(n, i + h + 1);
    out[i] = static_cast<float>(((*prefix)[b] - (*prefix)[a]) / (b - a));
  }
}

}  // namespace

std::string_view RppgMethodName(RppgMethod m) {
  switch (m) {
    case RppgMethod::kGreen: return "green";
    case RppgMethod::kChrom: return "chrom";
    case RppgMethod::kPos: return "pos";
    case RppgMethod::kLgi: return "lgi";
    case RppgMethod::kPbv: return "pbv";
    case RppgMethod::kOmit: return "omit";
  }
  return "?";
}

std::optional<RppgMethod> RppgMethodFromName(std::string_view name) {
  for (RppgMethod m : kAllRppgMethods)
    if (RppgMethodName(m) == name) return m;
  return std::nullopt;
}

void ResampleLinear(std::span<const double> t, std::span<const float> x, double t0, double fs,
                    std::span<float> out) {
  const size_t m = std::min(t.size(), x.size());
  if (m == 0) {
    std::fill(out.begin(), out.end(), 0.0f);
    return;
  }
  size_t j = 0;
  for (size_t k = 0; k < out.size(); ++k) {
    const double tk = t0 + static_cast<double>(k) / fs;
    while (j + 1 < m && t[j + 1] <= tk) ++j;
    if (tk <= t[0]) out[k] = x[0];
    else if (j + 1 >= m) out[k] = x[m - 1];
    else {
      const double dt = t[j + 1] - t[j];
      const double a = dt > 0 ? (tk - t[j]) / dt : 0.0;
      out[k] = static_cast<float>(x[j] + a * (x[j + 1] - x[j]));
    }
  }
}

void DetrendMovingAverage(std::span<float> x, double fs, double window_s,
                          std::vector<float>* scratch) {
  const int n = static_cast<int>(x.size());
  if (n < 3) return;
  const int w = std::max(1, static_cast<int>(std::lround(window_s * fs / 2)) | 1);
  scratch->resize(2 * n);
  std::span<float> a(scratch->data(), n), b(scratch->data() + n, n);
  std::vector<double> prefix;
  BoxAverage(x, w, a, &prefix);
  BoxAverage(a, w, b, &prefix);
  for (int i = 0; i < n; ++i) x[i] -= b[i];
}

// ---------------------------------------------------------------------------------------------
// The methods. Each takes one window of mean-normalised traces Cn (3 x L, every row's mean is
// 1; row-major in `cn`: R then G then B) and writes that window's pulse h (L samples);
// ApplyMethod overlap-adds h - mean(h). Plain loops and fixed-size 3x3 algebra: this runs for
// every sample of every patch once a second, and must stay cheap in Debug builds too.
namespace {

double StdDev(const double* v, int n) {
  double m = 0, s = 0;
  for (int i = 0; i < n; ++i) m += v[i];
  m /= n;
  for (int i = 0; i < n; ++i) s += (v[i] - m) * (v[i] - m);
  return std::sqrt(s / n);
}

// GREEN. Verkruysse, Svaasand, Nelson, "Remote plethysmographic imaging using ambient light",
// Optics Express 16(26), 2008: h = Gn.
void Green(const double* cn, int n, double* h) {
  for (int i = 0; i < n; ++i) h[i] = cn[n + i];
}

// CHROM. de Haan, Jeanne, "Robust pulse rate from chrominance-based rPPG", IEEE TBME 60(10),
// 2013, eqs. 9-11: Xs = 3 Rn - 2 Gn, Ys = 1.5 Rn + Gn - 1.5 Bn, S = Xs - alpha Ys with
// alpha = sigma(Xs) / sigma(Ys). (The paper band-passes Xs and Ys before alpha; here alpha is
// taken per 1.6 s window on the unfiltered chrominances, where drift is negligible.)
void Chrom(const double* cn, int n, double* h, double* tmp) {
  const double *r = cn, *g = cn + n, *b = cn + 2 * n;
  double* y = tmp;
  for (int i = 0; i < n; ++i) h[i] = 3 * r[i] - 2 * g[i], y[i] = 1.5 * r[i] + g[i] - 1.5 * b[i];
  const double sy = StdDev(y, n);
  const double alpha = sy > 0 ? StdDev(h, n) / sy : 0.0;
  for (int i = 0; i < n; ++i) h[i] -= alpha * y[i];
}

// POS. Wang, den Brinker, Stuijk, de Haan, "Algorithmic principles of remote PPG", IEEE TBME
// 64(7), 2017, Algorithm 1: S = [0 1 -1; -2 1 1] Cn, h = S1 + (sigma(S1) / sigma(S2)) S2.
void Pos(const double* cn, int n, double* h, double* tmp) {
  const double *r = cn, *g = cn + n, *b = cn + 2 * n;
  double* s2 = tmp;
  for (int i = 0; i < n; ++i) h[i] = g[i] - b[i], s2[i] = -2 * r[i] + g[i] + b[i];
  const double d = StdDev(s2, n);
  const double alpha = d > 0 ? StdDev(h, n) / d : 0.0;
  for (int i = 0; i < n; ++i) h[i] += alpha * s2[i];
}

// Green row of (I - u u^T) C for a unit vector u.
void ProjectGreen(const double* cn, int n, const Eigen::Vector3d& u, double* h) {
  const double p0 = -u[1] * u[0], p1 = 1 - u[1] * u[1], p2 = -u[1] * u[2];
  for (int i = 0; i < n; ++i) h[i] = p0 * cn[i] + p1 * cn[n + i] + p2 * cn[2 * n + i];
}

// LGI. Pilz, Krajewski, Blazek, "Local group invariance for heart rate estimation from face
// videos in the wild", CVPR Workshops 2018: C = U S V^T, u1 = U's first column (the
// direction of intensity / specular change), P = I - u1 u1^T, Y = P C, h = Y's green row.
// u1 is the leading eigenvector of C C^T (3 x 3), the same as the SVD's.
void Lgi(const double* cn, int n, double* h) {
  Eigen::Matrix3d cc = Eigen::Matrix3d::Zero();
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += cn[a * n + i] * cn[b * n + i];
      cc(a, b) = cc(b, a) = s;
    }
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(cc);
  ProjectGreen(cn, n, es.eigenvectors().col(2), h);  // eigenvalues ascending
}

// PBV. de Haan, van Leest, "Improved motion robustness of remote-PPG by using the blood volume
// pulse signature", Physiol. Meas. 35(9), 2014, eqs. 13-16: W = Q^-1 Pbv with Q = Cn Cn^T on
// zero-mean normalised traces, S = Cn^T W / (Pbv^T W) (unit gain along the signature), with
// the paper's standardised signature Pbv = [0.33, 0.77, 0.53] (normalised). Not pyVHR's
// per-window estimate (channel standard deviations): that follows whatever varies most, so an
// in-band intensity wobble stronger than the pulse wins (docs/vitals-synthetic.md, "PBV's
// signature", has the comparison).
void Pbv(const double* cn, int n, double* h) {
  double mean[3];
  for (int k = 0; k < 3; ++k) {
    mean[k] = 0;
    for (int i = 0; i < n; ++i) mean[k] += cn[k * n + i];
    mean[k] /= n;
  }
  Eigen::Matrix3d q;
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += (cn[a * n + i] - mean[a]) * (cn[b * n + i] - mean[b]);
      q(a, b) = q(b, a) = s;
    }
  Eigen::Vector3d pbv(0.33, 0.77, 0.53);
  const double norm = pbv.norm();
  std::fill(h, h + n, 0.0);
  if (!(norm > 0)) return;
  pbv /= norm;
  // Regularised by 1% of its trace: with little sensor noise the pulse and the intensity
  // changes span a plane, Q is near singular and Q^-1 Pbv would point at the empty direction.
  q += Eigen::Matrix3d::Identity() * (1e-2 * q.trace() + 1e-30);
  const Eigen::Vector3d w = q.ldlt().solve(pbv);
  const double d = pbv.dot(w);
  if (!(std::abs(d) > 0)) return;
  const Eigen::Vector3d k = w / d;
  for (int i = 0; i < n; ++i)
    h[i] = k[0] * (cn[i] - mean[0]) + k[1] * (cn[n + i] - mean[1]) + k[2] * (cn[2 * n + i] - mean[2]);
}

// OMIT. Casado, López, "Face2PPG: An unsupervised pipeline for blood volume pulse extraction
// from faces", IEEE JBHI 27(11), 2023: C = Q R (QR decomposition), q1 = Q's first column,
// P = I - q1 q1^T, h = (P C)'s green row. With Householder QR, q1 = +-C's first column
// normalised (the sign cancels in P), which is what is computed here.
void Omit(const double* cn, int n, double* h) {
  Eigen::Vector3d q1(cn[0], cn[n], cn[2 * n]);
  const double norm = q1.norm();
  if (!(norm > 0)) {
    Green(cn, n, h);
    return;
  }
  ProjectGreen(cn, n, q1 / norm, h);
}

}  // namespace

void ApplyMethod(RppgMethod m, std::span<const float> r, std::span<const float> g,
                 std::span<const float> b, double fs, std::span<float> out, double window_s) {
  const int n = static_cast<int>(std::min({r.size(), g.size(), b.size(), out.size()}));
  std::fill(out.begin(), out.end(), 0.0f);
  if (n < 2) return;
  const int len = std::clamp(static_cast<int>(std::lround(window_s * fs)), 2, n);
  std::vector<double> acc(n, 0.0), cn(3 * len), h(len), tmp(len);
  // Window sums kept by adding the incoming and dropping the outgoing sample.
  double sum[3] = {0, 0, 0};
  const float* src[3] = {r.data(), g.data(), b.data()};
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < len; ++i) sum[k] += src[k][i];
  for (int start = 0; start + len <= n; ++start) {
    if (start > 0)
      for (int k = 0; k < 3; ++k) sum[k] += static_cast<double>(src[k][start + len - 1]) - src[k][start - 1];
    const double mean[3] = {sum[0] / len, sum[1] / len, sum[2] / len};
    if (!(mean[0] > 0 && mean[1] > 0 && mean[2] > 0)) continue;  // black or invalid window
    for (int k = 0; k < 3; ++k) {
      const float* c = src[k] + start;
      const double inv = 1.0 / mean[k];
      for (int i = 0; i < len; ++i) cn[k * len + i] = c[i] * inv;
    }
    switch (m) {
      case RppgMethod::kGreen: Green(cn.data(), len, h.data()); break;
      case RppgMethod::kChrom: Chrom(cn.data(), len, h.data(), tmp.data()); break;
      case RppgMethod::kPos: Pos(cn.data(), len, h.data(), tmp.data()); break;
      case RppgMethod::kLgi: Lgi(cn.data(), len, h.data()); break;
      case RppgMethod::kPbv: Pbv(cn.data(), len, h.data()); break;
      case RppgMethod::kOmit: Omit(cn.data(), len, h.data()); break;
    }
    double hm = 0;
    for (int i = 0; i < len; ++i) hm += h[i];
    hm /= len;
    if (!std::isfinite(hm)) continue;
    for (int i = 0; i < len; ++i) acc[start + i] += h[i] - hm;
  }
  // Overlap-add sums up to `len` windows per sample; scale back to one window's amplitude
  // (ends, covered by fewer windows, are scaled by their own count).
  for (int i = 0; i < n; ++i) {
    const int first = std::max(0, i - len + 1), last = std::min(i, n - len);
    const int cover = last - first + 1;
    out[i] = cover > 0 ? static_cast<float>(acc[i] / cover) : 0.0f;
  }
}


// ---------------------------------------------------------------------------------------------
BandPass::BandPass(double fs, double lo_hz, double hi_hz) {
  const double q = 1.0 / std::sqrt(2.0);
  {
    const double w0 = 2 * kPi * lo_hz / fs, c = std::cos(w0), al = std::sin(w0) / (2 * q);
    const double a0 = 1 + al;
    hp_ = {(1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0, -2 * c / a0, (1 - al) / a0};
  }
  if (hi_hz < 0.5 * fs * 0.98) {
    const double w0 = 2 * kPi * hi_hz / fs, c = std::cos(w0), al = std::sin(w0) / (2 * q);
    const double a0 = 1 + al;
    lp_ = {(1 - c) / 2 / a0, (1 - c) / a0, (1 - c) / 2 / a0, -2 * c / a0, (1 - al) / a0};
  } else {
    lp_ = {1, 0, 0, 0, 0};  // the band reaches Nyquist: no low-pass
  }
  pad_ = static_cast<int>(std::ceil(2.0 / lo_hz * fs));
}

void BandPass::Run(std::span<float> x) const {
  for (const Biquad& q : {hp_, lp_}) {
    double z1 = 0, z2 = 0;  // transposed direct form II
    for (float& v : x) {
      const double in = v;
      const double y = q.b0 * in + z1;
      z1 = q.b1 * in - q.a1 * y + z2;
      z2 = q.b2 * in - q.a2 * y;
      v = static_cast<float>(y);
    }
  }
}

void BandPass::Apply(std::span<float> x, std::vector<float>* scratch) const {
  const int n = static_cast<int>(x.size());
  if (n < 2) return;
  const int pad = std::min(pad_, n - 1);
  scratch->resize(n + 2 * pad);
  float* e = scratch->data();
  for (int i = 0; i < pad; ++i) e[i] = 2 * x[0] - x[pad - i];
  std::copy(x.begin(), x.end(), e + pad);
  for (int i = 0; i < pad; ++i) e[pad + n + i] = 2 * x[n - 1] - x[n - 2 - i];
  std::span<float> ext(e, n + 2 * pad);
  Run(ext);
  std::reverse(ext.begin(), ext.end());
  Run(ext);
  std::reverse(ext.begin(), ext.end());
  std::copy(e + pad, e + pad + n, x.begin());
}

// ---------------------------------------------------------------------------------------------
Welch::Welch(double fs, int segment, int step, int nfft)
    : fs_(fs), segment_(std::max(2, segment)), step_(std::max(1, step)), nfft_(2) {
  while (nfft_ < std::max(nfft, segment_)) nfft_ *= 2;
  cos_.resize(nfft_ / 2);
  sin_.resize(nfft_ / 2);
  for (int k = 0; k < nfft_ / 2; ++k) {
    cos_[k] = std::cos(2 * kPi * k / nfft_);
    sin_[k] = -std::sin(2 * kPi * k / nfft_);
  }
}

void Welch::Compute(std::span<const float> x, Spectrum* out) const {
  const int n = static_cast<int>(x.size());
  const int nb = nfft_ / 2 + 1;
  out->df = fs_ / nfft_;
  out->power.assign(nb, 0.0);
  if (n < 4) return;
  const int seg = std::min(segment_, n);
  std::vector<std::complex<double>> buf(nfft_);
  std::vector<double> win(seg);
  for (int i = 0; i < seg; ++i) win[i] = 0.5 - 0.5 * std::cos(2 * kPi * i / (seg - 1));
  int segments = 0;
  // Segments aligned to the end: the newest samples always count.
  for (int start = n - seg; start >= 0; start -= step_) {
    double mean = 0;
    for (int i = 0; i < seg; ++i) mean += x[start + i];
    mean /= seg;
    std::fill(buf.begin(), buf.end(), std::complex<double>(0, 0));
    for (int i = 0; i < seg; ++i) buf[i] = (x[start + i] - mean) * win[i];
    // Iterative radix-2 FFT.
    for (int i = 1, j = 0; i < nfft_; ++i) {
      int bit = nfft_ >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) std::swap(buf[i], buf[j]);
    }
    for (int len = 2; len <= nfft_; len <<= 1) {
      const int stride = nfft_ / len;
      for (int i = 0; i < nfft_; i += len)
        for (int k = 0; k < len / 2; ++k) {
          const std::complex<double> w(cos_[k * stride], sin_[k * stride]);
          const std::complex<double> u = buf[i + k], v = buf[i + k + len / 2] * w;
          buf[i + k] = u + v;
          buf[i + k + len / 2] = u - v;
        }
    }
    for (int k = 0; k < nb; ++k) out->power[k] += std::norm(buf[k]);
    ++segments;
  }
  for (double& p : out->power) p /= segments;
}

namespace {
// Bin `best` refined by a parabola through the log power of it and its neighbours.
SpectralPeak InterpolatedPeak(const Spectrum& s, int best) {
  const std::vector<double>& p = s.power;
  const int nb = static_cast<int>(p.size());
  double delta = 0;
  if (best > 0 && best + 1 < nb) {
    const double tiny = p[best] * 1e-12;
    const double a = std::log(p[best - 1] + tiny), b = std::log(p[best] + tiny),
                 c = std::log(p[best + 1] + tiny);
    const double den = a - 2 * b + c;
    if (den < 0) delta = std::clamp(0.5 * (a - c) / den, -0.5, 0.5);
  }
  SpectralPeak pk;
  pk.hz = (best + delta) * s.df;
  pk.power = p[best];
  pk.found = true;
  return pk;
}
}  // namespace

SpectralPeak FindPeak(const Spectrum& s, double lo_hz, double hi_hz) {
  if (s.df <= 0 || s.power.empty()) return SpectralPeak{};
  const int nb = static_cast<int>(s.power.size());
  const int k0 = std::max(0, static_cast<int>(std::ceil(lo_hz / s.df)));
  const int k1 = std::min(nb - 1, static_cast<int>(std::floor(hi_hz / s.df)));
  int best = -1;
  for (int k = k0; k <= k1; ++k)
    if (best < 0 || s.power[k] > s.power[best]) best = k;
  if (best < 0 || !(s.power[best] > 0)) return SpectralPeak{};
  return InterpolatedPeak(s, best);
}

SpectralPeak FindPulsePeak(const Spectrum& s, double lo_hz, double hi_hz,
                           double subharmonic_ratio, double subharmonic_min_snr_db) {
  if (s.df <= 0 || s.power.empty()) return SpectralPeak{};
  const std::vector<double>& p = s.power;
  const int nb = static_cast<int>(p.size());
  const auto local_max = [&](int k) {
    return p[k] > 0 && (k == 0 || p[k] >= p[k - 1]) && (k + 1 == nb || p[k] >= p[k + 1]);
  };
  // The strongest local maximum in bins [a, b] (clipped to the search band), or -1.
  const int k0 = std::max(0, static_cast<int>(std::ceil(lo_hz / s.df)));
  const int k1 = std::min(nb - 1, static_cast<int>(std::floor(hi_hz / s.df)));
  const auto strongest = [&](int a, int b) {
    int best = -1;
    for (int k = std::max(a, k0); k <= std::min(b, k1); ++k)
      if (local_max(k) && (best < 0 || p[k] > p[best])) best = k;
    return best;
  };
  int best = strongest(k0, k1);
  if (best < 0) return FindPeak(s, lo_hz, hi_hz);
  if (subharmonic_ratio > 0) {
    const int tol = std::max(2, static_cast<int>(std::lround(0.05 / s.df)));
    int pick = best;
    for (int d : {2, 3}) {
      const int at = static_cast<int>(std::lround(static_cast<double>(best) / d));
      const int sub = strongest(at - tol, at + tol);
      if (sub >= 0 && p[sub] >= subharmonic_ratio * p[best] && (pick == best || p[sub] > p[pick]) &&
          SnrDb(s, sub * s.df, lo_hz, hi_hz) >= subharmonic_min_snr_db)
        pick = sub;
    }
    best = pick;
  }
  return InterpolatedPeak(s, best);
}

RateTracker::RateTracker(double df, double lo_hz, double hi_hz, const RateTrackerOptions& o)
    : o_(o), df_(df) {
  k0_ = df > 0 ? static_cast<int>(std::ceil(lo_hz / df)) : 0;
  k1_ = df > 0 ? std::max(k0_, static_cast<int>(std::floor(hi_hz / df))) : 0;
  const int nb = k1_ - k0_ + 1;
  post_.assign(nb, 1.0 / nb);
  prior_.assign(nb, 0.0);
  kernel_.assign(nb, 0.0);
}

double RateTracker::Update(const Spectrum& s, double pick_hz, double dt_s) {
  const int nb = k1_ - k0_ + 1;
  if (!(df_ > 0) || std::abs(s.df - df_) > 1e-9 * df_ || static_cast<int>(s.power.size()) <= k1_)
    return pick_hz;
  const double* p = s.power.data() + k0_;
  double pmax = 0;
  for (int k = 0; k < nb; ++k) pmax = std::max(pmax, p[k]);
  if (!(pmax > 0) || !std::isfinite(pmax)) return pick_hz;
  // The window's own answer at the top of the evidence: where the sub-harmonic rule chose a
  // weaker peak, its lobe (to the neighbouring minima) is lifted to the strongest power.
  const int pick = std::clamp(static_cast<int>(std::lround(pick_hz / df_)) - k0_, 0, nb - 1);
  double lift = p[pick] > 0 ? pmax / p[pick] : 1.0;
  int lobe_lo = pick, lobe_hi = pick;
  while (lobe_lo > 0 && p[lobe_lo - 1] < p[lobe_lo]) --lobe_lo;
  while (lobe_hi + 1 < nb && p[lobe_hi + 1] < p[lobe_hi]) ++lobe_hi;
  // Prior: the posterior before, diffused, plus the jump share.
  if (!started_) {
    std::fill(prior_.begin(), prior_.end(), 1.0 / nb);
  } else {
    const double sigma = std::max(1e-3, o_.sigma_bpm / 60.0 / df_ * std::sqrt(std::max(0.0, dt_s)));
    const int half = std::min(nb - 1, static_cast<int>(std::ceil(3 * sigma)));
    for (int d = 0; d <= half; ++d) kernel_[d] = std::exp(-0.5 * (d / sigma) * (d / sigma));
    for (int k = 0; k < nb; ++k) {
      double acc = 0, norm = 0;  // renormalised at the band's edges: no mass leaks out
      for (int j = std::max(0, k - half); j <= std::min(nb - 1, k + half); ++j) {
        const double w = kernel_[std::abs(k - j)];
        acc += w * post_[j];
        norm += w;
      }
      prior_[k] = acc / norm;
    }
    double sum = 0;
    for (double v : prior_) sum += v;
    for (double& v : prior_) v = (1 - o_.jump) * v / sum + o_.jump / nb;
  }
  double sum = 0;
  for (int k = 0; k < nb; ++k) {
    const double e = (k >= lobe_lo && k <= lobe_hi ? std::min(pmax, p[k] * lift) : p[k]) / pmax;
    post_[k] = prior_[k] * std::pow(std::max(e, 1e-12), o_.gamma);
    sum += post_[k];
  }
  if (!(sum > 0) || !std::isfinite(sum)) {
    std::fill(post_.begin(), post_.end(), 1.0 / nb);
    started_ = false;
    return pick_hz;
  }
  for (double& v : post_) v /= sum;
  started_ = true;
  int best = 0;
  for (int k = 1; k < nb; ++k)
    if (post_[k] > post_[best]) best = k;
  if (std::abs(best - pick) <= o_.gate_bins) return pick_hz;
  // The window's own strongest local maximum near the tracked bin.
  int near = -1;
  for (int k = std::max(1, best - o_.gate_bins); k <= std::min(nb - 2, best + o_.gate_bins); ++k)
    if (p[k] > 0 && p[k] >= p[k - 1] && p[k] >= p[k + 1] && (near < 0 || p[k] > p[near])) near = k;
  if (near >= 0) return InterpolatedPeak(s, near + k0_).hz;
  double delta = 0;
  if (best > 0 && best + 1 < nb) {
    const double a = std::log(post_[best - 1] + 1e-300), b = std::log(post_[best] + 1e-300),
                 c = std::log(post_[best + 1] + 1e-300);
    const double den = a - 2 * b + c;
    if (den < 0) delta = std::clamp(0.5 * (a - c) / den, -0.5, 0.5);
  }
  return (best + k0_ + delta) * df_;
}

double RefinePeak(const Spectrum& s, double hz, int bins) {
  const int nb = static_cast<int>(s.power.size());
  if (!(s.df > 0) || nb < 3) return hz;
  const int c = static_cast<int>(std::lround(hz / s.df));
  int best = -1;
  for (int k = std::max(1, c - bins); k <= std::min(nb - 2, c + bins); ++k)
    if (s.power[k] > 0 && s.power[k] >= s.power[k - 1] && s.power[k] >= s.power[k + 1] &&
        (best < 0 || std::abs(k - c) < std::abs(best - c) ||
         (std::abs(k - c) == std::abs(best - c) && s.power[k] > s.power[best])))
      best = k;
  return best < 0 ? hz : InterpolatedPeak(s, best).hz;
}

SpectralPeak FindTiltedPulsePeak(const Spectrum& s, double tilt, double lo_hz, double hi_hz,
                                 double subharmonic_ratio, double subharmonic_min_snr_db,
                                 Spectrum* tilted) {
  *tilted = s;
  const SpectralPeak plain = FindPulsePeak(s, lo_hz, hi_hz, subharmonic_ratio, subharmonic_min_snr_db);
  if (tilt == 0) return plain;
  for (size_t k = 1; k < tilted->power.size(); ++k) tilted->power[k] *= std::pow(k * s.df, tilt);
  SpectralPeak pk = FindPulsePeak(*tilted, lo_hz, hi_hz, 0);
  if (!pk.found) return plain;
  if (plain.found && subharmonic_ratio > 0) {
    const double tol = std::max(2 * s.df, 0.05);
    for (int d : {2, 3})
      if (std::abs(plain.hz - pk.hz / d) <= tol &&
          SnrDb(s, plain.hz, lo_hz, hi_hz) >= subharmonic_min_snr_db)
        return plain;
  }
  pk.hz = RefinePeak(s, pk.hz, 2);
  const int k = static_cast<int>(std::lround(pk.hz / s.df));
  if (k >= 0 && k < static_cast<int>(s.power.size())) pk.power = s.power[k];
  return pk;
}

double SnrDb(const Spectrum& s, double f0, double lo_hz, double hi_hz, double halfwidth_hz) {
  double sig = 0, noise = 0;
  const bool harmonic = 2 * f0 <= hi_hz;
  for (size_t k = 0; k < s.power.size(); ++k) {
    const double f = k * s.df;
    if (f < lo_hz || f > hi_hz) continue;
    if (std::abs(f - f0) <= halfwidth_hz || (harmonic && std::abs(f - 2 * f0) <= halfwidth_hz))
      sig += s.power[k];
    else
      noise += s.power[k];
  }
  if (!(sig > 0)) return -100.0;
  if (!(noise > 0)) return 100.0;
  return 10.0 * std::log10(sig / noise);
}

std::vector<double> DetectBeats(std::span<const float> x, double fs, double hr_hz) {
  const int n = static_cast<int>(x.size());
  std::vector<double> beats;
  if (n < 3 || hr_hz <= 0) return beats;
  std::vector<int> cand;
  for (int i = 1; i + 1 < n; ++i)
    if (x[i] > x[i - 1] && x[i] >= x[i + 1]) cand.push_back(i);
  std::sort(cand.begin(), cand.end(), [&](int a, int b) { return x[a] > x[b]; });
  const int dist = std::max(1, static_cast<int>(0.6 / hr_hz * fs));
  std::vector<int> kept;
  std::vector<bool> taken(n, false);
  for (int i : cand) {
    bool ok = true;
    for (int j = std::max(0, i - dist + 1); j < std::min(n, i + dist) && ok; ++j) ok = !taken[j];
    if (!ok) continue;
    taken[i] = true;
    kept.push_back(i);
  }
  if (kept.empty()) return beats;
  std::vector<float> heights;
  for (int i : kept) heights.push_back(x[i]);
  std::nth_element(heights.begin(), heights.begin() + heights.size() / 2, heights.end());
  const float thr = 0.3f * std::max(0.0f, heights[heights.size() / 2]);
  std::sort(kept.begin(), kept.end());
  for (int i : kept) {
    if (x[i] < thr) continue;
    const double a = x[i - 1], b = x[i], c = x[i + 1];
    const double den = a - 2 * b + c;
    const double d = den < 0 ? std::clamp(0.5 * (a - c) / den, -0.5, 0.5) : 0.0;
    beats.push_back((i + d) / fs);
  }
  return beats;
}

Hrv ComputeHrv(std::span<const double> beats) {
  Hrv h;
  if (beats.size() < 3) return h;
  std::vector<double> ibi;
  for (size_t i = 1; i < beats.size(); ++i) ibi.push_back(1000.0 * (beats[i] - beats[i - 1]));
  std::vector<double> sorted = ibi;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double med = sorted[sorted.size() / 2];
  std::vector<bool> ok(ibi.size());
  for (size_t i = 0; i < ibi.size(); ++i) {
    ok[i] = std::abs(ibi[i] - med) <= 0.3 * med;
    if (ok[i]) h.ibi_ms.push_back(ibi[i]);
    else ++h.rejected;
  }
  if (h.ibi_ms.size() < 2) return h;
  const double mean = std::accumulate(h.ibi_ms.begin(), h.ibi_ms.end(), 0.0) / h.ibi_ms.size();
  double var = 0;
  for (double v : h.ibi_ms) var += (v - mean) * (v - mean);
  h.sdnn_ms = std::sqrt(var / (h.ibi_ms.size() - 1));
  double ss = 0;
  int pairs = 0;
  for (size_t i = 1; i < ibi.size(); ++i)
    if (ok[i] && ok[i - 1]) ss += (ibi[i] - ibi[i - 1]) * (ibi[i] - ibi[i - 1]), ++pairs;
  h.rmssd_ms = pairs > 0 ? std::sqrt(ss / pairs) : 0.0;
  h.mean_hr_bpm = 60000.0 / mean;
  return h;
}

}  // namespace fg
