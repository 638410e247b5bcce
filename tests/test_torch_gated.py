"""LSTM and GRU against every torch backend, and gate-level localization."""

import itertools

import numpy as np
import pytest

import harness
from harness.backends import torch_backend

pytest.importorskip("torch")

VARIANTS = [("lstm", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {}), ("gru", {"reset_after": False})]


def _id(cell, opts):
    return cell + "".join(f"-{k}={v}" for k, v in opts.items())


CASES = [pytest.param(cell, opts, L, backend, dtype, id=f"{_id(cell, opts)}-L{L}-{backend}-{dtype}")
         for (cell, opts), L, dtype in itertools.product(VARIANTS, (1, 2, 3), ("float64", "float32"))
         for backend in torch_backend.backend_names(cell)]


@pytest.mark.parametrize("cell, opts, layers, backend, dtype", CASES)
def test_reference_matches_torch(cell, opts, layers, backend, dtype):
    if opts.get("reset_after") is False and backend != "torch.functional":
        # torch's GRU modules apply the reset after the matmul: refused, never approximated
        with pytest.raises(harness.HarnessError, match="reset_after=False.*no exact torch form"):
            harness.compare(cell, backends=(backend,), layers=layers, dtype=dtype, **opts)
        return
    report = harness.compare(cell, backends=(backend,), layers=layers, dtype=dtype, steps=5, **opts)
    assert report.ok, report.summary()
    seen = set(zip(report.compared["quantity"], report.compared["layer"]))
    for k in range(layers):
        assert {("h", k), ("dh0", k), ("dweight_hh", k)} <= seen
        if cell == "lstm":
            assert {("c", k), ("dc0", k)} <= seen
    if backend.endswith("Cell") or backend == "torch.functional":
        gates = set(report.compared.loc[report.compared["quantity"] == "dweight_hh", "gate"])
        assert gates == set(harness.cells.GATES[cell])
        assert ("dc_total" in set(report.compared["quantity"])) == (cell == "lstm")


def _swap_blocks(arr, a, b, G, axis):
    parts = np.split(np.array(arr), G, axis=axis)
    parts[a], parts[b] = parts[b], parts[a]
    return np.concatenate(parts, axis=axis)


@pytest.fixture
def lstm_backward_with_f_and_g_swapped(monkeypatch):
    """A reference LSTM backward that writes the f and g gate blocks of its gradients swapped."""
    from reference_impls.fast import lstm
    original = lstm.lstm_backward

    def backward(dh, cache, dc_n=None):
        g = original(dh, cache, dc_n=dc_n)
        for k in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"):
            g[k] = _swap_blocks(g[k], 1, 2, 4, axis=0)
        g["da"] = _swap_blocks(g["da"], 1, 2, 4, axis=-1)
        return g

    monkeypatch.setattr(lstm, "lstm_backward", backward)


def test_swapped_f_and_g_blocks_fail_as_exactly_those_gates(lstm_backward_with_f_and_g_swapped):
    report = harness.compare("lstm", layers=2, backends=("torch.nn.LSTMCell",))
    assert not report.ok
    failing = report.table[report.table["status"] == "FAIL"]
    assert set(failing["gate"]) == {"f", "g"}
    assert set(failing["quantity"]) <= {"dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"}
    first = report.first_mismatch()
    assert first["gate"] in ("f", "g") and f"gate {first['gate']}" in report.summary()


def test_forward_gate_swap_shows_in_the_states_at_the_first_step(monkeypatch):
    from reference_impls.fast import lstm
    original = lstm.lstm_forward

    def forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, forget_bias=0.0):
        sw = {k: _swap_blocks(v, 1, 2, 4, axis=0) for k, v in
              dict(weight_ih=weight_ih, weight_hh=weight_hh, bias_ih=bias_ih, bias_hh=bias_hh).items()}
        return original(x, h0, c0, **sw, forget_bias=forget_bias)

    monkeypatch.setattr(lstm, "lstm_forward", forward)
    first = harness.compare("lstm", backends=("torch.nn.LSTM",)).first_mismatch()
    assert (first["quantity"], first["layer"], first["step"]) in {("h", 0, 0), ("c", 0, 0)}
    # where gate values are observable, the swap is named: exactly f and g, at the first step
    t = harness.compare("lstm", backends=("torch.nn.LSTMCell",)).table
    step0 = t[(t["quantity"] == "gates") & (t["layer"] == 0) & (t["step"] == 0)]
    assert set(step0.loc[step0["status"] == "FAIL", "gate"]) == {"f", "g"}


@pytest.mark.parametrize("backend", ["torch.nn.LSTMCell", "torch.nn.LSTM-layerwise"])
def test_forgotten_forget_bias_in_the_torch_conversion_fails_as_gate_f(monkeypatch, backend):
    """Folding forget_bias into torch's b_ih is what makes the conversion exact. Drop it: at
    layer 0, step 0 exactly the f gate's values differ, and that is the first divergence
    (later everything differs, since h does)."""
    from harness.backends import torch_backend as tb
    monkeypatch.setattr(tb, "fold_options", lambda cell, p, options: dict(p))
    report = harness.compare("lstm", forget_bias=1.0, layers=2, backends=(backend,))
    first = report.first_mismatch()
    assert (first["quantity"], first["layer"], first["step"], first["gate"]) == ("gates", 0, 0, "f")
    t = report.table
    step0 = t[(t["quantity"] == "gates") & (t["layer"] == 0) & (t["step"] == 0)]
    assert set(step0.loc[step0["status"] == "FAIL", "gate"]) == {"f"}
    assert "gate f" in report.summary()
