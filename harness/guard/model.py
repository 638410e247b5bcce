"""check_model(): is the user's hand-written backprop of a whole model right, and if not, where?

The model: a stack of recurrent layers (zero initial states, as in the tutorials), an
optional output head, and a loss on some or all of the steps. The user writes

    fn(params, x, target) -> (loss, grads)

params: canonical names, torch layout: per layer k ``weight_ih_l{k}`` (G*H, D_k),
``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``/``bias_hh_l{k}`` (G*H,) when bias; with a
head, ``head.weight`` (O, H) and ``head.bias`` (O,) when head_bias. x: (N, T, D). target:
(N, T, O) floats, or (N, T) integer classes for softmax_cross_entropy. grads: a dict with
the same names (a name left out, or None, makes the verdict INCOMPLETE unless declared with
skip=...); loss: a float.

Rows: quantity "loss" and "d<param>" (dweight_ih, ..., dhead.weight, dhead.bias). ``layer``
is the recurrent layer k for the stack's gradients and L (the number of layers: the
output level above the top layer) for the loss and the head.
"""

import dataclasses
import warnings

import numpy as np

from ..cells import GATES
from ..compare import Tolerance, compare_traces, skipped_row
from .. import validate
from ..errors import BackendUnavailable
from ..probe import make_probe
from ..report import Report
from ..trace import Trace
from . import model_frameworks, model_oracles as oracles, seqmodel
from .model_case import make_case
from .model_diagnose import diagnose_model
from .model_oracles import key_of
from .check import parse_against, parse_skip, relabel
from .precision import numeric_tol
from .runner import UserValues
from .usercode import UserCodeError, call, check_array, unpack

ORACLES = ("torch", "tf", "numeric", "reference")
def check_model(fn, *, cell="rnn", layers=1, activation="tanh", bias=True, head=None, output_size=None,
                loss="squared_error", loss_steps=None, reduction="sum", head_bias=True, against=("torch",),
                batch=3, steps=5, input_size=4, hidden_size=6, dtype="float64", seed=0, forget_bias=0.0,
                reset_after=True, numeric="directional", atol=None, rtol=None, skip=(), bidirectional=False,
                merge="concat", stacking="interleaved", lengths=None, proj_size=0, peepholes=False, cell_clip=None,
                proj_clip=None):
    """Compare the loss and every gradient of the user's ``fn`` with oracles; locate and diagnose.

    Args:
        fn: fn(params, x, target) -> (loss, grads); see the module docstring.
        cell, layers, activation, bias, forget_bias, reset_after: the recurrent stack.
        head: None, "linear" (y = h W^T + b) or "linear+sigmoid"; output_size: O (needed with a
            head); head_bias: whether the head has a bias.
        loss: "squared_error", "half_squared_error", "mean_squared_error" or
            "softmax_cross_entropy"; loss_steps: None (every step) or step indices (negative
            allowed); reduction: "sum" or "mean" over batch and steps.
        against: some of "torch" (nn modules or torch ops, autograd), "tf" (TF ops, GradientTape),
            "numeric" (finite differences of your loss; your fn then gets float64 arrays),
            "reference" (the NumPy reference stack and a hand-written head/loss backward).
        batch, steps, input_size, hidden_size, dtype, seed: N, T, D, H, precision, randomness.
        numeric: "directional" (2 random directions per array) or "full".
        atol, rtol: override the dtype's default tolerances.
        skip: gradients your fn does not compute (names of ``params``, such as "bias_hh_l0"): not
            compared and not counted missing; any other name left out of grads (or None) makes the
            verdict INCOMPLETE.
        bidirectional, merge, stacking, lengths, proj_size, peepholes, cell_clip, proj_clip:
            bidirectional stacks, a padded batch (then ``fn(params, x, target, lengths)`` and the
            loss covers the real steps only), the LSTM's projection, peepholes and clips; see
            harness.guard.seqmodel (compared, not yet diagnosed).
    Returns:
        Report: one row per oracle and quantity (per gate for gated weights); when something
        fails, rows of the length sweep (probe "first k steps") and ``findings``.
    """
    head_size = output_size if isinstance(output_size, (int, np.integer)) and output_size > 0 else 0
    options = validate.probe_args(cell=cell, layers=layers, batch=batch, steps=steps, input_size=input_size,
                                  hidden_size=hidden_size, dtype=dtype, seed=seed, activation=activation,
                                  forget_bias=forget_bias, reset_after=reset_after, bias=bias, atol=atol, rtol=rtol,
                                  head_size=head_size)
    names = parse_against(against, ORACLES)
    validate.numeric_mode(numeric, names)
    validate.user_functions(fn=fn)
    clips = {k: v for k, v in (("cell_clip", cell_clip), ("proj_clip", proj_clip)) if v is not None}
    probe = make_probe(cell, layers=layers, bias=bias, batch=batch, steps=steps, input_size=input_size,
                       hidden_size=hidden_size, dtype=dtype, seed=seed, bidirectional=bidirectional, merge=merge,
                       stacking=stacking, lengths=lengths, proj_size=proj_size, peepholes=peepholes,
                       **options, **clips)
    tol = Tolerance.for_dtype(probe.dtype, atol, rtol)
    if probe.extended:
        case = seqmodel.make_seq_case(probe, head, output_size, head_bias, loss, loss_steps, reduction)
        rows, findings = seqmodel.check_seq_model(fn, case, names, tol, numeric)
        name = f"check-model-{cell}-L{probe.layers}-{head or 'nohead'}-{loss}-{probe.dtype}"
        return Report.from_rows(name, seqmodel.describe(case), rows, findings, labels=("expected", "yours"))
    case = make_case(probe, head, output_size, head_bias, loss, loss_steps, reduction)
    skipped = parse_skip(skip, set(case.params))
    _refuse_degenerate(case, tol)
    user = run_fn(fn, case)
    rows = []
    for oracle in names:
        rows += _mark_missing(_against(oracle, fn, case, user, tol, numeric), user, skipped, case.spec.layers)
    stress_rows, findings = stress_softmax(fn, case, tol)
    if any(r["status"] == "FAIL" for r in rows):
        sweep_rows, sweep_findings, first_bad = sweep_lengths(fn, case, tol)
        rows += sweep_rows
        findings += diagnose_model(case, user, tol, first_bad, user_at=lambda k: _user_at(fn, case, k)) + sweep_findings
    rows += stress_rows
    text = _describe(case)
    name = f"check-model-{cell}-L{probe.layers}-{head or 'nohead'}-{loss}-{probe.dtype}"
    return Report.from_rows(name, text, rows, findings, labels=("expected", "yours"))


