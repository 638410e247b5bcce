"""Locate where the user's backward first goes wrong, also when it only returns totals.

First the forward: the first step whose h differs from the reference's (a wrong forward
makes every gradient differ, so it is named before anything else). Then two probes, both
against the reference on the same weights:
    upstream on one step at a time   dh is zero except at step s; a wrong result for s
                                     means what flows back from step s is wrong
    sequence length 1 .. T           the first length that fails names the earliest step
                                     where the error appears (length 1: step 0 alone,
                                     no recurrence; length k: the carry from step k-1)
"""

import dataclasses

import numpy as np

from ..compare import _ranges, compare_arrays
from .oracles import USER_QUANTITIES, reference_values
from .runner import run_user
from .usercode import UserCodeError


def _compare(user, ref, tol, probe_label, step):
    rows = []
    for q in USER_QUANTITIES:
        if q == "h" or q not in user:
            continue
        row = compare_arrays(ref[q], user[q], tol)
        row.update(backend="reference", layer=0, step=step, quantity=q, gate="", probe=probe_label)
        rows.append(row)
    return rows


def localize(code, probe, tol):
    """Rows for both probes and the findings they support (text lines)."""
    T = probe.sizes["T"]
    rows, upstream_bad, length_bad, stopped, forward_bad, tested = [], [], {}, "", [], []
    for s in range(T):
        dout = np.zeros_like(probe.dout)
        dout[:, s] = probe.dout[:, s]
        p = dataclasses.replace(probe, dout=dout)
        label = f"upstream on step {s} only"
        user, ref = run_user(code, p, dout, label), reference_values(p)
        if s == 0:
            forward_bad = [t for t in range(T) if not compare_arrays(ref["h"][:, t], user["h"][:, t], tol)["passed"]]
        r = _compare(user, ref, tol, label, s)
        rows += r
        if not all(x["passed"] for x in r):
            upstream_bad.append(s)
    for k in range(1, T + 1):
        p = dataclasses.replace(probe, x=probe.x[:, :k], dout=probe.dout[:, :k])
        label = f"first {k} steps"
        try:
            user = run_user(code, p, p.dout, f"localization with the sequence cut to T={k}")
        except UserCodeError as exc:
            stopped = stopped or f"the length sweep could not run T={k}: {exc}"
            continue
        tested.append(k)
        r = _compare(user, reference_values(p), tol, label, k - 1)
        rows += r
        bad = [x["quantity"] for x in r if not x["passed"]]
        if bad:
            length_bad[k] = bad
    return rows, _findings(T, upstream_bad, length_bad, stopped, forward_bad, tested)


def _earliest(length_bad, tested):
    """What the shortest failing length says, claiming only what the tested lengths show."""
    k = min(length_bad)
    bad = length_bad[k]
    right = [t for t in tested if t < k]
    if right != list(range(1, k)):                          # some shorter length could not run
        return (f"the shortest tested sequence that goes wrong has T={k} ({', '.join(bad)}); "
                + (f"right for T={_ranges(right)}; " if right else "")
                + f"T={_ranges(sorted(set(range(1, k)) - set(right)))} could not be run")
    if k == 1 and set(bad) <= {"dh0", "dc0"}:
        return ("step 0, in what it carries back into the initial state: with a single step only "
                f"{'/'.join(bad)} is wrong, that step's own gradients are right")
    if k == 1:
        return f"step 0 itself, no recurrence involved: wrong already with a single step ({', '.join(bad)})"
    return (f"the carry from step {k - 1} into step {k - 2}: right for sequences of up to {k - 1} "
            f"step(s), wrong from {k} on ({', '.join(bad)})")


def _findings(T, upstream_bad, length_bad, stopped, forward_bad=(), tested=None):
    lines = []
    if forward_bad:
        lines.append(f"forward: your h differs from the reference's from step {forward_bad[0]} on "
                     f"(step(s) {_ranges(forward_bad)}): the forward itself computes something else; fix it first "
                     "(the gradients of a different forward differ too)")
    if upstream_bad:
        good = sorted(set(range(T)) - set(upstream_bad))
        lines.append(f"upstream gradient on one step at a time: wrong when it sits on step(s) {_ranges(upstream_bad)}"
                     + (f", right on {_ranges(good)}" if good else ""))
    if length_bad:
        lines.append("earliest wrong step: " + _earliest(length_bad, list(range(1, T + 1)) if tested is None else tested))
    if stopped:
        lines.append(stopped)
    return lines
