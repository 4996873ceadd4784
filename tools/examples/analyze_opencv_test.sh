#!/usr/bin/env bash
# examples.analyze_opencv: facegraph-analyze-opencv on 10 s of generated video (facesynthsrc:
# the astronaut with a 72 bpm pulse, 320x240, 30 fps) written as an MJPEG AVI (JPEG quality
# 95), which OpenCV's videoio reads through its FFMPEG backend (or its own MJPEG reader).
# Passes when OpenCV delivers all 300 frames and every one is analysed with no result lost
# from the queue, a face is in >= 95 % of them with one track id, an emotion label arrives,
# and the heart rate at the end is within 3 bpm of 72 (the source's truth). Bad input (a
# missing file, a file that is not video, a camera that cannot be opened, a bad option) is an
# error naming it, with a non-zero exit.
#   analyze_opencv_test.sh PROGRAM GST_LAUNCH PLUGIN_DIR
set -euo pipefail
prog=$1 launch=$2 plugins=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
GST_PLUGIN_PATH=$plugins "$launch" -q facesynthsrc num-buffers=300 heart-rate=72 \
  ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 \
  ! jpegenc quality=95 ! avimux ! filesink location="$dir/in.avi"
out=$("$prog" "$dir/in.avi")
echo "$out" | head -4
echo "$out" | tail -3
summary=$(echo "$out" | grep '^summary: ')
get() { echo "$summary" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
fail=0
[[ $(get frames) == 300 ]] || { echo "FAIL: OpenCV read $(get frames) frames (want 300)"; fail=1; }
[[ $(get analysed) == 300 && $(get results_dropped) == 0 ]] \
  || { echo "FAIL: $(get analysed) analysed, $(get results_dropped) results dropped (want 300, 0)"; fail=1; }
awk -v f="$(get with_face)" 'BEGIN { exit !(f >= 285) }' || { echo "FAIL: a face in $(get with_face) frames (want >= 285, 95 %)"; fail=1; }
[[ $(get ids) == 1 ]] || { echo "FAIL: $(get ids) track ids (want 1)"; fail=1; }
[[ $(get emotion) != - ]] || { echo "FAIL: no emotion label"; fail=1; }
awk -v b="$(get bpm)" 'BEGIN { exit !(b >= 69 && b <= 75) }' || { echo "FAIL: heart rate $(get bpm), want 72 +- 3"; fail=1; }
# Once a second of video: 10 "t=" lines, each with the face's id, emotion and heart rate.
[[ $(echo "$out" | grep -c '^t=') == 10 ]] || { echo "FAIL: not one line a second"; fail=1; }
echo "$out" | grep -q '^  id=[0-9]* emotion=.* bpm=[0-9.]* (confidence [0-9.]*)$' \
  || { echo "FAIL: no per-face line with id, emotion and heart rate"; fail=1; }

# Bad input: a clear error naming the cause, exit status 1 (2 for usage), and quickly.
expect_error() {  # expect_error STATUS PATTERN ARGS...
  local want=$1 pattern=$2 rc=0
  shift 2
  timeout 60 "$prog" "$@" >/dev/null 2>"$dir/err" || rc=$?
  if [[ $rc != "$want" ]]; then echo "FAIL: '$*' exited $rc (want $want)"; fail=1; fi
  grep -q -- "$pattern" "$dir/err" || { echo "FAIL: '$*': error does not say '$pattern':"; cat "$dir/err"; fail=1; }
}
expect_error 1 "missing.avi: no such file" "$dir/missing.avi"
echo "not a video" >"$dir/text.avi"
expect_error 1 "text.avi: OpenCV cannot read it as video" "$dir/text.avi"
expect_error 1 "cannot open camera 63" --camera=63
expect_error 2 "usage" --camera=x
expect_error 2 "usage" "$dir/in.avi" --camera=0
exit $fail
