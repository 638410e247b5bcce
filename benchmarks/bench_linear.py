"""Linear in T: compare's wall time and time per step from T=64 to 4096, and the harness's
reference backend beside the bare reference, side by side in one process.

    python benchmarks/bench_linear.py [--steps 64,256,1024,4096] [--repeat 3] [--no-cli] [--no-inproc]

At (N, D, H) = (32, 128, 128), one RNN layer, float64:

1. ``gradharness compare ... --backends torch --csv --html -q`` as a user runs it (a fresh
   process each time, imports included), the sizes interleaved within every repeat:
   median wall seconds, and milliseconds per step.
2. In this process, after a warm-up: ``harness.compare`` (every torch backend), alone and
   with the report written (CSV and HTML): median seconds, milliseconds per step, and the
   ratio of that per-step time to the smallest T's (the issue's "constant within 1.5x").
3. The reference alone: the bare forward+backward (reference_impls.stack), the harness's
   reference backend (the same plus its Trace), and the backend plus the rows of one
   comparison against its own trace (every per-step row formed), interleaved: medians
   and their ratios to the bare reference.

Timings only: no assertion (machines are noisy; this one is shared).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

SIZE = dict(batch=32, input_size=128, hidden_size=128)


def cli_walls(steps, repeat, tmp):
    """{T: [seconds]} of the CLI in fresh processes, the sizes interleaved."""
    out = {T: [] for T in steps}
    for _ in range(repeat):
        for T in steps:
            cmd = [sys.executable, "-m", "harness", "compare", "--batch", "32", "--steps", str(T),
                   "--input-size", "128", "--hidden-size", "128", "--backends", "torch",
                   "--csv", os.path.join(tmp, "r.csv"), "--html", os.path.join(tmp, "r.html"), "-q"]
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            out[T].append(time.perf_counter() - t0)
    return out


def medians(jobs, repeat):
    """{name: median seconds}: every job once to warm up, then interleaved ``repeat`` times."""
    for fn in jobs.values():
        fn()
    times = {name: [] for name in jobs}
    for _ in range(repeat):
        for name, fn in jobs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def inproc_jobs(steps, tmp):
    """{(what, T): job}: harness.compare alone, and with its report written (CSV and HTML)."""
    import harness

    def job(T, save):
        def run():
            report = harness.compare("rnn", steps=T, **SIZE)
            if save:
                report.save(os.path.join(tmp, "i.csv"), os.path.join(tmp, "i.html"))
        return run
    return {(what, T): job(T, what != "compare") for T in steps for what in ("compare", "compare + save")}


def reference_jobs(T):
    from harness.backends.reference import run_reference
    from harness.compare import Tolerance, compare_traces
    from harness.probe import make_probe
    from reference_impls.stack import stack_backward, stack_forward

    probe = make_probe("rnn", steps=T, batch=SIZE["batch"], input_size=SIZE["input_size"],
                       hidden_size=SIZE["hidden_size"])
    params = [probe.layer_params(k) for k in range(probe.layers)]
    tol = Tolerance.for_dtype(probe.dtype)

    def bare():
        _, caches = stack_forward(probe.cell, probe.x, probe.state0, params, **probe.options)
        stack_backward(probe.cell, probe.dout, probe.dstate_n, caches)

    def rows():
        ref = run_reference(probe)
        compare_traces(ref, ref, tol)
    return {"bare reference fwd+bwd": bare, "reference backend (trace)": lambda: run_reference(probe),
            "reference backend + rows": rows}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", default="64,256,1024,4096")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--no-inproc", action="store_true")
    args = ap.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",")]
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, (N, D, H) = (32, 128, 128), "
          f"median of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_cli:
            walls = cli_walls(steps, args.repeat, tmp)
            print("gradharness compare --backends torch, CSV and HTML written, fresh process (imports included):")
            for T in steps:
                m = statistics.median(walls[T])
                print(f"  T={T:5}  {m:7.2f} s wall   {1000 * m / T:7.3f} ms/step")
        if not args.no_inproc:
            med = medians(inproc_jobs(steps, tmp), args.repeat)
            for what in ("compare", "compare + save"):
                print(f"harness.compare{' + report.save' if what != 'compare' else ''} in this process (warm):")
                base = med[(what, steps[0])] / steps[0]
                for T in steps:
                    m = med[(what, T)]
                    print(f"  T={T:5}  {m:7.2f} s   {1000 * m / T:7.3f} ms/step   {m / T / base:5.2f}x T={steps[0]}'s")
    print("reference backend vs the bare reference (warm, in this process):")
    for T in steps:
        med = medians(reference_jobs(T), args.repeat)
        bare = med["bare reference fwd+bwd"]
        line = "   ".join(f"{name} {t:7.3f} s ({t / bare:4.2f}x)" for name, t in med.items())
        print(f"  T={T:5}  {line}")


if __name__ == "__main__":
    main()
