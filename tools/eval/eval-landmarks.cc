// eval-landmarks: how close the tracking graph's landmarks come to hand-annotated 68-point
// faces (300-W / iBUG `.pts`), as normalised mean error (NME).
//
//   DATASET_DIR/**/NAME.pts    one face's 68 points, next to its picture NAME.jpg / .jpeg /
//                              .png (any case); folders are searched recursively. A .pts is
//                              either 300-W's own layout ("version: 1", "n_points: 68", "{",
//                              68 lines "x y", "}") or the 68 lines alone.
//
// Coordinates in .pts files: 300-W's convention (Matlab's), the centre of the top-left pixel
// is (1, 1) (--pts-origin 1, the default); --pts-origin 0 for files whose top-left pixel
// centre is (0, 0). Inside the tool and in facetrack, pixel (0,0) covers [0,1) x [0,1).
//
// Per annotated face: the picture at its own size goes through the real elements,
//   appsrc ! facetrack [--facetrack PROPS] ! appsink        (tools/eval/still_graph.h)
// as --frames frames (default 8) of a still camera, starting over for every picture. The
// tracked face whose 68 points (the 468-point mesh read through tools/eval/mesh68.h, the one
// table of the 468 -> 68 correspondence) have the bounding box that overlaps the annotation's
// most is the answer; overlap (IoU) under --min-iou (default 0.3) = "not found".
//
// NME of a face = mean over the 68 points of |predicted - annotated| / d, with d the
// inter-ocular distance of the annotation: between the OUTER eye corners, points 37 and 46
// (300-W's normalisation; some papers use the pupils, which gives larger figures).
//
// Output: progress on stderr; the table on stdout and in OUT/summary.md (faces, found, mean
// and median NME of the faces found, failure rate at NME 0.08 and 0.10 and AUC of the CED up
// to 0.08 with not-found faces counted as failures, NME per region of the face);
// OUT/predictions.csv (one row per face: path, found, nme, iod_px, iou, faces in the frame);
// OUT/points.csv (per point: mean error and mean signed offset along x and y in inter-ocular
// units: a point that sits off on average shows a correspondence to revisit);
// OUT/pred/<path relative to DATASET_DIR>.pts (the predicted 68 points, in the input's
// convention); OUT/ced.png (cumulative error distribution, 0 to --ced-max, default 0.10).
// --draw DIR writes each picture with the annotation (green) and the answer (red).
// --dump-mesh FILE writes, per face found, its 468 mesh points and the 68 annotated ones
// (CSV, frame pixels): what choosing the 468 -> 68 table on the dev part needs.
//
// Exit status: 0 done; 1 the pipeline or the model failed; 2 usage, or no usable face.
// A .pts without its picture, a .pts that is not 68 points, an unreadable picture or an
// annotation whose eye corners coincide is reported with its reason and left out of every
// figure (counted in the table).
//
// Usage:
//   eval-landmarks DATASET_DIR [--out DIR] [--models DIR] [--frames N] [--limit N]
//                  [--min-iou X] [--pts-origin 0|1] [--ced-max X] [--draw DIR]
//                  [--dump-mesh FILE] [--facetrack "PROP=VALUE ..."]
#include <gst/gst.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/io/jpeg.h"
#include "engine/io/png.h"
#include "tools/eval/chart.h"
#include "tools/eval/mesh68.h"
#include "tools/eval/still_graph.h"

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;
constexpr int kPoints = 68;
using Shape = std::array<std::array<float, 2>, kPoints>;

int Usage() {
  std::fprintf(stderr,
               "usage: eval-landmarks DATASET_DIR [--out DIR] [--models DIR] [--frames N] [--limit N]\n"
               "                      [--min-iou X] [--pts-origin 0|1] [--ced-max X] [--draw DIR]\n"
               "                      [--dump-mesh FILE] [--facetrack \"PROP=VALUE ...\"]\n"
               "DATASET_DIR holds 300-W style NAME.pts files (68 points) beside NAME.jpg/.png.\n"
               "Writes OUT/summary.md, predictions.csv, points.csv, pred/, ced.png\n"
               "(OUT default: out/eval-landmarks).\n");
  return kExitUsage;
}

struct Options {
  std::string dataset, out = "out/eval-landmarks", models, facetrack_props, draw, dump_mesh;
  int frames = 8;
  long limit = 0;
  double min_iou = 0.3, ced_max = 0.10, pts_origin = 1;
};

