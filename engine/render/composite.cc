#include "engine/render/composite.h"

#include <algorithm>
#include <cstring>

#include "engine/render/raster_kernel.h"

namespace fg::render {

void RgbaImage::Resize(int w, int h) {
  width = std::max(w, 0);
  height = std::max(h, 0);
  const size_t need = static_cast<size_t>(width) * height * 4;
  if (px.size() < need) px.resize(need);
}

void RgbaImage::Fill(std::array<uint8_t, 4> rgba) {
  const size_t n = static_cast<size_t>(width) * height;
  for (size_t i = 0; i < n; ++i) std::memcpy(px.data() + 4 * i, rgba.data(), 4);
}

namespace {

namespace rk = raster_kernel;

// Packed formats: one loop per format, chosen once; the per-pixel write is the one the CUDA
// composite kernel runs (raster_kernel.h).
template <PixelFormat F>
void WritePacked(const RgbaImage& src, const draw::MutableImageView& dst,
                 const rk::CompositeRect& r) {
  for (int j = 0; j < r.h; ++j) {
    const uint8_t* s = src.Row(r.sy0 + j) + 4 * r.sx0;
    uint8_t* d = dst.planes[0] + static_cast<std::ptrdiff_t>(r.y0 + j) * dst.strides[0];
    for (int i = 0; i < r.w; ++i, s += 4)
      if (s[3] != 0) rk::WritePackedPixel<F>(s, d, r.x0 + i);
  }
}

// YUV formats, one pass per chroma row: the luma rows of each chroma block (two for 4:2:0,
// one for 4:2:2) are written and their written pixels averaged for the block's U/V. The same
// arithmetic as the CUDA composite's per-block raster_kernel::WriteYuvBlock, walked row-wise
// here (faster on a CPU than a block at a time).
template <PixelFormat F>
void WriteYuv(const RgbaImage& src, const draw::MutableImageView& dst, const rk::CompositeRect& r) {
  constexpr int kBh = 1 << kFormat<F>.sub_y;
  const rk::BlockRange blocks = rk::ChromaBlocks<F>(r);
  uint8_t* const* planes = dst.planes.data();
  const int* strides = dst.strides.data();
  for (int cy = blocks.cy0; cy <= blocks.cy1; ++cy) {
    const uint8_t* srow[kBh] = {};
    for (int k = 0; k < kBh; ++k) {
      const int fy = kBh * cy + k;
      if (fy >= r.y0 && fy < r.y0 + r.h) srow[k] = src.Row(r.sy0 + fy - r.y0);
    }
    for (int cx = blocks.cx0; cx <= blocks.cx1; ++cx) {
      int sr = 0, sg = 0, sb = 0, n = 0;
      const int fx_begin = std::max(2 * cx, r.x0), fx_end = std::min(2 * cx + 2, r.x0 + r.w);
      for (int k = 0; k < kBh; ++k) {
        if (!srow[k]) continue;
        for (int fx = fx_begin; fx < fx_end; ++fx) {
          const uint8_t* p = srow[k] + 4 * (r.sx0 + fx - r.x0);
          if (p[3] == 0) continue;
          *LumaAddress<F>(planes, strides, fx, kBh * cy + k) = rk::Luma601Limited(p[0], p[1], p[2]);
          sr += p[0], sg += p[1], sb += p[2], ++n;
        }
      }
      if (n == 0) continue;
      uint8_t *u, *v;
      ChromaAddress<F>(planes, strides, cx, cy, &u, &v);
      rk::WriteChroma(sr, sg, sb, n, u, v);
    }
  }
}

}  // namespace

void WriteRgba(const RgbaImage& src, const draw::MutableImageView& dst, int x, int y) {
  const rk::CompositeRect r = rk::ClipComposite(src.width, src.height, dst.width, dst.height, x, y);
  if (r.w <= 0 || r.h <= 0) return;
  VisitPixelFormat(dst.format, [&]<PixelFormat F>() {
    if constexpr (IsYuv(F))
      WriteYuv<F>(src, dst, r);
    else
      WritePacked<F>(src, dst, r);
  });
}

void FrameCopy::Assign(const ImageView& frame) {
  std::array<const uint8_t*, 3> ptrs{};
  std::array<int, 3> strides{};
  for (int p = 0; p < PlaneCount(frame.format); ++p) {
    const int row = ImageView::MinStride(frame.format, frame.width, p);
    const int rows = ImageView::PlaneRows(frame.format, frame.height, p);
    const size_t need = static_cast<size_t>(row) * rows;
    if (planes_[p].size() < need) planes_[p].resize(need);
    for (int y = 0; y < rows; ++y)
      std::memcpy(planes_[p].data() + static_cast<size_t>(y) * row,
                  frame.planes[p] + static_cast<std::ptrdiff_t>(y) * frame.strides[p], row);
    ptrs[p] = planes_[p].data();
    strides[p] = row;
  }
  view_.format = frame.format;
  view_.width = frame.width;
  view_.height = frame.height;
  view_.planes = ptrs;
  view_.strides = strides;
  mutable_.format = frame.format;
  mutable_.width = frame.width;
  mutable_.height = frame.height;
  for (int p = 0; p < 3; ++p) mutable_.planes[p] = p < PlaneCount(frame.format) ? planes_[p].data() : nullptr;
  mutable_.strides = strides;
}

Layout ComputeLayout(CompositeMode mode, int frame_w, int frame_h, float pip_fraction) {
  Layout l;
  l.mode = mode;
  switch (mode) {
    case CompositeMode::kReplace: l.panel = {0, 0, frame_w, frame_h}; break;
    case CompositeMode::kSideBySide: {
      const int left = frame_w / 2;
      l.panel = {left, 0, frame_w - left, frame_h};
      l.video = {0, (frame_h - frame_h / 2) / 2, left, frame_h / 2};
      break;
    }
    case CompositeMode::kPip: {
      const float f = std::clamp(pip_fraction, 0.1f, 1.0f);
      const int w = std::max(1, static_cast<int>(frame_w * f + 0.5f));
      const int h = std::max(1, static_cast<int>(frame_h * f + 0.5f));
      const int margin_x = static_cast<int>(frame_w * 0.02f), margin_y = static_cast<int>(frame_h * 0.02f);
      l.panel = {std::max(0, frame_w - w - margin_x), std::min(margin_y, frame_h - h), w, h};
      break;
    }
  }
  return l;
}

namespace {

template <PixelFormat F>
void ShrinkRows(const ImageView& src, const Rect& v, int half, RgbaImage* out) {
  constexpr PixelLayout kLayout = kFormat<F>.layout;
  if constexpr (kLayout == PixelLayout::kSemiPlanar420 || kLayout == PixelLayout::kPlanar420) {
    // Each output pixel covers one 2x2 luma block, which shares one chroma sample: average
    // the four Y and convert once.
    for (int j = 0; j < v.h; ++j) {
      uint8_t* d = out->Row(v.y + j);
      const int sy = std::min(2 * j, src.height - 1), sy1 = std::min(sy + 1, src.height - 1);
      const uint8_t* y0 = LumaAddress<F>(src.planes.data(), src.strides.data(), 0, sy);
      const uint8_t* y1 = LumaAddress<F>(src.planes.data(), src.strides.data(), 0, sy1);
      for (int i = 0; i < v.w && i < half; ++i) {
        const int sx = std::min(2 * i, src.width - 1), sx1 = std::min(sx + 1, src.width - 1);
        const int yy = (y0[sx] + y0[sx1] + y1[sx] + y1[sx1] + 2) >> 2;
        const uint8_t *cu, *cv;
        ChromaAddress<F>(src.planes.data(), src.strides.data(), sx / 2, sy / 2, &cu, &cv);
        const Rgb8 p = detail::YuvToRgb(yy, *cu, *cv);
        d[4 * i] = p.r, d[4 * i + 1] = p.g, d[4 * i + 2] = p.b, d[4 * i + 3] = 255;
      }
    }
    return;
  }
  for (int j = 0; j < v.h; ++j) {
    uint8_t* d = out->Row(v.y + j);
    const int sy = std::min(2 * j, src.height - 1), sy1 = std::min(sy + 1, src.height - 1);
    for (int i = 0; i < v.w && i < half; ++i) {
      const int sx = std::min(2 * i, src.width - 1), sx1 = std::min(sx + 1, src.width - 1);
      const Rgb8 a = src.AtAs<F>(sx, sy), b = src.AtAs<F>(sx1, sy), c = src.AtAs<F>(sx, sy1),
                 e = src.AtAs<F>(sx1, sy1);
      d[4 * i] = static_cast<uint8_t>((a.r + b.r + c.r + e.r + 2) >> 2);
      d[4 * i + 1] = static_cast<uint8_t>((a.g + b.g + c.g + e.g + 2) >> 2);
      d[4 * i + 2] = static_cast<uint8_t>((a.b + b.b + c.b + e.b + 2) >> 2);
      d[4 * i + 3] = 255;
    }
  }
}

}  // namespace

void ShrinkVideo(const ImageView& src, const Layout& layout, std::array<uint8_t, 4> background,
                 RgbaImage* out) {
  const int half = layout.panel.x;  // the left half's width
  out->Resize(half, src.height);
  out->Fill(background);
  const Rect& v = layout.video;
  VisitPixelFormat(src.format, [&]<PixelFormat F>() { ShrinkRows<F>(src, v, half, out); });
}

}  // namespace fg::render
