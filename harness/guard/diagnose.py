"""Name the likely mistake: a catalogue of classic BPTT errors, each built as a mutant of the
reference, and a cause is named only when the user's values reproduce that mutant.

Every entry is computed on the same strong probe as the user's code (random
non-symmetric weights, batch > 1, random inputs, states and upstream gradients), which
is what separates the entries from each other: a transposed carry, an averaged bias or a
time shift each move the gradients in their own, distinguishable way. When no entry
reproduces the user's numbers the answer is "unknown cause", never a guess.

A mutant is a dict of canonical values (the quantities users return) that replace the
correct ones; a quantity it sets to None is not compared (the mistake leaves it unknown).
"""

import dataclasses
from itertools import permutations

import numpy as np

from reference_impls._act import ACTIVATIONS, sigmoid

from ..cells import GATES
from ..compare import compare_arrays
from .oracles import USER_QUANTITIES, reference_values

CATALOGUE = {
    "carry_not_transposed": "recurrent weight not transposed when the gradient is carried back to the previous step",
    "act_grad_wrong_point": "activation derivative taken at the wrong point",
    "carry_dropped": "gradient carried back from later steps dropped",
    "wrong_step_pairing": "weight gradient paired with the wrong step's input or state",
    "loop_skips_step": "backward loop skips a step",
    "bias_averaged": "bias gradient averaged instead of summed",
    "bias_wrong_sign": "bias gradient with the wrong sign",
    "gate_order": "gate blocks in the wrong order",
    "forget_bias_missing": "forget-gate offset (forget_bias) missing",
    "forget_bias_unexpected": "forget-gate offset added where none is expected",
}
PARAM_GRADS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")
BIASES = ("dbias_ih", "dbias_hh")

# How the built-in layouts name the weights, the carry and the gates, so that a detail
# reads in the user's own names. Any other layout gets torch's names.
NAMES = {
    None: {"ih": "W_ih", "hh": "W_hh", "b": "bias", "carry": "dh_prev = da @ W_hh.T where da @ W_hh belongs "
           "(W_hh (G*H, H) as torch stores it)"},
    "cs231n": {"ih": "Wx", "hh": "Wh", "b": "b", "carry": "dprev_h = da @ Wh where da @ Wh.T belongs"},
    "tf_kernel": {"ih": "kernel[:D]", "hh": "kernel[D:]", "b": "bias", "letters": {"g": "j"},
                  "carry": "dh_prev = da @ kernel[D:] where da @ kernel[D:].T belongs"},
    "karpathy": {"ih": "Wxh", "hh": "Whh", "b": "bh", "carry": "dhnext = Whh @ dhraw where Whh.T @ dhraw belongs"},
}


def diagnose(probe, user, tol, layout=None):
    """Catalogue entries whose mutant reproduces ``user`` (canonical values) in every quantity.

    ``layout`` (a guard.layouts.Layout, optional) only words the details in the user's names.
    Returns a list of {"cause", "description", "detail"}; empty when nothing fits.
    """
    correct = reference_values(probe)
    names = _names(layout, probe.cell)
    found = []
    for cause, detail, overrides in _mutants(probe, correct, names):
        expected = {**correct, **overrides}
        if _explains(user, correct, expected, tol):
            found.append({"cause": cause, "description": CATALOGUE[cause], "detail": detail})
    return found


def _names(layout, cell):
    name = getattr(layout, "name", None)
    names = dict(NAMES.get(name, NAMES[None]))
    canonical = "".join(GATES[cell])
    names["layout"] = name or "torch"
    names["order"] = (getattr(layout, "gate_order", {}) or {}).get(cell, canonical) if name in NAMES else canonical
    return names


def _explains(user, correct, expected, tol):
    differs = False
    for q in USER_QUANTITIES:
        if q not in user or expected.get(q) is None:
            continue
        if not compare_arrays(expected[q], user[q], tol)["passed"]:
            return False
        differs = differs or not compare_arrays(correct[q], user[q], tol)["passed"]
    return differs


def _mutants(probe, correct, names):
    yield from _rnn_variants(probe, correct, names)
    yield from _lstm_variants(probe, correct)
    yield from _carry_dropped(probe, correct)
    yield from _pairing(probe, correct, names)
    yield from _skipped_steps(probe, correct)
    yield from _bias(probe, correct, names)
    yield from _gate_order(probe, correct, names)
    yield from _forget_bias(probe)


