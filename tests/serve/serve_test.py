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
a port already in use fails (exit 1, saying so).

Authentication (--rtsp-auth-file FILE, user:password lines): the runner serves with basic
authentication; a raw DESCRIBE without credentials gets "RTSP/1.0 401" with a Basic challenge;
rtspsrc without credentials and with a wrong password is refused, naming 401; with the right
ones it gets frames with the overlay (the same checks as above); the password never appears in
the runner's output. A network address without an auth file is refused (exit 2, naming
--rtsp-auth-file and --rtsp-no-auth); with --rtsp-no-auth the refusal is gone (the address,
TEST-NET 192.0.2.1, is not this machine's, so it then fails to listen: exit 1). A malformed
auth file (exit 2, naming the line, not its text) and both options together (exit 2) are
refused. Loopback only.
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


def pull_cmd(url, raw, count, user=None, password=None):
    creds = []
    if user is not None:
        creds = [f"user-id={user}", f"user-pw={password}"]
    return ["gst-launch-1.0", "-q", "rtspsrc", f"location={url}", "latency=100", *creds,
            "!", "decodebin", "!", "videoconvert", "!", "videoscale", "!",
            f"video/x-raw,format=RGB,width={W},height={H}", "!",
            "identity", f"eos-after={count + 1}", "!", "filesink", f"location={raw}"]


def pull(url, count, work, env, user=None, password=None):
    raw = os.path.join(work, "pulled.rgb")
    subprocess.run(pull_cmd(url, raw, count, user, password), env=env, timeout=30, check=True)
    data = open(raw, "rb").read()
    n = len(data) // (W * H * 3)
    return [data[i * W * H * 3:(i + 1) * W * H * 3] for i in range(n)]


def wait_listening(port, proc):
    t0 = time.monotonic()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() - t0 < 10, "the RTSP server never listened"
            assert proc.poll() is None, "the runner ended before serving"
            time.sleep(0.1)


def pull_with_retries(url, work, env, proc, log_path, user=None, password=None):
    # A client that connects while the server is still bringing its media up can be turned
    # away (EOF on the RTSP connection); a real client retries, so does the test, at most
    # twice, saying so. The runner's log is shown when all three fail.
    for attempt in range(3):
        try:
            return pull(url, 15, work, env, user, password)
        except subprocess.CalledProcessError:
            print(f"pull attempt {attempt + 1} failed; runner alive: {proc.poll() is None}")
            if attempt == 2 or proc.poll() is not None:
                print(open(log_path).read())
                raise
            time.sleep(1)


def face_box(work):
    boxes = []
    for line in open(os.path.join(work, "serve.jsonl")):
        j = json.loads(line)
        if "faces" in j and j["faces"]:
            boxes.append(j["faces"][0]["box"])
    assert boxes, "facejson saw no face"
    return [sorted(b[k] for b in boxes)[len(boxes) // 2] for k in range(4)]


def check_overlay(frames, box):
    assert len(frames) >= 10, f"{len(frames)} frames pulled"
    x, y, w, h = box
    margin = 30
    for i, f in enumerate(frames[-10:]):
        px = magenta(f)
        near = sum(1 for (u, v) in px
                   if x - margin <= u <= x + w + margin and y - margin <= v <= y + h + margin)
        print(f"frame {i}: {len(px)} magenta pixels, {near} near the face box "
              f"[{x:.0f},{y:.0f},{w:.0f},{h:.0f}]")
        assert len(px) >= 150, f"frame {i}: only {len(px)} overlay pixels"
        assert near >= 0.8 * len(px), f"frame {i}: overlay away from the face"


def describe(port, path):
    """A raw RTSP DESCRIBE without credentials: the status line and headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(f"DESCRIBE rtsp://127.0.0.1:{port}/{path} RTSP/1.0\r\nCSeq: 1\r\n"
                  "Accept: application/sdp\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace")


def refused_pull(url, work, env, user=None, password=None):
    """rtspsrc against url: must fail; returns its output (the error)."""
    raw = os.path.join(work, "refused.rgb")
    r = subprocess.run(pull_cmd(url, raw, 3, user, password), env=env, timeout=30,
                       capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode != 0, f"rtspsrc was served without valid credentials:\n{out}"
    return out


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
    log_path = os.path.join(args.work, "serve.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([args.runner, "serve", graph, "--rtsp", f"{port}/live"],
                            env=env, stderr=log)
    try:
        wait_listening(port, proc)
        frames = pull_with_retries(url, args.work, env, proc, log_path)
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=20)
        log.close()
    runner_log = open(log_path).read()
    assert rc == 130, f"runner exit {rc}\n{runner_log}"
    assert "serving the annotated video at " + url + " (no authentication)" in runner_log, runner_log
    check_overlay(frames, face_box(args.work))

    # Authentication: a user file (a comment, a blank line, a password with a colon in it).
    users = os.path.join(args.work, "rtsp-users")
    password = "s3cret:with-colon"
    with open(users, "w") as f:
        f.write(f"# who may watch\nviewer:{password}\n\nother:another-pw\n")
    os.chmod(users, 0o600)
    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/live"
    auth_log_path = os.path.join(args.work, "serve-auth.log")
    log = open(auth_log_path, "w")
    proc = subprocess.Popen([args.runner, "serve", graph, "--rtsp", f"{port}/live",
                             "--rtsp-auth-file", users], env=env, stderr=log, stdout=log)
    try:
        wait_listening(port, proc)
        reply = describe(port, "live")
        print("DESCRIBE without credentials:", reply.splitlines()[0] if reply else "(nothing)")
        assert reply.startswith("RTSP/1.0 401"), reply
        assert "WWW-Authenticate: Basic" in reply, reply
        out = refused_pull(url, args.work, env)
        print("rtspsrc without credentials:", [l for l in out.splitlines() if "401" in l])
        assert "Unauthorized (401)" in out, out
        out = refused_pull(url, args.work, env, "viewer", "wrong-password")
        print("rtspsrc with a wrong password:", [l for l in out.splitlines() if "401" in l])
        assert "Unauthorized (401)" in out, out
        frames = pull_with_retries(url, args.work, env, proc, auth_log_path, "viewer", password)
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=20)
        log.close()
    auth_log = open(auth_log_path).read()
    assert rc == 130, f"runner exit {rc}\n{auth_log}"
    assert f"serving the annotated video at {url} (basic authentication, 2 users)" in auth_log, auth_log
    assert password not in auth_log and "another-pw" not in auth_log, "a password was printed"
    assert "other users may read" not in auth_log, auth_log  # 0600: no warning
    check_overlay(frames, face_box(args.work))

    # A network address: refused without authentication, allowed with --rtsp-no-auth (then
    # the TEST-NET address, not this machine's, cannot be listened on: exit 1).
    net = f"192.0.2.1:{free_port()}/live"
    r = subprocess.run([args.runner, "serve", graph, "--rtsp", net], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "without authentication" in r.stderr \
        and "--rtsp-auth-file" in r.stderr and "--rtsp-no-auth" in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([args.runner, "serve", graph, "--rtsp", net, "--rtsp-no-auth"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "cannot listen" in r.stderr, (r.returncode, r.stderr)
    bad = os.path.join(args.work, "bad-users")
    with open(bad, "w") as f:
        f.write("viewer:ok\nno-colon-secret\n")
    r = subprocess.run([args.runner, "serve", graph, "--rtsp", f"{free_port()}/live",
                        "--rtsp-auth-file", bad], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "line 2" in r.stderr and "no-colon-secret" not in r.stderr, \
        (r.returncode, r.stderr)
    r = subprocess.run([args.runner, "serve", graph, "--rtsp", f"{free_port()}/live",
                        "--rtsp-auth-file", users, "--rtsp-no-auth"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "contradict" in r.stderr, (r.returncode, r.stderr)

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
