"""Name the likely mistake: a catalogue of classic BPTT errors, each built as a mutant of the
reference, and a cause is named only when the user's values reproduce that mutant.

Every entry is computed on the same strong probe as the user's code (random
non-symmetric weights, batch > 1, random inputs, states and upstream gradients), which
is what separates the entries from each other: a transposed carry, an averaged bias or a
time shift each move the gradients in their own, distinguishable way. When no entry
reproduces the user's numbers the answer is "unknown cause", never a guess.
"""

import dataclasses
from itertools import permutations

import numpy as np

from reference_impls._act import ACTIVATIONS

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


def diagnose(probe, user, tol):
    """Catalogue entries whose mutant reproduces ``user`` (canonical values) in every quantity.

    Returns a list of {"cause", "description", "detail"}; empty when nothing fits.
    """
    correct = reference_values(probe)
    found = []
    for cause, detail, overrides in _mutants(probe, correct):
        expected = {**correct, **overrides}
        if _explains(user, correct, expected, tol):
            found.append({"cause": cause, "description": CATALOGUE[cause], "detail": detail})
    return found


def _explains(user, correct, expected, tol):
    differs = False
    for q in USER_QUANTITIES:
        if q not in user or expected.get(q) is None:
            continue
        if not compare_arrays(expected[q], user[q], tol)["passed"]:
            return False
        differs = differs or not compare_arrays(correct[q], user[q], tol)["passed"]
    return differs


def _mutants(probe, correct):
    yield from _rnn_variants(probe, correct)
    yield from _carry_dropped(probe, correct)
    yield from _pairing(probe, correct)
    yield from _skipped_steps(probe, correct)
    yield from _bias(probe, correct)
    yield from _gate_order(probe, correct)
    yield from _forget_bias(probe)


def _prev(first, seq):
    return np.concatenate([first[:, None], seq[:, :-1]], axis=1)


def _rnn_variants(probe, correct):
    """The Elman RNN's own mistakes, replayed by a BPTT with the mistake planted."""
    if probe.cell != "rnn":
        return
    p, act = probe.layer_params(0), probe.options["activation"]
    h0 = probe.state0["h"][0]
    h_prev = _prev(h0, correct["h"])
    a = probe.x @ p["weight_ih"].T + h_prev @ p["weight_hh"].T + (p["bias_ih"] + p["bias_hh"] if "bias_ih" in p else 0)
    _, act_grad = ACTIVATIONS[act]
    dact = act_grad(correct["h"])
    yield ("carry_not_transposed", "the carry used W_hh^T where W_hh belongs (dh_prev = da @ W_hh.T in "
           "torch layout; da @ Wh instead of da @ Wh.T in cs231n's)",
           _rnn_bptt(probe, correct, p["weight_hh"].T, dact, h_prev))
    if act != "identity":
        yield ("act_grad_wrong_point", f"{act}'s derivative-from-output formula applied to the pre-activation a_t",
               _rnn_bptt(probe, correct, p["weight_hh"], act_grad(a), h_prev))
        yield ("act_grad_wrong_point", f"{act}'s derivative taken at h_(t-1) instead of h_t",
               _rnn_bptt(probe, correct, p["weight_hh"], act_grad(h_prev), h_prev))


def _rnn_bptt(probe, correct, carry, dact, h_prev):
    """BPTT of one RNN layer with a given carry matrix and activation derivative."""
    p = probe.layer_params(0)
    da = np.zeros_like(correct["h"])
    dnext = np.zeros_like(probe.state0["h"][0])
    for t in reversed(range(da.shape[1])):
        da[:, t] = (probe.dout[:, t] + dnext) * dact[:, t]
        dnext = da[:, t] @ carry
    out = {"dx": da @ p["weight_ih"], "dh0": dnext,
           "dweight_ih": np.einsum("nth,ntd->hd", da, probe.x), "dweight_hh": np.einsum("nth,ntk->hk", da, h_prev)}
    if "bias_ih" in p:
        out["dbias_ih"] = out["dbias_hh"] = da.sum(axis=(0, 1))
    return out


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
    yield "carry_dropped", "every step used only its own upstream gradient (dh_next never added)", {**out, **sums, "dx": dx}


def _pairing(probe, correct):
    """Weight gradients built from the right pre-activation gradients and the wrong step."""
    if "da" not in correct:
        return
    da, x, h = correct["da"], probe.x, correct["h"]
    zeros_x = np.zeros_like(x[:, :1])
    shifts = {"x_(t-1)": np.concatenate([zeros_x, x[:, :-1]], axis=1),
              "x_(t+1)": np.concatenate([x[:, 1:], zeros_x], axis=1)}
    for label, xs in shifts.items():
        yield "wrong_step_pairing", f"dW_ih paired with {label} instead of x_t", {"dweight_ih": np.einsum("nta,ntd->ad", da, xs)}
    yield "wrong_step_pairing", "dW_hh paired with h_t instead of h_(t-1)", {"dweight_hh": np.einsum("nta,ntk->ak", da, h)}


def _skipped_steps(probe, correct):
    dout = probe.dout.copy()
    dout[:, -1] = 0
    yield ("loop_skips_step", "the last step (the backward loop starts at T-2)",
           reference_values(dataclasses.replace(probe, dout=dout)))
    skip_first = {q: correct[q] - correct["steps"][q][0] for q in PARAM_GRADS if q in correct}
    dx = correct["dx"].copy()
    dx[:, 0] = 0
    skip_first.update(dx=dx, dh0=correct["dh_total"][:, 0] - probe.dout[:, 0], dc0=None)
    yield "loop_skips_step", "the first step (the backward loop stops at t = 1)", skip_first


def _bias(probe, correct):
    if "dbias_ih" not in correct:
        return
    N, T = probe.sizes["N"], probe.sizes["T"]
    for label, scale in ((f"divided by the batch size N={N}", 1 / N), (f"divided by N*T={N * T}", 1 / (N * T))):
        yield "bias_averaged", label, {q: correct[q] * scale for q in BIASES}
    yield "bias_wrong_sign", "negated", {q: -correct[q] for q in BIASES}


def _blocks(arr, perm):
    parts = np.split(arr, len(perm), axis=0)
    return np.concatenate([parts[k] for k in perm], axis=0)


def _gate_order(probe, correct):
    gates = GATES[probe.cell]
    if len(gates) == 1:
        return
    for perm in permutations(range(len(gates))):
        if perm == tuple(range(len(gates))):
            continue
        order = "".join(gates[k] for k in perm)
        yield ("gate_order", f"gradient blocks written in the order {order} instead of {''.join(gates)} (forward right)",
               {q: _blocks(correct[q], perm) for q in PARAM_GRADS if q in correct})
        inverse = tuple(np.argsort(perm))
        params = {k: _blocks(v, perm) for k, v in probe.params.items()}
        v = reference_values(dataclasses.replace(probe, params=params))
        v.update({q: _blocks(v[q], inverse) for q in PARAM_GRADS if q in v})
        yield "gate_order", f"the cell reads the gate blocks in the order {order} instead of {''.join(gates)}", v


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
