"""Two training runs side by side: where they part, which parameter first, and how.

Every training step k = 1..K is compared: the loss (computed on step k's batch from the
weights before the update), the gradients of that step (before clipping) and the weights
after the update. An element passes when |value - oracle| <= atol + rtol * |oracle|, the
tolerance of the dtype (see TOLERANCES; README "Training" has the error analysis).

How the difference grows tells the causes apart:

    a wrong gradient    the gradients differ at the first step, on the same weights and
                        batch; the weights differ from the first update on, far above
                        rounding: a jump at step 1
    a different update  the gradients agree at step 1 but the weights after the update do
                        not: the optimizer or the clipping differs
    a later jump        agreement to rounding, then one step where the difference leaps by
                        orders of magnitude: something happened only there (a gradient
                        wrong only from a carried state, a clipping threshold crossed)
    rounding drift      the difference starts at rounding level and grows smoothly; the
                        training dynamics amplify it (chaotic training, a large learning
                        rate); only long runs cross the tolerance
"""

import numpy as np
import pandas as pd

from ..cells import GATES
from ..compare import Tolerance, compare_arrays
from ..guard.model_oracles import key_of

# Trajectory tolerances by dtype (atol, rtol); see README "Training" for the error analysis.
TOLERANCES = {"float64": (1e-9, 1e-7), "float32": (1e-4, 1e-3)}
ROUNDING = 1e-2          # err/tol below this: rounding level (float64: |diff| < 1e-11)
JUMP = 1e3               # a one-step growth by more than this, from rounding level, is a jump


def tolerance(dtype, atol=None, rtol=None):
    d_atol, d_rtol = TOLERANCES[dtype]
    return Tolerance(d_atol if atol is None else float(atol), d_rtol if rtol is None else float(rtol))


def _blocks(name, arr, cell):
    """Gate blocks of a gated weight along its first (G*H) axis, after the step axis."""
    gates = GATES[cell]
    base = name.rpartition("_l")[0]
    if len(gates) == 1 or not base.startswith(("weight_", "bias_")) or arr.shape[1] % len(gates):
        return [("", arr)]
    return list(zip(gates, np.split(arr, len(gates), axis=1)))


def _per_step(ref, value, tol):
    """(max |diff|, max err/tol) per step: arrays (K, ...)."""
    K = ref.shape[0]
    r, v = ref.astype(np.float64).reshape(K, -1), value.astype(np.float64).reshape(K, -1)
    finite = np.isfinite(r) & np.isfinite(v)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(v - r), np.inf)
        ratio = err / (tol.atol + tol.rtol * np.abs(r))
    if r.shape[1] == 0:
        return np.zeros(K), np.zeros(K)
    return err.max(axis=1), ratio.max(axis=1)


def quantities(oracle, subject, cell, layers, trained=None):
    """(quantity, layer, gate, kind, oracle array (K, ...), subject array (K, ...)) to compare:
    the loss, every weight, and the gradients of the trained weights (``trained``: names;
    None: all)."""
    K = min(oracle.steps, subject.steps)
    out = [("loss", layers, "", "loss", oracle.loss[:K, None], subject.loss[:K, None])]
    for kind, a, b, offset, prefix in (("param", oracle.params, subject.params, 1, ""),
                                       ("grad", oracle.grads, subject.grads, 0, "d")):
        for name in [n for n in a if n in b and (kind == "param" or trained is None or n in trained)]:
            q, layer = key_of(name, layers)
            q = prefix + q[1:]                          # key_of names gradients: dweight_ih
            ga, gb = _blocks(name, a[name][offset:offset + K], cell), _blocks(name, b[name][offset:offset + K], cell)
            for (gate, xa), (_, xb) in zip(ga, gb):
                out.append((q, layer, gate, kind, xa, xb))
    return out


def compare_runs(oracle, subject, spec, tol, trained=None):
    """(rows for the report, per-step DataFrame) of ``subject`` against ``oracle``."""
    rows, steps = [], []
    for q, layer, gate, kind, a, b in quantities(oracle, subject, spec.cell, spec.layers, trained):
        err, ratio = _per_step(a, b, tol)
        bad = ~(ratio <= 1.0)
        worst = int(np.nanargmax(np.where(np.isnan(ratio), np.inf, ratio)))
        row = compare_arrays(a[worst], b[worst], tol)
        first = int(np.argmax(bad)) + 1 if bad.any() else None
        row.update(backend=oracle.name, layer=layer, step=None, quantity=q, gate=gate, probe="training",
                   note=_row_note(kind, first, worst + 1, ratio, len(ratio)))
        if first is not None:
            row.update(status="FAIL", passed=False)
        rows.append(row)
        steps.append(pd.DataFrame({"backend": oracle.name, "train_step": np.arange(1, len(err) + 1),
                                   "kind": kind, "quantity": q, "layer": layer, "gate": gate,
                                   "max_abs_err": err, "err_ratio": ratio}))
    return rows, pd.concat(steps, ignore_index=True) if steps else pd.DataFrame()


