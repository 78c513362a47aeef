#!/usr/bin/env python3
"""A peer of sphere-detect: the same MTCNN pipeline (kpzhang93's MATLAB
MTCNNv1/detect_face.m, SphereFace's settings) with the same three caffemodels
run by OpenCV's dnn module, written independently of the C port. It is a
yardstick for speed and a cross-check of the port, never a dependency of the
library or the tests.

Resizing: detect_face.m calls imResample (Piotr Dollar's toolbox), an area
average when shrinking and bilinear when enlarging; here that is
cv2.resize(INTER_AREA) and cv2.resize(INTER_LINEAR), one axis at a time.

  /usr/bin/python3 bench/mtcnn_opencv.py --models ../shared/models/mtcnn \\
      --list LIST --root DIR [--out FILE] [--limit N] [--all-faces]

Writes the lines sphere-detect writes (name, then x y of the five landmarks,
0-based) and prints photos/s. Needs python3-opencv (cv2) and numpy.
"""
import argparse
import math
import sys
import time

import cv2
import numpy as np


def resize_axis(img, n, axis):
    """img (H x W x C float32) resized along one axis to n pixels."""
    h, w = img.shape[:2]
    size_in = h if axis == 0 else w
    if n == size_in:
        return img
    interp = cv2.INTER_AREA if n < size_in else cv2.INTER_LINEAR
    dsize = (w, n) if axis == 0 else (n, h)
    out = cv2.resize(img, dsize, interpolation=interp)
    return out.reshape(dsize[1], dsize[0], -1)


def im_resample(img, hs, ws):
    """imResample(img, [hs ws], 'bilinear') on an H x W x 3 float image."""
    if img.shape[0] == hs and img.shape[1] == ws:
        return img
    return resize_axis(resize_axis(img, ws, 1), hs, 0)


def to_blob(imgs):
    """N images (h x w x 3, RGB, 0..255) -> N x 3 x w x h: transposed, as
    MATLAB's caffe interface hands them to the nets."""
    arr = (np.stack(imgs).astype(np.float32) - 127.5) * 0.0078125
    return np.ascontiguousarray(arr.transpose(0, 3, 2, 1))


def nms(boxes, threshold, mode):
    """MATLAB nms.m: indices kept, best score first (ties: later box first)."""
    if len(boxes) == 0:
        return []
    x1, y1, x2, y2, s = (boxes[:, k] for k in range(5))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = list(np.argsort(s, kind="stable"))
    pick = []
    while order:
        i = order[-1]
        pick.append(i)
        rest = np.array(order[:-1], dtype=np.int64)
        if len(rest) == 0:
            break
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        if mode == "min":
            o = inter / np.minimum(area[i], area[rest])
        else:
            o = inter / (area[i] + area[rest] - inter)
        order = list(rest[o <= threshold])
    return pick


def rerec(b):
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    side = np.maximum(w, h)
    b[:, 0] = b[:, 0] + w * 0.5 - side * 0.5
    b[:, 1] = b[:, 1] + h * 0.5 - side * 0.5
    b[:, 2] = b[:, 0] + side
    b[:, 3] = b[:, 1] + side
    return b


def bbreg(b, reg):
    w = b[:, 2] - b[:, 0] + 1
    h = b[:, 3] - b[:, 1] + 1
    out = b.copy()
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def crop(img, box, size):
    """The (1-based, inclusive) box's pixels, zero outside the photo, resized."""
    h, w = img.shape[:2]
    x1, y1, x2, y2 = (int(v) for v in box[:4])
    tw, th = x2 - x1 + 1, y2 - y1 + 1
    tmp = np.zeros((th, tw, 3), np.float32)
    sx, ex, sy, ey = max(x1, 1), min(x2, w), max(y1, 1), min(y2, h)
    if ex >= sx and ey >= sy:
        tmp[sy - y1:ey - y1 + 1, sx - x1:ex - x1 + 1] = img[sy - 1:ey, sx - 1:ex]
    return im_resample(tmp, size, size)


