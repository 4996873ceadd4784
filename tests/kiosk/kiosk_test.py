#!/usr/bin/env python3
"""`facegraph kiosk CONFIG` unattended: camera unplugged and replugged, a stalled camera, systemd
notifications, /healthz and /metrics, JSON rotation, privacy refusal.

The camera is another process: gst-launch-1.0 facesynthsrc (one face, live, 30 fps) into shmsink.
The kiosk reads it with shmsrc, the way a kiosk reads a camera: when the writer dies the socket
closes (shmsrc: "Control socket has closed", like v4l2src's read error on unplug) and the
socket file is removed (like /dev/videoN disappearing: opening it fails until it comes back).
There is no v4l2loopback on the test machines, so this stands in for a USB camera.

systemd is faked: NOTIFY_SOCKET points at a unix datagram socket of this test and
WATCHDOG_USEC asks for keep-alives; no systemd runs.

Checked (targets from issue 17, tolerances stated):
  - READY=1 arrives; WATCHDOG=1 arrives at least twice a second while running; STOPPING=1 on
    SIGTERM, and the runner exits 130 (an orderly stop) within 6 s.
  - /healthz is 200 while frames flow, 503 while the camera is unplugged; /metrics has the
    frame counter, fps, per-element latency quantiles (facetrack), drops, faces (1), CPU,
    RSS, threads, fds; an unknown path is 404.
  - unplug -> replug: the first frame after the camera's socket reappears is written within
    2.0 s (the issue's target).
  - a camera that stops sending (SIGSTOP) is restarted by the watchdog (stalls >= 1) and frames
    come back after SIGCONT.
  - JSON rotates: faces.jsonl.1 exists, at most json-max-files rotated files, every file at most
    json-max-size bytes unless it holds a single line, every line is JSON.
  - privacy = on refuses a graph that could write frames (an encoder to a file), exit 2,
    naming the element; a config error names the file and line, exit 2 (page = on with
    privacy = on too).
  - page = on: the same server serves /healthz, /metrics and the live page (/, /stats.json with
    frames counted, /frame.jpg a JPEG from the kiosk's pipeline); SIGTERM still exits 130.
Loopback only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=30/1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, step=0.05):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def http(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None, ""


def metric(text, name):
    m = re.search(r"^" + re.escape(name) + r" ([-0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else None


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    for a in ("--runner", "--plugin-dir", "--work"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    work = args.work
    env = dict(os.environ, GST_PLUGIN_PATH=args.plugin_dir,
               GST_REGISTRY=os.path.join(work, "registry.bin"), GST_REGISTRY_FORK="no")
    cam = os.path.join(work, "cam")
    jsonl = os.path.join(work, "faces.jsonl")
    port = free_port()

    # The camera: shmsink ends its process when a reader goes away abruptly (the kiosk tearing
    # down a stalled pipeline), so like a camera that is always there until unplugged it runs in
    # a loop; unplugging kills the loop's whole process group.
    def start_camera():
        launch = (f"exec gst-launch-1.0 -q facesynthsrc is-live=true ! {CAPS} ! shmsink "
                  f"socket-path={cam} wait-for-connection=false shm-size=4000000 sync=true")
        return subprocess.Popen(["bash", "-c", f"while true; do ( {launch} ); sleep 0.1; done"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def signal_camera(camera, sig):
        try:
            os.killpg(camera.pid, sig)
        except ProcessLookupError:
            pass

    # ---- config errors and privacy refusal (no camera needed) --------------------------------
    bad = os.path.join(work, "bad.conf")
    with open(bad, "w") as f:
        f.write("# a comment\ndisplay = none\n\njson-max-size = 12Q\n")
    r = subprocess.run([args.runner, "kiosk", bad], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{bad}:4: json-max-size" in r.stderr, (r.returncode, r.stderr)
    with open(bad, "w") as f:
        f.write("display = none\ncolour = red\n")
    r = subprocess.run([args.runner, "kiosk", bad], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{bad}:2: unknown key \"colour\"" in r.stderr, r.stderr
    with open(bad, "w") as f:
        f.write("privacy = on\npage = on\n")
    r = subprocess.run([args.runner, "kiosk", bad], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and f"{bad}:2: page: the live page sends the video" in r.stderr, r.stderr
    priv = os.path.join(work, "privacy.conf")
    with open(priv, "w") as f:
        f.write(f"source = facesynthsrc num-buffers=5 ! {CAPS}\nanalysis = track\nprivacy = on\n"
                f"metrics = off\ndisplay-sink = jpegenc name=snap ! filesink location={work}/x.jpg\n")
    r = subprocess.run([args.runner, "kiosk", priv], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and ("snap (jpegenc) is an encoder" in r.stderr or
                                  "(filesink) is a sink that is not a display" in r.stderr), (r.returncode, r.stderr)
    assert not os.path.exists(os.path.join(work, "x.jpg")), "privacy mode wrote a frame"
    print("config errors and privacy refusal: ok")

    # ---- the unattended run -------------------------------------------------------------------
    conf = os.path.join(work, "kiosk.conf")
    with open(conf, "w") as f:
        f.write(f"""# kiosk_test.py
