"""Reference forward+backward vs torch forward+backward, side by side in one process.

    python benchmarks/bench_cells.py [--cells rnn,lstm,gru] [--repeat 7] [--threads 1,2] [--clock wall|cpu]

Prints, per thread count, cell, dtype and size (N, T, D, H), the median time of each
(reference and torch interleaved, each under harness.threads.budget with that many
threads, the other pool at one) and the ratio reference/torch. Timings only: no
assertion (machines are noisy).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from harness import threads  # noqa: E402
from reference_impls.stack import stack_backward, stack_forward  # noqa: E402

SIZES = [(3, 10, 4, 5), (32, 64, 128, 128), (64, 128, 256, 256)]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
OPTIONS = {"rnn": {"activation": "tanh"}, "lstm": {}, "gru": {}}


def medians(fns, repeat, clock=time.perf_counter):
    """Median seconds of each function, run interleaved ``repeat`` times after a warm-up."""
    times = [[] for _ in fns]
    for fn in fns:
        fn()
    for _ in range(repeat):
        for fn, acc in zip(fns, times):
            t0 = clock()
            fn()
            acc.append(clock() - t0)
    return [statistics.median(t) for t in times]


def bench(cell, dtype, size, repeat, clock):
    N, T, D, H = size
    rng = np.random.default_rng(0)
    G = GATES[cell]
    p = {"weight_ih": rng.uniform(-.1, .1, (G * H, D)), "weight_hh": rng.uniform(-.1, .1, (G * H, H)),
         "bias_ih": rng.uniform(-.1, .1, G * H), "bias_hh": rng.uniform(-.1, .1, G * H)}
    p = {k: v.astype(dtype) for k, v in p.items()}
    x = rng.standard_normal((N, T, D)).astype(dtype)
    states = ("h", "c") if cell == "lstm" else ("h",)
    s0 = {s: np.zeros((1, N, H), dtype) for s in states}
    dout = rng.standard_normal((N, T, H)).astype(dtype)
    dn = {s: np.zeros((1, N, H), dtype) for s in states}

    def reference():
        with threads.budget("numpy"):
            _, caches = stack_forward(cell, x, s0, [p], **OPTIONS[cell])
            stack_backward(cell, dout, dn, caches)

    m = MODULES[cell](D, H, batch_first=True, dtype=getattr(torch, dtype))
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(dout)

    def torch_fb():
        with threads.budget("torch"):
            m.zero_grad()
            xt.grad = None
            out, _ = m(xt)
            (out * gt).sum().backward()

    return medians([reference, torch_fb], repeat, clock)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", default="1,2", help="thread budgets to run, comma-separated")
    ap.add_argument("--clock", default="wall", choices=("wall", "cpu"),
                    help="wall time, or this process's CPU time (all threads; steadier on a shared machine)")
    args = ap.parse_args(argv)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(f"torch {torch.__version__}, numpy {np.__version__}, load {os.getloadavg()[0]:.1f}, {args.clock} time")
    print(f"{'threads':7} {'cell':5} {'dtype':8} {'N,T,D,H':18} {'reference':>11} {'torch':>11} {'ref/torch':>9}")
    for n in args.threads.split(","):
        os.environ["GRADHARNESS_THREADS"] = n
        for cell in args.cells.split(","):
            for dtype in ("float64", "float32"):
                for size in SIZES:
                    ref, tor = bench(cell, dtype, size, args.repeat, clock)
                    print(f"{n:7} {cell:5} {dtype:8} {str(size):18} {ref * 1e3:9.2f}ms {tor * 1e3:9.2f}ms "
                          f"{ref / tor:9.2f}", flush=True)


if __name__ == "__main__":
    main()
