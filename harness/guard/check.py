"""check_backward(): is the user's hand-written BPTT right, and if not, where and why?"""

import dataclasses

import numpy as np

from ..compare import Tolerance, compare_traces, skipped_row
from ..errors import HarnessError
from ..probe import make_probe
from ..report import Report
from .diagnose import diagnose
from .layouts import get_layout
from .localize import localize
from .oracles import framework_trace, numeric_trace, reference_values, values_trace
from .runner import UserCode, interface, run_user, user_loss

ORACLES = ("torch", "tf", "keras", "numeric", "reference")


def parse_against(against, oracles=ORACLES):
    """The oracle names asked for (a tuple or a comma-separated string), validated."""
    names = [a.strip() for a in (against.split(",") if isinstance(against, str) else against) if a.strip()]
    bad = [a for a in names if a not in oracles]
    if not names or bad:
        raise HarnessError(f"against: expected some of {', '.join(oracles)}, got {against!r}")
    return names


def check_probe(code, probe):
    """The probe for user code: no gradient on the final state (the backward takes only dh);
    c0 = 0 for layouts whose LSTM has no c0 argument (cs231n)."""
    state0 = dict(probe.state0)
    if code.cell == "lstm" and not code.layout.takes_c0:
        state0["c"] = np.zeros_like(state0["c"])
    return dataclasses.replace(probe, state0=state0,
                               dstate_n={k: np.zeros_like(v) for k, v in probe.dstate_n.items()})


def check_backward(forward, backward, *, cell="rnn", layout="cs231n", against=("torch",), batch=3, steps=5,
                   input_size=4, hidden_size=6, dtype="float64", seed=0, activation="tanh", bias=True,
                   forget_bias=0.0, reset_after=True, numeric="directional", atol=None, rtol=None):
    """Compare the user's sequence-layer forward/backward with oracles; locate and diagnose.

    Args:
        forward, backward: the user's functions (see harness.guard.layouts for the convention).
        cell: "rnn", "lstm" or "gru"; layout: "cs231n", "tf_kernel", "karpathy" or a Layout.
        against: oracles among "torch", "tf", "keras", "numeric" (finite differences on
            your forward), "reference" (the NumPy reference cells).
        batch, steps, input_size, hidden_size: the probe's N, T, D, H.
        activation, bias, forget_bias, reset_after: what your cell computes.
        numeric: "directional" (a few random directions per gradient) or "full".
        atol, rtol: override the dtype's default tolerances.
    Returns:
        Report: one row per oracle, step and quantity; ``findings`` locate and diagnose.
    """
    code = UserCode(forward, backward, get_layout(layout, cell), cell)
    if numeric not in ("directional", "full"):
        raise HarnessError(f"numeric: expected 'directional' or 'full', got {numeric!r}")
    options = {"rnn": {"activation": activation}, "lstm": {"forget_bias": forget_bias},
               "gru": {"reset_after": reset_after}}.get(cell, {})
    probe = check_probe(code, make_probe(cell, layers=1, bias=bias, batch=batch, steps=steps, input_size=input_size,
                                         hidden_size=hidden_size, dtype=dtype, seed=seed, **options))
    tol = Tolerance.for_dtype(probe.dtype, atol, rtol)
    user = run_user(code, probe, probe.dout, _size_context(probe))
    rows = []
    for oracle in parse_against(against):
        rows += _against(oracle, code, probe, user, tol, numeric)
    findings = []
    if any(r["status"] == "FAIL" for r in rows):
        loc_rows, findings = localize(code, probe, tol)
        rows += loc_rows
        findings = _diagnosis_lines(diagnose(probe, user, tol, layout=code.layout)) + findings
    text = f"{probe.describe()}; layout {code.layout.name}"
    return Report.from_rows(f"check-{cell}-{code.layout.name}-{probe.dtype}", text, rows, findings,
                            labels=("expected", "yours"))


def _size_context(probe):
    s = probe.sizes
    return f"probe N={s['N']}, T={s['T']}, D={s['D']}, H={s['H']}"


def _restrict(trace, quantities):
    trace.values = {k: v for k, v in trace.values.items() if k[0] in quantities}
    return trace


def _against(oracle, code, probe, user, tol, numeric_mode):
    yours = values_trace("your code", user)
    yours.note = "your backward returned None for it"
    quantities = interface(code, probe)
    if oracle == "reference":
        ref = _restrict(values_trace("reference", reference_values(probe)), quantities)
        return relabel(compare_traces(ref, yours, tol), "reference")
    if oracle == "numeric":
        names = ["x", "h0"] + (["c0"] if "dc0" in user else []) + [q[1:] for q in user if q.startswith(("dweight", "dbias"))]
        fd, project = numeric_trace(lambda p: user_loss(code, p), probe, names, numeric_mode,
                                   np.random.default_rng(probe.seed))
        rows = compare_traces(fd, project(user) if project else yours, numeric_tol())
        return relabel(rows, fd.backend, note="finite differences of your forward, float64")
    trace, why = framework_trace(oracle, probe)
    if trace is None:
        return [skipped_row(oracle, why, tol)]
    return relabel(compare_traces(_restrict(trace, quantities), yours, tol), trace.backend)


def numeric_tol():
    from ..backends.numeric import ATOL, RTOL
    return Tolerance(ATOL, RTOL)


def relabel(rows, name, note=""):
    for r in rows:
        r["backend"] = name
        if note and not r.get("note"):
            r["note"] = note
    return rows


def _diagnosis_lines(found):
    if not found:
        return ["likely cause: unknown cause (no entry of the catalogue reproduces your numbers)"]
    return [f"likely cause: {f['description']}: {f['detail']} (your values reproduce this mistake within tolerance)"
            for f in found]
