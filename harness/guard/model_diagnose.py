"""check_model's diagnosis: the grammar of check_backward planted into one recurrent layer of
the whole model (or into every layer), and mistakes of the head and of the loss.

The whole model is replayed by the textbook cells (reference_impls) under the NumPy head and
loss of harness.guard.model_oracles, so there is still one BPTT per cell. Candidates, in the
order they are tried:

    the loss       averaged or summed over N, T or N*T (loss and every gradient together);
                   another loss (the square's factor 2, softmax over the wrong axis, a log of a
                   sum); the gradient put on steps the loss does not use
    the forward    gate blocks in another order, forget_bias, the other GRU reset, another
                   RNN activation: the forward computes a different model
    the head       the sigmoid's derivative left out or taken at the wrong point
    one layer      every grammar edit, in layer k alone or in every layer at once

A candidate names a cause only when every value the user returned matches it within
tolerance (and one differs from the correct values); otherwise "unknown cause", with the
forward named first when the user's loss already differs.
"""

import dataclasses
import re
from itertools import permutations

import numpy as np

from ..cells import GATES, STATES, split_layer
from .diagnose import CAUSES, _best, _close, _say, textbook
from .model_candidates import _blocks
from .grammar import COST
from .model_oracles import head_backward, head_forward, key_of, loss_backward
from .naming import Names

WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class ModelReplay:
    """The whole model through the textbook cells: forward once, backward with mistakes planted."""

    def __init__(self, case, params=None, options=None):
        spec = self.spec = case.spec
        self.case = case
        self.book = textbook(spec.cell)
        self.p = {k: np.asarray(v, dtype=np.float64) for k, v in (params or case.params).items()}
        self.options = {**spec.options, **(options or {})}
        x = np.asarray(case.x, dtype=np.float64)
        N = x.shape[0]
        self.layers = [split_layer(self.p, k) for k in range(spec.layers)]
        self.caches = []
        for params_k in self.layers:
            zeros = {s: np.zeros((N, spec.hidden_size)) for s in STATES[spec.cell]}
            states, caches = self.book.forward(x, zeros, params_k, self.options)
            self.caches.append(caches)
            x = states["h"]
        self.y, self.head_cache = head_forward(spec, self.p, x)

    def values(self, edits=None, loss=None, head=None):
        """{"loss", canonical param name: gradient} with ``edits`` ({layer: Edit}) planted, the
        loss's (loss, dy) from ``loss(spec, y, target)`` and the head's backward ``head``."""
        loss_value, dy = (loss or loss_backward)(self.spec, self.y, self.case.target)
        grads, dh = (head or head_backward)(self.spec, self.p, self.head_cache, dy)
        out = {"loss": np.asarray(loss_value), **grads}
        for k in reversed(range(self.spec.layers)):
            g = self.book.run((edits or {}).get(k), self.caches[k], dh)
            if g is None:
                return None
            out.update({f"{name}_l{k}": g[f"d{name}"] for name in self.layers[k]})
            dh = g["dx"]
        return out


def diagnose_model(case, user, tol, sweep_first_bad=None, user_at=None):
    """"likely cause: ..." lines (and a "forward: ..." line first when the loss itself differs).

    ``user_at(k)``: the user's values with the sequence cut to k steps (None where the fn cannot
    run), to screen the grammar's candidates on 1 and 2 steps first."""
    replay = ModelReplay(case)
    correct = replay.values()
    keys = [k for k in user if k in correct]
    if all(_close(correct[k], user[k], tol) for k in keys):
        return ["likely cause: unknown cause (your values match the NumPy reference; an oracle disagrees with it)"]
    loss_right = _close(correct["loss"], user["loss"], tol)
    candidates = _loss_candidates(replay, case) + _forward_candidates(case)
    if loss_right:
        screens = _screens(case, user_at)
        candidates += _head_candidates(replay, case) + _layer_candidates(replay, case, correct, user, tol, screens)
    found = [c for c in candidates if c["values"] is not None and _explains(c["values"], correct, user, keys, tol)]
    forward = [] if loss_right else [_forward_line(case, sweep_first_bad or {})]
    lines = [_line(f) for f in _best(found, keys)]
    return forward + (lines or _per_gradient(case, correct, user, tol))


