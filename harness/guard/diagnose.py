"""Name the likely mistake: every mistake of the grammar, planted into the textbook cell and
replayed on the user's own probe; a cause is named only when it reproduces the user's numbers.

Two families of candidates, both computed by the one textbook BPTT (reference_impls):

    the grammar (harness.guard.grammar)  one line of step_backward or of the backward loop
                                         rewritten: a term dropped, a derivative wrong, a
                                         weight transposed, a carry dropped, a loop that
                                         skips a step, a gradient averaged ...
    the model                            the textbook run on other weights or options: gate
                                         blocks read in another order, a forget_bias missing
                                         or added, the other GRU reset, another activation

A candidate explains the user's values when every quantity the user returned matches it
within tolerance and at least one differs from the correct values. Among those, the
simplest wins (grammar.COST); equally simple candidates of different causes are all
listed. The probe is strong (random non-symmetric weights, batch > 1, random inputs,
states and upstream gradients), which is what tells the candidates apart. When none
fits, the answer is "unknown cause", never a guess.
"""

import dataclasses
import re
from itertools import permutations

import numpy as np

from ..cells import GATES
from .by_numbers import forward_findings
from .grammar import COST
from .mutants import QUANTITIES, Textbook, _blockT
from .naming import render

CAUSES = {
    "weight_transposed": "a weight used transposed",
    "wrong_weight": "one weight used where another belongs",
    "gradient_for_weight": "a weight's gradient used in place of the weight",
    "derivative_wrong_point": "activation derivative taken at the wrong point",
    "derivative_wrong_function": "the derivative of the wrong function",
    "derivative_miswritten": "a derivative written wrongly",
    "derivative_twice": "a local derivative applied twice",
    "derivative_missing": "a local derivative left out",
    "wrong_sign": "a term with the wrong sign",
    "term_dropped": "a term dropped",
    "wrong_time": "a factor taken at the wrong time step",
    "carry_dropped": "gradient carried back from later steps dropped",
    "carry_overwrites": "a carry or an accumulation that overwrites instead of adding",
    "loop_skips_step": "backward loop skips a step",
    "reduction_scaled": "a gradient averaged instead of summed",
    "inplace_corruption": "an in-place write corrupts a cached value",
    "gate_order": "gate blocks in the wrong order",
    "forget_bias": "forget-gate offset (forget_bias) wrong",
    "forward_mistake": "the forward computes something else",
}
_BOOKS = {}


def textbook(cell):
    if cell not in _BOOKS:
        _BOOKS[cell] = Textbook(cell)
    return _BOOKS[cell]


@dataclasses.dataclass
class Replay:
    """The textbook on one probe: the forward caches, and the correct values."""
    probe: object
    book: Textbook
    states: dict
    caches: list
    correct: dict

    @classmethod
    def of(cls, probe):
        book = textbook(probe.cell)
        state0 = {s: v[0] for s, v in probe.state0.items()}
        states, caches = book.forward(probe.x, state0, probe.layer_params(0), probe.options)
        correct = book.run(None, caches, probe.dout, _dc_n(probe))
        correct["h"] = states["h"]
        return cls(probe, book, states, caches, correct)

    def values(self, edit):
        states, caches = self.states, self.caches
        if edit.touches_forward():                          # the mistaken forward, then its backward
            probe = self.probe
            states, caches = self.book.forward(probe.x, {s: v[0] for s, v in probe.state0.items()},
                                               probe.layer_params(0), probe.options, edit)
            if states is None:
                return None
        out = self.book.run(edit, caches, self.probe.dout, _dc_n(self.probe))
        if out is not None:
            out["h"] = states["h"]
        return out


class ExampleReplay:
    """The textbook on each example of a probe alone, combined as per-example code is: states
    and input gradients stacked over the batch, weight gradients summed."""

    def __init__(self, probe, replays):
        self.probe, self.replays, self.book = probe, replays, replays[0].book
        self.correct = _combine([r.correct for r in replays])

    @classmethod
    def of(cls, probe):
        return cls(probe, [Replay.of(_example(probe, n)) for n in range(probe.sizes["N"])])

    def values(self, edit):
        parts = [r.values(edit) for r in self.replays]
        return None if any(p is None for p in parts) else _combine(parts)


def _example(probe, n):
    sl = slice(n, n + 1)
    return dataclasses.replace(probe, x=probe.x[sl], dout=probe.dout[sl],
                               state0={k: v[:, sl] for k, v in probe.state0.items()},
                               dstate_n={k: v[:, sl] for k, v in probe.dstate_n.items()})


