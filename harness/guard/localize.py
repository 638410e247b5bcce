"""Locate where the user's backward first goes wrong, also when it only returns totals.

All against the reference on the same weights, with the cost growing as log T, not T:

    the forward                 the first step whose h differs (a wrong forward makes every
                                gradient differ, so it is named first)
    the sequence length         bisection over T' = 1 .. T for the shortest sequence that goes
                                wrong: T' = 1 is step 0 alone (no recurrence); a first failure
                                at T' = k is step k-1 or its carry into step k-2
    one step's upstream         the upstream gradient on one step only (the first, the second,
                                the middle and the last two): a wrong result for step s means
                                what flows back from step s is mishandled
    the gates                   one step's gradient isolated (two steps, x_0 = 0, h0 = 0 and the
                                upstream gradient on the last step only, so dW_ih and dW_hh are
                                that step's da^T x_1 and da^T h_0 alone): which gate blocks are
                                wrong, before the carry spreads the mistake into every gate

Every claim is about the lengths and steps actually run; the rows of every probe run are
kept (``probe`` = "first k steps" / "upstream on step s only").
"""

import dataclasses

import numpy as np

from ..cells import GATES
from ..compare import _ranges, compare_traces, steps_passed
from .oracles import USER_QUANTITIES, reference_forward, reference_values, values_trace
from .runner import run_user
from .usercode import UserCodeError


@dataclasses.dataclass
class Where:
    """What the probes found: rows, findings (text lines), the shortest failing length and its gates."""
    rows: list
    lines: list
    shortest: int = 0               # the shortest failing length (0: none found)
    gates: str = ""                 # gate blocks wrong at that length (gated cells only, "" otherwise)
    quantities: tuple = ()          # what was wrong at that length
    gate_quantities: tuple = ()     # the gradients whose gate blocks the gate probe found wrong
    right_below: bool = False       # the length just below the shortest failing one ran and was right
    forward_wrong: bool = False     # the user's h differs: the backward's whereabouts mean little


def _rows(user, ref, tol, label, step, gates):
    yours = values_trace("yours", {q: v for q, v in user.items() if q != "h"})
    expected = values_trace("reference", {q: v for q, v in ref.items() if q in yours_keys(user)})
    rows = [r for r in compare_traces(expected, yours, tol, gates) if r["status"] in ("pass", "FAIL")]
    for r in rows:
        r.update(backend="reference", probe=label, step=step)
    return rows


def yours_keys(user):
    return {q for q in USER_QUANTITIES if q in user and q != "h"}


def localize(code, probe, tol, user, names):
    """A Where for the user's code on ``probe`` (``user``: its values on the full probe)."""
    T, gates = probe.sizes["T"], GATES[probe.cell]
    rows, lines = [], []
    ref = reference_values(probe)
    forward_bad = [t for t, ok in enumerate(steps_passed(ref["h"], user["h"], tol)) if not ok]
    if forward_bad:
        lines.append(f"forward: your h differs from the reference's from step {forward_bad[0]} on "
                     f"(step(s) {_ranges(forward_bad)}): the forward itself computes something else; fix it first "
                     "(the gradients of a different forward differ too)")
    lengths, stopped = {}, []
    run = _length_runner(code, probe, tol, gates, rows, lengths, stopped, user)
    run(T)
    shortest = _bisect(run, T) if lengths.get(T) else 0
    if shortest:
        lines.append("earliest wrong step: " + _earliest(shortest, lengths, names))
    upstream = _upstream(code, probe, tol, gates, rows, stopped)
    if upstream:
        lines.append(upstream)
    lines += stopped[:1]
    where = Where(rows, lines, shortest, forward_wrong=bool(forward_bad))
    if shortest:
        bad = [r for r in rows if r["probe"] == f"first {shortest} steps" and not r["passed"]]
        where.quantities = tuple(dict.fromkeys(r["quantity"] for r in bad))
        where.right_below = shortest == 1 or lengths.get(shortest - 1) == []
    if len(gates) > 1:
        where.gates, where.gate_quantities = _gate_probe(code, probe, tol, gates, rows, stopped)
    return where


def _gate_probe(code, probe, tol, gates, rows, stopped):
    """The gate blocks of the weight gradients that are wrong when they hold one step's
    contribution only: two steps, x_0 = 0 and h_(-1) = c_(-1) = 0 (step 0 adds nothing to
    dW_ih = sum da_t^T x_t nor to dW_hh = sum da_t^T h_(t-1)), the upstream gradient on step 1;
    if none is, one step alone, where the bias gradients count too (no carry reaches them)."""
    k = min(2, probe.sizes["T"])
    x = probe.x[:, :k].copy()
    x[:, :k - 1] = 0
    dout = np.zeros_like(probe.dout[:, :k])
    dout[:, k - 1] = probe.dout[:, k - 1]
    state0 = {s: np.zeros_like(v) for s, v in probe.state0.items()} if k == 2 else probe.state0
    p = dataclasses.replace(probe, x=x, dout=dout, state0=state0)
    label = "one step isolated (x_0 = 0, h0 = 0, upstream on the last step)" if k == 2 else "one step isolated (T = 1)"
    try:
        user = run_user(code, p, dout, label)
    except UserCodeError as exc:
        stopped.append(f"the gate probe could not run: {exc}")
        return "", ()
    kept = ("dweight_ih", "dweight_hh") + (("dbias_ih", "dbias_hh") if k == 1 else ())   # with one step the
    ref = reference_values(p)                                                            # bias holds it alone
    r = [x for x in _rows(user, ref, tol, label, k - 1, gates) if x["quantity"] in kept]
    rows.extend(r)
    live = _live_gates(user, ref, kept, gates)      # f's blocks are 0 in both with c_(-1) = 0: f cannot show
    bad = [x for x in r if not x["passed"] and x["gate"] in live]
    wrong = "".join(g for g in gates if any(x["gate"] == g for x in bad))
    found = (wrong if wrong and set(wrong) != live else "".join(gates) if wrong else "",
             tuple(dict.fromkeys(x["quantity"] for x in bad)))
    if k == 1 or (found[0] and len(found[0]) < len(gates)):
        return found
    one = _gate_probe(code, dataclasses.replace(probe, x=probe.x[:, :1], dout=probe.dout[:, :1]), tol, gates, rows,
                      stopped)          # a mistake at step 0 alone shows with one step only; one spread over every
    return one if one[0] and len(one[0]) < len(gates) else found     # gate by a second mistake (dW / T) may not


