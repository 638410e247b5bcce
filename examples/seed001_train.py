"""Seed 001 reproduced: the TF1 BasicRNNCell tutorial trained three ways from one init.

Its data (X Bernoulli(0.5), Y with the t-3 and t-8 dependencies, 1,000,000 draws per
epoch cut into 200 rows), one-hot inputs, state size 4, a softmax layer, the mean
cross-entropy, Adagrad with learning rate 0.1 as TF1 defines it (accumulator starting at
0.1), truncated BPTT over num_steps 5 and 10 with the final state carried from batch to
batch. Trained by

    reference   the NumPy reference cell with its own hand-written BPTT and the NumPy rule
    torch       nn.RNN + nn.Linear + cross_entropy, torch.optim.Adagrad(initial_accumulator_value=0.1, eps=0)
    tf          BasicRNNCell through tf.compat.v1.nn.dynamic_rnn, tf.compat.v1.train.AdagradOptimizer

The seed reads what was learned off the cross-entropy: 0.66 (nothing), 0.52 (the t-3
dependency), 0.45 (both); its plots settle at 0.52 for num_steps 5 and about 0.46 for 10.
"Final" here is what the seed plots: the mean training loss of the last 100 steps.

    python examples/seed001_train.py                          # the table, 1 epoch as the seed
    python examples/seed001_train.py --explore                # what it takes to reach the seed's levels
    python examples/seed001_train.py --plot-dir reports/seed001

The figures of the README come from these commands.
"""

import argparse
import time

import numpy as np

from harness.train.api import check_training
from harness.train.data import SEED001_REPORTED, SEED001_THEORY

SETUP = dict(input_size=2, batch=200, head="linear", output_size=2, loss="softmax_cross_entropy",
             reduction="mean", optimizer="adagrad:tf1", data="seed001", carry_state=True, init="tf1")


def final_ce(losses, window=100):
    return float(np.mean(losses[-window:]))


def run(num_steps, epochs=1, lr=0.1, against=("torch", "tf"), seed=0, hidden_size=4):
    t = time.perf_counter()
    report = check_training(None, num_steps=num_steps, epochs=epochs, lr=lr, against=against, seed=seed,
                            hidden_size=hidden_size, **SETUP)
    return report, time.perf_counter() - t


def table(args):
    print(f"theory: nothing learned {SEED001_THEORY['none']:.3f}, t-3 {SEED001_THEORY['t-3']:.3f}, "
          f"t-3 and t-8 {SEED001_THEORY['t-3 and t-8']:.3f}")
    print("| num_steps | state size | epochs | training steps | side | final cross-entropy | seed's level | "
          "seconds | largest weight difference from the reference |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ns in args.num_steps:
        report, _ = run(ns, args.epochs, args.lr, tuple(args.against), hidden_size=args.hidden_size)
        ref = report.runs["reference"]
        for name, r in report.runs.items():
            diff = max(float(np.max(np.abs(r.params[n] - ref.params[n]))) for n in ref.params)
            print(f"| {ns} | {args.hidden_size} | {args.epochs} | {r.steps} | {name} | {final_ce(r.loss):.4f} | "
                  f"{SEED001_REPORTED.get(ns, float('nan')):.2f} | {r.seconds:.2f} | {diff:.1e} |")
        print(f"verdict num_steps={ns}: {report.verdict}")
        for line in report.findings:
            print("  " + line)
        if args.plot_dir:
            from harness import plots
            for path in plots.save_pngs(report, args.plot_dir):
                print(f"wrote {path}")
            print(f"wrote {plots.save_png(seed_plot(report, ns), f'{args.plot_dir}/seed001-num_steps{ns}.png')}")


def seed_plot(report, num_steps):
    """The seed's own plot: the training loss averaged over every 100 steps, one line per side."""
    from harness import plots
    series = {}
    for name, r in report.runs.items():
        k = r.steps // 100 * 100
        avg = r.loss[:k].reshape(-1, 100).mean(axis=1)
        series[name] = (np.arange(1, len(avg) + 1) * 100, avg)
    fig = plots.curves(series, title=f"seed 001, num_steps={num_steps}: loss averaged over 100 steps",
                       xlabel="training step", ylabel="cross-entropy")
    ax = fig.axes[0]
    for name, level in SEED001_THEORY.items():
        ax.axhline(level, color="grey", linewidth=0.6, linestyle=":")
        ax.text(0, level, f" {name} {level:.2f}", fontsize="x-small", va="bottom", color="grey")
    return fig


EXPLORE = [  # (num_steps, state size, epochs, optimizer, lr)
    (5, 4, 1, "adagrad:tf1", 0.1), (5, 4, 10, "adagrad:tf1", 0.1), (5, 16, 3, "adagrad:tf1", 0.1),
    (10, 4, 1, "adagrad:tf1", 0.1), (10, 4, 10, "adagrad:tf1", 0.1), (10, 4, 30, "adagrad:tf1", 0.1),
    (10, 4, 10, "adagrad:tf1", 1.0), (10, 4, 10, "adam", 0.01), (10, 8, 3, "adagrad:tf1", 0.1),
    (10, 16, 1, "adagrad:tf1", 0.1), (10, 16, 3, "adagrad:tf1", 0.1), (10, 16, 3, "adam", 0.01),
]


def explore(args):
    """The reference alone (it trains like the frameworks, see the table): more epochs, other
    learning rates and optimizers, a bigger state; two seeds (init and data) each."""
    print("| num_steps | state size | epochs | optimizer | lr | final cross-entropy (seed 0, seed 1) |")
    print("|---|---|---|---|---|---|")
    for ns, H, epochs, opt, lr in EXPLORE:
        finals = []
        for seed in range(2):
            report = check_training(None, num_steps=ns, epochs=epochs, lr=lr, against=(), seed=seed, hidden_size=H,
                                    **{**SETUP, "optimizer": opt})
            finals.append(final_ce(report.runs["reference"].loss))
        print(f"| {ns} | {H} | {epochs} | {opt} | {lr:g} | {finals[0]:.3f}, {finals[1]:.3f} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num-steps", type=lambda s: [int(v) for v in s.split(",")], default=[5, 10])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--hidden-size", type=int, default=4, help="state size (the seed's 4)")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--against", type=lambda s: s.split(","), default=["torch", "tf"])
    p.add_argument("--plot-dir", default="")
    p.add_argument("--explore", action="store_true", help="what it takes to reach the seed's levels")
    args = p.parse_args(argv)
    explore(args) if args.explore else table(args)


if __name__ == "__main__":
    main()
