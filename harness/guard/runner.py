"""Run the user's forward and backward on a probe; return canonical values.

Canonical values of one run (a ``UserValues`` dict): {"h": (N, T, H), "dx": (N, T, D),
"dh0": (N, H), ["dc0": (N, H),] "dweight_ih": (G*H, D), ...}. Besides the values it says
what it could not take: ``missing`` (returned as None), ``problems`` (returned with a wrong
shape: {quantity: the one-line message, in the user's axis order}; the other gradients are
still compared) and ``dtypes`` (what precision the user's arrays came in).

The layout says how the user's functions are called: the axis order of x and h (``axes``),
the weights as arguments, one dict or one list (``weights_as``), what the forward returns
(``forward_returns``), and the backward returns a tuple (dx, dh0, [dc0,] *dweights) or a
dict keyed by those names in the user's words (dx, da0, dWax, ...).
"""

from dataclasses import dataclass

import numpy as np

from ..cells import num_gates
from .usercode import UserCodeError, call, check_array, check_cache, layout_call, unpack


@dataclass(frozen=True)
class UserCode:
    """The user's functions and how they hold their weights."""
    forward: object
    backward: object
    layout: object          # a guard.layouts.Layout
    cell: str


CANONICAL_GRADS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


class UserValues(dict):
    """Canonical values of one run of the user's code, plus what could not be taken."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missing, self.problems, self.dtypes = set(), {}, {}
        self.yours = {}             # canonical quantity -> the user's name of the gradient it came from


def _sizes(probe):
    s = probe.sizes
    return s["N"], s["T"], s["D"], s["H"]


def _perm(axes, letters="NTD"):
    """The transpose taking an array in ``letters`` order to ``axes`` order."""
    return tuple(letters.index(a) for a in axes)


def to_user_axes(layout, arr, feature="D"):
    """A canonical (N, T, F) array, or (N, F) state, in the user's axis order."""
    if arr.ndim == 3:
        return arr.transpose(_perm(layout.axes))
    state_axes = layout.axes.replace("T", "")
    return arr.transpose(_perm(state_axes, "ND"))


def user_shape(layout, shape, letters):
    """``shape`` (canonical order ``letters``) in the user's axis order, and those letters."""
    axes = layout.axes if len(letters) == 3 else layout.axes.replace("T", "")
    canonical = "NTD" if len(letters) == 3 else "ND"
    order = _perm(axes, canonical)
    return tuple(shape[i] for i in order), "".join(letters[i] for i in order)


def interface(code, probe):
    """The canonical quantities the user's functions can return (their gradients' names mapped)."""
    params = probe.layer_params(0)
    zeros = {f"d{k}": np.zeros_like(np.asarray(v, dtype=float)) for k, v in user_weights(code, params).items()}
    states = ["dh0"] if code.layout.per_example else [f"d{s}" for s in _user_states(code, probe)]
    return ["h", "dx"] + states + list(layout_call(code.layout, "to_canonical", code.cell, zeros, params))


def user_weights(code, params, context=""):
    """The user's weights of one layer: the layout's to_user on copies of canonical ``params``."""
    return layout_call(code.layout, "to_user", code.cell, params, context=context)


def _forward_args(code, x, states, weights):
    ws = {"dict": (weights,), "list": (list(weights.values()),)}.get(code.layout.weights_as, tuple(weights.values()))
    return (x, *states.values(), *ws)


def _unpack_forward(code, result, context):
    names = code.layout.forward_returns
    values = unpack(result, "forward", names, context)
    got = dict(zip(names, values))
    return got["h"], got["cache"]


def user_forward(code, probe, context=""):
    """The user's forward on ``probe``: (h (N, T, H), cache, the weights and states passed)."""
    layout = code.layout
    weights = user_weights(code, probe.layer_params(0), context)
    states = _user_states(code, probe)
    N, T, D, H = _sizes(probe)
    x = to_user_axes(layout, probe.x)
    user_states = {k: to_user_axes(layout, v) for k, v in states.items()}
    h, cache = _unpack_forward(code, call(code.forward, "forward", _forward_args(code, x, user_states, weights),
                                          context), context)
    want, letters = user_shape(layout, (N, T, H), "NTH")
    h = check_array(h, "forward", "h", want, context, letters)
    return _canonical(layout, h), check_cache(cache, "forward", context), weights, states


