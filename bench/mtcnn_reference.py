#!/usr/bin/env python3
"""Reference values for the MTCNN tests, computed once with OpenCV (cv2.dnn
on the same caffemodels, cv2.resize for the resampling) and pasted into
tests/graph/test_mtcnn.c and tests/apps/test_resize_matlab.c. Rerun it to
check them:

  /usr/bin/python3 bench/mtcnn_reference.py ../shared/models/mtcnn

Printed values (C initialisers):
 1. imResample references: cv2.resize, INTER_AREA when shrinking and
    INTER_LINEAR when enlarging, one axis at a time, on a fixed pattern
    (value (x, y) = (37 x + 91 y + 11) mod 256).
 2. PNet on test1.jpg decimated by 6 (every 6th pixel of every 6th row: no
    resampling, so both sides feed identical input): the 5 most face-like
    cells, their probability and 4 box regressions, and the sum of the face
    probabilities over the map. A checksum of the decoded photo shows that
    both decoders (libjpeg-turbo each) give the same pixels.
 3. RNet and ONet on the crops of test_mtcnn.c's k_crops (the box's pixels
    resized with the imResample stand-in above): face probability, box
    regression and (ONet) the 10 landmark fractions.
"""
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mtcnn_opencv import crop, im_resample, to_blob  # noqa: E402

RESIZE_CASES = [(7, 5, 3, 2), (8, 6, 4, 3), (3, 2, 7, 5), (7, 3, 4, 5), (11, 9, 4, 4)]
CROPS = [("test1.jpg", 82, 18, 82), ("test1.jpg", 290, 78, 84), ("test2.jpg", 178, 66, 206),
         ("test1.jpg", 380, 180, 60)]


def fmt(values, digits=6):
    return ", ".join(f"{v:.{digits}f}f" for v in values)


def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return ((37 * x + 91 * y + 11) % 256).astype(np.float32)[:, :, None]


def resize_refs():
    print("/* 1. imResample stand-in (cv2.resize per axis) */")
    for w, h, dw, dh in RESIZE_CASES:
        out = im_resample(np.repeat(pattern(w, h), 3, 2), dh, dw)[:, :, 0]
        print(f"{{{w}, {h}, {dw}, {dh}, {{{fmt(out.ravel(), 4)}}}}},")


def load_rgb(models, name):
    return cv2.cvtColor(cv2.imread(f"{models}/{name}", cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def pnet_refs(models):
    img = load_rgb(models, "test1.jpg")
    print(f"/* 2. test1.jpg {img.shape[1]}x{img.shape[0]}, pixel sum {int(img.sum())} */")
    small = img[::6, ::6].astype(np.float32)
    net = cv2.dnn.readNetFromCaffe(f"{models}/det1.prototxt", f"{models}/det1.caffemodel")
    net.setInput(to_blob([small]))
    reg, prob = net.forward(["conv4-2", "prob1"])
    face = prob[0, 1]
    print(f"/* input {small.shape[1]}x{small.shape[0]}, map {face.shape[0]} (x) by "
          f"{face.shape[1]} (y), face probability sum {face.sum():.5f} */")
    for i in np.argsort(-face.ravel(), kind="stable")[:5]:
        x, y = divmod(int(i), face.shape[1])
        print(f"{{{x}, {y}, {face[x, y]:.6f}f, {{{fmt(reg[0, :, x, y])}}}}},")


def crop_refs(models):
    print("/* 3. RNet: face probability, regression; ONet: the same and landmarks */")
    nets = {d: cv2.dnn.readNetFromCaffe(f"{models}/{d}.prototxt", f"{models}/{d}.caffemodel")
            for d in ("det2", "det3")}
    for name, x, y, size in CROPS:
        img = load_rgb(models, name).astype(np.float32)
        box = np.array([x + 1, y + 1, x + size, y + size], np.float32)  # MATLAB's 1-based box
        nets["det2"].setInput(to_blob([crop(img, box, 24)]))
        reg, prob = nets["det2"].forward(["conv5-2", "prob1"])
        nets["det3"].setInput(to_blob([crop(img, box, 48)]))
        oreg, pts, oprob = nets["det3"].forward(["conv6-2", "conv6-3", "prob1"])
        print(f"{{{prob[0, 1]:.6f}f, {{{fmt(reg[0])}}}, {oprob[0, 1]:.6f}f, {{{fmt(oreg[0])}}},\n"
              f" {{{fmt(pts[0])}}}}}, /* {name} {x},{y} {size} */")


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else "../shared/models/mtcnn"
    resize_refs()
    pnet_refs(models)
    crop_refs(models)


if __name__ == "__main__":
    main()
