"""Compare two traces: a pure function of the traces and the tolerances.

An element passes when |value - ref| <= atol + rtol * |ref| (numpy.allclose's rule,
asymmetric: the reference is the yardstick). NaN or Inf anywhere, in either trace,
fails. Every (quantity, layer, step) of the reference gives one row per gate block
(gated weights are split along their G*H rows, so a wrong gate is named); what the
other trace does not have gives one "not compared" row per (quantity, layer), never a
pass.
"""

from dataclasses import dataclass

import numpy as np

from .trace import FORWARD, PARAM_GRADS, QUANTITIES, sequences, singles

# Default tolerances by dtype: (atol, rtol). See README "Tolerances" for the reasoning.
TOLERANCES = {
    "float64": (1e-9, 1e-7),
    "float32": (1e-4, 1e-3),
}

COLUMNS = ["backend", "probe", "layer", "step", "quantity", "gate", "status", "passed",
           "max_abs_err", "max_rel_err", "err_ratio", "worst_index", "ref_value", "value",
           "atol", "rtol", "shape", "note"]


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float

    @classmethod
    def for_dtype(cls, dtype, atol=None, rtol=None):
        d_atol, d_rtol = TOLERANCES[dtype]
        return cls(d_atol if atol is None else float(atol), d_rtol if rtol is None else float(rtol))


def compare_traces(ref, other, tol, gates=("",)):
    """Rows (dicts with COLUMNS) comparing ``other`` against ``ref``.

    Args:
        ref, other: Trace objects; ``ref`` is the yardstick.
        tol: a Tolerance.
        gates: gate block names along axis 0 of the weight gradients ("",) for no gates.

    Per-step quantities are compared a chunk of steps at a time (``_compare_sequence``),
    with the same rows as one ``compare_arrays`` per step and gate block: whole sequences
    as the traces hold them, or the steps of a plain dict stacked once.
    """
    rows, missing = [], {}
    per_step, totals = _per_step_groups(ref.values)
    for (quantity, layer), (steps, seq) in per_step.items():
        theirs = _matching_sequence(other.values, quantity, layer, steps, seq)
        if theirs is not None:
            rows.extend(_compare_sequence(quantity, layer, seq, theirs, tol, gates, other.backend, steps))
            continue
        for i, t in enumerate(steps):
            _compare_key(rows, missing, (quantity, layer, t), seq[i], other, tol, gates)
    for key, ref_value in totals:
        _compare_key(rows, missing, key, ref_value, other, tol, gates)
    for (quantity, layer), steps in missing.items():
        rows.append(_not_compared(other, quantity, layer, steps, tol))
    rows.sort(key=order_key)
    return rows


def _per_step_groups(values):
    """({(quantity, layer): (steps, sequence)}, [(key, value) of the rest]): a trace's own
    sequences, and the per-step entries of a plain dict stacked when their shapes agree."""
    groups = {pair: (range(len(seq)), seq) for pair, seq in sequences(values).items()}
    loose, rest = {}, []
    for key, value in singles(values).items():
        if isinstance(key[2], (int, np.integer)) and key[:2] not in groups:
            loose.setdefault(key[:2], {})[key[2]] = np.asarray(value)
        else:
            rest.append((key, value))
    for pair, by_step in loose.items():
        steps = sorted(by_step)
        if len({by_step[t].shape for t in steps}) == 1 and len(steps) > 1:
            groups[pair] = (steps, np.stack([by_step[t] for t in steps]))
        else:
            rest.extend(((pair + (t,)), by_step[t]) for t in steps)
    return groups, rest


def _matching_sequence(values, quantity, layer, steps, seq):
    """``values``'s steps ``steps`` of (quantity, layer) as one sequence shaped like ``seq``,
    or None when some step is missing or differs in shape (then compared step by step)."""
    if np.prod(seq.shape[1:]) == 0:
        return None
    theirs = sequences(values).get((quantity, layer))
    if theirs is not None and theirs.shape == seq.shape and list(steps) == list(range(len(theirs))):
        return theirs
    keys = [(quantity, layer, t) for t in steps]
    if not all(k in values for k in keys):
        return None
    parts = [np.asarray(values[k]) for k in keys]
    if any(p.shape != tuple(seq.shape[1:]) for p in parts):
        return None
    return np.stack(parts)


def _compare_key(rows, missing, key, ref_value, other, tol, gates):
    quantity, layer, step = key
    if key not in other.values:
        missing.setdefault((quantity, layer), []).append(step)
        return
    for gate, a, b in _blocks(quantity, gates, ref_value, other.values[key]):
        row = compare_arrays(a, b, tol)
        row.update(backend=other.backend, layer=layer, step=step, quantity=quantity, gate=gate)
        rows.append(row)


