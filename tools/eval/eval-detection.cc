// eval-detection: how many annotated faces the tracking graph finds in photos, and how many of
// its faces are real, by face size: recall and precision at IoU >= 0.5.
//
// Annotations, one of two layouts:
//   BOXES.csv       header "image,x,y,w,h" (an optional 6th column "ignore": 1 = a face that
//                   counts neither as missed nor, when found, as false); one row per face;
//                   a row with x,y,w,h empty lists a picture with no face. Pixels, top-left
//                   origin; image paths relative to the CSV's folder.
//   WIDER_GT.txt    WIDER FACE's wider_face_<split>_bbx_gt.txt (name line, face count,
//                   "x y w h blur expression illumination invalid occlusion pose" per face;
//                   "invalid" faces are ignored as above), with --images DIR the folder its
//                   names are relative to (WIDER_<split>/images). Any other extension than
//                   .csv is read this way.
//
// Per picture: the real elements, appsrc ! facetrack [--facetrack PROPS] ! appsink
// (tools/eval/still_graph.h), --frames frames (default 8) of a still camera, each picture a
// new stream; the faces on the last frame are the answer (facetrack's box: the bounding box
// of the 468-point mesh). Faces and annotations are paired greedily by IoU, highest first,
// one to one, pairs under --iou (default 0.5) left unpaired; then unpaired faces with at
// least half their box inside an ignored annotation are dropped (neither true nor false: the
// Caltech pedestrian benchmark's rule for ignore regions).
//
// Face size = the annotated box's width (a false face: its own box's width), in bins
// < 24, 24-48, 48-96, 96-192, >= 192 px. Recall of a bin = annotated faces found / annotated
// faces; precision = faces that are real / faces reported, per bin and overall.
//
// Output: progress on stderr; the table on stdout and in OUT/summary.md; OUT/faces.csv (every
// annotated face: image, box, found, IoU) and OUT/detections.csv (every face the graph
// reported: image, box, score, true/false/ignored, IoU); OUT/by-size.png (recall and
// precision per bin). --draw DIR writes each picture with the annotations (green, ignored
// grey) and the graph's faces (red).
//
// Exit status: 0 done; 1 the pipeline or the model failed; 2 usage, or annotations that cannot
// be read (the message names the file and line). An unreadable picture is reported and left
// out (counted).
//
// Usage:
//   eval-detection BOXES.csv|WIDER_GT.txt [--images DIR] [--out DIR] [--models DIR]
//                  [--frames N] [--limit N] [--iou X] [--draw DIR] [--facetrack "PROP=VALUE ..."]
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
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/io/jpeg.h"
#include "engine/io/png.h"
#include "tools/eval/chart.h"
#include "tools/eval/still_graph.h"

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;
constexpr std::array<float, 4> kEdges = {24, 48, 96, 192};  // bin k: [edge k-1, edge k)
constexpr int kBins = static_cast<int>(kEdges.size()) + 1;
const char* const kBinNames[kBins] = {"< 24 px", "24-48 px", "48-96 px", "96-192 px", ">= 192 px"};

int Bin(float width) {
  int b = 0;
  while (b < static_cast<int>(kEdges.size()) && width >= kEdges[b]) ++b;
  return b;
}

int Usage() {
  std::fprintf(stderr,
               "usage: eval-detection BOXES.csv|WIDER_GT.txt [--images DIR] [--out DIR] [--models DIR]\n"
               "                      [--frames N] [--limit N] [--iou X] [--draw DIR]\n"
               "                      [--facetrack \"PROP=VALUE ...\"]\n"
               "BOXES.csv: header image,x,y,w,h[,ignore], one row per face (x,y,w,h empty: a\n"
               "picture without faces). Other files: WIDER FACE's bbx_gt.txt, with --images.\n"
               "Writes OUT/summary.md, faces.csv, detections.csv, by-size.png\n"
               "(OUT default: out/eval-detection).\n");
  return kExitUsage;
}

