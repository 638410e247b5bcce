"""Candidates of the diagnosis (harness.guard.diagnose) built from the textbook's own run rather
than from one edited line: backpropagation through time truncated (each step's upstream
gradient carried back through at most k earlier steps, as ``bptt_truncate`` tutorials write
it, or the carries cut at the edges of chunks of k steps), gradients clipped inside the user's
backward (harness.guard.clip_candidates), a cache aliased or reused (or read at another
step: harness.guard.cache_candidates), weight gradients formed from the wrong inputs and
initial states' gradients returned wrongly (harness.guard.input_candidates), a bias left out,
dx in reverse time order or one slot off, every gradient zero, one example's contribution kept
by an assignment inside loops over steps and examples, and a checkpointing backward's recompute (harness.guard.recompute). Every value still comes from
the one textbook BPTT (reference_impls)."""

import numpy as np

from .assign_candidates import one_bias_overwritten, one_example_kept
from .cache_candidates import _cache_candidates, _last_dc, _without_bias
from .clip_candidates import _clipped, _clipped_per_example
from .diagnose import ExampleReplay, _combine, _finding
from .example_candidates import running_across_examples
from .input_candidates import input_candidates
from .recompute import recomputed_from_output


def run_candidates(replay, user, wrong, tol, short=None, cuts=(), names=None):
    """Truncations, clippings and cache aliasing whose values may explain the user's (forward
    right). ``short``: (replay, user values, tol) on a 2-step cut, to screen the costly ones;
    ``cuts``: [(replay, user values)] on cut probes, where a truncation of the same k must fit
    too (a single carry mishandled at one place fits "chunks of T-1" on one probe only)."""
    out = []
    right = _trailing_right(replay, user, tol)
    longest = max([_T(r) for r, u in cuts if u is not None] + [_T(replay)])     # probes the code ran on
    for (cause, what, *also), fn in _truncations(_T(replay), right, longest):
        if all(_truncation_fits(fn, r, u, tol) for r, u in cuts):
            out.append({**_finding(cause, what, also=",".join(also)), "values": _each(replay, fn)})
    clipped = _clipped(replay.correct, user, wrong, names) + (_clipped_per_example(replay, user, wrong)
                                                              if isinstance(replay, ExampleReplay) else [])
    return (out + clipped + _cache_candidates(replay, short) + one_bias_overwritten(replay) + _without_bias(replay)
            + _dx_misplaced(replay) + one_example_kept(replay) + recomputed_from_output(replay)
            + input_candidates(replay) + running_across_examples(replay, tol, cuts)
            + _nothing_enters(replay.correct, user))


def _dx_misplaced(replay):
    """dx returned with its steps in reverse order (a list filled from t = T-1 down, stacked
    without reversing it), or each step's in the slot before its own (the last zero, or step
    0's there: ``dx[:, t - 1]`` wraps round)."""
    correct = replay.correct
    if "dx" not in correct or correct["dx"].shape[1] < 2:
        return []
    later = np.zeros_like(correct["dx"])
    later[:, :-1] = correct["dx"][:, 1:]
    wrapped = np.roll(correct["dx"], -1, axis=1)
    return [{**_finding("wrong_time", "dx returned with its steps in reverse order (dx_(T-1-t) where dx_t belongs: "
                                      "a list filled from the last step down, stacked without reversing it)"),
             "values": {**correct, "dx": correct["dx"][:, ::-1].copy()}},
            {**_finding("wrong_time", "dx_t holds the step after's dx_(t+1), the last step's is zero (dx written one "
                                      "step late, or into the slot before its own)"),
             "values": {**correct, "dx": later}},
            {**_finding("wrong_time", "each step's dx_t written into the slot before its own (dx[:, t - 1] = ...: "
                                      "step 0's lands in the last slot, Python's index -1)"),
             "values": {**correct, "dx": wrapped}}]


