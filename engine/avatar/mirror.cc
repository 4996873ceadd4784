#include "engine/avatar/mirror.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "engine/emotion/face_actions.h"
#include "engine/tracking/head_pose.h"

namespace fg {

namespace {

// The measured names as std::string, so that a per-frame map lookup does not build one.
const std::array<std::string, kMeasuredCount>& MeasuredNames() {
  static const std::array<std::string, kMeasuredCount> names = [] {
    std::array<std::string, kMeasuredCount> n;
    for (int k = 0; k < kMeasuredCount; ++k) n[k] = kMeasuredBlendshapes[k];
    return n;
  }();
  return names;
}
constexpr int kCoords = kMeshLandmarks * 3;

// Frames this close (in full scales summed) to the least expressive stored one are at rest.
constexpr float kRestActivationSpread = 0.05f;

// The prior's rows (mirror.h step 2): a facial action measure and the targets it speaks for.
struct PriorRow {
  const char* targets[2];  // nullptr: none
  float FaceActionMeasures::*measure;
  float band;  // FaceActionOptions' band of the measure, x its full scale
  float full;  // FaceActionOptions' full scale of the measure
};
const FaceActionOptions kActionDefaults;
const PriorRow kPriorRows[2] = {
    {{"mouthSmileLeft", "mouthSmileRight"}, &FaceActionMeasures::smile, kActionDefaults.smile_band,
     kActionDefaults.smile_full},
    {{"jawOpen", nullptr}, &FaceActionMeasures::jaw, kActionDefaults.jaw_band,
     kActionDefaults.jaw_open_full},
};

// A normalised mesh (canonical cm, y up) as FaceMesh-style landmarks (y down, z away) for
// MeasureFaceActions with the identity rotation.
bool MeasureMesh(std::span<const std::array<float, 3>> mesh, std::vector<std::array<float, 3>>& lm,
                 FaceActionMeasures* out) {
  for (size_t v = 0; v < lm.size() && v < mesh.size(); ++v)
    lm[v] = {mesh[v][0], -mesh[v][1], -mesh[v][2]};
  return MeasureFaceActions(lm, Eigen::Matrix3f::Identity(), out);
}

// sum a[i] b[i] in eight partial sums (the compiler keeps them in vector registers; a plain
// loop is a serial chain of adds).
float Dot(const float* a, const float* b, int n) {
  float p[8] = {};
  const int n8 = n & ~7;
  for (int i = 0; i < n8; i += 8)
    for (int j = 0; j < 8; ++j) p[j] += a[i + j] * b[i + j];
  float s = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
  for (int i = n8; i < n; ++i) s += a[i] * b[i];
  return s;
}
}  // namespace

MirrorSolver::MirrorSolver(const CanonicalFace& canonical, const BlendshapeBasis& basis,
                           const MirrorOptions& opts)
    : opts_(opts), fit_face_(canonical), basis_(basis), n_(basis.size()) {
  // Rigid vertices: those no target moves by more than kRigidThreshold.
  const int nv = basis_.vertex_count();
  for (int v = 0; v < nv; ++v) {
    float m = 0;
    for (int k = 0; k < n_; ++k) {
      const auto& d = basis_.Delta(k)[v];
      m = std::max(m, std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]));
    }
    if (m <= kRigidThreshold) rigid_.push_back(v);
  }
  // Too few rigid points (a different basis): fall back to MediaPipe's Procrustes basis.
  if (rigid_.size() >= 20) {
    fit_face_.procrustes_basis.clear();
    for (int v : rigid_) fit_face_.procrustes_basis.push_back({v, 1.0f});
  } else {
    rigid_.clear();
    for (const auto& b : canonical.procrustes_basis) rigid_.push_back(b.landmark);
  }

  std::vector<const std::vector<std::array<float, 3>>*> deltas(n_);
  for (int k = 0; k < n_; ++k) deltas[k] = &basis_.Delta(k);
  BuildNormal(deltas);
  // Antagonists solved exclusively (step 3).
  for (const char* side : {"Left", "Right"}) {
    const int blink = basis_.Index(std::string("eyeBlink") + side);
    const int wide = basis_.Index(std::string("eyeWide") + side);
    if (blink >= 0 && wide >= 0 && opts_.exclusive_antagonists)
      exclusive_.push_back({blink, wide});
  }
  if (opts_.appearance)
    refiner_ = std::make_shared<const AppearanceRefiner>(canonical, basis_, opts_.appearance_options);
}

