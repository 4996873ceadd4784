#include "engine/vitals/vitals_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace fg {

namespace {
// centre x, centre y, size, yaw, pitch, roll, skin luminance, skin log(R/G), skin log(B/G)
constexpr int kAux = 9;

double Std(std::span<const float> x) {
  if (x.empty()) return 0;
  double m = 0;
  for (float v : x) m += v;
  m /= x.size();
  double s = 0;
  for (float v : x) s += (v - m) * (v - m);
  return std::sqrt(s / x.size());
}
}  // namespace

// One track's ring buffer: `capacity` frames of patch RGB, patch weight and motion/light data.
// Full after `capacity` pushes; the oldest frame is overwritten.
struct VitalsEstimator::Track {
  int capacity = 0, patches = 0;
  int head = 0, count = 0;  // head: next slot to write
  std::vector<int64_t> pts;
  std::vector<float> rgb;     // capacity x patches x 3
  std::vector<float> weight;  // capacity x patches
  std::vector<float> aux;     // capacity x kAux
  int64_t last_update_pts = std::numeric_limits<int64_t>::min();
  bool has_result = false;
  VitalsResult result;
  // Session spectrum (see the header): the weighted sum of the updates' normalised spectra,
  // and each update's (bpm, weight) for the agreement factor.
  std::vector<double> session_power;
  std::vector<std::array<float, 2>> session_votes;
  SessionVitals session;
  // The reported rate's tracker (created on the first update) and its last update's pts.
  std::optional<RateTracker> rate;
  int64_t rate_pts = -1;
  int Slot(int i) const { return (head - count + i + 2 * capacity) % capacity; }  // i-th oldest
  int64_t Newest() const { return count ? pts[Slot(count - 1)] : std::numeric_limits<int64_t>::min(); }
};

VitalsEstimator::~VitalsEstimator() = default;

std::unique_ptr<VitalsEstimator> VitalsEstimator::Create(const CanonicalFace& canonical,
                                                         const VitalsOptions& o,
                                                         std::string* error) {
  auto e = CreateCommon(o, error);
  if (!e) return nullptr;
  if (e->opts_.spectral_tilt < 0) e->opts_.spectral_tilt = 0;
  e->graph_ = FaceSTGraph::Create(canonical, error);
  if (!e->graph_) return nullptr;
  const int np = e->graph_->num_patches();
  for (int p = 0; p < np; ++p) {
    e->layout_.region.push_back(e->graph_->RegionOfPatch(p));
    e->layout_.neighbours.push_back(e->graph_->PatchNeighbours(p));
  }
  return e;
}

std::unique_ptr<VitalsEstimator> VitalsEstimator::Create(const PatchLayout& layout,
                                                         const VitalsOptions& o,
                                                         std::string* error) {
  const size_t np = layout.region.size();
  auto fail = [&](const std::string& m) {
    if (error) *error = "VitalsEstimator: patch layout: " + m;
    return nullptr;
  };
  if (np == 0) return fail("no patches");
  if (layout.neighbours.size() != np) return fail("neighbours and regions differ in size");
  for (size_t p = 0; p < np; ++p) {
    const int r = static_cast<int>(layout.region[p]);
    if (r < 0 || r >= kFaceRegions) return fail("patch " + std::to_string(p) + " has no valid region");
    for (int q : layout.neighbours[p])
      if (q < 0 || static_cast<size_t>(q) >= np || static_cast<size_t>(q) == p)
        return fail("patch " + std::to_string(p) + " has a bad neighbour " + std::to_string(q));
  }
  auto e = CreateCommon(o, error);
  if (!e) return nullptr;
  e->layout_ = layout;
  if (e->opts_.spectral_tilt < 0) e->opts_.spectral_tilt = kRegionSpectralTilt;
  return e;
}

