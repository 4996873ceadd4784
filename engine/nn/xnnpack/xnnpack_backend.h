// XnnpackBackend: runs a Model (model.h) on the CPU through XNNPACK's subgraph API.
//
// What it does: Prepare() re-infers shapes for the requested input shapes, maps every node
// it can onto one `xnn_define_*` call (xnnpack_backend.cc is that one translation table),
// packs the weights (TF HWIO conv filters -> XNNPACK OHWI, MatMul [k,n] -> [n,k]) and builds
// one XNNPACK runtime per run of consecutive XNNPACK-able nodes ("segment"). Nodes XNNPACK
// cannot express in the installed version (0.0~git20220216: no concatenate, no Mean other
// than over H,W, no transposed-A MatMul, ...) run in the reference op of the same name
// (engine/nn/ops/) between segments. Relu / Relu6 are fused into the preceding conv, add or
// matmul when it is their only consumer. Runs of residual blocks (depthwise 3x3 -> 1x1 ->
// add the block input, or its 2x2 max-pool at stride 2 -> Relu: BlazeFace's body), with the
// stride-2 conv feeding them, go instead to an own AVX-512 kernel that streams the whole run
// row by row (engine/nn/cpu/residual_chain.h), when the CPU has AVX-512; the plan then
// alternates XNNPACK runtimes and those chains (which run on the calling thread). SAME / VALID paddings are passed to XNNPACK as
// explicit paddings computed by ComputeWindow (shape_inference.h), so results match TF.
//
// Inputs / outputs: as backend.h. XNNPACK may read up to XNN_EXTRA_BYTES (16) past a tensor:
// an input read only by XNNPACK is bound in place when that over-read stays inside the page
// of its last element (it cannot fault), else it is copied into an arena slot that has the
// slack; re-binding to a new caller buffer is an allocation-free xnn_setup_runtime. Outputs
// are copied out of the arena. Every other activation lives in the arena or inside an
// XNNPACK runtime.
//
// Threading: the Backend is stateless and thread-safe. A Plan is immutable after Prepare.
// Each RunContext owns its XNNPACK runtimes (they hold activation memory and packed weights)
// and, when threads > 1, its own pthreadpool: Run is thread-compatible per context, as the
// interface requires. Run never allocates, parses or logs.
// Lifetime: Model > Plan > RunContext. The first context reuses the runtimes built (and
// validated) in Prepare, so the weights of the first stream are packed at load; every later
// context packs its own copy (this XNNPACK has no shared weights cache). NewContext returns
// nullptr only when memory runs out (the same runtimes were already built once in Prepare).
//
// Errors: everything is checked in Prepare; a failing xnn_define_* or runtime creation is
// reported naming the model file, the node, its op and the XNNPACK status.
//
// Example:
//   fg::nn::XnnpackBackend xnn(/*threads=*/1);
//   auto plan = xnn.Prepare(model, fg::nn::NativeInputShapes(model));
//   if (!plan.ok()) return plan.status();      // names the node XNNPACK rejected
//   auto ctx = (*plan)->NewContext();
//   fg::nn::Status s = (*plan)->Run(ins, outs, *ctx);
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "engine/nn/backend.h"

namespace fg::nn {

class XnnpackBackend final : public Backend {
 public:
  // threads: worker threads per RunContext; 1 runs on the calling thread (no pthreadpool).
  // own_kernels: run BlazeFace-style residual-block chains in engine/nn/cpu/residual_chain
  // where the CPU has AVX-512 (false: every node through XNNPACK, for comparison).
  explicit XnnpackBackend(int threads = 1, bool own_kernels = true)
      : threads_(threads < 1 ? 1 : threads), own_kernels_(own_kernels) {}

  std::string_view name() const override { return "xnnpack"; }
  int threads() const { return threads_; }

  Result<std::unique_ptr<Plan>> Prepare(const Model& model,
                                        std::span<const Shape> input_shapes) const override;

 private:
  int threads_;
  bool own_kernels_;
};

// Statistics of a prepared XNNPACK plan, for tests and the benchmark (no behaviour hangs on
// them). Returns false when `plan` is not an XNNPACK plan.
struct XnnpackPlanStats {
  int segments = 0;         // XNNPACK runtimes per context
  int xnn_nodes = 0;        // model nodes mapped to xnn_define_* (fused Relus included)
  int fallback_nodes = 0;   // model nodes run by the reference ops
  int native_chains = 0;    // residual-block chains run by engine/nn/cpu/residual_chain
  int native_nodes = 0;     // model nodes inside them (4 per block)
};
bool GetXnnpackPlanStats(const Plan& plan, XnnpackPlanStats* stats);

}  // namespace fg::nn
