#!/usr/bin/env python3
"""tools/eval/eval-liveness on a tiny generated dataset: the two public-domain photos (the
astronaut as real/, Grace Hopper as spoof/: the labels only exercise the arithmetic), a
picture without a face, a corrupt file; then a folder without spoof/ and one without samples.
Checks the exit status, the table, the per-sample CSV and that the corrupt file is named.

Usage: eval_liveness_test.py EVAL_LIVENESS ASTRONAUT_PNG GRACE_HOPPER_JPG
(GST_PLUGIN_PATH must hold the built plugin.)
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
import struct


def png_gradient(path, w=160, h=120):
    raw = b"".join(b"\x00" + b"".join(bytes((x * 255 // (w - 1), y * 255 // (h - 1), 128)) for x in range(w))
                   for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    tool, astronaut, grace = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="eval-liveness-test-")
    ok = True
    try:
        data = os.path.join(tmp, "data")
        os.makedirs(os.path.join(data, "real"))
        os.makedirs(os.path.join(data, "spoof"))
        shutil.copy(astronaut, os.path.join(data, "real", "astronaut.png"))
        shutil.copy(grace, os.path.join(data, "spoof", "grace.jpg"))
        png_gradient(os.path.join(data, "spoof", "noface.png"))
        with open(os.path.join(data, "spoof", "corrupt.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nnot really")
        out = os.path.join(tmp, "out")
        r = subprocess.run([tool, data, "--out", out, "--frames", "10", "--tune"], capture_output=True, text=True)
        print(r.stdout, r.stderr)
        ok &= r.returncode == 1  # the corrupt file could not be run
        ok &= "corrupt.png" in r.stdout
        for key in ("APCER", "BPCER", "ACER", "tuned both"):
            ok &= key in r.stdout
        rows = list(csv.DictReader(open(os.path.join(out, "samples.csv"))))
        by = {row["file"]: row for row in rows}
        ok &= set(by) == {"astronaut.png", "grace.jpg", "noface.png"}
        ok &= by["astronaut.png"]["found"] == "True" and by["grace.jpg"]["found"] == "True"
        ok &= by["noface.png"]["found"] == "False"
        ok &= 0.0 <= float(by["astronaut.png"]["real"]) <= 1.0
        # Rescoring from the kept JSON lines gives the same table.
        r2 = subprocess.run([tool, data, "--out", out, "--reuse", "--tune"], capture_output=True, text=True)
        ok &= r2.stdout.split("dataset:")[1].split("not run")[0] == r.stdout.split("dataset:")[1].split("not run")[0]
        # Bad layouts: exit 2 with the reason.
        shutil.rmtree(os.path.join(data, "spoof"))
        r3 = subprocess.run([tool, data, "--out", out], capture_output=True, text=True)
        ok &= r3.returncode == 2 and "spoof" in r3.stderr
        os.makedirs(os.path.join(tmp, "empty", "real"))
        os.makedirs(os.path.join(tmp, "empty", "spoof"))
        r4 = subprocess.run([tool, os.path.join(tmp, "empty"), "--out", out], capture_output=True, text=True)
        ok &= r4.returncode == 2 and "no pictures" in r4.stderr
        print(r3.stderr, r4.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
