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

import ast
import dataclasses
import re

import numpy as np

from ..cells import GATES
from .by_numbers import forward_findings
from .grammar import COST
from .mutants import QUANTITIES, Textbook, quiet, scaled
from .naming import render
from .recompute import recomputed_values, recomputes
from .screen import fitting, remembered, within

CAUSES = {
    "weight_transposed": "a weight used transposed",
    "gradient_transposed": "a weight's gradient written transposed",
    "wrong_weight": "one weight used where another belongs",
    "gradient_for_weight": "a weight's gradient used in place of the weight",
    "derivative_wrong_point": "activation derivative taken at the wrong point",
    "wrong_value": "one value read in place of another",
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
    "loop_direction": "the backward loop runs forward in time",
    "truncated_bptt": "backpropagation through time truncated",
    "gradient_clipped": "gradients clipped inside the backward",
    "reduction_scaled": "a gradient averaged instead of summed (or summed too often)",
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
        """The textbook on ``probe`` (kept for an equal probe: candidates never change it)."""
        return remembered(cls.__name__, probe, lambda: cls._of(probe))

    @classmethod
    def _of(cls, probe):
        book = textbook(probe.cell)
        state0 = {s: v[0] for s, v in probe.state0.items()}
        states, caches = book.forward(probe.x, state0, probe.layer_params(0), probe.options)
        correct = book.run(None, caches, probe.dout, _dc_n(probe))
        correct["h"] = states["h"]
        return cls(probe, book, states, caches, correct)

    def values(self, edit):
        states, caches = self.states, self.caches
        if edit.target == "output":                         # the correct gradients, scaled: no run needed
            return scaled(self.correct, edit)
        if edit.recompute:                                  # the mistaken forward's gates, the states right
            return recomputed_values(self, edit)
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
    and input gradients stacked over the batch, weight gradients summed. An edit whose lines
    treat every example alike (no clip, norm, mean, max or size) gives the same numbers run on
    the whole batch at once, and is run so (examples never mix in a recurrent layer)."""

    def __init__(self, probe, replays, batch):
        self.probe, self.replays, self.book, self.batch = probe, replays, replays[0].book, batch
        self.correct = _combine([r.correct for r in replays])

    @classmethod
    def of(cls, probe):
        return remembered(cls.__name__, probe, lambda: cls(      # (its parts not kept apart: one entry)
            probe, [Replay._of(_example(probe, n)) for n in range(probe.sizes["N"])], Replay._of(probe)))

    def values(self, edit):
        if _per_example_alike(edit):
            return self.batch.values(edit)
        parts = [r.values(edit) for r in self.replays]
        return None if any(p is None for p in parts) else _combine(parts)


# What makes an edit's numbers depend on how many examples run together (anything that reduces
# or reorders over the batch, reads its size, or reads a weight gradient's running total).
BATCH_WIDE = ("clip", "norm", "mean", "max", "min", "arg", "sort", "linalg", "std(", "var(", "_gscale", "shape",
              "len(", "size", "sum()", "np.sum(", "axis=None", "dW", "db_", "sum_d")


def _per_example_alike(edit):
    """Whether every line the edit writes treats each example alone (see ExampleReplay)."""
    if edit.target == "output":
        return False
    if id(edit) not in _ALIKE:                          # the edit is kept with its answer: its id stays its own
        lines = [stmt for part in edit.parts().values() for stmt in (part or {}).values()]
        alike = (bool(lines) and all(isinstance(st, ast.AST) for st in lines)
                 and not any(_reads_batch_wide(st) for st in lines))
        _ALIKE[id(edit)] = (edit, alike)
    return _ALIKE[id(edit)][1]


_ALIKE = {}


def _reads_batch_wide(stmt):
    """Whether a line reads N or any word of BATCH_WIDE, other than a weight gradient added to
    itself (``dW = dW + ...``: per-example sums add up to the batch's)."""
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = {n.id for t in getattr(node, "targets", [getattr(node, "target", None)]) for n in ast.walk(t)
                       if isinstance(n, ast.Name)}
            text = ast.unparse(node.value)
            for name in targets:                        # its own running total, added to: alike
                text = re.sub(rf"\b{re.escape(name)}\b", "_self", text)
            if _batch_wide_text(text):
                return True
        elif isinstance(node, (ast.Return, ast.Expr)) and _batch_wide_text(ast.unparse(node)):
            return True
    return False


def _batch_wide_text(text):
    return any(word in text for word in BATCH_WIDE) or re.search(r"\bN\b", text) is not None


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


def diagnose(probe, user, tol, names, problems=(), per_example=False, user_at=None, longest=None):
    """Findings (dicts: cause, description, detail, gates, cost), best first; [] when nothing fits.

    ``user``: the user's canonical values (h, dx, dh0, ...); ``names``: a naming.Names for
    the user's layout; ``problems``: quantities not to match (returned with a wrong shape);
    ``per_example``: the user's code runs one example at a time (a mistake that reads a running
    total then sees that example's alone), so every candidate is replayed example by example;
    ``user_at(k)``: the user's values on the probe cut to k steps (None if the code cannot run
    there), to screen the grammar's candidates cheaply on 1 and 2 steps first: the user's
    mistake reproduces the user's numbers on any probe, so one that fails there is dropped;
    ``longest``: the whole probe when ``probe`` is its first steps (``user_at`` then reaches it),
    where a truncation must fit too (a pattern of cuts may look regular on the first steps only).
    """
    replay_of = ExampleReplay.of if per_example and probe.sizes["N"] > 1 else Replay.of
    replay = replay_of(probe)
    keys = [q for q in ("h",) + QUANTITIES if q in user and q not in problems]
    forward_right = "h" not in keys or _close(replay.correct["h"], user["h"], tol)
    edits = [e for e in replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
             if e.touches_forward() != forward_right]
    by_numbers = [e for e in edits if e.by_numbers]
    edits = [e for e in edits if not e.by_numbers] + (recomputes(replay.book, probe) if forward_right else [])
    cuts = {k: (replay_of(_cut(probe, k)), user_at(k)) for k in (1, 2)
            if user_at is not None and k < probe.sizes["T"]}
    with quiet():                                       # for every replay below (they overflow by design)
        for cut_replay, cut_user in cuts.values():
            edits = _screen(edits, cut_replay, cut_user, keys, tol)
    wrong = [q for q in keys if not _close(replay.correct[q], user[q], tol)]
    keys = wrong + [q for q in keys if q not in wrong]          # the telling ones first: most candidates fail there
    found = []
    from .model_candidates import model_candidates        # they build on _finding and Replay
    from .run_candidates import run_candidates
    more = []
    if forward_right:
        short = (*cuts[2], tol) if 2 in cuts and cuts[2][1] is not None else None
        T = probe.sizes["T"]
        longer = [(replay_of(_cut(probe, T - 1)), user_at(T - 1))] if user_at is not None and T > 3 else []
        if longest is not None and user_at is not None:
            longer.append((replay_of(longest), user_at(longest.sizes["T"])))
        with quiet():
            more = run_candidates(replay, user, wrong, tol, short, list(cuts.values()) + longer, names)
    with quiet():
        candidates = _grammar(replay, edits) + model_candidates(replay, probe, names, forward_right) + more
        fits = [c for c in candidates if c["values"] is not None and _explains(c["values"], wrong, user, keys, tol)]
    for cand in fits:
        edit = cand.pop("edit", None)
        found.append(dict(cand, detail=_say(edit, names, probe.cell), place=(edit.target, edit.index))
                     if edit else cand)
    if not found and by_numbers and "h" in user:
        found = _forward_found(replay, probe, user, tol, by_numbers, names, wrong, keys)
    return _best(found, keys)


def _forward_found(replay, probe, user, tol, edits, names, wrong, keys):
    """Forward mistakes that reproduce the user's h: with a backward that follows them (checked
    by finite differences), or with the textbook's backward run on their values (replayed)."""
    found = []
    for edit, h, consistent in forward_findings(replay.book, probe, user, tol, edits, _close):
        if consistent:
            how = " (your gradients are those of this forward: checked by finite differences)"
        elif _explains(replay.values(edit) or {}, wrong, user, keys, tol):
            how = " (your backward is the correct one, run on this forward's values: it does not follow the mistake)"
        else:
            continue
        found.append(dict(_finding(edit.cause, _say(edit, names, probe.cell) + how, edit.gates, edit.cost,
                                   also=edit.also), values={"h": h}))
    return found


def _cut(probe, k):
    return dataclasses.replace(probe, x=probe.x[:, :k], dout=probe.dout[:, :k])


def _screen(edits, replay, user, keys, tol):
    """The edits whose values on a shorter probe match the user's there (all of them when the
    user's code could not run on it). Output edits are scaled by the full probe's N and T: not
    comparable here, always kept."""
    if user is None:
        return edits
    keys = [q for q in keys if q in user]
    fit = {id(e) for e in fitting(replay, [e for e in edits if e.target != "output"], user, keys, tol, _close)}
    return [e for e in edits if e.target == "output" or id(e) in fit]


def _close(expected, got, tol):
    """compare_arrays' verdict, without its statistics: |got - expected| <= atol + rtol |expected|
    everywhere (NaN and Inf never close)."""
    expected, got = np.asarray(expected), np.asarray(got)
    if expected.shape != got.shape:
        return False
    with quiet():
        return bool(np.all(within(expected, got, tol)))


def _explains(values, wrong, user, keys, tol):
    """Whether a candidate's values match every user value, one of those that differ from the
    correct ones (``wrong``) among them."""
    return any(q in values for q in wrong) and all(_close(values[q], user[q], tol) for q in keys if q in values)


def _best(found, keys):
    """The simplest candidates (lowest cost), values dropped. Candidates of one cause that give
    the same numbers are one mistake written in several places (a sign flipped in dz or in
    da_z): the first in the textbook's order is kept and the others counted in its detail. A
    candidate of another cause that gives the same numbers (``tanh_c`` applied twice in do, or
    squared in place before do reads it) is named beside it, up to four readings in order of
    simplicity: the numbers cannot tell them apart."""
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
        elif f["detail"] != same["detail"] and (f.get("place") is None or f.get("place") != same.get("place")):
            same["alternatives"] += 1                   # another place (in the same line: one mistake, two words)
    for b in best:
        head, _, said_already = b["description"].partition(" (equally: ")
        equal = said_already[:-1].split("; or ") if said_already else []
        for f in sorted(found, key=lambda f: f["cost"]):
            if not _same(f["values"], b["values"], keys):
                continue
            f_head, _, f_equal = f["description"].partition(" (equally: ")     # and what it reads as equally
            for said in [f_head] + (f_equal[:-1].split("; or ") if f_equal else []):
                if said and said != head and said not in equal and len(equal) < 4:
                    equal.append(said)
        if equal:
            b["description"] = f"{head} (equally: {'; or '.join(equal)})"
    for b in best:
        b.pop("values")
        b.pop("place", None)
        n = b.pop("alternatives")
        if n:
            b["detail"] += f" (the same mistake written in {n} other place{'s' if n > 1 else ''} gives the same numbers)"
    return best


def _same(a, b, keys):
    return all(np.allclose(a[q], b[q], rtol=1e-10, atol=1e-12) for q in keys if q in a and q in b)


def _finding(cause, detail, gates="", cost=None, carry="", also=""):
    """``also``: the other causes that describe the same mistake, comma-separated."""
    alsos = [CAUSES[a] for a in dict.fromkeys(a.strip() for a in also.split(",")) if a and a != cause]
    description = CAUSES[cause] + (f" (equally: {'; or '.join(alsos)})" if alsos else "")
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
        before, after = render(edit.before, names, cell), render(edit.after, names, cell)
        says += f": the textbook's `{before}`" + (f" computed as `{after}`" if after != before else "")
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


def _written(perm, names, gates):
    """A backward writing gate perm[k]'s gradient into canonical block k, seen in the user's
    order: {"written": "i, o, f, g", "expected": "i, f, o, g (cs231n's order)"}."""
    user = names.order or "".join(gates)
    written = [gates[perm[gates.index(x)]] for x in user]
    return {"written": names.gates(written), "expected": f"{names.gates(user)} ({names.layout}'s order)"}
