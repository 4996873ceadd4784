// StgraphSampler (stgraph_sampler.h): the kernel is a thin wrapper over
// engine/vitals/stgraph_kernel.h; everything else here is buffers and copies.
#include "cuda/vitals/stgraph_sampler.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "cuda/vitals/sampler_stages.h"
#include "engine/face.h"
#include "engine/vitals/stgraph_kernel.h"

namespace fg::cuda {

namespace {

namespace sk = stgraph_kernel;
constexpr int kThreads = sk::kLanes * sk::kTrianglesPerBlock;
constexpr int kLmFloats = kMeshLandmarks * 3;  // one face's landmarks, packed

// Warp (blockIdx.x, threadIdx.x / 32) samples one (face, triangle). The per-thread work is
// sampler_stages.h (what the CPU emulation runs too); only the shuffle is the device's own.
template <PixelFormat F>
__global__ void __launch_bounds__(kThreads)
    SampleTrianglesKernel(ImageView v, const int* __restrict__ tris, int nt,
                          const float* __restrict__ lm, int faces, sk::TriangleResult* __restrict__ out) {
  namespace ss = sampler_stages;
  const ss::SampleArgs a{v, tris, nt, lm, faces, out};
  ss::LaneState st;
  if (!ss::LaneBegin<F>(a, static_cast<int>(blockIdx.x), static_cast<int>(threadIdx.x), &st)) return;
  for (int off = sk::kLanes / 2; off > 0; off /= 2) {
    sk::Sums other;
    other.r = __shfl_down_sync(0xffffffffu, st.s.r, off);
    other.g = __shfl_down_sync(0xffffffffu, st.s.g, off);
    other.b = __shfl_down_sync(0xffffffffu, st.s.b, off);
    other.count = __shfl_down_sync(0xffffffffu, st.s.count, off);
    ss::AddLanes(&st.s, other);
  }
  if (ss::LaneOf(static_cast<int>(threadIdx.x)) == 0) ss::LaneFinish<F>(a, st);
}

template <PixelFormat F>
void Launch(const ImageView& v, const int* tris, int nt, const float* lm, int faces,
            sk::TriangleResult* out, cudaStream_t stream) {
  SampleTrianglesKernel<F><<<sk::GridBlocks(faces, nt), kThreads, 0, stream>>>(v, tris, nt, lm, faces, out);
}

void Zero(int nt, TriangleSamples* s) {
  s->rgb.assign(nt, {0, 0, 0});
  s->pixels.assign(nt, 0);
  s->visibility.assign(nt, 0.0f);
}

}  // namespace

struct StgraphSampler::Impl {
  cudaStream_t stream = nullptr;
  int nt = 0;
  int* d_tris = nullptr;
  float* d_lm = nullptr;  // faces x 468 x 3
  float* h_lm = nullptr;  // pinned staging of the same
  sk::TriangleResult* d_out = nullptr;  // faces x nt
  sk::TriangleResult* h_out = nullptr;
  uint8_t* d_frame = nullptr;  // the planes of a host frame, rows packed
  size_t lm_cap = 0, h_lm_cap = 0, out_cap = 0, h_out_cap = 0, frame_cap = 0;
  std::vector<int> sampled;  // indices of the faces in the launch (capacity kept)

  ~Impl() {
    if (stream) cudaStreamSynchronize(stream);  // nothing queued may still use the buffers
    if (d_tris) cudaFree(d_tris);
    if (d_lm) cudaFree(d_lm);
    if (d_out) cudaFree(d_out);
    if (d_frame) cudaFree(d_frame);
    if (h_lm) cudaFreeHost(h_lm);
    if (h_out) cudaFreeHost(h_out);
    if (stream) cudaStreamDestroy(stream);
  }

  bool Reserve(size_t faces, std::string* error) {
    return Grow(Mem::kDevice, &d_lm, &lm_cap, faces * kLmFloats, stream, error) &&
           Grow(Mem::kPinned, &h_lm, &h_lm_cap, faces * kLmFloats, stream, error) &&
           Grow(Mem::kDevice, &d_out, &out_cap, faces * nt, stream, error) &&
           Grow(Mem::kPinned, &h_out, &h_out_cap, faces * nt, stream, error);
  }

