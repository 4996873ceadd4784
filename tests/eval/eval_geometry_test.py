#!/usr/bin/env python3
"""Tests of tools/eval/eval-landmarks and eval-detection on generated datasets.

  eval_geometry_test.py landmarks EVAL_LANDMARKS EVAL_TESTDATA MODELS ASTRONAUT GRACE_HOPPER
  eval_geometry_test.py detection EVAL_DETECTION EVAL_TESTDATA MODELS ASTRONAUT GRACE_HOPPER

The two public-domain photos are placed on grey canvases by known similarity transforms
(eval-testdata renders them), so the test knows where every point and box went. No stored
output of the code under test is used: the reference is made in the same run, by the tool on
each photo at its own size (a "base" picture), and moved by the transforms. What the tests
check is therefore the tools' bookkeeping (files, matching, normalisation, counts, the 300-W
numbering, which holds whatever the reference) and equivariance: the graph on a moved, scaled,
turned picture lands where its answer on the base picture lands when moved the same way.
Accuracy against human annotation is measured on real data (docs/eval/landmarks.md,
docs/eval/detection.md). Run by ctest (label eval).
"""
import csv
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = {}
PHOTO_SIZE = {"astronaut": (512, 512), "grace_hopper": (512, 600)}
# Where each face is on its photo (the nose tip, picked by eye on the photo, continuous pixel
# coordinates): only to place the faces on the canvases, never a reference for a result.
FACE_CENTRE = {"astronaut": (225.0, 125.0), "grace_hopper": (262.0, 240.0)}
FACE_WIDTH = {"astronaut": 100.0, "grace_hopper": 190.0}  # ear to ear, by eye: the placeholders' size
# The base picture of each photo: at its own size, unturned, the face at BASE_TARGET.
BASE_CANVAS, BASE_TARGET = (640, 640), (320, 320)
# 300-W's left-right mirror of the 68 points (0-based), from the annotation guide's numbering.
MIRROR = (list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] + [35, 34, 33, 32, 31]
          + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]
          + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55] + [64, 63, 62, 61, 60, 67, 66, 65])


def read_pts(path):
    pts = []
    for line in open(path):
        f = line.split()
        if len(f) == 2 and re.match(r"^-?[0-9.]+$", f[0]):
            pts.append((float(f[0]), float(f[1])))
    return pts


def write_pts(path, pts, header=True):
    body = "".join(f"{x:.3f} {y:.3f}\n" for x, y in pts)
    with open(path, "w") as f:
        f.write("version: 1\nn_points:  68\n{\n" + body + "}\n" if header else body)


def photo(name):
    return ARGS["astronaut"] if name == "astronaut" else ARGS["grace"]


def placement(name, scale, angle, target):
    """(CX, CY) that puts the photo's face centre (FACE_CENTRE) at `target`."""
    w, h = PHOTO_SIZE[name]
    fx, fy = FACE_CENTRE[name][0] - w / 2, FACE_CENTRE[name][1] - h / 2
    r = math.radians(angle)
    return (target[0] - scale * (math.cos(r) * fx - math.sin(r) * fy),
            target[1] - scale * (math.sin(r) * fx + math.cos(r) * fy))


def move(name, scale, angle, centre, x, y):
    """A photo point (continuous coordinates) on the canvas: eval-testdata's transform."""
    w, h = PHOTO_SIZE[name]
    r = math.radians(angle)
    dx, dy = x - w / 2, y - h / 2
    return (scale * (math.cos(r) * dx - math.sin(r) * dy) + centre[0],
            scale * (math.sin(r) * dx + math.cos(r) * dy) + centre[1])


def render(out_png, canvas, placements):
    args = [ARGS["testdata"], out_png, "%dx%d" % canvas]
    for name, scale, angle, centre in placements:
        args += [photo(name), str(scale), str(angle), str(centre[0]), str(centre[1])]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def write_grey_png(path, w, h):
    raw = b"".join(b"\x00" + bytes([120, 120, 120]) * w for _ in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=280)
    return r.returncode, r.stdout, r.stderr


def base_offset(name):
    """Base canvas minus photo coordinates (a translation: scale 1, no turn)."""
    w, h = PHOTO_SIZE[name]
    c = placement(name, 1.0, 0, BASE_TARGET)
    return c[0] - w / 2, c[1] - h / 2