def _describe(case):
    p, s = case.probe, case.probe.sizes
    opts = ", ".join(f"{k}={v}" for k, v in p.options.items())
    return (f"{p.cell} ({opts}), L={s['L']} layers, bias={p.bias}, N={s['N']} batch, T={s['T']} steps, "
            f"D={s['D']} inputs, H={s['H']} hidden, {p.dtype}, seed={p.seed}; {case.spec.describe()}; "
            "zero initial states; random non-symmetric weights, random inputs and targets")


def _refuse_degenerate(case, tol):
    """Every gradient of a recurrent layer within atol of zero: code returning zeros would pass."""
    ref = oracles.reference_values(case)
    L = case.spec.layers
    grads = {k: {n: v for n, v in ref.items() if n != "loss" and key_of(n, L)[1] == k} for k in range(L)}
    validate.refuse_degenerate(grads, {k: case.probe.layer_params(k) for k in range(L)}, tol.atol, "the probe")


def _mark_missing(rows, user, skipped, layers):
    """A gradient left out of grads (or None): "missing" (verdict INCOMPLETE) unless declared with skip."""
    missing = {key_of(n, layers): n for n in user.missing}
    for r in rows:
        name = missing.get((r["quantity"], r["layer"]))
        if r["status"] == "not compared" and name is not None:
            if name in skipped:
                r["note"] = "not computed by your fn (declared with skip)"
            else:
                r["status"] = "missing"
                r["note"] = (f"your fn's grads have no {name!r} (or it is None), so the verdict cannot be OK "
                             "(declare it with skip=... if your fn does not compute it)")
    return rows


def _user_at(fn, case, k):
    """The user's values with the sequence cut to k steps, or None where the fn cannot run."""
    try:
        return run_fn(fn, case.cut(k), f"diagnosis on the first {k} steps")
    except UserCodeError:
        return None


