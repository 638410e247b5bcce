"""Candidates of the diagnosis built from the textbook's run on a changed cache: the forward's
cache holding another value at every step, as code that aliases or reuses arrays makes it (the
state saved before the update holding the updated one, a buffer reused so every step's cache
holds the last step's value, a value multiplied in place by another, a cached value turned
into its derivative in place, tanh(c) recomputed from c_(t-1), the states read one slot off),
and the RNN's derivative recomputed without the bias. ``_rerun_cached`` is the one way these
(and a checkpointing backward's recompute, harness.guard.recompute) run the textbook."""

import itertools

import numpy as np

from .diagnose import ExampleReplay, _combine, _finding
from .grammar import COST


def _last_dc(replay):
    probe = replay.probe
    return probe.dstate_n["c"][0] if probe.cell == "lstm" else None


def textbook_run(replay):
    """The textbook's whole backward on ``replay``'s caches: every gradient, dh_total, dc_total
    and each step's own gradients (``steps``)."""
    probe = replay.probe
    args = (probe.dout, replay.caches) + ((_last_dc(replay),) if probe.cell == "lstm" else ())
    return replay.book.module.backward(*args)


# The forward's values the textbook's step_backward reads, per cell, and what the cache can be
# made to hold instead by code that aliases or reuses arrays.
# The RNN's cached h turned in place into (part of) its derivative: (form, words).
IN_PLACE_DERIVATIVE = {
    "tanh": [(lambda h: h ** 2, "h**2 on the way to its derivative (`g = h[t]; g **= 2` for 1 - h**2)"),
             (lambda h: 1 - h ** 2, "its derivative 1 - h**2 (`g = h[t]; g **= 2; g *= -1; g += 1`)")],
    "sigmoid": [(lambda h: h * (1 - h), "its derivative h (1 - h) (`s = hs[t]; s *= 1 - s`)")]}
READ = {"rnn": ("prev_h", "next_h"), "lstm": ("prev_h", "prev_c", "i", "f", "g", "o", "tanh_c"),
        "gru": ("prev_h", "r", "z", "n")}
STATE = {"prev_h": "next_h", "prev_c": "next_c"}


def _cache_candidates(replay, short=None):
    """The forward's cache holding another value at every step, as code that aliases or reuses
    arrays makes it: the state saved before the update holding the updated one (no copy), a
    buffer reused so every step's cache holds the last step's value, a value multiplied in
    place by another (``a *= r``), tanh(c) recomputed from c_(t-1). ``short``: (the replay of
    a 2-step cut, the user's values there, tol): a candidate that does not fit there is not run
    on the whole probe (each run is a full backward)."""
    out = []
    for changes, cause, what, also, *cost in _cache_specs(replay.probe.cell, replay.probe.options.get("activation",
                                                                                                    "tanh")):
        if short is not None and not _fits(short, changes):
            continue
        values = _rerun_cached(replay, changes)
        out.append({**_finding(cause, what, also=also, cost=cost[0] if cost else None), "values": values})
    return out


