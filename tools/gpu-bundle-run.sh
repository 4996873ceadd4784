#!/usr/bin/env bash
# run.sh of the GPU bundle (tools/gpu-check copies this file into the bundle): on a GPU machine
# with no network and no package manager, runs every CUDA GPU test and every CUDA benchmark of
# facegraph from the bundle's own files and writes ONE report, $OUT/gpu-report.txt (OUT unset:
# <bundle>/out/). Meant to finish within 8 minutes: each step has its own timeout, and a step
# that would start after the overall budget (FG_GPU_BUDGET_S, default 450 s) is skipped.
#
#   build-gpu/bundle/run.sh            (from anywhere; the bundle finds itself)
#
# Steps: the machine (nvidia-smi, the loader), which libraries each binary resolves where, then
#   tests   cuda_vitals_gpu_test, cuda_render_gpu_test, cuda_nn_gpu_test with FG_CUDNN=off
#           (the own kernels), cuda_nn_gpu_test with cuDNN (auto + the forced-cuDNN tests)
#   benches cuda_nn_bench (batch 1 and FaceMesh 64, the CPU backend in the same run) with the
#           own kernels, then with cuDNN (per-layer timings and choices); stgraph_cuda_bench and
#           render_cuda_bench (each CPU vs GPU in the same run)
# cuDNN is not in the bundle (too large for its budget): the libcudnn.so.9 of the machine is
# used when found ($FG_CUDNN_LIBRARY, the loader's cache, CUDA's lib64, or a Python wheel's
# nvidia/cudnn/lib, as the PyTorch image has); otherwise the cuDNN steps report skipped.
# Without a GPU (the dry run, tests/gpu_bundle) every GPU test reports skipped and the
# benchmarks exit 77 ("no CUDA device"): the report then says SKIP, never PASS, for them.
# Exit status: 0 when no step failed (skips included), 1 otherwise.
set -uo pipefail
export PATH=${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
report=$out/gpu-report.txt
: > "$report"
budget=${FG_GPU_BUDGET_S:-450}
start=$SECONDS
failed=0
summary=()
figures=()  # the benchmarks' result lines, repeated at the end

say() { printf '%s\n' "$*" | tee -a "$report"; }
section() { say ""; say "=== $* (t+$((SECONDS - start))s)"; }

export FACEGRAPH_MODELS=$here/models
export FACEGRAPH_TEST_DATA=$here/data
export FACEGRAPH_ASTRONAUT=$here/data/astronaut.png
export LD_LIBRARY_PATH=$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

section "facegraph GPU check: $(cat "$here/MANIFEST" 2>/dev/null | head -1)"
say "date: $(date -u +%FT%TZ)  host: $(uname -srm)  budget: ${budget}s"
if command -v nvidia-smi > /dev/null; then
  timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$report"
else
  say "nvidia-smi: not found"
fi

# The loader: the machine's own when it runs our binaries (its glibc is at least as new as the
# build machine's), else the bundle's glibc (glibc/: ld.so, libc, libm, ...) with the machine's
# driver found through its loader cache.
# FG_GPU_LOADER=bundle forces the bundle's (how that path was tried without an old glibc).
loader=()
probe=$("$here/bin/cuda_vitals_gpu_test" --gtest_list_tests 2>&1 > /dev/null)
probe_rc=$?
[[ ${FG_GPU_LOADER:-auto} == bundle ]] && { probe_rc=1; probe="FG_GPU_LOADER=bundle"; }
if [[ $probe_rc -ne 0 ]]; then
  say "the machine's loader cannot run the binaries: ${probe:0:300}"
  loader=("$here/glibc/ld-linux-x86-64.so.2" --library-path "$here/lib:$here/glibc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  say "using the bundle's glibc loader: ${loader[*]}"
else
  say "loader: the machine's (binaries load with LD_LIBRARY_PATH=$here/lib)"
fi

# cuDNN: the machine's, if any.
cudnn=${FG_CUDNN_LIBRARY:-}
if [[ -z $cudnn || ! -e $cudnn ]]; then
  cudnn=""
  for c in "$here"/lib/cudnn/libcudnn.so.9 \
           $(ldconfig -p 2> /dev/null | awk '/libcudnn\.so\.9 /{print $NF}') \
           /usr/local/cuda*/lib64/libcudnn.so.9 /usr/local/cuda*/lib/libcudnn.so.9 \
           /opt/*/.venv/lib/python3*/site-packages/nvidia/cudnn/lib/libcudnn.so.9 \
           /usr/local/lib/python3*/dist-packages/nvidia/cudnn/lib/libcudnn.so.9 \
           /usr/lib/python3/dist-packages/nvidia/cudnn/lib/libcudnn.so.9; do
    [[ -e $c ]] && { cudnn=$c; break; }
  done
  if [[ -z $cudnn ]]; then
    cudnn=$(timeout 30 find / -xdev -name libcudnn.so.9 -print -quit 2> /dev/null)
  fi
fi
if [[ -n $cudnn ]]; then
  export FG_CUDNN_LIBRARY=$cudnn
  # Its folder (cuDNN's engine libraries); in a Python wheel layout (.../nvidia/cudnn/lib) also
  # the other NVIDIA wheels' lib folders beside it (cuBLAS, NVRTC: cuDNN's engines load them).
  libdir=$(cd "$(dirname "$cudnn")" && pwd)
  extra=$libdir
  if [[ $libdir == */nvidia/cudnn/lib ]]; then
    for d in "${libdir%/cudnn/lib}"/*/lib; do [[ -d $d && $d != "$libdir" ]] && extra+=":$d"; done
  fi
  export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$extra
  [[ ${#loader[@]} -gt 0 ]] && loader[2]="${loader[2]}:$extra"
  say "cuDNN: $cudnn (library path + $extra)"
else
  say "cuDNN: SKIPPED: no libcudnn.so.9 on this machine, and the bundle does not carry cuDNN (its"
  say "       libraries are ~400 MB, over the bundle's budget): the cuDNN steps report skipped"
fi

# Where each binary's libraries resolve (everything but glibc and the driver must be the bundle's).
section "libraries"
for b in "$here"/bin/*; do
  if [[ ${#loader[@]} -gt 0 ]]; then
    list=$("${loader[@]}" --list "$b" 2>&1)
  else
    list=$(ldd "$b" 2>&1)
  fi
  missing=$(grep -c "not found" <<< "$list")
  say "$(basename "$b"): $(grep -c '=>' <<< "$list") libraries, $missing not found"
  grep '=>' <<< "$list" | sed "s|$here|<bundle>|" >> "$report"
  [[ $missing -gt 0 ]] && { failed=1; summary+=("FAIL libraries of $(basename "$b")"); }
done

# step NAME TIMEOUT_S KIND COMMAND...: KIND gtest or bench. Records PASS / SKIP / FAIL.
step() {
  local name=$1 limit=$2 kind=$3
  shift 3
  local left=$((budget - (SECONDS - start)))
  section "$name"
  if [[ $left -lt 20 ]]; then
    say "SKIP: the run's budget is spent (${left}s left)"
    summary+=("SKIP $name (budget)")
    return
  fi
  [[ $limit -gt $left ]] && limit=$left
  say "\$ $* (timeout ${limit}s)"
  local log=$out/step.log t0=$SECONDS rc
  timeout -k 5 "$limit" "${loader[@]}" "$@" > "$log" 2>&1
  rc=$?
  cat "$log" >> "$report"
  local verdict
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    verdict="FAIL (timed out after ${limit}s)"
  elif [[ $kind == bench && $rc -eq 77 ]]; then
    verdict="SKIP (exit 77: $(grep -m1 -i 'no CUDA device' "$log"))"
  elif [[ $rc -ne 0 ]]; then
    verdict="FAIL (exit $rc)"
  elif [[ $kind == gtest ]]; then
    local ran skipped
    ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\? from .* ran\..*/\1/p' "$log" | tail -1)
    skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\?, listed below:.*/\1/p' "$log" | tail -1)
    if [[ ${skipped:-0} -gt 0 ]]; then
      verdict="PASS ${ran:-?} tests, of which ${skipped} SKIPPED: $(grep -m1 -o 'no CUDA device[^"]*' "$log" | head -c 160)"
      [[ ${skipped} -eq ${ran:-0} ]] && verdict="SKIP (all ${skipped} skipped)"
    else
      verdict="PASS (${ran:-?} tests)"
    fi
  else
    verdict="PASS"
  fi
  if [[ $kind == bench && $verdict == PASS ]]; then
    while IFS= read -r line; do figures+=("$line"); done < <(
      grep -E '^(device:|cuda backend:|model |blazeface|facemesh|iris|emotion|antispoof|liveness|cudnn |stgraph_cuda_bench:|render_cuda_bench:|  (fmt|case|rgb|nv12|i420|render|warp) )' "$log")
  fi
  say "--> $verdict  [$((SECONDS - t0))s]"
  summary+=("$verdict  $name  [$((SECONDS - t0))s]")
  [[ $verdict == FAIL* ]] && failed=1
  rm -f "$log"
}

