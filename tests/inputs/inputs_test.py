#!/usr/bin/env python3
"""Real inputs through the real graphs: every common video format, and odd files.

Each case makes its input at test time from the project's own source (facesynthsrc: the
public-domain astronaut photo with a known 72 bpm pulse) with Debian's encoders, runs the
graph files through the runner (build/tools/facegraph) and checks what a user would check:

  codec:NAME   graphs/file-track.gst and graphs/file-vitals.gst on a 12 s 640x480 30 fps clip
               in that format: frames analysed >= 95 % of those encoded, a face in >= 95 % of
               the frame lines, one track id, and the heart rate within 3 bpm of 72 (median
               of the per-frame estimates over the last 4 s). Encoders run at high quality:
               the synthetic pulse is at most 1 grey level, as on real skin.
  odd:NAME     a file a user may well have: a clear error (exit 1, the cause named) or a
               correct result (exit 0, faces found), never a hang, a crash or a "success"
               with no frames.

Usage: inputs_test.py --runner R --source-dir S --plugin-dir P --work W CASE
Exit 0 on success; on failure the reason and the runner's output are printed.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

FPS = 30
SECONDS = 12
FRAMES = FPS * SECONDS
TRUE_BPM = 72.0
RUN_TIMEOUT_S = 240  # a hang is a failure, not a stuck CI

# name -> (file suffix, encoder + muxer pipeline tail)
CODECS = {
    "h264-mp4": (".mp4", "x264enc pass=quant quantizer=12 speed-preset=ultrafast ! h264parse ! mp4mux"),
    "h264-mkv": (".mkv", "x264enc pass=quant quantizer=12 speed-preset=ultrafast ! h264parse ! matroskamux"),
    "h265-mkv": (".mkv", "x265enc speed-preset=ultrafast option-string=qp=8:aq-mode=0:psy-rd=0:no-sao=1:ipratio=1:pbratio=1 ! h265parse ! matroskamux"),
    "mpeg4-avi": (".avi", "avenc_mpeg4 bitrate=12000000 ! mpeg4videoparse ! avimux"),
    "vp8-webm": (".webm", "vp8enc target-bitrate=12000000 deadline=1 cpu-used=16 ! webmmux"),
    "vp9-webm": (".webm", "vp9enc target-bitrate=12000000 deadline=1 cpu-used=8 ! webmmux"),
    "mjpeg-avi": (".avi", "jpegenc quality=92 ! avimux"),
}


class Failure(Exception):
    pass


def sh(args, env, timeout=RUN_TIMEOUT_S):
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"timed out after {timeout} s (a hang): {' '.join(args)}\n{e.output or ''}")
    return p.returncode, p.stdout, time.monotonic() - t0


def make_clip(env, path, tail, frames=FRAMES, source_extra="", pre=""):
    """facesynthsrc -> I420 -> encoder/muxer -> file."""
    desc = (f"facesynthsrc num-buffers={frames} heart-rate={TRUE_BPM:g} {source_extra} "
            f"! video/x-raw,width=640,height=480,framerate={FPS}/1 ! videoconvert "
            f"! video/x-raw,format=I420 {pre} ! {tail} ! filesink location={path}")
    rc, out, _ = sh(["gst-launch-1.0", "-q", "-e"] + desc.split(), env)
    if rc != 0 or not os.path.exists(path) or os.path.getsize(path) == 0:
        raise Failure(f"could not make the test clip {path} (rc {rc}):\n{out}")


def run_graph(args, env, graph, inp, out_dir):
    e = dict(env, FACEGRAPH_INPUT=inp, FACEGRAPH_OUT=out_dir)
    return sh([args.runner, "run", os.path.join(args.source_dir, "graphs", graph)], e)


def frame_lines(path):
    lines = []
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            if "summary" not in j:
                lines.append(j)
    return lines


def check_tracking(lines, frames_encoded, what, min_share=0.95):
    if len(lines) < min_share * frames_encoded:
        raise Failure(f"{what}: {len(lines)} frames analysed of {frames_encoded} encoded "
                      f"(target >= {min_share:.0%})")
    with_face = sum(1 for j in lines if j.get("faces"))
    ids = {f["id"] for j in lines for f in j.get("faces", [])}
    if with_face < min_share * len(lines):
        raise Failure(f"{what}: a face in {with_face} of {len(lines)} frames (target >= {min_share:.0%})")
    if len(ids) != 1:
        raise Failure(f"{what}: {len(ids)} track ids {sorted(ids)} (target: one)")
    return with_face, ids


def check_bpm(lines, what, tol=3.0):
    last_pts = max(j["pts"] for j in lines)
    bpms = [f["vitals"]["bpm"] for j in lines if j["pts"] >= last_pts - 4e9
            for f in j.get("faces", []) if "vitals" in f]
    if not bpms:
        raise Failure(f"{what}: no heart rate in the last 4 s")
    bpm = statistics.median(bpms)
    if abs(bpm - TRUE_BPM) > tol:
        raise Failure(f"{what}: heart rate {bpm:.1f} bpm, true {TRUE_BPM:g} (target within {tol:g})")
    return bpm


def case_codec(args, env, name):
    suffix, tail = CODECS[name]
    clip = os.path.join(args.work, "clip" + suffix)
    make_clip(env, clip, tail)
    summary = []
    for graph, jsonl in (("file-track.gst", "track.jsonl"), ("file-vitals.gst", "vitals.jsonl")):
        out = os.path.join(args.work, graph.split(".")[0])
        rc, log, secs = run_graph(args, env, graph, clip, out)
        if rc != 0:
            raise Failure(f"{graph} on {name}: exit {rc}\n{log}")
        lines = frame_lines(os.path.join(out, jsonl))
        with_face, _ = check_tracking(lines, FRAMES, f"{graph} on {name}")
        summary.append(f"{graph}: {len(lines)} frames, face in {with_face}, {secs:.1f} s")
        if graph == "file-vitals.gst":
            summary.append(f"heart rate {check_bpm(lines, f'{graph} on {name}'):.1f} bpm (true 72)")
    print(f"{name} ({os.path.getsize(clip) // 1024} KiB): " + "; ".join(summary))


def expect_error(rc, log, what, *needles):
    if rc != 1:
        raise Failure(f"{what}: exit {rc}, expected 1 (a clear error)\n{log}")
    low = log.lower()
    for n in needles:
        if n.lower() not in low:
            raise Failure(f"{what}: the error does not say {n!r}\n{log}")
    print(f"{what}: refused as expected:\n  " + "\n  ".join(
        l for l in log.splitlines() if "error" in l.lower() or "facegraph:" in l)[:1500])


def case_odd(args, env, name):
    h264 = CODECS["h264-mp4"][1]
    work = args.work
    if name == "empty":
        path = os.path.join(work, "empty.mp4")
        open(path, "wb").close()
        rc, log, _ = run_graph(args, env, "file-track.gst", path, os.path.join(work, "out"))
        expect_error(rc, log, "zero-length file", "error")
    elif name == "truncated":
        # Cut mid-frame. A plain MP4 (index at the end) cannot be played at all: an error. A
        # fragmented ("broadcast") MP4 or an MKV plays up to the cut: frames, faces, exit 0.
        for label, tail, playable in (
                ("mp4", h264, False),
                ("fragmented mp4", h264.replace("mp4mux", "mp4mux fragment-duration=500"), True),
                ("mkv", CODECS["h264-mkv"][1], True)):
            full = os.path.join(work, "full.bin")
            make_clip(env, full, tail, frames=90)
            data = open(full, "rb").read()
            cut = os.path.join(work, "cut-" + label.replace(" ", "-"))
            open(cut, "wb").write(data[: len(data) * 6 // 10 + 7])
            out = os.path.join(work, "out-" + label.replace(" ", "-"))
            rc, log, _ = run_graph(args, env, "file-track.gst", cut, out)
            if playable:
                if rc != 0:
                    raise Failure(f"truncated {label}: exit {rc}, expected the frames before the cut\n{log}")
                lines = frame_lines(os.path.join(out, "track.jsonl"))
                check_tracking(lines, 30, f"truncated {label}")
                print(f"truncated {label}: {len(lines)} frames before the cut analysed, exit 0")
            else:
                expect_error(rc, log, f"truncated {label}", "error")
    elif name == "wrong-extension":
        path = os.path.join(work, "really-webm.mp4")
        make_clip(env, path, CODECS["vp8-webm"][1], frames=60)
        out = os.path.join(work, "out")
        rc, log, _ = run_graph(args, env, "file-track.gst", path, out)
        if rc != 0:
            raise Failure(f"a WebM named .mp4: exit {rc} (the content decides, not the name)\n{log}")
        check_tracking(frame_lines(os.path.join(out, "track.jsonl")), 60, "a WebM named .mp4")
        print("a WebM named .mp4: played by its content")
    elif name == "audio-only":
        path = os.path.join(work, "audio.ogg")
        rc, log, _ = sh(["gst-launch-1.0", "-q", "audiotestsrc", "num-buffers=100", "!",
                         "audioconvert", "!", "vorbisenc", "!", "oggmux", "!", "filesink",
                         f"location={path}"], env)
        if rc != 0:
            raise Failure(f"could not make the audio file\n{log}")
        rc, log, _ = run_graph(args, env, "file-track.gst", path, os.path.join(work, "out"))
        expect_error(rc, log, "an audio-only file", "no video stream", "audio/x-raw")
    elif name == "not-media":
        path = os.path.join(work, "notes.mp4")
        open(path, "w").write("this is a text file, not a video\n" * 50)
        rc, log, _ = run_graph(args, env, "file-track.gst", path, os.path.join(work, "out"))
        expect_error(rc, log, "a text file named .mp4", "error")
    elif name == "vfr":
        # Variable frame rate: timestamps jittered by 0.15 frame and 5 % of the frames missing, in MKV
        # (which keeps each frame's own timestamp).
        path = os.path.join(work, "vfr.mkv")
        make_clip(env, path, CODECS["h264-mkv"][1], source_extra="jitter=0.15 drop=0.05 seed=3")
        out = os.path.join(work, "out")
        rc, log, _ = run_graph(args, env, "file-vitals.gst", path, out)
        if rc != 0:
            raise Failure(f"variable frame rate: exit {rc}\n{log}")
        lines = frame_lines(os.path.join(out, "vitals.jsonl"))
        check_tracking(lines, FRAMES * 0.95, "variable frame rate")
        # Correct output for VFR: each frame keeps its own time (increasing, irregular, the
        # missing frames visible as longer intervals), and the vitals run on them.
        pts = [j["pts"] for j in lines]
        deltas = [(b - a) / 1e9 * FPS for a, b in zip(pts, pts[1:])]
        if min(deltas) <= 0:
            raise Failure("variable frame rate: timestamps do not increase")
        if statistics.pstdev(deltas) < 0.1 or max(deltas) < 1.5:
            raise Failure(f"variable frame rate: intervals were made regular "
                          f"(sd {statistics.pstdev(deltas):.2f} frame, max {max(deltas):.2f})")
        if not any("vitals" in f for j in lines for f in j.get("faces", [])):
            raise Failure("variable frame rate: no heart rate")
        print(f"variable frame rate: {len(lines)} frames, interval sd {statistics.pstdev(deltas):.2f} "
              f"frame, longest {max(deltas):.2f} frames; heart rate reported")
    elif name == "rotation":
        # A phone video: the picture is stored on its side with a rotate-90 tag. The graphs
        # turn it upright (videoflip video-direction=auto): boxes are in the upright picture.
        path = os.path.join(work, "phone.mp4")
        make_clip(env, path, h264, frames=60,
                  pre="! videoflip method=counterclockwise ! taginject tags=image-orientation=rotate-90")
        out = os.path.join(work, "out")
        rc, log, _ = run_graph(args, env, "file-track.gst", path, out)
        if rc != 0:
            raise Failure(f"rotated phone video: exit {rc}\n{log}")
        lines = frame_lines(os.path.join(out, "track.jsonl"))
        check_tracking(lines, 60, "rotated phone video")
        # Upright 640 wide x 480 high again: the face's eyes are level (roll near 0).
        rolls = [f["pose"]["roll"] for j in lines for f in j["faces"]]
        roll = statistics.median(rolls)
        if abs(roll) > 20:
            raise Failure(f"rotated phone video: head roll {roll:.0f} degrees: the picture was not turned upright")
        xs = [f["box"][0] + f["box"][2] for j in lines for f in j["faces"]]
        print(f"rotated phone video: upright, roll {roll:.1f} degrees, box right edge <= {max(xs):.0f}")
    elif name == "missing-decoder":
        # A machine without gstreamer1.0-libav: a registry of every system plugin but it (and
        # but openh264, plugins-bad's other H.264 decoder).
        sysdir = subprocess.run(["pkg-config", "--variable=pluginsdir", "gstreamer-1.0"],
                                stdout=subprocess.PIPE, text=True).stdout.strip()
        fake = os.path.join(work, "plugins-without-libav")
        os.makedirs(fake, exist_ok=True)
        for f in os.listdir(sysdir):
            if f.endswith(".so") and f not in ("libgstlibav.so", "libgstopenh264.so"):
                os.symlink(os.path.join(sysdir, f), os.path.join(fake, f))
        path = os.path.join(work, "clip.mp4")
        make_clip(env, path, h264, frames=30)
        e = dict(env, GST_PLUGIN_SYSTEM_PATH=fake, GST_REGISTRY=os.path.join(work, "registry.bin"))
        rc, log, _ = run_graph(args, e, "file-track.gst", path, os.path.join(work, "out"))
        expect_error(rc, log, "H.264 without gstreamer1.0-libav", "H.264", "gstreamer1.0-libav")
    else:
        raise Failure(f"unknown case odd:{name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runner", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--plugin-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    env = dict(os.environ, GST_PLUGIN_PATH=args.plugin_dir,
               GST_REGISTRY=os.path.join(args.work, "registry-plugin.bin"), GST_REGISTRY_FORK="no")
    kind, _, name = args.case.partition(":")
    try:
        if kind == "codec":
            case_codec(args, env, name)
        elif kind == "odd":
            case_odd(args, env, name)
        else:
            raise Failure(f"unknown case {args.case}")
    except Failure as f:
        print(f"FAILED {args.case}: {f}", file=sys.stderr)
        return 1
    shutil.rmtree(args.work, ignore_errors=True)  # clips are regenerated each run
    return 0


if __name__ == "__main__":
    sys.exit(main())