def _cache_specs(cell, activation="tanh"):
    """(changes {cache key: fn(caches, cache, t)}, cause, words, also[, cost]) of every cache candidate."""
    specs = []
    for key in READ[cell]:
        if key in STATE:
            new = STATE[key]
            specs.append(({key: lambda cs, c, t, new=new: c[new]}, "wrong_time",
                          f"the cache holds {_says(new)} where {_says(key)} belongs (saved after the update, or the "
                          "array updated in place after it was cached)", "inplace_corruption"))
            specs.append(({key: lambda cs, c, t, key=key, new=new: c[key] if t == 0 else c[new]}, "inplace_corruption",
                          f"the state array updated in place after it was cached: every step but the first reads "
                          f"{_says(new)} where {_says(key)} belongs (the initial state, kept apart, right)", "wrong_time"))
            specs.append(({key: lambda cs, c, t, new=new: cs[-1][new]}, "inplace_corruption",
                          f"every step's cached {_says(key)} is the final state (one array updated in place and "
                          "cached without a copy)", ""))
        specs.append(({key: lambda cs, c, t, key=key: cs[-1][key]}, "inplace_corruption",
                      f"every step's cached {_says(key)} is the last step's (one buffer reused, e.g. written with "
                      "out=, or kept on an object the backward reads)", "wrong_time"))
        for other in READ[cell]:
            if other != key and key not in STATE:
                specs.append(({key: lambda cs, c, t, key=key, other=other: c[key] * c[other]}, "inplace_corruption",
                              f"the cached {_says(key)} multiplied in place by {_says(other)} in the forward "
                              f"(`{key} *= {other}`)", ""))
    specs += _whole_state_specs(cell)
    for key in (k for k in READ[cell] if k not in STATE and k != "tanh_c"):  # a gate's array reused as the output
        for new in ("next_h", "next_c") if cell == "lstm" else ("next_h",):    # buffer (`h_new = z; h_new *= h; ...`)
            specs.append(({key: lambda cs, c, t, new=new: c[new]}, "inplace_corruption",
                          f"the cached {_says(key)} overwritten by {_says(new)} (its array reused as the output buffer, "
                          f"e.g. `h_new = {key}; h_new *= ...`)", ""))
    specs.append(({"x": lambda cs, c, t: cs[-1]["x"], "prev_h": lambda cs, c, t: cs[-1]["prev_h"]}, "inplace_corruption",
                  "every step's cached [h_(t-1), x_t] is the last step's (one concatenation buffer filled in place "
                  "each step and cached without a copy)", ""))
    mirrored = {k: (lambda cs, c, t, k=k: cs[len(cs) - 1 - t][k]) for k in ("x",) + READ[cell] + tuple(
        k for k in ("a_hn",) if cell == "gru")}
    specs.append((mirrored, "wrong_time", "every step reads the cache of the mirrored step T-1-t (the list of caches "
                  "reversed before the loop indexes it by t)", ""))
    for skip0, whose in ((True, "h0 apart"), (False, "h0 too")) if cell == "rnn" else ():
        for form, how in IN_PLACE_DERIVATIVE.get(activation, ()):
            specs.append(({"prev_h": lambda cs, c, t, skip0=skip0, form=form: c["prev_h"] if skip0 and t == 0
                           else form(c["prev_h"])}, "inplace_corruption",
                          f"the cached h turned in place into {how}, so what reads h_(t-1) after that step ran sees "
                          f"that instead ({whose})", ""))
    if cell == "lstm":                                      # h and c in one state array updated in place
        specs.append(({"prev_h": lambda cs, c, t: cs[-1]["next_h"], "prev_c": lambda cs, c, t: cs[-1]["next_c"]},
                      "inplace_corruption", "every step's cached h_(t-1) and c_(t-1) are the final state (one state "
                      "array updated in place, cached without a copy)", ""))
        for skip0, whose in ((False, "c0 too"), (True, "c0 apart")):
            specs.append(({"prev_c": lambda cs, c, t, skip0=skip0: c["prev_c"] if skip0 and t == 0
                           else np.tanh(c["prev_c"])}, "inplace_corruption",
                          f"the cached states c turned into tanh(c) in place (`np.tanh(C, out=C)`), so what reads "
                          f"c_(t-1) (df) sees tanh(c_(t-1)) ({whose})", "wrong_value", COST["wrong_value"] + 0.05))
        specs.append(({"tanh_c": lambda cs, c, t: np.tanh(c["prev_c"])}, "wrong_time",
                      "tanh(c_t) recomputed from c_(t-1) in the backward (tanh(c_(t-1)) where tanh(c_t) belongs, in "
                      "every line)", ""))
    return specs


def _whole_state_specs(cell):
    """Cache candidates of a whole state or step: h kept in one array updated in place, the
    state updated in place with its slots read later, the whole step's cache read at another
    step."""
    specs = []
    for keep_h0 in (False, True):                           # h kept in one array updated in place: every cached
        specs.append(({"prev_h": lambda cs, c, t, keep=keep_h0: c["prev_h"] if keep and t == 0 else cs[-1]["next_h"],
                       "next_h": lambda cs, c, t: cs[-1]["next_h"]}, "inplace_corruption",    # h is the last
                      "every step's cached h (before and after its update) is the final state (one array updated "
                      "in place, cached without a copy" + (", h0 apart)" if keep_h0 else ")"), ""))
    specs.append(({"prev_h": lambda cs, c, t: c["prev_h"] if t == 0 else cs[-1]["next_h"]}, "inplace_corruption",
                  "every step's cached h_(t-1) is the final state, h0 apart (one output buffer updated in place and "
                  "cached as the next step's input; the step's own output, and what the derivative reads, right)", ""))
    specs += _state_slots(cell)
    for k, whose in ((lambda t, T: t - 1, "the step before's (caches[t - 1]: the last step's at t = 0)"),
                     (lambda t, T: min(t + 1, T - 1), "the next step's (the last step keeping its own)")):
        specs.append(({key: lambda cs, c, t, key=key, k=k: cs[k(t, len(cs))][key] for key in ("x",) + READ[cell]},
                      "wrong_time", f"the whole step's cache read at another step: every cached value is {whose}", ""))
    return specs


