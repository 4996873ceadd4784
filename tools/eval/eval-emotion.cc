// eval-emotion: how well the emotion graph labels real faces, beside the network on its own.
//
//   DATASET_DIR/<class>/<image>       class = angry, disgust, fear, happy, sad, surprise or
//                                     neutral (also anger, happiness, sadness, surprised,
//                                     fearful, disgusted; any case); images are PNG or JPEG
//
// Two answers per image:
//   classifier alone  the emotion network on the whole image, resized to 64x64 gray (the way
//                     FER2013 was made: the picture is the face crop), argmax of its output.
//   graph             the real elements, statically registered from the plugin's library:
//                       appsrc ! facetrack ! faceemotion ! appsink
//                     fed a still: the image scaled so its longer side is --face-px (default
//                     192: a 48x48 FER2013 face x4) and centred on a --canvas frame (default
//                     640x480; around the picture --surround: mid-grey, or its border
//                     continued, see below), pushed as --frames frames at 30 fps whose
//                     timestamps start again at 0 for each image (tools/eval/still_graph.h:
//                     time that goes back restarts both elements; DISCONT alone is only a
//                     gap since issue 13 and would carry tracks across images). The
//                     answer is the emotion label the graph reports for the largest face on
//                     the last frame; no face with an emotion there = "not found" (wrong in
//                     the accuracy).
//                     After --frames, frames keep coming (up to 60 more) until faceemotion's
//                     counters show every submitted crop classified, so the answer does not
//                     depend on how busy the machine was.
//
// --surround grey|edge: what the frame shows around the picture. grey (default): flat mid-grey
// (128). edge: every frame pixel outside the picture takes the picture's nearest border pixel
// (rows and columns of the border continued to the frame's edges). A FER2013 picture is cut
// tight round the face; where the emotion crop (EmotionCropOptions, 2.7 inter-ocular
// distances) reaches past it, a camera would show the head and the room, and the network was
// trained on no flat borders at all: docs/eval/emotion.md measures what each costs.
//
// Output: progress on stderr; the table (accuracy, balanced accuracy = mean recall over the
// classes that have images, per-class recall, faces not found, unreadable files) on stdout and
// in OUT/summary.md; OUT/predictions.csv (one row per image: the true class, both answers,
// where the picture lies relative to the graph's eyes, and graph_top: the argmax of the
// smoothed probabilities, which the label follows with hysteresis); OUT/confusion-graph.png and
// OUT/confusion-alone.png (rows: true class, columns: answer, cells shaded by row share).
// predictions.csv's crop_outside_picture: the share of faceemotion's crop (its transform on the
// last frame's landmarks) that lies outside the picture, on the surround.
// --save-crops DIR writes DIR/<class>/<image name>.png per image: left, what the classifier
// alone is given (the picture at 64x64); right, the crop faceemotion takes from the same last
// frame (EmotionCropTransform on the reported landmarks), both grey, x3.
// An unreadable image is reported with its reason, counted, and left out of every figure; an
// empty class folder is reported and left out of the balanced accuracy.
//
// Exit status: 0 done; 1 the pipeline or the model failed (message says which); 2 usage, or
// a dataset folder that cannot be used (no class folder, an unknown class name, no image).
//
// Usage:
//   eval-emotion DATASET_DIR [--out DIR] [--models DIR] [--frames N] [--face-px N]
//                [--canvas WxH] [--limit N] [--save-frames DIR] [--save-crops DIR]
//                [--surround grey|edge] [--facetrack "PROP=VALUE ..."] [--faceemotion "PROP=VALUE ..."]
//
// --facetrack / --faceemotion add element properties to the graph (gst-launch syntax), e.g.
// --facetrack "min-detection-score=0.3": the table then says what was set.
// --save-frames DIR writes each composed frame as DIR/<class>/<image name>.png: the exact
// pictures the graph saw, for tools/tfjs/eval-human-emotion.mjs (Human 3.3.6 on the same input).
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
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/draw/font.h"
#include "engine/emotion/emotion_classifier.h"
#include "engine/io/jpeg.h"
#include "engine/io/png.h"
#include "engine/tracking/crop.h"
#include "tools/eval/still_graph.h"

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;
constexpr int kClasses = fg::kEmotionClasses;
constexpr int kNone = kClasses;            // "not found" column of the graph's matrix
constexpr int kSettleFrames = 60;          // most extra frames waiting for the worker
constexpr uint8_t kCanvasGrey = 128;