def stress_softmax(fn, case, tol):
    """Softmax cross-entropy under a head with a bias: the user's fn once more with every logit
    raised by the same large constant (the head bias + 1000 in float64, + 100 in float32).
    The softmax is shift-invariant, so the right values are unchanged; a softmax without its
    max shift overflows. Rows (probe "stress: logits + C") and, when the user's values go
    non-finite, the finding."""
    if case.spec.loss != "softmax_cross_entropy" or case.spec.head != "linear" or not case.spec.head_bias:
        return [], []
    shift = 100.0 if case.spec.dtype == "float32" else 1000.0
    params = dict(case.params)
    params["head.bias"] = (params["head.bias"] + shift).astype(params["head.bias"].dtype)
    stressed = dataclasses.replace(case, params=params)
    label = f"stress: logits + {shift:g}"
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)         # the overflow this probe looks for
            user = run_fn(fn, stressed, "the large-logit stress probe")
    except UserCodeError as exc:
        return [], [f"the large-logit stress probe could not run: {exc}"]
    ref = oracles.reference_values(stressed)
    rows = [dict(r, backend="reference", probe=label) for r in compare_traces(
        _trace("reference", ref, case.spec.layers), _trace("yours", user, case.spec.layers), tol,
        GATES[case.spec.cell]) if r["status"] != "not compared"]
    if any(not np.all(np.isfinite(v)) for v in user.values()):
        return rows, [f"likely cause: a softmax without its max shift: with every logit raised by {shift:g} (the "
                      "softmax is unchanged by it) your loss or gradients are inf/nan: subtract "
                      "z.max(axis=-1, keepdims=True) before exp"]
    return rows, []

# ---------------------------------------------------------------- the user's fn


def run_fn(fn, case, context="", state=None):
    """Call fn on copies of the case's arrays; {canonical name or "loss": array}, checked.

    With ``state`` ({state name: (L, N, H)}, truncated BPTT with a carried state) the call is
    fn(params, x, target, state) -> (loss, grads, final_state) and this returns (values,
    final_state), the final state checked to have the same names and shapes."""
    params = {k: np.array(v, copy=True) for k, v in case.params.items()}
    if state is None:
        result = call(fn, "fn", (params, case.x, case.target), context)
        loss, grads = unpack(result, "fn", ("loss", "grads"), context)
    else:
        state = {s: np.array(v, copy=True) for s, v in state.items()}
        result = call(fn, "fn", (params, case.x, case.target, state), context)
        loss, grads, final = unpack(result, "fn", ("loss", "grads", "final_state"), context)
        return _checked(case, loss, grads, context), _final_state(final, state, context)
    return _checked(case, loss, grads, context)


def _final_state(final, state, context):
    where = f" ({context})" if context else ""
    if not isinstance(final, dict) or set(final) != set(state):
        got = sorted(final) if isinstance(final, dict) else type(final).__name__
        raise UserCodeError(f"fn: final_state is {got}; expected a dict with the names {sorted(state)} "
                            f"like the state it was given{where}")
    return {s: check_array(final[s], "fn", f"final_state[{s!r}]", state[s].shape, context, letters="LNH")
            for s in state}


def _checked(case, loss, grads, context):
    where = f" ({context})" if context else ""
    if loss is None:
        raise UserCodeError(f"fn: loss is None; expected a real scalar (the loss is compared too){where}")
    arr = validate.as_array("fn: loss", loss)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise UserCodeError(f"fn: loss has shape {arr.shape} and dtype {arr.dtype}; expected a real scalar "
                            f"(sum the loss over batch and steps){where}")
    if not isinstance(grads, dict):
        raise UserCodeError(f"fn: grads is a {type(grads).__name__}; expected a dict keyed by the "
                            f"canonical names ({', '.join(case.params)}){where}")
    extra = sorted(set(grads) - set(case.params), key=str)
    if extra:
        raise UserCodeError(f"fn: grads has unexpected name(s) {extra}; expected names among "
                            f"{list(case.params)}{where}")
    out = UserValues(loss=np.asarray(float(arr.reshape(())), dtype=np.float64))
    out.missing = {n for n in case.params if grads.get(n) is None}
    for name, g in grads.items():
        if g is not None:
            out[name] = check_array(g, "fn", f"grads[{name!r}]", case.params[name].shape, context)
    if len(out) == 1:
        raise UserCodeError(f"fn: returned no gradient; expected some of {list(case.params)}{where}")
    return out


