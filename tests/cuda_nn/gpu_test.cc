// The CUDA backend on a real GPU (cuda/nn/cuda_backend.h). Every test calls GTEST_SKIP() when
// cudaGetDeviceCount reports no device, so on a machine without a GPU they report skipped,
// never passed; there the backend is covered by cuda_nn_emulation_test (same plan, same
// kernel arithmetic, on the CPU). One test runs only without a device: Prepare's error.
//   - the six models against the TF.js references (tests/data/nn), batch 1;
//   - the six models against the CPU emulation of the same plan, on a random input;
//   - FaceMesh batch 64 equals 64 batch-1 runs;
//   - graph replay: two Runs give identical results; no device, pinned or host allocation
//     after the first Run (the backend's counting allocator and tests/alloc_counter);
//   - Session::Open(..., "cuda") and Run errors.
// Tolerance: max|err| <= 1e-4 x max|ref| per output, as the CPU backends. The kernels sum the
// taps in the reference's order (the bias last, not first), nvcc contracts a*b+c into FMA (one
// rounding, not two) and the device expf differs from glibc's by up to 2 ulp: each ~2^-23
// relative per term, far below 1e-4 of the output range for these models' dot products.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/nn/cuda_backend.h"
#include "cuda/nn/emulator.h"
#include "engine/nn/loader.h"
#include "engine/nn/session.h"
#include "engine/nn/shape_inference.h"
#include "tests/alloc_counter.h"
#include "tests/nn/tfjs_check.h"
#include "tests/nn/nn_test_util.h"
#include "tests/nn_xnnpack/test_util.h"

namespace fg::nn {
namespace {

using gpu::CudaBackend;

#define FG_SKIP_WITHOUT_GPU()                                                              \
  if (gpu::CudaDeviceCount() == 0)                                                         \
  GTEST_SKIP() << "no CUDA device (cudaGetDeviceCount reports none): the CUDA backend is " \
                  "covered here only by cuda_nn_emulation_test"

const char* const kModels[] = {"blazeface", "facemesh", "iris", "emotion", "antispoof", "liveness"};

Model Load(const std::string& name) {
  auto m = LoadModel(testing::ModelsDir() + "/" + name + ".json");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(m).value() : Model{};
}

class CudaModelTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    FG_SKIP_WITHOUT_GPU();
    std::printf("[ device ] %s\n", gpu::CudaDeviceDescription().c_str());
    model_ = Load(GetParam());
    ASSERT_FALSE(model_.nodes.empty());
  }
  Model model_;
};

TEST_P(CudaModelTest, MatchesTfjsReferences) {
  testing::ExpectMatchesTfjs(CudaBackend(), model_, GetParam());
}

TEST_P(CudaModelTest, MatchesCpuEmulationOfThePlan) {
  const std::vector<Shape> shapes = NativeInputShapes(model_, 1);
  const std::vector<std::vector<float>> in = {
      xnntest::RandomVector(size_t(NumElements(shapes[0])), 5)};
  std::string err;
  const auto want = xnntest::RunOnce(gpu::EmulatedCudaBackend(), model_, shapes, in, &err);
  ASSERT_TRUE(err.empty()) << err;
  const auto got = xnntest::RunOnce(CudaBackend(), model_, shapes, in, &err);
  ASSERT_TRUE(err.empty()) << err;
  xnntest::ExpectMatchesReference(got, want, std::string(GetParam()) + " vs emulation", "cuda");
}

