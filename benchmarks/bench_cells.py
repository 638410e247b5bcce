"""Reference forward+backward vs torch forward+backward, side by side in one process.

    python benchmarks/bench_cells.py [--cells rnn,lstm,gru] [--repeat 5]

Prints, per cell, dtype and size (N, T, D, H), the best-of-repeat time of each and the
ratio reference/torch, then the wall time, in a fresh process (imports included), of the
default `gradharness compare` and of the full default matrix (every cell, layers 1-3,
every installed backend, float64). Timings only: no assertion (machines are noisy).
"""

import argparse
import subprocess
import sys
import time

import numpy as np
import torch

from reference_impls.stack import stack_backward, stack_forward

SIZES = [(3, 10, 4, 5), (32, 64, 128, 128), (64, 128, 256, 256)]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
OPTIONS = {"rnn": {"activation": "tanh"}, "lstm": {}, "gru": {}}


def best_of(fn, repeat):
    fn()                                                     # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(cell, dtype, size, repeat):
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
        _, caches = stack_forward(cell, x, s0, [p], **OPTIONS[cell])
        stack_backward(cell, dout, dn, caches)

    m = MODULES[cell](D, H, batch_first=True, dtype=getattr(torch, dtype))
    xt = torch.tensor(x, requires_grad=True)
    gt = torch.tensor(dout)

    def torch_fb():
        m.zero_grad()
        xt.grad = None
        out, _ = m(xt)
        (out * gt).sum().backward()

    return best_of(reference, repeat), best_of(torch_fb, repeat)


def cli_wall_time(args=()):
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness", "compare", "--csv", "", "--html", "", *args],
                   check=False, capture_output=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads {torch.get_num_threads()}")
    print(f"{'cell':5} {'dtype':8} {'N,T,D,H':18} {'reference':>11} {'torch':>11} {'ref/torch':>9}")
    for cell in args.cells.split(","):
        for dtype in ("float64", "float32"):
            for size in SIZES:
                ref, tor = bench(cell, dtype, size, args.repeat)
                print(f"{cell:5} {dtype:8} {str(size):18} {ref * 1e3:9.2f}ms {tor * 1e3:9.2f}ms {ref / tor:9.2f}")
    print(f"gradharness compare (default case, fresh process): {cli_wall_time():.2f} s wall")
    matrix = ("--cell", "all", "--layers", "1,2,3", "--backends", "all")
    print(f"gradharness compare {' '.join(matrix)} (fresh process): {cli_wall_time(matrix):.2f} s wall")


if __name__ == "__main__":
    main()
