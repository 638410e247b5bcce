"""Shared fixtures and seeds for the gradharness test suite."""

import numpy as np
import pytest

# One seed for every random probe in the suite; tests that need several use SEEDS.
SEED = 0
SEEDS = (0, 1, 2)


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


@pytest.fixture
def strict_numpy():
    """Turn NumPy floating-point warnings (overflow, invalid) into errors inside a test."""
    with np.errstate(all="raise"):
        yield


@pytest.fixture
def broken_transpose(monkeypatch):
    """The reference RNN with seed 003's bug: W_hh not transposed when the gradient is
    carried back to the previous step (dh_prev = da @ W_hh.T instead of da @ W_hh)."""
    from reference_impls.fast import rnn
    original = rnn.rnn_backward

    def backward(dh, cache):
        x, h0, h, w_ih, w_hh, *rest = cache
        return original(dh, (x, h0, h, w_ih, w_hh.T, *rest))

    monkeypatch.setattr(rnn, "rnn_backward", backward)
    return backward


pytest_plugins = ["pytester"]