std::unique_ptr<VitalsEstimator> VitalsEstimator::CreateCommon(const VitalsOptions& o,
                                                               std::string* error) {
  auto fail = [&](const std::string& m) {
    if (error) *error = "VitalsEstimator: " + m;
    return nullptr;
  };
  if (!(o.fs >= 2 * o.band_hi_hz)) return fail("fs must be at least twice band_hi_hz");
  if (!(o.band_lo_hz > 0 && o.band_lo_hz < o.band_hi_hz)) return fail("bad heart-rate band");
  if (!(o.filter_lo_hz > 0 && o.filter_lo_hz <= o.band_lo_hz && o.filter_hi_hz >= o.band_hi_hz))
    return fail("the band-pass (filter_lo_hz, filter_hi_hz) must contain the heart-rate band");
  if (!(o.resp_lo_hz > 0 && o.resp_lo_hz < o.resp_hi_hz)) return fail("bad respiration band");
  if (!(o.window_s >= 2 && o.history_s >= o.window_s)) return fail("need 2 <= window_s <= history_s");
  if (!(o.max_fps > 0 && o.min_seconds > 0 && o.update_interval_s > 0)) return fail("bad rates");
  std::unique_ptr<VitalsEstimator> e(new VitalsEstimator());
  e->opts_ = o;
  e->band_.emplace(o.fs, o.filter_lo_hz, o.filter_hi_hz);
  e->resp_band_.emplace(o.fs, o.resp_lo_hz, o.resp_hi_hz);
  // Welch: segments of 0.8 window every 0.1 window (3 per window), zero-padded to >= 2048
  // bins (0.015 Hz = 0.9 bpm at 30 Hz before interpolation).
  const int wn = static_cast<int>(std::lround(o.window_s * o.fs));
  e->welch_.emplace(o.fs, std::max(8, static_cast<int>(0.8 * wn)), std::max(1, wn / 10), 2048);
  // Patch SNRs only weight the patches: a quarter of the bins is plenty (0.06 Hz at 30 Hz).
  e->patch_welch_.emplace(o.fs, std::max(8, static_cast<int>(0.8 * wn)), std::max(1, wn / 10), 512);
  const int rn = static_cast<int>(std::lround(o.resp_min_s * o.fs));
  e->resp_welch_.emplace(o.fs, rn, std::max(1, static_cast<int>(o.fs)), 4096);
  return e;
}

MeshPlacement SampleFacePatches(const FaceSTGraph& graph, const ImageView& frame,
                                const std::vector<std::array<float, 3>>& lm,
                                TriangleSamples* tri, PatchSamples* patches) {
  graph.SampleTriangles(frame, lm, tri);
  graph.AggregatePatches(*tri, patches);
  float minx = lm[0][0], maxx = minx, miny = lm[0][1], maxy = miny, sx = 0, sy = 0;
  for (int i = 0; i < kMeshLandmarks; ++i) {
    minx = std::min(minx, lm[i][0]), maxx = std::max(maxx, lm[i][0]);
    miny = std::min(miny, lm[i][1]), maxy = std::max(maxy, lm[i][1]);
    sx += lm[i][0], sy += lm[i][1];
  }
  return {{sx / kMeshLandmarks, sy / kMeshLandmarks},
          std::sqrt(std::max(0.0f, (maxx - minx) * (maxy - miny)))};
}

VitalsEstimator::Track& VitalsEstimator::GetTrack(int64_t id) {
  auto& slot = tracks_[id];
  if (!slot) {
    slot = std::make_unique<Track>();
    Track& t = *slot;
    t.capacity = static_cast<int>(std::ceil(opts_.history_s * opts_.max_fps)) + 2;
    t.patches = num_patches();
    t.pts.assign(t.capacity, 0);
    t.rgb.assign(static_cast<size_t>(t.capacity) * t.patches * 3, 0.0f);
    t.weight.assign(static_cast<size_t>(t.capacity) * t.patches, 0.0f);
    t.aux.assign(static_cast<size_t>(t.capacity) * kAux, 0.0f);
  }
  return *slot;
}

void VitalsEstimator::Push(int64_t track_id, int64_t pts_ns, const ImageView& frame,
                           const std::vector<std::array<float, 3>>& lm, const HeadPose& pose) {
  if (!graph_) {  // fixed-region mode has no mesh to sample
    ++dropped_;
    return;
  }
  if (lm.size() < static_cast<size_t>(kMeshLandmarks)) return;
  const MeshPlacement at = SampleFacePatches(*graph_, frame, lm, &tri_, &patches_);
  PushPatches(track_id, pts_ns, patches_, at.centre, at.size, pose);
}

