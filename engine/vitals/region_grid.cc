#include "engine/vitals/region_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace fg {

PatchLayout GridLayout(int cols, int rows) {
  PatchLayout l;
  cols = std::max(1, cols), rows = std::max(1, rows);
  for (int j = 0; j < rows; ++j)
    for (int i = 0; i < cols; ++i) {
      // Cell centre in 0..1; the middle half in both directions is the centre group.
      const double u = (i + 0.5) / cols, v = (j + 0.5) / rows;
      int r;
      if (std::abs(u - 0.5) < 0.25 && std::abs(v - 0.5) < 0.25) r = 4;
      else r = (v < 0.5 ? 0 : 2) + (u < 0.5 ? 0 : 1);
      l.region.push_back(static_cast<FaceRegion>(r));
      std::vector<int> nb;
      if (i > 0) nb.push_back(j * cols + i - 1);
      if (i + 1 < cols) nb.push_back(j * cols + i + 1);
      if (j > 0) nb.push_back((j - 1) * cols + i);
      if (j + 1 < rows) nb.push_back((j + 1) * cols + i);
      l.neighbours.push_back(std::move(nb));
    }
  return l;
}

Box ClipRegion(const ImageView& frame, const Box& rect) {
  if (rect.w <= 0 || rect.h <= 0)
    return Box{0, 0, static_cast<float>(frame.width), static_cast<float>(frame.height)};
  const float x0 = std::clamp(std::floor(rect.x), 0.0f, static_cast<float>(frame.width));
  const float y0 = std::clamp(std::floor(rect.y), 0.0f, static_cast<float>(frame.height));
  const float x1 = std::clamp(std::ceil(rect.x + rect.w), 0.0f, static_cast<float>(frame.width));
  const float y1 = std::clamp(std::ceil(rect.y + rect.h), 0.0f, static_cast<float>(frame.height));
  if (x1 <= x0 || y1 <= y0) return Box{x0, y0, 0, 0};
  return Box{x0, y0, x1 - x0, y1 - y0};
}

namespace {
template <PixelFormat F>
void SampleAs(const ImageView& v, int x0, int y0, int w, int h, int cols, int rows, int step,
              PatchSamples* out) {
  for (int j = 0; j < rows; ++j) {
    const int cy0 = y0 + j * h / rows, cy1 = y0 + (j + 1) * h / rows;
    for (int i = 0; i < cols; ++i) {
      const int cx0 = x0 + i * w / cols, cx1 = x0 + (i + 1) * w / cols;
      // Offsets centre the subsampling lattice in the cell.
      const int ox = std::min(step / 2, std::max(0, cx1 - cx0 - 1));
      const int oy = std::min(step / 2, std::max(0, cy1 - cy0 - 1));
      uint64_t s[3] = {0, 0, 0};
      int n = 0;
      for (int y = cy0 + oy; y < cy1; y += step)
        for (int x = cx0 + ox; x < cx1; x += step) {
          const Rgb8 p = v.AtAs<F>(x, y);
          s[0] += p.r, s[1] += p.g, s[2] += p.b;
          ++n;
        }
      const int k = j * cols + i;
      out->weight[k] = static_cast<float>(n);
      for (int c = 0; c < 3; ++c)
        out->rgb[k][c] = n ? static_cast<float>(static_cast<double>(s[c]) / n) : 0.0f;
    }
  }
}
}  // namespace

void SampleGrid(const ImageView& frame, const Box& rect, int cols, int rows, PatchSamples* out) {
  cols = std::max(1, cols), rows = std::max(1, rows);
  out->rgb.resize(static_cast<size_t>(cols) * rows);
  out->weight.resize(static_cast<size_t>(cols) * rows);
  const int x0 = static_cast<int>(rect.x), y0 = static_cast<int>(rect.y);
  const int w = std::min(static_cast<int>(rect.w), frame.width - x0);
  const int h = std::min(static_cast<int>(rect.h), frame.height - y0);
  if (w <= 0 || h <= 0 || x0 < 0 || y0 < 0) {
    std::fill(out->weight.begin(), out->weight.end(), 0.0f);
    return;
  }
  const double area = static_cast<double>(w) * h;
  const int step = std::max(1, static_cast<int>(std::ceil(std::sqrt(area / kGridMaxSamples))));
  VisitPixelFormat(frame.format, [&]<PixelFormat F>() { SampleAs<F>(frame, x0, y0, w, h, cols, rows, step, out); });
}

std::optional<Box> ParseRegion(std::string_view text, std::string* error) {
  std::string s(text);
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; }), s.end());
  if (s.empty()) return Box{};
  float v[4];
  const char* p = s.c_str();
  for (int k = 0; k < 4; ++k) {
    char* end = nullptr;
    v[k] = std::strtof(p, &end);
    if (end == p || !std::isfinite(v[k])) {
      *error = "'" + std::string(text) + "': expected \"x,y,w,h\" in pixels (number " +
               std::to_string(k + 1) + " is not a number)";
      return std::nullopt;
    }
    p = end;
    if (k < 3) {
      if (*p != ',') {
        *error = "'" + std::string(text) + "': expected \"x,y,w,h\" in pixels (4 numbers separated by commas)";
        return std::nullopt;
      }
      ++p;
    }
  }
  if (*p != '\0') {
    *error = "'" + std::string(text) + "': expected \"x,y,w,h\" in pixels (extra text after 4 numbers)";
    return std::nullopt;
  }
  if (v[0] < 0 || v[1] < 0 || v[2] <= 0 || v[3] <= 0) {
    *error = "'" + std::string(text) + "': x and y must be >= 0, w and h > 0";
    return std::nullopt;
  }
  return Box{v[0], v[1], v[2], v[3]};
}

}  // namespace fg