def _slot(cs, t, which):
    """The state after step t (own), after step t+1 (next; the last step keeps its own), or the final."""
    return cs[{"own": t, "next": min(t + 1, len(cs) - 1), "last": len(cs) - 1}[which]]


SLOT_WORDS = {"own": "the step's own updated state", "next": "the state after the following step",
              "last": "the final state"}


def _state_slots(cell):
    """A state kept in arrays updated in place (``c = cs[:, t]; c *= f; c += i * g``, ``c = state["c"];
    c *= f``): what the backward reads as the state before a step, and as the state after it, each
    holds a later step's state (the step's own, the next step's, or the final one)."""
    specs = []
    reads = {"c": ("tanh_c", np.tanh)} if cell == "lstm" else {"h": ("next_h", None)} if cell == "rnn" else {}
    for s, (after, fn) in reads.items():
        for before, now, apart in itertools.product(("own", "next", "last"), ("next", "last"), (False, True)):
            changes = {f"prev_{s}": lambda cs, c, t, b=before, s=s, a=apart: c[f"prev_{s}"] if a and t == 0 else
                       _slot(cs, t, b)[f"next_{s}"],
                       after: lambda cs, c, t, n=now, s=s, fn=fn: (fn or (lambda v: v))(_slot(cs, t, n)[f"next_{s}"])}
            specs.append((changes, "inplace_corruption",
                          f"the {s} state updated in place in the forward (cached without a copy): the backward "
                          f"reads {_both(before, now, s)}" + (f" ({s}0, kept apart, right)" if apart else ""), ""))
    return specs


def _both(before, now, s):
    if before == now:
        return f"{SLOT_WORDS[now]} as both {_says(f'prev_{s}')} and {_says(f'next_{s}')}"
    return f"{SLOT_WORDS[before]} as {_says(f'prev_{s}')} and {SLOT_WORDS[now]} as {_says(f'next_{s}')}"


def _rerun_cached(replay, changes):
    """The textbook backward on the replay's caches with ``changes`` made, or None (per-example
    replays: each example's, combined as per-example code combines them)."""
    if isinstance(replay, ExampleReplay):
        parts = [_rerun_cached(r, changes) for r in replay.replays]
        return None if any(p is None for p in parts) else _combine(parts)
    cs = replay.caches
    caches = [dict(c, **{k: fn(cs, c, t) for k, fn in changes.items()}) for t, c in enumerate(cs)]
    values = replay.book.run(None, caches, replay.probe.dout, _last_dc(replay))
    return None if values is None else dict(values, h=replay.correct["h"])


def _fits(short, changes):
    from .diagnose import _close
    replay, user, tol = short
    values = _rerun_cached(replay, changes)
    return values is not None and all(_close(values[q], user[q], tol) for q in user if q in values)


def _says(key):
    from .grammar.tables import SAYS
    return SAYS.get(key, key)


def _without_bias(replay):
    """The RNN's derivative recomputed from the pre-activation without its bias (a relu mask
    ``x W_ih^T + h W_hh^T > 0``, tanh' of ``tanh(x W_ih^T + h W_hh^T)``)."""
    probe = replay.probe
    if probe.cell != "rnn" or "dbias_ih" not in replay.correct:
        return []
    p = probe.layer_params(0)
    b = p["bias_ih"] + p["bias_hh"]
    act = replay.book.module.ACTIVATIONS[probe.options["activation"]][0]
    values = _rerun_cached(replay, {"next_h": lambda cs, c, t: act(c["a"] - b)})
    return [{**_finding("derivative_wrong_point", "the activation's derivative recomputed from the pre-activation "
                        "without its bias (x_t W_ih^T + h_(t-1) W_hh^T, b left out)"), "values": values}]
