"""Candidates of the diagnosis built from each step's pre-activation gradients in the textbook's
own run: the weight gradients sum_t da_t^T x_t and sum_t da_t^T h_(t-1) formed with the wrong
inputs (in reverse time order; read one row back in a flat (N*T) buffer, where t = 0 meets the
previous example's last row; the last row written to a buffer reused across examples and steps),
one gate's block of them formed from another gate's da (a pasted line), dx formed from the
running dW_ih one example at a time, and the initial states' gradients returned in each other's
place or as the gradient arriving at the first output. The carries are right in all of them:
only what is returned differs."""

import numpy as np

from .diagnose import _finding
from .layouts import CANONICAL_ORDER


def input_candidates(replay):
    """Every candidate above, its values the correct ones with what it changes (one that gives the
    correct numbers on this probe never explains a wrong gradient: the diagnosis matches it only
    against gradients that differ)."""
    whole = getattr(replay, "batch", replay)            # per-example code: the whole batch's run
    run = _per_step(whole)
    if run is None:
        return []
    out = (_reversed(run) + _flat_row_back(whole, run) + _reused_row(run) + _initial_states(whole, run)
           + _dx_from_running(run) + _block_from_another_gate(whole, run))
    return [dict(c, values={**replay.correct, **{q: np.asarray(v, replay.correct[q].dtype)
                                                 for q, v in c["values"].items()}}) for c in out]


def _per_step(replay):
    """(da_ih, da_hh, x, h_prev, each (T, N, .), the textbook's gradients), or None where dW_hh
    does not meet h_(t-1) alone (the reset-before GRU: W_hn meets r h_(t-1))."""
    probe, caches = replay.probe, replay.caches
    if probe.cell == "gru" and not caches[0]["reset_after"]:
        return None
    from .cache_candidates import textbook_run
    grads = textbook_run(replay)
    ih, hh = ("da_x", "da_h") if probe.cell == "gru" else ("da", "da")
    return (np.stack([s[ih] for s in grads["steps"]]), np.stack([s[hh] for s in grads["steps"]]),
            np.stack([c["x"] for c in caches]), np.stack([c["prev_h"] for c in caches]), grads)


def _dW(da, inputs):
    return np.einsum("tng,tnk->gk", da, inputs)


def _reversed(run):
    da_ih, da_hh, x, prev_h, _ = run
    if len(x) < 2:
        return []
    return [{**_finding("wrong_time", "dW_ih formed with the inputs in reverse time order (each step's da paired "
                                      "with x_(T-1-t), as zip(deltas, reversed(xs)) pairs them)"),
             "values": {"dweight_ih": _dW(da_ih, x[::-1])}},
            {**_finding("wrong_time", "dW_hh formed with the states in reverse time order (each step's da paired "
                                      "with h_(T-2-t) (h0 at the last step), as zip(deltas, reversed(hs)) pairs them)"),
             "values": {"dweight_hh": _dW(da_hh, prev_h[::-1])}},
            {**_finding("wrong_time", "dW_ih and dW_hh formed with their inputs in reverse time order (each step's da "
                                      "paired with the mirrored step's x and h_(t-1))"),
             "values": {"dweight_ih": _dW(da_ih, x[::-1]), "dweight_hh": _dW(da_hh, prev_h[::-1])}},
            {**_finding("wrong_time", "every gradient formed after the loop from the list of da in the order it was "
                                      "appended (T-1 .. 0) as if it ran 0 .. T-1: dx in reverse time order, dW_ih and "
                                      "dW_hh paired with the mirrored step's x and h_(t-1)"),
             "values": {"dweight_ih": _dW(da_ih, x[::-1]), "dweight_hh": _dW(da_hh, prev_h[::-1]),
                        "dx": run[4]["dx"][:, ::-1]}}]


def _flat_row_back(replay, run):
    """Code keeping x or the outputs h in one flat (N*T, .) buffer (example-major) that reads the
    row before: x_(t-1), and at t = 0 the previous example's last x (the first wraps to the last
    example's); h_(t-1) right but at t = 0 the previous example's last h where h0 belongs."""
    da_ih, da_hh, x, prev_h, _ = run
    T, N = x.shape[:2]
    if N < 2:
        return []
    flat_x = np.roll(x.transpose(1, 0, 2).reshape(N * T, -1), 1, axis=0).reshape(N, T, -1).transpose(1, 0, 2)
    h = np.concatenate([prev_h[1:], replay.states["h"][:, -1:].transpose(1, 0, 2)])     # h_t of every step (T, N, H)
    flat_h = np.roll(h.transpose(1, 0, 2).reshape(N * T, -1), 1, axis=0).reshape(N, T, -1).transpose(1, 0, 2)
    return [{**_finding("wrong_time", "dW_ih formed with x_(t-1) read one row back in a flat (N*T, D) buffer: at "
                                      "t = 0 the previous example's last x (the first example's wraps to the last "
                                      "example's)", also="wrong_value"),
             "values": {"dweight_ih": _dW(da_ih, flat_x)}},
            {**_finding("wrong_value", "dW_hh formed with h_(t-1) read one row back in a flat (N*T, H) buffer of the "
                                       "outputs: at t = 0 the previous example's last h where h0 belongs (the first "
                                       "example's wraps to the last example's)", also="wrong_time"),
             "values": {"dweight_hh": _dW(da_hh, flat_h)}}]


