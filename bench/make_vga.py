#!/usr/bin/env python3
"""640x480 test photos for the detector benchmark: each LFW photo of a list
(150x150) enlarged 3.2 times to 480x480 (bilinear) and centred on a grey
640x480 canvas, written as JPEG (quality 95) with a list of the names.

  /usr/bin/python3 bench/make_vga.py --list ../shared/data/lfw/lfw_landmark_150px.txt \\
      --root ../shared/data/lfw/lfw-150px --count 50 --out /tmp/vga

writes /tmp/vga/<n>.jpg and /tmp/vga/list.txt. Needs python3-opencv.
"""
import argparse
import os

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--list", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    names = [l.split("\t")[0].strip() for l in open(a.list) if l.strip() and l[0] != "#"]
    with open(os.path.join(a.out, "list.txt"), "w") as lst:
        for i, name in enumerate(names[:a.count]):
            face = cv2.imread(os.path.join(a.root, name), cv2.IMREAD_COLOR)
            big = cv2.resize(face, (480, 480), interpolation=cv2.INTER_LINEAR)
            canvas = np.full((480, 640, 3), 128, np.uint8)
            canvas[:, 80:560] = big
            out = f"{i:04d}.jpg"
            cv2.imwrite(os.path.join(a.out, out), canvas, [cv2.IMWRITE_JPEG_QUALITY, 95])
            print(out, file=lst)


if __name__ == "__main__":
    main()
