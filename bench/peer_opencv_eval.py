#!/usr/bin/env python3
"""The peer of `sphere-eval` for bench/compare_eval.sh: OpenCV's dnn module runs the
pretrained MobileFaceNet over the LFW crops that pairs.txt uses and their mirrors,
then scores the 10 folds with the protocol of ../shared/models/mobilefacenet/README.md
(concat(f(x), f(hflip x)); per test fold, subtract the mean feature of the other 9,
L2-normalise, cosine; threshold: the mean of the t = k/10000 that reach the best
accuracy on the 9 training folds). Prints the per-fold accuracies, the mean and the
wall time. A benchmark peer only (Debian's python3-opencv and python3-numpy), never a
dependency of SphereCL or its tests.
"""
import argparse
import os
import sys
import time

import cv2
import numpy as np


def read_pairs(path):
    """[(fold, same, name_a, name_b)] from LFW's pairs.txt (header 'folds per_fold')."""
    with open(path) as f:
        lines = [l.split() for l in f if l.strip()]
    folds, per = int(lines[0][0]), int(lines[0][1])
    pairs = []
    for i, t in enumerate(lines[1:]):
        if len(t) == 3:
            a, b, same = (t[0], int(t[1])), (t[0], int(t[2])), True
        else:
            a, b, same = (t[0], int(t[1])), (t[2], int(t[3])), False
        name = lambda p: "%s/%s_%04d.jpg" % (p[0], p[0], p[1])
        pairs.append((i // (2 * per), same, name(a), name(b)))
    assert len(pairs) == folds * 2 * per, "pairs.txt: %d pairs, header says %d" % (
        len(pairs), folds * 2 * per)
    return folds, pairs


def features(net, root, names, batch, rgb):
    """{name: concat(f(x), f(hflip x))}, batch images (and their mirrors) per forward."""
    out = {}
    for s in range(0, len(names), batch):
        chunk = names[s:s + batch]
        imgs = []
        for n in chunk:
            im = cv2.imread(os.path.join(root, n), cv2.IMREAD_COLOR)
            if im is None:
                sys.exit("peer_opencv_eval.py: cannot read %s" % os.path.join(root, n))
            imgs.append(im)
        imgs += [cv2.flip(im, 1) for im in imgs]
        # (p - 127.5) / 128, RGB planes when rgb (cv2 decodes BGR)
        blob = cv2.dnn.blobFromImages(imgs, 1.0 / 128, (96, 112), (127.5, 127.5, 127.5),
                                      swapRB=rgb, crop=False)
        net.setInput(blob)
        f = net.forward().reshape(len(imgs), -1)
        k = len(chunk)
        for i, n in enumerate(chunk):
            out[n] = np.concatenate([f[i], f[k + i]]).astype(np.float64)
        done = s + len(chunk)
        if done % (batch * 20) < batch or done == len(names):
            print("  %d/%d images" % (done, len(names)), file=sys.stderr)
    return out


def fold_accuracies(folds, pairs, feat):
    fa = np.array([feat[p[2]] for p in pairs])
    fb = np.array([feat[p[3]] for p in pairs])
    same = np.array([p[1] for p in pairs])
    fold = np.array([p[0] for p in pairs])
    ts = np.arange(-10000, 10001) / 10000.0
    accs = []
    for k in range(folds):
        train, test = fold != k, fold == k
        mu = np.mean(np.concatenate([fa[train], fb[train]]), axis=0)

        def scores(sel):
            a, b = fa[sel] - mu, fb[sel] - mu
            a /= np.linalg.norm(a, axis=1, keepdims=True)
            b /= np.linalg.norm(b, axis=1, keepdims=True)
            return np.sum(a * b, axis=1)

        s_train, s_test = scores(train), scores(test)
        y = same[train]
        # accuracy at every t: same pairs above t, different pairs below t
        s_same, s_diff = np.sort(s_train[y]), np.sort(s_train[~y])
        correct = (len(s_same) - np.searchsorted(s_same, ts, side="right")) + \
            np.searchsorted(s_diff, ts, side="left")
        t = np.mean(ts[correct == correct.max()])
        yt = same[test]
        accs.append(np.mean(np.where(yt, s_test > t, s_test < t)) * 100)
    return accs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--net", required=True, help="deploy prototxt")
    ap.add_argument("--weights", required=True, help="caffemodel")
    ap.add_argument("--pairs", required=True, help="LFW pairs.txt")
    ap.add_argument("--root", required=True, help="folder of the aligned crops")
    ap.add_argument("--batch", type=int, default=64, help="images per forward (and as many mirrors)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bgr", action="store_true", help="feed BGR planes (default: RGB)")
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    t0 = time.perf_counter()
    folds, pairs = read_pairs(a.pairs)
    names = sorted({p[2] for p in pairs} | {p[3] for p in pairs})
    net = cv2.dnn.readNetFromCaffe(a.net, a.weights)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    feat = features(net, a.root, names, a.batch, not a.bgr)
    accs = fold_accuracies(folds, pairs, feat)
    wall = time.perf_counter() - t0
    print("ACC " + " ".join("%6.2f" % x for x in accs) + " %6.2f" % np.mean(accs))
    print("OpenCV %s dnn, %d threads: %d images and their mirrors (%d forward images), "
          "LFW 10-fold accuracy %.2f%%, %.1f s wall" % (
              cv2.__version__, cv2.getNumThreads(), len(names), 2 * len(names), np.mean(accs),
              wall))


if __name__ == "__main__":
    main()
