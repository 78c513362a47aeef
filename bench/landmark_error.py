#!/usr/bin/env python3
"""Landmark error of a detector's output against a reference landmark file
(both in the format of lfw_landmark_150px.txt: name, then x y of the left
eye, right eye, nose, left and right mouth corner; '#' lines are comments,
except sphere-detect's '# no face' lines, which count as misses).

Per photo: the mean distance of the 5 landmarks to the reference, divided by
the reference's inter-ocular distance (left eye to right eye). Prints the
mean, the median and the worst over the photos, and how many are above 10%.

  python3 bench/landmark_error.py OUTPUT ../shared/data/lfw/lfw_landmark_150px.txt
"""
import math
import sys


def read(path):
    points, missed = {}, []
    for line in open(path):
        if line.startswith("# no face"):
            missed.append(line.rstrip("\n").split("\t", 1)[1])
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) < 11:
            continue  # a line still being written
        points.setdefault(f[0], [float(v) for v in f[1:11]])  # the first face of a name
    return points, missed


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    got, missed = read(sys.argv[1])
    ref, _ = read(sys.argv[2])
    errors = []
    for name, p in got.items():
        r = ref[name]
        eyes = math.hypot(r[0] - r[2], r[1] - r[3])
        d = sum(math.hypot(p[2 * j] - r[2 * j], p[2 * j + 1] - r[2 * j + 1]) for j in range(5))
        errors.append((d / 5 / eyes, name))
    errors.sort()
    n = len(errors)
    mean = sum(e for e, _ in errors) / n
    print(f"{n} photos with a face, {len(missed)} without: mean error {100 * mean:.2f}% of the "
          f"inter-ocular distance, median {100 * errors[n // 2][0]:.2f}%, worst "
          f"{100 * errors[-1][0]:.2f}% ({errors[-1][1]}), "
          f"{sum(e > 0.1 for e, _ in errors)} above 10%")
    for name in missed:
        print(f"no face: {name}")


if __name__ == "__main__":
    main()
