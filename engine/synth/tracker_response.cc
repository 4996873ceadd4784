#include "engine/synth/tracker_response.h"

#include <optional>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "engine/synth/expression_track.h"

namespace fg {

std::vector<uint8_t> CalibrationRendering(const ImageView& photo, bool mirror, float scale,
                                          float roll_deg) {
  const int w = photo.width, h = photo.height;
  std::vector<uint8_t> out(static_cast<size_t>(w) * h * 3);
  const float cx = 0.5f * (w - 1), cy = 0.5f * (h - 1);
  const float a = roll_deg * 3.14159265f / 180.0f;
  // Forward: frame = C + s R(roll) M (scene - C), R counter-clockwise on screen (y down):
  // (x, y) -> (x cos + y sin, -x sin + y cos). Inverse per output pixel.
  const float c = std::cos(a), s = std::sin(a);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float u = (x - cx) / scale, v = (y - cy) / scale;
      float sx = c * u - s * v, sy = s * u + c * v;  // R^-1
      if (mirror) sx = -sx;
      const auto p = photo.Bilinear(cx + sx, cy + sy);
      uint8_t* d = &out[(static_cast<size_t>(y) * w + x) * 3];
      for (int k = 0; k < 3; ++k)
        d[k] = static_cast<uint8_t>(std::lround(std::clamp(p[k], 0.0f, 255.0f)));
    }
  return out;
}

ResponseCalibrationOptions SubjectCalibrationOptions(const TrackerOptions& tracker) {
  ResponseCalibrationOptions co;
  co.tracker = tracker;
  co.appearance = true;
  co.symmetrise = false;
  co.views = {{false, 1.0f, 5.0f}, {false, 1.0f, -5.0f}, {false, 0.95f, 0.0f}};
  return co;
}

