// vitals-trace: the skin colour traces facevitals works on, kept in a file, and the estimator
// replayed over them with other settings. A diagnostic for heart rate on real video: the slow
// part (decoding and tracking) runs once per clip, the estimator's settings can then be
// compared in seconds, deterministically (facetrack's asynchronous detector makes two graph
// runs differ slightly; two replays of one trace never do).
//
//   dump:    raw I420 frames on stdin (gst-launch-1.0 ... ! video/x-raw,format=I420 ! fdsink)
//            ─► FaceTracker (as facetrack) ─► SampleFacePatches (as facevitals' face mode)
//            ─► TRACE: one line per frame (pts, track id, centre, size, pose, 48 patches' RGB
//               and weight); frames without a face keep their pts and id -1.
//            With --region x,y,w,h (or "full"): no tracker; the rectangle's 4 x 4 grid
//            (region_grid.h, as facevitals' region mode) as track 0 on every frame.
//   replay:  TRACE ─► VitalsEstimator::PushPatches + UpdateDue ─► one CSV row per update
//            (time_s, bpm, snr, confidence, session_bpm, session_confidence, region bpm).
//   spectrum: TRACE ─► per frame the pixel-weighted mean skin RGB of the main track, for
//            plotting or a spectrum elsewhere (time_s, r, g, b, centre x, y, size).
//
// Usage:
//   gst-launch-1.0 -q filesrc location=vid.mp4 ! decodebin ! videoconvert !
//     video/x-raw,format=I420,width=640,height=480 ! fdsink fd=1 |
//     vitals-trace dump --size 640x480 --fps 30 [--pts-file FILE] [--models DIR]
//                       [--region x,y,w,h|full] > trace.txt
//   vitals-trace replay trace.txt [--method pos] [--window 10] [--subharmonic 0.5]
//                      [--fusion pixels|snr] [--set OPTION=VALUE] ...   (OPTION: a VitalsOptions field)
//   vitals-trace mean trace.txt
// The frames are GStreamer's I420 (rows padded to 4 bytes, as fdsink writes them).
// --pts-file: one presentation time in seconds per line (the frames' own times); without it the
// frames are taken at k / fps.
//
// Threading: single-threaded tool (the tracker's detector worker aside). Exit status: 0 done,
// 1 a model or the input failed (the message says which), 2 usage.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/geometry/canonical_face.h"
#include "engine/image.h"
#include "engine/tracking/face_tracker.h"
#include "engine/vitals/region_grid.h"
#include "engine/vitals/rppg.h"
#include "engine/vitals/stgraph.h"
#include "engine/vitals/vitals_estimator.h"

namespace {

std::string DefaultModels() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/facegraph/models";
}

int Usage() {
  std::fprintf(stderr,
               "usage: vitals-trace dump --size WxH --fps F [--pts-file FILE] [--models DIR] [--region x,y,w,h|full]\n"
               "                         < I420 > TRACE\n"
               "       vitals-trace replay TRACE [--method M] [--window S] [--subharmonic R] [--fusion pixels|snr]\n"
               "                             [--set OPTION=VALUE]...\n"
               "       vitals-trace mean TRACE\n");
  return 2;
}

// GStreamer's I420 layout (what fdsink writes): rows padded to a multiple of 4 bytes.
int YStride(int w) { return (w + 3) / 4 * 4; }
int CStride(int w) { return ((w + 1) / 2 + 3) / 4 * 4; }