def render_bases(folder):
    """Each photo's base picture as folder/NAME.png."""
    os.makedirs(folder, exist_ok=True)
    for name in PHOTO_SIZE:
        render(os.path.join(folder, name + ".png"), BASE_CANVAS,
               [(name, 1.0, 0, placement(name, 1.0, 0, BASE_TARGET))])


def reference_points(workdir):
    """The tool's 68 points on each photo's base picture, in photo coordinates (1-based pixel
    centres, as .pts): eval-landmarks runs on the base pictures with a placeholder annotation
    (a ring of 68 points the face's size, FACE_WIDTH: the tool needs one to match the face
    to; its NME is not used)."""
    data, out = os.path.join(workdir, "data"), os.path.join(workdir, "out")
    render_bases(os.path.join(data, "base"))
    for name in PHOTO_SIZE:
        (cx, cy), r = BASE_TARGET, FACE_WIDTH[name] / 2
        write_pts(os.path.join(data, "base", name + ".pts"),
                  [(cx + r * math.cos(k * math.pi / 34), cy + r * math.sin(k * math.pi / 34)) for k in range(68)])
    rc, _, err = run(ARGS["tool"], data, "--out", out, "--models", ARGS["models"], "--frames", "6")
    assert rc == 0, err
    ref = {}
    for name in PHOTO_SIZE:
        pts = read_pts(os.path.join(out, "pred", "base", name + ".pts"))
        assert len(pts) == 68, f"no face found on the base picture of {name}"
        ox, oy = base_offset(name)
        ref[name] = [(x - ox, y - oy) for x, y in pts]
    return ref


def reference_boxes(workdir):
    """The tool's face box on each photo's base picture, in photo coordinates (continuous):
    eval-detection runs on the base pictures; each must report exactly one face."""
    render_bases(workdir)
    with open(os.path.join(workdir, "boxes.csv"), "w") as f:
        f.write("image,x,y,w,h,ignore\n")
        for name in PHOTO_SIZE:
            r = FACE_WIDTH[name] / 2
            f.write(f"{name}.png,{BASE_TARGET[0] - r},{BASE_TARGET[1] - r},{2 * r},{2 * r},0\n")
    out = os.path.join(workdir, "out")
    rc, _, err = run(ARGS["tool"], os.path.join(workdir, "boxes.csv"), "--out", out, "--models", ARGS["models"],
                     "--frames", "6")
    assert rc == 0, err
    ref = {}
    for r in csv.DictReader(open(os.path.join(out, "detections.csv"))):
        name = os.path.splitext(os.path.basename(r["image"]))[0]
        assert name not in ref, f"two faces reported on the base picture of {name}"
        ox, oy = base_offset(name)
        ref[name] = (float(r["x"]) - ox, float(r["y"]) - oy, float(r["w"]), float(r["h"]))
    assert set(ref) == set(PHOTO_SIZE), f"a base picture without its face: {sorted(ref)}"
    return ref


def table_value(out, label):
    line = next(l for l in out.splitlines() if l.startswith("| " + label + " |"))
    return line.strip("|").split("|")[1].strip()


def nme(pred, gt):
    iod = math.dist(gt[36], gt[45])  # outer eye corners, points 37 and 46
    return sum(math.dist(p, g) for p, g in zip(pred, gt)) / 68 / iod


