// Plan::Run allocates nothing: every global operator new is counted while a Run is in
// flight. Its own binary because it replaces the global allocation functions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/nn/loader.h"
#include "engine/nn/reference_backend.h"
#include "engine/nn/shape_inference.h"
#include "nn_test_util.h"
#include "tests/alloc_counter.h"


namespace fg::nn {
namespace {

class NoAllocTest : public ::testing::TestWithParam<const char*> {};

TEST_P(NoAllocTest, RunDoesNotAllocate) {
  auto model = LoadModel(testing::ModelsDir() + "/" + GetParam() + ".json");
  ASSERT_TRUE(model.ok()) << model.status().message();
  ReferenceBackend backend;
  auto plan = backend.Prepare(*model, NativeInputShapes(*model, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  fg::testing::AllocationCount setup;
  auto ctx = (*plan)->NewContext();  // allocates: proves the hook sees allocations
  ASSERT_GT(setup.Stop(), 0) << "operator new hook is not active";
  std::vector<float> in = testing::XorshiftTensor(1, NumElements((*plan)->input_shapes()[0]));
  std::vector<std::vector<float>> outs;
  std::vector<MutableBuffer> out_bufs;
  for (const Shape& s : (*plan)->output_shapes()) outs.emplace_back(NumElements(s));
  for (auto& o : outs) out_bufs.push_back({o.data(), o.size()});
  ConstBuffer in_buf{in.data(), in.size()};
  for (int i = 0; i < 2; ++i) {  // the first run is no different from the second: check both
    fg::testing::AllocationCount count;
    Status s = (*plan)->Run({&in_buf, 1}, out_bufs, *ctx);
    const long allocations = count.Stop();
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(allocations, 0) << GetParam() << " run " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, NoAllocTest,
                         ::testing::Values("blazeface", "facemesh", "iris", "emotion", "antispoof",
                                           "liveness"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace fg::nn
