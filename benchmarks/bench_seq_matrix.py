"""Wall time of the full matrix with the options of bidirectional, variable-length,
projected and peephole layers, imports included (fresh processes, as a user runs it),
side by side with the plain matrix, median of several runs, and the ratio to the plain one.

    python benchmarks/bench_seq_matrix.py [runs] [--layers 1,2,3]

The issue's target: every row under 30 s on the 2-core CI machine.
"""

import statistics
import subprocess
import sys
import time

OPTIONS = {
    "plain": [],
    "--bidirectional": ["--bidirectional"],
    "--lengths random": ["--lengths", "random"],
    "--proj-size 3 --peepholes": ["--proj-size", "3", "--peepholes"],
    "all four": ["--bidirectional", "--lengths", "random", "--proj-size", "3", "--peepholes"],
}


def wall(args):
    cmd = [sys.executable, "-m", "harness", "compare", "--cell", "all", "--backends", "all", "--csv", "",
           "--html", "", *args]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main():
    argv = sys.argv[1:]
    layers = argv[argv.index("--layers") + 1] if "--layers" in argv else "1"
    runs = int(argv[0]) if argv and argv[0].isdigit() else 3
    times = {name: [] for name in OPTIONS}
    for _ in range(runs):                       # interleaved: the load of the machine hits every row alike
        for name, args in OPTIONS.items():
            times[name].append(wall(args + ["--layers", layers]))
    base = statistics.median(times["plain"])
    print(f"--cell all --backends all --layers {layers}: median of {runs} fresh processes, imports included")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:28s} {med:6.1f} s   {med / base:4.2f}x plain   (runs: {', '.join(f'{t:.1f}' for t in ts)})")


if __name__ == "__main__":
    main()