def _nothing_enters(correct, user):
    """Every gradient the user returns exactly zero (the textbook's are not): nothing of the
    upstream gradient enters the backward."""
    grads = [q for q in correct if q != "h" and q in user]
    if not grads or any(np.any(user[q] != 0) for q in grads) or all(not np.any(correct[q]) for q in grads):
        return []
    return [{**_finding("term_dropped", "every gradient you return is exactly zero: nothing of the upstream gradient "
                                        "dh enters your backward (left out, multiplied by 0 where it enters: a mask "
                                        "read inverted, 1 - m for m; or a loop that runs no step, range(T - 1, -1); "
                                        "or a tape or graph walked in recording order, not reversed: each node's "
                                        "backward runs before its gradient has arrived)",
                        also="wrong_value,loop_direction", cost=1.15),
             "values": {**correct, **{q: np.zeros_like(correct[q]) for q in grads}}}]


def _truncations(T, right, longest=None):
    """[((cause, words[, also]), fn(replay) -> values)] of the truncations that can fit on T steps: each
    ``dh_t`` carried back k steps (k <= T-2); the carries cut every k steps, from either end or
    after the steps t % k == k - 1; the carries stopping after the loop's first k steps (k <= T:
    at k = T only the longest probe tells it from dh0 dropped). A cut pattern must repeat (two cuts
    at least, on the ``longest`` probe the candidate must fit: the whole one when the diagnosis
    runs on its first steps), and with ``right`` (the trailing steps whose dx is right) known,
    only the k it leaves are tried."""
    longest = longest or T
    out = []
    for k in range(1, T - 1):
        if right is None or k == right - 1:                 # dx_t is right for the last k+1 steps only
            out.append((("truncated_bptt", f"each step's upstream gradient dh_t is carried back through at most {k} "
                                           f"earlier step{'s' if k > 1 else ''} (truncated BPTT, bptt_truncate={k}): "
                                           "older contributions are never added"),
                        lambda r, k=k: _truncated(r, k)))
    for k in range(2, T):
        for from_end in (False, True, "odd"):
            starts = _chunk_starts(T, k, from_end)
            if len(_chunk_starts(longest, k, from_end)) < 3 or (right is not None and T - starts[-1] != right):
                continue
            where = {False: "counted from the first step", True: "counted from the last step",
                     "odd": f"after each step t with t % {k} == {k - 1}"}[from_end]
            # dh0: kept, 0, or ("edge", from the end) cut only when step 0 begins a chunk
            for own in (True, False) + (("edge",) if from_end is True else ()):
                tail = {True: "", False: ", and dh0 is 0", "edge": ", dh0 too when step 0 begins a chunk"}[own]
                unrolled = (f"; equally, code unrolled {k} steps at a time that drops the carry between its parts"
                            if own is True else "")
                out.append((("truncated_bptt", f"the carries are cut every {k} steps ({where}): the sequence is "
                                               f"backpropagated in separate chunks of {k} steps{tail}{unrolled}",
                             *(("carry_dropped",) if unrolled else ())),
                            lambda r, k=k, e=from_end, own=own: _chunked(r, _chunk_starts(_T(r), k, e),
                                                                         _T(r) % k != 0 if own == "edge" else own)))
    for k in range(2, min(T, longest - 2) + 1):         # a stop at k = T shows on the longest probe only
        if k > longest - 2 or (right is not None and right != k):
            continue
        for own in (True, False):                          # the carries stop once the loop has done k steps
            out.append((("truncated_bptt", f"the carries stop after the backward loop's first {k} steps: the last "
                                           f"{k} steps are backpropagated together, every earlier step alone"
                                           + ("" if own else ", and dh0 is 0")),
                        lambda r, k=k, own=own: _chunked(r, list(range(0, max(1, _T(r) - k + 1))),
                                                          own or _T(r) < k)))     # shorter: no stop, dh0 kept
        # a counter that zeroes the carries when it reaches k (k >= 2)
        out.append((("truncated_bptt", f"the carries are zeroed once, after the backward loop's first {k} steps "
                                       f"(a counter of the steps walked back that resets dh_next at {k}): the "
                                       f"last {k} steps and the earlier ones are backpropagated as two separate "
                                       "chunks"),
                    lambda r, k=k: _chunked(r, [0] + ([_T(r) - k] if _T(r) > k else []), _T(r) != k)))
        if k != 2 and k < T - 1:
            continue                                    # (otherwise the counter's reading: the same numbers)
        out.append((("truncated_bptt", f"the carry into step T-{k + 1} is cut, once (`if t == T - {k + 1}: dh_next = "
                                       f"0`): the last {k} steps and the earlier ones are backpropagated as two "
                                       "separate chunks"),
                    lambda r, k=k: _chunked(r, [0] + ([_T(r) - k] if _T(r) > k else []), True)))
                                                            # T == k: the reset falls on dh0
    return out


