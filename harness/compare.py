"""Compare two traces: a pure function of the traces and the tolerances.

An element passes when |value - ref| <= atol + rtol * |ref| (numpy.allclose's rule,
asymmetric: the reference is the yardstick). NaN or Inf anywhere, in either trace,
fails. Every (quantity, layer, step) of the reference gives one row per gate block
(gated weights are split along their G*H rows, so a wrong gate is named); what the
other trace does not have gives one "not compared" row per (quantity, layer), never a
pass.

Per-step quantities are compared a chunk of steps at a time (harness.errstats), with
the same rows as one comparison per step and gate block: whole sequences as the traces
hold them, or the steps of a plain dict stacked once.

Bidirectional layers: the reverse direction (``Trace.reverse``) is compared under the
same keys, its rows marked ``direction`` "reverse" ("both" for what mixes the two: the
merged output ``out`` and ``dx``); ``step`` is always the step of the input sequence.
Variable lengths: a per-step row compares only the sequences that reach that step; the
padded rows are never data (they are set equal before comparing, so ``worst_index``
still names the sequence). What a backend declares it outputs at padded steps
(``Trace.padding``: 0, or the last real output carried on) is compared on its own, as
``h_padded`` / ``out_padded`` rows, against that meaning computed from the reference.
"""

from dataclasses import dataclass

import numpy as np

from .errstats import PEEPHOLE_GATES, compare_arrays, compare_blocks, gate_axis, sequence_rows, steps_passed  # noqa: F401
from .trace import FORWARD, NO_BATCH, QUANTITIES, sequences, singles

# Default tolerances by dtype: (atol, rtol). See README "Tolerances" for the reasoning.
TOLERANCES = {
    "float64": (1e-9, 1e-7),
    "float32": (1e-4, 1e-3),
}