// Region mode: the rectangle's grid on every frame, as track 0 (facevitals mode=region).
int DumpRegion(int w, int h, double fps, const std::vector<double>& pts_list, const std::string& text,
               std::vector<uint8_t>* buf) {
  std::string err;
  const auto box = fg::ParseRegion(text, &err);
  if (!box) {
    std::fprintf(stderr, "vitals-trace: --region: %s\n", err.c_str());
    return 2;
  }
  constexpr int kCols = 4, kRows = 4;  // facevitals' region grid (VitalsWorkerOptions)
  const int ys = YStride(w), cs = CStride(w);
  const size_t ysz = static_cast<size_t>(ys) * h, csz = static_cast<size_t>(cs) * ((h + 1) / 2);
  fg::PatchSamples patches;
  std::printf("# vitals-trace 1 patches %d grid %d %d\n", kCols * kRows, kCols, kRows);
  for (int64_t k = 0;; ++k) {
    if (std::fread(buf->data(), 1, buf->size(), stdin) != buf->size()) break;
    uint8_t* d = buf->data();
    fg::ImageView view;
    if (auto e = fg::ImageView::Wrap(fg::PixelFormat::kI420, w, h, {d, d + ysz, d + ysz + csz},
                                     {ys, cs, cs}, &view)) {
      std::fprintf(stderr, "vitals-trace: %s\n", e->c_str());
      return 1;
    }
    const fg::Box r = fg::ClipRegion(view, *box);
    if (r.w <= 0) {
      std::fprintf(stderr, "vitals-trace: --region %s lies outside the %dx%d frame\n", text.c_str(), w, h);
      return 2;
    }
    fg::SampleGrid(view, r, kCols, kRows, &patches);
    const double t = k < static_cast<int64_t>(pts_list.size()) ? pts_list[k] : k / fps;
    std::printf("%lld 0 %.3f %.3f %.3f 0 0 0", static_cast<long long>(std::llround(t * 1e9)), r.x + r.w / 2,
                r.y + r.h / 2, std::sqrt(r.w * r.h));
    for (size_t p = 0; p < patches.rgb.size(); ++p)
      std::printf(" %.4f %.4f %.4f %.2f", patches.rgb[p][0], patches.rgb[p][1], patches.rgb[p][2],
                  patches.weight[p]);
    std::printf("\n");
  }
  return 0;
}

int Dump(int argc, char** argv) {
  int w = 0, h = 0;
  double fps = 0;
  std::string models = DefaultModels(), pts_file, region;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--size") std::sscanf(next().c_str(), "%dx%d", &w, &h);
    else if (a == "--fps") fps = std::atof(next().c_str());
    else if (a == "--models") models = next();
    else if (a == "--pts-file") pts_file = next();
    else if (a == "--region") region = next();
    else return Usage();
  }
  if (w <= 0 || h <= 0 || !(fps > 0)) return Usage();
  std::vector<double> pts_list;
  if (!pts_file.empty()) {
    std::ifstream f(pts_file);
    if (!f) {
      std::fprintf(stderr, "vitals-trace: %s: cannot read\n", pts_file.c_str());
      return 1;
    }
    for (double v; f >> v;) pts_list.push_back(v);
  }
  std::string err;
  const int ys = YStride(w), cs = CStride(w);
  const size_t ysz = static_cast<size_t>(ys) * h, csz = static_cast<size_t>(cs) * ((h + 1) / 2);
  std::vector<uint8_t> buf(ysz + 2 * csz);
  if (!region.empty()) return DumpRegion(w, h, fps, pts_list, region == "full" ? "" : region, &buf);
  fg::TrackerOptions to;
  to.models_dir = models;
  to.async_detect = false;  // deterministic: the detector's faces join on the frame it ran
  auto tracker = fg::FaceTracker::Create(to, &err);
  if (!tracker) {
    std::fprintf(stderr, "vitals-trace: %s\n", err.c_str());
    return 1;
  }
  auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
  if (!canonical) {
    std::fprintf(stderr, "vitals-trace: %s\n", err.c_str());
    return 1;
  }
  auto graph = fg::FaceSTGraph::Create(*canonical, &err);
  if (!graph) {
    std::fprintf(stderr, "vitals-trace: %s\n", err.c_str());
    return 1;
  }
  fg::TriangleSamples tri;
  fg::PatchSamples patches;
  std::printf("# vitals-trace 1 patches %d\n", graph->num_patches());
  for (int64_t k = 0;; ++k) {
    if (std::fread(buf.data(), 1, buf.size(), stdin) != buf.size()) break;
    fg::ImageView view;
    if (auto e = fg::ImageView::Wrap(fg::PixelFormat::kI420, w, h,
                                     {buf.data(), buf.data() + ysz, buf.data() + ysz + csz},
                                     {ys, cs, cs}, &view)) {
      std::fprintf(stderr, "vitals-trace: %s\n", e->c_str());
      return 1;
    }
    const double t = k < static_cast<int64_t>(pts_list.size()) ? pts_list[k] : k / fps;
    const int64_t pts = static_cast<int64_t>(std::llround(t * 1e9));
    const fg::FrameFaces faces = tracker->Process(view, pts);
    const fg::Face* best = nullptr;
    for (const fg::Face& f : faces.faces)
      if (f.landmarks.size() >= 468 && (!best || f.box.w * f.box.h > best->box.w * best->box.h)) best = &f;
    if (!best) {
      std::printf("%lld -1\n", static_cast<long long>(pts));
      continue;
    }
    const fg::MeshPlacement at = fg::SampleFacePatches(*graph, view, best->landmarks, &tri, &patches);
    const fg::HeadPose pose = best->pose.value_or(fg::HeadPose{});
    std::printf("%lld %lld %.3f %.3f %.3f %.3f %.3f %.3f", static_cast<long long>(pts),
                static_cast<long long>(best->id), at.centre[0], at.centre[1], at.size, pose.yaw, pose.pitch,
                pose.roll);
    for (size_t p = 0; p < patches.rgb.size(); ++p)
      std::printf(" %.4f %.4f %.4f %.2f", patches.rgb[p][0], patches.rgb[p][1], patches.rgb[p][2],
                  patches.weight[p]);
    std::printf("\n");
  }
  return 0;
}

