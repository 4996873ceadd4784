// cudnn_conv.h: cuDNN's legacy convolution API through dlopen'ed function pointers.
#include "cuda/nn/cudnn_conv.h"

#include <cstdlib>
#include <mutex>

#if FG_HAVE_CUDNN
#include <cudnn.h>
#include <dlfcn.h>
#endif

namespace fg::nn::gpu::cudnn {
namespace {

// One geometry for both kinds: groups = 1 (Conv2D) or in_c (depthwise).
struct Geometry {
  int n, h, w, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, groups;
};

bool GetGeometry(const KernelArgs& a, Geometry* g) {
  if (a.kind == Kind::kConv2D) {
    const auto& c = a.conv;
    *g = {c.batch,    c.in_h,     c.in_w,       c.in_c,       c.out_h,   c.out_w,   c.out_c, c.kernel_h,
          c.kernel_w, c.stride_h, c.stride_w, c.dilation_h, c.dilation_w, c.pad_top, c.pad_left, 1};
    return true;
  }
  if (a.kind == Kind::kDepthwise) {
    const auto& d = a.dw;
    *g = {d.batch,    d.in_h,     d.in_w,     d.in_c,       d.out_h,      d.out_w,   d.in_c * d.multiplier,
          d.kernel_h, d.kernel_w, d.stride_h, d.stride_w, d.dilation_h, d.dilation_w, d.pad_top, d.pad_left,
          d.in_c};
    return true;
  }
  return false;
}

}  // namespace

std::string Unsupported(const KernelArgs& a) {
  Geometry g;
  if (!GetGeometry(a, &g)) return "not a convolution";
  if (g.pt < 0 || g.pl < 0) return "negative padding";
  return "";
}

std::vector<float> FilterKrsc(const KernelArgs& a, const float* tf) {
  Geometry g;
  if (!GetGeometry(a, &g)) return {};
  const int cg = g.c / g.groups;  // input channels per group
  std::vector<float> out(size_t(g.oc) * g.kh * g.kw * cg);
  for (int k = 0; k < g.oc; ++k)
    for (int y = 0; y < g.kh; ++y)
      for (int x = 0; x < g.kw; ++x)
        for (int c = 0; c < cg; ++c) {
          // HWIO [kh, kw, in_c, out_c]; depthwise [kh, kw, in_c, multiplier] = [kh, kw, out_c]
          const size_t src = g.groups == 1 ? ((size_t(y) * g.kw + x) * g.c + c) * g.oc + k
                                           : (size_t(y) * g.kw + x) * g.oc + k;
          out[((size_t(k) * g.kh + y) * g.kw + x) * cg + c] = tf[src];
        }
  return out;
}

#if FG_HAVE_CUDNN

namespace {

#define FG_CUDNN_FUNCTIONS(X)                                                                     \
  X(cudnnGetVersion) X(cudnnGetErrorString) X(cudnnCreate) X(cudnnDestroy) X(cudnnSetStream)     \
  X(cudnnCreateTensorDescriptor) X(cudnnDestroyTensorDescriptor) X(cudnnSetTensor4dDescriptor)   \
  X(cudnnCreateFilterDescriptor) X(cudnnDestroyFilterDescriptor) X(cudnnSetFilter4dDescriptor)   \
  X(cudnnCreateConvolutionDescriptor) X(cudnnDestroyConvolutionDescriptor)                       \
  X(cudnnSetConvolution2dDescriptor) X(cudnnSetConvolutionGroupCount)                            \
  X(cudnnSetConvolutionMathType) X(cudnnGetConvolution2dForwardOutputDim)                        \
  X(cudnnFindConvolutionForwardAlgorithmEx) X(cudnnConvolutionForward)

struct Api {
#define FG_CUDNN_MEMBER(f) decltype(&::f) f = nullptr;
  FG_CUDNN_FUNCTIONS(FG_CUDNN_MEMBER)
#undef FG_CUDNN_MEMBER
};

Api g_api;
bool g_loaded = false;
std::string g_load_error;
std::once_flag g_once;

void DoLoad() {
  const char* env = std::getenv("FG_CUDNN_LIBRARY");
  const char* file = env && *env ? env : "libcudnn.so.9";
  void* lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    g_load_error = std::string("cuDNN not loaded: ") + (e ? e : file);
    return;
  }
#define FG_CUDNN_RESOLVE(f)                                                   \
  g_api.f = reinterpret_cast<decltype(&::f)>(dlsym(lib, #f));                 \
  if (!g_api.f) {                                                             \
    g_load_error = std::string("cuDNN: ") + file + " has no function " + #f;  \
    return;                                                                   \
  }
  FG_CUDNN_FUNCTIONS(FG_CUDNN_RESOLVE)
#undef FG_CUDNN_RESOLVE
  const size_t v = g_api.cudnnGetVersion();
  if (v / 10000 != 9) {  // 9.19.0 is 91900
    g_load_error = std::string("cuDNN: ") + file + " is version " + std::to_string(v) + ", not 9.x";
    return;
  }
  g_loaded = true;
}

const Api& A() { return g_api; }

std::string StatusText(const char* what, cudnnStatus_t s) {
  return std::string(what) + ": " + A().cudnnGetErrorString(s);
}

#define FG_CUDNN_CHECK(stmt, error)                              \
  do {                                                           \
    const cudnnStatus_t fg_cudnn_s_ = (stmt);                    \
    if (fg_cudnn_s_ != CUDNN_STATUS_SUCCESS) {                   \
      if (error) *(error) = StatusText(#stmt, fg_cudnn_s_);      \
      return false;                                              \
    }                                                            \
  } while (0)

const char* AlgoName(int a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
    default: return "none";
  }
}

}  // namespace

bool Load(std::string* why) {
  std::call_once(g_once, DoLoad);
  if (!g_loaded && why) *why = g_load_error;
  return g_loaded;
}

std::string Version() {
  if (!g_loaded) return "";
  const size_t v = A().cudnnGetVersion();
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

std::unique_ptr<Handle> Handle::Create(cudaStream_t stream, std::string* error) {
  if (!Load(error)) return nullptr;
  std::unique_ptr<Handle> h(new Handle);
  cudnnHandle_t raw = nullptr;
  auto init = [&]() {
    FG_CUDNN_CHECK(A().cudnnCreate(&raw), error);
    h->h_ = raw;
    FG_CUDNN_CHECK(A().cudnnSetStream(raw, stream), error);
    return true;
  };
  if (!init()) return nullptr;
  return h;
}

Handle::~Handle() {
  if (h_) A().cudnnDestroy(static_cast<cudnnHandle_t>(h_));
}

std::unique_ptr<Conv> Conv::Create(const KernelArgs& a, std::string* error) {
  if (!Load(error)) return nullptr;
  if (std::string why = Unsupported(a); !why.empty()) {
    if (error) *error = why;
    return nullptr;
  }
  Geometry g;
  GetGeometry(a, &g);
  std::unique_ptr<Conv> c(new Conv);
  auto init = [&]() {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    FG_CUDNN_CHECK(A().cudnnCreateTensorDescriptor(&x), error);
    c->x_ = x;
    FG_CUDNN_CHECK(A().cudnnCreateTensorDescriptor(&y), error);
    c->y_ = y;
    FG_CUDNN_CHECK(A().cudnnCreateFilterDescriptor(&w), error);
    c->w_ = w;
    FG_CUDNN_CHECK(A().cudnnCreateConvolutionDescriptor(&conv), error);
    c->conv_ = conv;
    FG_CUDNN_CHECK(A().cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g.n, g.c, g.h, g.w), error);
    FG_CUDNN_CHECK(A().cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, g.oc, g.c / g.groups,
                                                  g.kh, g.kw),
                   error);
    FG_CUDNN_CHECK(A().cudnnSetConvolution2dDescriptor(conv, g.pt, g.pl, g.sh, g.sw, g.dh, g.dw,
                                                       CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                   error);
    FG_CUDNN_CHECK(A().cudnnSetConvolutionGroupCount(conv, g.groups), error);
    FG_CUDNN_CHECK(A().cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), error);  // no TF32
    int n = 0, oc = 0, oh = 0, ow = 0;
    FG_CUDNN_CHECK(A().cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &oc, &oh, &ow), error);
    if (n != g.n || oc != g.oc || oh != g.oh || ow != g.ow) {
      if (error)
        *error = "cuDNN's output would be " + std::to_string(oh) + "x" + std::to_string(ow) + ", the layer's is " +
                 std::to_string(g.oh) + "x" + std::to_string(g.ow) + " (padding cuDNN cannot express)";
      return false;
    }
    FG_CUDNN_CHECK(A().cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g.n, g.oc, g.oh, g.ow),
                   error);
    return true;
  };
  if (!init()) return nullptr;
  return c;
}

