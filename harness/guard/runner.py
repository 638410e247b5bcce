"""Run the user's forward and backward on a probe; return canonical values.

Canonical values of one run: {"h": (N, T, H), "dx": (N, T, D), "dh0": (N, H),
["dc0": (N, H),] "dweight_ih": (G*H, D), ...}; a gradient the user returned as None is
absent (and reported "not compared", never passed).
"""

from dataclasses import dataclass

import numpy as np

from ..cells import num_gates
from .usercode import UserCodeError, call, check_array, check_cache, unpack


@dataclass(frozen=True)
class UserCode:
    """The user's functions and how they hold their weights."""
    forward: object
    backward: object
    layout: object          # a guard.layouts.Layout
    cell: str


def _sizes(probe):
    s = probe.sizes
    return s["N"], s["T"], s["D"], s["H"]


def interface(code, probe):
    """The canonical quantities the user's functions can return (their gradients' names mapped)."""
    params = probe.layer_params(0)
    zeros = {f"d{k}": np.zeros_like(v) for k, v in code.layout.to_user(code.cell, params).items()}
    if code.layout.per_example:
        states = ["dh0"]
    else:
        states = [f"d{s}" for s in _user_states(code, probe)]
    return ["h", "dx"] + states + list(code.layout.to_canonical(code.cell, zeros, params))


def user_forward(code, probe, context=""):
    """The user's forward on ``probe``: (h (N, T, H), cache, the weights and states passed)."""
    weights = code.layout.to_user(code.cell, probe.layer_params(0))
    states = _user_states(code, probe)
    N, T, D, H = _sizes(probe)
    h, cache = unpack(call(code.forward, "forward", (probe.x, *states.values(), *weights.values()), context),
                      "forward", ("h", "cache"), context)
    return check_array(h, "forward", "h", (N, T, H), context), check_cache(cache, "forward", context), weights, states


def user_loss(code, probe):
    """<h, dout> through the user's forward (the function finite differences differentiate)."""
    if code.layout.per_example:
        return sum(float((_forward_one(code, probe, n, "")[0][:, :, 0] * probe.dout[n]).sum())
                   for n in range(probe.sizes["N"]))
    return float((user_forward(code, probe, "finite differences")[0] * probe.dout).sum())


def run_user(code, probe, dout, context=""):
    """Forward then backward (fresh forward, copies everywhere); canonical values."""
    if code.layout.per_example:
        return _run_per_example(code, probe, dout, context)
    params = probe.layer_params(0)
    N, T, D, H = _sizes(probe)
    h, _, weights, states = user_forward(code, probe, context)
    out = {"h": h}
    # A fresh forward right before backward: real code consumes or overwrites its cache.
    _, cache, _, _ = user_forward(code, probe, context)
    names = ["dx"] + [f"d{s}" for s in states] + [f"d{w}" for w in weights]
    grads = unpack(call(code.backward, "backward", (dout, cache), context), "backward", names, context)
    shapes = [(N, T, D)] + [(N, H)] * len(states) + [w.shape for w in weights.values()]
    got = {n: (None if g is None else check_array(g, "backward", n, shp, context))
           for n, g, shp in zip(names, grads, shapes)}
    out.update({n: got[n] for n in ["dx"] + [f"d{s}" for s in states] if got[n] is not None})
    user_dw = {n: g for n, g in got.items() if n[1:] in weights and g is not None}
    out.update(_to_canonical(code, user_dw, params, context))
    if len(out) == 1:
        raise UserCodeError(f"backward: returned None for every gradient ({', '.join(names)}); nothing to check"
                            + (f" ({context})" if context else ""))
    return out


def _user_states(code, probe):
    states = {"h0": probe.state0["h"][0]}
    if code.cell == "lstm" and code.layout.takes_c0:
        states["c0"] = probe.state0["c"][0]
    return states


def _to_canonical(code, user_dw, params, context):
    try:
        canonical = code.layout.to_canonical(code.cell, user_dw, params)
    except (KeyError, ValueError, IndexError) as exc:
        raise UserCodeError(f"layout {code.layout.name!r}: cannot map your gradients back "
                            f"({type(exc).__name__}: {exc}){' (' + context + ')' if context else ''}") from exc
    G, H = num_gates(code.cell), params["weight_hh"].shape[1]
    for name, value in canonical.items():
        want = params[name[1:]].shape if name[1:] in params else (G * H,)
        if np.shape(value) != want:
            raise UserCodeError(f"layout {code.layout.name!r}: {name} maps to shape {np.shape(value)}, expected {want}")
    return canonical


def _forward_one(code, probe, n, context):
    """Forward of example n as column vectors: x (T, D, 1), h0 (H, 1) -> h (T, H, 1)."""
    N, T, D, H = _sizes(probe)
    weights = code.layout.to_user(code.cell, probe.layer_params(0))
    args = (probe.x[n][:, :, None], probe.state0["h"][0][n][:, None], *weights.values())
    h, cache = unpack(call(code.forward, "forward", args, context), "forward", ("h", "cache"), context)
    return check_array(h, "forward", "h", (T, H, 1), context), check_cache(cache, "forward", context), weights


def _run_per_example(code, probe, dout, context):
    """Column-vector code (min-char-rnn style): one example at a time; weight gradients summed."""
    N, T, D, H = _sizes(probe)
    total, out = {}, {"h": [], "dx": [], "dh0": []}
    for n in range(N):
        ctx = f"example {n} of the batch" + (f", {context}" if context else "")
        h, _, weights = _forward_one(code, probe, n, ctx)
        out["h"].append(h[:, :, 0])
        _, cache, _ = _forward_one(code, probe, n, ctx)
        names = ["dx", "dh0"] + [f"d{w}" for w in weights]
        grads = unpack(call(code.backward, "backward", (dout[n][:, :, None], cache), ctx), "backward", names, ctx)
        shapes = [(T, D, 1), (H, 1)] + [w.shape for w in weights.values()]
        for name, g, shp in zip(names, grads, shapes):
            if g is None:
                continue
            g = check_array(g, "backward", name, shp, ctx)
            if name in ("dx", "dh0"):
                out[name].append(g[..., 0])
            else:
                total[name] = total.get(name, 0) + g
    result = {k: np.stack(v) for k, v in out.items() if len(v) == N}
    result.update(_to_canonical(code, total, probe.layer_params(0), context))
    return result