def _explains(values, correct, user, keys, tol):
    if not all(k in values and _close(values[k], user[k], tol) for k in keys):
        return False
    return any(not _close(correct[k], user[k], tol) for k in keys)


def _candidate(cause, detail, values, cost=None, description=None):
    return {"cause": cause, "description": description or CAUSES[cause], "detail": detail, "gates": "",
            "cost": COST.get(cause, 1.5) if cost is None else cost, "carry": "", "values": values}


def _line(f):
    return f"likely cause: {f['description']}: {f['detail']} (your values reproduce this mistake within tolerance)"


def _scales(case):
    N, T = case.x.shape[:2]
    Ts = len(case.spec.steps(T))
    scales = {N: f"the batch size N={N}", T: f"the number of steps T={T}", N * T: f"N*T={N * T} (batch x steps)"}
    scales.setdefault(Ts, f"the number of loss steps T'={Ts}")
    scales.setdefault(N * Ts, f"N*T'={N * Ts} (batch x loss steps)")
    scales.pop(1, None)
    return scales

# ---------------------------------------------------------------- the loss


def _loss_candidates(replay, case):
    spec, out = case.spec, []
    base = replay.values()
    for n, text in _scales(case).items():
        for up in (spec.reduction == "mean", spec.reduction != "mean"):      # the declared one's opposite first
            detail = f"your loss and every gradient are the correct ones {'multiplied' if up else 'divided'} by {text}"
            desc = ("loss summed instead of averaged" if up else "loss averaged instead of summed") if (
                up == (spec.reduction == "mean")) else f"loss {'multiplied' if up else 'divided'} by {text} once more"
            out.append(_candidate("reduction_scaled", detail, _scaled(base, n if up else 1.0 / n), description=desc,
                                  cost=COST["reduction_scaled"] + (0 if up == (spec.reduction == "mean") else 0.1)))
    if spec.loss in ("squared_error", "half_squared_error", "mean_squared_error"):
        half = spec.loss != "half_squared_error"
        v = {k: (g if k == "loss" else g * (0.5 if half else 2.0)) for k, g in base.items()}
        detail = ("the gradient of (y - target)^2 written (y - target), the factor 2 dropped: every gradient is half "
                  "the correct one, the loss is right" if half else
                  "the gradient of 0.5 (y - target)^2 written 2 (y - target): every gradient is twice the correct one")
        out.append(_candidate("derivative_miswritten", detail, v, description="the loss's derivative written wrongly"))
    if spec.loss == "softmax_cross_entropy":
        out.append(_candidate("forward_mistake", "the softmax normalized over the batch axis instead of the classes",
                              replay.values(loss=_softmax_axis0), description="the loss computes something else"))
        out.append(_candidate("forward_mistake", "the loss is -log of the sum over steps of the target's probability "
                              "(a log of a sum) instead of the sum of the logs",
                              replay.values(loss=_log_of_sum), description="the loss computes something else"))
    if spec.loss_steps is not None and len(spec.steps(case.x.shape[1])) < case.x.shape[1]:
        out.append(_candidate("term_dropped", "the loss's gradient put on every step although the loss uses only "
                              f"steps {list(spec.loss_steps)}", replay.values(loss=_every_step),
                              description="the loss's gradient on steps the loss does not use"))
    return out


def _scaled(values, s):
    return {k: v * s for k, v in values.items()}


def _softmax_axis0(spec, y, target):
    steps = spec.steps(y.shape[1])
    c = spec.scale(y.shape[0], len(steps), y.shape[2])
    ys = y[:, steps]
    z = ys - ys.max(axis=0, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=0, keepdims=True))
    onehot = np.eye(y.shape[2])[np.asarray(target)[:, steps]]
    p = np.exp(logp)
    # d/dz of -sum(onehot * log softmax_0(z)): p * (sum over the batch of onehot) - onehot
    dys = c * (p * onehot.sum(axis=0, keepdims=True) - onehot)
    dy = np.zeros_like(y)
    dy[:, steps] = dys
    return -c * (logp * onehot).sum(), dy


