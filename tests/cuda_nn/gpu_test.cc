// The CUDA backend on a real GPU (cuda/nn/cuda_backend.h). Every test calls GTEST_SKIP() when
// cudaGetDeviceCount reports no device, so on a machine without a GPU they report skipped,
// never passed; there the backend is covered by cuda_nn_emulation_test (same plan, same
// kernel arithmetic, on the CPU). One test runs only without a device: Prepare's error.
//   - the six models against the TF.js references (tests/data/nn), batch 1;
//   - the six models against the CPU emulation of the same plan, on a random input;
//   - FaceMesh batch 64 equals 64 batch-1 runs;
//   - graph replay: two Runs give identical results; no device, pinned or host allocation
//     after the first Run (the backend's counting allocator and tests/alloc_counter);
//   - Session::Open(..., "cuda") and Run errors;
//   - cuDNN (cudnn_conv.h, UNVERIFIED until this ran on a GPU): the six models with every
//     layer cuDNN supports forced onto it, against TF.js; the auto choice's consistency; and,
//     without a device, the KRSC filter layout and which paddings cuDNN is given.
// The default CudaBackend() follows $FG_CUDNN (auto when unset): tools/gpu-bundle-run.sh runs
// this binary once with FG_CUDNN=off (the own kernels alone) and once with cuDNN.
// Tolerance: max|err| <= 1e-4 x max|ref| per output, as the CPU backends. The kernels sum the
// taps in the reference's order (the bias last, not first), nvcc contracts a*b+c into FMA (one
// rounding, not two) and the device expf differs from glibc's by up to 2 ulp: each ~2^-23
// relative per term, far below 1e-4 of the output range for these models' dot products.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/nn/cuda_backend.h"
#include "cuda/nn/cudnn_conv.h"
#include "cuda/nn/emulator.h"
#include "cuda/nn/lowering.h"
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