def _combine(parts):
    out = {}
    for q in parts[0]:
        arrays = [p[q] for p in parts]
        out[q] = np.concatenate(arrays) if q in ("h", "dx", "dh0", "dc0") else np.sum(arrays, axis=0)
    return out


def _dc_n(probe):
    return probe.dstate_n["c"][0] if probe.cell == "lstm" else None


def diagnose(probe, user, tol, names, problems=(), per_example=False, user_at=None):
    """Findings (dicts: cause, description, detail, gates, cost), best first; [] when nothing fits.

    ``user``: the user's canonical values (h, dx, dh0, ...); ``names``: a naming.Names for
    the user's layout; ``problems``: quantities not to match (returned with a wrong shape);
    ``per_example``: the user's code runs one example at a time (a mistake that reads a running
    total then sees that example's alone), so every candidate is replayed example by example;
    ``user_at(k)``: the user's values on the probe cut to k steps (None if the code cannot run
    there), to screen the grammar's candidates cheaply on 1 and 2 steps first: the user's
    mistake reproduces the user's numbers on any probe, so one that fails there is dropped.
    """
    replay_of = ExampleReplay.of if per_example and probe.sizes["N"] > 1 else Replay.of
    replay = replay_of(probe)
    keys = [q for q in ("h",) + QUANTITIES if q in user and q not in problems]
    forward_right = "h" not in keys or _close(replay.correct["h"], user["h"], tol)
    edits = [e for e in replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
             if e.touches_forward() != forward_right]
    by_numbers = [e for e in edits if e.by_numbers]
    edits = [e for e in edits if not e.by_numbers]
    for k in (1, 2) if user_at is not None else ():
        if k < probe.sizes["T"]:
            edits = _screen(edits, replay_of(_cut(probe, k)), user_at(k), keys, tol)
    wrong = [q for q in keys if not _close(replay.correct[q], user[q], tol)]
    keys = wrong + [q for q in keys if q not in wrong]          # the telling ones first: most candidates fail there
    found = []
    for cand in _grammar(replay, edits) + _model(replay, probe, names, forward_right):
        if cand["values"] is not None and _explains(cand["values"], wrong, user, keys, tol):
            edit = cand.pop("edit", None)
            found.append(dict(cand, detail=_say(edit, names, probe.cell)) if edit else cand)
    if not found and by_numbers and "h" in user:
        for edit, h in forward_findings(replay.book, probe, user, tol, by_numbers, _close):
            found.append(dict(_finding(edit.cause, _say(edit, names, probe.cell) + " (your gradients are those of "
                                       "this forward: checked by finite differences)", edit.gates, edit.cost,
                                       also=edit.also), values={"h": h}))
    return _best(found, keys)


def _cut(probe, k):
    return dataclasses.replace(probe, x=probe.x[:, :k], dout=probe.dout[:, :k])


def _screen(edits, replay, user, keys, tol):
    """The edits whose values on a shorter probe match the user's there (all of them when the
    user's code could not run on it)."""
    if user is None:
        return edits
    keys = [q for q in keys if q in user]
    kept = []
    for e in edits:
        if e.target == "output":                            # scaled by the full probe's N and T: not comparable
            kept.append(e)
            continue
        values = replay.values(e)
        if values is not None and all(_close(values[q], user[q], tol) for q in keys if q in values):
            kept.append(e)
    return kept


def _close(expected, got, tol):
    """compare_arrays' verdict, without its statistics: |got - expected| <= atol + rtol |expected|
    everywhere (NaN and Inf never close)."""
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.shape != got.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(got - expected) <= tol.atol + tol.rtol * np.abs(expected)))


def _explains(values, wrong, user, keys, tol):
    """Whether a candidate's values match every user value, one of those that differ from the
    correct ones (``wrong``) among them."""
    return any(q in values for q in wrong) and all(_close(values[q], user[q], tol) for q in keys if q in values)


