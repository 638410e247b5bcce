"""Thread pools that fight and the budget that stops it, side by side in one process.

    python benchmarks/bench_threads.py [--steps 256] [--repeat 5]

Runs ``harness.compare`` (the reference, every torch backend, the comparisons: NumPy and
torch calls alternating) at (N, T, D, H) = (32, T, 128, 128) under each thread policy
in turn, interleaved, and prints the median wall time of each and its ratio to leaving
the pools alone (GRADHARNESS_THREADS=off: NumPy's OpenBLAS and torch's OpenMP pool at
their defaults, one thread per core each). Then the same for the bare pieces: the
reference forward+backward and torch's nn.RNN forward+backward alternating. Timings
only: no assertion (machines are noisy; this one is shared).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import harness  # noqa: E402
from harness import threads  # noqa: E402
from reference_impls.stack import stack_backward, stack_forward  # noqa: E402


def policies():
    """off (pools left alone), the default budget (1) and a budget of every core."""
    out = {"off": "off"}
    for n in sorted({1, len(os.sched_getaffinity(0))}):
        out[f"budget {n}"] = str(n)
    return out


def alternating(size):
    """Reference forward+backward then torch nn.RNN forward+backward, each under its budget."""
    N, T, D, H = size
    rng = np.random.default_rng(0)
    p = {"weight_ih": rng.uniform(-.1, .1, (H, D)), "weight_hh": rng.uniform(-.1, .1, (H, H)),
         "bias_ih": np.zeros(H), "bias_hh": np.zeros(H)}
    x, dout = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    m = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def run():
        with threads.budget("numpy"):
            _, caches = stack_forward("rnn", x, {"h": np.zeros((1, N, H))}, [p], activation="tanh")
            stack_backward("rnn", dout, {"h": np.zeros((1, N, H))}, caches)
        with threads.budget("torch"):
            out, _ = m(xt)
            (out * gt).sum().backward()
    return run


def measure(jobs, repeat):
    """{(job, policy): median seconds}, policies interleaved within every repeat."""
    times = {}
    for _ in range(repeat):
        for job, fn in jobs.items():
            for name, value in policies().items():
                os.environ["GRADHARNESS_THREADS"] = value
                t0 = time.perf_counter()
                fn()
                times.setdefault((job, name), []).append(time.perf_counter() - t0)
    os.environ.pop("GRADHARNESS_THREADS", None)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    size = (32, args.steps, 128, 128)
    print(f"cores {os.cpu_count()}, torch threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    jobs = {
        "compare, every torch backend": lambda: harness.compare(
            "rnn", batch=size[0], steps=size[1], input_size=size[2], hidden_size=size[3]),
        "reference then nn.RNN, fwd+bwd": alternating(size),
    }
    for fn in jobs.values():
        fn()                                                 # warm-up
    med = measure(jobs, args.repeat)
    print(f"(N, T, D, H) = {size}, median of {args.repeat}")
    for job in jobs:
        base = med[(job, "off")]
        for name in policies():
            print(f"  {job:32} {name:10} {med[(job, name)]:8.3f} s   {med[(job, name)] / base:5.2f}x of off")


if __name__ == "__main__":
    main()