// Reads a 300-W .pts (with or without its header) into frame coordinates.
std::optional<std::string> ReadPts(const std::string& path, double origin, Shape* out) {
  std::ifstream in(path);
  if (!in) return path + ": cannot read";
  std::string line;
  int n = 0, declared = -1, lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t s = line.find_first_not_of(" \t");
    if (s == std::string::npos) continue;
    line = line.substr(s);
    if (line.rfind("version", 0) == 0 || line == "{" || line == "}") continue;
    if (line.rfind("n_points", 0) == 0) {
      if (std::sscanf(line.c_str(), "n_points: %d", &declared) != 1)
        return path + ":" + std::to_string(lineno) + ": unreadable n_points line";
      continue;
    }
    double x = 0, y = 0;
    char rest = 0;
    if (std::sscanf(line.c_str(), "%lf %lf %c", &x, &y, &rest) != 2 || !std::isfinite(x) || !std::isfinite(y))
      return path + ":" + std::to_string(lineno) + ": not a point (\"" + line.substr(0, 40) + "\")";
    if (n < kPoints) (*out)[n] = {static_cast<float>(x - origin + 0.5), static_cast<float>(y - origin + 0.5)};
    ++n;
  }
  if (declared >= 0 && declared != kPoints)
    return path + ": n_points " + std::to_string(declared) + ", 68 expected";
  if (n != kPoints) return path + ": " + std::to_string(n) + " points, 68 expected";
  return std::nullopt;
}

fg::Box BoundsOf(const Shape& s) {
  float x0 = s[0][0], x1 = x0, y0 = s[0][1], y1 = y0;
  for (const auto& p : s) {
    x0 = std::min(x0, p[0]), x1 = std::max(x1, p[0]);
    y0 = std::min(y0, p[1]), y1 = std::max(y1, p[1]);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

struct Item {
  std::string pts, image, rel;  // rel: the .pts path relative to the dataset, without ".pts"
};

struct Result {
  bool found = false;
  double nme = 0, iod = 0, iou = 0;
  int faces = 0;
  Shape pred{};
};

// The regions of the 68 points (0-based, end exclusive) for the per-region table.
struct Region {
  const char* name;
  int begin, end;
};
constexpr Region kRegions[] = {{"jaw (1-17)", 0, 17},        {"brows (18-27)", 17, 27},
                               {"nose (28-36)", 27, 36},     {"eyes (37-48)", 36, 48},
                               {"outer lips (49-60)", 48, 60}, {"inner lips (61-68)", 60, 68}};

std::string F3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", v);
  return b;
}

std::optional<double> ParseDouble(const char* s) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end || !std::isfinite(v)) return std::nullopt;
  return v;
}

void DrawPoints(fg::draw::MutableImageView& v, const Shape& s, fg::draw::Color c, int r) {
  const auto pen = fg::draw::Pen::Make(v.format, c);
  for (const auto& p : s) fg::draw::FillCircle(v, pen, static_cast<int>(p[0]), static_cast<int>(p[1]), r);
}

}  // namespace