void MirrorSolver::BuildNormal(const std::vector<const std::vector<std::array<float, 3>>*>& d) {
  const float cw[3] = {1.0f, 1.0f, opts_.z_weight};
  const int nv = std::min<int>(basis_.vertex_count(), kMeshLandmarks);
  dt_.assign(static_cast<size_t>(n_) * kCoords, 0.0f);
  d_.assign(static_cast<size_t>(n_) * kCoords, 0.0f);
  for (int k = 0; k < n_; ++k)
    for (int v = 0; v < nv && v < static_cast<int>(d[k]->size()); ++v)
      for (int c = 0; c < 3; ++c) {
        dt_[k * kCoords + 3 * v + c] = cw[c] * (*d[k])[v][c];
        d_[k * kCoords + 3 * v + c] = (*d[k])[v][c];
      }
  normal_.assign(static_cast<size_t>(n_) * n_, 0.0f);
  for (int k = 0; k < n_; ++k)
    for (int l = 0; l <= k; ++l) {
      double s = 0;
      for (int v = 0; v < nv && v < static_cast<int>(d[l]->size()); ++v)
        for (int c = 0; c < 3; ++c)
          s += static_cast<double>(dt_[k * kCoords + 3 * v + c]) * (*d[l])[v][c];
      normal_[k * n_ + l] = normal_[l * n_ + k] = static_cast<float>(s);
    }
  // Ridge and sparsity per target, scaled by |d_k|^2 / |geometric delta_k|^2 (both
  // C-weighted): the same penalty in weight units whichever vectors the solve uses (a
  // response a fifth the geometric delta's length would otherwise be biased 25x more).
  ridge_.assign(n_, opts_.ridge);
  sparsity_.assign(n_, opts_.sparsity);
  for (int k = 0; k < n_; ++k) {
    if (d[k] == &basis_.Delta(k)) continue;
    double dd = 0, gg = 0;
    for (int v = 0; v < nv; ++v)
      for (int c = 0; c < 3; ++c) {
        const double g = basis_.Delta(k)[v][c];
        dd += cw[c] * static_cast<double>((*d[k])[v][c]) * (*d[k])[v][c];
        gg += cw[c] * g * g;
      }
    const float ratio = gg > 0 ? static_cast<float>(dd / gg) : 1.0f;
    ridge_[k] *= ratio;
    sparsity_[k] *= ratio;
  }
  for (int k = 0; k < n_; ++k) normal_[k * n_ + k] += ridge_[k];

  // The prior rows' targets and gains: the measure of the canonical face moved by a unit
  // weight on all of a row's targets, against the canonical face's own.
  std::vector<std::array<float, 3>> lm(kMeshLandmarks), moved(fit_face_.vertices);
  FaceActionMeasures m0, m1;
  const bool ok0 = MeasureMesh(fit_face_.vertices, lm, &m0);
  for (int r = 0; r < 2; ++r) {
    moved = fit_face_.vertices;
    bool any = false;
    for (int j = 0; j < 2; ++j) {
      const char* name = kPriorRows[r].targets[j];
      const int k = name ? basis_.Index(name) : -1;
      prior_targets_[r][j] = k;
      if (k < 0) continue;
      any = true;
      for (int i = 0; i < kCoords; ++i) moved[i / 3][i % 3] += d_[static_cast<size_t>(k) * kCoords + i];
    }
    prior_gain_[r] = 0;
    if (any && ok0 && MeasureMesh(moved, lm, &m1))
      prior_gain_[r] = m1.*kPriorRows[r].measure - m0.*kPriorRows[r].measure;
  }
}

bool MirrorSolver::SetResponseBasis(const ResponseBasis& r, std::string* error) {
  auto fail = [&](const std::string& m) {
    if (error) *error = "MirrorSolver response basis: " + m;
    return false;
  };
  if (r.names.size() != r.deltas.size())
    return fail(std::to_string(r.names.size()) + " names but " + std::to_string(r.deltas.size()) +
                " delta sets");
  std::vector<const std::vector<std::array<float, 3>>*> deltas(n_);
  for (int k = 0; k < n_; ++k) deltas[k] = &basis_.Delta(k);
  int matched = 0;
  for (size_t i = 0; i < r.names.size(); ++i) {
    if (r.deltas[i].size() != static_cast<size_t>(kMeshLandmarks))
      return fail("target '" + r.names[i] + "' has " + std::to_string(r.deltas[i].size()) +
                  " vertices, expected " + std::to_string(kMeshLandmarks));
    for (const auto& p : r.deltas[i]) {
      if (!std::isfinite(p[0]) || !std::isfinite(p[1]) || !std::isfinite(p[2]))
        return fail("target '" + r.names[i] + "' holds a non-finite value");
      // A tracker's reply to one unit of a target is millimetres to a few centimetres; a
      // value beyond this is a broken file, and would overflow the normal matrix.
      if (std::abs(p[0]) > kMaxResponseCm || std::abs(p[1]) > kMaxResponseCm ||
          std::abs(p[2]) > kMaxResponseCm)
        return fail("target '" + r.names[i] + "' moves a vertex by more than " +
                    std::to_string(static_cast<int>(kMaxResponseCm)) + " cm");
    }
    const int k = basis_.Index(r.names[i]);
    if (k < 0) continue;
    if (deltas[k] == &basis_.Delta(k)) ++matched;
    deltas[k] = &r.deltas[i];
  }
  if (matched == 0) return fail("no target name matches the basis");
  BuildNormal(deltas);
  response_targets_ = matched;
  return true;
}

namespace {
void PutU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
bool GetU32(std::string_view s, size_t& at, uint32_t* v) {
  if (at + 4 > s.size()) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i)
    *v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + i])) << (8 * i);
  at += 4;
  return true;
}
constexpr char kResponseMagic[] = "FGRB1\n";
}  // namespace