TEST_P(CudaModelTest, ReplayIsRepeatableAndAllocatesNothing) {
  auto plan = CudaBackend().Prepare(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE(ctx);
  const std::vector<float> in =
      testing::XorshiftTensor(7, NumElements((*plan)->input_shapes()[0]));
  std::vector<std::vector<float>> a, b;
  for (const Shape& s : (*plan)->output_shapes()) {
    a.emplace_back(size_t(NumElements(s)), 0.f);
    b.emplace_back(size_t(NumElements(s)), 1.f);
  }
  auto run = [&](std::vector<std::vector<float>>& out) {
    std::vector<MutableBuffer> bufs;
    for (auto& v : out) bufs.push_back({v.data(), v.size()});
    const ConstBuffer ib{in.data(), in.size()};
    return (*plan)->Run({&ib, 1}, bufs, *ctx);
  };
  ASSERT_TRUE(run(a).ok());  // captures the graph
  const int64_t device_allocs = gpu::CudaAllocationCount();
  Status s;
  {
    fg::testing::AllocationCount host_allocs;
    for (int i = 0; i < 10 && s.ok(); ++i) s = run(b);
    EXPECT_EQ(host_allocs.Stop(), 0) << "operator new during Run";
  }
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(gpu::CudaAllocationCount(), device_allocs) << "cudaMalloc / cudaMallocHost during Run";
  EXPECT_EQ(a, b) << "graph replay differs from the first (captured) run";
}

INSTANTIATE_TEST_SUITE_P(Models, CudaModelTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// Batch 64 is one graph over [64, 192, 192, 3]; each crop's result equals its batch-1 run
// (same kernel code per element: expected bit-identical, checked to 1e-6 x max|ref|).
TEST(CudaBatch, FaceMeshBatch64Equals64SingleRuns) {
  FG_SKIP_WITHOUT_GPU();
  const Model model = Load("facemesh");
  const Shape one = NativeInputShapes(model, 1)[0], many = NativeInputShapes(model, 64)[0];
  const std::vector<float> batch = testing::XorshiftTensor(42, NumElements(many));
  std::string err;
  const auto got = xnntest::RunOnce(CudaBackend(), model, {many}, {batch}, &err);
  ASSERT_TRUE(err.empty()) << err;
  auto plan = CudaBackend().Prepare(model, std::vector<Shape>{one});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  auto ctx = (*plan)->NewContext();
  ASSERT_TRUE(ctx);
  const size_t per = size_t(NumElements(one));
  for (size_t b = 0; b < 64; ++b) {
    std::vector<std::vector<float>> single;
    std::vector<MutableBuffer> bufs;
    for (const Shape& s : (*plan)->output_shapes()) single.emplace_back(size_t(NumElements(s)));
    for (auto& v : single) bufs.push_back({v.data(), v.size()});
    const ConstBuffer ib{batch.data() + b * per, per};
    ASSERT_TRUE((*plan)->Run({&ib, 1}, bufs, *ctx).ok());
    for (size_t o = 0; o < single.size(); ++o) {
      const size_t n = single[o].size();
      const std::vector<float> slice(got[o].begin() + b * n, got[o].begin() + (b + 1) * n);
      EXPECT_TRUE(xnntest::Compare(slice, single[o]).Within(1e-6))
          << "crop " << b << ", output " << o;
    }
  }
}

TEST(CudaSession, OpensByNameAndRuns) {
  FG_SKIP_WITHOUT_GPU();
  auto s = Session::Open(testing::ModelsDir() + "/emotion.json", "cuda");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->backend_name(), "cuda");
  const Status st = (*s)->Run();
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST(CudaErrors, RunRejectsAnotherPlansContext) {
  FG_SKIP_WITHOUT_GPU();
  const Model model = Load("emotion");
  auto p1 = CudaBackend().Prepare(model, NativeInputShapes(model));
  auto p2 = CudaBackend().Prepare(model, NativeInputShapes(model));
  ASSERT_TRUE(p1.ok() && p2.ok());
  auto ctx = (*p2)->NewContext();
  std::vector<float> in(size_t(NumElements((*p1)->input_shapes()[0]))),
      out(size_t(NumElements((*p1)->output_shapes()[0])));
  const ConstBuffer ib{in.data(), in.size()};
  const MutableBuffer ob{out.data(), out.size()};
  const Status s = (*p1)->Run({&ib, 1}, {&ob, 1}, *ctx);
  EXPECT_NE(s.message().find("another plan"), std::string::npos) << s.message();
}

// The one test that runs without a GPU: Prepare fails, naming the CUDA call.
TEST(CudaNoDevice, PrepareFailsNamingTheCall) {
  if (gpu::CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  const Model model = Load("emotion");
  auto plan = CudaBackend().Prepare(model, NativeInputShapes(model));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("cudaGetDeviceCount"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("emotion.json"), std::string::npos)
      << plan.status().message();
}

}  // namespace
}  // namespace fg::nn