struct Truth {
  fg::Box box;
  bool ignore = false;
};

struct Picture {
  std::string path;  // as found on disk
  std::vector<Truth> faces;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(0, 1);
    out.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool Num(const std::string& s, double* v) {
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return !s.empty() && end && !*end && std::isfinite(*v);
}

// BOXES.csv -> pictures in first-seen order.
std::optional<std::string> ReadCsv(const std::string& path, std::vector<Picture>* out) {
  std::ifstream in(path);
  if (!in) return path + ": cannot read";
  std::string line;
  if (!std::getline(in, line)) return path + ": empty";
  const auto head = SplitCsv(line);
  if (head.size() < 5 || head[0] != "image" || head[1] != "x" || head[2] != "y" || head[3] != "w" ||
      head[4] != "h" || (head.size() > 5 && head[5] != "ignore"))
    return path + ":1: the header must be image,x,y,w,h[,ignore]";
  const fs::path dir = fs::path(path).parent_path();
  std::map<std::string, size_t> index;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    const auto c = SplitCsv(line);
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (c.size() < 5 || c.size() > head.size()) return where + "expected " + std::to_string(head.size()) + " columns";
    const std::string image = (dir / c[0]).string();
    auto [it, fresh] = index.try_emplace(image, out->size());
    if (fresh) out->push_back({image, {}});
    if (c[1].empty() && c[2].empty() && c[3].empty() && c[4].empty()) continue;  // no face
    double x, y, w, h, ig = 0;
    if (!Num(c[1], &x) || !Num(c[2], &y) || !Num(c[3], &w) || !Num(c[4], &h))
      return where + "x, y, w, h must be numbers";
    if (w <= 0 || h <= 0) return where + "a box needs a positive width and height";
    if (c.size() > 5 && !c[5].empty() && (!Num(c[5], &ig) || (ig != 0 && ig != 1)))
      return where + "ignore must be 0 or 1";
    (*out)[it->second].faces.push_back(
        {{static_cast<float>(x), static_cast<float>(y), static_cast<float>(w), static_cast<float>(h)}, ig == 1});
  }
  return std::nullopt;
}

// WIDER FACE's bbx_gt.txt.
std::optional<std::string> ReadWider(const std::string& path, const std::string& images,
                                     std::vector<Picture>* out) {
  std::ifstream in(path);
  if (!in) return path + ": cannot read";
  std::string line;
  int lineno = 0;
  auto next = [&](std::string* l) {
    while (std::getline(in, *l)) {
      ++lineno;
      while (!l->empty() && (l->back() == '\r' || l->back() == ' ')) l->pop_back();
      if (!l->empty()) return true;
    }
    return false;
  };
  while (next(&line)) {
    Picture p{(fs::path(images) / line).string(), {}};
    std::string count_line;
    if (!next(&count_line)) return path + ":" + std::to_string(lineno) + ": a face count must follow " + line;
    double n = 0;
    if (!Num(count_line, &n) || n < 0 || n != std::floor(n))
      return path + ":" + std::to_string(lineno) + ": not a face count: " + count_line;
    // A picture without faces still has one line of zeros.
    for (int i = 0; i < std::max(1, static_cast<int>(n)); ++i) {
      std::string f;
      if (!next(&f)) return path + ":" + std::to_string(lineno) + ": the file ends inside " + line;
      std::istringstream ss(f);
      double v[10];
      int k = 0;
      while (k < 10 && ss >> v[k]) ++k;
      if (k < 4) return path + ":" + std::to_string(lineno) + ": not a box line: " + f;
      if (n == 0) continue;
      const bool invalid = k >= 8 && v[7] != 0;
      // WIDER has boxes of width or height 0 (marked invalid); they cannot be scored.
      if (v[2] <= 0 || v[3] <= 0) continue;
      p.faces.push_back({{static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[2]),
                          static_cast<float>(v[3])}, invalid});
    }
    out->push_back(std::move(p));
  }
  if (out->empty()) return path + ": no picture in it";
  return std::nullopt;
}

