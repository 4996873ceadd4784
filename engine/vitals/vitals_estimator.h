// VitalsEstimator: heart rate, pulse waveform, HRV and respiration per tracked face, by
// remote photoplethysmography over the face-mesh STGraph (stgraph.h, rppg.h).
//
//   Push(track, pts, frame, landmarks, pose)          caller's thread, every frame, cheap:
//     └─ FaceSTGraph::SampleTriangles ─► skin patches (48 nodes: RGB, weight)
//        + face centre, size, pose, luminance ─► the track's ring buffer (history_s)
//
//   Update(track) / UpdateDue()                        once a second per track (movable to a
//     for each patch: resample to fs ─► method ─► band-pass 0.5-4 Hz        worker later)
//     graph Laplacian smoothing across patch neighbours (shared mesh edges), edges weighted
//       by the neighbours' correlation over the window (a patch unlike its neighbours keeps
//       to itself)
//     patches ─► fused pulse: the pixel-weighted mean of the patches' pulses (see Fusion);
//       per region (forehead, cheeks, nose, chin) the same, for the region rates and the
//       agreement factor
//     Welch over the last window_s ─► bpm (Gaussian-interpolated peak in 0.7-3.5 Hz, with a
//       sub-harmonic check: FindPulsePeak), SNR (dB)
//     confidence = fill x gaps x SNR x motion x light x region agreement x exposure
//     session: the update's spectrum joins the track's session spectrum ─► session bpm,
//       SNR, confidence (whole-session estimate)
//     beats ─► IBI, SDNN, RMSSD (>= hrv_min_s of data); respiration 0.1-0.5 Hz (>= 20 s)
//
// Confidence (0..1) is the product of factors, each in VitalsResult so a consumer can see why:
//   fill       window_s of data: 1; a partial window gives at most 0.4 x its fraction;
//   gaps       longest gap between frames in the window > max_gap_s scales down;
//   snr        linear from snr_floor_db (0) to snr_full_db (1);
//   motion     exp(-(s_pos / motion_scale)^2 / 2 - (s_rot / rotation_scale_deg)^2 / 2), s_pos
//              the std of the face centre in face sizes over the window, s_rot the largest
//              std of yaw, pitch, roll (deg);
//   light      exp(-(s_lum / light_scale)^2 / 2), s_lum the std of the skin's luminance about a
//              straight line over the window, relative to its mean (slow drift is fine, a step
//              or flicker is not);
//   agreement  the SNR-weighted share of regions whose own peak is within 6 bpm of the fused
//              one;
//   exposure   exposure_jump_factor when the window holds an exposure or white-balance jump
//              (below), else 1.
//
// Fusion (PatchFusion::kPixels, the default): every patch's pulse x_p stays in the method's
// own relative units (a fraction of the skin's mean colour: the same scale on every patch) and
// is weighted by its skin pixels over its variance, pixels_p / var(x_p) over the window
// (pixels = pixels x visibility, averaged over the window). Noise in a patch's mean falls as
// 1 / sqrt(pixels) (sensor noise, and the block noise of compressed video), so the pixels make
// a 4-pixel patch at the face's edge count 1/100 of a 400-pixel cheek patch; the variance
// turns down a patch whose colour moves far more than a pulse does (hair or background
// entering at the edge, a shadow, a specular spot); on real video both factors help
// (docs/eval/vitals.md). The design before (kSnr, kept for comparison with
// tools/eval/vitals-trace) scaled every patch to unit variance and weighted it by its own
// spectral SNR: where every patch's SNR is poor (real compressed video) the SNR weights are
// all alike, the tiny patches count as much as the cheeks, and their noise, whose spectrum
// rises towards low frequencies, wins. Regression test: VitalsFusion.* (tests/vitals/rppg_test.cc).
//
// Rate tracking (track_rate, the default): the reported bpm is not each window's own peak but
// a forward-only HMM over the fused spectra (rppg.h RateTracker), so a window whose pulse
// drowns in noise moves the reported rate little; window_bpm keeps the window's own peak. The
// SNR (and so the confidence) is taken at the reported rate. The tracker starts on the first
// full window (before it, the window's own peak is reported): partial windows are too noisy
// to lock onto.
//
// Exposure and white-balance jumps: per frame, the skin's mean luminance and its mean colour
// ratios log(R/G), log(B/G) are kept (pixel-weighted over the patches). A change from one
// frame to the next of more than jump_luminance (relative) or jump_chroma (log ratio) is a
// jump: a camera's auto exposure or white balance stepping, a light switched. A pulse moves
// the skin's mean colour by well under 1 % peak to peak over a whole beat (0.1-0.5 % is
// typical), so a 2 % step in one frame is not a pulse. A step must also stand out from the
// window's own frame-to-frame variation (more than 6 times its median step), so noisy skin
// (a dark face, a noisy sensor) is left to the light and SNR factors rather than read as jumps. Every window that holds a jump gets
// the exposure factor (0.05 by default): the rate read across a step is not trusted, and once
// the step has left the window (window_s later) the factor is back to 1. jumps counts them.
//
// Session estimate: every update adds its fused spectrum over the search band, normalised to
// unit sum, weighted by (confidence + session_weight_floor) x its SNR (linear), to the track's
// session spectrum. The session heart rate is FindPulsePeak of that sum (without the
// sub-harmonic check by default: session_subharmonic_ratio); its SNR is SnrDb of it; its
// confidence is snr factor (snr_floor_db .. snr_full_db, as above) x the weighted share of the
// updates whose own rate is within 6 bpm of the session rate. Averaging normalised spectra lets
// every update vote with its whole spectrum (a second peak keeps its share of the vote) rather
// than only with its argmax; noise-only spectra average towards flat, whose SNR sits near
// -8 dB, so a session of noise scores a confidence near 0. Kept until the track is dropped.
// Nothing is reported before min_seconds of data (valid = false, confidence 0).
//
// The ring buffer keeps history_s = 32 s (not ~20 s) because HRV needs 30 s; stored per
// patch, not per triangle, that is 32 s x max_fps 60 x 48 patches x 16 B = 1.5 MB per track.
//
// Threading: thread-compatible: one estimator per stream, Push and Update from the same
// thread or under the caller's lock. Memory per track is allocated when the track first
// appears (ring buffer of history_s x max_fps frames); Push does not allocate after that.
// Update allocates its working arrays (once a second, not per frame).
//
// Fixed-region mode: Create(PatchLayout, ...) makes an estimator without a face mesh whose
// nodes are the caller's own patches (region_grid.h: a rectangle cut into a grid, neighbours
// sharing a side, the grid's quadrants and centre as the fusion regions); the caller pushes
// with PushPatches. Everything after sampling is the same code.
//
// Example:
//   auto est = fg::VitalsEstimator::Create(canonical, fg::VitalsOptions{}, &err);
//   for each frame:  for (const fg::Face& f : faces.faces) est->Push(f, pts_ns, view);
//                    est->UpdateDue();                         // cheap when nothing is due
//                    if (auto* r = est->Result(f.id); r && r->valid) f.vitals = r->vitals;
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/face.h"
#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/vitals/rppg.h"
#include "engine/vitals/stgraph.h"

