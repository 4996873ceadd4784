#include "cuda/render/emulator.h"

#include <algorithm>
#include <limits>

namespace fg::cuda {

namespace {

namespace rk = render::raster_kernel;
namespace rs = render_stages;

// Pass 1: every thread of the kernel's grid (DepthBlocks blocks of kTrianglesPerBlock warps of
// kLanes), through the kernel's DepthStage; atomicMin is a min. kReverse runs the threads in
// the opposite order (the atomics' order must not matter).
void DepthPass(const std::vector<rs::DrawTri>& tris, uint32_t base, int width, EmulatedOrder order,
               std::vector<uint64_t>* keys) {
  const int nt = static_cast<int>(tris.size());
  const int threads = rk::kLanes * rk::kTrianglesPerBlock, total = rs::DepthBlocks(nt) * threads;
  for (int n = 0; n < total; ++n) {
    const int g = order == EmulatedOrder::kForward ? n : total - 1 - n;
    rs::DepthStage(g / threads, g % threads, tris.data(), nt, base, width,
                   [keys](size_t p, uint64_t key) { (*keys)[p] = std::min((*keys)[p], key); });
  }
}

template <PixelFormat F>
void CompositePacked(const render::RgbaImage& panel, const draw::MutableImageView& dst, const rk::CompositeRect& r) {
  for (int j = 0; j < r.h; ++j)
    for (int i = 0; i < r.w; ++i)
      rs::CompositePackedStage<F>(i, j, r, panel.px.data(), panel.width, dst.planes[0], dst.strides[0]);
}

template <PixelFormat F>
void WarpResolve(int bw, int bh, const std::vector<uint64_t>& keys, const std::vector<rs::DrawTri>& tris,
                 std::span<const std::array<float, 3>> source, const ImageView& src, uint8_t* scratch) {
  for (int y = 0; y < bh; ++y)
    for (int x = 0; x < bw; ++x) rs::WarpResolveStage<F>(x, y, bw, keys.data(), tris.data(), source.data(), src, scratch);
}

}  // namespace

void EmulatedRasterizer::SetMesh(const render::MeshView& mesh) {
  mesh_ = PackMesh(mesh);
  positions_.assign(mesh.positions.begin(), mesh.positions.end());
  uvs_.assign(mesh.uvs.begin(), mesh.uvs.end());
  const size_t n = positions_.size();
  view_.resize(n), screen_.resize(n), depth_.resize(n), intensity_.resize(n);
  tris_.resize(mesh_.num_triangles());
}

void EmulatedRasterizer::SetTexture(const render::Texture& texture) { texture_ = texture; }

void EmulatedRasterizer::SetTarget(int width, int height) {
  color_.Resize(width, height);
  keys_.resize(static_cast<size_t>(color_.width) * color_.height);
}

void EmulatedRasterizer::Clear(std::array<uint8_t, 4> background) {
  color_.Fill(background);
  std::fill(keys_.begin(), keys_.end(), rk::kEmptyKey);
  base_ = 0;
}

float EmulatedRasterizer::depth(int x, int y) const {
  return rk::KeyDepth(keys_[static_cast<size_t>(y) * color_.width + x]);
}

void EmulatedRasterizer::Draw(const Eigen::Matrix3f& rotation, const render::Camera& camera,
                              const render::Material& material, const render::Light& light, render::Shading shading,
                              EmulatedOrder order) {
  const rk::ViewParams vp = render::ToViewParams(rotation, camera);
  const rk::LightParams lp = render::ToLightParams(light);
  const int nv = mesh_.vertices, nt = mesh_.num_triangles(), w = color_.width, h = color_.height;
  for (int i = 0; i < nv; ++i) rs::VertexStage(i, vp, positions_.data(), view_.data(), screen_.data(), depth_.data());
  const bool lit = shading == render::Shading::kLit;
  if (lit)
    for (int i = 0; i < nv; ++i)
      rs::IntensityStage(i, view_.data(), mesh_.triangles.data(), mesh_.adj_begin.data(), mesh_.adj.data(), lp,
                         intensity_.data());
  for (int t = 0; t < nt; ++t)
    rs::TriangleStage(t, mesh_.triangles.data(), view_.data(), screen_.data(), depth_.data(),
                      lit ? intensity_.data() : nullptr, lp, w, h, tris_.data());
  DepthPass(tris_, base_, w, order, &keys_);
  const bool textured = material.texture != nullptr && uvs_.size() == positions_.size();
  const rk::TextureParams tex{texture_.rgba.data(), texture_.width, texture_.height};
  const rk::V3 color{static_cast<float>(material.color[0]), static_cast<float>(material.color[1]),
                     static_cast<float>(material.color[2])};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      rs::ResolveStage(x, y, w, keys_.data(), base_, nt, tris_.data(), color, tex, textured ? uvs_.data() : nullptr,
                       color_.px.data());
  base_ += static_cast<uint32_t>(nt);
}

EmulatedFaceWarp::EmulatedFaceWarp(std::vector<std::array<int, 3>> triangles) {
  for (const auto& t : triangles) {
    triangles_.insert(triangles_.end(), t.begin(), t.end());
    max_index_ = std::max({max_index_, t[0], t[1], t[2]});
  }
  for (const auto& t : triangles)
    if (std::min({t[0], t[1], t[2]}) < 0) max_index_ = std::numeric_limits<int>::max();
  tris_.resize(triangles.size());
}

void EmulatedFaceWarp::Warp(const ImageView& src, std::span<const std::array<float, 3>> source,
                            std::span<const std::array<float, 3>> target, const draw::MutableImageView& dst,
                            EmulatedOrder order) {
  if (source.size() != target.size() || max_index_ < 0 || static_cast<size_t>(max_index_) >= source.size()) return;
  if (src.width != dst.width || src.height != dst.height) return;
  rk::Box box;
  if (!rk::WarpBox(target.data(), target.size(), dst.width, dst.height, &box)) return;
  const int bw = box.x1 - box.x0, bh = box.y1 - box.y0;
  scratch_.Resize(bw, bh);
  keys_.assign(static_cast<size_t>(bw) * bh, rk::kEmptyKey);
  const int nt = static_cast<int>(tris_.size());
  for (int t = 0; t < nt; ++t) rs::WarpTriangleStage(t, triangles_.data(), target.data(), box.x0, box.y0, bw, bh, tris_.data());
  DepthPass(tris_, 0, bw, order, &keys_);
  VisitPixelFormat(src.format, [&]<PixelFormat F>() { WarpResolve<F>(bw, bh, keys_, tris_, source, src, scratch_.px.data()); });
  EmulatedComposite(scratch_, dst, box.x0, box.y0);
}

void EmulatedComposite(const render::RgbaImage& panel, const draw::MutableImageView& dst, int x, int y) {
  const rk::CompositeRect r = rk::ClipComposite(panel.width, panel.height, dst.width, dst.height, x, y);
  if (r.w <= 0 || r.h <= 0) return;
  VisitPixelFormat(dst.format, [&]<PixelFormat F>() {
    if constexpr (IsYuv(F)) {
      const rk::BlockRange blocks = rk::ChromaBlocks<F>(r);
      for (int cy = blocks.cy0; cy <= blocks.cy1; ++cy)
        for (int cx = blocks.cx0; cx <= blocks.cx1; ++cx)
          rk::WriteYuvBlock<F>(panel.px.data(), panel.width, r, cx, cy, dst.planes.data(), dst.strides.data());
    } else {
      CompositePacked<F>(panel, dst, r);
    }
  });
}

}  // namespace fg::cuda
