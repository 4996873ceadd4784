// The CUDA STGraph sampler's kernel, emulated on the CPU (runs everywhere, no GPU or nvcc
// needed): cuda/vitals/sampler_emulator.h runs every thread of the kernel's grid through the
// kernel's own per-thread functions (cuda/vitals/sampler_stages.h: LaneBegin, AddLanes,
// LaneFinish, the code stgraph_sampler.cu launches), with the faces packed as the sampler
// packs them; compared with FaceSTGraph::SampleTriangles on the tracked
// astronaut in all seven pixel formats (stgraph_cases.h). Pixel counts and visibility must be
// identical, means within 1e-3. The CPU sampler walks rows (RowSums) while the kernel's lanes
// stride over the bounding box (LaneSums), so a wrong lane -> pixel mapping, a pixel counted
// twice or missed, a wrong grid mapping or reduction fails here.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "cuda/vitals/sampler_emulator.h"
#include "engine/face.h"
#include "engine/vitals/stgraph_kernel.h"
#include "tests/cuda_vitals/stgraph_cases.h"

namespace fg {
namespace {

namespace sk = stgraph_kernel;
using cuda_vitals_testing::Cases;

template <PixelFormat F>
void CompareFormat() {
  const auto& c = Cases();
  ASSERT_FALSE(c.faces.empty());
  const int nt = c.graph->num_triangles();
  std::vector<int> tris;
  for (const auto& t : c.graph->triangles()) tris.insert(tris.end(), t.begin(), t.end());
  // The sampler's packing: faces with all 468 landmarks, in order; the others get zeros.
  std::vector<float> lm;
  std::vector<int> packed;
  for (size_t i = 0; i < c.faces.size(); ++i) {
    if (c.faces[i].size() < static_cast<size_t>(kMeshLandmarks)) continue;
    packed.push_back(static_cast<int>(i));
    for (int k = 0; k < kMeshLandmarks; ++k) lm.insert(lm.end(), c.faces[i][k].begin(), c.faces[i][k].end());
  }
  // Every output starts as a sentinel no real result has (pixels -1): a grid that skips one shows.
  std::vector<sk::TriangleResult> out(packed.size() * nt, sk::TriangleResult{-1, -1, -1, -1, -1});
  std::vector<int> writes;
  const cuda::sampler_stages::SampleArgs args{c.frames.views[static_cast<int>(F)], tris.data(), nt, lm.data(),
                                              static_cast<int>(packed.size()), out.data()};
  cuda::EmulateSampleKernel<F>(args, &writes);
  ASSERT_EQ(writes.size(), out.size());
  for (size_t i = 0; i < writes.size(); ++i) ASSERT_EQ(writes[i], 1) << "output " << i;
  for (size_t i = 0; i < out.size(); ++i) ASSERT_GE(out[i].pixels, 0) << "output " << i << " never written";
  const std::string fmt(PixelFormatName(F));
  for (size_t k = 0; k < packed.size(); ++k) {
    TriangleSamples got;
    for (int t = 0; t < nt; ++t) {
      const sk::TriangleResult& r = out[k * nt + t];
      got.rgb.push_back({r.r, r.g, r.b});
      got.pixels.push_back(r.pixels);
      got.visibility.push_back(r.visibility);
    }
    cuda_vitals_testing::ExpectSameSamples(c.cpu[static_cast<int>(F)][packed[k]], got,
                                           fmt + " face " + c.names[packed[k]]);
  }
}

TEST(CudaStgraphEmulation, CasesCoverTheirPurpose) {
  cuda_vitals_testing::ExpectCasesCoverTheirPurpose(Cases());
}
TEST(CudaStgraphEmulation, RGBEqualsTheCpuSampler) { CompareFormat<PixelFormat::kRGB>(); }
TEST(CudaStgraphEmulation, BGREqualsTheCpuSampler) { CompareFormat<PixelFormat::kBGR>(); }
TEST(CudaStgraphEmulation, RGBAEqualsTheCpuSampler) { CompareFormat<PixelFormat::kRGBA>(); }
TEST(CudaStgraphEmulation, BGRAEqualsTheCpuSampler) { CompareFormat<PixelFormat::kBGRA>(); }
TEST(CudaStgraphEmulation, GRAY8EqualsTheCpuSampler) { CompareFormat<PixelFormat::kGRAY8>(); }
TEST(CudaStgraphEmulation, NV12EqualsTheCpuSampler) { CompareFormat<PixelFormat::kNV12>(); }
TEST(CudaStgraphEmulation, I420EqualsTheCpuSampler) { CompareFormat<PixelFormat::kI420>(); }
TEST(CudaStgraphEmulation, YUY2EqualsTheCpuSampler) { CompareFormat<PixelFormat::kYUY2>(); }
TEST(CudaStgraphEmulation, UYVYEqualsTheCpuSampler) { CompareFormat<PixelFormat::kUYVY>(); }
TEST(CudaStgraphEmulation, NV21EqualsTheCpuSampler) { CompareFormat<PixelFormat::kNV21>(); }
TEST(CudaStgraphEmulation, RGBxEqualsTheCpuSampler) { CompareFormat<PixelFormat::kRGBx>(); }
TEST(CudaStgraphEmulation, BGRxEqualsTheCpuSampler) { CompareFormat<PixelFormat::kBGRx>(); }
TEST(CudaStgraphEmulation, xRGBEqualsTheCpuSampler) { CompareFormat<PixelFormat::kxRGB>(); }
TEST(CudaStgraphEmulation, xBGREqualsTheCpuSampler) { CompareFormat<PixelFormat::kxBGR>(); }

}  // namespace
}  // namespace fg
