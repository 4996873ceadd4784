// DeviceRasterizer (device_rasterizer.h): the kernels are thin wrappers over
// render_stages.h; everything else here is buffers and launches.
#include "cuda/render/device_rasterizer.h"

#include <cuda_runtime_api.h>

#include <cstring>
#include <utility>

#include "cuda/cuda_check.h"
#include "cuda/render/device_common.cuh"
#include "cuda/render/packed_mesh.h"
#include "cuda/render/render_stages.h"

namespace fg::cuda {

namespace {

namespace rk = render::raster_kernel;
namespace rs = render_stages;
using render_device::Blocks;
using render_device::Grow;
using render_device::kThreads;
using render_device::Mem;

__global__ void VertexKernel(rk::ViewParams vp, const rk::V3* __restrict__ positions, rk::V3* view, rk::V2* screen,
                             float* depth, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) rs::VertexStage(i, vp, positions, view, screen, depth);
}

__global__ void IntensityKernel(const rk::V3* __restrict__ view, const int* __restrict__ triangles,
                                const int* __restrict__ adj_begin, const int* __restrict__ adj, rk::LightParams light,
                                float* intensity, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) rs::IntensityStage(i, view, triangles, adj_begin, adj, light, intensity);
}

__global__ void TriangleKernel(const int* __restrict__ triangles, const rk::V3* __restrict__ view,
                               const rk::V2* __restrict__ screen, const float* __restrict__ depth,
                               const float* __restrict__ intensity, rk::LightParams light, int width, int height,
                               rs::DrawTri* out, int nt) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (t < nt) rs::TriangleStage(t, triangles, view, screen, depth, intensity, light, width, height, out);
}

// Pass 1: render_stages.h DepthStage (warp w of the launch takes triangle w).
__global__ void __launch_bounds__(rk::kLanes * rk::kTrianglesPerBlock)
    DepthKernel(const rs::DrawTri* __restrict__ tris, int nt, uint32_t base, int width, uint64_t* keys) {
  unsigned long long* k = reinterpret_cast<unsigned long long*>(keys);
  rs::DepthStage(static_cast<int>(blockIdx.x), static_cast<int>(threadIdx.x), tris, nt, base, width,
                 [k](size_t p, uint64_t key) { atomicMin(k + p, static_cast<unsigned long long>(key)); });
}

__global__ void ResolveKernel(int width, int height, const uint64_t* __restrict__ keys, uint32_t base, int nt,
                              const rs::DrawTri* __restrict__ tris, rk::V3 color, rk::TextureParams tex,
                              const rk::V2* __restrict__ uvs, uint8_t* rgba) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y);
  if (x < width && y < height) rs::ResolveStage(x, y, width, keys, base, nt, tris, color, tex, uvs, rgba);
}

__global__ void ClearKernel(uint32_t* rgba, size_t n, uint32_t value) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < n) rgba[i] = value;
}

}  // namespace

struct DeviceRasterizer::Impl {
  cudaStream_t stream = nullptr;
  cudaEvent_t staged = nullptr;  // the last upload from h_pos has been read
  // The mesh.
  int nv = 0, nt = 0;
  bool has_uvs = false;
  rk::V3* d_pos = nullptr;
  rk::V3* h_pos = nullptr;  // pinned staging for UpdatePositions
  int* d_tris = nullptr;
  int* d_adj_begin = nullptr;
  int* d_adj = nullptr;
  rk::V2* d_uvs = nullptr;
  size_t pos_cap = 0, h_pos_cap = 0, tris_cap = 0, adj_begin_cap = 0, adj_cap = 0, uvs_cap = 0;
  // Per vertex / per triangle scratch.
  rk::V3* d_view = nullptr;
  rk::V2* d_screen = nullptr;
  float* d_depth = nullptr;
  float* d_intensity = nullptr;
  rs::DrawTri* d_drawtris = nullptr;
  size_t view_cap = 0, screen_cap = 0, depth_cap = 0, intensity_cap = 0, drawtris_cap = 0;
  // The texture.
  uint8_t* d_tex = nullptr;
  size_t tex_cap = 0;
  int tex_w = 0, tex_h = 0;
  bool has_texture = false;
  // The target.
  int width = 0, height = 0;
  uint8_t* d_color = nullptr;
  uint64_t* d_keys = nullptr;
  size_t color_cap = 0, keys_cap = 0;
  uint32_t base = 0;  // key number of the next draw's first triangle