bool SaveResponseBasis(const ResponseBasis& r, const std::string& path, std::string* error) {
  if (r.names.size() != r.deltas.size()) {
    if (error) *error = path + ": names and delta sets differ in count";
    return false;
  }
  std::string s(kResponseMagic, 6);
  PutU32(s, static_cast<uint32_t>(r.names.size()));
  PutU32(s, static_cast<uint32_t>(kMeshLandmarks));
  PutU32(s, static_cast<uint32_t>(r.provenance.size()));
  s += r.provenance;
  for (size_t i = 0; i < r.names.size(); ++i) {
    if (r.deltas[i].size() != static_cast<size_t>(kMeshLandmarks)) {
      if (error) *error = path + ": target '" + r.names[i] + "' does not have 468 vertices";
      return false;
    }
    PutU32(s, static_cast<uint32_t>(r.names[i].size()));
    s += r.names[i];
    for (const auto& p : r.deltas[i])
      for (float f : p) {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        PutU32(s, u);
      }
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !out.write(s.data(), static_cast<std::streamsize>(s.size()))) {
    if (error) *error = path + ": cannot write";
    return false;
  }
  return true;
}

std::optional<ResponseBasis> LoadResponseBasis(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = path + ": cannot open";
    return std::nullopt;
  }
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseResponseBasis(s, path, error);
}

std::optional<ResponseBasis> ParseResponseBasis(std::string_view s, std::string_view name,
                                                std::string* error) {
  auto fail = [&](const std::string& m) -> std::optional<ResponseBasis> {
    if (error) *error = std::string(name) + ": " + m;
    return std::nullopt;
  };
  if (s.size() < 6 || s.compare(0, 6, kResponseMagic) != 0)
    return fail("not a response basis (no FGRB1 header)");
  size_t at = 6;
  uint32_t count = 0, verts = 0, plen = 0;
  if (!GetU32(s, at, &count) || !GetU32(s, at, &verts) || !GetU32(s, at, &plen))
    return fail("truncated header");
  if (verts != static_cast<uint32_t>(kMeshLandmarks))
    return fail(std::to_string(verts) + " vertices per target, expected 468");
  if (count > 1024) return fail("implausible target count " + std::to_string(count));
  if (at + plen > s.size()) return fail("truncated provenance");
  ResponseBasis r;
  r.provenance = std::string(s.substr(at, plen));
  at += plen;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (!GetU32(s, at, &len) || len > 256 || at + len > s.size())
      return fail("truncated at target " + std::to_string(i));
    r.names.push_back(std::string(s.substr(at, len)));
    at += len;
    if (at + static_cast<size_t>(verts) * 12 > s.size())
      return fail("truncated in target '" + r.names.back() + "'");
    std::vector<std::array<float, 3>> d(verts);
    for (auto& p : d)
      for (float& f : p) {
        uint32_t u = 0;
        GetU32(s, at, &u);
        std::memcpy(&f, &u, 4);
      }
    r.deltas.push_back(std::move(d));
  }
  if (at != s.size()) return fail("trailing bytes after " + std::to_string(count) + " targets");
  return r;
}

bool MirrorSolver::Normalise(const std::vector<std::array<float, 3>>& lm, int frame_width,
                             int frame_height, std::span<std::array<float, 3>> out,
                             Eigen::Matrix3f* rotation, float* scale,
                             Eigen::Vector3f* translation) const {
  if (lm.size() < static_cast<size_t>(kMeshLandmarks) ||
      out.size() < static_cast<size_t>(kMeshLandmarks))
    return false;
  const HeadPoseFit fit = FitHeadPose(fit_face_, lm, frame_width, frame_height);
  if (!(fit.scale > 0)) return false;
  const Eigen::Matrix3f& r = fit.rotation;
  const float s = fit.scale;
  // Translation (all three axes; FitHeadPose keeps only x, y): mean of q - s R p over the
  // rigid vertices.
  Eigen::Vector3f t = Eigen::Vector3f::Zero();
  for (int v : rigid_) {
    const auto& p = fit_face_.vertices[v];
    t += Eigen::Vector3f(lm[v][0], -lm[v][1], -lm[v][2]) -
         s * (r * Eigen::Vector3f(p[0], p[1], p[2]));
  }
  t /= static_cast<float>(rigid_.size());
  const Eigen::Matrix3f rt = r.transpose() / s;
  for (int v = 0; v < kMeshLandmarks; ++v) {
    const Eigen::Vector3f p = rt * (Eigen::Vector3f(lm[v][0], -lm[v][1], -lm[v][2]) - t);
    out[v] = {p.x(), p.y(), p.z()};
  }
  if (rotation) *rotation = r;
  if (scale) *scale = s;
  if (translation) *translation = t;
  return true;
}