struct Frame {
  int64_t pts = 0, id = -1;
  std::array<float, 2> centre{};
  float size = 0;
  fg::HeadPose pose;
  fg::PatchSamples patches;
};

// grid_cols > 0: a region-mode trace (its grid), else a face-mode one.
bool ReadTrace(const char* path, std::vector<Frame>* out, int* grid_cols = nullptr, int* grid_rows = nullptr) {
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "vitals-trace: %s: cannot read\n", path);
    return false;
  }
  std::string line;
  int np = 0;
  while (std::getline(f, line)) {
    if (line.rfind("#", 0) == 0) {
      int gc = 0, gr = 0;
      std::sscanf(line.c_str(), "# vitals-trace 1 patches %d grid %d %d", &np, &gc, &gr);
      if (grid_cols) *grid_cols = gc, *grid_rows = gr;
      continue;
    }
    std::istringstream s(line);
    Frame fr;
    long long pts, id;
    s >> pts >> id;
    fr.pts = pts, fr.id = id;
    if (id >= 0) {
      s >> fr.centre[0] >> fr.centre[1] >> fr.size >> fr.pose.yaw >> fr.pose.pitch >> fr.pose.roll;
      fr.patches.rgb.resize(np);
      fr.patches.weight.resize(np);
      for (int p = 0; p < np; ++p)
        s >> fr.patches.rgb[p][0] >> fr.patches.rgb[p][1] >> fr.patches.rgb[p][2] >> fr.patches.weight[p];
      if (!s) {
        std::fprintf(stderr, "vitals-trace: %s: a short line\n", path);
        return false;
      }
    }
    out->push_back(std::move(fr));
  }
  return true;
}

