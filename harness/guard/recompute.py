"""Gradient checkpointing gone wrong: a backward that recomputes each step's forward values
(the gates; the RNN's output, for its derivative) instead of caching them, and makes a mistake
there while the forward itself is right. Every forward mistake of the grammar is replayed so
(``recomputes``: Edits marked ``recompute``, run by ``recomputed_values``), and the recompute
from h_t where h_(t-1) belongs is a candidate of its own (``recomputed_from_output``)."""

import dataclasses

from .mutants import quiet

# The forward values a checkpointing backward recomputes per step (the RNN: its output, for the
# derivative), the states it reads kept.
RECOMPUTED = {"rnn": ("next_h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def recomputed_from_output(replay):
    """The backward recomputing each step's forward values (checkpointing) from h_t where
    h_(t-1) belongs: the gates are the step's run on (x_t, h_t); the states it reads right, or
    h_(t-1) read as h_t too."""
    from .diagnose import _finding                      # (diagnose imports this module)
    from .cache_candidates import _rerun_cached
    probe, module = replay.probe, replay.book.module
    params, seen = probe.layer_params(0), {}

    def at_output(c):                                   # the step run again, once per cached step
        if id(c) not in seen:
            state = (c["next_h"],) + ((c["prev_c"],) if probe.cell == "lstm" else ())
            with quiet():
                seen[id(c)] = (c, module.forward(c["x"][:, None], *state, params, **probe.options)[-1][0])
        return seen[id(c)][1]
    keys = RECOMPUTED[probe.cell]
    out = []
    for also_h in (False, True):
        changes = {k: lambda cs, c, t, k=k: at_output(c)[k] for k in keys}
        if also_h:
            changes["prev_h"] = lambda cs, c, t: c["next_h"]
        values = _rerun_cached(replay, changes)
        out.append({**_finding("wrong_time", "the backward recomputes each step's forward values (checkpointing) from "
                               "h_t where h_(t-1) belongs" + (" and reads h_t for h_(t-1) too" if also_h else
                                                              ": the values of (x_t, h_t), the states right")),
                    "values": values})
    return out


def recomputed_values(replay, edit):
    """The textbook backward on the caches with the gates (the RNN: its output) of the forward
    with ``edit`` planted: a checkpointing backward recomputing them with the mistake."""
    from .diagnose import _dc_n
    probe, keys, mixed = replay.probe, RECOMPUTED[replay.probe.cell], []
    for t, c in enumerate(replay.caches):                 # each step again from its own (right) states
        state = {"h": c["prev_h"], **({"c": c["prev_c"]} if "prev_c" in c else {})}
        states, again = replay.book.forward(probe.x[:, t:t + 1], state, probe.layer_params(0), probe.options, edit)
        if states is None:
            return None
        mixed.append(dict(c, **{k: again[0][k] for k in keys}))
    out = replay.book.run(None, mixed, probe.dout, _dc_n(probe))
    if out is not None:
        out["h"] = replay.states["h"]
    return out


_CACHE = {}
# Forward lines after the gates: a recompute of the gates does not run them (their edits would
# replay the textbook's own numbers).
AFTER_GATES = ("next_c", "tanh_c", "next_h", "cache")


def recomputes(book, probe):
    """Every forward mistake of the grammar made only where a checkpointing backward recomputes
    the step's gates (the forward itself right): named by the mistake's own cause."""
    key = (probe.cell, probe.bias, probe.options.get("activation"))     # (forward edits: not size-dependent)
    if key not in _CACHE:
        edits = book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
        rnn = probe.cell == "rnn"                        # the RNN recomputes a_t only for its derivative:
        _CACHE[key] = [dataclasses.replace(              # there the mistake is that derivative's point too
            e, recompute=True, by_numbers=False, cost=e.cost + 0.2, more={}, cause=_recompute_cause(e),
            also=",".join(filter(None, (e.also, "derivative_wrong_point" if rnn else ""))),
            says=_recompute_words(rnn, _recompute_cause(e)) + e.says.removeprefix("in the forward, "))
            for e in edits if e.target == "step_forward" and (e.by_numbers or e.touches_forward())
            and e.line not in AFTER_GATES and _recompute_cause(e)]
    return _CACHE[key]


def _recompute_words(rnn, cause):
    if rnn and cause == "term_dropped":
        return ("in the pre-activation the backward takes the derivative at (recomputed there, or a cached partial "
                "sum such as the input drive; the forward itself right), ")
    if rnn:
        return "in the pre-activation the backward recomputes for the derivative (the forward itself right), "
    return "in the backward's recompute of the step's gates (checkpointing; the forward itself right), "


def _recompute_cause(edit):
    """A forward edit's own cause where only the backward's recompute makes it (matched by the
    numbers, a forward edit is a forward mistake first); "" for one with no cause of its own
    (a recompute is never "the forward computes something else": the forward is right)."""
    if edit.cause != "forward_mistake":
        return edit.cause
    if edit.also:
        return edit.also.split(",")[0]
    if "forget_bias" in edit.says:
        return "forget_bias"
    return "term_dropped" if any(w in edit.says for w in ("left out", "dropped")) else ""   # "": not planted