struct Counts {
  std::array<long, kBins> truth{}, found{}, reported{}, real{};
  long ignored_hits = 0;
};

std::string F3(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

// Share of a's area inside b.
float Inside(const fg::Box& a, const fg::Box& b) {
  const float ix = std::max(0.0f, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
  const float iy = std::max(0.0f, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
  return a.w * a.h > 0 ? ix * iy / (a.w * a.h) : 0.0f;
}

std::string Ratio(long a, long b) { return b ? F3(double(a) / b) : std::string("-"); }

}  // namespace

int main(int argc, char** argv) {
  g_setenv("GST_PLUGIN_PATH", "", TRUE);  // the elements come from this binary (still_graph.h)
  g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
  gst_init(&argc, &argv);
  std::string gt_file, images, out = "out/eval-detection", models = fg::eval::DefaultModelsDir(),
                               props, draw_dir;
  int frames = 8;
  long limit = 0;
  double iou_min = 0.5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--images" || a == "--out" || a == "--models" || a == "--facetrack" || a == "--draw") {
      const char* v = value();
      if (!v) return Usage();
      (a == "--images" ? images : a == "--out" ? out : a == "--models" ? models : a == "--draw" ? draw_dir : props) = v;
    } else if (a == "--frames" || a == "--limit" || a == "--iou") {
      const char* v = value();
      double x = 0;
      if (!v || !Num(v, &x) || (a == "--iou" ? (x <= 0 || x >= 1) : (x < 1 || x != std::floor(x))))
        return std::fprintf(stderr, "eval-detection: bad value for %s (--iou between 0 and 1, "
                                    "--frames and --limit positive integers)\n", a.c_str()), Usage();
      if (a == "--frames") frames = static_cast<int>(x);
      else if (a == "--limit") limit = static_cast<long>(x);
      else iou_min = x;
    } else if (a == "-h" || a == "--help") {
      return Usage();
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "eval-detection: unknown option %s\n", a.c_str());
      return Usage();
    } else if (gt_file.empty()) {
      gt_file = a;
    } else {
      return Usage();
    }
  }
  if (gt_file.empty()) return Usage();
  std::vector<Picture> pictures;
  const bool csv_layout = fs::path(gt_file).extension() == ".csv";
  if (!csv_layout && images.empty()) {
    std::fprintf(stderr, "eval-detection: %s is read as WIDER FACE's bbx_gt.txt: give --images DIR "
                 "(the folder its picture names are relative to)\n", gt_file.c_str());
    return kExitUsage;
  }
  if (auto e = csv_layout ? ReadCsv(gt_file, &pictures) : ReadWider(gt_file, images, &pictures)) {
    std::fprintf(stderr, "eval-detection: %s\n", e->c_str());
    return kExitUsage;
  }
  if (pictures.empty()) {
    std::fprintf(stderr, "eval-detection: %s lists no picture\n", gt_file.c_str());
    return kExitUsage;
  }
  if (limit > 0 && static_cast<long>(pictures.size()) > limit) {
    std::vector<Picture> kept;
    for (long i = 0; i < limit; ++i) kept.push_back(pictures[i * pictures.size() / limit]);
    pictures = std::move(kept);
  }
  if (!fg::eval::RegisterElements("eval-detection")) return kExitFailed;
  std::string err;
  auto graph = fg::eval::StillGraph::Start(models, props, &err);
  if (!graph) {
    std::fprintf(stderr, "eval-detection: %s\n", err.c_str());
    return kExitFailed;
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (!draw_dir.empty()) fs::create_directories(draw_dir, ec);
  std::ofstream faces_csv(out + "/faces.csv"), det_csv(out + "/detections.csv");
  if (!faces_csv || !det_csv) {
    std::fprintf(stderr, "eval-detection: cannot write into %s\n", out.c_str());
    return kExitFailed;
  }
  faces_csv << "image,x,y,w,h,ignore,found,iou\n";
  det_csv << "image,x,y,w,h,score,verdict,iou\n";

  Counts n;
  long unreadable = 0, scored = 0;
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t p = 0; p < pictures.size(); ++p) {
    const Picture& pic = pictures[p];
    fg::RgbImage img;
    if (auto e = fg::ReadImageRgb(pic.path, &img)) {
      std::fprintf(stderr, "%seval-detection: unreadable, left out: %s\n", tty ? "\n" : "", e->c_str());
      ++unreadable;
      continue;
    }
    const auto result = graph->Run(img, frames, &err);
    if (!result) {
      std::fprintf(stderr, "%seval-detection: %s (at %s)\n", tty ? "\n" : "", err.c_str(), pic.path.c_str());
      return kExitFailed;
    }
    ++scored;
    const std::vector<fg::Face>& det = result->faces;
    // Greedy one-to-one pairing of valid annotations, highest IoU first.
    struct Pair {
      float iou;
      size_t t, d;
    };
    std::vector<Pair> pairs;
    for (size_t t = 0; t < pic.faces.size(); ++t)
      for (size_t d = 0; d < det.size(); ++d)
        if (!pic.faces[t].ignore)
          if (const float v = fg::eval::Iou(pic.faces[t].box, det[d].box); v >= iou_min) pairs.push_back({v, t, d});
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.iou > b.iou; });
    std::vector<int> det_of(pic.faces.size(), -1), truth_of(det.size(), -1);
    std::vector<float> det_iou(det.size(), 0), truth_iou(pic.faces.size(), 0);
    for (const Pair& pr : pairs)
      if (det_of[pr.t] < 0 && truth_of[pr.d] < 0)
        det_of[pr.t] = static_cast<int>(pr.d), truth_of[pr.d] = static_cast<int>(pr.t),
        det_iou[pr.d] = truth_iou[pr.t] = pr.iou;
    for (size_t t = 0; t < pic.faces.size(); ++t) {
      const Truth& tr = pic.faces[t];
      if (!tr.ignore) {
        const int b = Bin(tr.box.w);
        ++n.truth[b];
        if (det_of[t] >= 0) ++n.found[b], ++n.real[b], ++n.reported[b];
      }
      faces_csv << pic.path << "," << tr.box.x << "," << tr.box.y << "," << tr.box.w << "," << tr.box.h
                << "," << tr.ignore << "," << (det_of[t] >= 0) << "," << F3(truth_iou[t]) << "\n";
    }
    for (size_t d = 0; d < det.size(); ++d) {
      std::string verdict = "true";
      if (truth_of[d] < 0) {
        verdict = "false";
        for (const Truth& tr : pic.faces)
          if (tr.ignore && Inside(det[d].box, tr.box) >= 0.5f) verdict = "ignored";
        if (verdict == "false") ++n.reported[Bin(det[d].box.w)];
        else ++n.ignored_hits;
      }
      const fg::Box& b = det[d].box;
      det_csv << pic.path << "," << b.x << "," << b.y << "," << b.w << "," << b.h << "," << F3(det[d].score)
              << "," << verdict << "," << F3(det_iou[d]) << "\n";
    }
    if (!draw_dir.empty()) {
      fg::draw::MutableImageView v;
      if (!fg::draw::MutableImageView::Wrap(fg::PixelFormat::kRGB, img.width, img.height,
                                            {img.pixels.data(), nullptr, nullptr}, {img.width * 3, 0, 0}, &v)) {
        for (const Truth& tr : pic.faces)
          fg::draw::Rect(v, fg::draw::Pen::Make(v.format, tr.ignore ? fg::draw::Color{150, 150, 150} : fg::draw::Color{0, 200, 0}),
                         static_cast<int>(tr.box.x), static_cast<int>(tr.box.y), static_cast<int>(tr.box.w),
                         static_cast<int>(tr.box.h), 2);
        for (const fg::Face& f : det)
          fg::draw::Rect(v, fg::draw::Pen::Make(v.format, {230, 0, 0}), static_cast<int>(f.box.x),
                         static_cast<int>(f.box.y), static_cast<int>(f.box.w), static_cast<int>(f.box.h), 1);
        const std::string name = std::to_string(p) + "-" + fs::path(pic.path).stem().string() + ".png";
        if (auto e = fg::WritePngRgb((fs::path(draw_dir) / name).string(), img))
          std::fprintf(stderr, "eval-detection: %s\n", e->c_str());
      }
    }
    const size_t done = p + 1;
    if (tty || done % 20 == 0 || done == pictures.size()) {
      long t = 0, f = 0;
      for (int b = 0; b < kBins; ++b) t += n.truth[b], f += n.found[b];
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "%s[%zu/%zu] faces found %ld of %ld  (%.2f pictures/s)%s", tty ? "\r" : "", done,
                   pictures.size(), f, t, done / std::max(secs, 1e-3), tty ? "" : "\n");
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  if (scored == 0) {
    std::fprintf(stderr, "eval-detection: no readable picture\n");
    return kExitUsage;
  }
  long T = 0, F = 0, R = 0, Re = 0;
  for (int b = 0; b < kBins; ++b) T += n.truth[b], F += n.found[b], R += n.reported[b], Re += n.real[b];
  std::ostringstream s;
  s << "annotations: " << gt_file << "\n"
    << "pictures: " << scored << " scored, " << unreadable << " unreadable (left out)\n"
    << "graph: appsrc ! facetrack " << props << " ! appsink; " << frames
    << " frames per picture at 30 fps, each picture a new stream; IoU >= " << iou_min
    << "; face size = annotated box width\n\n"
    << "| face size | annotated | found | recall | reported | real | precision |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (int b = 0; b < kBins; ++b)
    s << "| " << kBinNames[b] << " | " << n.truth[b] << " | " << n.found[b] << " | " << Ratio(n.found[b], n.truth[b])
      << " | " << n.reported[b] << " | " << n.real[b] << " | " << Ratio(n.real[b], n.reported[b]) << " |\n";
  s << "| **all** | " << T << " | " << F << " | " << Ratio(F, T) << " | " << R << " | " << Re << " | "
    << Ratio(Re, R) << " |\n\n"
    << "faces on ignored annotations (not counted): " << n.ignored_hits << "\n";
  const std::string summary = s.str();
  std::fputs(summary.c_str(), stdout);
  std::ofstream(out + "/summary.md") << summary;

  fg::eval::Chart c;
  c.title = "Faces found and faces real, by face size";
  c.x_label = "annotated face width (false faces: their own width)";
  c.y_label = "share";
  c.y_max = 1;
  c.y_tick = 0.1;
  c.notes = {gt_file, "pictures " + std::to_string(scored) + "  faces " + std::to_string(T) + "  recall " +
                          Ratio(F, T) + "  precision " + Ratio(Re, R) + "  IoU >= " + F3(iou_min)};
  fg::eval::Chart::Bars rec{"recall", {30, 90, 200}, {}, {}}, pre{"precision", {230, 140, 20}, {}, {}};
  for (int b = 0; b < kBins; ++b) {
    c.groups.push_back(kBinNames[b]);
    rec.values.push_back(n.truth[b] ? double(n.found[b]) / n.truth[b] : -1);
    rec.texts.push_back(std::to_string(n.found[b]) + "/" + std::to_string(n.truth[b]));
    pre.values.push_back(n.reported[b] ? double(n.real[b]) / n.reported[b] : -1);
    pre.texts.push_back(std::to_string(n.real[b]) + "/" + std::to_string(n.reported[b]));
  }
  c.bars = {rec, pre};
  if (auto e = fg::eval::WriteChartPng(out + "/by-size.png", c)) {
    std::fprintf(stderr, "eval-detection: %s\n", e->c_str());
    return kExitFailed;
  }
  std::fprintf(stderr, "eval-detection: wrote %s/summary.md, faces.csv, detections.csv, by-size.png\n", out.c_str());
  return kExitOk;
}