  ~Impl() {
    if (stream) cudaStreamSynchronize(stream);  // nothing queued may still use the buffers
    for (void* p : {static_cast<void*>(d_pos), static_cast<void*>(d_tris), static_cast<void*>(d_adj_begin),
                    static_cast<void*>(d_adj), static_cast<void*>(d_uvs), static_cast<void*>(d_view),
                    static_cast<void*>(d_screen), static_cast<void*>(d_depth), static_cast<void*>(d_intensity),
                    static_cast<void*>(d_drawtris), static_cast<void*>(d_tex), static_cast<void*>(d_color),
                    static_cast<void*>(d_keys)})
      if (p) cudaFree(p);
    if (h_pos) cudaFreeHost(h_pos);
    if (staged) cudaEventDestroy(staged);
    if (stream) cudaStreamDestroy(stream);
  }

  // Positions into the pinned staging (after its previous upload was read), then up.
  bool UploadPositions(std::span<const std::array<float, 3>> positions, std::string* error) {
    if (positions.empty()) return true;
    FG_CUDA_CHECK(cudaEventSynchronize(staged), error);
    std::memcpy(h_pos, positions.data(), positions.size() * sizeof(rk::V3));
    FG_CUDA_CHECK(cudaMemcpyAsync(d_pos, h_pos, positions.size() * sizeof(rk::V3), cudaMemcpyHostToDevice, stream),
                  error);
    FG_CUDA_CHECK(cudaEventRecord(staged, stream), error);
    return true;
  }
};

DeviceRasterizer::DeviceRasterizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceRasterizer::~DeviceRasterizer() = default;
int DeviceRasterizer::width() const { return impl_->width; }
int DeviceRasterizer::height() const { return impl_->height; }

int DeviceRasterizer::DeviceCount(std::string* why) { return CudaDevices(why); }

std::unique_ptr<DeviceRasterizer> DeviceRasterizer::Create(std::string* error) {
  auto impl = std::make_unique<Impl>();
  auto init = [&]() -> bool {
    FG_CUDA_CHECK(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking), error);
    FG_CUDA_CHECK(cudaEventCreateWithFlags(&impl->staged, cudaEventDisableTiming), error);
    FG_CUDA_CHECK(cudaEventRecord(impl->staged, impl->stream), error);
    return true;
  };
  if (!init()) return nullptr;
  return std::unique_ptr<DeviceRasterizer>(new DeviceRasterizer(std::move(impl)));
}

bool DeviceRasterizer::SetMesh(const render::MeshView& mesh, std::string* error) {
  Impl& m = *impl_;
  if (mesh.positions.size() >= (size_t{1} << 31)) {
    if (error) *error = "DeviceRasterizer::SetMesh: " + std::to_string(mesh.positions.size()) + " vertices (at most 2^31 - 1)";
    return false;
  }
  FG_CUDA_CHECK(cudaStreamSynchronize(m.stream), error);  // draws in flight read the old mesh
  const PackedMesh pm = PackMesh(mesh);
  const size_t nv = mesh.positions.size(), nt = pm.num_triangles();
  if (!Grow(Mem::kDevice, &m.d_pos, &m.pos_cap, nv, m.stream, error) || !Grow(Mem::kPinned, &m.h_pos, &m.h_pos_cap, nv, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_tris, &m.tris_cap, 3 * nt, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_adj_begin, &m.adj_begin_cap, nv + 1, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_adj, &m.adj_cap, 3 * nt, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_view, &m.view_cap, nv, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_screen, &m.screen_cap, nv, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_depth, &m.depth_cap, nv, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_intensity, &m.intensity_cap, nv, m.stream, error) ||
      !Grow(Mem::kDevice, &m.d_drawtris, &m.drawtris_cap, nt, m.stream, error))
    return false;
  m.has_uvs = !mesh.uvs.empty() && mesh.uvs.size() == nv;
  if (m.has_uvs && !Grow(Mem::kDevice, &m.d_uvs, &m.uvs_cap, nv, m.stream, error)) return false;
  // Setup copies are synchronous (pageable memory): SetMesh is not per frame.
  if (nt > 0) {
    FG_CUDA_CHECK(cudaMemcpy(m.d_tris, pm.triangles.data(), pm.triangles.size() * sizeof(int), cudaMemcpyHostToDevice),
                  error);
    FG_CUDA_CHECK(cudaMemcpy(m.d_adj, pm.adj.data(), pm.adj.size() * sizeof(int), cudaMemcpyHostToDevice), error);
  }
  FG_CUDA_CHECK(cudaMemcpy(m.d_adj_begin, pm.adj_begin.data(), pm.adj_begin.size() * sizeof(int), cudaMemcpyHostToDevice),
                error);
  if (m.has_uvs)
    FG_CUDA_CHECK(cudaMemcpy(m.d_uvs, mesh.uvs.data(), nv * sizeof(rk::V2), cudaMemcpyHostToDevice), error);
  m.nv = static_cast<int>(nv);
  m.nt = static_cast<int>(nt);
  return m.UploadPositions(mesh.positions, error);
}