void VitalsEstimator::Push(const Face& face, int64_t pts_ns, const ImageView& frame) {
  Push(face.id, pts_ns, frame, face.landmarks, face.pose.value_or(HeadPose{}));
}

void VitalsEstimator::PushPatches(int64_t track_id, int64_t pts_ns, const PatchSamples& p,
                                  std::array<float, 2> centre, float size, const HeadPose& pose) {
  Track& t = GetTrack(track_id);
  if (static_cast<int>(p.weight.size()) != t.patches || pts_ns <= t.Newest()) {
    ++dropped_;
    return;
  }
  const int s = t.head;
  t.pts[s] = pts_ns;
  double lum = 0, wsum = 0, sum_r = 0, sum_g = 0, sum_b = 0;
  for (int k = 0; k < t.patches; ++k) {
    const float w = p.weight[k];
    t.weight[static_cast<size_t>(s) * t.patches + k] = w;
    for (int c = 0; c < 3; ++c) t.rgb[(static_cast<size_t>(s) * t.patches + k) * 3 + c] = p.rgb[k][c];
    lum += w * (0.299 * p.rgb[k][0] + 0.587 * p.rgb[k][1] + 0.114 * p.rgb[k][2]);
    sum_r += w * p.rgb[k][0], sum_g += w * p.rgb[k][1], sum_b += w * p.rgb[k][2];
    wsum += w;
  }
  float* a = &t.aux[static_cast<size_t>(s) * kAux];
  a[0] = centre[0], a[1] = centre[1], a[2] = size;
  a[3] = pose.yaw, a[4] = pose.pitch, a[5] = pose.roll;
  a[6] = wsum > 0 ? static_cast<float>(lum / wsum) : 0.0f;
  const bool colour = wsum > 0 && sum_r > 0 && sum_g > 0 && sum_b > 0;
  a[7] = colour ? static_cast<float>(std::log(sum_r / sum_g)) : 0.0f;
  a[8] = colour ? static_cast<float>(std::log(sum_b / sum_g)) : 0.0f;
  t.head = (t.head + 1) % t.capacity;
  t.count = std::min(t.count + 1, t.capacity);
}

bool VitalsEstimator::Update(int64_t track_id) {
  auto it = tracks_.find(track_id);
  if (it == tracks_.end()) return false;
  RunUpdate(*it->second);
  return true;
}

int VitalsEstimator::UpdateDue() {
  int n = 0;
  const int64_t interval = static_cast<int64_t>(opts_.update_interval_s * 1e9);
  for (auto& [id, t] : tracks_) {
    if (t->count == 0) continue;
    if (t->has_result && t->Newest() - t->last_update_pts < interval) continue;
    RunUpdate(*t);
    ++n;
  }
  return n;
}

const VitalsResult* VitalsEstimator::Result(int64_t track_id) const {
  auto it = tracks_.find(track_id);
  return it == tracks_.end() || !it->second->has_result ? nullptr : &it->second->result;
}

void VitalsEstimator::DropTrack(int64_t track_id) { tracks_.erase(track_id); }

void VitalsEstimator::DropTracksBefore(int64_t pts_ns) {
  for (auto it = tracks_.begin(); it != tracks_.end();)
    it = it->second->Newest() < pts_ns ? tracks_.erase(it) : std::next(it);
}

std::vector<int64_t> VitalsEstimator::Tracks() const {
  std::vector<int64_t> ids;
  for (const auto& [id, t] : tracks_) ids.push_back(id);
  return ids;
}

