#!/usr/bin/env python3
"""`facegraph serve GRAPH --rtsp PORT/PATH`, pulled with rtspsrc on loopback.

The runner serves tests/serve/serve.gst (the synthetic astronaut, tracked, annotated in
magenta) at rtsp://127.0.0.1:PORT/live. A client (gst-launch-1.0 rtspsrc ! decodebin) takes
15 frames as raw RGB. Checked:
  - the frames arrive (H.264 over RTP from the server, decoded);
  - the overlay is in them: >= 150 magenta pixels per frame (the box outline of a ~90 px face
    is ~350 px), >= 80 % of them within 30 px of the face box that facejson wrote, while the
    source alone (facesynthsrc without the overlay) has < 20 such pixels;
  - the runner ends cleanly on Ctrl-C (130) and reports its frames.
Bad use: a graph with nothing to serve is refused (exit 2, naming faceannotate / name=serve);
a port already in use fails (exit 1, saying so). Loopback only.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

W, H = 320, 240


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def magenta(frame):
    """(x, y) of the pixels that read as the overlay's magenta after H.264."""
    out = []
    for i in range(0, len(frame), 3):
        r, g, b = frame[i], frame[i + 1], frame[i + 2]
        if r > 160 and b > 160 and g < 110:
            p = i // 3
            out.append((p % W, p // W))
    return out


def pull(url, count, work, env):
    raw = os.path.join(work, "pulled.rgb")
    cmd = ["gst-launch-1.0", "-q", "rtspsrc", f"location={url}", "latency=100",
           "!", "decodebin", "!", "videoconvert", "!", "videoscale", "!",
           f"video/x-raw,format=RGB,width={W},height={H}", "!",
           "identity", f"eos-after={count + 1}", "!", "filesink", f"location={raw}"]
    subprocess.run(cmd, env=env, timeout=30, check=True)
    data = open(raw, "rb").read()
    n = len(data) // (W * H * 3)
    return [data[i * W * H * 3:(i + 1) * W * H * 3] for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    for a in ("--runner", "--source-dir", "--plugin-dir", "--work"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    # Its own registry, scanned in-process (as tests/inputs/rtsp_test.py does).
    env = dict(os.environ, FACEGRAPH_PLUGIN_DIR=args.plugin_dir,
               GST_PLUGIN_PATH=args.plugin_dir, FACEGRAPH_OUT=args.work,
               GST_REGISTRY=os.path.join(args.work, "registry.bin"), GST_REGISTRY_FORK="no")
    graph = os.path.join(args.source_dir, "tests/serve/serve.gst")

    # The control: the source's own pixels hold (almost) no magenta.
    src_raw = os.path.join(args.work, "source.rgb")
    subprocess.run(["gst-launch-1.0", "-q", "facesynthsrc", "num-buffers=1", "!",
                    f"video/x-raw,width={W},height={H}", "!", "videoconvert", "!",
                    "video/x-raw,format=RGB", "!", "filesink", f"location={src_raw}"],
                   env=env, timeout=30, check=True)
    control = len(magenta(open(src_raw, "rb").read()))
    assert control < 20, f"the source alone has {control} magenta pixels"

    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/live"
    log = open(os.path.join(args.work, "serve.log"), "w")
    proc = subprocess.Popen([args.runner, "serve", graph, "--rtsp", f"{port}/live"],
                            env=env, stderr=log)
    try:
        t0 = time.monotonic()
        while True:  # listening?
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() - t0 < 10, "the RTSP server never listened"
                assert proc.poll() is None, "the runner ended before serving"
                time.sleep(0.1)
        # A client that connects while the server is still bringing its media up can be
        # turned away (EOF on the RTSP connection); a real client retries, so does the test,
        # at most twice, saying so. The runner's log is shown when all three fail.
        for attempt in range(3):
            try:
                frames = pull(url, 15, args.work, env)
                break
            except subprocess.CalledProcessError:
                print(f"pull attempt {attempt + 1} failed; runner alive: {proc.poll() is None}")
                if attempt == 2 or proc.poll() is not None:
                    log.flush()
                    print(open(os.path.join(args.work, "serve.log")).read())
                    raise
                time.sleep(1)
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=20)
        log.close()
    runner_log = open(os.path.join(args.work, "serve.log")).read()
    assert rc == 130, f"runner exit {rc}\n{runner_log}"
    assert "serving the annotated video at " + url in runner_log, runner_log
    assert len(frames) >= 10, f"{len(frames)} frames pulled"

    boxes = []
    for line in open(os.path.join(args.work, "serve.jsonl")):
        j = json.loads(line)
        if "faces" in j and j["faces"]:
            boxes.append(j["faces"][0]["box"])
    assert boxes, "facejson saw no face"
    x, y, w, h = (sorted(b[k] for b in boxes)[len(boxes) // 2] for k in range(4))
    margin = 30
    for i, f in enumerate(frames[-10:]):
        px = magenta(f)
        near = sum(1 for (u, v) in px
                   if x - margin <= u <= x + w + margin and y - margin <= v <= y + h + margin)
        print(f"frame {i}: {len(px)} magenta pixels, {near} near the face box "
              f"[{x:.0f},{y:.0f},{w:.0f},{h:.0f}]")
        assert len(px) >= 150, f"frame {i}: only {len(px)} overlay pixels"
        assert near >= 0.8 * len(px), f"frame {i}: overlay away from the face"

    # Bad use.
    bare = os.path.join(args.work, "bare.gst")
    open(bare, "w").write("facesynthsrc num-buffers=5 ! fakesink\n")
    r = subprocess.run([args.runner, "serve", bare, "--rtsp", f"{free_port()}/live"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "no faceannotate" in r.stderr, (r.returncode, r.stderr)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        p = busy.getsockname()[1]
        r = subprocess.run([args.runner, "serve", graph, "--rtsp", f"{p}/live"], env=env,
                           capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "cannot listen" in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([args.runner, "serve", graph, "--rtsp", "live"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "PORT/PATH" in r.stderr, (r.returncode, r.stderr)
    print("ok")


if __name__ == "__main__":
    main()