  bool Run(const ImageView& v, const std::vector<Landmarks>& faces, std::vector<TriangleSamples>* out,
           std::string* error) {
    out->resize(faces.size());
    sampled.clear();
    for (size_t i = 0; i < faces.size(); ++i) {
      if (v.width > 0 && v.height > 0 && faces[i].size() >= static_cast<size_t>(kMeshLandmarks))
        sampled.push_back(static_cast<int>(i));
      else
        Zero(nt, &(*out)[i]);
    }
    const int n = static_cast<int>(sampled.size());
    if (n == 0) return true;
    if (!Reserve(n, error)) return false;
    for (int k = 0; k < n; ++k)
      std::memcpy(h_lm + static_cast<size_t>(k) * kLmFloats, faces[sampled[k]][0].data(), kLmFloats * sizeof(float));
    FG_CUDA_CHECK(cudaMemcpyAsync(d_lm, h_lm, static_cast<size_t>(n) * kLmFloats * sizeof(float),
                                  cudaMemcpyHostToDevice, stream), error);
    VisitPixelFormat(v.format, [&]<PixelFormat F>() { Launch<F>(v, d_tris, nt, d_lm, n, d_out, stream); });
    FG_CUDA_CHECK_LAUNCH(stream, error);
    FG_CUDA_CHECK(cudaMemcpyAsync(h_out, d_out, static_cast<size_t>(n) * nt * sizeof(sk::TriangleResult),
                                  cudaMemcpyDeviceToHost, stream), error);
    FG_CUDA_CHECK(cudaStreamSynchronize(stream), error);
    for (int k = 0; k < n; ++k) {
      TriangleSamples& s = (*out)[sampled[k]];
      s.rgb.resize(nt);
      s.pixels.resize(nt);
      s.visibility.resize(nt);
      const sk::TriangleResult* res = h_out + static_cast<size_t>(k) * nt;
      for (int t = 0; t < nt; ++t) {
        s.rgb[t] = {res[t].r, res[t].g, res[t].b};
        s.pixels[t] = res[t].pixels;
        s.visibility[t] = res[t].visibility;
      }
    }
    return true;
  }
};

StgraphSampler::StgraphSampler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StgraphSampler::~StgraphSampler() = default;
int StgraphSampler::num_triangles() const { return impl_->nt; }

int StgraphSampler::DeviceCount(std::string* why) { return CudaDevices(why); }

std::unique_ptr<StgraphSampler> StgraphSampler::Create(const std::vector<std::array<int, 3>>& triangles,
                                                       int max_faces, std::string* error) {
  if (triangles.empty()) {
    if (error) *error = "StgraphSampler: empty triangle list";
    return nullptr;
  }
  for (const auto& t : triangles)
    for (int i : t)
      if (i < 0 || i >= kMeshLandmarks) {
        if (error)
          *error = "StgraphSampler: triangle index " + std::to_string(i) + " out of range [0, " +
                   std::to_string(kMeshLandmarks) + ")";
        return nullptr;
      }
  auto impl = std::make_unique<Impl>();
  impl->nt = static_cast<int>(triangles.size());
  auto init = [&]() -> bool {
    FG_CUDA_CHECK(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking), error);
    FG_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&impl->d_tris), triangles.size() * 3 * sizeof(int)), error);
    FG_CUDA_CHECK(cudaMemcpy(impl->d_tris, triangles.data(), triangles.size() * 3 * sizeof(int),
                             cudaMemcpyHostToDevice), error);
    impl->sampled.reserve(std::max(max_faces, 1));
    return impl->Reserve(std::max(max_faces, 1), error);
  };
  if (!init()) return nullptr;
  return std::unique_ptr<StgraphSampler>(new StgraphSampler(std::move(impl)));
}

bool StgraphSampler::Sample(const ImageView& frame, const std::vector<Landmarks>& faces,
                            std::vector<TriangleSamples>* out, std::string* error) {
  if (frame.width <= 0 || frame.height <= 0) return impl_->Run(frame, faces, out, error);
  // Rows packed (pitch = row bytes): the copy never reads past a plane's last row.
  const int planes = PlaneCount(frame.format);
  size_t total = 0;
  for (int p = 0; p < planes; ++p)
    total += static_cast<size_t>(ImageView::MinStride(frame.format, frame.width, p)) *
             ImageView::PlaneRows(frame.format, frame.height, p);
  if (!Grow(Mem::kDevice, &impl_->d_frame, &impl_->frame_cap, total, impl_->stream, error)) return false;
  ImageView dv = frame;
  size_t at = 0;
  for (int p = 0; p < planes; ++p) {
    const int row = ImageView::MinStride(frame.format, frame.width, p);
    const int rows = ImageView::PlaneRows(frame.format, frame.height, p);
    FG_CUDA_CHECK(cudaMemcpy2DAsync(impl_->d_frame + at, row, frame.planes[p], frame.strides[p], row, rows,
                                    cudaMemcpyHostToDevice, impl_->stream), error);
    dv.planes[p] = impl_->d_frame + at;
    dv.strides[p] = row;
    at += static_cast<size_t>(row) * rows;
  }
  return impl_->Run(dv, faces, out, error);
}

bool StgraphSampler::SampleDeviceFrame(const ImageView& device_frame, const std::vector<Landmarks>& faces,
                                       std::vector<TriangleSamples>* out, std::string* error) {
  return impl_->Run(device_frame, faces, out, error);
}

}  // namespace fg::cuda