Conv::~Conv() {
  if (!g_loaded) return;
  if (x_) A().cudnnDestroyTensorDescriptor(static_cast<cudnnTensorDescriptor_t>(x_));
  if (y_) A().cudnnDestroyTensorDescriptor(static_cast<cudnnTensorDescriptor_t>(y_));
  if (w_) A().cudnnDestroyFilterDescriptor(static_cast<cudnnFilterDescriptor_t>(w_));
  if (conv_) A().cudnnDestroyConvolutionDescriptor(static_cast<cudnnConvolutionDescriptor_t>(conv_));
}

bool Conv::Tune(const Handle& h, const float* x, const float* w_krsc, float* y, void* workspace,
                size_t workspace_bytes, std::string* error) {
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  FG_CUDNN_CHECK(A().cudnnFindConvolutionForwardAlgorithmEx(
                     static_cast<cudnnHandle_t>(h.raw()), static_cast<cudnnTensorDescriptor_t>(x_), x,
                     static_cast<cudnnFilterDescriptor_t>(w_), w_krsc,
                     static_cast<cudnnConvolutionDescriptor_t>(conv_), static_cast<cudnnTensorDescriptor_t>(y_), y,
                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf, workspace, workspace_bytes),
                 error);
  // Sorted by time; the first that ran, fits the workspace and keeps fp32 math.
  for (int i = 0; i < found; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > workspace_bytes) continue;
    // Tensor-core math (TF32, fp16 conversion) is not fp32; the descriptor asks for FMA only,
    // this guards against an algorithm reported with another math type anyway.
    if (perf[i].mathType == CUDNN_TENSOR_OP_MATH || perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
      continue;
    algo_ = perf[i].algo;
    workspace_ = perf[i].memory;
    return true;
  }
  if (error) {
    *error = "cuDNN found no usable algorithm for this layer:";
    for (int i = 0; i < found; ++i)
      *error += std::string(" ") + AlgoName(perf[i].algo) + "=" + A().cudnnGetErrorString(perf[i].status) +
                (perf[i].memory > workspace_bytes ? "(workspace)" : "") + "/math" + std::to_string(perf[i].mathType);
  }
  return false;
}

