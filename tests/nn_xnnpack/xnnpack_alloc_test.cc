// XNNPACK Plan::Run allocates nothing, C allocations included: this binary replaces the
// malloc family (glibc allows an executable to interpose it), so XNNPACK's and pthreadpool's
// own allocations are counted too, not only operator new. Its own binary for that reason;
// not built under sanitizers (which replace malloc themselves).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <ostream>
#include <vector>

#include "engine/nn/loader.h"
#include "engine/nn/shape_inference.h"
#include "engine/nn/xnnpack/xnnpack_backend.h"
#include "tests/nn/nn_test_util.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
}

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
inline void Count() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  Count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
  Count();
  return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
  Count();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(size_t a, size_t n) {
  Count();
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  Count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  Count();
  void* p = __libc_memalign(a, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}

namespace fg::nn {
namespace {

struct AllocCase {
  const char* model;
  int threads;
};

std::ostream& operator<<(std::ostream& os, const AllocCase& c) {
  return os << c.model << ", " << c.threads << " thread(s)";
}

class XnnpackNoAllocTest : public ::testing::TestWithParam<AllocCase> {};

TEST_P(XnnpackNoAllocTest, RunDoesNotAllocate) {
  const AllocCase& c = GetParam();
  auto model = LoadModel(testing::ModelsDir() + "/" + c.model + ".json");
  ASSERT_TRUE(model.ok()) << model.status().message();
  XnnpackBackend backend(c.threads);
  auto plan = backend.Prepare(*model, NativeInputShapes(*model, 1));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  g_allocations = 0;
  g_counting = true;
  auto ctx = (*plan)->NewContext();  // allocates: proves the hook sees allocations
  auto ctx2 = (*plan)->NewContext();  // a second context builds its own runtimes (malloc)
  g_counting = false;
  ASSERT_TRUE(ctx && ctx2);
  ASSERT_GT(g_allocations.load(), 0) << "malloc hook is not active";
  std::vector<float> in = testing::XorshiftTensor(1, NumElements((*plan)->input_shapes()[0]));
  std::vector<std::vector<float>> outs;
  std::vector<MutableBuffer> out_bufs;
  for (const Shape& s : (*plan)->output_shapes()) outs.emplace_back(NumElements(s));
  for (auto& o : outs) out_bufs.push_back({o.data(), o.size()});
  ConstBuffer in_buf{in.data(), in.size()};
  // A second input buffer: alternating makes Run re-bind the input (xnn_setup_runtime).
  std::vector<float> in2 = in;
  ConstBuffer in_bufs[2] = {{in.data(), in.size()}, {in2.data(), in2.size()}};
  for (RunContext* cx : {ctx.get(), ctx2.get()}) {
    ASSERT_TRUE((*plan)->Run({&in_buf, 1}, out_bufs, *cx).ok());  // first run: warm
    g_allocations = 0;
    g_counting = true;
    Status s;
    for (int i = 0; i < 4 && s.ok(); ++i) s = (*plan)->Run({&in_bufs[i % 2], 1}, out_bufs, *cx);
    g_counting = false;
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(g_allocations.load(), 0) << c.model << " threads " << c.threads;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, XnnpackNoAllocTest,
    ::testing::Values(AllocCase{"blazeface", 1}, AllocCase{"facemesh", 1}, AllocCase{"iris", 1},
                      AllocCase{"emotion", 1}, AllocCase{"antispoof", 1},
                      AllocCase{"liveness", 1}, AllocCase{"liveness", 2}, AllocCase{"emotion", 2}),
    [](const ::testing::TestParamInfo<AllocCase>& info) {
      return std::string(info.param.model) + "_threads" + std::to_string(info.param.threads);
    });

}  // namespace
}  // namespace fg::nn