// Every convolution cuDNN accepts on cuDNN (CudnnMode::kOn), the same TF.js tolerance.
TEST_P(CudaModelTest, MatchesTfjsReferencesWithCudnnForced) {
  std::string why;
  if (!gpu::cudnn::Load(&why)) GTEST_SKIP() << "cuDNN not available: " << why;
  gpu::CudaOptions o;
  o.cudnn = gpu::CudnnMode::kOn;
  auto plan = CudaBackend(o).Prepare(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const gpu::CudnnReport* r = gpu::GetCudnnReport(**plan);
  ASSERT_TRUE(r);
  int used = 0;
  for (const auto& l : r->layers) {
    used += l.cudnn ? 1 : 0;
    std::printf("[ cudnn ] %-40s %s own %.4f ms cudnn %.4f ms diff %.2e of %.2e %s\n", l.nodes.c_str(),
                l.cudnn ? "cudnn" : "own  ", l.own_ms, l.cudnn_ms, l.max_diff, l.max_ref, l.note.c_str());
  }
  std::printf("[ cudnn ] %s\n", r->status.c_str());
  EXPECT_GT(used, 0) << "no layer of " << GetParam() << " runs on cuDNN: " << r->status;
  testing::ExpectMatchesTfjs(CudaBackend(o), model_, GetParam());
}

// kAuto: a layer is on cuDNN only where cuDNN agreed within 1e-4 x max|own| and was faster;
// every convolution has a decision with a reason.
TEST_P(CudaModelTest, AutoChoosesCudnnOnlyWhereItAgreesAndIsFaster) {
  std::string why;
  if (!gpu::cudnn::Load(&why)) GTEST_SKIP() << "cuDNN not available: " << why;
  gpu::CudaOptions o;
  o.cudnn = gpu::CudnnMode::kAuto;
  auto plan = CudaBackend(o).Prepare(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const gpu::CudnnReport* r = gpu::GetCudnnReport(**plan);
  ASSERT_TRUE(r);
  auto lowered = gpu::Lower(model_, NativeInputShapes(model_, 1));
  ASSERT_TRUE(lowered.ok());
  int convs = 0;
  for (const auto& l : lowered->launches)
    convs += l.args.kind == gpu::Kind::kConv2D || l.args.kind == gpu::Kind::kDepthwise;
  EXPECT_EQ(int(r->layers.size()), convs) << r->status;
  for (const auto& l : r->layers) {
    EXPECT_FALSE(l.note.empty()) << l.nodes;
    if (!l.cudnn) continue;
    EXPECT_LE(l.max_diff, 1e-4 * l.max_ref) << l.nodes;
    EXPECT_LT(l.cudnn_ms, l.own_ms) << l.nodes;
  }
  testing::ExpectMatchesTfjs(CudaBackend(o), model_, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Models, CudaModelTest, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// Batch 64 is one graph over [64, 192, 192, 3]; each crop's result equals its batch-1 run
// (same kernel code per element: expected bit-identical, checked to 1e-6 x max|ref|). The own
// kernels only: cuDNN may pick another algorithm at another batch size.
TEST(CudaBatch, FaceMeshBatch64Equals64SingleRuns) {
  FG_SKIP_WITHOUT_GPU();
  gpu::CudaOptions own;
  own.cudnn = gpu::CudnnMode::kOff;
  const CudaBackend own_kernels(own);
  const Model model = Load("facemesh");
  const Shape one = NativeInputShapes(model, 1)[0], many = NativeInputShapes(model, 64)[0];
  const std::vector<float> batch = testing::XorshiftTensor(42, NumElements(many));
  std::string err;
  const auto got = xnntest::RunOnce(own_kernels, model, {many}, {batch}, &err);
  ASSERT_TRUE(err.empty()) << err;
  auto plan = own_kernels.Prepare(model, std::vector<Shape>{one});
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

// cuDNN's filter layout (KRSC: [out_c, kh, kw, in_c / groups]) from TF's, no device needed.
TEST(CudnnFilter, KrscFromHwioAndDepthwise) {
  gpu::KernelArgs conv;
  conv.kind = gpu::Kind::kConv2D;
  conv.conv.in_c = 3, conv.conv.out_c = 5, conv.conv.kernel_h = 2, conv.conv.kernel_w = 3;
  std::vector<float> hwio(2 * 3 * 3 * 5);
  for (size_t i = 0; i < hwio.size(); ++i) hwio[i] = float(i);
  const std::vector<float> k = gpu::cudnn::FilterKrsc(conv, hwio.data());
  ASSERT_EQ(k.size(), hwio.size());
  for (int o = 0; o < 5; ++o)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(k[((o * 2 + y) * 3 + x) * 3 + c], hwio[((y * 3 + x) * 3 + c) * 5 + o])
              << "o " << o << " y " << y << " x " << x << " c " << c;
  gpu::KernelArgs dw;
  dw.kind = gpu::Kind::kDepthwise;
  dw.dw.in_c = 4, dw.dw.multiplier = 2, dw.dw.kernel_h = 3, dw.dw.kernel_w = 3;
  std::vector<float> tf(3 * 3 * 4 * 2);  // [kh, kw, c, m]
  for (size_t i = 0; i < tf.size(); ++i) tf[i] = float(i);
  const std::vector<float> g = gpu::cudnn::FilterKrsc(dw, tf.data());
  ASSERT_EQ(g.size(), tf.size());
  for (int c = 0; c < 4; ++c)
    for (int m = 0; m < 2; ++m)
      for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x)  // output channel c * 2 + m, one input channel per group
          ASSERT_EQ(g[((c * 2 + m) * 3 + y) * 3 + x], tf[((y * 3 + x) * 4 + c) * 2 + m]);
  gpu::KernelArgs pool;
  pool.kind = gpu::Kind::kMaxPool;
  EXPECT_EQ(gpu::cudnn::Unsupported(pool), "not a convolution");
}

// Which of FaceMesh's convolutions cuDNN accepts as they are (descriptors only: no device
// needed, but libcudnn.so.9): TF's SAME at stride 2 on an even input pads 0 before and 1 after,
// which cuDNN's symmetric padding cannot express; with the padding made explicit
// (ExplicitPadding) they are accepted too. Stride 1 is accepted as it is.
TEST(CudnnFilter, DescriptorsOnlyForPaddingCudnnCanExpress) {
  std::string why;
  if (!gpu::cudnn::Load(&why)) GTEST_SKIP() << "cuDNN not available: " << why;
  const Model model = Load("facemesh");
  auto lm = gpu::Lower(model, NativeInputShapes(model, 1));
  ASSERT_TRUE(lm.ok()) << lm.status().message();
  int accepted = 0, refused = 0, total_accepted = 0, total_refused = 0;
  for (const auto& l : lm->launches) {
    if (l.args.kind != gpu::Kind::kConv2D && l.args.kind != gpu::Kind::kDepthwise) continue;
    const int stride = l.args.kind == gpu::Kind::kConv2D ? l.args.conv.stride_h : l.args.dw.stride_h;
    const int in_h = l.args.kind == gpu::Kind::kConv2D ? l.args.conv.in_h : l.args.dw.in_h;
    std::string err;
    auto c = gpu::cudnn::Conv::Create(l.args, &err);
    ++(c ? total_accepted : total_refused);
    if (stride == 2 && in_h % 2 == 0) {
      EXPECT_FALSE(c) << l.nodes;
      EXPECT_NE(err.find("padding cuDNN cannot express"), std::string::npos) << l.nodes << ": " << err;
      ++refused;
      // ... and accepted with the padding made explicit (what the backend then does).
      gpu::PaddedConv pc;
      ASSERT_TRUE(gpu::ExplicitPadding(l.args, &pc));
      EXPECT_TRUE(gpu::cudnn::Conv::Create(pc.conv, &err)) << l.nodes << " with explicit padding: " << err;
    } else if (stride == 1) {
      EXPECT_TRUE(c) << l.nodes << ": " << err;
      ++accepted;
    }
  }
  EXPECT_GT(accepted, 20);
  EXPECT_GT(refused, 0);
  std::printf("[ cudnn ] %s: FaceMesh: %d stride-1 convolutions accepted, %d stride-2 refused; in all "
              "%d accepted, %d refused\n",
              gpu::cudnn::Version().c_str(), accepted, refused, total_accepted, total_refused);
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