bool Conv::Run(const Handle& h, const float* x, const float* w_krsc, float* y, void* workspace,
               std::string* error) const {
  if (algo_ < 0) {
    if (error) *error = "cudnn::Conv::Run before Tune";
    return false;
  }
  const float one = 1.0f, zero = 0.0f;
  FG_CUDNN_CHECK(A().cudnnConvolutionForward(
                     static_cast<cudnnHandle_t>(h.raw()), &one, static_cast<cudnnTensorDescriptor_t>(x_), x,
                     static_cast<cudnnFilterDescriptor_t>(w_), w_krsc,
                     static_cast<cudnnConvolutionDescriptor_t>(conv_),
                     static_cast<cudnnConvolutionFwdAlgo_t>(algo_), workspace, workspace_, &zero,
                     static_cast<cudnnTensorDescriptor_t>(y_), y),
                 error);
  return true;
}

std::string Conv::algorithm() const { return AlgoName(algo_); }

#else  // !FG_HAVE_CUDNN: the same interface, never available.

bool Load(std::string* why) {
  if (why) *why = "built without cuDNN (cudnn.h was not found at configure time)";
  return false;
}
std::string Version() { return ""; }
std::unique_ptr<Handle> Handle::Create(cudaStream_t, std::string* error) {
  Load(error);
  return nullptr;
}
Handle::~Handle() = default;
std::unique_ptr<Conv> Conv::Create(const KernelArgs&, std::string* error) {
  Load(error);
  return nullptr;
}
Conv::~Conv() = default;
bool Conv::Tune(const Handle&, const float*, const float*, float*, void*, size_t, std::string* error) {
  return Load(error);
}
bool Conv::Run(const Handle&, const float*, const float*, float*, void*, std::string* error) const {
  return Load(error);
}
std::string Conv::algorithm() const { return "none"; }

#endif

}  // namespace fg::nn::gpu::cudnn
