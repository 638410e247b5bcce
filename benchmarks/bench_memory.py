"""Peak memory of every backend against a plain framework backward at the same size.

    python benchmarks/bench_memory.py [--steps 1024] [--cell rnn] [--backends torch,tf,keras] [--repeat 3]

Each measurement runs in a fresh process: after the imports and the probe are made, the
resident-set high-water mark is reset to the current size (Linux: /proc/self/clear_refs),
the work runs once, and the high-water mark's growth over the size before is its peak
memory; the median of ``--repeat`` fresh processes is printed (what malloc keeps varies a
little from run to run). The plain baselines are what a
user runs, at the same (N, T, D, H) and dtype: torch's nn.RNN (LSTM, GRU) forward and
backward with batch_first=True (for the reference and the torch backends), TF1's
dynamic_rnn on the cell under a GradientTape (for the TF1 backends) and Keras's layer of
the same kind under a GradientTape (for the Keras backends).
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

BASELINES = {"torch": "plain torch backward", "tf": "plain TF1 dynamic_rnn backward",
             "keras": "plain Keras backward"}


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak():
    """Reset the high-water mark to the current resident size; returns that size in MB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_mb("VmRSS")


def child(what, cell, size, dtype):
    """Run one measurement in this (fresh) process; print the peak growth in MB as JSON."""
    import numpy as np
    from harness import backends, threads
    from harness.probe import make_probe
    N, T, D, H = size
    options = {"gru": {"reset_after": what.startswith("tf.") is False}}.get(cell, {})
    probe = make_probe(cell, batch=N, steps=T, input_size=D, hidden_size=H, dtype=dtype, **options)
    if what == "reference":
        from harness.backends.reference import run_reference
        run = lambda: run_reference(probe)                  # noqa: E731
    elif what == BASELINES["torch"]:
        run = _plain_torch(probe)
    elif what == BASELINES["keras"]:
        run = _plain_keras(probe)
    elif what == BASELINES["tf"]:
        run = _plain_tf1(probe)
    else:
        module = backends.family(what.split(".")[0])
        module.import_framework()
        run = lambda: module.run(what, probe)               # noqa: E731
    np.zeros(1)
    before = _reset_peak()
    with threads.budget("numpy"):
        result = run()
    print(json.dumps({"what": what, "peak_mb": _status_mb("VmHWM") - before}))
    return result


def _plain_torch(probe):
    import torch
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[probe.cell]
    s = probe.sizes
    m = cls(s["D"], s["H"], batch_first=True, dtype=getattr(torch, probe.dtype))

    def run():
        x = torch.tensor(probe.x, requires_grad=True)
        out, _ = m(x)
        (out * torch.tensor(probe.dout)).sum().backward()
        return x.grad
    return run


def _plain_keras(probe):
    from harness.backends._tf import import_keras
    keras = import_keras()
    import tensorflow as tf
    s = probe.sizes
    cls = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[probe.cell]
    kw = {} if probe.cell == "rnn" else {"use_cudnn": False}
    layer = cls(s["H"], return_sequences=True, dtype=probe.dtype, **kw)
    layer.build((s["N"], s["T"], s["D"]))

    def run():
        x = tf.constant(probe.x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * tf.constant(probe.dout))
        return tape.gradient(loss, [x] + layer.trainable_weights)
    return run


def _plain_tf1(probe):
    from harness.backends import tf_backend
    rnn_cell = tf_backend.import_framework()
    import tensorflow as tf
    s = probe.sizes
    cls = {"rnn": rnn_cell.BasicRNNCell, "lstm": rnn_cell.BasicLSTMCell, "gru": rnn_cell.GRUCell}[probe.cell]
    cell = cls(s["H"], dtype=tf.as_dtype(probe.dtype))
    cell.build(tf.TensorShape([None, s["D"]]))

    def run():
        x = tf.constant(probe.x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            out, _ = tf.compat.v1.nn.dynamic_rnn(cell, x, dtype=tf.as_dtype(probe.dtype))
            loss = tf.reduce_sum(out * tf.constant(probe.dout))
        return tape.gradient(loss, [x] + list(cell.weights))
    return run


def measure(what, cell, size, dtype, repeat=3):
    """Median peak growth in MB over ``repeat`` fresh processes, and why it failed (or "")."""
    runs = [_measure_once(what, cell, size, dtype) for _ in range(repeat)]
    ok = sorted(mb for mb, _ in runs if mb is not None)
    return (ok[len(ok) // 2], "") if ok else (None, runs[0][1])


def _measure_once(what, cell, size, dtype):
    out = subprocess.run([sys.executable, __file__, "--child", what, "--cell", cell, "--size", ",".join(map(str, size)),
                          "--dtype", dtype], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        return None, (out.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(lines[-1])["peak_mb"], ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1024)
    ap.add_argument("--cell", default="rnn")
    ap.add_argument("--dtype", default="float64")
    ap.add_argument("--backends", default="torch,tf,keras")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, args.cell, tuple(int(v) for v in args.size.split(",")), args.dtype)
        return
    from harness import backends
    size = (32, args.steps, 128, 128)
    names = ["reference"]
    for fam in args.backends.split(","):
        try:
            mod = backends.family(fam)
            mod.import_framework()
            names += mod.backend_names(args.cell)
        except Exception as exc:                            # noqa: BLE001  (a missing framework: say so)
            print(f"{fam}: skipped ({exc})")
    print(f"peak memory growth, {args.cell} (N, T, D, H) = {size}, {args.dtype}, one layer, "
          f"median of {args.repeat} fresh processes each")
    families = {"torch"} | set(args.backends.split(","))
    base = {fam: measure(b, args.cell, size, args.dtype, args.repeat)[0] for fam, b in BASELINES.items()
            if fam in families}
    for fam, mb in base.items():
        print(f"  {BASELINES[fam]:34} {mb if mb is not None else float('nan'):8.1f} MB")
    for name in names:
        mb, why = measure(name, args.cell, size, args.dtype, args.repeat)
        fam = name.split(".")[0] if name.startswith(("tf.", "keras.")) else "torch"
        if mb is None or not base.get(fam):
            print(f"  {name:34} failed: {why or 'no baseline'}")
        else:
            print(f"  {name:34} {mb:8.1f} MB   {mb / base[fam]:5.2f}x the {BASELINES[fam]}")


if __name__ == "__main__":
    main()
