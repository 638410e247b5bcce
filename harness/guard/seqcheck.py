"""check_backward for the layers people ship: bidirectional, variable-length (padded)
batches, the LSTM's projection, peepholes and clips.

The user's layer (its Layout says how: ``bidirectional``, ``merge``, ``takes_lengths``,
``padding``) is called on an extended probe (harness.probe) as

    forward(x, [lengths,] h0, [c0,] *weights) -> (h, cache)     x (N, T, D), h (N, T, M)
    backward(dh, cache) -> (dx, dh0, [dc0,] *dweights)           dh (N, T, M), 0 at padded steps

with h0/c0 (N, P) for one direction, (2, N, P) [forward, reverse] for two, and compared,
step by step and direction by direction, with the reference (reference_impls.bidirectional),
torch (harness.backends.torch_seq) and finite differences of the user's own forward.
Padded steps are never compared as data: h at a padded step is compared with what the
layout declares the layer outputs there (``padding``), dx there must be 0.
Localization and diagnosis (harness.guard.localize, diagnose) do not cover these layers yet:
the rows say which quantity, direction and step fail, and the findings narrow the mistake to
one direction and to some gate blocks when the failing rows show that.
"""

import dataclasses

import numpy as np

from ..backends import numeric
from ..backends.reference_seq import run_reference_seq
from ..cells import GATES, param_name
from ..compare import Tolerance, _ranges, compare_traces, skipped_row
from ..report import Report
from ..trace import Trace
from .usercode import UserCodeError, call, check_array, check_cache, layout_call, unpack

NOT_DIAGNOSED = ("diagnosis: bidirectional, variable-length, projected and peephole layers are compared but not "
                 "diagnosed yet; the failing rows name the quantity, direction and step")


def layer_params(probe):
    """The layer's canonical weights, both directions in one dict (``_reverse`` names)."""
    p = dict(probe.layer_params(0))
    if probe.directions == 2:
        p.update({f"{n}_reverse": v for n, v in probe.layer_params(0, 1).items()})
    return p


def _states(code, probe):
    """The user's initial states: (N, P) for one direction, (2, N, P) for two."""
    names = ["h"] + (["c"] if code.cell == "lstm" and code.layout.takes_c0 else [])
    return {s: probe.state0[s][0] if probe.directions == 1 else probe.state0[s][:2] for s in names}


def user_forward(code, probe, context=""):
    """(h (N, T, M), cache) of the user's forward on ``probe``."""
    layout = code.layout
    weights = layout_call(layout, "to_user", code.cell, layer_params(probe), context=context)
    args = [probe.x] + ([np.asarray(probe.lengths)] if layout.takes_lengths else [])
    args += list(_states(code, probe).values())
    args += [weights] if layout.weights_as == "dict" else list(weights.values())
    result = unpack(call(code.forward, "forward", args, context), "forward", layout.forward_returns, context)
    got = dict(zip(layout.forward_returns, result))
    N, T, M = probe.dout.shape
    return check_array(got["h"], "forward", "h", (N, T, M), context), check_cache(got["cache"], "forward", context)


def run_user(code, probe, context=""):
    """{quantity: value} of one forward and backward (a fresh forward before the backward),
    plus ``missing``: the canonical gradients the user returned as None."""
    h, cache = user_forward(code, probe, context)         # h copied: the backward may consume the cache
    states = _states(code, probe)
    weights = layout_call(code.layout, "to_user", code.cell, layer_params(probe), context=context)
    names = ["dx"] + [f"d{s}0" for s in states] + [f"d{w}" for w in weights]
    result = call(code.backward, "backward", (probe.dout, cache), context, own=(1,))
    if isinstance(result, dict):
        unknown = sorted(set(map(str, result)) - set(names))
        if unknown:
            raise UserCodeError(f"backward: returned a dict with unexpected key(s) {unknown}; expected keys among "
                                f"{names}")
        values = dict(result)
    else:
        values = dict(zip(names, unpack(result, "backward", names, context)))
    shapes = {"dx": probe.x.shape, **{f"d{s}0": v.shape for s, v in states.items()},
              **{f"d{w}": np.shape(v) for w, v in weights.items()}}
    out, user_dw, missing = {"h": h}, {}, set()
    for name in names:
        if values.get(name) is None:
            missing.add(name)
            continue
        g = check_array(values[name], "backward", name, shapes[name], context)
        if name[1:] in weights:
            user_dw[name] = g
        else:
            out[name] = g
    mapped = layout_call(code.layout, "to_canonical", code.cell, user_dw, layer_params(probe), context=context)
    canonical = {f"d{k}" for k in layer_params(probe)}
    unknown = sorted(set(map(str, mapped)) - canonical)
    if unknown:
        raise UserCodeError(f"layout {code.layout.name!r}: to_canonical returned {unknown[0]!r}, which is not a "
                            f"canonical gradient; expected names among {', '.join(sorted(canonical))}")
    out.update(mapped)
    return out, missing


