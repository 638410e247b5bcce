"""The reference RNN on its own: known numbers (seed 004), finite differences, contracts."""

import numpy as np
import pytest

from reference_impls.fast import rnn
from reference_impls.stack import stack_backward, stack_forward

# Seed 004: 2 inputs, 2 hidden units, every weight 1, biases 0, inputs [1,1],[1,1],[2,2],
# then a linear output layer with every weight 1.
SEED004_X = np.array([[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]])            # (N=1, T=3, D=2)
SEED004 = {
    "identity": ([2.0, 6.0, 16.0], [4.0, 12.0, 32.0]),
    "tanh": ([0.9640275800758169, 0.9992255445668126, None],
             [1.9280551601516338, 1.9984510891336251, 1.9999753470497836]),
}


def seed004_forward(activation):
    ones = np.ones((2, 2))
    h, _ = rnn.rnn_forward(SEED004_X, np.zeros((1, 2)), ones, ones, np.zeros(2), np.zeros(2), activation)
    y = h @ ones.T                                           # linear output layer, all weights 1
    return h, y


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_seed004_known_numbers(activation):
    h, y = seed004_forward(activation)
    states, outputs = SEED004[activation]
    np.testing.assert_allclose(y[0, :, 0], outputs, rtol=1e-15)
    np.testing.assert_allclose(y[0, :, 1], outputs, rtol=1e-15)
    for t, s in enumerate(states):
        if s is not None:
            np.testing.assert_allclose(h[0, t], [s, s], rtol=1e-15)


def test_seed004_same_with_torch_rnncell():
    torch = pytest.importorskip("torch")
    cell = torch.nn.RNNCell(2, 2, dtype=torch.float64)
    for name, p in cell.named_parameters():
        torch.nn.init.ones_(p) if name.startswith("weight") else torch.nn.init.zeros_(p)
    h = torch.zeros(1, 2, dtype=torch.float64)
    ys = []
    for t in range(3):
        h = cell(torch.tensor(SEED004_X[:, t]), h)
        ys.append(h.sum(dim=1).item())                     # linear layer with weights 1
    np.testing.assert_allclose(ys, SEED004["tanh"][1], rtol=1e-15)


def _random_layer(rng, N=3, T=4, D=3, H=4, bias=True):
    p = {"weight_ih": rng.uniform(-.6, .6, (H, D)), "weight_hh": rng.uniform(-.6, .6, (H, H))}
    if bias:
        p.update(bias_ih=rng.uniform(-.5, .5, H), bias_hh=rng.uniform(-.5, .5, H))
    return rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), p


def _numeric_grad(f, arr, eps=1e-6):
    g = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + eps
        fp = f()
        arr[i] = old - eps
        fm = f()
        arr[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("bias", [True, False])
def test_backward_matches_finite_differences(rng, activation, bias):
    x, h0, p = _random_layer(rng, bias=bias)
    dh = rng.standard_normal((3, 4, 4))
    h, cache = rnn.rnn_forward(x, h0, **p, activation=activation)
    grads = rnn.rnn_backward(dh, cache)

    def loss():
        return float((rnn.rnn_forward(x, h0, **p, activation=activation)[0] * dh).sum())

    for name, arr in [("dx", x), ("dh0", h0)] + [(f"d{k}", v) for k, v in p.items()]:
        np.testing.assert_allclose(grads[name], _numeric_grad(loss, arr), atol=1e-7, rtol=1e-6,
                                   err_msg=name)


def test_step_contributions_sum_to_totals(rng):
    x, h0, p = _random_layer(rng)
    h, cache = rnn.rnn_forward(x, h0, **p)
    grads = rnn.rnn_backward(rng.standard_normal(h.shape), cache)
    for name, per_step in rnn.rnn_step_param_grads(grads, cache).items():
        assert per_step.shape == (x.shape[1],) + grads[name].shape
        np.testing.assert_allclose(per_step.sum(axis=0), grads[name], atol=1e-13)


def test_total_adjoint_includes_the_carry(rng):
    """dh_total[t] = dh[t] + da[t+1] @ W_hh; at the last step there is no carry."""
    x, h0, p = _random_layer(rng)
    h, cache = rnn.rnn_forward(x, h0, **p)
    dh = rng.standard_normal(h.shape)
    g = rnn.rnn_backward(dh, cache)
    np.testing.assert_array_equal(g["dh_total"][:, -1], dh[:, -1])
    np.testing.assert_allclose(g["dh_total"][:, 1], dh[:, 1] + g["da"][:, 2] @ p["weight_hh"], atol=1e-14)


def test_float32_stays_float32(rng):
    x, h0, p = _random_layer(rng)
    f32 = {k: v.astype(np.float32) for k, v in p.items()}
    h, cache = rnn.rnn_forward(x.astype(np.float32), h0.astype(np.float32), **f32, activation="sigmoid")
    grads = rnn.rnn_backward(np.ones(h.shape, np.float32), cache)
    assert h.dtype == np.float32
    assert all(v.dtype == np.float32 for v in grads.values())


def test_stack_does_not_modify_its_inputs(rng):
    x, h0, p = _random_layer(rng, D=4)
    layers = [p, {k: v.copy() for k, v in p.items()}]
    state0 = {"h": np.stack([h0, h0])}
    dout, dn = rng.standard_normal((3, 4, 4)), {"h": rng.standard_normal((2, 3, 4))}
    before = [a.copy() for a in (x, state0["h"], dout, dn["h"])]
    states, caches = stack_forward("rnn", x, state0, layers, activation="tanh")
    stack_backward("rnn", dout, dn, caches)
    for a, b in zip((x, state0["h"], dout, dn["h"]), before):
        np.testing.assert_array_equal(a, b)
