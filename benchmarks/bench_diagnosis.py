"""What a failing check_backward with localization and diagnosis costs, over the mutant zoo.

    python benchmarks/bench_diagnosis.py [--repeat 3] [--against reference] [--zoo first|blind|held2|...|all]

For every mutant of every module of a zoo (tests/zoo: the first zoo by default, a held-out
one, or all; default sizes N=3 T=5 D=4 H=6, float64),
runs check_backward once to warm up (compiles the grammar's mutants of that cell) and then
``repeat`` times, and prints the best time per mutant, then per cell the median and the
worst, and how many stay within 0.5 s. Timings only: no assertion (machines are noisy).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from harness.guard.check import check_backward  # noqa: E402
from zoo import index  # noqa: E402
from zoo.verify import ZOOS  # noqa: E402

ZOOS = {"first": index.MODULES, **ZOOS}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", default="reference")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every mutant's time")
    ap.add_argument("--zoo", default="first", choices=list(ZOOS) + ["all"])
    args = ap.parse_args(argv)
    modules = {k: v for z in ZOOS.values() for k, v in z.items()} if args.zoo == "all" else ZOOS[args.zoo]
    per_cell, slow = {}, []
    for style, module in modules.items():
        for bug in module.BUGS:
            fwd, bwd, opts = module.make(bug)
            run = lambda: check_backward(fwd, bwd, against=args.against, **opts)   # noqa: E731
            run()
            best = min(_timed(run) for _ in range(args.repeat))
            per_cell.setdefault(opts["cell"], []).append(best)
            if best > 0.5:
                slow.append(f"{style} {bug} {best * 1e3:.0f} ms")
            if args.verbose:
                print(f"  {style:22s} {bug:28s} {best * 1e3:8.1f} ms")
    print(f"failing check_backward against {args.against}, localization and diagnosis included, "
          f"zoo {args.zoo}, default sizes (N=3 T=5 D=4 H=6), best of", args.repeat)
    for cell, times in per_cell.items():
        within = sum(t <= 0.5 for t in times)
        print(f"  {cell:5s} {len(times):4d} mutants  median {statistics.median(times) * 1e3:7.1f} ms  "
              f"worst {max(times) * 1e3:7.1f} ms  within 0.5 s: {within}/{len(times)}")
    if slow:
        print("  over 0.5 s:", "; ".join(slow))


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
