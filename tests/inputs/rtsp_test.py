#!/usr/bin/env python3
"""A network camera that loses packets, then goes away and comes back.

tests/inputs/rtsp_camera serves facesynthsrc (one face) as H.264 over RTSP on 127.0.0.1 and
drops 2 % of its RTP packets. The runner runs graphs/rtsp-track.gst with --reconnect
--stall-timeout=2. After 5 s of frames the server is killed (no EOS, no TEARDOWN: a camera
that lost power), restarted 2 s later on the same port, and the run goes on for 4 s more
before a Ctrl-C. Checked:
  - through the packet loss, before the kill: a face in >= 90 % of the frame lines and one
    track id (a gap is not a restart);
  - the runner noticed the loss of the source by itself, reconnected (>= 1), and the JSON
    went on in the same file after it, the first new line marked "gap": true, with the face
    found again;
  - the counters at the end report the reconnections and RTP packets lost (> 0);
  - nothing crashed: the runner ends with 130 (interrupted) as a Ctrl-C'd live run does.
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def wait_for(pred, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def main():
    ap = argparse.ArgumentParser()
    for a in ("--runner", "--camera", "--source-dir", "--plugin-dir", "--work"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    env = dict(os.environ, GST_PLUGIN_PATH=args.plugin_dir,
               GST_REGISTRY=os.path.join(args.work, "registry.bin"), GST_REGISTRY_FORK="no")
    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/cam"
    jsonl = os.path.join(args.work, "out", "track.jsonl")

    def start_camera(seed):
        p = subprocess.Popen([args.camera, str(port), "cam", "0.02", str(seed)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = p.stdout.readline()
        if not line.startswith("ready"):
            raise AssertionError(f"the camera did not start: {line}{p.stdout.read()}")
        return p

    camera = start_camera(1)
    runner_log = open(os.path.join(args.work, "runner.log"), "w+")
    runner = subprocess.Popen(
        [args.runner, "run", os.path.join(args.source_dir, "graphs", "rtsp-track.gst"),
         "--reconnect", "--stall-timeout=2"],
        env=dict(env, FACEGRAPH_INPUT=url, FACEGRAPH_OUT=os.path.join(args.work, "out")),
        stdout=runner_log, stderr=subprocess.STDOUT)
    ok = False
    try:
        wait_for(lambda: len(lines_of(jsonl)) >= 150, 60, "150 frame lines (5 s)")
        before = lines_of(jsonl)
        camera.kill()  # a camera that lost power: no TEARDOWN, no EOS
        camera.wait()
        time.sleep(2)
        camera = start_camera(2)
        wait_for(lambda: len(lines_of(jsonl)) >= len(before) + 120 and
                 any(j.get("faces") for j in lines_of(jsonl)[len(before) + 60:]), 90,
                 "frames with a face after the restart")
        runner.send_signal(signal.SIGINT)
        rc = runner.wait(timeout=30)
        camera.send_signal(signal.SIGTERM)
        cam_out = camera.communicate(timeout=10)[0]
        runner_log.seek(0)
        log = runner_log.read()
        lines = lines_of(jsonl)

        with_face = [j for j in before if j.get("faces")]
        ids = {f["id"] for j in before for f in j.get("faces", [])}
        assert len(with_face) >= 0.9 * len(before), \
            f"through 2 % packet loss: a face in {len(with_face)} of {len(before)} frames (target >= 90 %)"
        assert len(ids) == 1, f"through 2 % packet loss: track ids {sorted(ids)} (target: one)"
        m = re.search(r"network: (\d+) reconnection attempts, (\d+) stalls, (\d+) RTP packets lost", log)
        assert m, f"no network counters at the end of the run:\n{log}"
        reconnects, stalls, lost = map(int, m.groups())
        assert "reconnecting" in log, log
        assert reconnects >= 1, f"{reconnects} reconnections\n{log}"
        assert lost > 0, f"{lost} RTP packets counted as lost with 2 % dropped\n{log}"
        gap_lines = [i for i, j in enumerate(lines) if j.get("gap")]
        assert any(i >= len(before) for i in gap_lines), "no \"gap\": true after the reconnection"
        after = lines[gap_lines[-1]:]
        assert any(j.get("faces") for j in after), "no face after the reconnection"
        assert rc == 130, f"runner exit {rc}, expected 130 (Ctrl-C)\n{log}"
        print(f"camera: {cam_out.strip()}")
        print(f"before the kill: {len(before)} frames, face in {len(with_face)}, ids {sorted(ids)}")
        print(f"runner: {reconnects} reconnection attempts, {stalls} stalls, {lost} RTP packets lost; "
              f"{len(lines)} frame lines in all, gap marks at {gap_lines[:10]}")
        ok = True
    finally:
        for p in (runner, camera):
            if p.poll() is None:
                p.kill()
                p.wait()
        if not ok:
            runner_log.seek(0)
            print(runner_log.read()[-6000:], file=sys.stderr)
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
