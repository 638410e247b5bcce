"""What the user's code is compared against, as traces of the quantities users return.

    reference   the NumPy reference cells (also the base of localization and diagnosis)
    torch, tf   framework autograd on the same weights (the first backend of the family
                that can run the probe exactly)
    numeric     central finite differences on the user's own forward (no framework)
"""

import dataclasses

import numpy as np

from reference_impls.stack import CELLS, stack_backward, stack_forward

from .. import backends as _backends
from ..backends import numeric
from ..trace import Trace

USER_QUANTITIES = ("h", "dx", "dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


def values_trace(name, values):
    """A Trace from canonical values: h and dx per step, the rest as totals."""
    trace = Trace(name)
    for q, v in values.items():
        if q in ("h", "dx"):
            trace.add_steps(q, 0, np.asarray(v))
        elif q in USER_QUANTITIES:
            trace.add_total(q, 0, np.asarray(v))
    return trace


def reference_forward(probe, **options):
    """The reference forward of one layer: (states, caches), which reference_values can reuse for
    several upstream gradients on the same inputs (the backward reads the caches, never writes them)."""
    return stack_forward(probe.cell, probe.x, probe.state0, [probe.layer_params(0)], **{**probe.options, **options})


def reference_values(probe, forward=None, **options):
    """Reference forward + BPTT of one layer: canonical values plus internals (da, dh_total, c).
    ``forward``: reference_forward's result on the same probe, to run the backward alone."""
    states, caches = forward or reference_forward(probe, **options)
    grads = stack_backward(probe.cell, probe.dout, probe.dstate_n, caches)[0]
    out = {"h": states[0]["h"], "dx": grads["dx"], "dh0": grads["dh0"]}
    if "c" in states[0]:
        out.update(c=states[0]["c"], dc0=grads["dc0"], dc_total=grads["dc_total"])
    out.update({k: v for k, v in grads.items() if k.startswith(("dweight", "dbias"))})
    out.update(dh_total=grads["dh_total"], steps=CELLS[probe.cell].step_param_grads(grads, caches[0]))
    for k in ("da", "da_x", "da_h"):
        if k in grads:
            out[k] = grads[k]
    return out


def adjoint_trace(family, probe):
    """The full trace of a backend of ``family`` that exposes per-step adjoints (an unrolled
    cell or loop), or None: for the gradient-norm picture."""
    runnable, _ = _backends.resolve((family,), probe)
    per_step = [(n, m) for n, m in runnable if n.endswith(("Cell", "-loop", "functional"))]
    if not per_step:
        return None
    name, module = per_step[0]
    return module.run(name, probe)


def framework_trace(family, probe):
    """The first backend of ``family`` that runs ``probe`` exactly, restricted to what users return."""
    runnable, skipped = _backends.resolve((family,), probe)
    if not runnable:
        return None, "; ".join(reason for _, reason in skipped)
    name, module = runnable[0]
    full = module.run(name, probe)
    trace = Trace(name)
    trace.values = {k: v for k, v in full.values.items() if k[0] in USER_QUANTITIES and k[1] == 0}
    return trace, ""


def numeric_trace(loss, probe, names, mode, rng, gates=1, eps=None):
    """Finite differences of ``loss(probe) -> float`` w.r.t. canonical arrays ``names``.

    Returns (trace_of_fd, project): for mode "directional", ``project(values)`` turns the
    user's canonical gradients into the same directional derivatives. Directional mode
    perturbs each array as a whole (x over every step at once: the cost does not grow with
    T beyond the forward itself), weights one gate block at a time (``gates`` blocks along
    their rows), so a failure still names the array and the gate; per-step resolution is
    the localization's job.
    """
    arrays = _arrays(probe, names)
    f = _as_function(loss, probe)
    step = {} if eps is None else {"eps": eps}
    if mode == "full":
        grads = numeric.full(f, arrays, names, **step)
        return values_trace("numeric", _from_arrays(grads)), None
    slices = {}
    for n in names:
        blocks = gates if n.startswith(("weight", "bias")) else 1
        size = arrays[n].shape[0] // blocks
        for k in range(blocks):
            slices[(n, k)] = (n, slice(k * size, (k + 1) * size) if blocks > 1 else ...)
    result = numeric.directional(f, arrays, slices, rng, **step)
    trace = Trace("numeric-directional")
    for n in names:
        parts = [result[(n, k)][1] for k in range(gates if n.startswith(("weight", "bias")) else 1)]
        trace.values[(_quantity(n), 0, None)] = np.concatenate(parts)     # gate blocks of k derivatives each

    def project(values):
        projected = Trace("yours")
        for n in names:
            g = values.get(_quantity(n))
            if g is None:
                continue
            blocks = gates if n.startswith(("weight", "bias")) else 1
            parts = []
            for k in range(blocks):
                dirs, _ = result[(n, k)]
                part = g[slices[(n, k)][1]]
                parts.append(np.tensordot(dirs, part, axes=part.ndim))
            projected.values[(_quantity(n), 0, None)] = np.concatenate(parts)
        return projected
    return trace, project


def _quantity(name):
    return {"x": "dx", "h0": "dh0", "c0": "dc0"}.get(name, f"d{name}")


def _arrays(probe, names):
    src = {"x": probe.x, "h0": probe.state0["h"][0], **probe.layer_params(0)}
    if "c" in probe.state0:
        src["c0"] = probe.state0["c"][0]
    return {n: np.array(src[n], dtype=np.float64) for n in names}


def _from_arrays(grads):
    return {_quantity(n): g for n, g in grads.items()}


def _as_function(loss, probe):
    """f(arrays) = loss(probe with those arrays), in float64."""
    base = dataclasses.replace(probe, dtype="float64")

    def f(arrays):
        state0 = {s: np.array(v, dtype=np.float64) for s, v in base.state0.items()}
        if "h0" in arrays:
            state0["h"] = arrays["h0"][None]
        if "c0" in arrays:
            state0["c"] = arrays["c0"][None]
        params = {k: np.array(v, dtype=np.float64) for k, v in base.params.items()}
        params.update({f"{k}_l0": v for k, v in arrays.items() if k not in ("x", "h0", "c0")})
        x = arrays.get("x", np.asarray(base.x, dtype=np.float64))
        return loss(dataclasses.replace(base, x=x, state0=state0, params=params,
                                        dout=np.asarray(base.dout, dtype=np.float64)))
    return f