def _reused_row(run):
    """x_t and h_(t-1) saved for the weight gradients without a copy from one buffer filled for
    each example and step: every one reads the last row written (the last example's at the last
    step)."""
    da_ih, da_hh, x, prev_h, _ = run
    last_x, last_h = x[-1, -1], prev_h[-1, -1]
    both = {"dweight_ih": np.outer(da_ih.sum((0, 1)), last_x), "dweight_hh": np.outer(da_hh.sum((0, 1)), last_h)}
    out = []
    for keys, what in ((("dweight_ih", "dweight_hh"), "[x_t, h_(t-1)]"), (("dweight_ih",), "x_t"),
                       (("dweight_hh",), "h_(t-1)")):
        out.append({**_finding("inplace_corruption", f"every cached {what} is the last one written: one buffer filled "
                                                     "for each example and step (one row at a time) and saved without "
                                                     "a copy, read by the weight gradients"),
                    "values": {q: both[q] for q in keys}})
    return out


def _dx_from_running(run):
    """dx formed with the running dW_ih (summed so far) where W_ih belongs, in loops that walk one
    example at a time: inside each step (examples in order; C and Fortran loops), or every step of
    one example before the next; this example's own term included or not yet added. (dx feeds
    nothing back: the carries stay right. The whole batch a step at a time is a grammar edit.)"""
    da_ih, _, x, _, _ = run
    T, N = x.shape[:2]
    if N < 2:
        return []
    out = []
    for order, what in ((((t, n) for t in reversed(range(T)) for n in range(N)), "examples one at a time inside "
                                                                                  "each step"),
                        (((t, n) for n in range(N) for t in reversed(range(T))), "every step of one example "
                                                                                  "before the next")):
        order = list(order)
        for included in (True, False):
            dx, total = np.zeros(x.shape[:2] + (x.shape[2],)), np.zeros((da_ih.shape[2], x.shape[2]))
            for t, n in order:
                own = np.outer(da_ih[t, n], x[t, n])
                dx[t, n] = da_ih[t, n] @ (total + own if included else total)
                total += own
            which = "this example included" if included else "before this example is added"
            out.append({**_finding("gradient_for_weight", f"the running dW_ih ({which}, {what}) where W_ih belongs in dx"),
                        "values": {"dx": dx.transpose(1, 0, 2)}})
    return out


def _block_from_another_gate(replay, run):
    """One gate's block of dW_ih, dW_hh or the bias formed from another gate's pre-activation
    gradient (a pasted per-gate line not fully edited: ``dW_o += x.T @ da_f``)."""
    da_ih, da_hh, x, prev_h, _ = run
    G = {"lstm": 4, "gru": 3}.get(replay.probe.cell, 1)
    if G == 1:
        return []
    gates, H = CANONICAL_ORDER[replay.probe.cell], da_ih.shape[2] // G
    correct, out = replay.correct, []
    for k, j in ((k, j) for k in range(G) for j in range(G) if k != j):
        rows = slice(k * H, (k + 1) * H)
        other = slice(j * H, (j + 1) * H)
        made = {"dweight_ih": _dW(da_ih[:, :, other], x), "dweight_hh": _dW(da_hh[:, :, other], prev_h),
                "dbias": da_ih[:, :, other].sum((0, 1))}
        for q, block in made.items():
            keys = (q,) if q != "dbias" else ("dbias_ih",) if replay.probe.cell == "gru" else ("dbias_ih", "dbias_hh")
            if not all(key in correct for key in keys):
                continue
            values = {}
            for key in keys:
                values[key] = np.array(correct[key], copy=True)
                values[key][rows] = block
            out.append({**_finding("wrong_value", f"the {gates[k]} gate's block of d{q[1:].replace('weight', 'W')} "
                                                  f"formed from the {gates[j]} gate's pre-activation gradient (a "
                                                  "pasted per-gate line not fully edited)", gates=gates[k]),
                        "values": values})
    return out


def _initial_states(replay, run):
    """dh0 (dc0) returned as the gradient arriving at the first output (step 0's dL/dh_0, its
    upstream plus the carry) where what step 0 carries back belongs; dh0 and dc0 swapped."""
    correct, cell, grads = replay.correct, replay.probe.cell, run[4]
    out = [{**_finding("wrong_value", "dh0 returned as the gradient arriving at the first output h_0 (its upstream "
                                      "plus the carry from step 1) where what step 0 carries back into the initial "
                                      "state belongs"),
            "values": {"dh0": grads["dh_total"][:, 0]}}] if "dh0" in correct else []
    if cell == "lstm" and "dc0" in correct and "dh0" in correct:
        out.append({**_finding("wrong_value", "dh0 and dc0 returned in each other's place"),
                    "values": {"dh0": correct["dc0"], "dc0": correct["dh0"]}})
        out.append({**_finding("wrong_value", "dc0 returned as the gradient arriving at c_0 (step 0's, through h_0 "
                                              "and the carry) where what step 0 carries back belongs: its factor f_0 "
                                              "left out", also="derivative_missing"),
                    "values": {"dc0": grads["dc_total"][:, 0]}})
    return out

