"""check_backward(): is the user's hand-written BPTT right, and if not, where and why?"""

import dataclasses
import re

import numpy as np

from ..cells import GATES
from ..compare import Tolerance, compare_traces, skipped_row
from .. import validate
from ..errors import HarnessError
from ..probe import make_probe
from ..report import Report
from . import naming, seqcheck
from .diagnose import diagnose
from .layouts import get_layout
from .localize import localize
from .narrow import gate_line, narrow
from .oracles import framework_trace, numeric_trace, reference_values, values_trace
from .precision import numeric_tol, precision_of
from .usercode import UserCodeError
from .runner import UserCode, _user_name, interface, maps_to, run_user, user_loss, user_weights

ORACLES = ("torch", "tf", "keras", "numeric", "reference")
# Diagnosis replays every mistake of the grammar; on long sequences it does so on the
# first few steps (at least the shortest failing length), where the mistakes already differ.
DIAGNOSIS_STEPS = 6


def parse_against(against, oracles=ORACLES):
    """The oracle names asked for (a tuple or a comma-separated string), validated."""
    if isinstance(against, str):
        names = [a.strip() for a in against.split(",") if a.strip()]
    elif isinstance(against, (tuple, list)) and all(isinstance(a, str) for a in against):
        names = [a.strip() for a in against if a.strip()]
    else:
        names = None
    if not names or any(a not in oracles for a in names):
        raise HarnessError(f"against: expected some of {', '.join(oracles)} (a tuple or a comma-separated "
                           f"string), got {against!r}")
    return names