int Usage() {
  std::fprintf(stderr,
               "usage: eval-emotion DATASET_DIR [--out DIR] [--models DIR] [--frames N]\n"
               "                    [--face-px N] [--canvas WxH] [--limit N] [--save-frames DIR]\n"
               "                    [--save-crops DIR] [--surround grey|edge]\n"
               "                    [--facetrack \"PROP=VALUE ...\"] [--faceemotion \"PROP=VALUE ...\"]\n"
               "DATASET_DIR holds one folder per class (angry disgust fear happy sad surprise\n"
               "neutral) of PNG or JPEG face images. Writes OUT/summary.md, predictions.csv,\n"
               "confusion-graph.png, confusion-alone.png (OUT default: out/eval-emotion).\n");
  return kExitUsage;
}

std::optional<int> ClassOf(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, int> kAliases = {
      {"anger", fg::kEmotionAngry},      {"disgusted", fg::kEmotionDisgust},
      {"fearful", fg::kEmotionFear},     {"happiness", fg::kEmotionHappy},
      {"sadness", fg::kEmotionSad},      {"surprised", fg::kEmotionSurprise}};
  for (int i = 0; i < kClasses; ++i)
    if (name == fg::kEmotionNames[i]) return i;
  if (auto it = kAliases.find(name); it != kAliases.end()) return it->second;
  return std::nullopt;
}

struct Item {
  std::string path;
  int truth = 0;
};

struct Options {
  std::string dataset, out = "out/eval-emotion", models;
  std::string facetrack_props, faceemotion_props;  // extra "name=value ..." for the elements
  std::string save_frames;  // where to write each composed frame as PNG (for the TF.js peer)
  std::string save_crops;   // where to write the network's two inputs per image (--save-crops)
  bool surround_edge = false;  // --surround edge: the picture's border continued, else grey
  int frames = 30, face_px = 192, canvas_w = 640, canvas_h = 480;
  long limit = 0;
};

// Where Compose puts the picture on the canvas (canvas pixels).
fg::Box Placement(const fg::RgbImage& img, const Options& o) {
  const float k = static_cast<float>(o.face_px) / static_cast<float>(std::max(img.width, img.height));
  const int w = std::max(1, static_cast<int>(std::lround(img.width * k)));
  const int h = std::max(1, static_cast<int>(std::lround(img.height * k)));
  return {static_cast<float>((o.canvas_w - w) / 2), static_cast<float>((o.canvas_h - h) / 2),
          static_cast<float>(w), static_cast<float>(h)};
}

// The image scaled (bilinear, pixel centres) so its longer side is face_px, centred on the
// canvas: grey around it, or (surround_edge) its nearest border pixel.
void Compose(const fg::RgbImage& img, const Options& o, fg::RgbImage* frame) {
  frame->width = o.canvas_w;
  frame->height = o.canvas_h;
  std::vector<uint8_t>* canvas = &frame->pixels;
  canvas->assign(static_cast<size_t>(o.canvas_w) * o.canvas_h * 3, kCanvasGrey);
  const fg::ImageView src = img.View();
  const fg::Box at = Placement(img, o);
  const float k = at.w / static_cast<float>(img.width);
  const int w = static_cast<int>(at.w), h = static_cast<int>(at.h);
  const int x0 = static_cast<int>(at.x), y0 = static_cast<int>(at.y);
  // With surround_edge every canvas pixel is sampled, the source position clamped to the
  // picture: outside it, the nearest border pixel (the same value the clamp gives at the
  // picture's own edge pixels).
  const bool all = o.surround_edge;
  for (int y = all ? 0 : std::max(0, y0); y < (all ? o.canvas_h : std::min(o.canvas_h, y0 + h)); ++y)
    for (int x = all ? 0 : std::max(0, x0); x < (all ? o.canvas_w : std::min(o.canvas_w, x0 + w)); ++x) {
      const float sx = std::clamp((x - x0 + 0.5f) / k - 0.5f, 0.0f, img.width - 1.0f);
      const float sy = std::clamp((y - y0 + 0.5f) / k - 0.5f, 0.0f, img.height - 1.0f);
      const auto p = src.Bilinear(sx, sy);
      uint8_t* d = canvas->data() + (static_cast<size_t>(y) * o.canvas_w + x) * 3;
      for (int c = 0; c < 3; ++c) d[c] = static_cast<uint8_t>(std::lround(p[c]));
    }
}