def _trace(name, values, layers):
    trace = Trace(name)
    for n, v in values.items():
        trace.add_total(*key_of(n, layers), np.asarray(v))
    return trace


def _against(oracle, fn, case, user, tol, numeric_mode):
    """Rows comparing the user's values with one oracle (the oracle is the yardstick)."""
    L, gates = case.spec.layers, GATES[case.spec.cell]
    yours = _trace("yours", user, L)
    yours.note = "your grads have no entry for it"
    if oracle == "numeric":
        case64 = case.as_float64()
        fd, project = oracles.numeric_values(lambda p: _user_loss(fn, case64, p), case64.params, numeric_mode,
                                             np.random.default_rng(case.probe.seed))
        mine = _trace("yours", project(user) if project else user, L)
        mine.note = yours.note
        name = f"numeric{'-directional' if project else ''}"
        return relabel(compare_traces(_trace(name, fd, L), mine, numeric_tol()), name,
                        "finite differences of your fn's loss, float64")
    try:
        name, values = {"reference": lambda c: ("reference", oracles.reference_values(c)),
                        "torch": model_frameworks.torch_values, "tf": model_frameworks.tf_values}[oracle](case)
    except BackendUnavailable as exc:                   # not installed: skipped, with the install line
        return [skipped_row(oracle, str(exc), tol)]
    return relabel(compare_traces(_trace(name, values, L), yours, tol, gates), name)


def _user_loss(fn, case64, params):
    return float(run_fn(fn, dataclasses.replace(case64, params=params), "finite differences")["loss"])


# ---------------------------------------------------------------- localization


def sweep_lengths(fn, case, tol):
    """The user's fn and the reference on the first k steps, k = 1..T: rows and findings."""
    L, T = case.spec.layers, case.x.shape[1]
    rows, first_bad, tested, stopped = [], {}, [], []
    for k in range(1, T + 1):
        if case.spec.steps(k) is None:
            continue
        sub = case.cut(k)
        try:
            user = run_fn(fn, sub, f"the length sweep, sequence cut to T={k}")
        except UserCodeError as exc:
            stopped.append(f"the length sweep stopped at T={k}: {exc}")
            continue
        tested.append(k)
        ref = _trace("reference", oracles.reference_values(sub), L)
        for r in compare_traces(ref, _trace("yours", user, L), tol, GATES[case.spec.cell]):
            if r["status"] == "not compared":
                continue
            r.update(backend="reference", step=k - 1, probe=f"first {k} steps")
            rows.append(r)
            if not r["passed"]:
                first_bad.setdefault((r["quantity"], r["layer"]), k)
    return rows, _sweep_findings(case, first_bad, tested, stopped), first_bad


def _sweep_findings(case, first_bad, tested, stopped):
    lines = []
    if first_bad:
        k = min(first_bad.values())
        if k == 1:
            where = "wrong already with a single step: no recurrence involved"
        elif k == tested[0]:
            why = "your fn raised there" if stopped else (
                f"loss_steps={list(case.spec.loss_steps)} selects steps that do not exist there")
            where = f"wrong at the shortest length tested; T < {k} not tested: {why}"
        else:
            where = (f"right for sequences of up to {k - 1} step(s), wrong from {k} on: what {k} steps add is "
                     f"step {k - 1} and what it carries back into step {k - 2}")
        lines.append(f"earliest failing length: T={k} ({where})")
        for (q, layer), kk in sorted(first_bad.items(), key=lambda item: (item[1], -item[0][1], item[0][0])):
            lines.append(f"  {q} layer {layer}: first wrong at T={kk}")
    elif tested:
        lines.append(f"the length sweep (T={tested[0]}..{tested[-1]}) against the reference found no failing "
                     "length: your values match the reference")
    if stopped:
        lines.append(stopped[0] + (f" (and {len(stopped) - 1} more length(s))" if len(stopped) > 1 else ""))
    return lines