namespace {

// Solves the m x m SPD system a x = rhs (row-major, leading dimension kMaxTargets) in place
// by Cholesky; false when a pivot is not positive.
bool CholeskySolve(int m, double* a, double* x) {
  constexpr int ld = kMaxTargets;
  for (int j = 0; j < m; ++j) {
    double d = a[j * ld + j];
    for (int k = 0; k < j; ++k) d -= a[j * ld + k] * a[j * ld + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * ld + j] = d;
    for (int i = j + 1; i < m; ++i) {
      double s = a[i * ld + j];
      for (int k = 0; k < j; ++k) s -= a[i * ld + k] * a[j * ld + k];
      a[i * ld + j] = s / d;
    }
  }
  for (int i = 0; i < m; ++i) {  // L y = rhs
    double s = x[i];
    for (int k = 0; k < i; ++k) s -= a[i * ld + k] * x[k];
    x[i] = s / a[i * ld + i];
  }
  for (int i = m - 1; i >= 0; --i) {  // L^T x = y
    double s = x[i];
    for (int k = i + 1; k < m; ++k) s -= a[k * ld + i] * x[k];
    x[i] = s / a[i * ld + i];
  }
  return true;
}

}  // namespace

void MirrorSolver::BoundedSolve(const float* b, std::span<float> w, const float* normal,
                                const float* sparsity) const {
  BoundedSolveOnce(b, w, normal, sparsity, 0);
  // Antagonist pairs both active: solve again with each held at 0 and keep the better
  // objective 1/2 w^T A w - (b - sparsity)^T w (step 3).
  auto objective = [&](const float* x) {
    double f = 0;
    for (int k = 0; k < n_; ++k) {
      double aw = 0;
      for (int l = 0; l < n_; ++l) aw += static_cast<double>(normal[static_cast<size_t>(k) * n_ + l]) * x[l];
      f += x[k] * (0.5 * aw - (b[k] - sparsity[k]));
    }
    return f;
  };
  // A pair once decided keeps its held target while the next pairs are solved (a global
  // re-solve could otherwise switch both of an earlier pair on again).
  uint64_t held = 0;
  for (size_t round = 0; round < exclusive_.size(); ++round) {
    int pick = -1;
    for (size_t p = 0; p < exclusive_.size() && pick < 0; ++p) {
      const auto [i, j] = exclusive_[p];
      if (w[i] > 1e-4f && w[j] > 1e-4f) pick = static_cast<int>(p);
    }
    if (pick < 0) break;
    const auto [i, j] = exclusive_[pick];
    float wi[kMaxTargets], wj[kMaxTargets];
    for (int k = 0; k < n_; ++k) wi[k] = wj[k] = w[k];
    wi[i] = 0, wj[j] = 0;
    const uint64_t hi = held | (uint64_t{1} << i), hj = held | (uint64_t{1} << j);
    BoundedSolveOnce(b, std::span<float>(wi, n_), normal, sparsity, hi);
    BoundedSolveOnce(b, std::span<float>(wj, n_), normal, sparsity, hj);
    const bool first = objective(wi) <= objective(wj);
    const float* best = first ? wi : wj;
    held = first ? hi : hj;
    for (int k = 0; k < n_; ++k) w[k] = best[k];
  }
}