def _unmapped(code, probe, returned):
    """The canonical gradients the user's returned gradients never give: a weight that to_user
    puts into the user's arrays at places that no weight to_canonical maps back also fills
    (cs231n's b = bias_ih + bias_hh is compared as dbias_ih: covered). Found by tagging: each
    weight alone set to ones, the others zero, through to_user."""
    params = layer_params(probe)

    def places(name):
        tagged = {k: (np.ones_like(v) if k == name else np.zeros_like(v)) for k, v in params.items()}
        user = layout_call(code.layout, "to_user", code.cell, tagged)
        found = set()
        for u, arr in user.items():
            try:
                found.update((u, int(i)) for i in np.flatnonzero(np.asarray(arr, dtype=float)))
            except (TypeError, ValueError):     # not an array of numbers: run_user has said so already
                pass
        return found
    covered = set().union(*(places(q[1:]) for q in returned if q[1:] in params))
    return {f"d{k}" for k in params if f"d{k}" not in returned and places(k) - covered}


def _outputs(probe):
    """What the user's h is compared as: "h" (one direction), "out" (two, merged) and, when
    they are concatenated, each direction's own "h" too."""
    if probe.directions == 1:
        return ("h",)
    return ("out", "h") if probe.structure.merge == "concat" else ("out",)


def _trace(name, probe, values, output):
    """A Trace of the quantities users return: the output per step, dx per step, the
    initial states' and weights' gradients per direction."""
    trace = Trace(name)
    for q, v in values.items():
        v = np.asarray(v)
        if q == "h":
            trace.add_steps(output, 0, v)
            if _outputs(probe)[1:]:
                P = v.shape[2] // 2
                for d in range(2):
                    trace.add_steps("h", 0, v[..., d * P:(d + 1) * P], direction=d)
        elif q == "dx":
            trace.add_steps("dx", 0, v)
        elif q in ("dh0", "dc0"):
            for d in range(probe.directions):
                trace.add_total(q, 0, v if probe.directions == 1 else v[d], direction=d)
        elif q.startswith("d"):
            rev = q.endswith("_reverse")
            trace.add_total(q[:-len("_reverse")] if rev else q, 0, v, direction=int(rev))
    return trace


def _from_reference(ref, probe, output, quantities):
    """The reference trace cut to what the user's code returns."""
    out = Trace("reference")
    for src, dst in ((ref.values, out.values), (ref.reverse, out.reverse)):
        for key, v in src.items():
            q, layer, step = key
            top = q in _outputs(probe) and layer == 0
            if top or (layer == 0 and q in quantities and (step is None or q == "dx")):
                dst[key] = v
    return out


def check_sequence_layer(code, probe, oracles, tol, numeric_mode, skip=()):
    """The Report of check_backward for an extended probe (see the module docstring)."""
    output = "out" if probe.directions == 2 else "h"
    user, missing = run_user(code, probe)
    unmapped = _unmapped(code, probe, set(user))                        # None, or never mapped back
    quantities = set(user) | missing | unmapped
    quantities = {q[:-len("_reverse")] if q.endswith("_reverse") else q for q in quantities} | {"dx"}
    yours = _trace("your code", probe, user, output)
    yours.note = "your backward returned None for it"
    if code.layout.padding != "any" and probe.lengths is not None:
        yours.padding = {q: code.layout.padding for q in _outputs(probe)}
    rows = []
    for oracle in oracles:
        rows += _against(oracle, code, probe, yours, quantities, output, tol, numeric_mode)
    for r in rows:
        base = r["quantity"] + ("_reverse" if r.get("direction") == "reverse" else "")
        if r["status"] == "not compared" and (base in missing or r["quantity"] in missing or base in unmapped):
            if r["quantity"] in skip or base in skip:
                r["note"] = "not computed by your code (declared with skip)"
            else:
                r.update(status="missing", note="your backward returned None for it, or to_canonical never maps "
                                                "it back from your gradients, so the verdict cannot be OK")
    findings = [NOT_DIAGNOSED] + _narrowed(rows, GATES[probe.cell], probe.directions) \
        if any(r["status"] == "FAIL" for r in rows) else []
    return Report.from_rows(f"check-{code.cell}-{code.layout.name}-{probe.dtype}",
                            f"{probe.describe()}; layout {code.layout.name}", rows, findings,
                            labels=("expected", "yours"))


