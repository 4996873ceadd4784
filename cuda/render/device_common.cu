// LaunchComposite (device_common.cuh): one thread per frame pixel of the clipped rectangle
// (packed formats) or per chroma block (YUV formats: 2x2 for 4:2:0, 2x1 for 4:2:2); each writes only its own pixels.
#include "cuda/render/device_common.cuh"

#include "cuda/render/render_stages.h"

namespace fg::cuda::render_device {

namespace {

namespace rk = render::raster_kernel;
namespace rs = render_stages;

template <PixelFormat F>
__global__ void CompositePackedKernel(rk::CompositeRect r, const uint8_t* __restrict__ panel, int panel_w,
                                      uint8_t* plane0, int stride0) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int j = static_cast<int>(blockIdx.y);
  if (i >= r.w) return;
  rs::CompositePackedStage<F>(i, j, r, panel, panel_w, plane0, stride0);
}

template <PixelFormat F>
__global__ void CompositeYuvKernel(rk::CompositeRect r, const uint8_t* __restrict__ panel, int panel_w,
                                   draw::MutableImageView dst, rk::BlockRange blocks) {
  const int cx = blocks.cx0 + static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int cy = blocks.cy0 + static_cast<int>(blockIdx.y);
  if (cx > blocks.cx1) return;
  rk::WriteYuvBlock<F>(panel, panel_w, r, cx, cy, dst.planes.data(), dst.strides.data());
}

template <PixelFormat F>
void Packed(const rk::CompositeRect& r, const uint8_t* panel, int panel_w, const draw::MutableImageView& dst,
            cudaStream_t stream) {
  const dim3 grid(Blocks(r.w), static_cast<unsigned>(r.h));
  CompositePackedKernel<F><<<grid, kThreads, 0, stream>>>(r, panel, panel_w, dst.planes[0], dst.strides[0]);
}

}  // namespace

bool LaunchComposite(const uint8_t* panel, int panel_w, int panel_h, const draw::MutableImageView& dst, int x, int y,
                     cudaStream_t stream, std::string* error) {
  const rk::CompositeRect r = rk::ClipComposite(panel_w, panel_h, dst.width, dst.height, x, y);
  if (r.w <= 0 || r.h <= 0) return true;
  VisitPixelFormat(dst.format, [&]<PixelFormat F>() {
    if constexpr (IsYuv(F)) {
      const rk::BlockRange blocks = rk::ChromaBlocks<F>(r);
      const dim3 grid(Blocks(blocks.cx1 - blocks.cx0 + 1), static_cast<unsigned>(blocks.cy1 - blocks.cy0 + 1));
      CompositeYuvKernel<F><<<grid, kThreads, 0, stream>>>(r, panel, panel_w, dst, blocks);
    } else {
      Packed<F>(r, panel, panel_w, dst, stream);
    }
  });
  FG_CUDA_CHECK_LAUNCH(stream, error);
  return true;
}

}  // namespace fg::cuda::render_device