source = shmsrc socket-path={cam} is-live=true do-timestamp=true ! {CAPS}
analysis = track
annotate = off
display = none
json = {jsonl}
json-max-size = 64K
json-max-files = 3
privacy = on
blur-faces = on
stall-timeout = 1.5
metrics = 127.0.0.1:{port}
""")
    notify_path = os.path.join(work, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(0.1)
    messages = []  # (monotonic time, text)

    def drain():
        while True:
            try:
                messages.append((time.monotonic(), notify.recv(4096).decode()))
            except socket.timeout:
                return

    camera = start_camera()
    wait_for(lambda: os.path.exists(cam), 20, "the camera's socket")
    log = open(os.path.join(work, "kiosk.log"), "w+")
    kenv = dict(env, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="2000000")
    kiosk = subprocess.Popen([args.runner, "kiosk", conf], env=kenv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (drain(), any("READY=1" in m for _, m in messages))[1], 30, "READY=1")
        wait_for(lambda: http(port, "/healthz")[0] == 200, 60, "/healthz 200")
        wait_for(lambda: metric(http(port, "/metrics")[1], "facegraph_faces") == 1, 30, "a face in /metrics")
        t0 = time.monotonic()
        time.sleep(1.5)
        drain()
        dogs = [t for t, m in messages if "WATCHDOG=1" in m and t >= t0]
        assert len(dogs) >= 2, f"{len(dogs)} WATCHDOG=1 in 1.5 s (want >= 2)"
        code, text = http(port, "/metrics")
        assert code == 200, code
        for name in ("facegraph_frames_total", "facegraph_fps", "facegraph_dropped_frames_total",
                     "process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_threads", "process_open_fds", "facegraph_faces_blurred_total"):
            assert metric(text, name) is not None, f"{name} missing from /metrics"
        assert metric(text, "facegraph_frames_total") > 0
        assert metric(text, "process_resident_memory_bytes") > 1e6
        assert metric(text, "facegraph_faces_blurred_total") > 0, "blur-faces blurred nothing"
        assert re.search(r'^facegraph_element_latency_seconds\{element="facetrack\d+",quantile="0.99"\} ', text, re.M), \
            "no facetrack latency quantile in /metrics"
        assert http(port, "/nope")[0] == 404
        print("notify, health, metrics: ok")

        # Unplug: the writer dies and its socket goes away.
        signal_camera(camera, signal.SIGKILL)
        camera.wait()
        if os.path.exists(cam):
            os.unlink(cam)
        wait_for(lambda: http(port, "/healthz")[0] == 503, 10, "/healthz 503 while unplugged")
        time.sleep(1.0)
        # Replug: the socket reappears; the first frame after it must be written within 2 s.
        before = count_lines(jsonl)
        rotated_before = count_lines(jsonl + ".1")
        camera = start_camera()
        wait_for(lambda: os.path.exists(cam), 20, "the camera's socket again", step=0.01)
        t_plug = time.monotonic()
        wait_for(lambda: count_lines(jsonl) != before or count_lines(jsonl + ".1") != rotated_before,
                 10, "a frame after the replug", step=0.02)
        resumed = time.monotonic() - t_plug
        print(f"replug -> first frame written: {resumed:.2f} s (target <= 2.0 s)")
        assert resumed <= 2.0, f"resumed after {resumed:.2f} s (target 2.0 s)"
        wait_for(lambda: http(port, "/healthz")[0] == 200, 10, "/healthz 200 after the replug")

        # A camera that hangs: the watchdog rebuilds the pipeline.
        signal_camera(camera, signal.SIGSTOP)
        wait_for(lambda: (metric(http(port, "/metrics")[1], "facegraph_stalls_total") or 0) >= 1, 15,
                 "the watchdog to see the stall")
        signal_camera(camera, signal.SIGCONT)
        frames = lambda: metric(http(port, "/metrics")[1], "facegraph_frames_total") or 0
        n = frames()
        wait_for(lambda: frames() > n + 5, 20, "frames after the stalled camera continued")
        print("unplug/replug and stall: ok")

        # Stop as systemd does.
        drain()
        kiosk.send_signal(signal.SIGTERM)
        rc = kiosk.wait(timeout=6)
        drain()
        assert rc == 130, f"exit status {rc} after SIGTERM (want 130)"
        assert any("STOPPING=1" in m for _, m in messages), "no STOPPING=1"
        print("SIGTERM -> STOPPING=1, exit 130: ok")
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
        signal_camera(camera, signal.SIGCONT)
        signal_camera(camera, signal.SIGKILL)
        log.seek(0)
        sys.stdout.write(log.read()[-4000:])

    # Rotation.
    files = [jsonl] + [f"{jsonl}.{k}" for k in range(1, 10) if os.path.exists(f"{jsonl}.{k}")]
    assert os.path.exists(jsonl + ".1"), "no rotation happened"
    assert not os.path.exists(jsonl + ".4"), "more than json-max-files rotated files"
    for path in files:
        with open(path) as f:
            lines = f.read().splitlines()
        size = os.path.getsize(path)
        assert size <= 64 * 1024 or len(lines) == 1, f"{path}: {size} bytes in {len(lines)} lines"
        for line in lines:
            json.loads(line)
    print(f"rotation: ok ({len(files)} files)")

    # ---- page = on: the live page on the kiosk's server, beside /healthz and /metrics --------
    page_port = free_port()
    page_conf = os.path.join(work, "page.conf")
    with open(page_conf, "w") as f:
        f.write(f"source = facesynthsrc is-live=true ! {CAPS}\nanalysis = track\ndisplay = none\n"
                f"metrics = 127.0.0.1:{page_port}\npage = on\n")
    log = open(os.path.join(work, "kiosk-page.log"), "w+")
    kiosk = subprocess.Popen([args.runner, "kiosk", page_conf], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http(page_port, "/healthz")[0] == 200, 60, "/healthz 200 with the page on")
        assert (metric(http(page_port, "/metrics")[1], "facegraph_frames_total") or 0) > 0
        code, html = http(page_port, "/")
        assert code == 200 and "<title>facegraph live</title>" in html, (code, html[:200])
        wait_for(lambda: json.loads(http(page_port, "/stats.json")[1] or "{}").get("frames", 0) > 0, 10,
                 "frames in the page's stats")
        def frame():  # 503 "no frame yet" until the branch has encoded one
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{page_port}/frame.jpg", timeout=5) as r:
                    return r.read()
            except urllib.error.HTTPError:
                return None
        jpeg = wait_for(frame, 15, "a frame from /frame.jpg")
        assert jpeg[:2] == b"\xff\xd8", "/frame.jpg is not a JPEG"
        kiosk.send_signal(signal.SIGTERM)
        rc = kiosk.wait(timeout=6)
        assert rc == 130, f"exit status {rc} after SIGTERM with the page on (want 130)"
        log.seek(0)
        assert "live page:" in log.read(), "no server counters at the end"
        print("page = on: /healthz, /metrics, the page, its stats and a frame: ok")
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            log.seek(0)
            sys.stdout.write(log.read()[-4000:])
    print("kiosk_test: all passed")


if __name__ == "__main__":
    main()