void MirrorSolver::BoundedSolveOnce(const float* b, std::span<float> w, const float* normal,
                                    const float* sparsity, uint64_t pinned) const {
  // Bounded-variable least squares (Stark & Parker's BVLS, an active-set method): minimise
  // 1/2 w^T A w - (b - sparsity)^T w over 0 <= w <= ub. Variables are free or held at a
  // bound; the free ones are solved exactly (Cholesky on A_FF); a step that would leave
  // the box stops at the first bound crossed and holds that variable; at a feasible
  // optimum of the free set the held variable whose gradient points most into the box is
  // freed, until none does (the KKT conditions). Warm-started from w's active set.
  const int n = n_;
  const double tol = 1e-7;
  const double ub = opts_.solve_upper;
  int state[kMaxTargets];  // 0 free, -1 held at 0, +1 held at 1
  double x[kMaxTargets], z[kMaxTargets], a[kMaxTargets * kMaxTargets];
  int free_idx[kMaxTargets];
  for (int k = 0; k < n; ++k) {
    x[k] = (pinned >> k) & 1 ? 0.0 : std::clamp(static_cast<double>(w[k]), 0.0, ub);
    state[k] = x[k] <= 0 ? -1 : (x[k] >= ub ? 1 : 0);
    x[k] = state[k] < 0 ? 0.0 : (state[k] > 0 ? ub : x[k]);
  }
  auto A = [&](int i, int j) {
    return static_cast<double>(normal[static_cast<size_t>(i) * n + j]);
  };
  for (int outer = 0; outer < 4 * n; ++outer) {
    // Inner loop: optimum over the free set, stepping back to the box when needed.
    for (int inner = 0; inner < n + 1; ++inner) {
      int m = 0;
      for (int k = 0; k < n; ++k)
        if (state[k] == 0) free_idx[m++] = k;
      if (m == 0) break;
      for (int i = 0; i < m; ++i) {
        const int fi = free_idx[i];
        double r = b[fi] - sparsity[fi];
        for (int k = 0; k < n; ++k)
          if (state[k] != 0) r -= A(fi, k) * x[k];
        z[i] = r;
        for (int j = 0; j < m; ++j) a[i * kMaxTargets + j] = A(fi, free_idx[j]);
      }
      if (!CholeskySolve(m, a, z)) return;  // not SPD (ridge 0 and a degenerate basis)
      double alpha = 1;
      int hit = -1;
      for (int i = 0; i < m; ++i) {
        const int fi = free_idx[i];
        const double d = z[i] - x[fi];
        if (z[i] < 0 && d < 0) {
          const double t = -x[fi] / d;
          if (t < alpha) alpha = t, hit = fi;
        } else if (z[i] > ub && d > 0) {
          const double t = (ub - x[fi]) / d;
          if (t < alpha) alpha = t, hit = fi;
        }
      }
      for (int i = 0; i < m; ++i) x[free_idx[i]] += alpha * (z[i] - x[free_idx[i]]);
      if (hit < 0) break;
      // Hold every free variable now at (or past) a bound.
      for (int i = 0; i < m; ++i) {
        const int fi = free_idx[i];
        if (fi == hit || x[fi] <= tol) {
          if (x[fi] <= 0.5 * ub)
            state[fi] = -1, x[fi] = 0;
          else
            state[fi] = 1, x[fi] = ub;
        } else if (x[fi] >= ub - tol) {
          state[fi] = 1, x[fi] = ub;
        }
      }
    }
    // KKT: free the held variable whose negative gradient points most into the box.
    int best = -1;
    double best_g = 1e-6;
    for (int k = 0; k < n; ++k) {
      if (state[k] == 0 || ((pinned >> k) & 1)) continue;  // a pinned target stays at 0
      double g = b[k] - sparsity[k];
      for (int l = 0; l < n; ++l) g -= A(k, l) * x[l];
      const double into = state[k] < 0 ? g : -g;
      if (into > best_g) best_g = into, best = k;
    }
    if (best < 0) break;
    state[best] = 0;
  }
  for (int k = 0; k < n; ++k) w[k] = static_cast<float>(std::clamp(x[k], 0.0, ub));
}

float MirrorSolver::Solve(std::span<const std::array<float, 3>> offsets, std::span<float> w) const {
  if (offsets.size() < static_cast<size_t>(kMeshLandmarks) || w.size() < static_cast<size_t>(n_) ||
      n_ > kMaxTargets)
    return 0;
  const float* r = offsets.data()->data();
  // b = C D^T r; rCr = r^T C r.
  float bp[kMaxTargets];
  for (int k = 0; k < n_; ++k) bp[k] = Dot(&dt_[static_cast<size_t>(k) * kCoords], r, kCoords);
  float rcr = 0;
  for (int i = 0; i < kCoords; ++i) rcr += (i % 3 == 2 ? opts_.z_weight : 1.0f) * r[i] * r[i];
  BoundedSolve(bp, w, normal_.data(), sparsity_.data());
  // |D w - r|_C^2 = w^T (A - ridge I) w - 2 w^T b + r^T C r
  float q = 0;
  for (int k = 0; k < n_; ++k) {
    const float* a = &normal_[static_cast<size_t>(k) * n_];
    float aw = 0;
    for (int l = 0; l < n_; ++l) aw += a[l] * w[l];
    q += w[k] * (aw - ridge_[k] * w[k]) - 2 * w[k] * bp[k];
  }
  return std::sqrt(std::max(0.0f, q + rcr) / kCoords);
}