bool DeviceRasterizer::UpdatePositions(std::span<const std::array<float, 3>> positions, std::string* error) {
  if (positions.size() != static_cast<size_t>(impl_->nv)) {
    if (error)
      *error = "DeviceRasterizer::UpdatePositions: " + std::to_string(positions.size()) +
               " positions for a mesh of " + std::to_string(impl_->nv);
    return false;
  }
  return impl_->UploadPositions(positions, error);
}

bool DeviceRasterizer::SetTexture(const render::Texture& texture, std::string* error) {
  Impl& m = *impl_;
  const size_t n = texture.width > 0 && texture.height > 0 ? static_cast<size_t>(texture.width) * texture.height * 4 : 0;
  if (texture.rgba.size() < n) {
    if (error)
      *error = "DeviceRasterizer::SetTexture: " + std::to_string(texture.rgba.size()) + " bytes for a " +
               std::to_string(texture.width) + "x" + std::to_string(texture.height) + " RGBA texture";
    return false;
  }
  // A Draw in flight may read the old texels, or the old buffer Grow is about to free: wait for
  // it explicitly (cudaFree's implicit synchronisation is not relied on).
  FG_CUDA_CHECK(cudaStreamSynchronize(m.stream), error);
  if (!Grow(Mem::kDevice, &m.d_tex, &m.tex_cap, n, m.stream, error)) return false;
  if (n > 0) FG_CUDA_CHECK(cudaMemcpy(m.d_tex, texture.rgba.data(), n, cudaMemcpyHostToDevice), error);
  m.tex_w = n > 0 ? texture.width : 0;
  m.tex_h = n > 0 ? texture.height : 0;
  m.has_texture = true;
  return true;
}

bool DeviceRasterizer::SetTarget(int width, int height, std::string* error) {
  Impl& m = *impl_;
  m.width = width > 0 ? width : 0;
  m.height = height > 0 ? height : 0;
  const size_t n = static_cast<size_t>(m.width) * m.height;
  return Grow(Mem::kDevice, &m.d_color, &m.color_cap, 4 * n, m.stream, error) &&
         Grow(Mem::kDevice, &m.d_keys, &m.keys_cap, n, m.stream, error);
}

bool DeviceRasterizer::Clear(std::array<uint8_t, 4> background, std::string* error) {
  Impl& m = *impl_;
  m.base = 0;
  const size_t n = static_cast<size_t>(m.width) * m.height;
  if (n == 0) return true;
  uint32_t value;
  std::memcpy(&value, background.data(), 4);
  ClearKernel<<<Blocks(n), kThreads, 0, m.stream>>>(reinterpret_cast<uint32_t*>(m.d_color), n, value);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  FG_CUDA_CHECK(cudaMemsetAsync(m.d_keys, 0xff, n * sizeof(uint64_t), m.stream), error);  // kEmptyKey
  return true;
}