int main(int argc, char** argv) {
  // The elements come from this binary (fg::eval::RegisterElements); a facegraph plugin on
  // GST_PLUGIN_PATH would register the same names a second time.
  g_setenv("GST_PLUGIN_PATH", "", TRUE);
  g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
  gst_init(&argc, &argv);
  Options o;
  o.models = fg::eval::DefaultModelsDir();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--out" || a == "--models" || a == "--facetrack" || a == "--draw" || a == "--dump-mesh") {
      const char* v = value();
      if (!v) return Usage();
      (a == "--out"         ? o.out
       : a == "--models"    ? o.models
       : a == "--draw"      ? o.draw
       : a == "--dump-mesh" ? o.dump_mesh
                            : o.facetrack_props) = v;
    } else if (a == "--frames" || a == "--limit") {
      const char* v = value();
      const auto n = v ? ParseDouble(v) : std::nullopt;
      if (!n || *n < 1 || *n != std::floor(*n))
        return std::fprintf(stderr, "eval-landmarks: %s needs a positive integer\n", a.c_str()), Usage();
      (a == "--frames" ? o.frames = static_cast<int>(*n) : o.limit = static_cast<long>(*n));
    } else if (a == "--min-iou" || a == "--ced-max" || a == "--pts-origin") {
      const char* v = value();
      const auto x = v ? ParseDouble(v) : std::nullopt;
      const bool ok = x && (a == "--min-iou" ? *x >= 0 && *x < 1
                            : a == "--ced-max" ? *x > 0 && *x <= 1
                                               : *x == 0 || *x == 1);
      if (!ok)
        return std::fprintf(stderr, "eval-landmarks: bad value for %s (--min-iou 0..1, --ced-max "
                                    "0..1, --pts-origin 0 or 1)\n", a.c_str()), Usage();
      (a == "--min-iou" ? o.min_iou : a == "--ced-max" ? o.ced_max : o.pts_origin) = *x;
    } else if (a == "-h" || a == "--help") {
      return Usage();
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "eval-landmarks: unknown option %s\n", a.c_str());
      return Usage();
    } else if (o.dataset.empty()) {
      o.dataset = a;
    } else {
      return Usage();
    }
  }
  if (o.dataset.empty()) return Usage();
  std::error_code ec;
  if (!fs::is_directory(o.dataset, ec)) {
    std::fprintf(stderr, "eval-landmarks: %s: not a folder\n", o.dataset.c_str());
    return kExitUsage;
  }

  // The annotations and their pictures.
  std::vector<Item> items;
  long unpaired = 0;
  std::vector<std::string> pts_files;
  for (auto it = fs::recursive_directory_iterator(o.dataset, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string ext = it->path().extension().string();
    for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (it->is_regular_file() && ext == ".pts") pts_files.push_back(it->path().string());
  }
  std::sort(pts_files.begin(), pts_files.end());
  for (const auto& p : pts_files) {
    const fs::path base = fs::path(p).replace_extension();
    std::string image;
    for (const char* ext : {".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"})
      if (fs::is_regular_file(base.string() + ext, ec)) {
        image = base.string() + ext;
        break;
      }
    if (image.empty()) {
      std::fprintf(stderr, "eval-landmarks: %s: no picture beside it (.jpg, .jpeg, .png): left out\n", p.c_str());
      ++unpaired;
      continue;
    }
    items.push_back({p, image, fs::relative(base, o.dataset, ec).string()});
  }
  if (items.empty()) {
    std::fprintf(stderr, "eval-landmarks: %s: no .pts annotation with its picture\n", o.dataset.c_str());
    return kExitUsage;
  }
  if (o.limit > 0 && static_cast<long>(items.size()) > o.limit) {
    std::vector<Item> kept;  // every k-th, so each folder keeps its share
    for (long i = 0; i < o.limit; ++i) kept.push_back(items[i * items.size() / o.limit]);
    items = std::move(kept);
  }

  if (!fg::eval::RegisterElements("eval-landmarks")) return kExitFailed;
  std::string err;
  auto graph = fg::eval::StillGraph::Start(o.models, o.facetrack_props, &err);
  if (!graph) {
    std::fprintf(stderr, "eval-landmarks: %s\n", err.c_str());
    return kExitFailed;
  }
  fs::create_directories(fs::path(o.out) / "pred", ec);
  if (!o.draw.empty()) fs::create_directories(o.draw, ec);
  std::ofstream csv(o.out + "/predictions.csv");
  if (!csv) {
    std::fprintf(stderr, "eval-landmarks: cannot write %s/predictions.csv\n", o.out.c_str());
    return kExitFailed;
  }
  csv << "path,found,nme,iod_px,iou,faces\n";
  std::ofstream dump;
  if (!o.dump_mesh.empty()) {
    dump.open(o.dump_mesh);
    if (!dump) {
      std::fprintf(stderr, "eval-landmarks: cannot write %s\n", o.dump_mesh.c_str());
      return kExitFailed;
    }
  }

  std::vector<Result> results;
  long bad = 0;
  std::array<double, kPoints> err_sum{}, dx_sum{}, dy_sum{};
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t n = 0; n < items.size(); ++n) {
    const Item& it = items[n];
    Shape gt;
    if (auto e = ReadPts(it.pts, o.pts_origin, &gt)) {
      std::fprintf(stderr, "%seval-landmarks: left out: %s\n", tty ? "\n" : "", e->c_str());
      ++bad;
      continue;
    }
    const double iod = std::hypot(gt[fg::eval::kOuterEyeRight][0] - gt[fg::eval::kOuterEyeLeft][0],
                                  gt[fg::eval::kOuterEyeRight][1] - gt[fg::eval::kOuterEyeLeft][1]);
    if (iod < 1) {
      std::fprintf(stderr, "%seval-landmarks: left out: %s: the outer eye corners (37, 46) coincide\n",
                   tty ? "\n" : "", it.pts.c_str());
      ++bad;
      continue;
    }
    fg::RgbImage img;
    if (auto e = fg::ReadImageRgb(it.image, &img)) {
      std::fprintf(stderr, "%seval-landmarks: left out: %s\n", tty ? "\n" : "", e->c_str());
      ++bad;
      continue;
    }
    const auto faces = graph->Run(img, o.frames, &err);
    if (!faces) {
      std::fprintf(stderr, "%seval-landmarks: %s (at %s)\n", tty ? "\n" : "", err.c_str(), it.image.c_str());
      return kExitFailed;
    }
    Result r;
    r.iod = iod;
    r.faces = static_cast<int>(faces->faces.size());
    const fg::Box gt_box = BoundsOf(gt);
    const fg::Face* best = nullptr;
    for (const fg::Face& f : faces->faces) {
      if (f.landmarks.size() < static_cast<size_t>(fg::kMeshLandmarks)) continue;
      Shape p;
      for (int i = 0; i < kPoints; ++i) p[i] = fg::eval::Mesh68Point(f.landmarks, i);
      const double iou = fg::eval::Iou(gt_box, BoundsOf(p));
      if (iou > r.iou) r.iou = iou, r.pred = p, best = &f;
    }
    r.found = r.iou >= o.min_iou && r.iou > 0;
    if (r.found) {
      double sum = 0;
      for (int i = 0; i < kPoints; ++i) {
        const double dx = r.pred[i][0] - gt[i][0], dy = r.pred[i][1] - gt[i][1];
        const double e = std::hypot(dx, dy) / iod;
        sum += e;
        err_sum[i] += e, dx_sum[i] += dx / iod, dy_sum[i] += dy / iod;
      }
      r.nme = sum / kPoints;
      if (dump) {
        dump << it.pts << "," << iod;
        for (int i = 0; i < fg::kMeshLandmarks; ++i) dump << "," << best->landmarks[i][0] << "," << best->landmarks[i][1];
        for (const auto& g : gt) dump << "," << g[0] << "," << g[1];
        dump << "\n";
      }
      const fs::path pred = fs::path(o.out) / "pred" / (it.rel + ".pts");
      fs::create_directories(pred.parent_path(), ec);
      std::ofstream pf(pred);
      pf << "version: 1\nn_points:  68\n{\n";
      char b[64];
      for (const auto& p : r.pred) {
        std::snprintf(b, sizeof b, "%.3f %.3f\n", p[0] + o.pts_origin - 0.5, p[1] + o.pts_origin - 0.5);
        pf << b;
      }
      pf << "}\n";
    }
    if (!o.draw.empty()) {
      fg::draw::MutableImageView v;
      if (!fg::draw::MutableImageView::Wrap(fg::PixelFormat::kRGB, img.width, img.height,
                                            {img.pixels.data(), nullptr, nullptr}, {img.width * 3, 0, 0}, &v)) {
        const int rad = std::max(1, static_cast<int>(iod / 60));
        DrawPoints(v, gt, {0, 200, 0}, rad);
        if (r.found) DrawPoints(v, r.pred, {230, 0, 0}, rad);
        fs::path d = fs::path(o.draw) / (it.rel + ".png");
        fs::create_directories(d.parent_path(), ec);
        if (auto e = fg::WritePngRgb(d.string(), img)) std::fprintf(stderr, "eval-landmarks: %s\n", e->c_str());
      }
    }
    csv << it.pts << "," << (r.found ? 1 : 0) << "," << (r.found ? F3(r.nme) : "") << "," << F3(r.iod)
        << "," << F3(r.iou) << "," << r.faces << "\n";
    results.push_back(r);
    const size_t done = n + 1;
    if (tty || done % 50 == 0 || done == items.size()) {
      long found = 0;
      double s = 0;
      for (const auto& x : results) found += x.found, s += x.found ? x.nme : 0;
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "%s[%zu/%zu] found %ld  mean NME %.4f  (%.1f faces/s)%s", tty ? "\r" : "",
                   done, items.size(), found, found ? s / found : 0.0, done / std::max(secs, 1e-3),
                   tty ? "" : "\n");
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  if (results.empty()) {
    std::fprintf(stderr, "eval-landmarks: no usable annotated face in %s\n", o.dataset.c_str());
    return kExitUsage;
  }

  // Figures. Not-found faces count as failures (NME infinite) in the CED, failure rates and
  // AUC, and are left out of the mean and median NME (which say so).
  std::vector<double> nmes;
  for (const auto& r : results) nmes.push_back(r.found ? r.nme : INFINITY);
  std::sort(nmes.begin(), nmes.end());
  const long total = static_cast<long>(nmes.size());
  long found = 0;
  double mean = 0;
  for (double v : nmes)
    if (std::isfinite(v)) ++found, mean += v;
  mean = found ? mean / found : 0;
  const double median = found ? (found % 2 ? nmes[found / 2] : 0.5 * (nmes[found / 2 - 1] + nmes[found / 2])) : 0;
  auto share_below = [&](double t) {
    return static_cast<double>(std::upper_bound(nmes.begin(), nmes.end(), t) - nmes.begin()) / total;
  };
  // AUC of the CED over [0, 0.08], divided by 0.08 (1 = every face exact): fine steps.
  constexpr double kAucMax = 0.08;
  double auc = 0;
  constexpr int kSteps = 800;
  for (int k = 0; k < kSteps; ++k) auc += share_below((k + 0.5) * kAucMax / kSteps) / kSteps;

  std::ostringstream s;
  s << "dataset: " << o.dataset << "\n"
    << "faces: " << total << " scored, " << bad << " left out (unreadable picture or annotation), "
    << unpaired << " .pts without a picture\n"
    << "graph: appsrc ! facetrack " << o.facetrack_props << " ! appsink; " << o.frames
    << " frames per picture at 30 fps, each picture a new stream; answer: the tracked face whose "
       "68-point box overlaps the annotation's most (IoU >= "
    << o.min_iou << ")\n"
    << "NME: mean point error / inter-ocular distance (outer eye corners, points 37 and 46); "
       "468 -> 68 points: tools/eval/mesh68.h\n\n"
    << "| | value |\n|---|---|\n"
    << "| faces found | " << found << " of " << total << " (" << F3(total ? double(found) / total : 0) << ") |\n"
    << "| mean NME (faces found) | " << F3(mean) << " |\n"
    << "| median NME (faces found) | " << F3(median) << " |\n"
    << "| failure rate, NME > 0.08 (not found = failure) | " << F3(1 - share_below(0.08)) << " |\n"
    << "| failure rate, NME > 0.10 (not found = failure) | " << F3(1 - share_below(0.10)) << " |\n"
    << "| AUC of the CED to 0.08 | " << F3(auc) << " |\n";
  s << "\nNME by region (faces found; mean error of the region's points / inter-ocular distance):\n\n"
    << "| region | NME |\n|---|---|\n";
  for (const auto& reg : kRegions) {
    double e = 0;
    for (int i = reg.begin; i < reg.end; ++i) e += err_sum[i];
    s << "| " << reg.name << " | " << F3(found ? e / found / (reg.end - reg.begin) : 0) << " |\n";
  }
  const std::string summary = s.str();
  std::fputs(summary.c_str(), stdout);
  std::ofstream(o.out + "/summary.md") << summary;
  std::ofstream pts_csv(o.out + "/points.csv");
  pts_csv << "point,mesh_a,mesh_b,mean_error_iod,mean_dx_iod,mean_dy_iod\n";
  for (int i = 0; i < kPoints; ++i)
    pts_csv << i + 1 << "," << fg::eval::kMesh68[i].a << "," << fg::eval::kMesh68[i].b << ","
            << F3(found ? err_sum[i] / found : 0) << "," << F3(found ? dx_sum[i] / found : 0) << ","
            << F3(found ? dy_sum[i] / found : 0) << "\n";

  fg::eval::Chart c;
  c.title = "Cumulative error distribution";
  c.x_label = "NME (inter-ocular, outer eye corners)";
  c.y_label = "share of faces";
  c.x_max = o.ced_max;
  c.x_tick = o.ced_max / 10;
  c.x_decimals = o.ced_max < 0.1 ? 3 : 2;
  c.notes = {o.dataset, "N " + std::to_string(total) + "  found " + std::to_string(found) +
                            "  mean NME " + F3(mean) + "  AUC to 0.08 " + F3(auc) +
                            "  (not found counted as failures)"};
  fg::eval::Chart::Line line{"facetrack", {30, 90, 200}, {}};
  constexpr int kCurve = 200;
  for (int k = 0; k <= kCurve; ++k) {
    const double x = o.ced_max * k / kCurve;
    line.points.push_back({x, share_below(x)});
  }
  c.lines.push_back(line);
  if (auto e = fg::eval::WriteChartPng(o.out + "/ced.png", c)) {
    std::fprintf(stderr, "eval-landmarks: %s\n", e->c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "eval-landmarks: wrote %s/summary.md, predictions.csv, points.csv, pred/, ced.png\n",
               o.out.c_str());
  return kExitOk;
}