bin=$here/bin
step "cuda_vitals_gpu_test" 90 gtest "$bin/cuda_vitals_gpu_test"
step "cuda_render_gpu_test" 90 gtest "$bin/cuda_render_gpu_test"
FG_CUDNN=off step "cuda_nn_gpu_test, own kernels (FG_CUDNN=off)" 150 gtest "$bin/cuda_nn_gpu_test" --gtest_filter=-*Cudnn*
if [[ -n $cudnn ]]; then
  step "cuda_nn_gpu_test, cuDNN (auto, and the forced-cuDNN tests)" 150 gtest "$bin/cuda_nn_gpu_test"
else
  section "cuda_nn_gpu_test, cuDNN"; say "--> SKIP (no cuDNN on this machine)"; summary+=("SKIP cuda_nn_gpu_test with cuDNN (no libcudnn.so.9)")
fi
FG_CUDNN=off step "cuda_nn_bench, own kernels, batch 1 (6 models) and FaceMesh batch 64, CPU in the same run" 90 bench \
  "$bin/cuda_nn_bench" --runs=300 --batch=64 --cpu=xnnpack
if [[ -n $cudnn ]]; then
  step "cuda_nn_bench, cuDNN auto: per-layer own vs cuDNN, then the same timings" 90 bench \
    "$bin/cuda_nn_bench" --runs=300 --batch=64 --cpu=none --cudnn_report
else
  section "cuda_nn_bench with cuDNN"; say "--> SKIP (no cuDNN on this machine)"; summary+=("SKIP cuda_nn_bench with cuDNN (no libcudnn.so.9)")
fi
step "stgraph_cuda_bench (CPU sampler vs the CUDA sampler, 1/4/16 faces)" 60 bench "$bin/stgraph_cuda_bench" --frames=200
step "render_cuda_bench (CPU vs CUDA renderer and warp)" 60 bench "$bin/render_cuda_bench" --frames=200

section "figures (each benchmark's result lines, from above)"
for f in "${figures[@]}"; do say "$f"; done
section "summary (total $((SECONDS - start))s)"
for s in "${summary[@]}"; do say "$s"; done
say "RESULT: $([[ $failed -eq 0 ]] && echo OK || echo FAILED)"
exit $failed