def _chunk_starts(T, k, from_end):
    """Where chunks of k begin: from step 0 on, from the last step back, or ("odd") after the
    steps t % k == k - 1 whose carry a test on t cuts (``if t % 2 == 1: dh_next = 0``)."""
    if from_end == "odd":
        return [0] + list(range(k - 1, T, k))
    return sorted({max(0, e - k) for e in range(T, 0, -k)}) if from_end else list(range(0, T, k))


def _T(replay):
    return replay.probe.sizes["T"]


def _truncation_fits(fn, replay, user, tol):
    """Whether a truncation's values on a cut probe match the user's there (True when the
    user's code could not run on it)."""
    from .diagnose import _close
    if user is None:
        return True
    values = _each(replay, fn)
    return values is not None and all(_close(values[q], user[q], tol) for q in user if q in values)


def _trailing_right(replay, user, tol):
    """How many of the last steps have the right dx (a truncation leaves exactly those right),
    or None when the user returns no dx or all of it is right (then every k is tried, on short
    probes only: each costs O(T k))."""
    from .diagnose import _close
    dx, correct = user.get("dx"), replay.correct["dx"]
    T = correct.shape[1]
    if dx is None or np.shape(dx) != correct.shape:
        return None if T <= 12 else -1
    m = 0
    while m < T and _close(correct[:, T - 1 - m], dx[:, T - 1 - m], tol):
        m += 1
    return None if m == T and T <= 12 else m


def _each(replay, fn):
    """``fn`` on a Replay, or on each example's replay combined as per-example code is."""
    if isinstance(replay, ExampleReplay):
        parts = [fn(r) for r in replay.replays]
        return None if any(p is None for p in parts) else _combine(parts)
    return fn(replay)


def _segment(replay, lo, hi, dout, last_dc):
    """The textbook backward over steps lo..hi-1 alone: nothing carried into step hi-1 (but the
    probe's final dc at the last step), and what step lo sends back counted only when lo = 0."""
    return replay.book.run(None, replay.caches[lo:hi], dout[:, lo:hi], last_dc)


def _add(total, grads, lo, hi):
    if grads is None:
        return None
    for q, v in grads.items():
        if q == "dx":
            total["dx"][:, lo:hi] += v
        elif q not in ("dh0", "dc0") or lo == 0:
            total[q] += v
    return total


def _zeros(replay):
    return {q: np.zeros_like(v) for q, v in replay.correct.items() if q != "h"}


def _truncated(replay, k):
    """Each upstream dh_s backpropagated through steps s, s-1, ..., s-k only."""
    dout, T = replay.probe.dout, replay.probe.sizes["T"]
    total = _zeros(replay)
    for s in range(T):
        lo = max(0, s - k)
        only = np.zeros_like(dout)
        only[:, s] = dout[:, s]
        if _add(total, _segment(replay, lo, s + 1, only, _last_dc(replay) if s == T - 1 else None), lo, s + 1) is None:
            return None
    return dict(total, h=replay.correct["h"])


def _chunked(replay, starts, own=True):
    """The sequence backpropagated in chunks beginning at ``starts``, no carry across a chunk's
    first step; ``own``: the first chunk's gradient of the initial state kept (else 0)."""
    dout, T = replay.probe.dout, replay.probe.sizes["T"]
    total = _zeros(replay)
    for lo, hi in zip(starts, starts[1:] + [T]):
        if _add(total, _segment(replay, lo, hi, dout, _last_dc(replay) if hi == T else None), lo, hi) is None:
            return None
    if not own:
        total.update({q: np.zeros_like(total[q]) for q in ("dh0", "dc0") if q in total})
    return dict(total, h=replay.correct["h"])