int Replay(int argc, char** argv) {
  if (argc < 1) return Usage();
  fg::VitalsOptions o;
  std::string models = DefaultModels();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--method") {
      auto m = fg::RppgMethodFromName(next());
      if (!m) return Usage();
      o.method = *m;
    } else if (a == "--window") o.window_s = std::atof(next().c_str());
    else if (a == "--subharmonic") o.subharmonic_ratio = std::atof(next().c_str());
    else if (a == "--fusion") {
      const std::string f = next();
      if (f != "pixels" && f != "snr") return Usage();
      o.fusion = f == "pixels" ? fg::PatchFusion::kPixels : fg::PatchFusion::kSnr;
    } else if (a == "--fs") o.fs = std::atof(next().c_str());
    else if (a == "--models") models = next();
    else if (a == "--set") {
      // --set name=value: any numeric VitalsOptions field below, for experiments.
      const std::string kv = next();
      const size_t eq = kv.find('=');
      const std::string k = kv.substr(0, eq);
      const double v = eq == std::string::npos ? 0 : std::atof(kv.c_str() + eq + 1);
      std::map<std::string, double*> fields = {
          {"band_lo_hz", &o.band_lo_hz}, {"band_hi_hz", &o.band_hi_hz}, {"filter_lo_hz", &o.filter_lo_hz},
          {"filter_hi_hz", &o.filter_hi_hz}, {"method_window_s", &o.method_window_s},
          {"laplacian_alpha", &o.laplacian_alpha}, {"min_seconds", &o.min_seconds},
          {"session_subharmonic_ratio", &o.session_subharmonic_ratio},
          {"session_weight_floor", &o.session_weight_floor}, {"snr_floor_db", &o.snr_floor_db},
          {"snr_full_db", &o.snr_full_db}, {"history_s", &o.history_s},
          {"subharmonic_min_snr_db", &o.subharmonic_min_snr_db}, {"subharmonic_ratio", &o.subharmonic_ratio},
          {"window_s", &o.window_s}, {"fs", &o.fs}, {"tracking.sigma_bpm", &o.tracking.sigma_bpm},
          {"tracking.jump", &o.tracking.jump}, {"tracking.gamma", &o.tracking.gamma},
          {"spectral_tilt", &o.spectral_tilt}};
      if (k == "laplacian_iterations") o.laplacian_iterations = static_cast<int>(v);
      else if (k == "track_rate") o.track_rate = v != 0;
      else if (k == "tracking.gate_bins") o.tracking.gate_bins = static_cast<int>(v);
      else if (fields.count(k)) *fields[k] = v;
      else {
        std::fprintf(stderr, "vitals-trace: --set %s: unknown option\n", k.c_str());
        return 2;
      }
    } else return Usage();
  }
  std::vector<Frame> frames;
  int grid_cols = 0, grid_rows = 0;
  if (!ReadTrace(argv[0], &frames, &grid_cols, &grid_rows)) return 1;
  std::string err;
  std::unique_ptr<fg::VitalsEstimator> est;
  if (grid_cols > 0) {
    est = fg::VitalsEstimator::Create(fg::GridLayout(grid_cols, grid_rows), o, &err);
  } else {
    auto canonical = fg::LoadCanonicalFace(models + "/" + fg::kCanonicalFaceFile, &err);
    if (!canonical) {
      std::fprintf(stderr, "vitals-trace: %s\n", err.c_str());
      return 1;
    }
    est = fg::VitalsEstimator::Create(*canonical, o, &err);
  }
  if (!est) {
    std::fprintf(stderr, "vitals-trace: %s\n", err.c_str());
    return 1;
  }
  std::printf("time_s,id,bpm,snr,confidence,session_bpm,session_confidence,window_bpm");
  for (int r = 0; r < fg::kFaceRegions; ++r)
    std::printf(",%s", std::string(fg::FaceRegionName(static_cast<fg::FaceRegion>(r))).c_str());
  std::printf("\n");
  for (const Frame& fr : frames) {
    if (fr.id < 0) continue;
    est->PushPatches(fr.id, fr.pts, fr.patches, fr.centre, fr.size, fr.pose);
    if (est->UpdateDue() == 0) continue;
    for (int64_t id : est->Tracks()) {
      const fg::VitalsResult* r = est->Result(id);
      if (!r || !r->valid || r->pts_ns != fr.pts) continue;
      std::printf("%.3f,%lld,%.2f,%.2f,%.3f,%.2f,%.3f", r->pts_ns * 1e-9, static_cast<long long>(id),
                  r->vitals.bpm, r->vitals.snr, r->vitals.confidence, r->session.bpm, r->session.confidence);
      std::printf(",%.2f", r->window_bpm);
      for (int k = 0; k < fg::kFaceRegions; ++k)
        std::printf(",%.1f", r->region_used[k] ? r->region_bpm[k] : 0.0f);
      std::printf("\n");
    }
  }
  return 0;
}

int Mean(int argc, char** argv) {
  if (argc < 1) return Usage();
  std::vector<Frame> frames;
  if (!ReadTrace(argv[0], &frames)) return 1;
  std::map<int64_t, int> count;
  for (const Frame& fr : frames)
    if (fr.id >= 0) ++count[fr.id];
  int64_t main_id = -1;
  for (auto [id, c] : count)
    if (main_id < 0 || c > count[main_id]) main_id = id;
  std::printf("time_s,r,g,b,x,y,size,yaw,pitch,roll\n");
  for (const Frame& fr : frames) {
    if (fr.id != main_id) continue;
    double s[3] = {0, 0, 0}, ws = 0;
    for (size_t p = 0; p < fr.patches.rgb.size(); ++p) {
      const double wt = fr.patches.weight[p];
      for (int c = 0; c < 3; ++c) s[c] += wt * fr.patches.rgb[p][c];
      ws += wt;
    }
    if (!(ws > 0)) continue;
    std::printf("%.4f,%.4f,%.4f,%.4f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n", fr.pts * 1e-9, s[0] / ws, s[1] / ws,
                s[2] / ws, fr.centre[0], fr.centre[1], fr.size, fr.pose.yaw, fr.pose.pitch, fr.pose.roll);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string cmd = argv[1];
  if (cmd == "dump") return Dump(argc - 2, argv + 2);
  if (cmd == "replay") return Replay(argc - 2, argv + 2);
  if (cmd == "mean") return Mean(argc - 2, argv + 2);
  return Usage();
}