def _live_gates(user, ref, quantities, gates):
    """The gates whose blocks of ``quantities`` are nonzero in the user's values or the reference's."""
    live = set()
    for q in quantities:
        for arr in (user.get(q), ref.get(q)):
            if arr is None or np.shape(arr)[0] % len(gates):
                continue
            live |= {g for g, b in zip(gates, np.split(np.asarray(arr), len(gates))) if np.any(b)}
    return live


def _length_runner(code, probe, tol, gates, rows, lengths, stopped, whole=None):
    """run(k) -> whether the user's code is wrong on the first k steps (None if it cannot run);
    ``whole``: the user's values on the whole probe, already run (not run again)."""
    T = probe.sizes["T"]

    def run(k):
        if k in lengths:
            return lengths[k]
        p = dataclasses.replace(probe, x=probe.x[:, :k], dout=probe.dout[:, :k])
        try:
            user = whole if k == T and whole is not None else run_user(code, p, p.dout,
                                                                         f"localization with the sequence cut to T={k}")
        except UserCodeError as exc:
            stopped.append(f"the length probes could not run T={k}: {exc}")
            lengths[k] = None
            return None
        r = _rows(user, reference_values(p), tol, f"first {k} steps", k - 1, gates)
        rows.extend(r)
        lengths[k] = sorted({x["quantity"] for x in r if not x["passed"]})
        return lengths[k]
    return run


def _bisect(run, T):
    """The shortest failing length, by bisection between a passing (or 0) and a failing length."""
    lo, hi = 0, T                       # run(hi) fails; lengths <= lo pass (0: trivially)
    if run(1):
        return 1
    lo = 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        result = run(mid)
        if result is None:              # cannot run there: look between lo and mid too
            return hi
        if result:
            hi = mid
        else:
            lo = mid
    return hi


def _earliest(k, lengths, names):
    bad = list(dict.fromkeys(names.quantity(q) for q in lengths[k]))
    right = sorted(t for t, v in lengths.items() if v == [] and t < k)
    if k == 1 and set(lengths[k]) <= {"dh0", "dc0"}:
        return ("step 0, in what it carries back into the initial state: with a single step only "
                f"{'/'.join(bad)} is wrong, that step's own gradients are right")
    if k == 1:
        return f"step 0 itself, no recurrence involved: wrong already with a single step ({', '.join(bad)})"
    tested = f" (lengths run: {', '.join(map(str, sorted(t for t in lengths if lengths[t] is not None)))})"
    unrun = sorted(t for t, v in lengths.items() if v is None and t < k)
    if unrun:
        tested += f"; T={_ranges(unrun)} could not be run, so nothing is claimed about them"
    if k - 1 in right:
        return (f"step {k - 1} or what it carries back into step {k - 2}: right for a sequence of {k - 1} step(s), "
                f"wrong from {k} on ({', '.join(bad)}){tested}")
    return f"the shortest tested sequence that goes wrong has T={k} ({', '.join(bad)}){tested}"


def _upstream(code, probe, tol, gates, rows, stopped):
    """Upstream gradient on one step only, for a few steps: which steps' gradient flows back wrong."""
    T = probe.sizes["T"]
    steps = sorted({0, 1, T // 2, T - 2, T - 1} & set(range(T)))
    bad, good = [], []
    forward = reference_forward(probe)                  # one forward: only the upstream gradient changes
    for s in steps:                     # at full length: code that treats its last step apart would look
        dout = np.zeros_like(probe.dout)    # wrong on every step of probes cut at s
        dout[:, s] = probe.dout[:, s]
        p = dataclasses.replace(probe, dout=dout)
        label = f"upstream on step {s} only"
        try:
            user = run_user(code, p, dout, label)
        except UserCodeError as exc:
            stopped.append(f"the upstream probes could not run: {exc}")
            return ""
        r = _rows(user, reference_values(p, forward), tol, label, s, gates)
        rows.extend(r)
        (bad if any(not x["passed"] for x in r) else good).append(s)
    if not bad:
        return ""
    return (f"upstream gradient on one step at a time (steps {', '.join(map(str, steps))} run): wrong when it sits "
            f"on step(s) {', '.join(map(str, bad))}" + (f", right on {', '.join(map(str, good))}" if good else ""))