void MirrorSolver::BuildTextureWeights(Track& t) const {
  // Per coordinate weight: x and y of a refined vertex count 1 + its texture information
  // tensor / texture_floor^2 (a 2x2 block), everything else as in the plain solve. The
  // ridge and sparsity grow with the mean weight of the refined vertices, so they keep
  // their strength relative to the data term.
  const AppearanceRefiner::State& a = t.appearance;
  const float floor2 = std::max(1e-3f, opts_.appearance_options.texture_floor *
                                           opts_.appearance_options.texture_floor);
  const std::vector<int>& mv = refiner_->moving();
  // c[v] = {cxx, cxy, cyy}; z keeps z_weight.
  std::vector<std::array<float, 3>> c(kMeshLandmarks, {1.0f, 0.0f, 1.0f});
  double mean = 0;
  for (size_t m = 0; m < mv.size(); ++m) {
    const auto& h = a.info[m];
    if (opts_.texture_weights) c[mv[m]] = {1.0f + h[0] / floor2, h[1] / floor2, 1.0f + h[2] / floor2};
    mean += 0.5 * (c[mv[m]][0] + c[mv[m]][2]);
  }
  mean = mv.empty() ? 1.0 : mean / static_cast<double>(mv.size());
  const float zw = opts_.z_weight;
  // D from the plain solve's C D^T (z was scaled by z_weight there).
  auto d = [&](int k, int v, int comp) {
    const float x = dt_[static_cast<size_t>(k) * kCoords + 3 * v + comp];
    return comp == 2 ? (zw > 0 ? x / zw : 0.0f) : x;
  };
  t.wdt.assign(static_cast<size_t>(n_) * kCoords, 0.0f);
  for (int k = 0; k < n_; ++k)
    for (int v = 0; v < kMeshLandmarks; ++v) {
      float* o = &t.wdt[static_cast<size_t>(k) * kCoords + 3 * v];
      const float dx = d(k, v, 0), dy = d(k, v, 1);
      o[0] = c[v][0] * dx + c[v][1] * dy;
      o[1] = c[v][1] * dx + c[v][2] * dy;
      o[2] = zw * d(k, v, 2);
    }
  t.wnormal.assign(static_cast<size_t>(n_) * n_, 0.0f);
  for (int k = 0; k < n_; ++k)
    for (int l = 0; l <= k; ++l) {
      double s = 0;
      for (int v = 0; v < kMeshLandmarks; ++v)
        for (int comp = 0; comp < 3; ++comp)
          s += static_cast<double>(t.wdt[static_cast<size_t>(k) * kCoords + 3 * v + comp]) *
               d(l, v, comp);
      t.wnormal[k * n_ + l] = t.wnormal[l * n_ + k] = static_cast<float>(s);
    }
  t.wsparsity.resize(n_);
  t.wridge.resize(n_);
  for (int k = 0; k < n_; ++k) {
    t.wridge[k] = static_cast<float>(ridge_[k] * mean);
    t.wnormal[k * n_ + k] += t.wridge[k];
    t.wsparsity[k] = static_cast<float>(sparsity_[k] * mean);
  }
  t.wc = c;
  t.wc_sum = 0;
  for (const auto& cv : c) t.wc_sum += cv[0] + cv[2] + zw;
}

float MirrorSolver::WeightedResidual(const Track& t, const float* b, const float* r) const {
  // |D w - r|_C^2 = w^T (A - ridge) w - 2 w^T b + r^T C r with the track's weights C (its
  // 2x2 x-y blocks and z_weight), over the sum of the weights: an RMS in cm in which each
  // coordinate counts as much as the solve counted it.
  double rcr = 0;
  for (int v = 0; v < kMeshLandmarks; ++v) {
    const auto& c = t.wc[v];
    const float x = r[3 * v], y = r[3 * v + 1], z = r[3 * v + 2];
    rcr += c[0] * x * x + 2 * c[1] * x * y + c[2] * y * y + opts_.z_weight * z * z;
  }
  double q = rcr;
  for (int k = 0; k < n_; ++k) {
    const float* a = &t.wnormal[static_cast<size_t>(k) * n_];
    double aw = 0;
    for (int l = 0; l < n_; ++l) aw += a[l] * t.raw[l];
    q += t.raw[k] * (aw - t.wridge[k] * t.raw[k]) - 2.0 * t.raw[k] * b[k];
  }
  return static_cast<float>(std::sqrt(std::max(0.0, q) / t.wc_sum));
}

void MirrorSolver::AddEvidence(Track& t) const {
  int slot = t.calib_count;
  if (t.calib_count < kMaxCalibrationFrames) {
    ++t.calib_count;
  } else {
    slot = t.calib_head;
    t.calib_head = (t.calib_head + 1) % kMaxCalibrationFrames;
  }
  float* dst = &t.calib[static_cast<size_t>(slot) * kCoords];
  for (int v = 0; v < kMeshLandmarks; ++v)
    for (int c = 0; c < 3; ++c) dst[3 * v + c] = t.points[v][c];
  // The frame's facial action measures (pose-free, IOD units), for its activation.
  FaceActionMeasures m = kPopulationNeutral;
  MeasureMesh(t.points, t.lm, &m);
  t.measures[slot] = m;
}