// faceemotion's counters as published with the last frame: every crop submitted so far has
// been classified (or dropped) and its result polled into that frame.
bool EmotionIdle(GstElement* emotion) {
  guint64 submitted = 0, classified = 0, dropped = 0;
  g_object_get(emotion, "submitted", &submitted, "classified", &classified, "dropped", &dropped,
               nullptr);
  return classified + dropped >= submitted;
}

struct GraphResult {
  int answer = kNone;  // the label of the largest face on the last frame, or kNone
  // The argmax of that face's smoothed probabilities (the label holds with hysteresis, so the
  // two differ while a challenger has not beaten the label by faceemotion's margin).
  int top = kNone;
  // Where the picture lies relative to that face's eyes (in inter-ocular distances): its side
  // and how far its centre is below the eye midpoint. For a FER2013 image (the picture is the
  // training crop) this is the crop the network was trained on, in EmotionCropOptions' terms.
  std::optional<std::array<float, 2>> picture_in_iod;
  // faceemotion's crop on that face (EmotionCropTransform on its landmarks, 64x64 -> frame).
  std::optional<fg::Affine2D> crop;
};

GraphResult GraphAnswer(fg::eval::StillGraph& g, GstElement* emotion, const fg::RgbImage& canvas,
                        const Options& o, const fg::Box& picture, std::string* error, bool* failed) {
  // The graph (tools/eval/still_graph.h) starts over for each image; after --frames, frames
  // go on until faceemotion has classified every crop, so the answer does not depend on how
  // busy the machine was.
  const std::optional<fg::FrameFaces> faces =
      g.Run(canvas, o.frames, error, o.frames + kSettleFrames, EmotionIdle, emotion);
  *failed = !faces;
  if (!faces) return GraphResult{};
  const fg::Face* best = nullptr;
  for (const fg::Face& f : faces->faces)
    if (f.emotion && (!best || f.box.w * f.box.h > best->box.w * best->box.h)) best = &f;
  GraphResult r;
  if (!best) return r;
  r.answer = ClassOf(best->emotion->label).value_or(kNone);
  float top_p = -1;
  for (const auto& [name, prob] : best->emotion->scores)
    if (prob > top_p) top_p = prob, r.top = ClassOf(name).value_or(kNone);
  // The emotion crop's own frame (EmotionCropTransform): eye midpoint, 3D IOD, level eye line.
  fg::Affine2D m;
  if (fg::EmotionCropTransform(best->landmarks, {}, &m)) r.crop = m;
  if (fg::EmotionCropTransform(best->landmarks, {.side_per_iod = 1, .centre_below_eyes_iod = 0}, &m)) {
    const float iod = std::hypot(m.a, m.d) * fg::kEmotionInputSize;  // side 1 IOD = 64 px
    const auto eyes = m.Apply(0.5f * fg::kEmotionInputSize, 0.5f * fg::kEmotionInputSize);
    const float down_x = m.b / std::hypot(m.b, m.e), down_y = m.e / std::hypot(m.b, m.e);
    const float cx = picture.x + 0.5f * picture.w, cy = picture.y + 0.5f * picture.h;
    if (iod > 0)
      r.picture_in_iod = std::array<float, 2>{
          std::max(picture.w, picture.h) / iod, ((cx - eyes[0]) * down_x + (cy - eyes[1]) * down_y) / iod};
  }
  return r;
}

