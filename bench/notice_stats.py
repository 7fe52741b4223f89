#!/usr/bin/env python3
"""Summarises bench/notice_bench output for bench/run.sh.

    notice_stats.py FILE

FILE holds runs of `notice_bench 1 1 1 1 100 1000` (six "notices=N seconds=S bytes=B" lines per
run): the first single notice is cold (fonts loaded), the best of the next three is the warm
time of one notice. Prints, medians over the runs: cold(1) and warm(1) in ms, t(100) and t(1000)
in ms, the sizes of 1, 100 and 1,000 notices in bytes, t(100)/(100×t(1)) and t(1000)/(10×t(100)).
"""
import re
import statistics
import sys


def main(path):
    runs, cur = [], []
    with open(path) as f:
        for line in f:
            m = re.match(r"notices=(\d+) seconds=([\d.]+) bytes=(\d+)", line)
            if not m:
                continue
            cur.append((int(m[1]), float(m[2]), int(m[3])))
            if len(cur) == 6:
                runs.append(cur)
                cur = []
    if not runs:
        raise SystemExit("notice_stats.py: no complete run in " + path)
    med = statistics.median
    cold = med(r[0][1] for r in runs)
    warm = med(min(x[1] for x in r[1:4]) for r in runs)
    t100 = med(r[4][1] for r in runs)
    t1000 = med(r[5][1] for r in runs)
    b1, b100, b1000 = runs[0][1][2], runs[0][4][2], runs[0][5][2]
    r100 = t100 / (100 * warm) if warm > 0 else float("nan")
    r1000 = t1000 / (10 * t100) if t100 > 0 else float("nan")
    print(f"{cold * 1000:.1f} {warm * 1000:.2f} {t100 * 1000:.1f} {t1000 * 1000:.1f} "
          f"{b1} {b100} {b1000} {r100:.3f} {r1000:.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
