"""The floor under issue 10's wall-time figures: what a run cannot avoid, in fresh processes.

    python benchmarks/bench_floor.py [--repeat 3] [--steps 1024] [--matrix]

For ``gradharness compare --batch 32 --steps T --input-size 128 --hidden-size 128
--backends torch`` (target: 4 s wall at T=1024, imports included) it measures, each in a
fresh process, medians of ``--repeat`` runs, wall and CPU (user + sys) seconds:

    imports     python -c "import torch, harness.cli, matplotlib.figure" (what the run loads)
    bare        the computations no backend can skip, without any harness code, one thread
                per pool (the harness's default budget): torch's nn.RNN forward+backward, the
                same with one nn.RNN per layer, an nn.RNNCell loop and the same loop in torch
                ops (each over the sequence unbound once), and the NumPy reference
                forward+backward (reference_impls)
    cli         the command itself, CSV and HTML written

and prints the floor (imports + bare), the target, and the ratios floor/target and
cli/floor: what the harness adds on top of the floor, and whether the target is below it.
CPU seconds are the steadier measure on a shared machine; with one thread per pool (the
default budget) a run's wall time cannot go below its CPU time on an idle machine either.
``--matrix`` does the same for ``--cell all --layers 1,2,3 --backends all`` (target 8 s):
there the floor printed is the imports alone (TensorFlow with tf_keras for the TF1 cells,
Keras 3, torch, pandas, matplotlib). Timings only, no assertion (machines are noisy; the
load average is printed with every run).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SIZES = dict(N=32, D=128, H=128)

BARE = r"""
import sys, time, json, resource
sys.path.insert(0, {root!r})
import numpy as np, torch
from threadpoolctl import threadpool_limits
from reference_impls.stack import stack_backward, stack_forward
torch.set_num_threads(1)
N, T, D, H = {N}, {T}, {D}, {H}
rng = np.random.default_rng(0)
p = {{"weight_ih": rng.uniform(-.1, .1, (H, D)), "weight_hh": rng.uniform(-.1, .1, (H, H)),
      "bias_ih": rng.uniform(-.1, .1, H), "bias_hh": rng.uniform(-.1, .1, H)}}
x, dout = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(dout)

def fused():
    m = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    out, _ = m(xt)
    (out * gt).sum().backward()

def layerwise():                       # the harness's -layerwise backend: one module per layer (here one)
    m = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    out, hn = m(xt)
    ((out * gt).sum() + hn.sum()).backward()

def loop(step):
    h, outs = torch.zeros(N, H, dtype=torch.float64), []
    for inp in xt.unbind(1):
        h = step(inp, h)
        outs.append(h)
    (torch.stack(outs, 1) * gt).sum().backward()

cell = torch.nn.RNNCell(D, H, dtype=torch.float64)
w = {{k: torch.tensor(v, requires_grad=True) for k, v in p.items()}}
functional = lambda inp, h: torch.tanh(torch.addmm(w["bias_ih"], inp, w["weight_ih"].T)
                                       + torch.addmm(w["bias_hh"], h, w["weight_hh"].T))

def reference():
    with threadpool_limits(1):
        _, caches = stack_forward("rnn", x, {{"h": np.zeros((1, N, H))}}, [p], activation="tanh")
        stack_backward("rnn", dout, {{"h": np.zeros((1, N, H))}}, caches)

out = {{}}
for name, fn in (("torch.nn.RNN", fused), ("torch.nn.RNN-layerwise", layerwise),
                 ("torch.nn.RNNCell loop", lambda: loop(cell)), ("torch functional loop", lambda: loop(functional)),
                 ("reference", reference)):
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    fn()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out[name] = (time.perf_counter() - t0, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print(json.dumps(out))
"""


def timed(cmd, env=None):
    """(wall, user + sys) seconds of one fresh process running ``cmd``; its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout


def median_of(runs):
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def line(label, wall, cpu, note=""):
    print(f"  {label:34s} {wall:7.2f} s wall {cpu:7.2f} s cpu  {note}", flush=True)


def compare_torch(steps, repeat, out):
    import json
    cli = [sys.executable, "-m", "harness", "compare", "--batch", "32", "--steps", str(steps), "--input-size", "128",
           "--hidden-size", "128", "--backends", "torch", "-q", "--csv", os.path.join(out, "r.csv"),
           "--html", os.path.join(out, "r.html")]
    imports = [sys.executable, "-c", "import torch, harness.cli, matplotlib.figure"]
    bare = [sys.executable, "-c", BARE.format(root=ROOT, T=steps, **SIZES)]
    runs = {"imports": [], "bare": [], "cli": []}
    parts = []
    for _ in range(repeat):                          # interleaved: the three see the same load
        runs["imports"].append(timed(imports)[:2])
        wall, cpu, text = timed(bare)
        parts.append(json.loads(text))
        runs["bare"].append((sum(w for w, _ in parts[-1].values()), sum(c for _, c in parts[-1].values())))
        runs["cli"].append(timed(cli)[:2])
    print(f"compare (32, {steps}, 128, 128), --backends torch, target 4 s wall (load {os.getloadavg()[0]:.1f})")
    imp, bare_m, cli_m = (median_of(runs[k]) for k in ("imports", "bare", "cli"))
    line("imports (torch, harness, matplotlib)", *imp)
    for name in parts[0]:
        line("  bare " + name, statistics.median(p[name][0] for p in parts), statistics.median(p[name][1] for p in parts))
    line("bare computations, all five", *bare_m)
    floor = (imp[0] + bare_m[0], imp[1] + bare_m[1])
    line("floor = imports + bare", *floor, f"floor/target {floor[0] / 4.0:.2f}x wall, {floor[1] / 4.0:.2f}x cpu")
    line("the CLI command", *cli_m, f"cli/floor {cli_m[0] / floor[0]:.2f}x wall, {cli_m[1] / floor[1]:.2f}x cpu; "
         f"cli/target {cli_m[0] / 4.0:.2f}x")


def matrix(repeat, out):
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    imports = [sys.executable, "-c", "import tensorflow as tf, tf_keras, keras, torch, pandas, matplotlib.figure; "
               "tf.compat.v1.nn.rnn_cell.BasicRNNCell; import harness.cli"]
    cli = [sys.executable, "-m", "harness", "compare", "--cell", "all", "--layers", "1,2,3", "--backends", "all", "-q",
           "--csv", os.path.join(out, "m.csv"), "--html", os.path.join(out, "m.html")]
    runs = {"imports": [], "cli": []}
    for _ in range(repeat):
        runs["imports"].append(timed(imports, env)[:2])
        runs["cli"].append(timed(cli)[:2])
    print(f"full matrix (--cell all --layers 1,2,3 --backends all), target 8 s wall (load {os.getloadavg()[0]:.1f})")
    imp, cli_m = median_of(runs["imports"]), median_of(runs["cli"])
    line("imports alone (floor)", *imp, f"floor/target {imp[0] / 8.0:.2f}x wall, {imp[1] / 8.0:.2f}x cpu")
    line("the CLI command", *cli_m, f"cli/floor {cli_m[0] / imp[0]:.2f}x wall; cli/target {cli_m[0] / 8.0:.2f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1024)
    ap.add_argument("--matrix", action="store_true", help="also the full default matrix")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as out:
        compare_torch(args.steps, args.repeat, out)
        if args.matrix:
            matrix(args.repeat, out)


if __name__ == "__main__":
    main()
