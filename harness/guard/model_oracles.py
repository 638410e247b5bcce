"""What check_model() compares the user's fn with: the whole model, loss and every gradient.

    reference   the NumPy reference stack (reference_impls) under a NumPy head and loss
                whose backward is written out here by hand; float64
    torch, tf   the same model in the frameworks, autograd (harness.guard.model_frameworks)
    numeric     central finite differences of the user's own loss; float64

Every oracle returns {"loss": 0-d array, canonical param name: gradient}. Below them, the
diagnosis: known mistakes replayed on the whole model (through the reference) and
compared with what the user's fn returned.
"""

import numpy as np

from reference_impls._act import sigmoid
from reference_impls.stack import CELLS, stack_forward

from ..backends import numeric
from ..compare import compare_arrays
from ..cells import STATES, split_layer

# ---------------------------------------------------------------- NumPy reference


def reference_values(case, mutants=None):
    """Loss and gradients by hand-written backprop: loss -> head -> stack, top layer first.

    mutants: {layer: backward(dh, cache) -> grads} replacing that layer's BPTT, to replay a
    mistake for diagnosis (see ``RNN_MUTANTS``).
    """
    spec = case.spec
    p = {k: np.asarray(v, dtype=np.float64) for k, v in case.params.items()}
    x = np.asarray(case.x, dtype=np.float64)
    N, L = x.shape[0], spec.layers
    zeros = {s: np.zeros((L, N, spec.hidden_size)) for s in STATES[spec.cell]}
    layers = [split_layer(p, k) for k in range(L)]
    states, caches = stack_forward(spec.cell, x, zeros, layers, **spec.options)
    y, head_cache = head_forward(spec, p, states[-1]["h"])
    loss, dy = loss_backward(spec, y, case.target)
    grads, dh = head_backward(spec, p, head_cache, dy)
    for k in reversed(range(L)):
        if mutants and k in mutants:
            g = mutants[k](dh, caches[k])
        else:
            g = CELLS[spec.cell].backward(dh, {}, caches[k])
        grads.update({f"{name}_l{k}": g[f"d{name}"] for name in layers[k]})
        dh = g["dx"]
    return {"loss": np.asarray(loss), **grads}


# RNN mistakes replayed on the whole model (being replaced by the grammar)
RNN_MUTANTS = {}


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

# ---------------------------------------------------------------- diagnosis: known mistakes replayed


def key_of(name, layers):
    """(quantity, layer) of a canonical name: "weight_hh_l1" -> ("dweight_hh", 1)."""
    if name == "loss":
        return "loss", layers
    if name.startswith("head."):
        return f"d{name}", layers
    base, _, k = name.rpartition("_l")
    return f"d{base}", int(k)


def _matches(expected, got, tol):
    return compare_arrays(expected, got, tol)["passed"]


def _label(name, L):
    q, layer = key_of(name, L)
    return q if q == "loss" else f"{q} layer {layer}"


def diagnose(case, user, tol):
    """"likely cause: ..." lines: whole-model mistakes replayed, else per-gradient scalings."""
    correct = reference_values(case)
    failing = [n for n in user if not _matches(correct[n], user[n], tol)]
    if not failing:
        return ["likely cause: unknown cause (your values match the NumPy reference; an oracle disagrees with it)"]
    whole = _whole_model(case, correct, user, tol)
    if whole:
        return [f"likely cause: {whole} (your values reproduce this mistake within tolerance)"]
    found = {}                                          # cause -> the gradients it explains
    for n in failing:
        found.setdefault(_scaled(case, n, correct[n], user[n], tol), []).append(_label(n, case.spec.layers))
    unknown = found.pop(None, [])
    lines = [f"likely cause: {cause}: {', '.join(labels)}" for cause, labels in found.items()]
    if unknown:
        lines.append(f"likely cause: unknown cause for {', '.join(unknown)} "
                     "(no entry of the catalogue reproduces your numbers)")
    return lines


def _scales(case):
    N, T = case.x.shape[:2]
    Ts = len(case.spec.steps(T))
    scales = {N: f"the batch size N={N}", N * T: f"N*T={N * T} (batch x steps)"}
    scales.setdefault(N * Ts, f"N*T'={N * Ts} (batch x loss steps)")
    return scales


def _whole_model(case, correct, user, tol):
    """A mistake that moves the loss and every gradient together, replayed on the whole model."""
    # with reduction="sum" the likely mistake is averaging, with "mean" summing; the loss
    # itself must be scaled too, or it is not a whole-model scaling
    mistake, by, up = (("summed instead of averaged", "multiplied by", True) if case.spec.reduction == "mean"
                       else ("averaged instead of summed", "divided by", False))
    for n, text in _scales(case).items():
        s = n if up else 1 / n
        if "loss" in user and all(_matches(correct[k] * s, user[k], tol) for k in user):
            return f"loss {mistake}: your loss and every gradient are the correct ones {by} {text}"
    if case.spec.cell != "rnn":
        return None
    L = case.spec.layers
    for cause, (backward, detail) in RNN_MUTANTS.items():
        for layers in [(k,) for k in range(L)] + ([tuple(range(L))] if L > 1 else []):
            mutant = reference_values(case, mutants={k: backward for k in layers})
            if all(_matches(mutant[k], user[k], tol) for k in user):
                where = "every layer" if len(layers) > 1 else f"layer {layers[0]}"
                return f"{cause}, in {where} ({detail})"
    return None


def _scaled(case, name, correct, got, tol):
    """A per-gradient mistake: the right gradient negated, or averaged instead of summed."""
    if _matches(-correct, got, tol):
        return "gradient with the wrong sign (the negated gradient, e.g. the descent step -grad)"
    if name == "loss":
        return None
    kind = "bias gradient" if "bias" in name else "gradient"
    for n, text in _scales(case).items():
        if _matches(correct / n, got, tol):
            return f"{kind} averaged instead of summed (the correct one divided by {text})"
    return None