def _log_of_sum(spec, y, target):
    steps = spec.steps(y.shape[1])
    c = spec.scale(y.shape[0], len(steps), y.shape[2])
    ys = y[:, steps]
    z = ys - ys.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    onehot = np.eye(y.shape[2])[np.asarray(target)[:, steps]]
    pt = (p * onehot).sum(axis=-1)                                  # (N, T') the target's probability
    s = pt.sum(axis=1, keepdims=True)                               # summed over steps, per sequence
    loss = -c * np.log(s).sum()
    dpt = -c / s                                                    # d loss / d pt, the same for every step
    dys = dpt[..., None] * pt[..., None] * (onehot - p)             # d pt / d z = pt (onehot - p)
    dy = np.zeros_like(y)
    dy[:, steps] = dys
    return loss, dy


def _every_step(spec, y, target):
    """The right loss; its gradient, at the same scale, on every step."""
    N, T, O = y.shape
    loss, _ = loss_backward(spec, y, target)
    every = dataclasses.replace(spec, loss_steps=None)
    _, dy = loss_backward(every, y, target)
    return loss, dy * (spec.scale(N, len(spec.steps(T)), O) / every.scale(N, T, O))

# ---------------------------------------------------------------- the forward: another model


def _forward_candidates(case):
    spec, out = case.spec, []
    gates = GATES[spec.cell]
    desc = CAUSES["forward_mistake"]
    if spec.cell == "rnn":
        for act in ("tanh", "relu", "sigmoid", "identity"):
            if act != spec.options["activation"]:
                out.append(_candidate("forward_mistake", f"the forward uses {act} where {spec.options['activation']} "
                                      "was declared", ModelReplay(case, options={"activation": act}).values()))
    if spec.cell == "lstm":
        fb = spec.options["forget_bias"]
        what = (f"forget_bias={fb} is not added to the f pre-activation" if fb else
                "a forget_bias of 1.0 (TF's default) is added to the f pre-activation")
        out.append(_candidate("forget_bias", what, ModelReplay(case, options={"forget_bias": 0.0 if fb else 1.0})
                              .values()))
    if spec.cell == "gru":
        after = spec.options["reset_after"]
        out.append(_candidate("forward_mistake", f"the reset gate applied {'before' if after else 'after'} the "
                              f"recurrent product where it belongs {'after' if after else 'before'} it",
                              ModelReplay(case, options={"reset_after": not after}).values()))
    if len(gates) > 1:
        for perm in permutations(range(len(gates))):
            if perm == tuple(range(len(gates))):
                continue
            params = {k: (_blocks(v, perm) if k.rpartition("_l")[0] in WEIGHTS else v) for k, v in case.params.items()}
            v = ModelReplay(case, params=params).values()
            inverse = tuple(np.argsort(perm))
            v = {k: (_blocks(g, inverse) if k.rpartition("_l")[0] in WEIGHTS else g) for k, g in v.items()}
            read = "".join(gates[perm[k]] for k in range(len(gates)))
            out.append(_candidate("gate_order", f"the forward and backward read the gate blocks as {', '.join(read)} "
                                  f"instead of {', '.join(gates)} (torch's order)", v))
    for c in out:
        c["description"] = c["description"] if c["cause"] != "forward_mistake" else desc
    return out

# ---------------------------------------------------------------- the head


def _head_candidates(replay, case):
    if case.spec.head != "linear+sigmoid":
        return []

    def missing(spec, p, cache, dy):
        return head_backward(dataclasses.replace(spec, head="linear"), p, cache, dy)

    def at_logit(spec, p, cache, dy):
        h, y = cache
        z = np.log(y) - np.log1p(-y)                               # the logit, recovered from y
        return head_backward(dataclasses.replace(spec, head="linear"), p, cache, dy * z * (1 - z))
    return [_candidate("derivative_missing", "the head's sigmoid derivative left out (dz = dy)",
                       replay.values(head=missing)),
            _candidate("derivative_wrong_point", "the head's sigmoid derivative y (1 - y) taken at the logit z "
                       "instead of at the output y", replay.values(head=at_logit))]

# ---------------------------------------------------------------- one recurrent layer


def _screens(case, user_at):
    """(replay, the user's values) on the sequence cut to 1 and 2 steps, where both exist."""
    out = []
    for k in (1, 2) if user_at is not None else ():
        if k < case.x.shape[1] and case.spec.steps(k) is not None:
            user = user_at(k)
            if user is not None:
                out.append((ModelReplay(case.cut(k)), user))
    return out


