"""The comparison rule, vectorized: one array against another, or whole time-major
sequences a chunk of steps at a time with the rows of one comparison per step and gate.

An element passes when |value - ref| <= atol + rtol * |ref| (numpy.allclose's rule,
asymmetric: the reference is the yardstick). NaN or Inf anywhere, in either array, fails.
"""

import numpy as np

from .trace import PARAM_GRADS

PEEPHOLE_GATES = {"dweight_ci": "i", "dweight_cf": "f", "dweight_co": "o"}


def gate_axis(quantity):
    """The axis along which a quantity's gate blocks lie, or None."""
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
    if np.iscomplexobj(ref) or np.iscomplexobj(value):
        row.update(status="FAIL", passed=False, max_abs_err=np.inf, max_rel_err=np.inf, err_ratio=np.inf,
                   worst_index="", ref_value=np.nan, value=np.nan, note="complex values: only real gradients compare")
        return row
    if ref.size == 0:
        row.update(status="pass", passed=True, max_abs_err=0.0, max_rel_err=0.0, err_ratio=0.0,
                   worst_index="", ref_value=np.nan, value=np.nan)
        return row
    stats = _stats(ref.astype(np.float64).reshape(1, 1, -1), value.astype(np.float64).reshape(1, 1, -1), tol)
    return _row(row, stats, 0, 0, ref.shape)


def compare_blocks(ref, value, tol, G, axis):
    """compare_arrays on each of the G equal gate blocks along ``axis`` (0 or -1) of two
    arrays of one shape, in one pass: the rows, in block order."""
    ref, value = np.asarray(ref), np.asarray(value)
    block = list(ref.shape)
    block[axis] //= G
    if ref.shape != value.shape or ref.size == 0 or ref.dtype.kind not in "fiub" or value.dtype.kind not in "fiub":
        return [compare_arrays(r, v, tol) for r, v in zip(np.split(ref, G, axis), np.split(value, G, axis))]
    stats = _stats(_gate_major(ref[None], G, axis), _gate_major(value[None], G, axis), tol)
    return [_row(dict(atol=tol.atol, rtol=tol.rtol, shape=str(tuple(block)), note=""), stats, 0, j, tuple(block))
            for j in range(G)]


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


def sequence_rows(quantity, layer, ref_seq, other_seq, tol, gates, backend, steps=None):
    """Rows for every step and gate block of two time-major sequences of equal shape;
    ``steps``: the step number of each entry (0 .. T-1 by default)."""
    T, shape = len(ref_seq), tuple(ref_seq.shape[1:])
    steps = list(range(T) if steps is None else steps)
    G, axis = len(gates), gate_axis(quantity)
    split = G > 1 and axis is not None and shape[axis] % G == 0
    block = list(shape)
    if split:
        block[axis] //= G
    block, names = tuple(block), (gates if split else (PEEPHOLE_GATES.get(quantity, ""),))
    shape_text, rows, scratch = str(block), [], {}
    step = max(1, CHUNK_ELEMENTS // int(np.prod(shape)))
    for start in range(0, T, step):
        stop = min(T, start + step)
        a = _gate_major(_chunk(ref_seq, start, stop, scratch, "ref"), len(names), axis, scratch, "ref")
        b = _gate_major(_chunk(other_seq, start, stop, scratch, "other"), len(names), axis, scratch, "other")
        st = {k: v.tolist() for k, v in _stats(a, b, tol, scratch).items()}
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


def _buffer(scratch, name, shape, dtype=np.float64):
    """An uninitialized array of ``shape``: a view of a buffer kept in ``scratch`` and reused
    from chunk to chunk (fresh memory for every temporary of every chunk cost more in page
    faults than the arithmetic: 11 s of system time at T=4096); a new array without one."""
    n = int(np.prod(shape))
    if scratch is None:
        return np.empty(shape, dtype)
    flat = scratch.get(name)
    if flat is None or flat.size < n or flat.dtype != dtype:
        flat = scratch[name] = np.empty(n, dtype)
    return flat[:n].reshape(shape)


def _chunk(seq, start, stop, scratch=None, side=""):
    if hasattr(seq, "chunk"):
        shape = (stop - start,) + tuple(seq.shape[1:])
        return seq.chunk(start, stop, out=_buffer(scratch, side, shape, np.dtype(seq.dtype)))
    return np.asarray(seq[start:stop])


def _gate_major(chunk, G, axis, scratch=None, name=""):
    """(c, *shape) -> (c, G, elements of one gate block), float64 (a copy, when one is
    needed, into a buffer of ``scratch``)."""
    c = chunk.shape[0]
    if chunk.dtype != np.float64:
        chunk = _copied(chunk, scratch, name + " float64")
    if G == 1:
        return chunk.reshape(c, 1, -1)
    if axis == 0:                                   # weight rows: blocks are contiguous
        return chunk.reshape(c, G, -1)
    lead = chunk.shape[1:-1]                        # gate values: blocks along the last axis
    moved = np.moveaxis(chunk.reshape((c,) + lead + (G, -1)), -2, 1)
    return _copied(moved, scratch, name + " gate-major").reshape(c, G, -1)


def _copied(array, scratch, name):
    out = _buffer(scratch, name, array.shape)
    np.copyto(out, array)
    return out


def _stats(r, v, tol, scratch=None):
    """Per (step, block) error statistics of r, v (c, G, M): compare_arrays's rule.

    Fast path when every difference is finite (then both sides are); otherwise the
    element-wise rule with non-finite elements counted (they never pass). ``scratch``:
    buffers for the temporaries, reused across calls (see ``_buffer``); what is returned
    never refers to them."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        abs_r = np.abs(r, out=_buffer(scratch, "abs", r.shape))
        err = np.subtract(v, r, out=_buffer(scratch, "err", r.shape))
        np.abs(err, out=err)
        if np.isfinite(err, out=_buffer(scratch, "finite", r.shape, np.bool_)).all():
            nonfinite = np.zeros(err.shape[:2], dtype=np.intp)
        else:
            finite = np.isfinite(r) & np.isfinite(v)
            nonfinite = (~finite).sum(axis=-1)
            err[~finite] = np.inf
        denom = np.multiply(abs_r, tol.rtol, out=_buffer(scratch, "denom", r.shape))
        denom += tol.atol
        ratio = np.divide(err, denom, out=denom)
        if tol.atol == 0:                             # 0/0 where both are exactly 0: equal, not NaN
            np.putmask(ratio, err == 0, 0.0)
        np.maximum(abs_r, np.finfo(np.float64).tiny, out=abs_r)
        rel = np.divide(err, abs_r, out=abs_r)
    worst = np.argmax(ratio, axis=-1)
    pick = worst[..., None]
    # argmax points at the first NaN if there is one, so the ratio there is ratio.max(); and
    # every ratio <= 1 exactly when that maximum is (a NaN compares False either way)
    err_ratio = np.take_along_axis(ratio, pick, -1)[..., 0]
    return dict(worst=worst, nonfinite=nonfinite, within=err_ratio <= 1.0,
                max_abs_err=err.max(axis=-1), max_rel_err=rel.max(axis=-1), err_ratio=err_ratio,
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