class Mtcnn:
    def __init__(self, models, min_face=20.0, factor=0.85, thresholds=(0.6, 0.7, 0.9)):
        load = lambda d: cv2.dnn.readNetFromCaffe(f"{models}/{d}.prototxt",
                                                  f"{models}/{d}.caffemodel")
        self.pnet, self.rnet, self.onet = load("det1"), load("det2"), load("det3")
        self.min_face, self.factor, self.th = min_face, factor, thresholds

    def run(self, net, blob, outs):
        net.setInput(blob)
        return net.forward(outs)

    def stage1(self, img):
        h, w = img.shape[:2]
        m = 12.0 / self.min_face
        minl, scales = min(h, w) * m, []
        while minl >= 12:
            scales.append(m * self.factor ** len(scales))
            minl *= self.factor
        found = []
        for scale in scales:
            hs, ws = math.ceil(h * scale), math.ceil(w * scale)
            reg, prob = self.run(self.pnet, to_blob([im_resample(img, hs, ws)]),
                                 ["conv4-2", "prob1"])
            face = prob[0, 1]  # [x][y] cells: rows run along the photo's x
            # MATLAB's find() order, x fastest: row-major over the [y][x] view
            ys, xs = np.nonzero(face.T >= np.float32(self.th[0]))
            if len(xs) == 0:
                continue
            b = np.stack([np.fix((2 * xs + 1) / scale), np.fix((2 * ys + 1) / scale),
                          np.fix((2 * xs + 12) / scale), np.fix((2 * ys + 12) / scale),
                          face[xs, ys]] + [reg[0, k, xs, ys] for k in range(4)], 1)
            found.append(b[nms(b, 0.5, "union")])
        if not found:
            return np.zeros((0, 5))
        b = np.concatenate(found)
        b = b[nms(b, 0.7, "union")]
        w_, h_ = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        b = np.stack([b[:, 0] + b[:, 5] * w_, b[:, 1] + b[:, 6] * h_,
                      b[:, 2] + b[:, 7] * w_, b[:, 3] + b[:, 8] * h_, b[:, 4]], 1)
        b = rerec(b)
        b[:, :4] = np.fix(b[:, :4])
        return b

    def stage2(self, img, b):
        reg, prob = self.run(self.rnet, to_blob([crop(img, x, 24) for x in b]),
                             ["conv5-2", "prob1"])
        keep = prob[:, 1] > np.float32(self.th[1])
        b = np.concatenate([b[keep, :4], prob[keep, 1:2]], 1)
        reg = reg[keep]
        pick = nms(b, 0.7, "union")
        return rerec(bbreg(b[pick], reg[pick]))

    def stage3(self, img, b):
        b = np.fix(b)
        crops = [crop(img, x, 48) for x in b]
        reg, pts, prob = self.run(self.onet, to_blob(crops), ["conv6-2", "conv6-3", "prob1"])
        keep = np.nonzero(prob[:, 1] > np.float32(self.th[2]))[0]
        b = np.concatenate([b[keep, :4], prob[keep, 1:2]], 1)
        regressed = bbreg(b, reg[keep])
        pick = nms(regressed, 0.7, "min")
        sel = keep[pick]
        p1 = pts[sel]
        mirrored = to_blob([crops[i][:, ::-1] for i in sel])
        p2 = self.run(self.onet, mirrored, ["conv6-3"])[0]
        p2 = np.concatenate([1 - p2[:, [1, 0, 2, 4, 3]], p2[:, [6, 5, 7, 9, 8]]], 1)
        p = (p1 + p2) / 2
        src = b[pick]
        w = (src[:, 2] - src[:, 0] + 1)[:, None]
        h = (src[:, 3] - src[:, 1] + 1)[:, None]
        xs = w * p[:, :5] + src[:, 0:1] - 1 - 1  # MATLAB's 1-based value, then 0-based
        ys = h * p[:, 5:] + src[:, 1:2] - 1 - 1
        return regressed[pick], np.stack([xs, ys], 2).reshape(-1, 10)

    def detect(self, img):
        """Boxes (0-based, x1 y1 x2 y2 score) and landmarks (x, y interleaved)."""
        img = img.astype(np.float32)
        b = self.stage1(img)
        if len(b):
            b = self.stage2(img, b)
        if len(b) == 0:
            return np.zeros((0, 5)), np.zeros((0, 10))
        boxes, points = self.stage3(img, b)
        boxes[:, :4] -= 1
        return boxes, points


def nearest_centre(boxes, w, h):
    """SphereFace's choice, in MATLAB's 1-based frame."""
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + 1 - w / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + 1 - h / 2
    return int(np.argmin(cx * cx + cy * cy))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--list", required=True, help="names, one per line (up to a tab)")
    ap.add_argument("--root", default="")
    ap.add_argument("--out", default="-")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="cv2.setNumThreads (0: OpenCV's)")
    ap.add_argument("--all-faces", action="store_true",
                    help="every face, with its box x1 y1 x2 y2 and score (as sphere-detect's)")
    a = ap.parse_args()
    if a.threads:
        cv2.setNumThreads(a.threads)
    names = [l.split("\t")[0].strip() for l in open(a.list) if l.strip() and l[0] != "#"]
    names = names[:a.limit] if a.limit else names
    det = Mtcnn(a.models)
    out = sys.stdout if a.out == "-" else open(a.out, "w")
    t0, faces, misses = time.time(), 0, 0
    for name in names:
        bgr = cv2.imread(f"{a.root}/{name}" if a.root else name, cv2.IMREAD_COLOR)
        if bgr is None:
            print(f"# unreadable\t{name}", file=out)
            continue
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        boxes, points = det.detect(img)
        faces += len(boxes)
        if len(boxes) == 0:
            misses += 1
            print(f"# no face\t{name}", file=out)
            continue
        chosen = range(len(boxes)) if a.all_faces else [
            nearest_centre(boxes, img.shape[1], img.shape[0])]
        for k in chosen:
            extra = "".join(f"\t{v:.2f}" for v in boxes[k, :4]) + f"\t{boxes[k, 4]:.5f}"
            print(name + "".join(f"\t{v:.2f}" for v in points[k]) + (extra if a.all_faces else ""),
                  file=out)
    dt = time.time() - t0
    print(f"mtcnn_opencv: {len(names)} photos, {faces} faces, {misses} without a face; "
          f"{dt:.1f} s ({len(names) / dt:.1f} photos/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