namespace fg {

// VitalsOptions::spectral_tilt's default for fixed-region (skin patch) estimators.
inline constexpr double kRegionSpectralTilt = 1.5;

// How patches are fused (see "Fusion" in the header comment).
enum class PatchFusion { kPixels, kSnr };

struct VitalsOptions {
  PatchFusion fusion = PatchFusion::kPixels;
  // POS: the best on the synthetic grid (tools/bench/vitals_grid, README "Vitals accuracy on
  // synthetic video"): lowest MAE (tied with PBV), lowest RMSE, highest r, most confident
  // estimates; and it assumes no skin-colour signature (PBV does).
  RppgMethod method = RppgMethod::kPos;
  double fs = 30;                 // uniform resampling grid (Hz)
  double window_s = 10;           // Welch window for the heart rate
  double update_interval_s = 1;   // UpdateDue() period per track
  double history_s = 32;          // ring buffer span; HRV needs 30 s
  double max_fps = 60;            // ring capacity = history_s x max_fps frames
  // The heart-rate search band (42-210 bpm), and the band-pass corners, set outside it so the
  // filter is flat across the search band: each corner of the zero-phase 2nd-order filter is
  // -6 dB, so a corner at 0.7 Hz took 5 dB off a 45 bpm (0.75 Hz) fundamental and let its
  // harmonic win (README "Vitals accuracy on synthetic video"). filter_lo_hz 0.5: -1.6 dB at
  // 0.75 Hz, -2 dB at 0.7 Hz, and breathing still -25 dB at 0.25 Hz; filter_hi_hz 4: -2.4 dB
  // at 3 Hz (180 bpm), -4 dB at 3.5 Hz. The method's own 1.6 s windows remove drift too.
  double band_lo_hz = 0.7, band_hi_hz = 3.5;
  double filter_lo_hz = 0.5, filter_hi_hz = 4.0;
  // FindPulsePeak's sub-harmonic check (rppg.h): a peak at f / 2 or f / 3 with >= this share
  // of the winner's power is taken as the fundamental. 0 turns it off.
  double subharmonic_ratio = 0.5;
  // ... and only when the sub-harmonic reading is itself a clear pulse: its SnrDb (f / 2 and its
  // harmonic f against the rest of the band) at least this. 0 dB: the pulse at f / 2 holds more
  // of the band's power than everything else. A clean pulse whose harmonic beat it passes
  // (the synthetic 45 bpm case); on real compressed video the f / 2 peak is the low-frequency
  // noise, and without this condition the check halved correct rates (docs/eval/vitals.md).
  double subharmonic_min_snr_db = 0;
  double resp_lo_hz = 0.1, resp_hi_hz = 0.5;
  // Respiration SNR: +-resp_halfwidth_hz around the peak (the 20 s Hann segment's main lobe is
  // +-0.1 Hz wide; +-0.05 Hz holds most of a steady rate's power) against the rest of its band.
  double resp_min_s = 20, resp_min_snr_db = 3, resp_halfwidth_hz = 0.05;
  double hrv_min_s = 30;
  double method_window_s = 1.6;
  int laplacian_iterations = 2;
  double laplacian_alpha = 0.5;   // x_p += a sum_q w_pq (x_q - x_p) / deg_p, w_pq = max(0, corr)
  double min_seconds = 5;
  double max_gap_s = 0.5;
  // SNR (dB, +-0.1 Hz around the peak and its harmonic vs the rest of 0.7-3.5 Hz; with 8 s Hann
  // segments a pure tone scores about +7 dB, white noise about -6 dB) mapped linearly to 0..1.
  double snr_floor_db = -2, snr_full_db = 4;
  double motion_scale = 0.04, rotation_scale_deg = 4, light_scale = 0.01;
  // Exposure / white-balance jumps (see the header comment): per-frame thresholds and the
  // confidence factor of a window that holds one.
  double jump_luminance = 0.02, jump_chroma = 0.015, exposure_jump_factor = 0.05;
  // Session spectrum: each update's weight is its confidence plus this floor, so that a
  // session whose every window scored 0 still has a (low-confidence) rate. 0.3, not 0.02: on
  // real compressed video every confidence is near 0, and with 0.02 confidences of 0.00 or
  // 0.03 changed a window's vote 2.5-fold (docs/eval/vitals.md). A window across an exposure
  // jump (confidence <= 0.05) still votes with under a third of a clean one's weight.
  double session_weight_floor = 0.3;
  // FindPulsePeak's sub-harmonic check on the session spectrum: off. On real compressed video
  // the averaged spectrum keeps broad low-frequency power near f / 2, and the check halved
  // correct session rates (docs/eval/vitals.md).
  double session_subharmonic_ratio = 0;
  // The reported rate is tracked across updates (rppg.h RateTracker: a forward-only HMM over
  // the fused spectrum's bins); false reports each window's own peak (window_bpm) instead.
  bool track_rate = true;
  // The peak picking of every spectrum (window, region, session) and the rate tracker's
  // evidence see the spectrum multiplied by (f / 1 Hz)^spectral_tilt (rppg.h
  // FindTiltedPulsePeak; the SNR and the rate's refinement use the untilted one): noise from
  // motion and compression rises towards low frequencies, a pulse does not. 0 = off; < 0 = the
  // layout's default: kRegionSpectralTilt for a fixed region (a small skin patch, where that
  // noise buries the pulse), 0 for a face (its many pixels keep the pulse above it, and a clean
  // 45 bpm pulse whose harmonic the tilt raises stays safer). Chosen on real data
  // (docs/eval/vitals.md).
  double spectral_tilt = -1;
  RateTrackerOptions tracking;
};

// The whole session of a track so far (see the header comment).
struct SessionVitals {
  bool valid = false;      // at least one update added a spectrum
  int updates = 0;
  float bpm = 0, snr_db = 0, confidence = 0;
};

struct VitalsResult {
  int64_t pts_ns = -1;     // newest sample used
  bool valid = false;      // at least min_seconds of data
  Vitals vitals;           // bpm (tracked: track_rate), snr (dB, at bpm), confidence
  float window_bpm = 0;    // this window's own spectral peak, before tracking
  // The factors of vitals.confidence (see the header comment).
  float fill = 0, gaps = 0, snr_factor = 0, motion = 0, light = 0, agreement = 0, exposure = 1;
  int jumps = 0;           // exposure / white-balance jumps in the window
  SessionVitals session;   // the whole session so far, this update included
  std::array<float, kFaceRegions> region_bpm{}, region_snr_db{};
  std::array<bool, kFaceRegions> region_used{};
  int patches_used = 0;
  // Pulse waveform over the last window (unit variance), uniformly sampled.
  std::vector<float> bvp;
  double bvp_fs = 0;
  int64_t bvp_start_ns = -1;
  // HRV (valid when hrv_min_s of data are in the buffer and confidence >= 0.5).
  bool hrv_valid = false;
  std::vector<double> ibi_ms;
  double sdnn_ms = 0, rmssd_ms = 0;
  // Respiration (valid when resp_min_s of data are there and its SNR >= resp_min_snr_db).
  bool resp_valid = false;
  float resp_bpm = 0, resp_snr_db = 0;
};

// The nodes the estimator fuses: per patch its fusion region and its graph neighbours.
// Face mode takes it from FaceSTGraph; fixed-region mode brings its own (region_grid.h).
struct PatchLayout {
  std::vector<FaceRegion> region;           // per patch
  std::vector<std::vector<int>> neighbours;  // per patch, indices of adjacent patches
};

// Where a face is, as the motion factor sees it: the mean of its 468 mesh landmarks and the
// square root of their bounding box's area, in frame pixels.
struct MeshPlacement {
  std::array<float, 2> centre{};
  float size = 0;
};

// A face mesh sampled for PushPatches (what Push does with landmarks; VitalsWorker does it on
// the caller's thread): the graph's triangles sampled from `frame` into *tri, aggregated into
// its patches in *patches (both the caller's scratch, reused), and the mesh's placement.
// `landmarks` must hold at least kMeshLandmarks points.
MeshPlacement SampleFacePatches(const FaceSTGraph& graph, const ImageView& frame,
                                const std::vector<std::array<float, 3>>& landmarks,
                                TriangleSamples* tri, PatchSamples* patches);

class VitalsEstimator {
 public:
  static std::unique_ptr<VitalsEstimator> Create(const CanonicalFace& canonical,
                                                 const VitalsOptions& opts, std::string* error);
  // Without a mesh: PushPatches only (Push(...) with landmarks drops and counts the frame).
  // The error names what is wrong with the layout.
  static std::unique_ptr<VitalsEstimator> Create(const PatchLayout& layout,
                                                 const VitalsOptions& opts, std::string* error);
  ~VitalsEstimator();

