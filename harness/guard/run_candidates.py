"""Candidates of the diagnosis (harness.guard.diagnose) built from the textbook's own run rather
than from one edited line: backpropagation through time truncated (each step's upstream
gradient carried back through at most k earlier steps, as ``bptt_truncate`` tutorials write
it, or the carries cut at the edges of chunks of k steps), and gradients clipped inside the
user's backward (element by element, or rescaled to a norm), the threshold read off the
user's own numbers. Every value still comes from the one textbook BPTT (reference_impls)."""

import numpy as np

from .diagnose import ExampleReplay, _finding

PARAMS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


def run_candidates(replay, user, wrong, tol):
    """Truncations and clippings whose values may explain the user's (forward right)."""
    T = replay.probe.sizes["T"]
    out = []
    right = _trailing_right(replay, user, tol)
    for k in range(1, T - 1):
        if right is not None and k != right - 1:            # dx_t is right for the last k+1 steps only
            continue
        out.append({**_finding("truncated_bptt", f"each step's upstream gradient dh_t is carried back through at most "
                                                 f"{k} earlier step{'s' if k > 1 else ''} (truncated BPTT, "
                                                 f"bptt_truncate={k}): older contributions are never added"),
                    "values": _each(replay, lambda r: _truncated(r, k))})
    for k in range(2, T):
        for from_end in (False, True):
            last = T - k if from_end else (T - 1) // k * k     # the last chunk's first step
            if right is not None and T - last != right:
                continue
            where = "counted from the last step" if from_end else "counted from the first step"
            out.append({**_finding("truncated_bptt", f"the carries are cut every {k} steps ({where}): the "
                                                     f"sequence is backpropagated in separate chunks of {k} steps"),
                        "values": _each(replay, lambda r: _chunked(r, k, from_end))})
    return out + _clipped(replay.correct, user, wrong)


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
        from .diagnose import _combine
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


def _chunked(replay, k, from_end):
    """The sequence backpropagated in chunks of k steps, no carry across a chunk's first step."""
    dout, T = replay.probe.dout, replay.probe.sizes["T"]
    starts = sorted({max(0, e - k) for e in range(T, 0, -k)}) if from_end else list(range(0, T, k))
    total = _zeros(replay)
    for lo, hi in zip(starts, starts[1:] + [T]):
        if _add(total, _segment(replay, lo, hi, dout, _last_dc(replay) if hi == T else None), lo, hi) is None:
            return None
    return dict(total, h=replay.correct["h"])


def _last_dc(replay):
    probe = replay.probe
    return probe.dstate_n["c"][0] if probe.cell == "lstm" else None


def _clipped(correct, user, wrong):
    """The weight and bias gradients (or every gradient) clipped element by element to [-c, c],
    or each rescaled to norm c, or all rescaled to a global norm c: c is what the user's
    gradients show (their largest magnitude, or their norm)."""
    out = []
    for keys, which in ((PARAMS, "the weight and bias gradients"),
                        (PARAMS + ("dx", "dh0", "dc0"), "every gradient")):
        keys = [q for q in keys if q in correct and q in user]
        hit = [q for q in keys if q in wrong]
        if not hit or not all(np.all(np.isfinite(user[q])) for q in keys):
            continue
        c = max(float(np.max(np.abs(user[q]))) for q in hit)
        values = {**correct, **{q: np.clip(correct[q], -c, c) for q in keys}}
        out.append({**_finding("gradient_clipped", f"{which} clipped element by element to [-{c:.4g}, {c:.4g}] "
                                                   "(np.clip) inside the backward"), "values": values})
        c = max(float(np.linalg.norm(user[q])) for q in hit)
        values = {**correct, **{q: correct[q] * min(1.0, c / _norm(correct[q])) for q in keys}}
        out.append({**_finding("gradient_clipped", f"{which} each rescaled to a norm of at most {c:.4g} inside the "
                                                   "backward"), "values": values})
        c = float(np.sqrt(sum(np.sum(np.square(user[q])) for q in keys)))
        total = float(np.sqrt(sum(np.sum(np.square(correct[q])) for q in keys)))
        values = {**correct, **{q: correct[q] * min(1.0, c / max(total, 1e-300)) for q in keys}}
        out.append({**_finding("gradient_clipped", f"{which} rescaled together to a global norm of at most {c:.4g} "
                                                   "inside the backward"), "values": values})
    return out


def _norm(v):
    return max(float(np.linalg.norm(v)), 1e-300)