def _best(found, keys):
    """The simplest candidates (lowest cost), values dropped. Candidates of one cause that give
    the same numbers are one mistake written in several places (a sign flipped in dz or in
    da_z): the first in the textbook's order is kept and the others counted in its detail. A
    candidate of another cause that gives the same numbers (``tanh_c`` applied twice in do, or
    squared in place before do reads it) is named beside it: the numbers cannot tell them apart."""
    if not found:
        return []
    cost = min(f["cost"] for f in found)
    best = []
    for f in sorted(found, key=lambda f: f["cost"]):
        if f["cost"] > cost + 1e-9:
            continue
        same = next((b for b in best if b["cause"] == f["cause"] and _same(b["values"], f["values"], keys)), None)
        if same is None:
            best.append(dict(f, alternatives=0))
        elif f["detail"] != same["detail"]:
            same["alternatives"] += 1
    for b in best:
        twin = next((f for f in found if f["cause"] != b["cause"] and f["cause"] in CAUSES
                     and _same(f["values"], b["values"], keys)), None)
        if twin is not None and "(equally" not in b["description"] and CAUSES[twin["cause"]] != b["description"]:
            b["description"] += f" (equally: {CAUSES[twin['cause']]})"
    for b in best:
        b.pop("values")
        n = b.pop("alternatives")
        if n:
            b["detail"] += f" (the same mistake written in {n} other place{'s' if n > 1 else ''} gives the same numbers)"
    return best


def _same(a, b, keys):
    return all(np.allclose(a[q], b[q], rtol=1e-10, atol=1e-12) for q in keys if q in a and q in b)


def _finding(cause, detail, gates="", cost=None, carry="", also=""):
    description = CAUSES[cause] + (f" (equally: {CAUSES[also]})" if also else "")
    return {"cause": cause, "description": description, "detail": detail, "gates": gates,
            "cost": COST.get(cause, 1.5) if cost is None else cost, "carry": carry}


def _grammar(replay, edits):
    """The grammar's ``edits`` replayed (with the user's forward right, the mistakes of the
    backward; with it wrong, the forward mistakes the backward follows): candidates with their
    values (the words, in the user's names, are made only for those that fit)."""
    return [dict(_finding(e.cause, "", e.gates, e.cost, e.carry, e.also), edit=e, values=replay.values(e))
            for e in edits]


def _say(edit, names, cell):
    """The edit in the user's names: what is wrong, where, and the textbook line before/after."""
    says = _user_words(edit.says, names, edit.gates if len(edit.gates) == 1 else "")
    if edit.perm:
        return says.format(**_written(edit.perm, names, GATES[cell]))
    if edit.gates and cell != "rnn":
        says += f" (gate {names.gates(edit.gates)})"
    if edit.before and edit.target in ("step_backward", "step_forward"):
        says += f": the textbook's `{render(edit.before, names, cell)}` computed as `{render(edit.after, names, cell)}`"
    return says


def _user_words(text, names, gates=""):
    """Textbook weight names in a sentence replaced by the user's arrays ("W_hh" -> "Wh"; only
    the arrays holding ``gates`` when the user keeps one array per gate: "Wo")."""
    for textbook_name in ("dW_ih", "dW_hh", "W_ih", "W_hh"):
        arrays = names.arrays(textbook_name.lstrip("d"), gates)
        if not arrays:
            continue
        grad = textbook_name.startswith("d")
        if len(arrays) == 1:
            user = ("d" if grad else "") + arrays[0]
        else:
            user = f"{'the gradients of ' if grad else ''}{', '.join(arrays)} ({textbook_name})"
        text = re.sub(rf"\b{textbook_name}\b", user, text)
    return names.state(text)


# ---------------------------------------------------------------- the model: other weights, other options


def _model(replay, probe, names, forward_right):
    """Candidates that change what the forward computes (matched on h too), plus the weight
    gradients' gate blocks written in another order (forward right)."""
    out = []
    gates = GATES[probe.cell]
    if len(gates) > 1:
        out += _gate_orders(replay, probe, names, forward_right)
    if forward_right:
        return out
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
    return dict(Replay.of(p).correct)


def _blocks(arr, perm):
    parts = np.split(arr, len(perm), axis=0)
    return np.concatenate([parts[k] for k in perm], axis=0)


def _written(perm, names, gates):
    """A backward writing gate perm[k]'s gradient into canonical block k, seen in the user's
    order: {"written": "i, o, f, g", "expected": "i, f, o, g (cs231n's order)"}."""
    user = names.order or "".join(gates)
    written = [gates[perm[gates.index(x)]] for x in user]
    return {"written": names.gates(written), "expected": f"{names.gates(user)} ({names.layout}'s order)"}


def _reading(perm, names, gates):
    """The user's gate order under ``perm`` (canonical block k holds gate perm[k]), in the
    user's order and letters: "i, o, f, g instead of i, f, o, g (cs231n's order)"."""
    user = names.order or "".join(gates)
    read = [gates[perm[gates.index(x)]] for x in user]
    return f"{names.gates(read)} instead of {names.gates(user)} ({names.layout}'s order)"
