#!/usr/bin/env bash
# install.find_package: `cmake --install` (component dev) into a temporary prefix, then a
# consumer project outside the tree (tests/install/consumer) configures with
# find_package(facegraph), builds against the installed headers and library only, and runs
# the embedding API on the astronaut photo. HAVE_OPENCV (1 when the build found OpenCV): the
# package must then offer facegraph::opencv and the consumer must build and run the cv::Mat
# adapter (engine/graph/analyzer_opencv.h) from the installed headers.
#   install_test.sh BUILD_DIR SOURCE_DIR ASTRONAUT_PNG HAVE_OPENCV
set -euo pipefail
build=$1 src=$2 photo=$3 have_opencv=${4:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" --component dev >"$tmp/install.log"
[[ -f "$tmp/prefix/lib/cmake/facegraph/facegraphConfig.cmake" ]] || { echo "FAIL: no package config installed"; exit 1; }
[[ -f "$tmp/prefix/include/facegraph/engine/graph/analyzer.h" ]] || { echo "FAIL: no headers installed"; exit 1; }
[[ -f "$tmp/prefix/include/facegraph/engine/graph/analyzer_opencv.h" ]] || { echo "FAIL: the OpenCV adapter header is not installed"; exit 1; }
[[ -f "$tmp/prefix/lib/cmake/facegraph/facegraphOpenCV.cmake" ]] || { echo "FAIL: the package cannot look for OpenCV"; exit 1; }
# The consumer sees the install prefix only: a copy of its sources outside the tree.
cp -r "$src/tests/install/consumer" "$tmp/consumer"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$tmp/consumer" -B "$tmp/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log" || { cat "$tmp/configure.log"; echo "FAIL: configure"; exit 1; }
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; echo "FAIL: build"; exit 1; }
# The installed headers, not the tree's, were used.
if grep -rq -- "-I$src" "$tmp/build" 2>/dev/null; then echo "FAIL: the consumer used the source tree"; exit 1; fi
out=$("$tmp/build/consumer" "$photo") || { echo "$out"; echo "FAIL: the consumer"; exit 1; }
echo "$out"
if [[ $have_opencv == 1 ]]; then
  grep -q "(opencv adapter)" <<<"$out" || { echo "FAIL: OpenCV is here but the consumer did not get facegraph::opencv"; exit 1; }
fi