class EvalLandmarks(unittest.TestCase):
    # (name, scale, angle, face centre on the canvas, canvas)
    VARIANTS = [
        ("astronaut", 1.0, 0, (320, 240), (640, 480)),
        ("astronaut", 0.6, 0, (200, 300), (640, 480)),
        ("astronaut", 1.6, 10, (400, 280), (800, 600)),
        ("grace_hopper", 1.0, 0, (320, 260), (640, 520)),
        ("grace_hopper", 0.5, -15, (420, 200), (640, 480)),
    ]

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="eval-landmarks-test-")
        cls.data = os.path.join(cls.dir, "data")
        cls.out = os.path.join(cls.dir, "out")
        os.makedirs(os.path.join(cls.data, "faces"))
        os.makedirs(os.path.join(cls.data, "odd"))
        cls.reference = reference_points(os.path.join(cls.dir, "base"))
        cls.truth = {}
        for k, (name, s, a, target, canvas) in enumerate(cls.VARIANTS):
            c = placement(name, s, a, target)
            stem = os.path.join(cls.data, "faces", f"{name}_{k}")
            render(stem + ".png", canvas, [(name, s, a, c)])
            ref = cls.reference[name]
            # .pts are 1-based pixel centres: continuous = pts - 0.5.
            moved = [move(name, s, a, c, x - 0.5, y - 0.5) for x, y in ref]
            cls.truth[f"{name}_{k}"] = [(x + 0.5, y + 0.5) for x, y in moved]
            write_pts(stem + ".pts", cls.truth[f"{name}_{k}"], header=(k % 2 == 0))
        # The normalisation check: variant 0's picture, its annotation shifted right by a
        # quarter of the (outer-corner) inter-ocular distance.
        t0 = cls.truth["astronaut_0"]
        shift = 0.25 * math.dist(t0[36], t0[45])
        shutil.copy(os.path.join(cls.data, "faces", "astronaut_0.png"),
                    os.path.join(cls.data, "faces", "shifted_0.png"))
        cls.truth["shifted_0"] = [(x + shift, y) for x, y in t0]
        write_pts(os.path.join(cls.data, "faces", "shifted_0.pts"), cls.truth["shifted_0"])
        # Odd entries: no face in the picture, a .pts of 67 points, a .pts without picture, a
        # corrupt picture.
        # Same size as the picture before it (shifted_0): nothing may carry over from that one.
        write_grey_png(os.path.join(cls.data, "odd", "blank.png"), 640, 480)
        write_pts(os.path.join(cls.data, "odd", "blank.pts"), t0)
        shutil.copy(os.path.join(cls.data, "faces", "astronaut_0.png"), os.path.join(cls.data, "odd", "short.png"))
        write_pts(os.path.join(cls.data, "odd", "short.pts"), t0[:67])
        write_pts(os.path.join(cls.data, "odd", "lonely.pts"), t0)
        with open(os.path.join(cls.data, "odd", "corrupt.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
        write_pts(os.path.join(cls.data, "odd", "corrupt.pts"), t0)
        cls.rc, cls.stdout, cls.stderr = run(ARGS["tool"], cls.data, "--out", cls.out, "--models",
                                             ARGS["models"], "--frames", "6")
        cls.rows = {os.path.splitext(os.path.basename(r["path"]))[0]: r
                    for r in csv.DictReader(open(os.path.join(cls.out, "predictions.csv")))} \
            if cls.rc == 0 else {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, True)

    def pred(self, stem, folder="faces"):
        return [(x, y) for x, y in read_pts(os.path.join(self.out, "pred", folder, stem + ".pts"))]

    def test_runs_and_reports_the_odd_entries(self):
        self.assertEqual(self.rc, 0, self.stderr)
        self.assertRegex(self.stderr, r"short\.pts: 67 points, 68 expected")
        self.assertRegex(self.stderr, r"lonely\.pts: no picture beside it")
        self.assertRegex(self.stderr, r"left out: .*corrupt\.jpg")
        self.assertIn("faces: 7 scored, 2 left out (unreadable picture or annotation), "
                      "1 .pts without a picture", self.stdout)
        self.assertEqual(self.rows["blank"]["found"], "0")
        self.assertIn("| faces found | 6 of 7 ", self.stdout)
        w, h = struct.unpack(">II", open(os.path.join(self.out, "ced.png"), "rb").read()[16:24])
        self.assertEqual((w, h), (800, 600))

    def test_generated_faces_land_on_their_annotation(self):
        # Equivariance: the reference is this graph's answer on the photo at its own size
        # (reference_points, this run), so what is left is the tracker's own change with size,
        # rotation and resampling. Bound 0.05 of the inter-ocular distance: a wrong
        # correspondence gives more than 0.1 (the mirrored check below shows it).
        for stem in self.truth:
            if stem.startswith("shifted"):
                continue
            with self.subTest(stem=stem):
                self.assertEqual(self.rows[stem]["found"], "1")
                self.assertLess(float(self.rows[stem]["nme"]), 0.05)

    def test_a_mirrored_or_shifted_correspondence_would_fail(self):
        # The predicted points read through 300-W's left-right mirror, or with every point's
        # index moved by one within its group, are far from the annotation: the bound above
        # catches a table that swaps sides or slips by a point.
        for stem in ("astronaut_0", "grace_hopper_3"):
            pred, gt = self.pred(stem), self.truth[stem]
            self.assertGreater(nme([pred[MIRROR[i]] for i in range(68)], gt), 0.1, stem)
            slipped = [pred[i + 1] if i + 1 < 68 and i not in (16, 21, 26, 30, 35, 41, 47, 59) else pred[i]
                       for i in range(68)]
            self.assertGreater(nme(slipped, gt), 0.1, stem)

    def test_nme_is_normalised_by_the_outer_eye_corners(self):
        # Recomputed here from the written predictions and the annotation.
        for stem, gt in self.truth.items():
            with self.subTest(stem=stem):
                self.assertAlmostEqual(float(self.rows[stem]["nme"]), nme(self.pred(stem), gt), delta=2e-4)
                self.assertAlmostEqual(float(self.rows[stem]["iod_px"]), math.dist(gt[36], gt[45]), delta=1e-3)
        # Shifting every annotated point by 0.25 inter-ocular distances moves the NME to 0.25
        # within the unshifted picture's own NME (triangle inequality, exact): normalising by the
        # pupils or the inner corners, or not at all, cannot land there.
        e0 = float(self.rows["astronaut_0"]["nme"])
        self.assertLessEqual(abs(float(self.rows["shifted_0"]["nme"]) - 0.25), e0 + 2e-4)

    def test_points_follow_the_300w_numbering(self):
        # Independent of the table: the order the 300-W guide defines, on the upright faces
        # (image x grows to the subject's left, y downwards).
        for stem in ("astronaut_0", "astronaut_1", "grace_hopper_3"):
            p = self.pred(stem)
            x = [q[0] for q in p]
            y = [q[1] for q in p]
            with self.subTest(stem=stem):
                self.assertTrue(x[0] < x[4] < x[8] < x[12] < x[16], "jaw runs right ear to left ear")
                self.assertEqual(max(range(17), key=lambda i: y[i]), 8, "point 9 is the chin")
                self.assertTrue(x[17] < x[21] < x[22] < x[26], "brows outer->inner, inner->outer")
                self.assertLess(max(y[17:27]), min(y[36:48]), "brows above the eyes")
                self.assertTrue(y[27] < y[28] < y[29] < y[30], "nose ridge top to tip")
                self.assertTrue(x[31] < x[33] < x[35], "nostrils right to left")
                self.assertTrue(x[36] < x[39] < x[42] < x[45], "eye corners 37, 40, 43, 46")
                self.assertLess(y[37], y[41], "upper lid above lower lid")
                self.assertLess(max(y[27:31]), min(y[48:68]), "nose above the mouth")
                self.assertTrue(x[48] < x[51] < x[54], "mouth corners 49, 55 around 52")
                self.assertTrue(y[51] < y[62] <= y[66] < y[57], "upper lip above the lower one")

    def test_pts_origin_zero(self):
        d = os.path.join(self.dir, "origin0")
        os.makedirs(d)
        shutil.copy(os.path.join(self.data, "faces", "astronaut_0.png"), d)
        write_pts(os.path.join(d, "astronaut_0.pts"), [(x - 1, y - 1) for x, y in self.truth["astronaut_0"]])
        out = os.path.join(self.dir, "out0")
        rc, stdout, stderr = run(ARGS["tool"], d, "--out", out, "--models", ARGS["models"], "--frames", "6",
                                 "--pts-origin", "0")
        self.assertEqual(rc, 0, stderr)
        row = next(csv.DictReader(open(os.path.join(out, "predictions.csv"))))
        self.assertAlmostEqual(float(row["nme"]), float(self.rows["astronaut_0"]["nme"]), delta=2e-3)

    def test_refusals(self):
        rc, _, err = run(ARGS["tool"], os.path.join(self.dir, "missing"))
        self.assertEqual(rc, 2)
        self.assertIn("missing: not a folder", err)
        empty = os.path.join(self.dir, "empty")
        os.makedirs(empty)
        rc, _, err = run(ARGS["tool"], empty)
        self.assertEqual(rc, 2)
        self.assertIn("no .pts annotation with its picture", err)
        rc, _, err = run(ARGS["tool"], self.data, "--pts-origin", "2")
        self.assertEqual(rc, 2)
        self.assertIn("bad value for --pts-origin", err)


class EvalDetection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="eval-detection-test-")
        d = cls.dir
        rows = []   # (image, box or None, ignore)
        ref = reference_boxes(os.path.join(d, "base"))

        def face(name, s, target):
            c = placement(name, s, 0, target)
            bx, by, bw, bh = ref[name]
            x0, y0 = move(name, s, 0, c, bx, by)
            return c, (x0, y0, bw * s, bh * s)

        # Picture 1: the astronaut large, Grace Hopper smaller, and an annotated "face" on the
        # empty grey canvas (a miss by construction).
        ca, ba = face("astronaut", 1.0, (300, 330))
        cg, bg = face("grace_hopper", 0.33, (900, 380))
        render(os.path.join(d, "group.png"), (1280, 720), [("astronaut", 1.0, 0, ca), ("grace_hopper", 0.33, 0, cg)])
        rows += [("group.png", ba, 0), ("group.png", bg, 0), ("group.png", (1100, 600, 40, 40), 0)]
        # Picture 2: Grace Hopper with her box annotated 60 % of its width to the right: the
        # graph's face overlaps it by IoU 0.25, so it is both a miss and a false face.
        cg2, bg2 = face("grace_hopper", 0.8, (320, 240))
        render(os.path.join(d, "shifted.png"), (640, 480), [("grace_hopper", 0.8, 0, cg2)])
        rows += [("shifted.png", (bg2[0] + 0.6 * bg2[2], bg2[1], bg2[2], bg2[3]), 0)]
        # Picture 3: the astronaut, annotated as "ignore": neither counted nor false.
        ca3, ba3 = face("astronaut", 0.5, (320, 240))
        render(os.path.join(d, "ignored.png"), (640, 480), [("astronaut", 0.5, 0, ca3)])
        rows += [("ignored.png", ba3, 1)]
        # Picture 4: nothing in it.
        write_grey_png(os.path.join(d, "empty.png"), 320, 240)
        rows += [("empty.png", None, 0)]
        cls.boxes = {"group.png": [ba, bg, (1100, 600, 40, 40)], "shifted.png": [rows[3][1]]}
        with open(os.path.join(d, "boxes.csv"), "w") as f:
            f.write("image,x,y,w,h,ignore\n")
            for img, b, ig in rows:
                f.write(f"{img},,,,,\n" if b is None else f"{img},{b[0]:.2f},{b[1]:.2f},{b[2]:.2f},{b[3]:.2f},{ig}\n")
        # The same in WIDER FACE's layout (invalid flag = ignore).
        with open(os.path.join(d, "wider_gt.txt"), "w") as f:
            for img in ("group.png", "shifted.png", "ignored.png", "empty.png"):
                faces = [(b, ig) for i, b, ig in rows if i == img and b is not None]
                f.write(f"{img}\n{len(faces)}\n")
                for b, ig in faces:
                    f.write(f"{b[0]:.2f} {b[1]:.2f} {b[2]:.2f} {b[3]:.2f} 0 0 0 {ig} 0 0\n")
                if not faces:
                    f.write("0 0 0 0 0 0 0 0 0 0\n")
        cls.out = os.path.join(d, "out")
        cls.rc, cls.stdout, cls.stderr = run(ARGS["tool"], os.path.join(d, "boxes.csv"), "--out", cls.out,
                                             "--models", ARGS["models"], "--frames", "6")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, True)

    def csv_rows(self, name):
        return list(csv.DictReader(open(os.path.join(self.out, name))))

    def test_found_missed_false_and_ignored(self):
        self.assertEqual(self.rc, 0, self.stderr)
        faces = {(os.path.basename(r["image"]), round(float(r["x"]))): r for r in self.csv_rows("faces.csv")}
        # The two real faces are found, on their own boxes (equivariance: the reference is this
        # graph's box on the photo at its own size in this run, moved with it: IoU well above 0.5).
        for img, b in (("group.png", self.boxes["group.png"][0]), ("group.png", self.boxes["group.png"][1])):
            r = faces[(img, round(b[0]))]
            self.assertEqual(r["found"], "1", (img, b))
            self.assertGreater(float(r["iou"]), 0.7, (img, b))
        self.assertEqual(faces[("group.png", 1100)]["found"], "0")
        self.assertEqual(faces[("shifted.png", round(self.boxes["shifted.png"][0][0]))]["found"], "0")
        det = self.csv_rows("detections.csv")
        by_image = {}
        for r in det:
            by_image.setdefault(os.path.basename(r["image"]), []).append(r["verdict"])
        self.assertEqual(sorted(by_image.get("group.png", [])), ["true", "true"])
        self.assertEqual(by_image.get("shifted.png"), ["false"])
        self.assertEqual(by_image.get("ignored.png"), ["ignored"])
        self.assertNotIn("empty.png", by_image)

    def test_table_is_what_the_rows_say(self):
        self.assertEqual(self.rc, 0, self.stderr)
        edges = [24, 48, 96, 192]
        size_bin = lambda w: sum(w >= e for e in edges)
        truth, found, reported, real = [0] * 5, [0] * 5, [0] * 5, [0] * 5
        for r in self.csv_rows("faces.csv"):
            if r["ignore"] == "1":
                continue
            b = size_bin(float(r["w"]))
            truth[b] += 1
            if r["found"] == "1":
                found[b] += 1
                reported[b] += 1
                real[b] += 1
        for r in self.csv_rows("detections.csv"):
            if r["verdict"] == "false":
                reported[size_bin(float(r["w"]))] += 1
        names = ["< 24 px", "24-48 px", "48-96 px", "96-192 px", ">= 192 px"]
        for k, name in enumerate(names):
            line = next(l for l in self.stdout.splitlines() if l.startswith("| " + name + " |"))
            cells = [c.strip() for c in line.strip("|").split("|")]
            self.assertEqual(cells[1:3], [str(truth[k]), str(found[k])], name)
            self.assertEqual(cells[4:6], [str(reported[k]), str(real[k])], name)
        # 4 annotated faces (the ignored one left out): 2 found; 3 faces reported, 2 real.
        self.assertRegex(self.stdout, r"\| \*\*all\*\* \| 4 \| 2 \| 0\.500 \| 3 \| 2 \| 0\.667 \|")
        self.assertIn("faces on ignored annotations (not counted): 1", self.stdout)
        w, h = struct.unpack(">II", open(os.path.join(self.out, "by-size.png"), "rb").read()[16:24])
        self.assertEqual((w, h), (800, 600))

    def test_wider_layout_gives_the_same_table(self):
        out = os.path.join(self.dir, "out-wider")
        rc, stdout, stderr = run(ARGS["tool"], os.path.join(self.dir, "wider_gt.txt"), "--images", self.dir,
                                 "--out", out, "--models", ARGS["models"], "--frames", "6")
        self.assertEqual(rc, 0, stderr)
        table = lambda s: [l for l in s.splitlines() if l.startswith("| ")]
        self.assertEqual(table(stdout), table(self.stdout))

    def test_refusals(self):
        bad = os.path.join(self.dir, "bad.csv")
        with open(bad, "w") as f:
            f.write("image,x,y,w,h\ngroup.png,1,2,three,4\n")
        rc, _, err = run(ARGS["tool"], bad)
        self.assertEqual(rc, 2)
        self.assertIn("bad.csv:2: x, y, w, h must be numbers", err)
        with open(bad, "w") as f:
            f.write("file,left,top\n")
        rc, _, err = run(ARGS["tool"], bad)
        self.assertEqual(rc, 2)
        self.assertIn("bad.csv:1: the header must be image,x,y,w,h[,ignore]", err)
        rc, _, err = run(ARGS["tool"], os.path.join(self.dir, "wider_gt.txt"))
        self.assertEqual(rc, 2)
        self.assertIn("give --images DIR", err)


if __name__ == "__main__":
    if len(sys.argv) != 7 or sys.argv[1] not in ("landmarks", "detection"):
        sys.exit(__doc__)
    ARGS.update(tool=sys.argv[2], testdata=sys.argv[3], models=sys.argv[4], astronaut=sys.argv[5],
                grace=sys.argv[6])
    case = EvalLandmarks if sys.argv[1] == "landmarks" else EvalDetection
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    sys.exit(0 if unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful() else 1)