def parse_skip(skip, known):
    """The gradients the user declares their code does not compute (not compared, not missing)."""
    if skip is None:
        skip = ()
    if not isinstance(skip, (str, tuple, list, set, frozenset)) or not all(isinstance(s, str) for s in skip):
        raise HarnessError(f"skip: expected gradient names (a tuple or a comma-separated string) among "
                           f"{', '.join(sorted(known))}, got {validate.show(skip)}")
    names = [s.strip() for s in (skip.split(",") if isinstance(skip, str) else skip) if s.strip()]
    bad = [s for s in names if s not in known]
    if bad:
        raise HarnessError(f"skip: expected names among {', '.join(sorted(known))}, got {', '.join(bad)}")
    return set(names)


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
                   forget_bias=0.0, reset_after=True, numeric="directional", atol=None, rtol=None, skip=(),
                   lengths=None, proj_size=0, peepholes=False, cell_clip=None, proj_clip=None):
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
        skip: gradients your backward does not compute (canonical names such as "dh0" or
            "dweight_hh", or your own such as "dWh"): not compared and not counted missing;
            any other gradient returned as None makes the verdict INCOMPLETE.
        lengths, proj_size, peepholes, cell_clip, proj_clip: a padded batch ("random" or one
            length per sequence; your layout must take lengths), the LSTM's projection,
            peepholes and clips. These, and a bidirectional layout, are checked by
            harness.guard.seqcheck (compared, not yet diagnosed).
    Returns:
        Report: one row per oracle, step, quantity and gate; ``findings`` locate and diagnose.
    """
    options = validate.probe_args(cell=cell, layers=1, batch=batch, steps=steps, input_size=input_size,
                                  hidden_size=hidden_size, dtype=dtype, seed=seed, activation=activation,
                                  forget_bias=forget_bias, reset_after=reset_after, bias=bias, atol=atol, rtol=rtol)
    oracles = parse_against(against)
    validate.numeric_mode(numeric, oracles)
    validate.user_functions(forward=forward, backward=backward)
    code = UserCode(forward, backward, get_layout(layout, cell), cell)
    if seqcheck.extended(code.layout, lengths, proj_size, peepholes, cell_clip, proj_clip):
        clips = {k: v for k, v in (("cell_clip", cell_clip), ("proj_clip", proj_clip)) if v is not None}
        return seqcheck.check_extended(
            code, oracles, dict(batch=batch, steps=steps, input_size=input_size, hidden_size=hidden_size),
            {**options, **clips},
            dtype=dtype, seed=seed, bias=bias, numeric_mode=numeric, atol=atol, rtol=rtol, skip=skip,
            lengths=lengths, proj_size=proj_size, peepholes=peepholes)
    probe = check_probe(code, make_probe(cell, layers=1, bias=bias, batch=batch, steps=steps, input_size=input_size,
                                         hidden_size=hidden_size, dtype=dtype, seed=seed, **options))
    names = naming.infer(code.layout, cell, input_size, hidden_size, bias)
    skipped = _skipped(code, probe, skip)
    _refuse_unmapped(code, probe, names, skipped)
    _refuse_degenerate(probe, Tolerance.for_dtype(probe.dtype, atol, rtol))
    user = run_user(code, probe, probe.dout, _size_context(probe))
    tol = Tolerance.for_dtype(probe.dtype, atol, rtol)
    tol, precision_line = precision_of(user, probe, tol, atol, rtol)
    rows = []
    for oracle in oracles:
        rows += _mark_missing(_against(oracle, code, probe, user, tol, numeric, precision_line), user, skipped)
    problem_rows = _problem_rows(user, tol)
    rows += problem_rows
    findings = [precision_line] if precision_line else []
    if problem_rows and all(r in problem_rows for r in rows if r["status"] == "FAIL"):
        rest = ("the rest right" if not any(r["status"] in ("missing", "not compared") for r in rows)
                else "the others compared right, some not returned")
        findings.append(f"likely cause: a gradient of the wrong shape, {rest}: "       # nothing to replay
                        + "; ".join(user.problems.values()))
    elif any(r["status"] == "FAIL" for r in rows):
        where = localize(code, probe, tol, user, names)
        rows += where.rows
        forward = [line for line in where.lines if line.startswith("forward:")]      # a wrong forward first
        findings += forward + _diagnosis(code, probe, user, tol, names, where, precision_line) + [
            line for line in where.lines if line not in forward]
    text = f"{probe.describe()}; layout {code.layout.name}"
    report = Report.from_rows(f"check-{cell}-{code.layout.name}-{probe.dtype}", text, rows, findings,
                              labels=("expected", "yours"), names=_report_names(names, rows))
    report.cases[0]["figures"] = _figures(code, probe, user, oracles)
    return report


def _figures(code, probe, user, oracles):
    """‖dL/dh_t‖ over t: the reference, a backend of each framework oracle that exposes
    per-step adjoints, and your code (harness.gradnorms.user_norms); drawn on demand."""
    from ..api import grad_norm_figures
    from ..gradnorms import from_traces, user_norms
    from .oracles import adjoint_trace

    def norms():
        ref = reference_values(probe)
        traces = [values_trace("reference", ref)]
        traces[0].add_steps("dh_total", 0, ref["dh_total"])
        if "dc_total" in ref:
            traces[0].add_steps("dc_total", 0, ref["dc_total"])
        traces += [t for t in (adjoint_trace(o, probe) for o in oracles if o in ("torch", "tf", "keras")) if t]
        yours, _ = user_norms(code, probe, user)
        return {**from_traces(traces), **({"your code": yours} if yours else {})}
    return grad_norm_figures(norms, "your code's dL/dh_t: its own backward's dh0 for the rest of the sequence "
                                    "started at h_t, plus the upstream gradient of step t")


def _report_names(names, rows):
    """The user's names of the report's quantities and gates, for the report's headline and page."""
    quantities = {r["quantity"]: names.quantity(r["quantity"]) for r in rows if r["quantity"]}
    return {"quantities": {q: u for q, u in quantities.items() if u != q},
            "gates": {g: u for g, u in names.letters.items() if u != g}}


def _refuse_degenerate(probe, tol):
    ref = reference_values(probe)
    grads = {k: v for k, v in ref.items() if k in ("dx", "dh0", "dc0") or k.startswith(("dweight", "dbias"))}
    validate.refuse_degenerate({0: grads}, {0: probe.layer_params(0)}, tol.atol, "the probe")


def _size_context(probe):
    s = probe.sizes
    return f"probe N={s['N']}, T={s['T']}, D={s['D']}, H={s['H']}"


def _skipped(code, probe, skip):
    """The declared skips as canonical quantities (your names, such as dWh or da0, accepted), plus
    your names as given (a gradient to_canonical never maps back has no canonical name)."""
    params = probe.layer_params(0)
    canonical = set(interface(code, probe)) - {"h"}
    yours = {f"d{w}" for w in user_weights(code, params)} | {
        _user_name(code.layout, q) for q in canonical if q in ("dh0", "dc0")}
    declared = parse_skip(skip, canonical | yours)
    return declared | {q for s in declared
                       for q in ({s} if s in canonical else maps_to(code, params, _state_of(code.layout, s)))}