  // One face on one frame. pts must increase per track; an older or equal pts is dropped
  // (counted in dropped_frames()). `landmarks`: >= 468 points in frame pixels.
  void Push(int64_t track_id, int64_t pts_ns, const ImageView& frame,
            const std::vector<std::array<float, 3>>& landmarks, const HeadPose& pose);
  void Push(const Face& face, int64_t pts_ns, const ImageView& frame);
  // The same from patch samples already taken (tests, replay). centre/size in frame pixels.
  void PushPatches(int64_t track_id, int64_t pts_ns, const PatchSamples& patches,
                   std::array<float, 2> centre, float size, const HeadPose& pose);

  // The spectral update of one track now. Returns false for an unknown track.
  bool Update(int64_t track_id);
  // Updates every track whose last update is update_interval_s (of its own pts) old.
  // Returns the number of tracks updated.
  int UpdateDue();

  // Latest result of a track (nullptr before its first Update or for an unknown id).
  const VitalsResult* Result(int64_t track_id) const;
  void DropTrack(int64_t track_id);
  // Drops tracks whose newest sample is older than pts_ns (people who left).
  void DropTracksBefore(int64_t pts_ns);
  std::vector<int64_t> Tracks() const;

  // Face mode only: a fixed-region estimator has no mesh (has_graph() is false).
  const FaceSTGraph& graph() const { return *graph_; }
  bool has_graph() const { return graph_ != nullptr; }
  int num_patches() const { return static_cast<int>(layout_.region.size()); }
  const VitalsOptions& options() const { return opts_; }
  // The last frame's triangle samples (overlays, tests).
  const TriangleSamples& last_samples() const { return tri_; }
  int64_t dropped_frames() const { return dropped_; }

 private:
  struct Track;
  VitalsEstimator() = default;
  static std::unique_ptr<VitalsEstimator> CreateCommon(const VitalsOptions& o, std::string* error);
  Track& GetTrack(int64_t id);
  void RunUpdate(Track& t);
  // Adds one update's fused spectrum to the track's session (see the header comment).
  void AddToSession(Track& t, const Spectrum& spec, float bpm, float confidence) const;

  VitalsOptions opts_;
  std::unique_ptr<FaceSTGraph> graph_;  // null in fixed-region mode
  PatchLayout layout_;
  std::map<int64_t, std::unique_ptr<Track>> tracks_;
  // Prepared once in Create(): the filters and spectra every update uses.
  std::optional<BandPass> band_, resp_band_;
  std::optional<Welch> welch_, patch_welch_, resp_welch_;  // patch_: coarser bins, for weights
  TriangleSamples tri_;   // scratch, reused per Push
  PatchSamples patches_;  // scratch, reused per Push
  // RunUpdate's exposure-jump scratch (frame-to-frame steps, and a copy for the median).
  std::array<std::vector<double>, 3> jump_steps_, jump_sorted_;
  int64_t dropped_ = 0;
};

}  // namespace fg