void VitalsEstimator::AddToSession(Track& t, const Spectrum& spec, float bpm, float confidence) const {
  const VitalsOptions& o = opts_;
  const int lo = std::max(0, static_cast<int>(std::ceil(o.band_lo_hz / spec.df)));
  const int hi = std::min(static_cast<int>(spec.power.size()) - 1, static_cast<int>(std::floor(o.band_hi_hz / spec.df)));
  double band = 0;
  for (int i = lo; i <= hi; ++i) band += spec.power[i];
  if (!(band > 0) || !std::isfinite(band)) return;
  if (t.session_power.size() != spec.power.size()) t.session_power.assign(spec.power.size(), 0.0);
  // The update's vote: its confidence (plus a floor) times its peak's linear SNR, so that a
  // window with a clear peak outvotes a flat one even where every confidence is near 0 (real
  // compressed video, docs/eval/vitals.md).
  const double snr_db = std::clamp(SnrDb(spec, bpm / 60.0, o.band_lo_hz, o.band_hi_hz), -20.0, 20.0);
  const double w = (std::max(0.0f, confidence) + o.session_weight_floor) * std::pow(10.0, snr_db / 10.0);
  for (size_t i = 0; i < spec.power.size(); ++i) t.session_power[i] += w * spec.power[i] / band;
  t.session_votes.push_back({bpm, static_cast<float>(w)});
  Spectrum sum;
  sum.df = spec.df;
  sum.power = t.session_power;
  // With a spectral tilt the sub-harmonic rescue of FindTiltedPulsePeak (a clear pulse at
  // f / 2 on the untilted sum, SNR condition included) replaces session_subharmonic_ratio.
  Spectrum tilted;
  const SpectralPeak pk =
      o.spectral_tilt != 0
          ? FindTiltedPulsePeak(sum, o.spectral_tilt, o.band_lo_hz, o.band_hi_hz, o.subharmonic_ratio,
                                o.subharmonic_min_snr_db, &tilted)
          : FindPulsePeak(sum, o.band_lo_hz, o.band_hi_hz, o.session_subharmonic_ratio);
  SessionVitals& s = t.session;
  s.updates = static_cast<int>(t.session_votes.size());
  if (!pk.found) {
    s.valid = false;
    return;
  }
  s.valid = true;
  s.bpm = static_cast<float>(60 * pk.hz);
  s.snr_db = static_cast<float>(SnrDb(sum, pk.hz, o.band_lo_hz, o.band_hi_hz));
  double agree = 0, total = 0;
  for (const auto& [b, vw] : t.session_votes) {
    total += vw;
    if (std::abs(b - s.bpm) <= 6) agree += vw;
  }
  const double snr_f = std::clamp((s.snr_db - o.snr_floor_db) / (o.snr_full_db - o.snr_floor_db), 0.0, 1.0);
  s.confidence = static_cast<float>(snr_f * (total > 0 ? agree / total : 0.0));
}

