// The CUDA STGraph sampler (cuda/vitals/stgraph_sampler.h) on a GPU against
// FaceSTGraph::SampleTriangles: all faces of stgraph_cases.h in one call per pixel format,
// pixel counts and visibility identical, means within 1e-3; the second frame allocates no host
// memory. Without a CUDA device these tests report skipped (never passed), except the ones
// that check the errors, which need no device.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/vitals/stgraph_sampler.h"
#include "tests/alloc_counter.h"
#include "tests/cuda_vitals/stgraph_cases.h"

namespace fg {
namespace {

using cuda::StgraphSampler;
using cuda_vitals_testing::Cases;

#define FG_REQUIRE_CUDA_DEVICE()                                                        \
  do {                                                                                  \
    std::string why;                                                                    \
    if (StgraphSampler::DeviceCount(&why) == 0) GTEST_SKIP() << "no CUDA device: " << why; \
  } while (0)

TEST(CudaStgraphSampler, CreateRejectsBadTriangles) {
  std::string err;
  EXPECT_FALSE(StgraphSampler::Create({}, 1, &err));
  EXPECT_NE(err.find("empty triangle list"), std::string::npos) << err;
  EXPECT_FALSE(StgraphSampler::Create({{0, 1, 468}}, 1, &err));
  EXPECT_NE(err.find("triangle index 468 out of range"), std::string::npos) << err;
}

TEST(CudaStgraphSampler, WithoutADeviceCreateNamesTheFailingCall) {
  std::string why;
  if (StgraphSampler::DeviceCount(&why) > 0) GTEST_SKIP() << "a CUDA device is present";
  std::string err;
  EXPECT_FALSE(StgraphSampler::Create({{0, 1, 2}}, 1, &err));
  EXPECT_NE(err.find("cuda"), std::string::npos) << "the error should name the CUDA call: " << err;
  std::printf("[ cuda ] without a device: %s\n", err.c_str());
}

TEST(CudaStgraphSampler, AllFacesInOneLaunchEqualTheCpuSamplerInEveryFormat) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  cuda_vitals_testing::ExpectCasesCoverTheirPurpose(c);
  ASSERT_FALSE(c.faces.empty());
  std::string err;
  auto s = StgraphSampler::Create(c.graph->triangles(), 2, &err);  // grows to 5 faces
  ASSERT_TRUE(s) << err;
  std::vector<TriangleSamples> out;
  for (int f = 0; f < kPixelFormatCount; ++f) {
    const std::string fmt(PixelFormatName(static_cast<PixelFormat>(f)));
    ASSERT_TRUE(s->Sample(c.frames.views[f], c.faces, &out, &err)) << fmt << ": " << err;
    ASSERT_EQ(out.size(), c.faces.size());
    for (size_t i = 0; i < c.faces.size(); ++i)
      cuda_vitals_testing::ExpectSameSamples(c.cpu[f][i], out[i], fmt + " face " + c.names[i]);
  }
}

TEST(CudaStgraphSampler, SteadyFramesAllocateNoHostMemory) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  ASSERT_FALSE(c.faces.empty());
  std::string err;
  auto s = StgraphSampler::Create(c.graph->triangles(), static_cast<int>(c.faces.size()), &err);
  ASSERT_TRUE(s) << err;
  std::vector<TriangleSamples> out;
  const ImageView& v = c.frames.views[static_cast<int>(PixelFormat::kNV12)];
  ASSERT_TRUE(s->Sample(v, c.faces, &out, &err)) << err;
  fg::testing::AllocationCount count;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s->Sample(v, c.faces, &out, &err)) << err;
  EXPECT_EQ(count.Stop(), 0);
  for (size_t i = 0; i < c.faces.size(); ++i)
    cuda_vitals_testing::ExpectSameSamples(c.cpu[static_cast<int>(PixelFormat::kNV12)][i], out[i],
                                           "nv12 face " + c.names[i]);
}

TEST(CudaStgraphSampler, EmptyFrameAndNoFacesGiveZerosWithoutALaunch) {
  FG_REQUIRE_CUDA_DEVICE();
  const auto& c = Cases();
  ASSERT_FALSE(c.faces.empty());
  std::string err;
  auto s = StgraphSampler::Create(c.graph->triangles(), 1, &err);
  ASSERT_TRUE(s) << err;
  std::vector<TriangleSamples> out;
  ASSERT_TRUE(s->Sample(c.frames.views[0], {}, &out, &err)) << err;
  EXPECT_TRUE(out.empty());
  ImageView empty;  // 0 x 0
  ASSERT_TRUE(s->Sample(empty, c.faces, &out, &err)) << err;
  ASSERT_EQ(out.size(), c.faces.size());
  for (const auto& f : out)
    for (int p : f.pixels) EXPECT_EQ(p, 0);
}

}  // namespace
}  // namespace fg