def _refuse_unmapped(code, probe, names, skipped=()):
    """A canonical weight that to_user puts into the user's arrays but whose gradient to_canonical
    never maps back: the user's gradient of that array would never be compared, so no verdict could
    be honest. Not when it shares its places with a weight that is mapped back (cs231n's
    b = bias_ih + bias_hh, compared as dbias_ih). One line naming the user's gradient."""
    mapped = {q[1:] for q in interface(code, probe) if q.startswith(("dweight", "dbias"))}
    covered = {}
    for c in mapped & set(names.held):
        for u, places in names.held[c].items():
            covered.setdefault(u, set()).update(places)
    for c, by_user in names.held.items():
        if f"d{c}" in skipped:                  # declared as not computed: nothing to compare
            continue
        left = [f"d{u}" for u, places in by_user.items()
                if c not in mapped and places - covered.get(u, set()) and f"d{u}" not in skipped]
        if left:
            returned = ", ".join(f"d{m}" for m in sorted(mapped)) or "nothing"
            raise UserCodeError(f"layout {code.layout.name!r}: {', '.join(left)} holds {c} but to_canonical never "
                                f"maps it back (it returns {returned}), so your {', '.join(left)} would never be "
                                f"compared; add out['d{c}'] = ... g['{left[0]}'] ... to to_canonical")


def _state_of(layout, name):
    """da0 -> dh0 when the layout calls h "a"."""
    return next((f"d{s}0" for s in ("h", "c") if name == f"d{layout.user_state(s)}0"), name)


def _mark_missing(rows, user, skipped):
    """A quantity the user's code returned as None: "missing" (verdict INCOMPLETE) unless declared."""
    for r in rows:
        if r["status"] == "not compared" and r["quantity"] in user.missing:
            if r["quantity"] in skipped:
                r["note"] = "not computed by your code (declared with skip)"
            else:
                r["status"] = "missing"
                r["note"] = (f"your backward did not return {user.yours.get(r['quantity'], r['quantity'])} (None or "
                             "absent), so the verdict cannot be OK (declare it with skip=... / --skip if your code "
                             "does not compute it)")
    return rows


def _problem_rows(user, tol):
    """A gradient returned with a wrong shape: one failing row saying so (the others are compared)."""
    rows = []
    for quantity, message in user.problems.items():
        rows.append(dict(backend="your code", layer=0, step=None, quantity=quantity, gate="", status="FAIL",
                         passed=False, max_abs_err=np.inf, max_rel_err=np.inf, err_ratio=np.inf, worst_index="",
                         ref_value=np.nan, value=np.nan, atol=tol.atol, rtol=tol.rtol, shape="", note=message))
    return rows


def _restrict(trace, quantities, yours=None):
    """``trace`` cut to the quantities the user's code returns and, where it returns a quantity,
    to the same kind of key (totals or per step): a framework's per-step weight contributions
    are not something a backward returning totals left out."""
    totals = {}
    for q, _, step in (yours.values if yours is not None else ()):
        totals.setdefault(q, set()).add(step is None)
    trace.values = {k: v for k, v in trace.values.items()
                    if k[0] in quantities and (k[0] not in totals or (k[2] is None) in totals[k[0]])}
    return trace


def _against(oracle, code, probe, user, tol, numeric_mode, precision_line=""):
    yours = values_trace("your code", user)
    yours.note = "your backward returned None for it"
    quantities = [q for q in interface(code, probe) if q not in user.problems]
    gates = GATES[probe.cell]
    if oracle == "reference":
        ref = _restrict(values_trace("reference", reference_values(probe)), quantities)
        return relabel(compare_traces(ref, yours, tol, gates), "reference")
    if oracle == "numeric":
        return _numeric(code, probe, user, yours, numeric_mode, gates, precision_line)
    trace, why = framework_trace(oracle, probe)
    if trace is None:
        return [skipped_row(oracle, why, tol)]
    return relabel(compare_traces(_restrict(trace, quantities, yours), yours, tol, gates), trace.backend)


