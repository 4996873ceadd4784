// bland-altman: a Bland-Altman plot of heart-rate estimates against their truth, as a PNG
// (engine/io/png.h, drawn with engine/draw). tools/eval/eval-vitals writes its pairs and calls it.
//
//   bland-altman PAIRS.csv OUT.png [--title=TEXT]
//
// PAIRS.csv: a header naming at least "estimate" and "truth" (bpm), one pair per row; an
// optional "group" column (an integer 0..7, e.g. the clip's index) picks each point's colour.
// The plot: x the mean of estimate and truth, y their difference (estimate - truth); a solid
// line at the bias (mean difference), dashed ones at the 95 % limits of agreement (bias +-
// 1.96 SD); axis ticks every 10 (or 20, 50) bpm; the title, n, bias and limits as text.
// 800 x 600 pixels, white background.
//
// Exit status: 0 written; 1 the file cannot be read or written, or has no pair (the message
// names the file and line); 2 bad arguments.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"
#include "engine/draw/font.h"
#include "engine/io/png.h"

namespace {

struct Pair {
  double estimate, truth;
  int group;
};

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(0, 1);
    out.push_back(cell);
  }
  return out;
}

bool ReadPairs(const std::string& path, std::vector<Pair>* pairs, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot read";
    return false;
  }
  std::string line;
  if (!std::getline(in, line)) {
    *error = path + ": empty";
    return false;
  }
  const std::vector<std::string> head = Split(line);
  auto col = [&](const char* name) {
    auto it = std::find(head.begin(), head.end(), name);
    return it == head.end() ? -1 : static_cast<int>(it - head.begin());
  };
  const int ce = col("estimate"), ct = col("truth"), cg = col("group");
  if (ce < 0 || ct < 0) {
    *error = path + ":1: the header must name \"estimate\" and \"truth\"";
    return false;
  }
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const std::vector<std::string> c = Split(line);
    const int need = std::max({ce, ct, cg});
    char* end = nullptr;
    if (static_cast<int>(c.size()) <= need) {
      *error = path + ":" + std::to_string(n) + ": " + std::to_string(c.size()) + " columns, need " +
               std::to_string(need + 1);
      return false;
    }
    Pair p{};
    p.estimate = std::strtod(c[ce].c_str(), &end);
    const bool ok_e = end && *end == 0 && !c[ce].empty();
    p.truth = std::strtod(c[ct].c_str(), &end);
    const bool ok_t = end && *end == 0 && !c[ct].empty();
    if (!ok_e || !ok_t || !std::isfinite(p.estimate) || !std::isfinite(p.truth)) {
      *error = path + ":" + std::to_string(n) + ": not numbers: " + line.substr(0, 60);
      return false;
    }
    p.group = cg >= 0 ? std::abs(std::atoi(c[cg].c_str())) % 8 : 0;
    pairs->push_back(p);
  }
  if (pairs->empty()) {
    *error = path + ": no pairs";
    return false;
  }
  return true;
}

std::string Fixed(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// A tick step of 1, 2 or 5 x 10^k giving at most ~8 ticks over `range`.
double TickStep(double range) {
  const double raw = range / 8;
  const double p = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-9))));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

}  // namespace

