// xnn_proto: standalone smoke test of the installed XNNPACK (Debian 0.0~git20220216).
//
// Defines one MobileNet-style block -- 3x3 depthwise conv (SAME, explicit
// paddings) + 1x1 pointwise conv with fused ReLU -- runs it single-threaded
// and prints the achieved GFLOP/s. It exists to confirm that the old
// subgraph API signatures, linking (XNNPACK + pthreadpool) and the AVX-512
// micro-kernels work on this machine; it is not part of ctest. Then it times BlazeFace's
// stem (5x5 stride-2 conv, 256x256x3 -> 24) the same way: the XNNPACK figure the own kernel
// that now runs it (engine/nn/cpu/residual_chain.h) is compared with.
//
//   ./xnn_proto [H W C]     (default 64 64 128)
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#define CHECK_XNN(stmt)                                                  \
  do {                                                                   \
    xnn_status s_ = (stmt);                                              \
    if (s_ != xnn_status_success) {                                      \
      std::fprintf(stderr, "%s failed: status %d\n", #stmt, int(s_));    \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(int argc, char** argv) {
  size_t H = 64, W = 64, C = 128;
  if (argc == 4) { H = std::atoi(argv[1]); W = std::atoi(argv[2]); C = std::atoi(argv[3]); }
  CHECK_XNN(xnn_initialize(nullptr));

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto fill = [&](std::vector<float>& v) { for (auto& x : v) x = u(rng); };
  std::vector<float> in(H * W * C), out(H * W * C);
  std::vector<float> dw_w(9 * C), dw_b(C), pw_w(C * C), pw_b(C);
  fill(in); fill(dw_w); fill(dw_b); fill(pw_w); fill(pw_b);

  xnn_subgraph_t sg = nullptr;
  CHECK_XNN(xnn_create_subgraph(/*external_value_ids=*/2, 0, &sg));
  const size_t act[4] = {1, H, W, C};
  const size_t dwd[4] = {1, 3, 3, C}, bd[1] = {C}, pwd[4] = {C, 1, 1, C};
  uint32_t x, y, z, wdw, bdw, wpw, bpw;
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 4, act, nullptr, 0, XNN_VALUE_FLAG_EXTERNAL_INPUT, &x));
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 4, act, nullptr, XNN_INVALID_VALUE_ID, 0, &y));
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 4, act, nullptr, 1, XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &z));
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 4, dwd, dw_w.data(), XNN_INVALID_VALUE_ID, 0, &wdw));
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 1, bd, dw_b.data(), XNN_INVALID_VALUE_ID, 0, &bdw));
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 4, pwd, pw_w.data(), XNN_INVALID_VALUE_ID, 0, &wpw));
  CHECK_XNN(xnn_define_tensor_value(sg, xnn_datatype_fp32, 1, bd, pw_b.data(), XNN_INVALID_VALUE_ID, 0, &bpw));
  CHECK_XNN(xnn_define_depthwise_convolution_2d(sg, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, /*depth_multiplier=*/1, C,
                                                -INFINITY, INFINITY, x, wdw, bdw, y, 0));
  CHECK_XNN(xnn_define_convolution_2d(sg, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, /*groups=*/1, C, C, 0.f, INFINITY, y, wpw,
                                      bpw, z, 0));
  xnn_runtime_t rt = nullptr;
  CHECK_XNN(xnn_create_runtime_v2(sg, /*threadpool=*/nullptr, 0, &rt));
  xnn_delete_subgraph(sg);
  const xnn_external_value ext[2] = {{x, in.data()}, {z, out.data()}};
  CHECK_XNN(xnn_setup_runtime(rt, 2, ext));

  for (int i = 0; i < 20; ++i) CHECK_XNN(xnn_invoke_runtime(rt));
  std::vector<double> ms;
  for (int i = 0; i < 200; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    CHECK_XNN(xnn_invoke_runtime(rt));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  const double flops = 2.0 * H * W * C * 9 + 2.0 * H * W * C * C;
  const double pw_flops = 2.0 * H * W * C * C;

  // Spot-check one output against a naive computation (centre pixel, channel 0).
  const size_t ph = H / 2, pw = W / 2;
  double acc = pw_b[0];
  for (size_t ci = 0; ci < C; ++ci) {
    double d = dw_b[ci];
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx)
        d += double(in[((ph + ky - 1) * W + (pw + kx - 1)) * C + ci]) * dw_w[(ky * 3 + kx) * C + ci];
    acc += d * pw_w[0 * C + ci];
  }
  acc = std::max(acc, 0.0);
  std::printf("block 1x%zux%zux%zu dw3x3+pw1x1: median %.3f ms, %.1f GFLOP/s (pw share %.0f%%); check |err|=%.2e\n",
              H, W, C, med, flops / med * 1e-6, 100.0 * pw_flops / flops,
              std::abs(acc - out[(ph * W + pw) * C + 0]));
  xnn_delete_runtime(rt);

  // BlazeFace's stem for scale: Conv2D 5x5 stride 2, 256x256x3 -> 128x128x24, SAME, + ReLU.
  {
    const size_t in_d[4] = {1, 256, 256, 3}, out_d[4] = {1, 128, 128, 24};
    const size_t w_d[4] = {24, 5, 5, 3}, b_d[1] = {24};
    std::vector<float> sin(256 * 256 * 3), sout(128 * 128 * 24), sw(24 * 75), sb(24);
    fill(sin); fill(sw); fill(sb);
    xnn_subgraph_t g = nullptr;
    CHECK_XNN(xnn_create_subgraph(2, 0, &g));
    uint32_t si, so, swv, sbv;
    CHECK_XNN(xnn_define_tensor_value(g, xnn_datatype_fp32, 4, in_d, nullptr, 0, XNN_VALUE_FLAG_EXTERNAL_INPUT, &si));
    CHECK_XNN(xnn_define_tensor_value(g, xnn_datatype_fp32, 4, out_d, nullptr, 1, XNN_VALUE_FLAG_EXTERNAL_OUTPUT, &so));
    CHECK_XNN(xnn_define_tensor_value(g, xnn_datatype_fp32, 4, w_d, sw.data(), XNN_INVALID_VALUE_ID, 0, &swv));
    CHECK_XNN(xnn_define_tensor_value(g, xnn_datatype_fp32, 1, b_d, sb.data(), XNN_INVALID_VALUE_ID, 0, &sbv));
    CHECK_XNN(xnn_define_convolution_2d(g, 1, 2, 2, 1, 5, 5, 2, 2, 1, 1, 1, 3, 24, 0.f, INFINITY, si, swv, sbv, so, 0));
    xnn_runtime_t srt = nullptr;
    CHECK_XNN(xnn_create_runtime_v2(g, nullptr, 0, &srt));
    xnn_delete_subgraph(g);
    const xnn_external_value sext[2] = {{si, sin.data()}, {so, sout.data()}};
    CHECK_XNN(xnn_setup_runtime(srt, 2, sext));
    for (int i = 0; i < 20; ++i) CHECK_XNN(xnn_invoke_runtime(srt));
    std::vector<double> sms;
    for (int i = 0; i < 200; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      CHECK_XNN(xnn_invoke_runtime(srt));
      sms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(sms.begin(), sms.end());
    const double sflops = 2.0 * 128 * 128 * 24 * 75;
    std::printf("stem conv 5x5/2 256x256x3->24: median %.3f ms, %.1f GFLOP/s\n", sms[sms.size() / 2],
                sflops / sms[sms.size() / 2] * 1e-6);
    xnn_delete_runtime(srt);
  }
  xnn_deinitialize();
  return 0;
}