def _numeric(code, probe, user, yours, mode, gates, precision_line):
    names = ["x", "h0"] + (["c0"] if "dc0" in user or "dc0" in user.missing else []) + [
        q[1:] for q in list(user) + sorted(user.missing) if q.startswith(("dweight", "dbias"))]
    low = bool(precision_line)                  # the user's forward computes in float32: a coarser step
    fd, project = numeric_trace(lambda p: user_loss(code, p), probe, names, mode,
                                np.random.default_rng(probe.seed), gates=len(gates), eps=3e-3 if low else None)
    tol = numeric_tol(low)
    mine = project(user) if project else yours
    mine.note = yours.note
    rows = compare_traces(fd, mine, tol, gates)
    note = "finite differences of your forward, float64" + (" (step 3e-3: your forward computes in float32)"
                                                             if low else "")
    return relabel(rows, fd.backend, note=note)


def relabel(rows, name, note=""):
    for r in rows:
        r["backend"] = name
        if note and not r.get("note"):
            r["note"] = note
    return rows


def _diagnosis(code, probe, user, tol, names, where, precision_line=""):
    """"likely cause: ..." lines: the grammar replayed on the probe (cut to a few steps on long
    sequences); a forward no edit reproduces, when the backward is its exact derivative; when
    nothing fits, where the mistake lives (gates, steps, carries)."""
    T, full, user_full = probe.sizes["T"], probe, user
    k = min(T, max(where.shortest or T, DIAGNOSIS_STEPS))
    if k < T:
        probe = dataclasses.replace(probe, x=probe.x[:, :k], dout=probe.dout[:, :k])
        user = run_user(code, probe, probe.dout, f"diagnosis on the first {k} steps")
    longest = full if k < T else _extended(full)        # a pattern of cuts must show itself repeating
    found = diagnose(probe, user, tol, names, problems=set(user.problems), per_example=code.layout.per_example,
                     user_at=lambda j: user_full if j == T else _user_at(code, full if j < T else longest, j),
                     longest=longest)
    gates = [line for line in [gate_line(probe, where, names)] if line]
    if not found and where.forward_wrong and _own_derivative(code, full, user_full, precision_line):
        return [_OWN_FORWARD]
    if not found:
        return ["likely cause: unknown cause (no single mistake of the grammar reproduces your numbers)"] + \
            gates + narrow(probe, where, names)
    return [_line(f, names) for f in found] + gates


_OWN_FORWARD = ("likely cause: the forward computes something else: no single edit of the cell's forward reproduces "
                "your h, but your backward is the exact derivative of your own forward (finite differences of your "
                "forward agree with every gradient you return): the mistake is in the forward alone")


def _own_derivative(code, probe, user, precision_line):
    """Whether every gradient the user returns has the right shape and agrees with finite
    differences of their own forward, in float64 (float32's tolerance would let a backward a
    percent off through)."""
    if precision_line or probe.dtype != "float64" or user.problems or user.missing:
        return False
    rows = _numeric(code, probe, user, values_trace("your code", user), "directional", GATES[probe.cell],
                    precision_line)
    compared = [r for r in rows if r["status"] in ("pass", "FAIL")]
    return bool(compared) and all(r["status"] == "pass" for r in compared)


def _extended(probe):
    """A short probe extended to 2T+1 steps (its inputs and upstream gradients repeated, reversed
    in the middle), where a truncation of the short one repeats its cut; None for long probes."""
    T = probe.sizes["T"]
    if T >= 12:
        return None
    def longer(a):
        return np.concatenate([a, a[:, ::-1], a], axis=1)[:, :2 * T + 1]
    return dataclasses.replace(probe, x=longer(probe.x), dout=longer(probe.dout))


def _user_at(code, probe, k):
    """The user's values on the probe cut to k steps, or None if their code cannot run there."""
    cut = dataclasses.replace(probe, x=probe.x[:, :k], dout=probe.dout[:, :k])
    try:
        return run_user(code, cut, cut.dout, f"diagnosis on the first {k} steps")
    except UserCodeError:
        return None


def _line(f, names):
    detail = re.sub(r"\bd(weight_ih|weight_hh|bias_ih|bias_hh|bias)\b",
                    lambda m: names.quantity("dbias_ih" if m[1] == "bias" else m[0], f.get("gates", "")), f["detail"])
    detail = re.sub(r"\b(\S+) and \1\b", r"\1", detail)          # two canonical gradients in one user array
    return f"likely cause: {f['description']}: {detail} (your values reproduce this mistake within tolerance)"