def _canonical(layout, arr):
    """A user-order (x/h-like or state) array back in canonical order."""
    if arr.ndim == 3:
        return arr.transpose(np.argsort(_perm(layout.axes)))
    return arr.transpose(np.argsort(_perm(layout.axes.replace("T", ""), "ND")))


def user_loss(code, probe):
    """<h, dout> through the user's forward (the function finite differences differentiate)."""
    if code.layout.per_example:
        return sum(float((_forward_one(code, probe, n, "")[0][:, :, 0] * probe.dout[n]).sum())
                   for n in range(probe.sizes["N"]))
    return float((user_forward(code, probe, "finite differences")[0] * probe.dout).sum())


def run_user(code, probe, dout, context=""):
    """Forward then backward, one forward (check_array copied h; the backward gets copies of dout and
    the weights, and the cache the forward has just made); canonical values."""
    if code.layout.per_example:
        return _run_per_example(code, probe, dout, context)
    layout, params = code.layout, probe.layer_params(0)
    N, T, D, H = _sizes(probe)
    h, cache, weights, states = user_forward(code, probe, context)
    out = UserValues(h=h)                   # a copy (check_array); the backward gets copies of dout and the weights,
    out.dtypes["h"] = h.dtype
    names = ["dx"] + [f"d{s}" for s in states] + [f"d{w}" for w in weights]
    grads = _backward_values(code, call(code.backward, "backward", (to_user_axes(layout, dout), cache), context,
                                        own=(1,)), names, states, context)   # and the cache just made, as it is
    shapes = {"dx": ((N, T, D), "NTD"), **{f"d{s}": ((N, H), "NH") for s in states}}
    shapes.update({f"d{w}": (np.shape(v), None) for w, v in weights.items()})
    user_dw = {}
    for name in names:
        g = grads.get(name)
        if g is None:
            out.missing.add(name)
            continue
        shape, letters = shapes[name]
        want, user_letters = user_shape(layout, shape, letters) if letters else (shape, None)
        try:
            g = check_array(g, "backward", _user_name(layout, name), want, context, user_letters)
        except UserCodeError as exc:
            if "shape" not in str(exc):
                raise
            out.problems[name] = str(exc)
            continue
        if name in ("dx", *[f"d{s}" for s in states]):
            out[name] = _canonical(layout, g)
            out.dtypes[name] = g.dtype
        else:
            user_dw[name] = g
    out.update(_to_canonical(code, user_dw, params, context))
    out.dtypes.update({k: v.dtype for k, v in user_dw.items()})
    out.problems = _by_canonical(code, params, out.problems)
    out.missing = set(_by_canonical(code, params, dict.fromkeys(out.missing), out.yours))
    if len(out) == 1 and not out.problems:
        raise UserCodeError(f"backward: returned None for every gradient ({', '.join(names)}); nothing to check"
                            + (f" ({context})" if context else ""))
    return out


def _user_name(layout, name):
    """dh0 -> da0 when the layout calls h "a"."""
    for s in ("h", "c"):
        if name == f"d{s}0":
            return f"d{layout.user_state(s)}0"
    return name


def _backward_values(code, result, names, states, context):
    """{canonical state name or "d" + user weight name: value} from a tuple or a dict."""
    if isinstance(result, dict):
        keys = {_user_name(code.layout, n): n for n in names}
        unknown = sorted(set(map(str, result)) - set(keys))
        if unknown:
            raise UserCodeError(f"backward: returned a dict with unexpected key(s) {unknown}; expected keys among "
                                f"{sorted(keys)}{' (' + context + ')' if context else ''}")
        return {keys[k]: v for k, v in result.items()}
    values = unpack(result, "backward", [_user_name(code.layout, n) for n in names], context)
    return dict(zip(names, values))


