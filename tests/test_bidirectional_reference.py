"""The reference for the layers people ship: the textbook LSTM with peepholes, clips and a
projection (reference_impls/lstm_proj.py) and bidirectional stacks over padded batches
(reference_impls/bidirectional.py), checked against central differences of their own
forward and against the plain cells they extend."""

import itertools

import numpy as np
import pytest

from reference_impls import lstm, lstm_proj
from reference_impls.bidirectional import MERGES, layer_forward, seq_backward, seq_forward
from reference_impls.stack import CELLS, stack_backward, stack_forward

N, T, D, H = 3, 6, 4, 5
LENGTHS = np.array([4, 6, 2])
VARIANTS = [("rnn", {"activation": "tanh"}), ("lstm", {"forget_bias": 1.0}), ("gru", {"reset_after": True}),
            ("gru", {"reset_after": False})]


def _params(rng, cell, D, P=None, peepholes=False):
    G = len(CELLS[cell].gates)
    p = {"weight_ih": rng.uniform(-0.6, 0.6, (G * H, D)), "weight_hh": rng.uniform(-0.6, 0.6, (G * H, P or H)),
         "bias_ih": rng.uniform(-0.5, 0.5, G * H), "bias_hh": rng.uniform(-0.5, 0.5, G * H)}
    if P:
        p["weight_hr"] = rng.uniform(-0.6, 0.6, (P, H))
    if peepholes:
        p.update({n: rng.uniform(-0.6, 0.6, H) for n in lstm_proj.PEEPHOLES})
    return p


def _directional_fd(loss, arrays, grads, rng, eps=1e-6):
    """<grad, v> against (loss(a + eps v) - loss(a - eps v)) / 2 eps for each array."""
    for name, a in arrays.items():
        v = rng.standard_normal(np.shape(a))
        up, down = dict(arrays), dict(arrays)
        up[name], down[name] = a + eps * v, a - eps * v
        fd = (loss(up) - loss(down)) / (2 * eps)
        assert abs(fd - (grads[name] * v).sum()) < 1e-6 * max(1.0, abs(fd)), name


@pytest.mark.parametrize("extras", [dict(P=3), dict(peepholes=True), dict(P=3, peepholes=True),
                                    dict(P=3, peepholes=True, cell_clip=0.6, proj_clip=0.4)],
                         ids=["proj", "peepholes", "proj+peepholes", "proj+peepholes+clips"])
def test_lstm_proj_backward_is_the_derivative_of_its_forward(extras):
    rng = np.random.default_rng(0)
    P = extras.get("P")
    p = _params(rng, "lstm", D, P, extras.get("peepholes", False))
    clips = {k: extras[k] for k in ("cell_clip", "proj_clip") if k in extras}
    x, h0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, P or H)), rng.standard_normal((N, H))
    dh, dc_n = rng.standard_normal((N, T, P or H)), rng.standard_normal((N, H))

    def loss(a):
        h, c, _ = lstm_proj.forward(a["x"], a["h0"], a["c0"], {k: a[k] for k in p}, 1.0, **clips)
        return (h * dh).sum() + (c[:, -1] * dc_n).sum()
    h, c, caches = lstm_proj.forward(x, h0, c0, p, 1.0, **clips)
    g = lstm_proj.backward(dh, caches, dc_n=dc_n)
    if clips:                                   # the clips are active somewhere: they matter here
        assert (np.abs(c) >= clips["cell_clip"] - 1e-12).any() and (np.abs(h) >= clips["proj_clip"] - 1e-12).any()
    grads = {"x": g["dx"], "h0": g["dh0"], "c0": g["dc0"], **{k: g[f"d{k}"] for k in p}}
    _directional_fd(loss, {"x": x, "h0": h0, "c0": c0, **p}, grads, rng)
    per_step = lstm_proj.step_param_grads(g, caches)
    for name, steps in per_step.items():
        np.testing.assert_allclose(steps.sum(axis=0), g[name], rtol=0, atol=1e-12)