void VitalsEstimator::RunUpdate(Track& t) {
  const VitalsOptions& o = opts_;
  VitalsResult& res = t.result;
  res = VitalsResult{};
  res.session = t.session;  // unchanged unless this update adds a spectrum
  t.has_result = true;
  t.last_update_pts = t.Newest();
  res.pts_ns = t.Newest();
  if (t.count < 2) return;

  // Samples within history_s of the newest, as seconds relative to it (<= 0).
  const int64_t newest = t.Newest();
  int first = 0;
  while (first < t.count - 1 && static_cast<double>(newest - t.pts[t.Slot(first)]) * 1e-9 > o.history_s) ++first;
  const int m = t.count - first;
  std::vector<double> tau(m);
  for (int i = 0; i < m; ++i) tau[i] = static_cast<double>(t.pts[t.Slot(first + i)] - newest) * 1e-9;
  const double span = -tau[0];
  const double fill_ratio = span / std::max(1e-9, o.window_s - 1.0 / o.fs);
  res.fill = fill_ratio >= 1 ? 1.0f : static_cast<float>(0.4 * fill_ratio);
  if (span < o.min_seconds) return;

  const int n = static_cast<int>(std::floor(span * o.fs)) + 1;
  const double t0 = -(n - 1) / o.fs;
  const int wn = std::min(n, static_cast<int>(std::lround(o.window_s * o.fs)));
  const int w0 = n - wn;  // the HR window is [w0, n)
  int first_w = 0;        // first sample inside the HR window
  while (first_w < m - 1 && tau[first_w] < -o.window_s) ++first_w;

  // Per patch: resample, method, band-pass, unit variance over the window.
  const int np = t.patches;
  std::vector<std::vector<float>> h(np);
  std::vector<bool> used(np, false);
  std::vector<double> patch_sd(np, 0.0), patch_w(np, 0.0);
  std::vector<double> pt;
  std::vector<float> pr, pg, pb, rr(n), rg(n), rb(n), scratch;
  std::vector<float> resp(n, 0.0f);
  double resp_w = 0;
  for (int p = 0; p < np; ++p) {
    pt.clear(), pr.clear(), pg.clear(), pb.clear();
    int seen_in_window = 0;
    double wsum = 0;
    for (int i = 0; i < m; ++i) {
      const int s = t.Slot(first + i);
      const float w = t.weight[static_cast<size_t>(s) * np + p];
      if (w <= 0) continue;
      const float* c = &t.rgb[(static_cast<size_t>(s) * np + p) * 3];
      pt.push_back(tau[i]), pr.push_back(c[0]), pg.push_back(c[1]), pb.push_back(c[2]);
      if (i >= first_w) ++seen_in_window, wsum += w;
    }
    // A patch must be seen in 90% of the window's frames to count.
    if (pt.size() < 2 || seen_in_window < 0.9 * (m - first_w)) continue;
    ResampleLinear(pt, pr, t0, o.fs, rr);
    ResampleLinear(pt, pg, t0, o.fs, rg);
    ResampleLinear(pt, pb, t0, o.fs, rb);
    h[p].resize(n);
    ApplyMethod(o.method, rr, rg, rb, o.fs, h[p], o.method_window_s);
    band_->Apply(h[p], &scratch);
    const double sd = Std(std::span<const float>(h[p]).subspan(w0));
    if (!(sd > 0) || !std::isfinite(sd)) continue;
    for (float& v : h[p]) v = static_cast<float>(v / sd);
    used[p] = true;
    patch_sd[p] = sd;
    patch_w[p] = wsum / std::max(1, seen_in_window);
    // Respiration: the pixel-weighted mean of the normalised green traces.
    double gm = 0;
    for (float v : rg) gm += v;
    gm /= n;
    if (gm > 0) {
      const double w = wsum / std::max(1, seen_in_window);
      for (int i = 0; i < n; ++i) resp[i] += static_cast<float>(w * (rg[i] / gm - 1.0));
      resp_w += w;
    }
  }

  // Graph Laplacian smoothing over the patch graph, x <- x - a D^-1 L_w x, i.e.
  // x_p += (a / deg_p) sum_q w_pq (x_q - x_p), with edge weights w_pq = max(0, corr(x_p, x_q))
  // over the window (a signal-adaptive graph, computed once per update; deg_p counts the mesh
  // neighbours). Pulse is spatially coherent, sensor noise is not; a patch whose signal does
  // not resemble its neighbours' (hair, a shadow, a specular spot) neither pollutes them nor
  // borrows from them. On synthetic data with independent patch noise the effect on the fused
  // SNR is within +-0.5 dB (the fusion below is itself an average); it is there for spatially
  // structured artefacts, which the tests do not model yet.
  {
    std::vector<std::vector<float>> wgt(np);
    for (int p = 0; p < np; ++p) {
      if (!used[p]) continue;
      for (int q : layout_.neighbours[p]) {
        double c = 0;
        if (used[q]) {
          for (int i = w0; i < n; ++i) c += static_cast<double>(h[p][i]) * h[q][i];
          c /= wn;  // both have unit variance (and ~zero mean) over the window
        }
        wgt[p].push_back(static_cast<float>(std::max(0.0, c)));
      }
    }
    std::vector<std::vector<float>> next(np);
    for (int it = 0; it < o.laplacian_iterations; ++it) {
      for (int p = 0; p < np; ++p) {
        if (!used[p]) continue;
        next[p] = h[p];
        const auto& nb = layout_.neighbours[p];
        float wsum = 0;
        for (size_t j = 0; j < nb.size(); ++j) wsum += wgt[p][j];
        if (!(wsum > 0)) continue;
        for (size_t j = 0; j < nb.size(); ++j) {
          if (wgt[p][j] <= 0) continue;
          const float a = static_cast<float>(o.laplacian_alpha) * wgt[p][j] / static_cast<float>(nb.size());
          const std::vector<float>& hq = h[nb[j]];
          for (int i = 0; i < n; ++i) next[p][i] += a * (hq[i] - h[p][i]);
        }
      }
      for (int p = 0; p < np; ++p)
        if (used[p]) h[p].swap(next[p]);
    }
  }

  // Patches -> regions -> fused (see "Fusion" in the header). kPixels: each patch's pulse in
  // the method's own relative units (h[p] x patch_sd[p]), weighted by its skin pixels over its
  // variance, summed per region and over the face. kSnr (the design before):
  // each patch at unit variance weighted by its own linear SNR, each region at unit variance
  // weighted by its SNR.
  Spectrum spec, tilted;  // the last analysed spectrum, and its tilted copy (spectral_tilt)
  auto analyse = [&](std::span<const float> x, double* hz, double* snr, const Welch& welch) {
    welch.Compute(x.subspan(w0), &spec);
    const SpectralPeak pk = FindTiltedPulsePeak(spec, o.spectral_tilt, o.band_lo_hz, o.band_hi_hz,
                                                o.subharmonic_ratio, o.subharmonic_min_snr_db, &tilted);
    *hz = pk.hz;
    *snr = pk.found ? SnrDb(spec, pk.hz, o.band_lo_hz, o.band_hi_hz) : -100.0;
  };
  const bool by_pixels = o.fusion == PatchFusion::kPixels;
  std::vector<std::vector<float>> region(kFaceRegions, std::vector<float>(n, 0.0f));
  std::array<double, kFaceRegions> region_wsum{};
  for (int p = 0; p < np; ++p) {
    if (!used[p]) continue;
    ++res.patches_used;
    double w;  // the factor on the unit-variance h[p]
    if (by_pixels) {
      // x_p = h[p] sd_p in relative units, weight pixels_p / sd_p^2: (pixels / sd^2) x_p.
      w = patch_w[p] / patch_sd[p];
      region_wsum[static_cast<int>(layout_.region[p])] += patch_w[p] / (patch_sd[p] * patch_sd[p]);
    } else {
      double hz, snr;
      analyse(h[p], &hz, &snr, *patch_welch_);
      w = std::pow(10.0, snr / 10.0);
      region_wsum[static_cast<int>(layout_.region[p])] += w;
    }
    const int r = static_cast<int>(layout_.region[p]);
    for (int i = 0; i < n; ++i) region[r][i] += static_cast<float>(w * h[p][i]);
  }
  std::vector<float> fused(n, 0.0f);
  std::array<double, kFaceRegions> region_w{};
  for (int r = 0; r < kFaceRegions; ++r) {
    if (!(region_wsum[r] > 0)) continue;
    if (by_pixels)  // the face's pixel-weighted mean, before the region is rescaled
      for (int i = 0; i < n; ++i) fused[i] += region[r][i];
    const double sd = Std(std::span<const float>(region[r]).subspan(w0));
    if (!(sd > 0)) continue;
    for (float& v : region[r]) v = static_cast<float>(v / sd);
    double hz, snr;
    analyse(region[r], &hz, &snr, *welch_);
    res.region_used[r] = true;
    res.region_bpm[r] = static_cast<float>(60 * hz);
    res.region_snr_db[r] = static_cast<float>(snr);
    // The region's vote in the agreement factor (and its weight in kSnr's fusion): its SNR.
    region_w[r] = std::pow(10.0, snr / 10.0);
    if (!by_pixels)
      for (int i = 0; i < n; ++i) fused[i] += static_cast<float>(region_w[r] * region[r][i]);
  }
  const double fsd = Std(std::span<const float>(fused).subspan(w0));
  if (!(fsd > 0)) return;
  for (float& v : fused) v = static_cast<float>(v / fsd);
  double hz, snr;
  analyse(fused, &hz, &snr, *welch_);
  const double window_hz = hz;
  res.window_bpm = static_cast<float>(60 * hz);
  // The tracker starts on the first full window: a partial one (the first window_s of a
  // track) has fewer Welch segments and a noisier spectrum, and locking onto its peak would
  // carry a warm-up harmonic into the seconds after it. Until then the window's own peak.
  if (o.track_rate && (fill_ratio >= 1 || (t.rate && t.rate->started()))) {
    if (!t.rate) t.rate.emplace(spec.df, o.band_lo_hz, o.band_hi_hz, o.tracking);
    const double dt = t.rate->started() ? static_cast<double>(newest - t.rate_pts) * 1e-9 : 0.0;
    hz = t.rate->Update(tilted, window_hz, dt);
    if (hz != window_hz) hz = RefinePeak(spec, hz, 2);  // on the untilted spectrum: no bias
    t.rate_pts = newest;
    if (hz != window_hz) snr = SnrDb(spec, hz, o.band_lo_hz, o.band_hi_hz);
  }
  res.valid = true;
  res.vitals.bpm = static_cast<float>(60 * hz);
  res.vitals.snr = static_cast<float>(snr);

  // Confidence factors.
  double max_gap = 0;
  for (int i = std::max(1, first_w); i < m; ++i) max_gap = std::max(max_gap, tau[i] - tau[i - 1]);
  res.gaps = max_gap > o.max_gap_s ? static_cast<float>(o.max_gap_s / max_gap) : 1.0f;
  res.snr_factor = static_cast<float>(
      std::clamp((snr - o.snr_floor_db) / (o.snr_full_db - o.snr_floor_db), 0.0, 1.0));
  {
    const int k = m - first_w;
    double mean[kAux] = {}, var[kAux] = {};
    for (int i = first_w; i < m; ++i)
      for (int a = 0; a < kAux; ++a) mean[a] += t.aux[static_cast<size_t>(t.Slot(first + i)) * kAux + a] / k;
    for (int i = first_w; i < m; ++i)
      for (int a = 0; a < kAux; ++a) {
        const double d = t.aux[static_cast<size_t>(t.Slot(first + i)) * kAux + a] - mean[a];
        var[a] += d * d / k;
      }
    const double s_pos = mean[2] > 0 ? std::sqrt(var[0] + var[1]) / mean[2] : 0.0;
    const double s_rot = std::sqrt(std::max({var[3], var[4], var[5]}));
    res.motion = static_cast<float>(std::exp(-0.5 * (s_pos / o.motion_scale) * (s_pos / o.motion_scale) -
                                             0.5 * (s_rot / o.rotation_scale_deg) * (s_rot / o.rotation_scale_deg)));
    // Luminance about its least-squares line over the window.
    double st = 0, sl = 0, stt = 0, stl = 0;
    for (int i = first_w; i < m; ++i) {
      const double x = tau[i], y = t.aux[static_cast<size_t>(t.Slot(first + i)) * kAux + 6];
      st += x, sl += y, stt += x * x, stl += x * y;
    }
    const double den = k * stt - st * st;
    const double slope = den > 0 ? (k * stl - st * sl) / den : 0.0, icpt = (sl - slope * st) / k;
    double rss = 0;
    for (int i = first_w; i < m; ++i) {
      const double y = t.aux[static_cast<size_t>(t.Slot(first + i)) * kAux + 6];
      rss += (y - slope * tau[i] - icpt) * (y - slope * tau[i] - icpt);
    }
    const double s_lum = mean[6] > 0 ? std::sqrt(rss / k) / mean[6] : 1.0;
    res.light = static_cast<float>(std::exp(-0.5 * (s_lum / o.light_scale) * (s_lum / o.light_scale)));
  }
  double agree = 0, total = 0;
  for (int r = 0; r < kFaceRegions; ++r) {
    if (!res.region_used[r]) continue;
    total += region_w[r];
    if (std::abs(res.region_bpm[r] - res.vitals.bpm) <= 6) agree += region_w[r];
  }
  res.agreement = total > 0 ? static_cast<float>(agree / total) : 0.0f;
  // Exposure / white-balance jumps: frame-to-frame steps of the skin's mean luminance or
  // colour ratios inside the window that are both above the absolute thresholds and far
  // outside the window's own frame-to-frame variation (kJumpOverTypical times its median
  // step): a camera's step is an isolated outlier, while sensor noise, however strong, moves
  // every frame alike and is the light and SNR factors' business, not this one's.
  constexpr double kJumpOverTypical = 6.0;
  std::array<std::vector<double>, 3>& steps = jump_steps_;  // reused: no allocation once grown
  for (auto& v : steps) v.clear();
  for (int i = std::max(1, first_w); i < m; ++i) {
    const float* a = &t.aux[static_cast<size_t>(t.Slot(first + i)) * kAux];
    const float* b = &t.aux[static_cast<size_t>(t.Slot(first + i - 1)) * kAux];
    if (!(a[6] > 0 && b[6] > 0)) continue;  // a frame without skin
    steps[0].push_back(std::abs(a[6] / b[6] - 1));
    steps[1].push_back(std::abs(a[7] - b[7]));
    steps[2].push_back(std::abs(a[8] - b[8]));
  }
  if (!steps[0].empty()) {
    std::array<double, 3> typical{};
    std::array<std::vector<double>, 3>& sorted = jump_sorted_;
    for (int c = 0; c < 3; ++c) {
      sorted[c] = steps[c];
      std::nth_element(sorted[c].begin(), sorted[c].begin() + sorted[c].size() / 2, sorted[c].end());
      typical[c] = sorted[c][sorted[c].size() / 2];
    }
    const double limit[3] = {o.jump_luminance, o.jump_chroma, o.jump_chroma};
    for (size_t i = 0; i < steps[0].size(); ++i) {
      bool jump = false;
      for (int c = 0; c < 3; ++c)
        jump |= steps[c][i] > limit[c] && steps[c][i] > kJumpOverTypical * typical[c];
      res.jumps += jump;
    }
  }
  res.exposure = res.jumps > 0 ? static_cast<float>(o.exposure_jump_factor) : 1.0f;
  res.vitals.confidence = std::clamp(
      res.fill * res.gaps * res.snr_factor * res.motion * res.light * res.agreement * res.exposure, 0.0f, 1.0f);
  AddToSession(t, spec, res.window_bpm, res.vitals.confidence);
  res.session = t.session;

  res.bvp.assign(fused.begin() + w0, fused.end());
  res.bvp_fs = o.fs;
  res.bvp_start_ns = newest - static_cast<int64_t>(std::llround((wn - 1) / o.fs * 1e9));

  // HRV over the last hrv_min_s once that much is buffered.
  if (span >= o.hrv_min_s - 1.0 / o.fs && res.vitals.confidence >= 0.5f) {
    // Beats are timed on the fused pulse narrowed to [0.65, 1.6] x the heart rate: that keeps
    // the sidebands of sinus arrhythmia (+-0.4 Hz at 70 bpm) and drops most of the band's
    // noise, which otherwise shifts peaks by tens of ms at 30 fps.
    const int hn = std::min(n, static_cast<int>(std::lround(o.hrv_min_s * o.fs)));
    std::vector<float> beat(fused.end() - hn, fused.end());
    BandPass(o.fs, std::max(o.band_lo_hz, 0.65 * hz), std::min(0.45 * o.fs, 1.6 * hz)).Apply(beat, &scratch);
    const std::vector<double> beats = DetectBeats(beat, o.fs, hz);
    const Hrv hrv = ComputeHrv(beats);
    if (hrv.ibi_ms.size() >= 10) {
      res.hrv_valid = true;
      res.ibi_ms = hrv.ibi_ms;
      res.sdnn_ms = hrv.sdnn_ms;
      res.rmssd_ms = hrv.rmssd_ms;
    }
  }
  // Respiration from the slow intensity modulation of the skin.
  if (span >= o.resp_min_s - 1.0 / o.fs && resp_w > 0) {
    // Illumination drift off first (a triangular moving average of 2 / resp_lo_hz), then the
    // breathing band.
    DetrendMovingAverage(resp, o.fs, 2.0 / o.resp_lo_hz, &scratch);
    resp_band_->Apply(resp, &scratch);
    Spectrum rs;
    resp_welch_->Compute(resp, &rs);
    const SpectralPeak pk = FindPeak(rs, o.resp_lo_hz, o.resp_hi_hz);
    if (pk.found) {
      const double rsnr = SnrDb(rs, pk.hz, o.resp_lo_hz, o.resp_hi_hz, o.resp_halfwidth_hz);
      res.resp_bpm = static_cast<float>(60 * pk.hz);
      res.resp_snr_db = static_cast<float>(rsnr);
      res.resp_valid = rsnr >= o.resp_min_snr_db;
    }
  }
}

}  // namespace fg
