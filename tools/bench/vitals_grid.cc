// vitals_grid: accuracy of every rPPG method over a grid of synthetic conditions, engine only.
//
//   FaceSynth (astronaut, known pulse) ──► FaceTracker (real models) ──► VitalsEstimator x 6
//                                                                        (one per method)
//
// Grid (each axis can be cut down with an option): true heart rate 45 60 75 90 120 150 180
// bpm; motion none / breathing / head; "degraded" off / on (on = sensor noise sigma 2 grey
// levels and a +-10 % light drift over 60 s); 15 / 25 / 30 fps, always with timestamp jitter
// (sigma 0.15 frame) and 2 % dropped frames. Each condition runs --seconds of video (default
// 25); every estimate once the 10 s window is full (t >= window) is scored against the true
// mean rate over the same window (FaceSynth::MeanBpm).
//
// Per method, overall and per motion: MAE, RMSE, Pearson r of estimate vs truth, the number of
// estimates, how many were confident (>= 0.5), and how many of those were wrong by > 10 bpm
// (the "never": a confident wrong number). Also the per-frame cost of the synthesiser
// and the tracker. --csv=FILE writes every estimate (condition, method, t, truth, estimate,
// confidence, snr).
//
//   vitals_grid [--hr=45,60,75,90,120,150,180] [--motion=none,breathing,head]
//               [--degraded=off,on] [--fps=15,25,30] [--seconds=25] [--csv=FILE]
//               [--backend=xnnpack] [--amplitude=1] [--seed=1]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/geometry/canonical_face.h"
#include "engine/synth/face_synth.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/vitals_estimator.h"

namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Sample {
  double truth, est, conf;
};

