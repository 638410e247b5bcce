"""Candidates of the diagnosis: the gradients the user's backward returns, clipped inside it
(element by element, each rescaled to a norm, or all to a global norm, the threshold read off
the user's own numbers; per-example code's gradients clipped example by example, then summed).
Every value is the textbook's correct one, clipped."""

import numpy as np

from .diagnose import _combine, _finding
from .grammar.driver_rules import CLIP_AT

PARAMS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


def _clipped(correct, user, wrong, names=None):
    """The weight and bias gradients (or every gradient) clipped element by element to [-c, c],
    or each rescaled to norm c, or all rescaled to a global norm c: c is what the user's
    gradients show (their largest magnitude, or their norm), tried only when it is a number a
    person picks (two significant digits: 0.05, 1, 2.5), so a gradient merely scaled (by 1/2)
    is never read as clipped."""
    out, seen = [], set()
    one = [((q,), f"the gradient {names.quantity(q) if names else q} alone") for q in PARAMS if q in wrong]
    biases = "dbias_ih" in correct
    for keys, which in ((PARAMS[:2], "the weight gradients" + (" (not the biases')" if biases else "")),
                        (PARAMS, "the weight and bias gradients"), (PARAMS + ("dx", "dh0", "dc0"), "every gradient"),
                        *(one if len(wrong) == 1 else ())):
        keys = [q for q in keys if q in correct and q in user]
        if tuple(keys) in seen:                         # without biases the second group is the first
            continue
        seen.add(tuple(keys))
        hit = [q for q in keys if q in wrong]
        if not hit or not all(np.all(np.isfinite(user[q])) for q in keys):
            continue
        c = _picked(max(float(np.max(np.abs(user[q]))) for q in hit))
        if c:
            values = {**correct, **{q: np.clip(correct[q], -c, c) for q in keys}}
            out.append({**_finding("gradient_clipped", f"{which} clipped element by element to [-{c:g}, {c:g}] "
                                                       "(np.clip) inside the backward"), "values": values})
        c = _picked(max(float(np.linalg.norm(user[q])) for q in hit))
        if c:
            values = {**correct, **{q: correct[q] * min(1.0, c / _norm(correct[q])) for q in keys}}
            each = " each" if len(keys) > 1 else ""
            out.append({**_finding("gradient_clipped", f"{which}{each} rescaled to a norm of at most {c:g} inside the "
                                                       "backward"), "values": values})
        c = _picked(float(np.sqrt(sum(np.sum(np.square(user[q])) for q in keys))))
        if c and len(keys) > 1:                         # one array: its global norm is its norm
            total = float(np.sqrt(sum(np.sum(np.square(correct[q])) for q in keys)))
            values = {**correct, **{q: correct[q] * min(1.0, c / max(total, 1e-300)) for q in keys}}
            out.append({**_finding("gradient_clipped", f"{which} rescaled together to a global norm of at most {c:g} "
                                                       "inside the backward"), "values": values})
    return out


# Thresholds people pick for clipping (min-char-rnn's 5, 1, 0.5, ...): per-example code sums
# clipped gradients, so the threshold cannot be read off the sum and these are tried instead.
THRESHOLDS = CLIP_AT + (2.0, 5.0, 10.0)


def _clipped_per_example(replay, user, wrong):
    """Each example's weight and bias gradients clipped element by element (min-char-rnn's
    ``np.clip(dparam, -5, 5, out=dparam)`` in code that runs one example at a time), or one
    wrong gradient rescaled to a norm, then summed."""
    parts = [r.correct for r in replay.replays]
    out = []
    for keys, which in ((PARAMS[:2], "the weight gradients (not the biases')"), (PARAMS, "the weight and bias gradients")):
        keys = [q for q in keys if q in replay.correct and q in user]
        if not any(q in wrong for q in keys):
            continue
        top = max(float(np.max(np.abs(p[q]))) for p in parts for q in keys)
        for c in (c for c in THRESHOLDS if c < top):
            values = _combine([{**p, **{q: np.clip(p[q], -c, c) for q in keys}} for p in parts])
            out.append({**_finding("gradient_clipped", f"{which} of each example clipped element by element to "
                                                       f"[-{c:g}, {c:g}] (np.clip) inside the backward, then summed "
                                                       "over the examples"), "values": values})
    for q in [q for q in PARAMS if q in wrong and q in user] if len(wrong) == 1 else ():
        top = max(_norm(p[q]) for p in parts)
        for c in (c for c in THRESHOLDS if c < top):
            values = _combine([{**p, q: p[q] * min(1.0, c / _norm(p[q]))} for p in parts])
            out.append({**_finding("gradient_clipped", f"the gradient {q} of each example rescaled to a norm of at "
                                                       f"most {c:g} inside the backward, then summed over the "
                                                       "examples"), "values": values})
    return out


def _picked(c):
    """The round threshold c is within float error of, or None (see _round)."""
    r = float(f"{c:.2g}") if np.isfinite(c) and c > 0 else 0.0
    return r if r and abs(r - c) <= 1e-6 * r else None


def _norm(v):
    return max(float(np.linalg.norm(v)), 1e-300)