COLUMNS = ["backend", "probe", "layer", "direction", "step", "quantity", "gate", "status", "passed",
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


BOTH = ("out", "out_padded", "dx")          # quantities of a bidirectional layer that mix both directions


def compare_traces(ref, other, tol, gates=("",), lengths=None):
    """Rows (dicts with COLUMNS) comparing ``other`` against ``ref``.

    Args:
        ref, other: Trace objects; ``ref`` is the yardstick.
        tol: a Tolerance.
        gates: gate block names along axis 0 of the weight gradients ("",) for no gates.
        lengths: (N,) each sequence's length for a variable-length batch, or None.
    """
    rows, missing = [], {}
    both = len(ref.reverse) > 0
    for direction in ("forward", "reverse"):
        mine, theirs = (ref.values, other.values) if direction == "forward" else (ref.reverse, other.reverse)

        def label(quantity, direction=direction):
            return "both" if both and quantity in BOTH else direction
        if lengths is None:
            _compare_whole(rows, missing, mine, theirs, other, tol, gates, label)
        else:
            _compare_masked(rows, missing, mine, theirs, other, tol, gates, label, lengths)
    for (quantity, layer, where), steps in missing.items():
        rows.append(_not_compared(other, quantity, layer, steps, tol, where))
    rows.sort(key=order_key)
    return rows


def _compare_whole(rows, missing, mine, theirs, other, tol, gates, label):
    """Every sequence at once where both sides hold it; step by step otherwise."""
    per_step, totals = _per_step_groups(mine)
    for (quantity, layer), (steps, seq) in per_step.items():
        match = _matching_sequence(theirs, quantity, layer, steps, seq)
        if match is not None:
            found = sequence_rows(quantity, layer, seq, match, tol, gates, other.backend, steps)
            for row in found:
                row["direction"] = label(quantity)
            rows.extend(found)
            continue
        for i, t in enumerate(steps):
            if (quantity, layer, t) not in theirs:      # missing: the reference's step is never formed
                missing.setdefault((quantity, layer, label(quantity)), []).append(t)
                continue
            _compare_key(rows, missing, (quantity, layer, t), seq[i], other, tol, gates, theirs, label)
    for key, ref_value in totals:
        _compare_key(rows, missing, key, ref_value, other, tol, gates, theirs, label)


def _compare_masked(rows, missing, mine, theirs, other, tol, gates, label, lengths):
    """Variable lengths: each step compares the sequences that reach it (padded rows apart)."""
    reached = int(np.max(lengths))
    for key in mine:
        quantity, layer, step = key
        if key not in theirs and _per_sequence(quantity, step) and step >= reached:
            continue                                # no sequence reaches this step: nothing is missing
        if key not in theirs:
            missing.setdefault((quantity, layer, label(quantity)), []).append(step)
            continue
        a, b = np.asarray(mine[key]), np.asarray(theirs[key])
        valid = _valid_rows(lengths, quantity, step, a, b)
        if valid is not None:
            if quantity in other.padding and not valid.all():
                rows.append(_padded_row(other, mine, key, valid, b, lengths, tol, label(quantity)))
            if not valid.any() and np.isfinite(b).all():
                continue                            # no sequence reaches this step, and nothing is NaN/Inf
            b = b.copy()
            pad = b[~valid]                         # padded rows are not data: never compared,
            b[~valid] = np.where(np.isfinite(pad), a[~valid], pad)    # but NaN/Inf there still fails
        _add_blocks(rows, key, a, b, other, tol, gates, label)


def _compare_key(rows, missing, key, ref_value, other, tol, gates, theirs=None, label=lambda q: "forward"):
    """One (quantity, layer, step): one row per gate block, or noted as missing."""
    theirs = other.values if theirs is None else theirs
    quantity, layer, step = key
    if key not in theirs:
        missing.setdefault((quantity, layer, label(quantity)), []).append(step)
        return
    _add_blocks(rows, key, ref_value, theirs[key], other, tol, gates, label)


def _add_blocks(rows, key, a, b, other, tol, gates, label):
    quantity, layer, step = key
    a, b = np.asarray(a), np.asarray(b)
    if _splits(quantity, gates, a, b):
        found = zip(gates, compare_blocks(a, b, tol, len(gates), gate_axis(quantity)))
    else:
        found = ((gate, compare_arrays(pa, pb, tol)) for gate, pa, pb in _blocks(quantity, gates, a, b))
    for gate, row in found:
        row.update(backend=other.backend, layer=layer, direction=label(quantity), step=step,
                   quantity=quantity, gate=gate)
        rows.append(row)

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


def _per_sequence(quantity, step):
    """Whether a quantity at a step has one row per sequence that padding can mask."""
    return step is not None and quantity not in NO_BATCH and quantity != "dx"


def _valid_rows(lengths, quantity, step, a, b):
    """(N,) bool: the sequences that reach ``step``; None when every row counts."""
    if lengths is None or not _per_sequence(quantity, step) \
            or a.shape != b.shape or a.ndim == 0 or a.shape[0] != len(lengths):
        return None
    return np.asarray(lengths) > step


def _padded_row(other, ref_values, key, valid, value, lengths, tol, label):
    """The backend's outputs at padded steps against what its framework defines there:
    0 ("zero"), or the sequence's last real output carried on ("carry")."""
    quantity, layer, step = key
    meaning = other.padding[quantity]
    rows = np.flatnonzero(~valid)
    if meaning == "carry":
        expected = np.stack([ref_values[(quantity, layer, int(lengths[n]) - 1)][n] for n in rows])
    else:
        expected = np.zeros((len(rows),) + value.shape[1:])
    row = compare_arrays(expected, value[rows], tol)
    row.update(backend=other.backend, layer=layer, direction=label, step=step, quantity=f"{quantity}_padded",
               gate="", note=f"padded sequences {rows.tolist()}: {other.backend} outputs "
                             + ("0 there" if meaning == "zero" else "the last real output there"))
    return row


def _splits(quantity, gates, a, b):
    """Whether a quantity's arrays split into len(gates) gate blocks (gated weight gradients
    along their rows, gate values along their last axis)."""
    axis = gate_axis(quantity)
    return (quantity not in PEEPHOLE_GATES and len(gates) > 1 and axis is not None and a.shape == b.shape
            and a.ndim > 0 and a.shape[axis] % len(gates) == 0)


def _blocks(quantity, gates, a, b):
    """Split gated weight gradients (rows) and gate values (last axis) into gate blocks."""
    a, b = np.asarray(a), np.asarray(b)
    if quantity in PEEPHOLE_GATES:
        return [(PEEPHOLE_GATES[quantity], a, b)]
    G = len(gates)
    if not _splits(quantity, gates, a, b):
        return [("", a, b)]
    axis = gate_axis(quantity)
    return [(g, pa, pb) for g, pa, pb in zip(gates, np.split(a, G, axis=axis), np.split(b, G, axis=axis))]


def skipped_row(backend, reason, tol):
    """The row for a backend or oracle that could not run this case, with the reason."""
    return dict(backend=backend, layer=None, direction="", step=None, quantity="", gate="", status="skipped", passed=None,
                max_abs_err=np.nan, max_rel_err=np.nan, err_ratio=np.nan, worst_index="", ref_value=np.nan,
                value=np.nan, atol=tol.atol, rtol=tol.rtol, shape="", note=reason)


def _not_compared(other, quantity, layer, steps, tol, direction="forward"):
    where = "whole sequence" if steps == [None] else (
        f"steps {_ranges([s for s in steps if s is not None])}"
        + (" and total" if None in steps else ""))
    note = f"not provided by {other.backend} ({where})"
    if other.note:
        note += f": {other.note}"
    return dict(backend=other.backend, layer=layer, direction=direction, step=None, quantity=quantity, gate="",
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
    from the top layer down and from the last step back; totals last of all. A reverse
    direction runs over the input steps backwards (its forward from the last step, its
    backprop from the first); what mixes both directions comes after them."""
    q = QUANTITIES.index(row["quantity"]) if row["quantity"] in QUANTITIES else len(QUANTITIES)
    step, layer = row["step"], row["layer"]
    d = {"reverse": 1, "both": 2}.get(row.get("direction") or "forward", 0)
    if row["status"] == "not compared":
        return (3, 0, 0, 0, q)
    if row["quantity"] in FORWARD:
        return (0, layer, d, 10**9 if step is None else (-step if d == 1 else step), q)
    if step is None:
        return (2, -layer, d, 0, q)
    return (1, -layer, d, step if d == 1 else -step, q)