def test_lstm_proj_without_extras_is_the_plain_textbook_lstm():
    rng = np.random.default_rng(1)
    p = _params(rng, "lstm", D)
    x, h0, c0, dh = (rng.standard_normal(s) for s in ((N, T, D), (N, H), (N, H), (N, T, H)))
    h, c, caches = lstm_proj.forward(x, h0, c0, p, 0.5)
    h2, c2, caches2 = lstm.forward(x, h0, c0, p, 0.5)
    g, g2 = lstm_proj.backward(dh, caches), lstm.backward(dh, caches2)
    np.testing.assert_allclose(h, h2, rtol=0, atol=1e-12)
    for name in ("dx", "dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dh_total", "dc_total"):
        np.testing.assert_allclose(g[name], g2[name], rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(lstm_proj.gate_values(caches),
                               np.stack([np.concatenate([c_[k] for k in "ifgo"], 1) for c_ in caches2], 1), atol=1e-12)


@pytest.mark.parametrize("cell, options", VARIANTS, ids=[f"{c}-{list(o.values())[0]}" for c, o in VARIANTS])
def test_one_direction_full_length_is_the_plain_stack(cell, options):
    rng = np.random.default_rng(2)
    layers = [[_params(rng, cell, D)], [_params(rng, cell, H)]]
    s0 = {s: rng.standard_normal((2, N, H)) for s in CELLS[cell].states}
    x, dout = rng.standard_normal((N, T, D)), rng.standard_normal((N, T, H))
    dn = {s: rng.standard_normal((2, N, H)) for s in s0}
    run = seq_forward(cell, x, np.full(N, T), s0, layers, **options)
    grads, dx = seq_backward(run, dout, dn)
    states, caches = stack_forward(cell, x, s0, [lp[0] for lp in layers], **options)
    plain = stack_backward(cell, dout, dn, caches)
    for k in range(2):
        for s in CELLS[cell].states:
            np.testing.assert_allclose(run.states[k][0][s], states[k][s], rtol=0, atol=1e-12)
        for name in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh", "dh0", "dh_total"):
            np.testing.assert_allclose(grads[k][0][name], plain[k][name], rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dx, plain[0]["dx"], rtol=0, atol=1e-12)


def test_the_reverse_direction_reads_each_sequence_reversed_within_its_own_length():
    rng = np.random.default_rng(3)
    p = _params(rng, "rnn", D)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    states, final, _, _ = layer_forward("rnn", x, LENGTHS, {"h": h0}, p, reverse=True, activation="tanh")
    for n, L in enumerate(LENGTHS):
        alone, _ = CELLS["rnn"].forward(x[n:n + 1, :L][:, ::-1], (h0[n:n + 1],), p, activation="tanh")
        np.testing.assert_allclose(states["h"][n, :L], alone["h"][0, ::-1], rtol=0, atol=1e-14)
        assert not states["h"][n, L:].any()                          # padded steps hold no state
        np.testing.assert_allclose(final["h"][n], alone["h"][0, -1], rtol=0, atol=1e-14)   # after input step 0
    wrong, _ = CELLS["rnn"].forward(x[2:3, ::-1], (h0[2:3],), p, activation="tanh")      # over the padded length
    assert np.abs(wrong["h"][0, ::-1][:LENGTHS[2]] - states["h"][2, :LENGTHS[2]]).max() > 1e-3


CASES = [(cell, options, merge, stacking) for (cell, options), merge, stacking in itertools.product(
    VARIANTS[:3], [m for m in MERGES if m != "none"], ("interleaved", "separate"))]


@pytest.mark.parametrize("cell, options, merge, stacking", CASES,
                         ids=[f"{c}-{m}-{s}" for c, _, m, s in CASES])
def test_bidirectional_padded_stack_backward_is_the_derivative_of_its_forward(cell, options, merge, stacking):
    rng = np.random.default_rng(4)
    L, Dn = 2, 2
    M = 2 * H if merge == "concat" else H
    inputs = [D, H if stacking == "separate" else M]
    layers = [[_params(rng, cell, inputs[k]) for _ in range(Dn)] for k in range(L)]
    s0 = {s: rng.standard_normal((L * Dn, N, H)) for s in CELLS[cell].states}
    dn = {s: rng.standard_normal((L * Dn, N, H)) for s in s0}
    x = rng.standard_normal((N, T, D))
    mask = np.arange(T)[None] < LENGTHS[:, None]
    dout = rng.standard_normal((N, T, M)) * mask[..., None]

    def loss(a):
        lp = [[{n: a[f"{n}{k}{d}"] for n in layers[k][d]} for d in range(Dn)] for k in range(L)]
        run = seq_forward(cell, a["x"], LENGTHS, s0, lp, Dn, merge, stacking, **options)
        return (run.outputs[-1] * dout).sum() + sum((run.finals[k][d][s] * dn[s][k * Dn + d]).sum()
                                                    for k in range(L) for d in range(Dn) for s in s0)
    run = seq_forward(cell, x, LENGTHS, s0, layers, Dn, merge, stacking, **options)
    grads, dx = seq_backward(run, dout, dn)
    arrays = {"x": x, **{f"{n}{k}{d}": v for k in range(L) for d in range(Dn) for n, v in layers[k][d].items()}}
    flat = {"x": dx, **{f"{n}{k}{d}": grads[k][d][f"d{n}"] for k in range(L) for d in range(Dn)
                        for n in layers[k][d]}}
    _directional_fd(loss, arrays, flat, rng)
    assert not dx[~mask].any()                                       # the padding never matters
    assert not run.outputs[-1][~mask].any()
    for k, d in itertools.product(range(L), range(Dn)):
        for name, steps in grads[k][d]["steps"].items():
            np.testing.assert_allclose(steps.sum(axis=0), grads[k][d][name], rtol=0, atol=1e-12)
