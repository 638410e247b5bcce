"""The model's candidates of the diagnosis (harness.guard.diagnose): the textbook run on other
weights or options, so that the forward computes something else and the backward follows it
(a forget_bias missing, doubled or on another gate, the other GRU reset, W_hh transposed,
another activation, a gate left out), or the weight gradients' gate blocks written in another
order. Each candidate carries its values, computed by the one textbook BPTT."""

import dataclasses
from itertools import combinations, permutations

import numpy as np

from ..cells import GATES
from .diagnose import Replay, _finding
from .mutants import _blockT


def model_candidates(replay, probe, names, forward_right):
    """Candidates that change what the forward computes (matched on h too), plus the weight
    gradients' gate blocks written in another order (forward right)."""
    out = []
    gates = GATES[probe.cell]
    if len(gates) > 1:
        out += _gate_orders(replay, probe, names, forward_right)
    if forward_right:
        return out + _gradients_transposed(replay, probe, names)
    if probe.cell == "lstm":
        fb = probe.options["forget_bias"]
        others = {0.0: f"forget_bias={fb} is not added to the f pre-activation",
                  1.0: "a forget_bias of 1.0 (TF's default) is added to the f pre-activation",
                  2 * fb: f"forget_bias={fb} added twice (put into the f bias and added again at call time)"}
        for other, what in others.items():
            if other != fb:
                out.append({**_finding("forget_bias", what, "f"), "values": _rerun(probe, options={"forget_bias": other})})
        out += _forget_bias_elsewhere(probe)
    if probe.cell == "gru":
        out += _other_reset(probe)
    out += _other_forward_weights(probe)
    if probe.cell == "rnn":
        for act in ("tanh", "relu", "sigmoid", "identity"):
            if act != probe.options["activation"]:
                what = f"the forward uses {act} where {probe.options['activation']} was declared"
                out.append({**_finding("forward_mistake", what), "values": _rerun(probe, options={"activation": act})})
    return out


def _gradients_transposed(replay, probe, names):
    """A weight's gradient written transposed (h_(t-1)^T da where da^T h_(t-1) belongs), which
    keeps its shape only where the weight's gate blocks are square: the RNN's W_hh (and W_ih
    when D = H), a layout with one H x H matrix per gate."""
    G, H, out = len(GATES[probe.cell]), probe.sizes["H"], []
    for q, factor in (("dweight_hh", "h_(t-1)"), ("dweight_ih", "x_t")):
        v = replay.correct.get(q)
        if v is None or v.shape != (G * H, H):
            continue
        gates = GATES[probe.cell]
        subsets = [()] + [s for n in range(1, G) for s in combinations(range(G), n)] if G > 1 else [()]
        for ks in subsets:                                          # every gate block, or some gates' only
            values = {**replay.correct, q: v}
            for k in ks or (None,):
                values[q] = _blockT(values[q], k)
            which = "".join(gates[k] for k in ks)
            whose = names.quantities((q,), which)
            what = (f"{whose} written transposed: {factor}^T da where da^T {factor} belongs"
                    + (" (every gate block)" if G > 1 and not ks else ""))
            out.append({**_finding("gradient_transposed", what, which), "values": values})
    return out


