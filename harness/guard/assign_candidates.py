"""Candidates of a gradient assigned (=) where it accumulates (+=), built from the textbook's
own run: one of two biases the textbook keeps as one, or a weight's gradient assigned inside
loops over the steps and the examples (one example's contribution at t = 0 kept)."""

import numpy as np

from .diagnose import _finding


def _textbook_run(replay):
    from .cache_candidates import textbook_run          # (run_candidates imports this module)
    return textbook_run(replay)


def one_bias_overwritten(replay):
    """One of the two biases' gradients assigned (=) where it accumulates, when the textbook
    keeps one ``db`` for both (the RNN, the LSTM): it holds the last step handled (t = 0)."""
    caches = getattr(replay, "caches", None)
    if caches is None or "dbias_ih" not in replay.correct or replay.probe.cell == "gru":
        return []
    first = _textbook_run(replay)["steps"][0]["db"]
    return [{**_finding("carry_overwrites", f"d{q[1:]} assigned (=) where it accumulates (+=) over the steps: only "
                                            "one step's contribution is kept"), "values": {**replay.correct, q: first}}
            for q in ("dbias_ih", "dbias_hh")]

def one_example_kept(replay):
    """A weight's or bias's gradient assigned (=) where it accumulates, inside loops over the
    steps and the examples (scalar loops, per-example code): it holds one example's contribution
    (the first or the last) at the last step walked, t = 0."""
    whole = getattr(replay, "batch", replay)            # a per-example replay: its whole-batch run
    probe, cache = whole.probe, whole.caches[0]
    N = probe.sizes["N"]
    if N < 2 or (probe.cell == "gru" and not cache["reset_after"]):
        return []                                       # (reset-before: W_hn meets r h_(t-1), not h_(t-1))
    step = _textbook_run(whole)["steps"][0]
    da_ih, da_hh = (step["da_x"], step["da_h"]) if probe.cell == "gru" else (step["da"], step["da"])
    out = []
    for n, which in ((0, "the first"), (N - 1, "the last")):
        one = {"dweight_ih": np.outer(da_ih[n], cache["x"][n]), "dweight_hh": np.outer(da_hh[n], cache["prev_h"][n]),
               "dbias_ih": da_ih[n], "dbias_hh": da_hh[n]}
        out += [{**_finding("carry_overwrites", f"d{q[1:]} assigned (=) where it accumulates (+=), inside loops over "
                                                f"the steps and the examples: only {which} example's contribution at "
                                                "the last step walked (t = 0) is kept"),
                 "values": {**replay.correct, q: v.astype(replay.correct[q].dtype)}}
                for q, v in one.items() if q in replay.correct]
    return out
