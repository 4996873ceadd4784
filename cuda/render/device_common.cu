// LaunchComposite (device_common.cuh): one thread per frame pixel of the clipped rectangle
// (packed formats) or per 2x2 chroma block (NV12, I420); each writes only its own pixels.
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

__global__ void CompositeYuvKernel(rk::CompositeRect r, const uint8_t* __restrict__ panel, int panel_w,
                                   draw::MutableImageView dst) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= rs::YuvBlocksWide(r)) return;
  rs::CompositeYuvStage(i, static_cast<int>(blockIdx.y), r, panel, panel_w, dst.format, dst.planes.data(),
                        dst.strides.data());
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
  switch (dst.format) {
    case PixelFormat::kRGB: Packed<PixelFormat::kRGB>(r, panel, panel_w, dst, stream); break;
    case PixelFormat::kBGR: Packed<PixelFormat::kBGR>(r, panel, panel_w, dst, stream); break;
    case PixelFormat::kRGBA: Packed<PixelFormat::kRGBA>(r, panel, panel_w, dst, stream); break;
    case PixelFormat::kBGRA: Packed<PixelFormat::kBGRA>(r, panel, panel_w, dst, stream); break;
    case PixelFormat::kGRAY8: Packed<PixelFormat::kGRAY8>(r, panel, panel_w, dst, stream); break;
    case PixelFormat::kNV12:
    case PixelFormat::kI420: {
      const dim3 grid(Blocks(rs::YuvBlocksWide(r)), static_cast<unsigned>(rs::YuvBlocksHigh(r)));
      CompositeYuvKernel<<<grid, kThreads, 0, stream>>>(r, panel, panel_w, dst);
      break;
    }
  }
  FG_CUDA_CHECK_LAUNCH(stream, error);
  return true;
}

}  // namespace fg::cuda::render_device
