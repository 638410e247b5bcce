"""What check_model() compares the user's fn with: the whole model, loss and every gradient.

    reference   the NumPy reference stack (reference_impls) under a NumPy head and loss
                whose backward is written out here by hand; float64
    torch, tf   the same model in the frameworks, autograd (harness.guard.model_frameworks)
    numeric     central finite differences of the user's own loss; float64

Every oracle returns {"loss": 0-d array, canonical param name: gradient}. The diagnosis is
harness.guard.model_diagnose.
"""

import numpy as np

from reference_impls._act import sigmoid
from reference_impls.stack import CELLS, stack_forward

from ..backends import numeric
from ..cells import STATES, split_layer

# ---------------------------------------------------------------- NumPy reference


def reference_values(case):
    """Loss and gradients by hand-written backprop: loss -> head -> stack, top layer first."""
    return reference_run(case)[0]


def reference_run(case, state0=None):
    """(values, final states, per-layer BPTT grads) of the reference on ``case``.

    state0: {state name: (L, N, H)} initial states (zeros when None): truncated BPTT starts
    from the state the previous batch ended in, with no gradient through it. final states:
    {state name: (L, N, H)}, float64. The per-layer grads are what each layer's backward
    returned (``dh_total``, ``dc_total``: dL/dh_t and dL/dc_t counting every consumer).
    """
    spec = case.spec
    p = {k: np.asarray(v, dtype=np.float64) for k, v in case.params.items()}
    x = np.asarray(case.x, dtype=np.float64)
    N, L = x.shape[0], spec.layers
    if state0 is None:
        state0 = {s: np.zeros((L, N, spec.hidden_size)) for s in STATES[spec.cell]}
    state0 = {s: np.asarray(v, dtype=np.float64) for s, v in state0.items()}
    layers = [split_layer(p, k) for k in range(L)]
    states, caches = stack_forward(spec.cell, x, state0, layers, **spec.options)
    y, head_cache = head_forward(spec, p, states[-1]["h"])
    loss, dy = loss_backward(spec, y, case.target)
    grads, dh = head_backward(spec, p, head_cache, dy)
    per_layer = [None] * L
    for k in reversed(range(L)):
        g = CELLS[spec.cell].backward(dh, {}, caches[k])
        grads.update({f"{name}_l{k}": g[f"d{name}"] for name in layers[k]})
        per_layer[k] = g
        dh = g["dx"]
    final = {s: np.stack([states[k][s][:, -1] for k in range(L)]) for s in STATES[spec.cell]}
    return {"loss": np.asarray(loss), **grads}, final, per_layer


def head_forward(spec, p, h):
    """Outputs y (N, T, O) from the top layer's states h (N, T, H); and what backward needs."""
    if spec.head is None:
        return h, None
    z = h @ p["head.weight"].T + (p["head.bias"] if spec.head_bias else 0.0)
    y = sigmoid(z) if spec.head == "linear+sigmoid" else z
    return y, (h, y)


def head_backward(spec, p, cache, dy):
    """({"head.weight", ["head.bias"]}, dL/dh of the top layer) from dL/dy."""
    if spec.head is None:
        return {}, dy
    h, y = cache
    dz = dy * y * (1.0 - y) if spec.head == "linear+sigmoid" else dy      # sigmoid' from its output
    grads = {"head.weight": np.einsum("nto,nth->oh", dz, h)}               # summed over N and T
    if spec.head_bias:
        grads["head.bias"] = dz.sum(axis=(0, 1))
    return grads, dz @ p["head.weight"]                                    # forward was h W^T


def loss_backward(spec, y, target):
    """(loss, dL/dy) for the selected steps; dL/dy is zero on the other steps."""
    N, T, O = y.shape
    steps = spec.steps(T)
    c = spec.scale(N, len(steps), O)
    ys = y[:, steps]
    if spec.loss == "softmax_cross_entropy":
        z = ys - ys.max(axis=-1, keepdims=True)                            # stable log-softmax
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        onehot = np.eye(O)[np.asarray(target)[:, steps]]
        loss, dys = -c * (logp * onehot).sum(), c * (np.exp(logp) - onehot)
    else:
        k = 0.5 if spec.loss == "half_squared_error" else 1.0
        diff = ys - np.asarray(target, dtype=np.float64)[:, steps]
        loss, dys = c * k * (diff * diff).sum(), 2.0 * k * c * diff
    dy = np.zeros_like(y)
    dy[:, steps] = dys
    return loss, dy

# ---------------------------------------------------------------- finite differences


def numeric_values(loss, params, mode, rng):
    """Finite differences of ``loss(params) -> float`` w.r.t. every array of ``params``, float64.

    Returns (fd, project): fd maps each name to its gradient ("full") or to its derivatives
    along 2 random unit directions ("directional"); ``project(grads)`` turns canonical
    gradients into the same directional derivatives (None for "full").
    """
    arrays = {n: np.array(v, dtype=np.float64) for n, v in params.items()}
    if mode == "full":
        return numeric.full(loss, arrays, list(arrays)), None
    result = numeric.directional(loss, arrays, {n: (n, ...) for n in arrays}, rng)

    def project(grads):
        return {n: np.tensordot(dirs, grads[n], axes=grads[n].ndim) for n, (dirs, _) in result.items() if n in grads}
    return {n: derivs for n, (_, derivs) in result.items()}, project

def key_of(name, layers):
    """(quantity, layer) of a canonical name: "weight_hh_l1" -> ("dweight_hh", 1)."""
    if name == "loss":
        return "loss", layers
    if name.startswith("head."):
        return f"d{name}", layers
    base, _, k = name.rpartition("_l")
    return f"d{base}", int(k)
