#include "tools/eval/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/draw/font.h"
#include "engine/io/png.h"

namespace fg::eval {

namespace {

std::string Fixed(double v, int decimals) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

}  // namespace

std::optional<std::string> WriteChartPng(const std::string& path, const Chart& c) {
  constexpr int kW = 800, kH = 600, kLeft = 80, kRight = 24, kBottom = 64, kScale = 2;
  const int top = 48 + 18 * static_cast<int>(c.notes.size());
  RgbImage img{kW, kH, std::vector<uint8_t>(static_cast<size_t>(kW) * kH * 3, 255)};
  draw::MutableImageView v;
  if (auto err = draw::MutableImageView::Wrap(PixelFormat::kRGB, kW, kH,
                                              {img.pixels.data(), nullptr, nullptr}, {kW * 3, 0, 0}, &v))
    return err;
  using draw::Color;
  using draw::Pen;
  const Pen black = Pen::Make(v.format, Color{0, 0, 0});
  const Pen grid = Pen::Make(v.format, Color{225, 225, 225});
  draw::Text(v, black, 8, 8, c.title, kScale);
  for (size_t i = 0; i < c.notes.size(); ++i)
    draw::Text(v, black, 8, 34 + 18 * static_cast<int>(i), c.notes[i], 1);
  const int x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = top;
  auto px = [&](double x) { return x0 + static_cast<int>(std::lround((x1 - x0) * std::clamp(x / c.x_max, 0.0, 1.0))); };
  auto py = [&](double y) { return y0 - static_cast<int>(std::lround((y0 - y1) * std::clamp(y / c.y_max, 0.0, 1.0))); };
  // y grid and ticks
  for (int k = 0; k * c.y_tick <= c.y_max * (1 + 1e-9); ++k) {
    const int y = py(k * c.y_tick);
    draw::Line(v, grid, x0, y, x1, y);
    const std::string s = Fixed(k * c.y_tick, c.y_decimals);
    draw::Text(v, black, x0 - 6 - draw::TextWidth(s, 1), y - 3, s, 1);
  }
  draw::Text(v, black, 8, y1 - 16, c.y_label, 1);
  draw::Text(v, black, (x0 + x1 - draw::TextWidth(c.x_label, 1)) / 2, kH - 20, c.x_label, 1);
  // legend: one swatch and name per series, right of the title (outside the plot, so no
  // curve or bar covers it)
  std::vector<std::pair<std::string, Color>> legend;
  for (const auto& l : c.lines) legend.push_back({l.name, l.color});
  for (const auto& b : c.bars) legend.push_back({b.name, b.color});
  int ly = 10;
  for (const auto& [name, color] : legend) {
    const int lx = x1 - 16 - draw::TextWidth(name, 1) - 22;
    draw::FillRect(v, Pen::Make(v.format, color), lx, ly, lx + 14, ly + 6);
    draw::Text(v, black, lx + 20, ly, name, 1);
    ly += 14;
  }
  if (c.groups.empty()) {
    for (int k = 0; k * c.x_tick <= c.x_max * (1 + 1e-9); ++k) {
      const int x = px(k * c.x_tick);
      draw::Line(v, grid, x, y0, x, y1);
      const std::string s = Fixed(k * c.x_tick, c.x_decimals);
      draw::Text(v, black, x - draw::TextWidth(s, 1) / 2, y0 + 8, s, 1);
    }
    for (const auto& l : c.lines) {
      const Pen pen = Pen::Make(v.format, l.color);
      for (size_t i = 1; i < l.points.size(); ++i)
        draw::Line(v, pen, px(l.points[i - 1][0]), py(l.points[i - 1][1]), px(l.points[i][0]),
                   py(l.points[i][1]), 2);
    }
  } else {
    const int n = static_cast<int>(c.groups.size());
    const int slot = (x1 - x0) / n;
    const int per = std::max<int>(1, static_cast<int>(c.bars.size()));
    const int bar_w = std::max(4, (slot - 16) / per);
    for (int g = 0; g < n; ++g) {
      const int gx = x0 + g * slot + 8;
      draw::Text(v, black, x0 + g * slot + (slot - draw::TextWidth(c.groups[g], 1)) / 2, y0 + 8,
                 c.groups[g], 1);
      for (int s = 0; s < static_cast<int>(c.bars.size()); ++s) {
        const auto& b = c.bars[s];
        if (g >= static_cast<int>(b.values.size()) || b.values[g] < 0) continue;
        const int bx = gx + s * bar_w, top_y = py(b.values[g]);
        draw::FillRect(v, Pen::Make(v.format, b.color), bx, top_y, bx + bar_w - 3, y0);
        std::string label = Fixed(b.values[g], 2);
        draw::Text(v, black, bx, top_y - 20, label, 1);
        if (g < static_cast<int>(b.texts.size())) draw::Text(v, black, bx, top_y - 10, b.texts[g], 1);
      }
    }
  }
  draw::Line(v, black, x0, y0, x1, y0);
  draw::Line(v, black, x0, y0, x0, y1);
  return WritePngRgb(path, img);
}

}  // namespace fg::eval
