"""Weights both ways between torch and the canonical layout, every copied shape checked."""

import numpy as np
import pytest

import harness
from harness.errors import LayoutError
from harness.layouts.torch_layout import from_torch, to_torch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("cls, cell", [("RNN", "rnn"), ("LSTM", "lstm"), ("GRU", "gru")])
def test_round_trip_through_a_fused_module(cls, cell):
    m = getattr(torch.nn, cls)(4, 5, num_layers=2, dtype=torch.float64)
    params = from_torch(m)
    assert params["weight_ih_l1"].shape == (harness.cells.num_gates(cell) * 5, 5)
    fresh = getattr(torch.nn, cls)(4, 5, num_layers=2, dtype=torch.float64)
    to_torch(params, fresh)
    for (n, a), (_, b) in zip(m.named_parameters(), fresh.named_parameters()):
        assert torch.equal(a, b), n


@pytest.mark.parametrize("cls, cell", [("RNN", "rnn"), ("LSTM", "lstm"), ("GRU", "gru")])
def test_exported_torch_model_computes_what_the_model_computes(cls, cell):
    """Weights exported from a torch model give the reference that model's own outputs (the
    model itself runs, not a copy loaded back through our table)."""
    from reference_impls.stack import stack_forward
    torch.manual_seed(0)
    m = getattr(torch.nn, cls)(4, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    params = from_torch(m)
    x = np.random.default_rng(0).standard_normal((3, 6, 4))
    out, _ = m(torch.tensor(x))
    states0 = {s: np.zeros((2, 3, 5)) for s in harness.cells.STATES[cell]}
    layers = [harness.cells.split_layer(params, k) for k in range(2)]
    states, _ = stack_forward(cell, x, states0, layers, **harness.cells.cell_options(cell))
    np.testing.assert_allclose(states[-1]["h"], out.detach().numpy(), rtol=0, atol=1e-12)


def test_cell_round_trip_and_shape_check():
    cell = torch.nn.RNNCell(3, 2, dtype=torch.float64)
    params = from_torch(cell)
    assert set(params) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    params["weight_ih_l0"] = params["weight_ih_l0"].T                 # (3, 2) instead of (2, 3)
    with pytest.raises(LayoutError, match=r"weight_ih: torch expects shape \(2, 3\), canonical weight has \(3, 2\)"):
        to_torch(params, torch.nn.RNNCell(3, 2, dtype=torch.float64))


def test_export_copies():
    m = torch.nn.GRU(2, 3, dtype=torch.float64)
    params = from_torch(m)
    params["weight_hh_l0"][:] = 0
    assert m.weight_hh_l0.abs().sum() > 0


def test_params_with_the_transposed_shape_are_refused_with_a_hint():
    with pytest.raises(harness.HarnessError, match="that is the transpose"):
        harness.compare("rnn", params={"weight_ih_l0": np.zeros((4, 5)), "weight_hh_l0": np.zeros((5, 5)),
                                       "bias_ih_l0": np.zeros(5), "bias_hh_l0": np.zeros(5)})