def _other_forward_weights(probe):
    """Forward mistakes that are the right cell on other weights, the backward following them:
    W_hh used transposed (each gate block); the GRU's z and 1 - z swapped in h_t (z's weights
    negated: s(-a) = 1 - s(a)); a gate left out of the forward (fixed at 1, or z at 0: its
    weights zero and its bias saturated)."""
    params, out = probe.params, []
    G = len(GATES[probe.cell])

    def rerun(changed, fix, what, gates=""):
        p = {**params, **changed}
        values = _rerun(probe, params=p)
        values.update({q: fix(values[q], q) for q in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh") if q in values})
        out.append({**_finding("forward_mistake", what, gates), "values": values})

    rerun({"weight_hh_l0": _blockT(params["weight_hh_l0"])},
          lambda g, q: _blockT(g) if q == "dweight_hh" else g, "the forward uses W_hh transposed"
          + (" (each gate block)" if G > 1 else ""))
    if probe.cell == "gru":
        neg = {k: _negate_block(v, 1, G) for k, v in params.items() if k.endswith("_l0")}
        rerun(neg, lambda g, q: _negate_block(g, 1, G), "h_t = (1 - z) n + z h_(t-1) written h_t = z n + "
              "(1 - z) h_(t-1) (z's role swapped)", "z")
    saturated = {"lstm": {"i": 1.0, "f": 1.0, "o": 1.0}, "gru": {"r": 1.0, "z": 0.0}}.get(probe.cell, {})
    for gate, level in saturated.items():
        k = GATES[probe.cell].index(gate)
        changed = {name: _set_block(params[name], k, G, 0.0) for name in ("weight_ih_l0", "weight_hh_l0")}
        if "bias_ih_l0" in params:
            changed["bias_ih_l0"] = _set_block(params["bias_ih_l0"], k, G, 40.0 if level else -40.0)
            changed["bias_hh_l0"] = _set_block(params["bias_hh_l0"], k, G, 0.0)
        else:
            continue                                       # without a bias the gate cannot be pinned
        rerun(changed, lambda g, q: g, f"the forward leaves the {gate} gate out (as if {gate} = {level:g}), and the "
              "backward follows it", gate)
    return out


def _negate_block(arr, k, G):
    out = np.array(arr, copy=True)
    size = out.shape[0] // G
    out[k * size:(k + 1) * size] *= -1
    return out


def _set_block(arr, k, G, value):
    out = np.array(arr, copy=True)
    size = out.shape[0] // G
    out[k * size:(k + 1) * size] = value
    return out


def _forget_bias_elsewhere(probe):
    """TF's forget_bias added to another gate's pre-activation (i, g or o) instead of f's."""
    fb, out = probe.options["forget_bias"], []
    if not fb or "bias_ih_l0" not in probe.params:
        return out
    b = probe.params["bias_ih_l0"]
    H = b.shape[0] // 4
    for gate in ("i", "g", "o"):
        k = "ifgo".index(gate)
        moved = b.copy()
        moved[k * H:(k + 1) * H] += fb
        moved[H:2 * H] -= fb                               # the reference adds it to f at call time: undone
        values = _rerun(probe, params={**probe.params, "bias_ih_l0": moved})
        out.append({**_finding("forget_bias", f"forget_bias={fb} added to the {gate} gate's pre-activation where "
                                              "f's belongs", "f" + gate), "values": values})
    return out


def _other_reset(probe):
    """The other GRU reset: with the n gate's recurrent bias where it was (b_hn inside r * (...)
    after, outside before), and moved across (code whose one bias per gate sits outside r)."""
    after = probe.options["reset_after"]
    what = ("the reset gate applied to h_(t-1) before the recurrent product (TF1 GRUCell) where it belongs after it "
            "(torch, Keras)" if after else "the reset gate applied after the recurrent product (torch, Keras) where it "
            "belongs before it (TF1 GRUCell)")
    out = [{**_finding("forward_mistake", what, "n"), "values": _rerun(probe, options={"reset_after": not after})}]
    if "bias_hh_l0" in probe.params:
        params = dict(probe.params)
        H = params["bias_hh_l0"].shape[0] // 3
        moved_in, moved_hh = params["bias_ih_l0"].copy(), params["bias_hh_l0"].copy()
        moved_in[2 * H:] += moved_hh[2 * H:]
        moved_hh[2 * H:] = 0
        params.update(bias_ih_l0=moved_in, bias_hh_l0=moved_hh)
        values = _rerun(probe, params=params, options={"reset_after": not after})
        if "dbias_hh" in values:                           # one bias per gate, b = b_ih + b_hh: one gradient
            values["dbias_hh"] = values["dbias_ih"].copy()
        out.append({**_finding("forward_mistake", what + ", with the n gate's bias outside r * (...)", "n"),
                    "values": values})
    return out


def _gate_orders(replay, probe, names, forward_right):
    gates = GATES[probe.cell]
    out = []
    for perm in permutations(range(len(gates))):
        if perm == tuple(range(len(gates))):
            continue
        moved = "".join(g for k, g in zip(perm, gates) if gates[k] != g)
        if forward_right:                       # only the weight gradients' blocks in another order
            v = dict(replay.correct)
            v.update({q: _blocks(v[q], perm) for q in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh") if q in v})
            what = f"the weight gradients hold their gate blocks as {_reading(perm, names, gates)}; the forward and dx are right"
            out.append({**_finding("gate_order", what, moved), "values": v})
            continue
        inverse = tuple(np.argsort(perm))
        params = {k: _blocks(v, perm) for k, v in probe.params.items()}
        v = _rerun(probe, params=params)
        v.update({q: _blocks(v[q], inverse) for q in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh") if q in v})
        what = f"the forward and backward both read the gate blocks as {_reading(inverse, names, gates)}"
        out.append({**_finding("gate_order", what, moved, also="forward_mistake"), "values": v})
    return out


def _rerun(probe, params=None, options=None):
    """Correct textbook values of the probe with other weights or options."""
    p = dataclasses.replace(probe, params=params or probe.params, options={**probe.options, **(options or {})})
    return dict(Replay._of(p).correct)                  # (not kept: a probe of other weights, once)


def _blocks(arr, perm):
    parts = np.split(arr, len(perm), axis=0)
    return np.concatenate([parts[k] for k in perm], axis=0)


def _reading(perm, names, gates):
    """The user's gate order under ``perm`` (canonical block k holds gate perm[k]), in the
    user's order and letters: "i, o, f, g instead of i, f, o, g (cs231n's order)"."""
    user = names.order or "".join(gates)
    read = [gates[perm[gates.index(x)]] for x in user]
    return f"{names.gates(read)} instead of {names.gates(user)} ({names.layout}'s order)"