bool DeviceRasterizer::Draw(const Eigen::Matrix3f& rotation, const render::Camera& camera,
                            const render::Material& material, const render::Light& light, render::Shading shading,
                            std::string* error) {
  Impl& m = *impl_;
  const bool textured = material.texture != nullptr && m.has_uvs;
  if (textured && !m.has_texture) {
    if (error) *error = "DeviceRasterizer::Draw: the material has a texture but SetTexture was not called";
    return false;
  }
  if (static_cast<uint64_t>(m.base) + m.nt >= rk::kEmptyKey >> 32) {
    if (error) *error = "DeviceRasterizer::Draw: too many triangles drawn since Clear (2^32)";
    return false;
  }
  const size_t pixels = static_cast<size_t>(m.width) * m.height;
  if (m.nt == 0 || pixels == 0) {
    m.base += static_cast<uint32_t>(m.nt);
    return true;
  }
  const rk::ViewParams vp = render::ToViewParams(rotation, camera);
  const rk::LightParams lp = render::ToLightParams(light);
  const bool lit = shading == render::Shading::kLit;
  VertexKernel<<<Blocks(m.nv), kThreads, 0, m.stream>>>(vp, m.d_pos, m.d_view, m.d_screen, m.d_depth, m.nv);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  if (lit) {
    IntensityKernel<<<Blocks(m.nv), kThreads, 0, m.stream>>>(m.d_view, m.d_tris, m.d_adj_begin, m.d_adj, lp,
                                                             m.d_intensity, m.nv);
    FG_CUDA_CHECK_LAUNCH(m.stream, error);
  }
  TriangleKernel<<<Blocks(m.nt), kThreads, 0, m.stream>>>(m.d_tris, m.d_view, m.d_screen, m.d_depth,
                                                          lit ? m.d_intensity : nullptr, lp, m.width, m.height,
                                                          m.d_drawtris, m.nt);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  const unsigned depth_blocks = static_cast<unsigned>(rs::DepthBlocks(m.nt));
  DepthKernel<<<depth_blocks, rk::kLanes * rk::kTrianglesPerBlock, 0, m.stream>>>(m.d_drawtris, m.nt, m.base, m.width,
                                                                                  m.d_keys);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  const rk::V3 color{static_cast<float>(material.color[0]), static_cast<float>(material.color[1]),
                     static_cast<float>(material.color[2])};
  const rk::TextureParams tex{m.d_tex, m.tex_w, m.tex_h};
  const dim3 grid(Blocks(m.width), static_cast<unsigned>(m.height));
  ResolveKernel<<<grid, kThreads, 0, m.stream>>>(m.width, m.height, m.d_keys, m.base, m.nt, m.d_drawtris, color, tex,
                                                 textured ? m.d_uvs : nullptr, m.d_color);
  FG_CUDA_CHECK_LAUNCH(m.stream, error);
  m.base += static_cast<uint32_t>(m.nt);
  return true;
}

bool DeviceRasterizer::Composite(const draw::MutableImageView& device_frame, int x, int y, std::string* error) {
  return render_device::LaunchComposite(impl_->d_color, impl_->width, impl_->height, device_frame, x, y, impl_->stream,
                                        error);
}

bool DeviceRasterizer::Download(render::RgbaImage* image, std::vector<float>* depth, std::string* error) {
  Impl& m = *impl_;
  const size_t n = static_cast<size_t>(m.width) * m.height;
  image->Resize(m.width, m.height);
  std::vector<uint64_t> keys(n);
  if (n > 0) {
    FG_CUDA_CHECK(cudaMemcpyAsync(image->px.data(), m.d_color, 4 * n, cudaMemcpyDeviceToHost, m.stream), error);
    FG_CUDA_CHECK(cudaMemcpyAsync(keys.data(), m.d_keys, n * sizeof(uint64_t), cudaMemcpyDeviceToHost, m.stream), error);
  }
  FG_CUDA_CHECK(cudaStreamSynchronize(m.stream), error);
  if (depth) {
    depth->resize(n);
    for (size_t i = 0; i < n; ++i) (*depth)[i] = rk::KeyDepth(keys[i]);
  }
  return true;
}

bool DeviceRasterizer::Synchronize(std::string* error) {
  FG_CUDA_CHECK(cudaStreamSynchronize(impl_->stream), error);
  return true;
}

}  // namespace fg::cuda
