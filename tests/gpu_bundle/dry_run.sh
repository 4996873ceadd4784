#!/usr/bin/env bash
# The GPU bundle's dry run (ctest gpu_bundle_dry_run): builds the bundle from the build tree's
# binaries (tools/gpu-check --no-build), runs its run.sh under `env -i` with only the bundle's
# library path, and checks the one report it writes:
#   - every library each binary links resolves inside the bundle, except glibc and the driver;
#   - every GPU test binary loads and runs: each reports its GPU tests skipped ("no CUDA
#     device"), none failed; each benchmark exits 77 (no device), none crashed;
#   - cuDNN is either found on the machine or reported skipped; the run ends "RESULT: OK".
# On a machine with a GPU the same checks accept PASS where a device was used.
#   dry_run.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1 work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"
mkdir -p "$work/out"
bundle=$work/bundle
"$src/tools/gpu-check" --no-build --build-dir "$build" --out "$bundle"
t0=$SECONDS
rc=0
env -i LD_LIBRARY_PATH="$bundle/lib" OUT="$work/out" "$bundle/run.sh" > "$work/console.txt" 2>&1 || rc=$?
report=$work/out/gpu-report.txt
fail() { echo "gpu_bundle_dry_run: $*" >&2; echo "--- report ($report):" >&2; cat "$report" >&2 || true; exit 1; }
[[ -s $report ]] || fail "run.sh wrote no report (exit $rc); console: $(cat "$work/console.txt")"
echo "run.sh: exit $rc in $((SECONDS - t0))s; report $report"
[[ $rc -eq 0 ]] || fail "run.sh exited $rc"
grep -q '^RESULT: OK$' "$report" || fail "no 'RESULT: OK'"
grep -q 'error while loading shared libraries' "$report" && fail "a binary failed to load"
# Libraries: N libraries, 0 not found, for each of the six binaries; every resolved path is the
# bundle's, or glibc's / the driver's.
[[ $(grep -c ' libraries, 0 not found$' "$report") -eq 6 ]] || fail "a binary has unresolved libraries"
outside=$(grep -E '^\s+\S+ => /' "$report" | grep -v '=> <bundle>/' |
  grep -vE '^\s+(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libresolv\.so\.2|ld-linux-x86-64\.so\.2|libcuda\.so\.1) ' || true)
[[ -z $outside ]] || fail "libraries resolved outside the bundle: $outside"
no_device=$(grep -c 'no CUDA device' "$report" || true)
for t in cuda_vitals_gpu_test cuda_render_gpu_test "cuda_nn_gpu_test, own kernels"; do
  v=$(awk -v t="$t" 'index($0, "=== " t) == 1 {f=1} f && /^--> / {print; exit}' "$report")
  [[ -n $v ]] || fail "no verdict for $t"
  if [[ $no_device -gt 0 ]]; then
    [[ $v == *SKIP* || $v == *SKIPPED* ]] || fail "$t: '$v' (expected its GPU tests skipped without a device)"
  fi
  [[ $v != *FAIL* ]] || fail "$t: $v"
done
for b in "cuda_nn_bench, own kernels" stgraph_cuda_bench render_cuda_bench; do
  v=$(awk -v t="$b" 'index($0, "=== " t) == 1 {f=1} f && /^--> / {print; exit}' "$report")
  [[ -n $v ]] || fail "no verdict for $b"
  if [[ $no_device -gt 0 ]]; then
    [[ $v == "--> SKIP (exit 77"* ]] || fail "$b: '$v' (expected exit 77: no CUDA device)"
  fi
done
grep -qE '^cuDNN: (/|SKIPPED)' "$report" || fail "the report does not say whether cuDNN was found"
grep -E '^(cuDNN:|--> |RESULT)' "$report"
echo "gpu_bundle_dry_run: OK ($(du -sh "$bundle" | cut -f1) bundle)"