def _blocks(quantity, gates, a, b):
    """Split gated weight gradients (rows) and gate values (last axis) into gate blocks."""
    a, b = np.asarray(a), np.asarray(b)
    G = len(gates)
    axis = _gate_axis(quantity)
    if G == 1 or axis is None or a.shape != b.shape or a.shape[axis] % G:
        return [("", a, b)]
    return [(g, pa, pb) for g, pa, pb in zip(gates, np.split(a, G, axis=axis), np.split(b, G, axis=axis))]


def _gate_axis(quantity):
    return 0 if quantity in PARAM_GRADS else (-1 if quantity == "gates" else None)


def compare_arrays(ref, value, tol):
    """One comparison: errors, where the worst element is, and the verdict."""
    ref, value = np.asarray(ref), np.asarray(value)
    row = dict(atol=tol.atol, rtol=tol.rtol, shape=str(tuple(ref.shape)), note="")
    if ref.shape != value.shape:
        hint = " (the transpose)" if value.shape == ref.shape[::-1] else ""
        row.update(status="FAIL", passed=False, max_abs_err=np.inf, max_rel_err=np.inf,
                   err_ratio=np.inf, worst_index="", ref_value=np.nan, value=np.nan,
                   note=f"shape {tuple(value.shape)} != reference {tuple(ref.shape)}{hint}")
        return row
    if ref.size == 0:
        row.update(status="pass", passed=True, max_abs_err=0.0, max_rel_err=0.0, err_ratio=0.0,
                   worst_index="", ref_value=np.nan, value=np.nan)
        return row
    stats = _stats(ref.astype(np.float64).reshape(1, 1, -1), value.astype(np.float64).reshape(1, 1, -1), tol)
    return _row(row, stats, 0, 0, ref.shape)


def steps_passed(ref, value, tol, time_axis=1):
    """Whether each step of two sequences passes (compare_arrays's verdict for every slice
    along ``time_axis``), in one vectorized pass: a list of bools."""
    ref, value = np.asarray(ref), np.asarray(value)
    if ref.shape != value.shape:
        return [compare_arrays(ref.take(t, axis=time_axis), value.take(t, axis=time_axis) if t < value.shape[time_axis]
                               else np.empty(0), tol)["passed"] for t in range(ref.shape[time_axis])]
    r = np.moveaxis(ref, time_axis, 0).astype(np.float64)
    v = np.moveaxis(value, time_axis, 0).astype(np.float64)
    if r.size == 0:
        return [True] * r.shape[0]
    st = _stats(r.reshape(r.shape[0], 1, -1), v.reshape(v.shape[0], 1, -1), tol)
    return [bool(w and not n) for w, n in zip(st["within"][:, 0].tolist(), st["nonfinite"][:, 0].tolist())]


# Elements of one side materialized at once when comparing sequences: bounds the
# temporaries (about ten arrays of this size) whatever T is.
CHUNK_ELEMENTS = 1 << 18