def _layer_candidates(replay, case, correct, user, tol, screens=()):
    """Every grammar edit of the backward in layer k alone (k = top first) or in every layer; an
    edit whose own layer's gradients do not match the user's, on the shorter sequences of
    ``screens`` first and then on the whole one, is dropped before the layers below are run."""
    spec = case.spec
    L = spec.layers
    names = Names(spec.cell, case.x.shape[2], spec.hidden_size)
    sizes = {**case.probe.sizes, "N": case.x.shape[0], "T": case.x.shape[1]}
    edits = [e for e in replay.book.edits(sizes, spec.bias, spec.options.get("activation")) if not e.touches_forward()]
    out = []
    for edit in edits:
        for layers in [(k,) for k in reversed(range(L))] + ([tuple(range(L))] if L > 1 else []):
            top = max(layers)
            short = () if edit.target == "output" else screens      # scaled by the whole case's N and T
            if not all(_layer_matches(r, edit, top, layers, u, tol) for r, u in short):
                continue
            if not _layer_matches(replay, edit, top, layers, user, tol):
                continue
            values = replay.values(edits={k: edit for k in layers})
            where = "every layer" if len(layers) > 1 else f"layer {layers[0]}"
            detail = _layer_names(_say(edit, names, spec.cell), layers) + f", in {where}"
            out.append({**_candidate(edit.cause, detail, values, edit.cost), "gates": edit.gates})
    return out


def _layer_matches(replay, edit, top, layers, user, tol):
    """Whether the gradients of layer ``top`` with the edit planted there match the user's
    (the layers above ``top`` are correct, so their dh into ``top`` is the correct one)."""
    key = (id(edit), top)
    cache = replay.__dict__.setdefault("_top", {})
    if key not in cache:
        g = _one_layer(replay, edit, top)
        cache[key] = g is not None and all(
            _close(g[f"d{n}"], user[f"{n}_l{top}"], tol) for n in replay.layers[top] if f"{n}_l{top}" in user)
    return cache[key]


def _one_layer(replay, edit, k):
    dh = replay.__dict__.setdefault("_dh", {})
    if k not in dh:
        _, dy = loss_backward(replay.spec, replay.y, replay.case.target)
        _, d = head_backward(replay.spec, replay.p, replay.head_cache, dy)
        for j in reversed(range(k + 1, replay.spec.layers)):
            d = replay.book.run(None, replay.caches[j], d)["dx"]
        dh[k] = d
    return replay.book.run(edit, replay.caches[k], dh[k])


def _layer_names(text, layers):
    """dweight_hh -> dweight_hh_l1, dbias -> dbias_ih_l1, dbias_hh_l1 (l* for every layer)."""
    k = str(layers[0]) if len(layers) == 1 else "*"

    def one(m):
        return f"dbias_ih_l{k}, dbias_hh_l{k}" if m[1] == "bias" else f"{m[0]}_l{k}"
    return re.sub(r"\bd(weight_ih|weight_hh|bias_ih|bias_hh|bias)\b", one, text)


# ---------------------------------------------------------------- nothing reproduces it


def _forward_line(case, first_bad):
    k = first_bad.get(("loss", case.spec.layers))
    at = f", first at T={k} in the length sweep" if k else ""
    return (f"forward: your loss differs from the reference's{at}: your forward (or your loss) computes another "
            "model; fix it first (the gradients of a different forward differ too)")


def _per_gradient(case, correct, user, tol):
    """Per-gradient scalings and signs, else unknown cause for the rest."""
    found, L = {}, case.spec.layers
    for n in user:
        if _close(correct[n], user[n], tol):
            continue
        found.setdefault(_one_scaled(case, n, correct[n], user[n], tol), []).append(_label(n, L))
    unknown = found.pop(None, [])
    lines = [f"likely cause: {cause}: {', '.join(labels)}" for cause, labels in found.items()]
    if unknown:
        lines.append(f"likely cause: unknown cause for {', '.join(unknown)} "
                     "(no single mistake of the grammar reproduces your numbers)")
    return lines


def _label(name, L):
    q, layer = key_of(name, L)
    return q if q == "loss" else f"{q} layer {layer}"


def _one_scaled(case, name, correct, got, tol):
    if _close(-correct, got, tol):
        return "a gradient with the wrong sign (the negated gradient, e.g. the descent step -grad)"
    if name == "loss":
        return None
    for n, text in _scales(case).items():
        if _close(correct / n, got, tol):
            return f"a gradient averaged instead of summed (the correct one divided by {text})"
    return None