def _prev(first, seq):
    return np.concatenate([first[:, None], seq[:, :-1]], axis=1)


def _param_grads(probe, da, h_prev):
    """Weight and bias gradients from the pre-activation gradients da (N, T, G*H)."""
    out = {"dweight_ih": np.einsum("nta,ntd->ad", da, probe.x), "dweight_hh": np.einsum("nta,ntk->ak", da, h_prev)}
    if "bias_ih" in probe.layer_params(0):
        out["dbias_ih"] = out["dbias_hh"] = da.sum(axis=(0, 1))
    return out


def _rnn_variants(probe, correct, names):
    """The Elman RNN's own mistakes, replayed by a BPTT with the mistake planted."""
    if probe.cell != "rnn":
        return
    p, act = probe.layer_params(0), probe.options["activation"]
    h_prev = _prev(probe.state0["h"][0], correct["h"])
    a = probe.x @ p["weight_ih"].T + h_prev @ p["weight_hh"].T + (p["bias_ih"] + p["bias_hh"] if "bias_ih" in p else 0)
    _, act_grad = ACTIVATIONS[act]
    dact = act_grad(correct["h"])
    yield ("carry_not_transposed", f"the carry used the transpose of {names['hh']}: {names['carry']}",
           _rnn_bptt(probe, correct, p["weight_hh"].T, dact, h_prev))
    if act != "identity":
        yield ("act_grad_wrong_point", f"{act}'s derivative-from-output formula applied to the pre-activation a_t",
               _rnn_bptt(probe, correct, p["weight_hh"], act_grad(a), h_prev))
        yield ("act_grad_wrong_point", f"{act}'s derivative taken at h_(t-1) instead of h_t",
               _rnn_bptt(probe, correct, p["weight_hh"], act_grad(h_prev), h_prev))


def _rnn_bptt(probe, correct, carry, dact, h_prev):
    p = probe.layer_params(0)
    return rnn_bptt(probe.x, probe.state0["h"][0], p["weight_ih"], carry, probe.dout, dact, h_prev, "bias_ih" in p)


def rnn_bptt(x, h0, weight_ih, carry, dh, dact, h_prev, has_bias):
    """BPTT of one RNN layer with a mistake planted through its arguments: ``carry`` is the
    matrix the gradient is carried back with (W_hh when right), ``dact`` (N, T, H) the
    activation derivative used at every step (act'(a_t) when right), ``h_prev`` (N, T, H)
    what dW_hh pairs each step with (h_(t-1) when right)."""
    da = np.zeros_like(dact)
    dnext = np.zeros_like(h0)
    for t in reversed(range(da.shape[1])):
        da[:, t] = (dh[:, t] + dnext) * dact[:, t]
        dnext = da[:, t] @ carry
    out = {"dx": da @ weight_ih, "dh0": dnext,
           "dweight_ih": np.einsum("nta,ntd->ad", da, x), "dweight_hh": np.einsum("nta,ntk->ak", da, h_prev)}
    if has_bias:
        out["dbias_ih"] = out["dbias_hh"] = da.sum(axis=(0, 1))
    return out


def _lstm_variants(probe, correct):
    """The LSTM's own mistakes: tanh' taken on c_t; one of the two carries dropped."""
    if probe.cell != "lstm":
        return
    s = _lstm_steps(probe, correct)
    yield ("act_grad_wrong_point", "tanh's derivative-from-output formula applied to c_t (1 - c_t^2 where "
           "1 - tanh(c_t)^2 belongs)", _lstm_bptt(probe, s, dtanh=1 - correct["c"] ** 2))
    yield ("carry_dropped", "the hidden-state carry dh_next is never added (the cell-state carry dc_next is)",
           _lstm_bptt(probe, s, carry_h=False))
    yield ("carry_dropped", "the cell-state carry dc_next is never added (the hidden-state carry dh_next is)",
           _lstm_bptt(probe, s, carry_c=False))