def _compare_sequence(quantity, layer, ref_seq, other_seq, tol, gates, backend, steps=None):
    """Rows for every step and gate block of two time-major sequences of equal shape;
    ``steps``: the step number of each entry (0 .. T-1 by default)."""
    T, shape = len(ref_seq), tuple(ref_seq.shape[1:])
    steps = list(range(T) if steps is None else steps)
    G, axis = len(gates), _gate_axis(quantity)
    split = G > 1 and axis is not None and shape[axis] % G == 0
    block = list(shape)
    if split:
        block[axis] //= G
    block, names = tuple(block), (gates if split else ("",))
    shape_text, rows = str(block), []
    step = max(1, CHUNK_ELEMENTS // int(np.prod(shape)))
    for start in range(0, T, step):
        stop = min(T, start + step)
        a = _gate_major(_chunk(ref_seq, start, stop), len(names), axis)
        b = _gate_major(_chunk(other_seq, start, stop), len(names), axis)
        st = {k: v.tolist() for k, v in _stats(a, b, tol).items()}
        worst = np.unravel_index(np.asarray(st["worst"]), block)
        worst = [str(tuple(w)) for w in zip(*(ax.ravel().tolist() for ax in worst))] if block else ["()"] * a.size
        for i in range(stop - start):
            for j, gate in enumerate(names):
                nonfinite, passed = st["nonfinite"][i][j], st["within"][i][j]
                passed = passed and not nonfinite
                rows.append(dict(
                    atol=tol.atol, rtol=tol.rtol, shape=shape_text, backend=backend, layer=layer,
                    step=steps[start + i], quantity=quantity, gate=gate, status="pass" if passed else "FAIL",
                    passed=passed, max_abs_err=st["max_abs_err"][i][j], max_rel_err=st["max_rel_err"][i][j],
                    err_ratio=st["err_ratio"][i][j], worst_index=worst[i * len(names) + j],
                    ref_value=st["ref_value"][i][j], value=st["value"][i][j],
                    note=f"{nonfinite} non-finite element(s) (NaN/Inf never pass)" if nonfinite else ""))
    return rows


def _chunk(seq, start, stop):
    return seq.chunk(start, stop) if hasattr(seq, "chunk") else np.asarray(seq[start:stop])


def _gate_major(chunk, G, axis):
    """(c, *shape) -> (c, G, elements of one gate block), float64."""
    c = chunk.shape[0]
    chunk = chunk.astype(np.float64, copy=False)
    if G == 1:
        return chunk.reshape(c, 1, -1)
    if axis == 0:                                   # weight rows: blocks are contiguous
        return chunk.reshape(c, G, -1)
    lead = chunk.shape[1:-1]                        # gate values: blocks along the last axis
    return np.moveaxis(chunk.reshape((c,) + lead + (G, -1)), -2, 1).reshape(c, G, -1)


def _stats(r, v, tol):
    """Per (step, block) error statistics of r, v (c, G, M): compare_arrays's rule.

    Fast path when every difference is finite (then both sides are); otherwise the
    element-wise rule with non-finite elements counted (they never pass)."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        abs_r = np.abs(r)
        err = np.subtract(v, r)
        np.abs(err, out=err)
        if np.isfinite(err).all():
            nonfinite = np.zeros(err.shape[:2], dtype=np.intp)
        else:
            finite = np.isfinite(r) & np.isfinite(v)
            nonfinite = (~finite).sum(axis=-1)
            err[~finite] = np.inf
        denom = np.multiply(abs_r, tol.rtol)
        denom += tol.atol
        ratio = np.divide(err, denom, out=denom)
        np.maximum(abs_r, np.finfo(np.float64).tiny, out=abs_r)
        rel = np.divide(err, abs_r, out=abs_r)
    worst = np.argmax(ratio, axis=-1)
    pick = worst[..., None]
    return dict(worst=worst, nonfinite=nonfinite, within=(ratio <= 1.0).all(axis=-1),
                max_abs_err=err.max(axis=-1), max_rel_err=rel.max(axis=-1), err_ratio=ratio.max(axis=-1),
                ref_value=np.take_along_axis(r, pick, -1)[..., 0], value=np.take_along_axis(v, pick, -1)[..., 0])


def _row(row, stats, i, j, block):
    nonfinite = int(stats["nonfinite"][i, j])
    passed = bool(nonfinite == 0 and stats["within"][i, j])
    worst = np.unravel_index(int(stats["worst"][i, j]), block)
    row.update(status="pass" if passed else "FAIL", passed=passed,
               max_abs_err=float(stats["max_abs_err"][i, j]), max_rel_err=float(stats["max_rel_err"][i, j]),
               err_ratio=float(stats["err_ratio"][i, j]), worst_index=str(tuple(int(k) for k in worst)),
               ref_value=float(stats["ref_value"][i, j]), value=float(stats["value"][i, j]))
    if nonfinite:
        row["note"] = f"{nonfinite} non-finite element(s) (NaN/Inf never pass)"
    return row


def skipped_row(backend, reason, tol):
    """The row for a backend or oracle that could not run this case, with the reason."""
    return dict(backend=backend, layer=None, step=None, quantity="", gate="", status="skipped", passed=None,
                max_abs_err=np.nan, max_rel_err=np.nan, err_ratio=np.nan, worst_index="", ref_value=np.nan,
                value=np.nan, atol=tol.atol, rtol=tol.rtol, shape="", note=reason)


def _not_compared(other, quantity, layer, steps, tol):
    where = "whole sequence" if steps == [None] else (
        f"steps {_ranges([s for s in steps if s is not None])}"
        + (" and total" if None in steps else ""))
    note = f"not provided by {other.backend} ({where})"
    if other.note:
        note += f": {other.note}"
    return dict(backend=other.backend, layer=layer, step=None, quantity=quantity, gate="",
                status="not compared", passed=None, max_abs_err=np.nan, max_rel_err=np.nan,
                err_ratio=np.nan, worst_index="", ref_value=np.nan, value=np.nan,
                atol=tol.atol, rtol=tol.rtol, shape="", note=note)


def _ranges(steps):
    steps = sorted(steps)
    if not steps:
        return ""
    out, start, prev = [], steps[0], steps[0]
    for s in steps[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(out)


def order_key(row):
    """Computation order: forward states by layer then time; then backprop, which runs
    from the top layer down and from the last step back; totals last of all."""
    q = QUANTITIES.index(row["quantity"]) if row["quantity"] in QUANTITIES else len(QUANTITIES)
    step, layer = row["step"], row["layer"]
    if row["status"] == "not compared":
        return (3, 0, 0, q)
    if row["quantity"] in FORWARD:
        return (0, layer, step if step is not None else 10**9, q)
    if step is None:
        return (2, -layer, 0, q)
    return (1, -layer, -step, q)