def _narrowed(rows, gates, directions):
    """What the failing rows narrow the mistake down to: one direction of two, some gate blocks
    of the weights' gradients (the others right), the earliest failing step."""
    failing = [r for r in rows if r["status"] == "FAIL"]
    lines = []
    bad = {r.get("direction") for r in failing if r.get("direction") in ("forward", "reverse")}
    if directions == 2 and len(bad) == 1:
        (d,) = bad
        lines.append(f"where: only the {d} direction is wrong (the {'reverse' if d == 'forward' else 'forward'} "
                     "direction's values and gradients are right): look at that direction's code")
    weights = [r for r in rows if r["quantity"].startswith(("dweight", "dbias")) and r.get("gate")
               and r["status"] in ("pass", "FAIL")]
    wrong = [g for g in gates if any(r["gate"] == g and r["status"] == "FAIL" for r in weights)]
    if len(gates) > 1 and wrong and len(wrong) < len(gates):
        right = [g for g in gates if g not in wrong]
        lines.append(f"gates: only the {', '.join(wrong)} block(s) of the weight gradients are wrong "
                     f"({', '.join(right)} right)")
    steps = sorted({int(r["step"]) for r in failing if isinstance(r.get("step"), (int, np.integer))})
    if steps:
        lines.append(f"steps: wrong at step(s) {_ranges(steps)} of the probe")
    return lines


def _against(oracle, code, probe, yours, quantities, output, tol, numeric_mode):
    gates = GATES[probe.cell]
    if oracle == "reference":
        ref = _from_reference(run_reference_seq(probe), probe, output, quantities)
        return _relabel(compare_traces(ref, yours, tol, gates, probe.lengths), "reference")
    if oracle == "numeric":
        return _numeric(code, probe, yours, output, numeric_mode)
    from .. import backends
    runnable, skipped = backends.resolve((oracle,), probe)
    if not runnable:
        return [skipped_row(oracle, "; ".join(r for _, r in skipped), tol)]
    name, module = runnable[0]
    ref = _from_reference(module.run(name, probe), probe, output, quantities)
    ref.backend = name
    return _relabel(compare_traces(ref, yours, tol, gates, probe.lengths), name)


def _relabel(rows, name):
    for r in rows:
        r["backend"] = name
    return rows


def _numeric(code, probe, yours, output, mode):
    """Directional finite differences of <h, dout> through the user's forward (float64)."""
    from .check import numeric_tol
    base = dataclasses.replace(probe, dtype="float64", x=probe.x.astype(np.float64),
                               dout=probe.dout.astype(np.float64),
                               state0={s: v.astype(np.float64) for s, v in probe.state0.items()},
                               params={k: v.astype(np.float64) for k, v in probe.params.items()})
    arrays = {"x": base.x, **{f"{s}0": v for s, v in _states(code, base).items()},
              **{k: v for k, v in layer_params(base).items()}}
    arrays = {n: v for n, v in arrays.items() if _user_grad(yours, *_grad_key(n, probe)) is not None}

    def f(a):
        state0 = {s: v.copy() for s, v in base.state0.items()}
        for s in _states(code, base):
            state0[s][:probe.directions] = a[f"{s}0"]
        params = dict(base.params)
        params.update({param_name(k[:-len("_reverse")] if k.endswith("_reverse") else k, 0,
                                  int(k.endswith("_reverse"))): v for k, v in a.items() if k not in ("x", "h0", "c0")})
        p = dataclasses.replace(base, x=a["x"], state0=state0, params=params)
        return float((user_forward(code, p, "finite differences")[0] * base.dout).sum())
    rng = np.random.default_rng(probe.seed)
    if mode == "full":
        fd = numeric.full(f, arrays, list(arrays))
        project = None
    else:
        result = numeric.directional(f, arrays, {n: (n, ...) for n in arrays}, rng)
        fd = {n: derivs for n, (_, derivs) in result.items()}
        project = lambda n, g: np.tensordot(result[n][0], g, axes=g.ndim)
    ref, mine = Trace("numeric"), Trace("yours")
    for n in arrays:
        q, d = _grad_key(n, probe)
        g = _user_grad(yours, q, d)
        ref.of(d)[(q, 0, None)] = fd[n]
        if g is not None:
            mine.of(d)[(q, 0, None)] = project(n, g) if project else g
    mine.note = yours.note
    name = "numeric" if mode == "full" else "numeric-directional"
    rows = compare_traces(ref, mine, numeric_tol(), ("",))
    for r in rows:
        r["backend"] = name
        r["note"] = r.get("note") or "finite differences of your forward, float64"
    return rows