def _lstm_steps(probe, correct):
    """What the LSTM forward computed at every step, (N, T, H) each: gates i, f, g, o, tanh(c_t),
    c_(t-1) and h_(t-1), recomputed from the reference states."""
    p = probe.layer_params(0)
    h_prev, c_prev = _prev(probe.state0["h"][0], correct["h"]), _prev(probe.state0["c"][0], correct["c"])
    a = probe.x @ p["weight_ih"].T + h_prev @ p["weight_hh"].T + (p["bias_ih"] + p["bias_hh"] if "bias_ih" in p else 0)
    i, f, g, o = np.split(a, 4, axis=-1)
    return {"i": sigmoid(i), "f": sigmoid(f + probe.options["forget_bias"]), "g": np.tanh(g), "o": sigmoid(o),
            "tanh_c": np.tanh(correct["c"]), "c_prev": c_prev, "h_prev": h_prev}


def _lstm_bptt(probe, s, carry_h=True, carry_c=True, dtanh=None, perm=(0, 1, 2, 3)):
    """BPTT of one LSTM layer with one mistake planted: a carry dropped, tanh' taken elsewhere,
    or the gate gradients written into the blocks ``perm`` of da (block k gets gate perm[k])."""
    i, f, g, o, tc = s["i"], s["f"], s["g"], s["o"], s["tanh_c"]
    dtanh = 1 - tc ** 2 if dtanh is None else dtanh
    w_hh = probe.layer_params(0)["weight_hh"]
    N, T, H = i.shape
    da = np.zeros((N, T, 4 * H), dtype=i.dtype)
    dnext_h, dnext_c = np.zeros((N, H), dtype=i.dtype), np.zeros((N, H), dtype=i.dtype)
    for t in reversed(range(T)):
        dh = probe.dout[:, t] + (dnext_h if carry_h else 0)
        dc = dh * o[:, t] * dtanh[:, t] + (dnext_c if carry_c else 0)
        gates = (dc * g[:, t] * i[:, t] * (1 - i[:, t]), dc * s["c_prev"][:, t] * f[:, t] * (1 - f[:, t]),
                 dc * i[:, t] * (1 - g[:, t] ** 2), dh * tc[:, t] * o[:, t] * (1 - o[:, t]))
        da[:, t] = np.concatenate([gates[k] for k in perm], axis=-1)
        dnext_h, dnext_c = da[:, t] @ w_hh, dc * f[:, t]
    return {"dx": da @ probe.layer_params(0)["weight_ih"], "dh0": dnext_h, "dc0": dnext_c,
            **_param_grads(probe, da, s["h_prev"])}


def _carry_dropped(probe, correct):
    """Each step backpropagated alone, from the state it started in: no carry at all."""
    T = probe.sizes["T"]
    sums = {q: 0 for q in PARAM_GRADS if q in correct}
    out, dx = {}, np.zeros_like(probe.x)
    for s in range(T):
        state0 = {"h": (correct["h"][:, s - 1] if s else probe.state0["h"][0])[None]}
        if "c" in correct:
            state0["c"] = (correct["c"][:, s - 1] if s else probe.state0["c"][0])[None]
        step = reference_values(dataclasses.replace(
            probe, x=probe.x[:, s:s + 1], state0=state0, dout=probe.dout[:, s:s + 1],
            dstate_n={k: np.zeros_like(v) for k, v in state0.items()}))
        dx[:, s] = step["dx"][:, 0]
        for q in sums:
            sums[q] = sums[q] + step[q]
        if s == 0:
            out["dh0"], out["dc0"] = step["dh0"], step.get("dc0")
    carries = "dh_next and dc_next are" if "c" in correct else "dh_next is"
    yield ("carry_dropped", f"every step used only its own upstream gradient ({carries} never added)",
           {**out, **sums, "dx": dx})


def _pairing(probe, correct, names):
    """Weight gradients built from the right pre-activation gradients and the wrong step."""
    if "da" not in correct:
        return
    da, x, h = correct["da"], probe.x, correct["h"]
    zeros_x = np.zeros_like(x[:, :1])
    shifts = {"x_(t-1)": np.concatenate([zeros_x, x[:, :-1]], axis=1),
              "x_(t+1)": np.concatenate([x[:, 1:], zeros_x], axis=1)}
    for label, xs in shifts.items():
        yield ("wrong_step_pairing", f"d{names['ih']} (input weights) built from {label} instead of x_t",
               {"dweight_ih": np.einsum("nta,ntd->ad", da, xs)})
    yield ("wrong_step_pairing", f"d{names['hh']} (recurrent weights) built from h_t instead of h_(t-1)",
           {"dweight_hh": np.einsum("nta,ntk->ak", da, h)})


