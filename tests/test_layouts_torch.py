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


def test_exported_torch_model_matches_the_reference():
    """A model built in torch, exported into the reference, gives the same gradients."""
    torch.manual_seed(0)
    m = torch.nn.RNN(4, 5, num_layers=2, dtype=torch.float64)
    report = harness.compare("rnn", layers=2, params=from_torch(m), backends=("torch.nn.RNN",))
    assert report.ok, report.summary()


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
