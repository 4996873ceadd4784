// Small PNG charts for the evaluation tools, drawn with engine/draw and written with
// engine/io/png.h: a line chart (eval-landmarks' CED curve) and a grouped bar chart
// (eval-detection's recall and precision by face size). 800 x 600 pixels, white background,
// axes with ticks, a legend, the title on top.
//
// Threading: free functions, reentrant.
//
// Example:
//   fg::eval::Chart c{.title = "CED", .x_label = "NME", .y_label = "share", .x_max = 0.1,
//                     .y_max = 1, .x_tick = 0.01, .y_tick = 0.1};
//   c.lines.push_back({"test", {0, 0, 255}, {{0, 0}, {0.05, 0.8}}});
//   if (auto err = fg::eval::WriteChartPng("ced.png", c)) return *err;
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "engine/draw/canvas.h"

namespace fg::eval {

struct Chart {
  std::string title, x_label, y_label;
  double x_max = 1, y_max = 1, x_tick = 0.1, y_tick = 0.1;  // both axes start at 0
  int x_decimals = 2, y_decimals = 1;                      // tick label precision
  struct Line {
    std::string name;
    draw::Color color;
    std::vector<std::array<double, 2>> points;  // joined in order, clipped to the axes
  };
  std::vector<Line> lines;
  // Bars instead of an x axis: one group per label, one bar per series in each group; the
  // value on top of each bar (with its text, e.g. "12/40").
  std::vector<std::string> groups;
  struct Bars {
    std::string name;
    draw::Color color;
    std::vector<double> values;      // one per group; negative = no bar (no data)
    std::vector<std::string> texts;  // one per group (may be empty)
  };
  std::vector<Bars> bars;
  std::vector<std::string> notes;  // lines of text under the title
};

// Writes the chart (lines, or bars when `groups` is not empty). Error names the file.
std::optional<std::string> WriteChartPng(const std::string& path, const Chart& chart);

}  // namespace fg::eval