def _skipped_steps(probe, correct):
    dout = probe.dout.copy()
    dout[:, -1] = 0
    yield ("loop_skips_step", "the last step (the backward loop starts at T-2)",
           reference_values(dataclasses.replace(probe, dout=dout)))
    if probe.sizes["T"] < 2:
        return
    # Stopping at t = 1 is the BPTT of steps 1..T-1 started from the state after step 0:
    # its initial-state gradients are what such a loop returns as dh0 (and dc0).
    rest = reference_values(dataclasses.replace(
        probe, x=probe.x[:, 1:], dout=probe.dout[:, 1:], state0={k: correct[k][None, :, 0] for k in probe.state0}))
    skip_first = {q: rest[q] for q in PARAM_GRADS + ("dh0", "dc0") if q in rest}
    skip_first["dx"] = np.concatenate([np.zeros_like(probe.x[:, :1]), rest["dx"]], axis=1)
    yield "loop_skips_step", "the first step (the backward loop stops at t = 1)", skip_first


def _bias(probe, correct, names):
    if "dbias_ih" not in correct:
        return
    N, T = probe.sizes["N"], probe.sizes["T"]
    scales = {}
    for label, n in ((f"the batch size N={N}", N), (f"the number of steps T={T}", T), (f"N*T={N * T}", N * T)):
        scales.setdefault(n, []).append(label)                  # N == T: one mutant, both readings
    for n, labels in scales.items():
        yield ("bias_averaged", f"d{names['b']} divided by {' or '.join(labels)}",
               {q: correct[q] / n for q in BIASES})
    yield "bias_wrong_sign", f"d{names['b']} negated", {q: -correct[q] for q in BIASES}


def _blocks(arr, perm, axis=0):
    parts = np.split(arr, len(perm), axis=axis)
    return np.concatenate([parts[k] for k in perm], axis=axis)


def _reading(perm, names, gates):
    """The user's gate order under ``perm`` (canonical block k holds gate perm[k]), in the user's
    layout order and letters, e.g. "i, o, f, g instead of i, f, o, g (cs231n's order)"."""
    letters = names.get("letters", {})
    spell = lambda seq: ", ".join(letters.get(x, x) for x in seq)         # noqa: E731
    user = names["order"]
    read = [gates[perm[gates.index(x)]] for x in user]
    return f"{spell(read)} instead of {spell(user)} ({names['layout']}'s order)"


def _gate_order(probe, correct, names):
    gates = GATES[probe.cell]
    if len(gates) == 1:
        return
    s = _lstm_steps(probe, correct) if probe.cell == "lstm" else None
    for perm in permutations(range(len(gates))):
        if perm == tuple(range(len(gates))):
            continue
        inverse = tuple(np.argsort(perm))
        yield ("gate_order", f"the weight gradients hold their gate blocks as {_reading(perm, names, gates)}; "
               "the forward and dx are right", {q: _blocks(correct[q], perm) for q in PARAM_GRADS if q in correct})
        if s is not None:
            yield ("gate_order", f"the backward writes the gate gradients into da as {_reading(perm, names, gates)}",
                   _lstm_bptt(probe, s, perm=perm))
        params = {k: _blocks(v, perm) for k, v in probe.params.items()}
        v = reference_values(dataclasses.replace(probe, params=params))
        v.update({q: _blocks(v[q], inverse) for q in PARAM_GRADS if q in v})
        yield ("gate_order", f"the forward and backward both read the gate blocks as "
               f"{_reading(inverse, names, gates)}", v)


def _forget_bias(probe):
    if probe.cell != "lstm":
        return
    fb = probe.options["forget_bias"]
    if fb:
        yield "forget_bias_missing", f"forget_bias={fb} is not added to the f pre-activation", \
            reference_values(probe, forget_bias=0.0)
    else:
        yield "forget_bias_unexpected", "a forget_bias of 1.0 (TF's default) is added to the f pre-activation", \
            reference_values(probe, forget_bias=1.0)