void MirrorSolver::Calibrate(Track& t, double dt_s) const {
  // E: the per-coordinate median of the frames whose activation is within
  // kRestActivationSpread of the least expressive one (at least 3).
  const int n = t.calib_count;
  // Activation: how expressive a frame is, from its measures over their full scales: the
  // smile and the brow two-sided against the prior (a frown and a lowered brow are
  // expressions too), mouth and jaw opening above the lowest stored (one-sided, and faces
  // sit far from the prior there: Grace Hopper's jaw -0.19 IOD). The eyes are left out: a
  // blink is brief (the median handles it), and a wide-open eye would pass for rest. A solve against the canonical face would
  // not do: its weights saturate on a real face (docs/baselines.md).
  float mouth0 = t.measures[0].mouth_open, jaw0 = t.measures[0].jaw;
  for (int f = 1; f < n; ++f) {
    mouth0 = std::min(mouth0, t.measures[f].mouth_open);
    jaw0 = std::min(jaw0, t.measures[f].jaw);
  }
  const FaceActionOptions& o = kActionDefaults;
  const FaceActionMeasures& p = kPopulationNeutral;
  for (int f = 0; f < n; ++f) {
    const FaceActionMeasures& m = t.measures[f];
    t.activation[f] = std::abs(m.smile - p.smile) / o.smile_full +
                      std::abs(m.brow - p.brow) / o.brow_raise_full +
                      (m.mouth_open - mouth0) / o.mouth_open_full + (m.jaw - jaw0) / o.jaw_open_full;
  }
  t.order.resize(n);  // within the capacity reserved when the track appeared
  for (int f = 0; f < n; ++f) t.order[f] = f;
  std::sort(t.order.begin(), t.order.end(),
            [&](int x, int y) { return t.activation[x] < t.activation[y]; });
  int m = 0;
  while (m < n && t.activation[t.order[m]] <= t.activation[t.order[0]] + kRestActivationSpread) ++m;
  m = std::max(m, std::min(n, 3));
  t.column.resize(m);
  for (int i = 0; i < kCoords; ++i) {
    for (int f = 0; f < m; ++f) t.column[f] = t.calib[static_cast<size_t>(t.order[f]) * kCoords + i];
    auto mid = t.column.begin() + m / 2;
    std::nth_element(t.column.begin(), mid, t.column.end());
    t.neutral[i / 3][i % 3] = *mid;
  }
  t.result.calibrated = true;
  if (!opts_.use_prior) return;
  // The prior rows: how far E's measure lies beyond the band (less the allowance) is taken
  // out of the neutral along the row's targets.
  FaceActionMeasures me;
  if (!MeasureMesh(t.neutral, t.lm, &me)) return;
  const float follow = opts_.beyond_band_tau_s > 0
                           ? static_cast<float>(1.0 - std::exp(-std::max(0.0, dt_s) /
                                                               opts_.beyond_band_tau_s))
                           : 1.0f;
  for (int r = 0; r < 2; ++r) {
    const PriorRow& row = kPriorRows[r];
    const float band = opts_.prior_band_scale * row.band * row.full;
    const float beyond =
        std::max(0.0f, me.*row.measure - (kPopulationNeutral.*row.measure + band));
    float& allow = t.allowance[r];
    if (beyond > allow)
      allow += follow * (beyond - allow);
    else
      allow = beyond;
    const float excess = beyond - allow;
    if (!(excess > 0) || !(prior_gain_[r] > 1e-6f)) continue;
    const float x = excess / prior_gain_[r];  // weight on each of the row's targets
    for (int k : prior_targets_[r]) {
      if (k < 0) continue;
      const float* d = &d_[static_cast<size_t>(k) * kCoords];
      for (int i = 0; i < kCoords; ++i) t.neutral[i / 3][i % 3] -= x * d[i];
    }
  }
}

