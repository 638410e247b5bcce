"""The vanilla RNN against every torch backend: activations x layers x bias x backends x dtypes."""

import itertools

import numpy as np
import pytest

import harness
from harness.backends import torch_backend

pytest.importorskip("torch")

ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
BACKENDS = torch_backend.backend_names("rnn")
CASES = [
    pytest.param(act, L, bias, backend, dtype,
                 id=f"rnn-{act}-L{L}{'' if bias else '-nobias'}-{backend}-{dtype}")
    for act, L, bias, backend, dtype in itertools.product(
        ACTIVATIONS, (1, 2, 3), (True, False), BACKENDS, ("float64", "float32"))
    if backend == "torch.functional" or act in ("tanh", "relu")
]

# What each backend can observe (the rest is reported "not compared").
PER_STEP_EVERYWHERE = {"torch.nn.RNNCell", "torch.functional"}


@pytest.mark.parametrize("activation, layers, bias, backend, dtype", CASES)
def test_reference_matches_torch(activation, layers, bias, backend, dtype):
    report = harness.compare("rnn", backends=(backend,), layers=layers, activation=activation,
                             bias=bias, dtype=dtype, steps=6)
    assert report.ok, report.summary()
    compared = report.compared
    T = 6
    # Every layer's state at the last step, and every input gradient, were compared.
    seen = set(zip(compared["quantity"], compared["layer"], compared["step"].fillna(-1)))
    for k in range(layers):
        assert ("h", k, T - 1) in seen
        assert ("dh0", k, -1) in seen and ("dweight_hh", k, -1) in seen
    assert all(("dx", 0, t) in seen for t in range(T))
    if backend in PER_STEP_EVERYWHERE:
        for k, t in itertools.product(range(layers), range(T)):
            for q in ("h", "dh_total", "dweight_ih", "dweight_hh") + (("dbias_ih",) if bias else ()):
                assert (q, k, t) in seen, (q, k, t)
        assert not (report.table["status"] == "not compared").any()


def test_default_three_layer_report_covers_every_layer_and_step():
    report = harness.compare("rnn", layers=3)
    assert report.ok
    cell = report.compared[report.compared["backend"] == "torch.nn.RNNCell"]
    grid = cell[cell["quantity"] == "dh_total"].groupby("layer")["step"].nunique()
    assert grid.to_dict() == {0: 10, 1: 10, 2: 10}
    assert set(report.table["backend"]) == set(BACKENDS)


def test_unsupported_activation_is_skipped_with_reason():
    report = harness.compare("rnn", activation="sigmoid")
    skipped = report.table[report.table["status"] == "skipped"]
    assert set(skipped["backend"]) == {"torch.nn.RNN", "torch.nn.RNN-layerwise", "torch.nn.RNNCell"}
    assert skipped["note"].str.contains("only tanh and relu").all()
    assert report.ok


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_untied_step_contributions_sum_to_the_fused_gradient(cell):
    """Sum over t of autograd's per-step contributions (untied cells) == the fused module's
    shared-weight gradient, compared directly, not through the reference."""
    from harness.probe import make_probe
    probe = make_probe(cell, layers=2, steps=5)
    names = torch_backend.backend_names(cell)
    untied, fused = torch_backend.run(names[2], probe), torch_backend.run(names[0], probe)
    for k in range(2):
        for q in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"):
            steps = sum(untied.values[(q, k, t)] for t in range(5))
            np.testing.assert_allclose(steps, fused.values[(q, k, None)], rtol=0, atol=1e-12, err_msg=(q, k))


def test_broken_transpose_is_located(broken_transpose):
    report = harness.compare("rnn", layers=3)
    assert not report.ok
    first = report.first_mismatch()
    # Backprop runs top layer first, from the last step back; the carry is first used at T-2.
    assert (first["quantity"], first["layer"], first["step"]) == ("dh_total", 2, 8)
    summary = report.summary()
    assert "dh_total" in summary and "step 8" in summary and "layer 2" in summary
    # Forward states are untouched by a backward bug.
    fw = report.compared[report.compared["quantity"] == "h"]
    assert fw["passed"].all()


def test_float32_tolerances_are_not_float64s():
    report = harness.compare("rnn", dtype="float32")
    assert report.ok
    assert set(report.compared["atol"]) == {1e-4}
    # and a float32 run judged with float64 tolerances fails: they are really tighter
    assert not harness.compare("rnn", dtype="float32", atol=1e-9, rtol=1e-7).ok