struct Tally {
  // confusion[truth][answer]; answer kNone only for the graph.
  std::array<std::array<long, kClasses + 1>, kClasses> confusion{};
  long Total(int t) const {
    long n = 0;
    for (long v : confusion[t]) n += v;
    return n;
  }
  double Recall(int t) const { return Total(t) ? double(confusion[t][t]) / Total(t) : 0; }
  long All() const {
    long n = 0;
    for (int t = 0; t < kClasses; ++t) n += Total(t);
    return n;
  }
  double Accuracy() const {
    long ok = 0;
    for (int t = 0; t < kClasses; ++t) ok += confusion[t][t];
    return All() ? double(ok) / All() : 0;
  }
  double Balanced() const {
    double s = 0;
    int n = 0;
    for (int t = 0; t < kClasses; ++t)
      if (Total(t)) s += Recall(t), ++n;
    return n ? s / n : 0;
  }
  long NotFound() const {
    long n = 0;
    for (int t = 0; t < kClasses; ++t) n += confusion[t][kNone];
    return n;
  }
};

// A confusion matrix as a picture: rows true class, columns answer; a cell's shade is its
// share of the row, its text the count.
std::optional<std::string> WriteMatrixPng(const std::string& path, std::string title,
                                          const Tally& t, bool with_none) {
  char figures[96];
  std::snprintf(figures, sizeof figures, "  N %ld  acc %.3f  bal %.3f", t.All(), t.Accuracy(),
                t.Balanced());
  title += figures;
  const int cols = kClasses + (with_none ? 1 : 0);
  constexpr int kCell = 64, kLeft = 96, kTop = 72, kScale = 2;
  fg::RgbImage img;
  img.width = std::max(kLeft + cols * kCell + 16, 16 + fg::draw::TextWidth(title, kScale));
  img.height = kTop + kClasses * kCell + 40;
  img.pixels.assign(static_cast<size_t>(img.width) * img.height * 3, 255);
  fg::draw::MutableImageView v;
  if (auto err = fg::draw::MutableImageView::Wrap(fg::PixelFormat::kRGB, img.width, img.height,
                                                  {img.pixels.data(), nullptr, nullptr},
                                                  {img.width * 3, 0, 0}, &v))
    return err;
  using fg::draw::Color;
  using fg::draw::Pen;
  const Pen black = Pen::Make(v.format, Color{0, 0, 0});
  const Pen white = Pen::Make(v.format, Color{255, 255, 255});
  const Pen grid = Pen::Make(v.format, Color{160, 160, 160});
  fg::draw::Text(v, black, 8, 8, title, kScale);
  auto name = [](int c) { return c == kNone ? std::string("none") : std::string(fg::kEmotionNames[c].substr(0, 4)); };
  for (int c = 0; c < cols; ++c)
    fg::draw::Text(v, black, kLeft + c * kCell + 6, kTop - 22, name(c), kScale);
  fg::draw::Text(v, black, kLeft, img.height - 26, "columns: answer; rows: truth", kScale);
  for (int r = 0; r < kClasses; ++r) {
    fg::draw::Text(v, black, 8, kTop + r * kCell + kCell / 2 - 7, name(r), kScale);
    const long n = t.Total(r);
    for (int c = 0; c < cols; ++c) {
      const long count = t.confusion[r][c];
      const double share = n ? double(count) / n : 0;
      const uint8_t shade = static_cast<uint8_t>(std::lround(255 * (1 - share)));
      const Color cell = r == c ? Color{shade, shade, 255} : Color{255, shade, shade};
      const int x0 = kLeft + c * kCell, y0 = kTop + r * kCell;
      fg::draw::FillRect(v, Pen::Make(v.format, cell), x0, y0, x0 + kCell - 1, y0 + kCell - 1);
      fg::draw::Rect(v, grid, x0, y0, kCell, kCell, 1);
      const std::string s = std::to_string(count);
      fg::draw::Text(v, share > 0.5 ? white : black, x0 + (kCell - fg::draw::TextWidth(s, kScale)) / 2,
                     y0 + kCell / 2 - 7, s, kScale);
    }
  }
  return fg::WritePngRgb(path, img);
}