int main(int argc, char** argv) {
  std::string in, out, title = "Bland-Altman";
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--title=", 8)) {
      title = argv[i] + 8;
    } else if (argv[i][0] == '-' && argv[i][1] != 0) {
      std::fprintf(stderr, "bland-altman: unknown option %s\nusage: bland-altman PAIRS.csv OUT.png [--title=TEXT]\n", argv[i]);
      return 2;
    } else if (in.empty()) {
      in = argv[i];
    } else if (out.empty()) {
      out = argv[i];
    } else {
      std::fprintf(stderr, "bland-altman: one input and one output, got also %s\n", argv[i]);
      return 2;
    }
  }
  if (in.empty() || out.empty()) {
    std::fprintf(stderr, "usage: bland-altman PAIRS.csv OUT.png [--title=TEXT]\n");
    return 2;
  }
  std::vector<Pair> pairs;
  std::string error;
  if (!ReadPairs(in, &pairs, &error)) {
    std::fprintf(stderr, "bland-altman: %s\n", error.c_str());
    return 1;
  }
  const size_t n = pairs.size();
  double bias = 0;
  for (const Pair& p : pairs) bias += p.estimate - p.truth;
  bias /= n;
  double var = 0;
  for (const Pair& p : pairs) var += (p.estimate - p.truth - bias) * (p.estimate - p.truth - bias);
  const double sd = n > 1 ? std::sqrt(var / (n - 1)) : 0.0;
  const double lo = bias - 1.96 * sd, hi = bias + 1.96 * sd;

  // Axis ranges: the data, the limits and a margin.
  double xmin = 1e9, xmax = -1e9, ymin = std::min(lo, 0.0), ymax = std::max(hi, 0.0);
  for (const Pair& p : pairs) {
    const double m = 0.5 * (p.estimate + p.truth), d = p.estimate - p.truth;
    xmin = std::min(xmin, m), xmax = std::max(xmax, m), ymin = std::min(ymin, d), ymax = std::max(ymax, d);
  }
  const double xpad = std::max(2.0, 0.05 * (xmax - xmin)), ypad = std::max(2.0, 0.08 * (ymax - ymin));
  xmin -= xpad, xmax += xpad, ymin -= ypad, ymax += ypad;

  constexpr int kW = 800, kH = 600, kL = 70, kR = 20, kT = 60, kB = 60;
  fg::RgbImage img;
  img.width = kW, img.height = kH;
  img.pixels.assign(kW * kH * 3, 255);
  fg::draw::MutableImageView v;
  if (auto err = fg::draw::MutableImageView::Wrap(fg::PixelFormat::kRGB, kW, kH, {img.pixels.data(), nullptr, nullptr},
                                                  {kW * 3, 0, 0}, &v)) {
    std::fprintf(stderr, "bland-altman: %s\n", err->c_str());
    return 1;
  }
  using fg::draw::Color;
  using fg::draw::Pen;
  const Pen black = Pen::Make(v.format, Color::FromArgb(0xff000000));
  const Pen grey = Pen::Make(v.format, Color::FromArgb(0xffd0d0d0));
  const Pen red = Pen::Make(v.format, Color::FromArgb(0xffd02020));
  const Pen blue = Pen::Make(v.format, Color::FromArgb(0xff2050d0));
  const Pen group[8] = {Pen::Make(v.format, Color::FromArgb(0xff1f77b4)), Pen::Make(v.format, Color::FromArgb(0xffff7f0e)),
                        Pen::Make(v.format, Color::FromArgb(0xff2ca02c)), Pen::Make(v.format, Color::FromArgb(0xff9467bd)),
                        Pen::Make(v.format, Color::FromArgb(0xff8c564b)), Pen::Make(v.format, Color::FromArgb(0xffe377c2)),
                        Pen::Make(v.format, Color::FromArgb(0xff7f7f7f)), Pen::Make(v.format, Color::FromArgb(0xffbcbd22))};
  const int pw = kW - kL - kR, ph = kH - kT - kB;
  auto X = [&](double x) { return kL + static_cast<int>(std::lround((x - xmin) / (xmax - xmin) * pw)); };
  auto Y = [&](double y) { return kT + ph - static_cast<int>(std::lround((y - ymin) / (ymax - ymin) * ph)); };

  // Grid and ticks.
  const double xs = TickStep(xmax - xmin), ys = TickStep(ymax - ymin);
  for (double x = std::ceil(xmin / xs) * xs; x <= xmax; x += xs) {
    fg::draw::Line(v, grey, X(x), kT, X(x), kT + ph, 1);
    const std::string s = Fixed(x, xs < 1 ? 1 : 0);
    fg::draw::Text(v, black, X(x) - fg::draw::TextWidth(s, 1) / 2, kT + ph + 6, s, 1);
  }
  for (double y = std::ceil(ymin / ys) * ys; y <= ymax; y += ys) {
    fg::draw::Line(v, grey, kL, Y(y), kL + pw, Y(y), 1);
    const std::string s = Fixed(y, ys < 1 ? 1 : 0);
    fg::draw::Text(v, black, kL - 6 - fg::draw::TextWidth(s, 1), Y(y) - 3, s, 1);
  }
  fg::draw::Rect(v, black, kL, kT, pw + 1, ph + 1, 1);
  // Zero, bias, limits of agreement (dashed).
  fg::draw::Line(v, black, kL, Y(0), kL + pw, Y(0), 1);
  fg::draw::Line(v, red, kL, Y(bias), kL + pw, Y(bias), 2);
  for (double y : {lo, hi})
    for (int x = kL; x < kL + pw; x += 12) fg::draw::Line(v, blue, x, Y(y), std::min(kL + pw, x + 6), Y(y), 2);
  for (const Pair& p : pairs) fg::draw::FillCircle(v, group[p.group], X(0.5 * (p.estimate + p.truth)), Y(p.estimate - p.truth), 3);

  fg::draw::Text(v, black, kL, 12, title, 2);
  const std::string stats = "n " + std::to_string(n) + "   bias " + Fixed(bias, 2) + " bpm   95% limits " +
                            Fixed(lo, 2) + " .. " + Fixed(hi, 2) + " bpm";
  fg::draw::Text(v, black, kL, 36, stats, 1);
  const std::string xl = "mean of estimate and truth (bpm)";
  fg::draw::Text(v, black, kL + pw / 2 - fg::draw::TextWidth(xl, 1) / 2, kH - 24, xl, 1);
  fg::draw::Text(v, black, 4, kT - 14, "estimate - truth (bpm)", 1);

  if (auto err = fg::WritePngRgb(out, img)) {
    std::fprintf(stderr, "bland-altman: %s\n", err->c_str());
    return 1;
  }
  std::printf("bland-altman: %zu pairs, bias %.2f bpm, limits %.2f .. %.2f bpm -> %s\n", n, bias, lo, hi, out.c_str());
  return 0;
}
