// The CUDA STGraph sampler's kernel, emulated on the CPU (runs everywhere, no GPU or nvcc
// needed): the FG_HD functions of engine/vitals/stgraph_kernel.h called in exactly the grid
// order of cuda/vitals/stgraph_sampler.cu (GridBlocks x kTrianglesPerBlock warps x 32 lanes,
// MapWarp, LaneSums per lane, the __shfl_down_sync tree, lane 0 finishing), with the faces
// packed as the sampler packs them; compared with FaceSTGraph::SampleTriangles on the tracked
// astronaut in all seven pixel formats (stgraph_cases.h). Pixel counts and visibility must be
// identical, means within 1e-3. The CPU sampler walks rows (RowSums) while the kernel's lanes
// stride over the bounding box (LaneSums), so a wrong lane -> pixel mapping, a pixel counted
// twice or missed, a wrong grid mapping or reduction fails here.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "engine/face.h"
#include "engine/vitals/stgraph_kernel.h"
#include "tests/cuda_vitals/stgraph_cases.h"

namespace fg {
namespace {

namespace sk = stgraph_kernel;
using cuda_vitals_testing::Cases;

// SampleTrianglesKernel<F> for `faces` packed faces (faces x 468 x 3 floats), launched with
// GridBlocks(faces, nt) blocks of kTrianglesPerBlock warps; `writes` counts the stores to each
// output (the grid must write every one exactly once).
template <PixelFormat F>
void EmulateKernel(const ImageView& v, const std::vector<int>& tris, int nt, const std::vector<float>& lm,
                   int faces, std::vector<sk::TriangleResult>* out, std::vector<int>* writes) {
  out->assign(static_cast<size_t>(faces) * nt, sk::TriangleResult{-1, -1, -1, -1, -1});
  writes->assign(out->size(), 0);
  for (int block = 0; block < sk::GridBlocks(faces, nt); ++block)
    for (int warp = 0; warp < sk::kTrianglesPerBlock; ++warp) {
      const sk::WarpTask task = sk::MapWarp(block, warp, nt);
      if (task.face >= faces) continue;
      const float* face_lm = lm.data() + static_cast<size_t>(task.face) * kMeshLandmarks * 3;
      const int* tri = tris.data() + 3 * task.triangle;
      std::array<sk::Raster, sk::kLanes> r;
      std::array<sk::Sums, sk::kLanes> s;
      for (int lane = 0; lane < sk::kLanes; ++lane) {  // each lane sets up its own copy
        r[lane] = sk::SetupTriangle(face_lm, tri, v.width, v.height);
        sk::LaneSums<F>(r[lane], v, lane, sk::kLanes, &s[lane]);
      }
      // __shfl_down_sync(mask, x, off): lane l reads lane l + off's x, or its own when that is
      // past the warp; all lanes read before any writes.
      for (int off = sk::kLanes / 2; off > 0; off /= 2) {
        const auto before = s;
        for (int lane = 0; lane < sk::kLanes; ++lane) {
          const sk::Sums& o = lane + off < sk::kLanes ? before[lane + off] : before[lane];
          s[lane].r += o.r, s[lane].g += o.g, s[lane].b += o.b, s[lane].count += o.count;
        }
      }
      sk::TriangleResult res = sk::FinishTriangle<F>(r[0], v, s[0]);
      res.visibility = sk::Visibility(face_lm, tri);
      (*out)[static_cast<size_t>(task.face) * nt + task.triangle] = res;
      ++(*writes)[static_cast<size_t>(task.face) * nt + task.triangle];
    }
}

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
  std::vector<sk::TriangleResult> out;
  std::vector<int> writes;
  const ImageView& v = c.frames.views[static_cast<int>(F)];
  EmulateKernel<F>(v, tris, nt, lm, static_cast<int>(packed.size()), &out, &writes);
  for (size_t i = 0; i < writes.size(); ++i) ASSERT_EQ(writes[i], 1) << "output " << i;
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