std::string Percent(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}

std::string Summary(const Options& o, const Tally& graph, const Tally& alone, long unreadable,
                    const std::vector<std::string>& empty_classes) {
  std::ostringstream s;
  s << "dataset: " << o.dataset << "\n"
    << "images: " << alone.All() << " scored, " << unreadable << " unreadable (left out)\n"
    << "graph: appsrc ! facetrack " << o.facetrack_props << " ! faceemotion "
    << o.faceemotion_props << " ! appsink; " << o.frames
    << " frames per image at 30 fps; image scaled to " << o.face_px << " px (longer side) on a "
    << o.canvas_w << "x" << o.canvas_h << " frame, around it "
    << (o.surround_edge ? "its border continued (--surround edge)" : "mid-grey") << "\n";
  if (!empty_classes.empty()) {
    s << "empty class folders (left out of the balanced accuracy):";
    for (const auto& c : empty_classes) s << " " << c;
    s << "\n";
  }
  s << "\n| | classifier alone | graph |\n|---|---|---|\n"
    << "| accuracy | " << Percent(alone.Accuracy()) << " | " << Percent(graph.Accuracy()) << " |\n"
    << "| balanced accuracy | " << Percent(alone.Balanced()) << " | " << Percent(graph.Balanced())
    << " |\n"
    << "| faces not found | - | " << graph.NotFound() << " ("
    << Percent(graph.All() ? double(graph.NotFound()) / graph.All() : 0) << ") |\n";
  for (int c = 0; c < kClasses; ++c)
    s << "| recall " << fg::kEmotionNames[c] << " (N=" << alone.Total(c) << ") | "
      << (alone.Total(c) ? Percent(alone.Recall(c)) : "-") << " | "
      << (graph.Total(c) ? Percent(graph.Recall(c)) : "-") << " |\n";
  for (const auto* t : {&alone, &graph}) {
    const bool g = t == &graph;
    s << "\nconfusion, " << (g ? "graph" : "classifier alone") << " (rows truth, columns answer):\n\n|   |";
    for (int c = 0; c < kClasses; ++c) s << " " << fg::kEmotionNames[c].substr(0, 4) << " |";
    if (g) s << " none |";
    s << "\n|---|";
    for (int c = 0; c < kClasses + (g ? 1 : 0); ++c) s << "---|";
    s << "\n";
    for (int r = 0; r < kClasses; ++r) {
      s << "| " << fg::kEmotionNames[r].substr(0, 4) << " |";
      for (int c = 0; c < kClasses + (g ? 1 : 0); ++c) s << " " << t->confusion[r][c] << " |";
      s << "\n";
    }
  }
  return s.str();
}

// The share of the crop's 64x64 pixel centres that fall outside the picture.
float OutsideShare(const fg::Affine2D& m, const fg::Box& picture) {
  int out = 0;
  for (int y = 0; y < fg::kEmotionInputSize; ++y)
    for (int x = 0; x < fg::kEmotionInputSize; ++x) {
      const auto q = m.Apply(x + 0.5f, y + 0.5f);
      out += q[0] < picture.x || q[1] < picture.y || q[0] > picture.x + picture.w ||
             q[1] > picture.y + picture.h;
    }
  return static_cast<float>(out) / fg::kEmotionCropElements;
}

