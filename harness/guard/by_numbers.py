"""Forward mistakes whose backward the user derived correctly, matched without a backward.

A user whose forward computes something else (a bias term dropped, a hard sigmoid, another
gate's value in c_t) and whose backward is the exact gradient of that forward has made one
mistake, in the forward. The grammar plants such mistakes into the textbook's
``step_forward`` (``Edit.by_numbers``); a candidate names the user's mistake when

    1. the mistaken forward reproduces the user's h at every step, and
    2. the user's gradients are the gradients of that mistaken forward: checked along two
       random directions per gradient by central finite differences of the loss
       <h, dh> (harness.backends.numeric.directional), at the finite-difference tolerance
       (coarser when the user's code computes in float32).

So no backward has to be written for a forward mistake. A forward mistake whose backward is
the textbook's own (run on the mistaken forward's values, not following the mistake) is
matched by replaying it; any other backward mistake on top (two at once) stays "unknown cause".
"""


import numpy as np

from ..backends import numeric
from .precision import numeric_tol

NAMES = {"dx": "x", "dh0": "h0", "dc0": "c0", "dweight_ih": "weight_ih", "dweight_hh": "weight_hh",
         "dbias_ih": "bias_ih", "dbias_hh": "bias_hh"}


def forward_findings(book, probe, user, tol, edits, close):
    """[(edit, candidate h, consistent)] for the ``edits`` (by_numbers) that explain the user's
    forward; ``consistent``: the user's gradients are that forward's (checked by finite
    differences). ``close(expected, got, tol)``: the closeness test."""
    state0 = {s: v[0] for s, v in probe.state0.items()}
    params = probe.layer_params(0)
    found = []
    for edit in edits:
        states, _ = book.forward(probe.x, state0, params, probe.options, edit)
        if states is None or not close(states["h"], user["h"], tol):
            continue
        found.append((edit, states["h"], _gradients_agree(book, edit, probe, user, tol)))
    return found


def _gradients_agree(book, edit, probe, user, tol):
    low = tol.atol > numeric.ATOL * 10                     # the user's code computes in float32
    arrays = {"x": probe.x, "h0": probe.state0["h"][0], **probe.layer_params(0)}
    if "c" in probe.state0:
        arrays["c0"] = probe.state0["c"][0]
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    wanted = {q: name for q, name in NAMES.items() if q in user and name in arrays}
    if not wanted:
        return False

    def loss(a):
        state0 = {"h": a["h0"], **({"c": a["c0"]} if "c0" in a else {})}
        params = {k: a[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if k in a}
        states, _ = book.forward(a["x"], state0, params, probe.options, edit)
        return np.nan if states is None else float((states["h"] * probe.dout).sum())
    result = numeric.directional(loss, arrays, {q: (name, ...) for q, name in wanted.items()},
                                 np.random.default_rng(probe.seed), eps=3e-3 if low else numeric.EPS)
    fd_tol = numeric_tol(low)
    for q, (dirs, derivs) in result.items():
        mine = np.array([np.tensordot(v, user[q], axes=v.ndim) for v in dirs])
        if not np.all(np.abs(mine - derivs) <= fd_tol.atol + fd_tol.rtol * np.abs(derivs)):
            return False
    return True