def _row_note(kind, first, worst, ratio, K):
    what = {"loss": "loss before each update", "param": "weights after each update",
            "grad": "gradients of each step (before clipping)"}[kind]
    head = f"{what}, {K} steps; worst at training step {worst}"
    if first is None:
        return head
    return f"{head}; first beyond tolerance at training step {first} ({ratio[first - 1]:.3g}x tolerance)"


def _first(df, kind=None):
    d = df if kind is None else df[df["kind"] == kind]
    bad = d[~(d["err_ratio"] <= 1.0)]
    return (None, None) if bad.empty else (int(bad["train_step"].min()), bad)


def _label(r):
    gate = f" gate {r['gate']}" if r["gate"] else ""
    q = r["quantity"]
    return q if q == "loss" else f"{q}{gate} layer {r['layer']}"


def _worst_at(df, step, kind):
    d = df[(df["train_step"] == step) & (df["kind"] == kind)]
    d = d.assign(_r=d["err_ratio"].fillna(np.inf))
    return d.sort_values("_r", ascending=False).iloc[0] if len(d) else None


def narrative(name, df, K, label="yours"):
    """Lines in words: where ``label``'s run parts from oracle ``name``'s, and how."""
    first, _ = _first(df)
    params = df[df["kind"] == "param"]
    drift = params.groupby("train_step")["max_abs_err"].max() if len(params) else pd.Series(dtype=float)
    if first is None:
        worst = df["err_ratio"].max()
        return [f"{name}: the trajectories agree for all {K} training steps: largest weight difference "
                f"{drift.max():.2g}, {worst:.2g}x tolerance at most (rounding)"]
    grad_first, _ = _first(df, "grad")
    param_first, _ = _first(df, "param")
    loss_first, _ = _first(df, "loss")
    ratio = df.groupby("train_step")["err_ratio"].max()
    lines = [f"{name}: the trajectories part at training step {first} of {K}"]
    moved_text = _moved(df, param_first) if param_first else ""
    before = ratio.get(first - 1, 0.0) if first > 1 else 0.0
    if grad_first == first:
        g = _worst_at(df, first, "grad")
        same = "on the same weights and batch" if first == 1 else (
            f"while the weights before it still agreed ({before:.2g}x tolerance)" if before < ROUNDING else
            "on weights that had already drifted")
        lines.append(f"  the gradients differ at step {first} {same}: {_label(g)} ({g['err_ratio']:.3g}x tolerance)"
                     " -> a wrong gradient, not rounding" + (
                         "; step 1 agreed, so look at what changes after it (the carried state: step 1 starts "
                         "from zeros)" if first > 1 else ""))
    elif loss_first == first:
        lines.append(f"  the loss differs at step {first} before the weights do ({ratio.get(first):.3g}x "
                     "tolerance): the forward differs (the carried state or the loss itself)")
    elif first == 1 or before < ROUNDING:
        lines.append(f"  the gradients agree at step {first} but the weights after the update do not: the update "
                     "rule differs (optimizer, clipping), not the gradient")
    else:
        lines.append(f"  rounding drift: the difference grew smoothly from {ratio.iloc[0]:.2g}x tolerance at "
                     f"step 1 to {ratio.get(first):.3g}x at step {first}; no single step jumped, the gradients "
                     "agreed where the weights did: the training dynamics amplify rounding")
    if moved_text:
        lines.append("  " + moved_text)
    lines.append("  " + growth(drift, first))
    return lines


def _moved(df, k):
    """Which weights are beyond tolerance after update k, worst first, and which are not yet."""
    d = df[(df["kind"] == "param") & (df["train_step"] == k)]
    d = d.assign(_r=d["err_ratio"].fillna(np.inf)).sort_values("_r", ascending=False)
    out = d[~(d["err_ratio"] <= 1.0)]
    first = out.iloc[0]
    text = (f"first parameter to move apart: {_label(first)} (after update {k}: {first['err_ratio']:.3g}x "
            "tolerance)")
    if len(out) > 1:
        text += "; also beyond tolerance then: " + ", ".join(
            f"{_label(r)} ({r['err_ratio']:.2g}x)" for _, r in out.iloc[1:6].iterrows())
    still = d[d["err_ratio"] <= 1.0]
    if len(still):
        text += "; still within tolerance then: " + ", ".join(_label(r) for _, r in still.iloc[:6].iterrows())
    return text


def growth(drift, first):
    """How the largest weight difference grows, in words."""
    if drift.empty:
        return "no weight was compared"
    d0, dK = float(drift.iloc[0]), float(drift.iloc[-1])
    steps = list(drift.index)
    jumps = drift / drift.shift(1).clip(lower=np.finfo(float).tiny)
    big = jumps[(jumps > JUMP) & (drift.shift(1) >= 0)]
    text = f"largest weight difference: {d0:.2g} after step {steps[0]}, {dK:.2g} after step {steps[-1]}"
    if first == 1:
        return text + " (a jump at the first update, then carried along)"
    if len(big):
        k = int(big.index[0])
        return text + f"; it jumps x{float(big.iloc[0]):.2g} at step {k}"
    return text + "; it grows without a jump"
