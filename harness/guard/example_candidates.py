"""Candidates of the diagnosis for code that runs one example at a time with a weight gradient's
running total read where the weight belongs (``dh_prev = dW_hh.T @ da`` inside a loop over the
examples, each example's whole backward before the next): the running total is carried from
one example into the next, so example n reads every earlier example's whole contribution too.
Each example's textbook backward runs with the grammar's running-total edit planted, its
totals starting where the previous example's ended."""

from .diagnose import ExampleReplay, _close, _combine, _dc_n, _finding
from .screen import _fits as fits


def running_across_examples(replay, tol, cuts=()):
    """[finding with values] for each running-total edit that, carried across the examples,
    fits the user's values on every shorter cut probe of ``cuts`` [(replay, user values)], run
    first (the shortest first: most edits fail there)."""
    probe = replay.probe
    if probe.sizes["N"] < 2:
        return []
    edits = [e for e in replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
             if e.cause == "gradient_for_weight" and "backward" in e.more]
    # Screened on the cut probes shorter than the diagnosis's own, shortest first (not on a longer
    # one: there the running totals grow fast, and their rounding is what would be compared).
    T = probe.sizes["T"]
    shorter = sorted(((r, u) for r, u in cuts if u is not None and r.probe.sizes["T"] < T),
                     key=lambda c: c[0].probe.sizes["T"])
    out = []
    for edit in edits:
        if not all(fits(_carried(r, edit), u, list(u), tol, _close) for r, u in shorter):
            continue
        values = _carried(replay, edit)
        if values is not None:
            out.append({**_finding("gradient_for_weight", f"{edit.says}, one example at a time: the running total "
                                                           "carried from each example into the next",
                                   edit.gates, edit.cost + 0.15), "values": values})
    return out


def _carried(replay, edit):
    """The edit's values with each example run in turn, its running totals starting at the
    previous examples' whole gradients; None if a run fails."""
    per = ExampleReplay.of(replay.probe).replays
    sums, parts = {"sum0_dW_ih": 0, "sum0_dW_hh": 0}, []
    for one in per:
        caches = [dict(c, **sums) for c in one.caches]
        values = one.book.run(edit, caches, one.probe.dout, _dc_n(one.probe))
        if values is None:
            return None
        parts.append(dict(values, h=one.correct["h"]))
        sums = {"sum0_dW_ih": sums["sum0_dW_ih"] + values["dweight_ih"],
                "sum0_dW_hh": sums["sum0_dW_hh"] + values["dweight_hh"]}
    return _combine(parts)

