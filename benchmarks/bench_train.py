"""What training comparisons cost: 1,000 training steps of seed 001's setup per side.

    python benchmarks/bench_train.py [--repeat 3] [--steps 1000] [--no-tf]

Seed 001's setup (batch 200, num_steps 5, state size 4, one-hot inputs, softmax head,
Adagrad lr 0.1 as TF1 has it, the state carried between batches) trained for --steps
updates by each side, in one process, one after the other, --repeat times: your
hand-written model (examples/seed001_rnn.py:fn, called through gradharness's checks),
the NumPy reference, torch (nn.RNN + torch.optim.Adagrad) and TF1 (BasicRNNCell through
dynamic_rnn, tf.compat.v1.train.AdagradOptimizer, built once per repeat; its build time is
printed apart). Prints the median seconds of each side, torch's ratio to the hand-written
side, and the targets of issue 12: hand-written + torch under 15 s, TF1 under 60 s.
Then one whole check_training (hand-written vs reference and torch, comparison included).
Timings only: no assertion (machines are noisy).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from examples.seed001_rnn import fn  # noqa: E402
from harness.gradnorms import one_torch_thread  # noqa: E402
from harness.train import driver  # noqa: E402
from harness.train.api import _data, _setup, check_training  # noqa: E402
from harness.train.optimizers import Clip, make_optimizer  # noqa: E402

SEED001 = dict(hidden_size=4, input_size=2, batch=200, head="linear", output_size=2, loss="softmax_cross_entropy",
               optimizer="adagrad:tf1", lr=0.1, num_steps=5, data="seed001", carry_state=True, init="tf1")


def sides(no_tf):
    out = {"hand-written (yours)": lambda c, r, k, t: driver.NumpySide("yours", driver.user_grads(fn), c, r, k, t),
           "reference": lambda c, r, k, t: driver.NumpySide("reference", driver.reference_grads, c, r, k, t)}
    from harness.train.torch_side import TorchSide
    out["torch"] = TorchSide
    if not no_tf:
        from harness.train.tf_side import TF1Side
        out["tf1"] = TF1Side
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--no-tf", action="store_true")
    args = ap.parse_args(argv)
    case, trained = _setup("rnn", 1, "tanh", True, "linear", 2, "softmax_cross_entropy", None, "mean", True, 200, 5,
                           2, 4, "float64", 0, 0.0, True, "tf1", None, False)
    epochs, _ = _data("seed001", case, 5, args.steps, 1)
    rule, clip = make_optimizer("adagrad:tf1", 0.1), Clip()
    times, cpus, builds = {}, {}, {}
    with one_torch_thread():
        for _ in range(args.repeat):
            for name, make in sides(args.no_tf).items():
                t0 = time.perf_counter()
                side = make(case, rule, clip, trained)
                builds.setdefault(name, []).append(time.perf_counter() - t0)
                run = driver.train(side, case, epochs, 5, True, args.steps)
                times.setdefault(name, []).append(run.seconds)
                cpus.setdefault(name, []).append(run.cpu_seconds)
    med = {n: statistics.median(v) for n, v in times.items()}
    cpu = {n: statistics.median(v) for n, v in cpus.items()}
    print(f"{args.steps} training steps of seed 001's setup, median of {args.repeat} (wall seconds; CPU "
          "seconds of this process, which is what an idle machine's wall time would be):")
    for name, t in med.items():
        print(f"  {name:<22} {t:7.2f} s wall, {cpu[name]:6.2f} s CPU ({1000 * t / args.steps:.2f} ms/step; "
              f"build {statistics.median(builds[name]):.2f} s)")
    hand = med["hand-written (yours)"]
    print(f"  torch / hand-written: {med['torch'] / hand:.2f}x")
    print(f"  hand-written + torch: {hand + med['torch']:.2f} s wall, "
          f"{cpu['hand-written (yours)'] + cpu['torch']:.2f} s CPU (target < 15 s)")
    if "tf1" in med:
        print(f"  tf1 / hand-written: {med['tf1'] / hand:.2f}x; tf1 with its build: "
              f"{med['tf1'] + statistics.median(builds['tf1']):.2f} s (target < 60 s)")
    t0 = time.perf_counter()
    report = check_training(fn, train_steps=args.steps, against=("reference", "torch"), **SEED001)
    print(f"check_training(hand-written vs reference and torch, {args.steps} steps): "
          f"{time.perf_counter() - t0:.2f} s wall, verdict {report.verdict}")


if __name__ == "__main__":
    main()
