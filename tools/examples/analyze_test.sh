#!/usr/bin/env bash
# examples.analyze: facegraph-analyze on 10 s of generated video (facesynthsrc: the astronaut
# with a 72 bpm pulse, 320x240 I420, 30 fps). Passes when every frame is analysed, a face is
# in >= 95 % of them with one track id, an emotion label arrives, and the heart rate at the
# end is within 5 bpm of 72 (the synthetic source's truth; tolerance as the vitals tests').
#   analyze_test.sh PROGRAM GST_LAUNCH PLUGIN_DIR
set -euo pipefail
prog=$1 launch=$2 plugins=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GST_PLUGIN_PATH=$plugins "$launch" -q facesynthsrc num-buffers=300 heart-rate=72 \
  ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! filesink location="$dir/in.i420"
out=$("$prog" "$dir/in.i420" --size=320x240 --fps=30)
echo "$out" | tail -3
summary=$(echo "$out" | grep '^summary: ')
get() { echo "$summary" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
fail=0
[[ $(get frames) == 300 && $(get analysed) == 300 ]] || { echo "FAIL: not every frame analysed"; fail=1; }
awk -v f="$(get with_face)" 'BEGIN { exit !(f >= 285) }' || { echo "FAIL: a face in < 95 % of frames"; fail=1; }
[[ $(get ids) == 1 ]] || { echo "FAIL: $(get ids) track ids (want 1)"; fail=1; }
[[ $(get emotion) != - ]] || { echo "FAIL: no emotion label"; fail=1; }
awk -v b="$(get bpm)" 'BEGIN { exit !(b >= 67 && b <= 77) }' || { echo "FAIL: heart rate $(get bpm), want 72 +- 5"; fail=1; }
# Bad input is an error that names it.
if "$prog" "$dir/missing.i420" --size=320x240 2>"$dir/err"; then echo "FAIL: a missing file succeeded"; fail=1; fi
grep -q "missing.i420" "$dir/err" || { echo "FAIL: the error does not name the file"; fail=1; }
exit $fail