const MirrorResult* MirrorSolver::Update(const Face& face, int64_t pts_ns, int frame_width,
                                         int frame_height, const ImageView* frame) {
  if (face.landmarks.size() < static_cast<size_t>(kMeshLandmarks)) return nullptr;
  auto it = tracks_.find(face.id);
  if (it == tracks_.end()) {
    it = tracks_.emplace(face.id, Track{}).first;
    Track& t = it->second;
    t.result.id = face.id;
    t.result.weights.assign(n_, 0.0f);
    for (const std::string& name : basis_.names()) t.result.blendshapes[name] = 0.0f;
    t.result.measured.assign(kMeasuredCount, 0.0f);
    for (const char* name : kMeasuredBlendshapes) t.result.blendshapes.emplace(name, 0.0f);
    t.residual.assign(kMeshLandmarks, {0, 0, 0});
    t.measured_filters.assign(kMeasuredCount, OneEuroFilter(opts_.smoothing_params));
    t.calib.assign(static_cast<size_t>(kMaxCalibrationFrames) * kCoords, 0.0f);
    t.activation.assign(kMaxCalibrationFrames, 0.0f);
    t.measures.assign(kMaxCalibrationFrames, kPopulationNeutral);
    t.lm.assign(kMeshLandmarks, {0, 0, 0});
    t.order.reserve(kMaxCalibrationFrames);
    t.column.reserve(kMaxCalibrationFrames);
    t.neutral.assign(kMeshLandmarks, {0, 0, 0});
    t.points.assign(kMeshLandmarks, {0, 0, 0});
    t.offsets.assign(kMeshLandmarks, {0, 0, 0});
    t.raw.assign(n_, 0.0f);
    t.filters.assign(n_, OneEuroFilter(opts_.smoothing_params));
    if (refiner_) t.appearance = refiner_->NewTrack();
    t.start_ns = pts_ns;
  }
  Track& t = it->second;
  MirrorResult& res = t.result;
  if (res.updates > 0 && pts_ns <= res.pts_ns) return &res;  // not after the previous frame
  float scale = 0;
  Eigen::Vector3f translation = Eigen::Vector3f::Zero();
  if (!Normalise(face.landmarks, frame_width, frame_height, t.points, &res.rotation, &scale,
                 &translation))
    return &res;
  const auto ypr = RotationToYawPitchRoll(res.rotation);
  res.yaw = ypr[0];
  res.pitch = ypr[1];
  res.roll = ypr[2];
  res.pts_ns = pts_ns;
  ++res.updates;
  // A picture is used only when it is the frame the landmarks came from (its size).
  const bool picture = refiner_ && frame && frame->width == frame_width &&
                       frame->height == frame_height;
  t.appearance.last_refined = 0;

  if (!res.calibrated) {
    if (t.calib_count < kMaxCalibrationFrames) {
      AddEvidence(t);
      if (picture) refiner_->AddNeutral(t.appearance, *frame, face.landmarks);
    }
    const double elapsed = 1e-9 * static_cast<double>(pts_ns - t.start_ns);
    if ((elapsed >= opts_.calibration_s && t.calib_count >= opts_.min_calibration_frames) ||
        t.calib_count >= kMaxCalibrationFrames) {
      Calibrate(t, 0.0);
      t.last_sample_ns = pts_ns;
      // The texture template only from a full set of pictures: a neutral mesh learned
      // partly without them would not match it. It stays from this first window.
      if (refiner_ && t.appearance.neutral_frames == t.calib_count &&
          refiner_->Finish(t.appearance))
        BuildTextureWeights(t);
    }
    if (!res.calibrated) return &res;  // weights stay 0 until the neutral is known
  } else if (1e-9 * static_cast<double>(pts_ns - t.last_sample_ns) >= opts_.evidence_period_s) {
    // A gap (the face lost a while) counts as at most one period for the allowance.
    const double dt = std::min(2 * opts_.evidence_period_s,
                               1e-9 * static_cast<double>(pts_ns - t.last_sample_ns));
    AddEvidence(t);
    Calibrate(t, dt);
    t.last_sample_ns = pts_ns;
  }

  const bool refined = picture && t.appearance.ready && !t.wnormal.empty() &&
                       refiner_->Refine(t.appearance, *frame, face.landmarks, res.rotation,
                                        t.points) > 0;
  for (int v = 0; v < kMeshLandmarks; ++v)
    for (int c = 0; c < 3; ++c) t.offsets[v][c] = t.points[v][c] - t.neutral[v][c];
  if (refined) {
    const float* r = t.offsets.data()->data();
    float bp[kMaxTargets];
    for (int k = 0; k < n_; ++k) bp[k] = Dot(&t.wdt[static_cast<size_t>(k) * kCoords], r, kCoords);
    BoundedSolve(bp, t.raw, t.wnormal.data(), t.wsparsity.data());
    res.residual_cm = WeightedResidual(t, bp, r);
  } else {
    res.residual_cm = Solve(t.offsets, t.raw);
  }
  const double ts = 1e-9 * static_cast<double>(pts_ns);
  for (int k = 0; k < n_; ++k) {
    float w = t.raw[k];
    if (opts_.smoothing) w = static_cast<float>(t.filters[k].Filter(ts, w));
    res.weights[k] = std::clamp(w, 0.0f, 1.0f);
  }
  // Map values in basis order; the keys were inserted when the track appeared.
  for (int k = 0; k < n_; ++k) res.blendshapes.find(basis_.names()[k])->second = res.weights[k];

  // Step 6: the measured 15, from the residual at the chin and lips and the iris landmarks.
  for (int v : kMeasuredVertices)
    for (int c = 0; c < 3; ++c) {
      float x = t.offsets[v][c];
      for (int k = 0; k < n_; ++k) x -= t.raw[k] * d_[static_cast<size_t>(k) * kCoords + 3 * v + c];
      t.residual[v][c] = x;
    }
  std::array<std::array<float, 3>, 2> iris{};
  const bool has_iris = face.landmarks.size() >= 478;
  if (has_iris) {
    const Eigen::Matrix3f rt = res.rotation.transpose() / scale;
    for (int e = 0; e < 2; ++e) {
      const auto& q = face.landmarks[e == 0 ? 468 : 473];
      const Eigen::Vector3f p = rt * (Eigen::Vector3f(q[0], -q[1], -q[2]) - translation);
      iris[e] = {p.x(), p.y(), p.z()};
    }
  }
  float measured[kMeasuredCount];
  MeasureBlendshapes(t.residual, t.points, has_iris ? &iris : nullptr, measured);
  for (int k = 0; k < kMeasuredCount; ++k) {
    float w = measured[k];
    if (opts_.smoothing) w = static_cast<float>(t.measured_filters[k].Filter(ts, w));
    res.measured[k] = std::clamp(w, 0.0f, 1.0f);
    res.blendshapes.find(MeasuredNames()[k])->second = res.measured[k];  // no allocation
  }
  return &res;
}

const MirrorResult* MirrorSolver::Get(int64_t id) const {
  auto it = tracks_.find(id);
  return it == tracks_.end() ? nullptr : &it->second.result;
}

int MirrorSolver::refined_vertices(int64_t id) const {
  auto it = tracks_.find(id);
  return it == tracks_.end() ? 0 : it->second.appearance.last_refined;
}

bool MirrorSolver::DropTrack(int64_t id) { return tracks_.erase(id) > 0; }

size_t MirrorSolver::DropStale(int64_t now_ns) {
  const int64_t timeout = static_cast<int64_t>(opts_.track_timeout_s * 1e9);
  size_t n = 0;
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    const int64_t last = it->second.result.updates ? it->second.result.pts_ns : it->second.start_ns;
    if (now_ns - last > timeout) {
      it = tracks_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace fg