def maps_to(code, params, user_name):
    """The canonical quantities a user gradient maps to (dWh -> {dweight_hh}; tf_kernel's dkernel ->
    {dweight_ih, dweight_hh}; a weight with no canonical counterpart, such as an output layer the
    forward needs, -> {}): what to_canonical loses when that gradient is left out."""
    if user_name in ("dx", "dh0", "dc0"):
        return {user_name}
    weights = user_weights(code, params)
    grads = {f"d{k}": np.zeros_like(np.asarray(v, dtype=float)) for k, v in weights.items()}
    before = set(layout_call(code.layout, "to_canonical", code.cell, grads, params))
    grads.pop(user_name, None)
    try:
        after = set(layout_call(code.layout, "to_canonical", code.cell, grads, params))
    except UserCodeError:                                      # a to_canonical that needs every gradient
        return before
    return before - after


def _by_canonical(code, params, by_user_name, yours=None):
    """{user gradient name: v} -> {canonical quantity: v} for every quantity each one maps to
    (and ``yours`` filled with canonical quantity -> user name)."""
    out = {}
    for name, v in by_user_name.items():
        for q in maps_to(code, params, name):
            out[q] = v
            if yours is not None:
                yours[q] = _user_name(code.layout, name)
    return out


def _user_states(code, probe):
    states = {"h0": probe.state0["h"][0]}
    if code.cell == "lstm" and code.layout.takes_c0:
        states["c0"] = probe.state0["c"][0]
    return states


def _to_canonical(code, user_dw, params, context):
    canonical = layout_call(code.layout, "to_canonical", code.cell, user_dw, params, context=context)
    G, H = num_gates(code.cell), params["weight_hh"].shape[1]
    for name, value in canonical.items():
        if name not in CANONICAL_GRADS:
            raise UserCodeError(f"layout {code.layout.name!r}: to_canonical returned {name!r}, which is not a "
                                f"canonical gradient; expected names among {', '.join(CANONICAL_GRADS)} (rename it "
                                f"in to_canonical)")
        want = params[name[1:]].shape if name[1:] in params else (G * H,)
        if np.shape(value) != want:
            raise UserCodeError(f"layout {code.layout.name!r}: {name} maps to shape {np.shape(value)}, expected {want}")
    return canonical


def _forward_one(code, probe, n, context):
    """Forward of example n as column vectors: x (T, D, 1), h0 (H, 1) -> h (T, H, 1)."""
    N, T, D, H = _sizes(probe)
    weights = user_weights(code, probe.layer_params(0), context)
    x, h0 = probe.x[n][:, :, None], probe.state0["h"][0][n][:, None]
    h, cache = _unpack_forward(code, call(code.forward, "forward", _forward_args(code, x, {"h0": h0}, weights),
                                          context), context)
    return check_array(h, "forward", "h", (T, H, 1), context), check_cache(cache, "forward", context), weights


def _run_per_example(code, probe, dout, context):
    """Column-vector code (min-char-rnn style): one example at a time; weight gradients summed."""
    N, T, D, H = _sizes(probe)
    total, out, parts = {}, UserValues(), {"h": [], "dx": [], "dh0": []}
    for n in range(N):
        ctx = f"example {n} of the batch" + (f", {context}" if context else "")
        h, cache, weights = _forward_one(code, probe, n, ctx)
        parts["h"].append(h[:, :, 0])
        out.dtypes["h"] = h.dtype
        names = ["dx", "dh0"] + [f"d{w}" for w in weights]
        grads = _backward_values(code, call(code.backward, "backward", (dout[n][:, :, None], cache), ctx, own=(1,)),
                                 names, {"h0": None}, ctx)
        shapes = [(T, D, 1), (H, 1)] + [w.shape for w in weights.values()]
        for name, shp in zip(names, shapes):
            g = grads.get(name)
            if g is None:
                out.missing.add(name)
                continue
            try:
                g = check_array(g, "backward", name, shp, ctx)
            except UserCodeError as exc:
                if "shape" not in str(exc):
                    raise
                out.problems[name] = str(exc)
                continue
            out.dtypes[name] = g.dtype
            if name in ("dx", "dh0"):
                parts[name].append(g[..., 0])
            else:
                total[name] = total.get(name, 0) + g
    out.update({k: np.stack(v) for k, v in parts.items() if len(v) == N})
    out.update(_to_canonical(code, total, probe.layer_params(0), context))
    params = probe.layer_params(0)
    out.problems = _by_canonical(code, params, out.problems)
    out.missing = set(_by_canonical(code, params, dict.fromkeys(out.missing), out.yours))
    return out