def _grad_key(name, probe):
    """(quantity, direction) of the gradient of array ``name`` ("x", "h0", "weight_ih_reverse")."""
    if name in ("h0", "c0"):
        return f"d{name}", 0
    rev = name.endswith("_reverse")
    return f"d{name[:-len('_reverse')] if rev else name}", int(rev)


def _user_grad(yours, q, d):
    if q == "dx":
        steps = sorted(k[2] for k in yours.values if k[0] == "dx")
        return np.stack([yours.values[("dx", 0, t)] for t in steps], axis=1) if steps else None
    if q in ("dh0", "dc0"):
        parts = [yours.of(j).get((q, 0, None)) for j in range(2 if yours.reverse else 1)]
        return None if any(p is None for p in parts) else (parts[0] if len(parts) == 1 else np.stack(parts))
    return yours.of(d).get((q, 0, None))


def extended(layout, lengths=None, proj_size=0, peepholes=False, cell_clip=None, proj_clip=None):
    """Whether check_backward runs here (anything beyond a plain one-direction layer)."""
    return bool(layout.bidirectional or layout.takes_lengths or lengths is not None or proj_size or peepholes
                or cell_clip is not None or proj_clip is not None)


def check_extended(code, against, sizes, options, *, dtype="float64", seed=0, bias=True, numeric_mode="directional",
                   atol=None, rtol=None, skip=(), lengths=None, proj_size=0, peepholes=False):
    """check_backward's path for these layers: the probe, then ``check_sequence_layer``."""
    from ..errors import HarnessError
    from ..probe import make_probe
    from .layouts import LAYOUTS
    layout = code.layout
    extras = [n for n, v in (("proj_size", proj_size), ("peepholes", peepholes)) if v]
    if extras and LAYOUTS.get(layout.name) is layout:
        raise HarnessError(f"{', '.join(extras)}: the built-in layout {layout.name!r} holds no projection or "
                           "peepholes; declare how your weights hold them with Layout.custom")
    if lengths is not None and not layout.takes_lengths:
        raise HarnessError("lengths: your layout's forward does not take sequence lengths; declare it with "
                           "Layout.custom(..., takes_lengths=True): forward(x, lengths, h0, ...)")
    if layout.takes_lengths and lengths is None:
        lengths = "random"
    probe = make_probe(code.cell, layers=1, bias=bias, dtype=dtype, seed=seed, bidirectional=layout.bidirectional,
                       merge=layout.merge, lengths=lengths, proj_size=proj_size, peepholes=peepholes,
                       **sizes, **options)
    probe = dataclasses.replace(probe, dstate_n={k: np.zeros_like(v) for k, v in probe.dstate_n.items()})
    if code.cell == "lstm" and not layout.takes_c0:
        probe = dataclasses.replace(probe, state0={**probe.state0, "c": np.zeros_like(probe.state0["c"])})
    skip = {s.strip() for s in (skip.split(",") if isinstance(skip, str) else skip or ())}
    return check_sequence_layer(code, probe, against, Tolerance.for_dtype(probe.dtype, atol, rtol), numeric_mode,
                                skip)