std::optional<ResponseBasis> MeasureTrackerResponse(const ImageView& photo,
                                                    const ResponseCalibrationOptions& opts,
                                                    std::string* error) {
  auto fail = [&](const std::string& m) -> std::optional<ResponseBasis> {
    if (error) *error = "tracker response calibration: " + m;
    return std::nullopt;
  };
  if (opts.weights.empty()) return fail("no weights given");
  for (float w : opts.weights)
    if (!(w > 0)) return fail("weights must be > 0 (got " + std::to_string(w) + ")");
  if (opts.views.empty()) return fail("no calibration view given");
  if (opts.frames_per_weight < 1 || opts.settle_frames < 0 || opts.lead_in_frames < 1)
    return fail("frames_per_weight and lead_in_frames must be >= 1, settle_frames >= 0");
  for (const auto& cv : opts.views)
    if (!(cv.scale > 0)) return fail("view scale must be > 0");
  std::vector<std::vector<std::array<float, 3>>> total;
  std::vector<int> targets;
  std::vector<std::string> names;
  std::vector<int> twin, mvert;
  std::vector<std::vector<std::array<float, 3>>> geo;
  for (const auto& cv : opts.views) {
    const std::vector<uint8_t> rgb =
        CalibrationRendering(photo, cv.mirror, cv.scale, cv.roll_deg);
    const int W = photo.width, H = photo.height;
    ImageView view;
    if (auto e = ImageView::Wrap(PixelFormat::kRGB, W, H, {rgb.data()}, {3 * W}, &view))
      return fail(*e);
    ExpressionTrackOptions eo;
    eo.models_dir = opts.tracker.models_dir;
    eo.backend = opts.tracker.backend;
    std::string err;
    auto track = ExpressionTrack::Create(view, eo, &err);
    if (!track) return fail(err);
    TrackerOptions to = opts.tracker;
    to.async_detect = false;  // deterministic
    auto tracker = FaceTracker::Create(to, &err);
    if (!tracker) return fail(err);
    const BlendshapeBasis& basis = track->basis();
    MirrorSolver norm(track->canonical(), basis);
    // With appearance: the landmarks refined from the texture as MirrorSolver does with a
    // picture (template from the neutral lead-in), so the response is the whole front end's.
    std::optional<AppearanceRefiner> refiner;
    AppearanceRefiner::State app;
    if (opts.appearance) {
      refiner.emplace(track->canonical(), basis, opts.appearance_options);
      app = refiner->NewTrack();
    }
    Eigen::Matrix3f rot;
    targets.clear();
    if (opts.targets.empty()) {
      for (int k = 0; k < basis.size(); ++k) targets.push_back(k);
    } else {
      for (const std::string& n : opts.targets) {
        const int k = basis.Index(n);
        if (k < 0) return fail("unknown target '" + n + "'");
        targets.push_back(k);
      }
    }

    constexpr int kV = kMeshLandmarks;
    std::vector<uint8_t> frame;
    std::vector<float> wv(basis.size(), 0.0f);
    std::vector<std::array<float, 3>> pts(kV);
    int64_t pts_ns = 0;
    // Renders `wv`, runs the tracker `n` times, adds the normalised mesh of the last `keep`
    // runs to acc (3 x 468); false when the face is lost.
    auto run = [&](int n, int keep, std::vector<double>* acc, bool neutral_frames = false) {
      frame = rgb;
      draw::MutableImageView dst;
      if (draw::MutableImageView::Wrap(PixelFormat::kRGB, W, H, {frame.data()}, {3 * W}, &dst))
        return false;
      if (!track->Render(view, wv, dst)) return false;
      ImageView fv;
      if (ImageView::Wrap(PixelFormat::kRGB, W, H, {frame.data()}, {3 * W}, &fv)) return false;
      for (int i = 0; i < n; ++i, pts_ns += 33'333'333) {
        FrameFaces ff = tracker->Process(fv, pts_ns);
        if (ff.faces.empty()) return false;
        size_t best = 0;  // the largest face
        for (size_t j = 1; j < ff.faces.size(); ++j)
          if (ff.faces[j].box.w * ff.faces[j].box.h > ff.faces[best].box.w * ff.faces[best].box.h)
            best = j;
        const auto& lm = ff.faces[best].landmarks;
        if (!norm.Normalise(lm, W, H, pts, &rot, nullptr)) return false;
        if (refiner && i >= n - keep) {
          if (neutral_frames)
            refiner->AddNeutral(app, fv, lm);
          else
            refiner->Refine(app, fv, lm, rot, pts);
        }
        if (i >= n - keep && acc)
          for (int v = 0; v < kV; ++v)
            for (int c = 0; c < 3; ++c) (*acc)[3 * v + c] += pts[v][c];
      }
      return true;
    };

    std::vector<double> neutral(3 * kV, 0.0);
    const int lead_keep = std::max(1, opts.lead_in_frames - 3);
    if (!run(std::max(opts.lead_in_frames, lead_keep), lead_keep, &neutral, true))
      return fail("the tracker found no face in the calibration rendering");
    if (refiner) refiner->Finish(app);
    for (double& x : neutral) x /= lead_keep;

    std::vector<std::vector<std::array<float, 3>>> resp(basis.size());
    for (int k : targets) {
      std::vector<double> num(3 * kV, 0.0);
      double den = 0;
      for (float w : opts.weights) {
        std::fill(wv.begin(), wv.end(), 0.0f);
        wv[k] = w;
        std::vector<double> acc(3 * kV, 0.0);
        if (!run(opts.settle_frames + opts.frames_per_weight, opts.frames_per_weight, &acc))
          return fail("the tracker lost the face at " + basis.names()[k] + " " +
                      std::to_string(w));
        for (int i = 0; i < 3 * kV; ++i)
          num[i] += w * (acc[i] / opts.frames_per_weight - neutral[i]);
        den += static_cast<double>(w) * w;
      }
      std::fill(wv.begin(), wv.end(), 0.0f);
      if (!run(opts.settle_frames, 0, nullptr))
        return fail("the tracker lost the face after " + basis.names()[k]);
      resp[k].assign(kV, {0, 0, 0});
      for (int v = 0; v < kV; ++v)
        for (int c = 0; c < 3; ++c) resp[k][v][c] = static_cast<float>(num[3 * v + c] / den);
    }

    if (total.empty()) {
      total.assign(basis.size(), {});
      names = basis.names();
      for (int k = 0; k < basis.size(); ++k) {
        twin.push_back(basis.MirrorTarget(k));
        geo.push_back(basis.Delta(k));
      }
      for (int v = 0; v < kV; ++v) mvert.push_back(basis.MirrorVertex(v));
    }
    const float share = 1.0f / static_cast<float>(opts.views.size());
    for (int k : targets) {
      if (total[k].empty()) total[k].assign(kV, {0, 0, 0});
      for (int v = 0; v < kV; ++v)
        for (int c = 0; c < 3; ++c) total[k][v][c] += share * resp[k][v][c];
    }
  }  // views
  constexpr int kV = kMeshLandmarks;
  std::vector<std::vector<std::array<float, 3>>> resp = std::move(total);
  if (opts.support_cm > 0)
    for (int k : targets)
      for (int v = 0; v < kV; ++v) {
        const auto& g = geo[k][v];
        if (std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]) < opts.support_cm)
          resp[k][v] = {0, 0, 0};
      }
  if (opts.symmetrise) {
    std::vector<std::vector<std::array<float, 3>>> sym = resp;
    for (int k : targets) {
      const int t = twin[k];
      if (resp[t].empty()) continue;  // the twin was not measured
      for (int v = 0; v < kV; ++v) {
        const auto& m = resp[t][mvert[v]];
        sym[k][v] = {0.5f * (resp[k][v][0] - m[0]), 0.5f * (resp[k][v][1] + m[1]),
                     0.5f * (resp[k][v][2] + m[2])};
      }
    }
    resp = std::move(sym);
  }

  ResponseBasis r;
  for (int k : targets) {
    r.names.push_back(names[k]);
    r.deltas.push_back(resp[k]);
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "FaceTracker backend=%s iris=%d smoothing=%d; photo %dx%d;",
                opts.tracker.backend.c_str(), opts.tracker.iris ? 1 : 0,
                opts.tracker.smoothing ? 1 : 0, photo.width, photo.height);
  r.provenance = buf;
  for (const auto& cv : opts.views) {
    std::snprintf(buf, sizeof buf, " view mirrored=%d scale=%.3f roll=%.1f deg;",
                  cv.mirror ? 1 : 0, cv.scale, cv.roll_deg);
    r.provenance += buf;
  }
  std::snprintf(buf, sizeof buf, " support %.3f cm; weights", opts.support_cm);
  r.provenance += buf;
  for (float w : opts.weights) r.provenance += " " + std::to_string(w);
  r.provenance += opts.symmetrise ? "; L/R symmetrised" : "";
  r.provenance += opts.appearance ? "; appearance-refined" : "";
  return r;
}

}  // namespace fg