struct Stats {
  std::vector<Sample> s;
  void Print(const char* method, const char* subset) const {
    if (s.empty()) return;
    double ae = 0, se = 0, mt = 0, me = 0;
    int confident = 0, bad = 0;
    for (const Sample& x : s) {
      const double e = x.est - x.truth;
      ae += std::abs(e), se += e * e, mt += x.truth, me += x.est;
      if (x.conf >= 0.5) {
        ++confident;
        if (std::abs(e) > 10) ++bad;
      }
    }
    const double n = static_cast<double>(s.size());
    mt /= n, me /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (const Sample& x : s) sxy += (x.truth - mt) * (x.est - me), sxx += (x.truth - mt) * (x.truth - mt), syy += (x.est - me) * (x.est - me);
    const double r = sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
    std::printf("| %-5s | %-18s | %6.2f | %6.2f | %6.3f | %5d | %5d | %3d |\n", method, subset, ae / n, std::sqrt(se / n), r,
                static_cast<int>(n), confident, bad);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string hr_list = "45,60,75,90,120,150,180", motion_list = "none,breathing,head", degraded_list = "off,on",
              fps_list = "15,25,30", csv_path, backend = "xnnpack";
  double seconds = 25, amplitude = 1.0;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; ++i) {
    auto opt = [&](const char* name, std::string* v) {
      const size_t n = std::strlen(name);
      if (std::strncmp(argv[i], name, n) == 0) return *v = argv[i] + n, true;
      return false;
    };
    std::string v;
    if (opt("--hr=", &hr_list) || opt("--motion=", &motion_list) || opt("--degraded=", &degraded_list) ||
        opt("--fps=", &fps_list) || opt("--csv=", &csv_path) || opt("--backend=", &backend))
      continue;
    if (opt("--seconds=", &v)) seconds = std::atof(v.c_str());
    else if (opt("--amplitude=", &v)) amplitude = std::atof(v.c_str());
    else if (opt("--seed=", &v)) seed = std::strtoull(v.c_str(), nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: vitals_grid [--hr=45,60,...] [--motion=none,breathing,head] [--degraded=off,on]\n"
                   "                   [--fps=15,25,30] [--seconds=25] [--csv=FILE] [--backend=xnnpack]\n"
                   "                   [--amplitude=1] [--seed=1]\n");
      return 2;
    }
  }
  const char* env = std::getenv("FACEGRAPH_MODELS");
  const std::string models = env && *env ? env : FG_MODELS_DEFAULT_DIR;
  std::string err;
  auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
  if (!canonical) {
    std::fprintf(stderr, "vitals_grid: %s\n", err.c_str());
    return 1;
  }
  std::FILE* csv = nullptr;
  if (!csv_path.empty()) {
    csv = std::fopen(csv_path.c_str(), "w");
    if (!csv) {
      std::fprintf(stderr, "vitals_grid: cannot write %s\n", csv_path.c_str());
      return 1;
    }
    std::fprintf(csv, "hr,motion,degraded,fps,method,t_s,truth_bpm,est_bpm,confidence,snr_db\n");
  }

  constexpr int kMethods = 6;
  // stats[method][subset]: subset "all" and each motion name.
  std::vector<std::map<std::string, Stats>> stats(kMethods);
  double synth_ms = 0, track_ms = 0, vitals_ms = 0;
  long frames_total = 0, lost_frames = 0;
  int conditions = 0;
  const auto t_start = std::chrono::steady_clock::now();

  for (const std::string& motion_name : Split(motion_list)) {
    const auto motion = fg::SynthMotionFromName(motion_name);
    if (!motion) {
      std::fprintf(stderr, "vitals_grid: unknown motion \"%s\" (none, breathing, head)\n", motion_name.c_str());
      return 2;
    }
    for (const std::string& degraded : Split(degraded_list))
      for (const std::string& fps_s : Split(fps_list))
        for (const std::string& hr_s : Split(hr_list)) {
          fg::FaceSynthOptions so;
          so.photo_path = FG_ASTRONAUT;
          so.heart_rate_bpm = std::atof(hr_s.c_str());
          so.fps = std::atof(fps_s.c_str());
          so.motion = *motion;
          so.amplitude = amplitude;
          so.jitter = 0.15;
          so.drop = 0.02;
          so.seed = seed + conditions;
          if (degraded == "on") so.noise = 2, so.light_drift = 0.1;
          auto synth = fg::FaceSynth::Create(so, &err);
          if (!synth) {
            std::fprintf(stderr, "vitals_grid: %s\n", err.c_str());
            return 1;
          }
          fg::TrackerOptions to;
          to.models_dir = models;
          to.backend = backend;
          to.async_detect = false;  // reproducible: the detector joins on the frame it ran
          auto tracker = fg::FaceTracker::Create(to, &err);
          if (!tracker) {
            std::fprintf(stderr, "vitals_grid: %s\n", err.c_str());
            return 1;
          }
          std::vector<std::unique_ptr<fg::VitalsEstimator>> est;
          for (fg::RppgMethod m : fg::kAllRppgMethods) {
            fg::VitalsOptions vo;
            vo.method = m;
            est.push_back(fg::VitalsEstimator::Create(*canonical, vo, &err));
            if (!est.back()) {
              std::fprintf(stderr, "vitals_grid: %s\n", err.c_str());
              return 1;
            }
          }
          std::vector<int64_t> last_pts(kMethods, -1);
          fg::SynthFrame frame;
          const double window = fg::VitalsOptions{}.window_s;
          for (;;) {
            const fg::SynthTruth t = synth->Next();
            if (t.t_s > seconds) break;
            auto t0 = std::chrono::steady_clock::now();
            synth->Render(t, &frame);
            auto t1 = std::chrono::steady_clock::now();
            const fg::FrameFaces ff = tracker->Process(frame.View(), t.pts_ns);
            auto t2 = std::chrono::steady_clock::now();
            synth_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
            track_ms += std::chrono::duration<double, std::milli>(t2 - t1).count();
            ++frames_total;
            if (ff.faces.empty()) {
              ++lost_frames;
              continue;
            }
            for (int k = 0; k < kMethods; ++k) {
              est[k]->Push(ff.faces[0], t.pts_ns, frame.View());
              est[k]->UpdateDue();
              const fg::VitalsResult* r = est[k]->Result(ff.faces[0].id);
              if (!r || !r->valid || r->pts_ns == last_pts[k]) continue;
              last_pts[k] = r->pts_ns;
              const double tr = r->pts_ns * 1e-9;
              if (tr < window) continue;
              const double truth = synth->MeanBpm(tr - window, tr);
              const Sample s{truth, r->vitals.bpm, r->vitals.confidence};
              stats[k]["all"].s.push_back(s);
              stats[k][motion_name].s.push_back(s);
              stats[k][motion_name + (degraded == "on" ? "/degraded" : "/clean")].s.push_back(s);
              if (csv)
                std::fprintf(csv, "%s,%s,%s,%s,%s,%.3f,%.3f,%.3f,%.3f,%.2f\n", hr_s.c_str(), motion_name.c_str(),
                             degraded.c_str(), fps_s.c_str(), std::string(fg::RppgMethodName(fg::kAllRppgMethods[k])).c_str(),
                             tr, truth, r->vitals.bpm, r->vitals.confidence, r->vitals.snr);
            }
            vitals_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t2).count();
          }
          ++conditions;
          std::fprintf(stderr, "  [%3d] hr %s motion %s degraded %s fps %s done\n", conditions, hr_s.c_str(),
                       motion_name.c_str(), degraded.c_str(), fps_s.c_str());
        }
  }
  if (csv) std::fclose(csv);
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  std::printf("vitals_grid: %d conditions, %.0f s each, %ld frames (%ld without a face), %.0f s wall\n", conditions,
              seconds, frames_total, lost_frames, total_s);
  std::printf("per frame: synthesiser %.2f ms, tracker %.2f ms, 6 estimators %.2f ms\n\n",
              synth_ms / std::max(1L, frames_total), track_ms / std::max(1L, frames_total),
              vitals_ms / std::max(1L, frames_total - lost_frames));
  std::printf("| method | subset | MAE | RMSE | r | n | confident | confident, error > 10 |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  std::vector<std::string> subsets = {"all"};
  for (const std::string& m : Split(motion_list)) {
    subsets.push_back(m);
    subsets.push_back(m + "/clean");
    subsets.push_back(m + "/degraded");
  }
  for (int k = 0; k < kMethods; ++k)
    for (const std::string& sub : subsets) {
      auto it = stats[k].find(sub);
      if (it != stats[k].end())
        it->second.Print(std::string(fg::RppgMethodName(fg::kAllRppgMethods[k])).c_str(), sub.c_str());
    }
  return 0;
}
