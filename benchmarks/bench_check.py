"""What a check_backward costs: directional vs full finite differences, and one torch check.

    python benchmarks/bench_check.py [--repeat 3] [--hidden 64] [--steps 20] [--no-full] [--fail-steps 160]

On the zoo's correct cs231n RNN (tests/zoo/cs231n_rnn.py), prints the best-of-repeat wall
time of check_backward(..., against=("numeric",)) with numeric="directional" and with
numeric="full" at hidden size H and T steps, their ratio, and the time of one
check_backward against torch at the default sizes (the first call, with torch's import,
is printed separately), then of failing checks, which add localization and diagnosis, at
the default sizes and at T=--fail-steps (warm: after one untimed call). --no-full skips
the full finite differences (one perturbation per input element: minutes at T=1024).
Timings only: no assertion (machines are noisy).
"""

import argparse
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]          # this tree's harness, not an installed one

from harness.guard.check import check_backward  # noqa: E402
from zoo import cs231n_lstm, cs231n_rnn  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def best_of(fn, repeat):
    return min(timed(fn)[0] for _ in range(repeat))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--no-full", action="store_true")
    ap.add_argument("--fail-steps", type=int, default=160)
    args = ap.parse_args(argv)
    fwd, bwd, opts = cs231n_rnn.make()
    size = dict(hidden_size=args.hidden, steps=args.steps)

    def numeric(mode):
        return lambda: check_backward(fwd, bwd, against=("numeric",), numeric=mode, **size, **opts)
    directional = best_of(numeric("directional"), args.repeat)
    print(f"finite differences, cs231n RNN, N=3 T={args.steps} D=4 H={args.hidden}, float64:")
    print(f"  directional {directional * 1e3:9.1f} ms")
    if not args.no_full:
        full = best_of(numeric("full"), max(1, args.repeat // 3))
        print(f"  full        {full * 1e3:9.1f} ms")
        print(f"  speed-up    {full / directional:9.1f}x")

    def torch_check():
        return check_backward(fwd, bwd, against=("torch",), **opts)
    first, _ = timed(torch_check)
    warm = best_of(torch_check, args.repeat)
    print("check_backward against torch, default sizes (N=3 T=5 D=4 H=6):")
    print(f"  first call  {first * 1e3:9.1f} ms (imports torch)")
    print(f"  warm        {warm * 1e3:9.1f} ms")
    fwd_bug, bwd_bug, opts_bug = cs231n_rnn.make("carry_T")
    failing = best_of(lambda: check_backward(fwd_bug, bwd_bug, against=("torch",), **opts_bug), args.repeat)
    lstm = cs231n_lstm.make("bwd_swap_fo")
    failing_lstm = best_of(lambda: check_backward(lstm[0], lstm[1], against=("torch",), **lstm[2]), args.repeat)
    print("a failing check against torch, with localization and diagnosis, default sizes:")
    print(f"  cs231n RNN, carry not transposed          {failing * 1e3:9.1f} ms")
    print(f"  cs231n LSTM, f and o gradient blocks swapped {failing_lstm * 1e3:6.1f} ms")
    T = dict(steps=args.fail_steps)
    failing = warm_best(lambda: check_backward(fwd_bug, bwd_bug, against=("torch",), **T, **opts_bug), args.repeat)
    failing_lstm = warm_best(lambda: check_backward(lstm[0], lstm[1], against=("torch",), **T, **lstm[2]),
                             args.repeat)
    print(f"the same failing checks at T={args.fail_steps} (N=3 D=4 H=6), warm:")
    print(f"  cs231n RNN, carry not transposed          {failing * 1e3:9.1f} ms")
    print(f"  cs231n LSTM, f and o gradient blocks swapped {failing_lstm * 1e3:6.1f} ms")


def warm_best(fn, repeat):
    fn()
    return best_of(fn, repeat)


if __name__ == "__main__":
    main()
