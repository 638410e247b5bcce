"""The textbook cells (reference_impls/{rnn,lstm,gru}.py) and the fast drivers the harness
runs (reference_impls/fast) compute the same numbers: every state, gate, total adjoint,
gradient and per-step weight contribution, float64, to 1e-12."""

import numpy as np
import pytest

from reference_impls import gru, lstm, rnn
from reference_impls.stack import CELLS, stack_backward, stack_forward

TEXTBOOK = {"rnn": rnn, "lstm": lstm, "gru": gru}
CASES = [("rnn", {"activation": a}) for a in ("tanh", "relu", "sigmoid", "identity")] + [
    ("lstm", {"forget_bias": 0.0}), ("lstm", {"forget_bias": 1.0}),
    ("gru", {"reset_after": True}), ("gru", {"reset_after": False})]


def _probe(cell, bias, seed=0, N=3, T=6, D=4, H=5):
    rng = np.random.default_rng(seed)
    G = len(CELLS[cell].gates)
    p = {"weight_ih": rng.uniform(-0.6, 0.6, (G * H, D)), "weight_hh": rng.uniform(-0.6, 0.6, (G * H, H))}
    if bias:
        p.update(bias_ih=rng.uniform(-0.5, 0.5, G * H), bias_hh=rng.uniform(-0.5, 0.5, G * H))
    states = {s: rng.standard_normal((N, H)) for s in CELLS[cell].states}
    return p, rng.standard_normal((N, T, D)), states, rng.standard_normal((N, T, H)), rng.standard_normal((N, H))


def _textbook(cell, p, x, s0, dh, dc_n, options):
    book = TEXTBOOK[cell]
    if cell == "lstm":
        h, c, caches = book.forward(x, s0["h"], s0["c"], p, **options)
        return {"h": h, "c": c}, caches, book.backward(dh, caches, dc_n=dc_n)
    h, caches = book.forward(x, s0["h"], p, **options)
    return {"h": h}, caches, book.backward(dh, caches)


def _close(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, what
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell,options", CASES, ids=[f"{c}-{list(o.values())[0]}" for c, o in CASES])
def test_textbook_equals_fast(cell, options, bias):
    p, x, s0, dh, dc_n = _probe(cell, bias)
    states, caches, grads = _textbook(cell, p, x, s0, dh, dc_n, options)
    fast_states, fast_caches = stack_forward(cell, x, {k: v[None] for k, v in s0.items()}, [p], **options)
    dstate_n = {"h": np.zeros((1,) + dc_n.shape), "c": dc_n[None]}
    fast = stack_backward(cell, dh, {k: dstate_n[k] for k in CELLS[cell].states}, fast_caches)[0]
    for s in CELLS[cell].states:
        _close(states[s], fast_states[0][s], s)
        _close(grads[f"d{s}_total"], fast[f"d{s}_total"], f"d{s}_total")
        _close(grads[f"d{s}0"], fast[f"d{s}0"], f"d{s}0")
    names = ["dx", "dweight_ih", "dweight_hh"] + (["dbias_ih", "dbias_hh"] if bias else [])
    assert set(names) <= set(grads) and (bias or "dbias_ih" not in grads)
    for name in names:
        _close(grads[name], fast[name], name)
    per_step = CELLS[cell].step_param_grads(fast, fast_caches[0])
    book_names = {"dweight_ih": "dW_ih", "dweight_hh": "dW_hh", "dbias_ih": "db_ih" if cell == "gru" else "db",
                  "dbias_hh": "db_hh" if cell == "gru" else "db"}
    for name in names[1:]:
        _close(np.stack([step[book_names[name]] for step in grads["steps"]]), per_step[name], f"per-step {name}")
    gates = CELLS[cell].gate_values(fast_caches[0])
    if gates is not None:
        letters = CELLS[cell].gates
        _close(np.stack([np.concatenate([c[g] for g in letters], axis=1) for c in caches], axis=1), gates, "gates")


def test_textbook_backward_is_the_derivative_of_its_forward():
    """Central differences of <h, dh> (+ <c_T, dc_n>) through the textbook forward alone."""
    for cell, options in CASES:
        p, x, s0, dh, dc_n = _probe(cell, True, seed=3, T=4)
        _, _, grads = _textbook(cell, p, x, s0, dh, dc_n, options)

        def loss(q):
            states, _, _ = _textbook(cell, q, x, s0, dh, dc_n, options)
            extra = (states["c"][:, -1] * dc_n).sum() if cell == "lstm" else 0.0
            return (states["h"] * dh).sum() + extra
        for name in ("weight_hh", "bias_hh"):
            v = np.random.default_rng(1).standard_normal(p[name].shape)
            eps = 1e-6
            up, down = dict(p), dict(p)
            up[name], down[name] = p[name] + eps * v, p[name] - eps * v
            fd = (loss(up) - loss(down)) / (2 * eps)
            assert abs(fd - (grads[f"d{name}"] * v).sum()) < 1e-7 * max(1.0, abs(fd)), (cell, options, name)