// Two network inputs side by side, x3, as grey pixels ([-1, 1] back to 0..255); a missing one
// (no face) stays black.
std::optional<std::string> WriteCropsPng(const std::string& path, const float* left,
                                         const float* right) {
  constexpr int kZoom = 3, kSide = fg::kEmotionInputSize * kZoom;
  fg::RgbImage img;
  img.width = 2 * kSide;
  img.height = kSide;
  img.pixels.assign(static_cast<size_t>(img.width) * img.height * 3, 0);
  for (int half = 0; half < 2; ++half) {
    const float* c = half ? right : left;
    if (!c) continue;
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) {
        const float v = c[(y / kZoom) * fg::kEmotionInputSize + x / kZoom];
        const auto g = static_cast<uint8_t>(std::clamp(std::lround((v + 1) * 127.5f), 0L, 255L));
        uint8_t* d = img.pixels.data() + (static_cast<size_t>(y) * img.width + half * kSide + x) * 3;
        d[0] = d[1] = d[2] = g;
      }
  }
  return fg::WritePngRgb(path, img);
}

std::optional<long> ParseLong(const char* s) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end) return std::nullopt;
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  // The elements are registered from this binary (below); a facegraph plugin found on
  // GST_PLUGIN_PATH would register the same element and meta names a second time.
  g_setenv("GST_PLUGIN_PATH", "", TRUE);
  g_setenv("GST_PLUGIN_PATH_1_0", "", TRUE);
  gst_init(&argc, &argv);
  Options o;
  o.models = fg::eval::DefaultModelsDir();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto positive = [&](long* out) {
      const char* v = value();
      const auto n = v ? ParseLong(v) : std::nullopt;
      if (!n || *n <= 0) return std::fprintf(stderr, "eval-emotion: %s needs a positive integer\n", a.c_str()), false;
      return *out = *n, true;
    };
    long n = 0;
    if (a == "--out" || a == "--models" || a == "--save-frames" || a == "--save-crops" ||
        a == "--facetrack" || a == "--faceemotion") {
      const char* v = value();
      if (!v) return Usage();
      (a == "--out"           ? o.out
       : a == "--models"      ? o.models
       : a == "--facetrack"   ? o.facetrack_props
       : a == "--faceemotion" ? o.faceemotion_props
       : a == "--save-crops"  ? o.save_crops
                              : o.save_frames) = v;
    } else if (a == "--surround") {
      const char* v = value();
      if (!v || (std::string(v) != "grey" && std::string(v) != "edge"))
        return std::fprintf(stderr, "eval-emotion: --surround needs grey or edge\n"), Usage();
      o.surround_edge = std::string(v) == "edge";
    } else if (a == "--frames" || a == "--face-px" || a == "--limit") {
      if (!positive(&n)) return Usage();
      if (a == "--frames") o.frames = static_cast<int>(n);
      if (a == "--face-px") o.face_px = static_cast<int>(n);
      if (a == "--limit") o.limit = n;
    } else if (a == "--canvas") {
      const char* v = value();
      if (!v || std::sscanf(v, "%dx%d", &o.canvas_w, &o.canvas_h) != 2 || o.canvas_w < 16 ||
          o.canvas_h < 16 || o.canvas_w % 2 || o.canvas_h % 2)
        return std::fprintf(stderr, "eval-emotion: --canvas needs WxH, even, at least 16x16\n"), Usage();
    } else if (a == "-h" || a == "--help") {
      return Usage();
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "eval-emotion: unknown option %s\n", a.c_str());
      return Usage();
    } else if (o.dataset.empty()) {
      o.dataset = a;
    } else {
      return Usage();
    }
  }
  if (o.dataset.empty()) return Usage();
  if (o.face_px > std::min(o.canvas_w, o.canvas_h)) {
    std::fprintf(stderr, "eval-emotion: --face-px %d does not fit the %dx%d canvas\n", o.face_px,
                 o.canvas_w, o.canvas_h);
    return kExitUsage;
  }

  // The dataset: class folders, their images sorted by name (the order does not change results:
  // each image starts the graph over).
  std::error_code ec;
  if (!fs::is_directory(o.dataset, ec)) {
    std::fprintf(stderr, "eval-emotion: %s: not a folder\n", o.dataset.c_str());
    return kExitUsage;
  }
  std::vector<Item> items;
  std::vector<std::string> empty_classes;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(o.dataset, ec))
    if (e.is_directory() && e.path().filename().string()[0] != '.') dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    const auto c = ClassOf(d.filename().string());
    if (!c) {
      std::fprintf(stderr,
                   "eval-emotion: %s: not a class name; class folders are angry, disgust, fear, "
                   "happy, sad, surprise, neutral\n",
                   d.c_str());
      return kExitUsage;
    }
    std::vector<std::string> files;
    for (const auto& f : fs::directory_iterator(d, ec))
      if (f.is_regular_file() && f.path().filename().string()[0] != '.') files.push_back(f.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      std::fprintf(stderr, "eval-emotion: class folder %s has no images: left out\n", d.c_str());
      empty_classes.push_back(d.filename().string());
    }
    for (auto& f : files) items.push_back({std::move(f), *c});
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "eval-emotion: %s has no class folders (angry, disgust, fear, happy, sad, "
                 "surprise, neutral)\n", o.dataset.c_str());
    return kExitUsage;
  }
  if (items.empty()) {
    std::fprintf(stderr, "eval-emotion: %s: no images in any class folder\n", o.dataset.c_str());
    return kExitUsage;
  }
  if (o.limit > 0 && static_cast<long>(items.size()) > o.limit) {
    // Every k-th image, so each class keeps its share.
    std::vector<Item> kept;
    for (long i = 0; i < o.limit; ++i) kept.push_back(items[i * items.size() / o.limit]);
    items = std::move(kept);
  }

  if (!fg::eval::RegisterElements("eval-emotion")) return kExitFailed;
  std::string err;
  auto classifier = fg::EmotionClassifier::Create(o.models + "/emotion.json", "auto", &err);
  if (!classifier) {
    std::fprintf(stderr, "eval-emotion: %s\n", err.c_str());
    return kExitFailed;
  }
  auto graph = fg::eval::StillGraph::Start(
      o.models, o.facetrack_props, &err,
      "faceemotion name=emotion models-dir=\"" + o.models + "\" " + o.faceemotion_props);
  if (!graph) {
    std::fprintf(stderr, "eval-emotion: %s\n", err.c_str());
    return kExitFailed;
  }
  // faceemotion's counters say when it is idle (GraphAnswer).
  const std::unique_ptr<GstElement, void (*)(gpointer)> emotion_ref(graph->Element("emotion"),
                                                                    gst_object_unref);
  GstElement* emotion = emotion_ref.get();
  fs::create_directories(o.out, ec);
  if (ec) {
    std::fprintf(stderr, "eval-emotion: cannot create %s: %s\n", o.out.c_str(), ec.message().c_str());
    return kExitFailed;
  }
  std::ofstream csv(o.out + "/predictions.csv");
  if (!csv) {
    std::fprintf(stderr, "eval-emotion: cannot write %s/predictions.csv\n", o.out.c_str());
    return kExitFailed;
  }
  csv << "path,truth,alone,graph,picture_side_iod,picture_centre_below_eyes_iod,graph_top,"
         "crop_outside_picture\n";

  Tally g_tally, a_tally;
  long unreadable = 0;
  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  fg::RgbImage canvas;
  std::vector<float> crop(fg::kEmotionCropElements);
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    fg::RgbImage img;
    if (auto e = fg::ReadImageRgb(it.path, &img)) {
      std::fprintf(stderr, "%seval-emotion: unreadable, left out: %s\n", tty ? "\n" : "", e->c_str());
      ++unreadable;
      csv << it.path << "," << fg::kEmotionNames[it.truth] << ",unreadable,unreadable,,,unreadable,\n";
      continue;
    }
    // Classifier alone: the whole picture is the face crop.
    fg::Affine2D m;
    m.a = static_cast<float>(img.width) / fg::kEmotionInputSize;
    m.e = static_cast<float>(img.height) / fg::kEmotionInputSize;
    fg::SampleCrop(img.View(), m, fg::kEmotionInputSize, fg::kEmotionInputSize,
                   fg::CropNorm::kSigned, fg::CropChannels::kGray, crop.data());
    fg::EmotionProbs p;
    if (!classifier->Classify(crop.data(), &p)) {
      std::fprintf(stderr, "eval-emotion: the emotion network failed: %s\n",
                   classifier->last_error().c_str());
      return kExitFailed;
    }
    const int alone = fg::ArgMax(p);
    Compose(img, o, &canvas);
    if (!o.save_frames.empty()) {
      const fs::path dir = fs::path(o.save_frames) / fs::path(it.path).parent_path().filename();
      fs::create_directories(dir, ec);
      const std::string file = (dir / fs::path(it.path).stem()).string() + ".png";
      if (auto e = fg::WritePngRgb(file, canvas)) {
        std::fprintf(stderr, "eval-emotion: %s\n", e->c_str());
        return kExitFailed;
      }
    }
    bool failed = false;
    const GraphResult gr = GraphAnswer(*graph, emotion, canvas, o, Placement(img, o), &err, &failed);
    const int g = gr.answer;
    if (failed) {
      std::fprintf(stderr, "%seval-emotion: %s (at %s)\n", tty ? "\n" : "", err.c_str(), it.path.c_str());
      return kExitFailed;
    }
    ++a_tally.confusion[it.truth][alone];
    ++g_tally.confusion[it.truth][g];
    csv << it.path << "," << fg::kEmotionNames[it.truth] << "," << fg::kEmotionNames[alone] << ","
        << (g == kNone ? std::string_view("none") : fg::kEmotionNames[g]) << ",";
    if (gr.picture_in_iod) csv << (*gr.picture_in_iod)[0] << "," << (*gr.picture_in_iod)[1];
    else csv << ",";
    csv << "," << (gr.top == kNone ? std::string_view("none") : fg::kEmotionNames[gr.top]) << ",";
    if (gr.crop) csv << OutsideShare(*gr.crop, Placement(img, o));
    csv << "\n";
    if (!o.save_crops.empty()) {
      const fs::path dir = fs::path(o.save_crops) / fs::path(it.path).parent_path().filename();
      fs::create_directories(dir, ec);
      std::vector<float> graph_crop(fg::kEmotionCropElements);
      if (gr.crop)
        fg::SampleCrop(canvas.View(), *gr.crop, fg::kEmotionInputSize, fg::kEmotionInputSize,
                       fg::CropNorm::kSigned, fg::CropChannels::kGray, graph_crop.data());
      const std::string file = (dir / fs::path(it.path).stem()).string() + ".png";
      if (auto e = WriteCropsPng(file, crop.data(), gr.crop ? graph_crop.data() : nullptr)) {
        std::fprintf(stderr, "eval-emotion: %s\n", e->c_str());
        return kExitFailed;
      }
    }
    const size_t done = i + 1;
    if (tty || done % 100 == 0 || done == items.size()) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "%s[%zu/%zu] alone %.3f  graph %.3f  not found %ld  (%.1f images/s)%s",
                   tty ? "\r" : "", done, items.size(), a_tally.Accuracy(), g_tally.Accuracy(),
                   g_tally.NotFound(), done / std::max(s, 1e-3), tty ? "" : "\n");
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  if (a_tally.All() == 0) {
    std::fprintf(stderr, "eval-emotion: no readable image in %s\n", o.dataset.c_str());
    return kExitUsage;
  }
  const std::string summary = Summary(o, g_tally, a_tally, unreadable, empty_classes);
  std::fputs(summary.c_str(), stdout);
  std::ofstream(o.out + "/summary.md") << summary;
  for (const auto& [file, title, t, none] :
       {std::tuple{"/confusion-graph.png", "graph: facetrack ! faceemotion", &g_tally, true},
        std::tuple{"/confusion-alone.png", "classifier alone", &a_tally, false}}) {
    if (auto e = WriteMatrixPng(o.out + file, title, *t, none)) {
      std::fprintf(stderr, "eval-emotion: %s\n", e->c_str());
      return kExitFailed;
    }
  }
  std::fprintf(stderr, "eval-emotion: wrote %s/summary.md, predictions.csv, confusion-graph.png, "
               "confusion-alone.png\n", o.out.c_str());
  return kExitOk;
}
