"""Per-step weight-gradient contributions without untying the weights.

The loops share one copy of every weight over all steps; each step's pre-activation
gradient dL/da_t is captured inside the framework (zero offsets whose gradients the
framework computes) and the contribution dL/da_t^T input_t formed from the framework's
own numbers. Cross-checked here against an independent computation that needs no capture:
autograd with one copy of the weights per step (torch.functional-untied), whose per-step
weight gradients are the contributions themselves.
"""

import itertools

import numpy as np
import pytest

import harness
from harness.probe import make_probe

torch_backend = pytest.importorskip("harness.backends.torch_backend")
pytest.importorskip("torch")

PARAMS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")
VARIANTS = [("rnn", {"activation": "tanh"}), ("rnn", {"activation": "sigmoid"}), ("lstm", {}),
            ("lstm", {"forget_bias": 1.0}), ("gru", {}), ("gru", {"reset_after": False})]


def _per_step(trace, layers, T, bias=True):
    names = PARAMS if bias else PARAMS[:2]
    return {(q, k, t): np.asarray(trace.values[(q, k, t)]) for q in names for k in range(layers) for t in range(T)}


def _untied(probe):
    return torch_backend.run(torch_backend.UNTIED, probe)


def _assert_same_steps(captured, untied, layers, T, bias=True, atol=1e-12):
    a, b = _per_step(captured, layers, T, bias), _per_step(untied, layers, T, bias)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=0, atol=atol, err_msg=str(key))
    for q, k in itertools.product(PARAMS if bias else PARAMS[:2], range(layers)):
        total = sum(a[(q, k, t)] for t in range(T))
        np.testing.assert_allclose(total, captured.values[(q, k, None)], rtol=0, atol=atol, err_msg=(q, k))


@pytest.mark.parametrize("cell, options", VARIANTS, ids=[f"{c}-{o}" for c, o in VARIANTS])
@pytest.mark.parametrize("bias", [True, False])
def test_captured_torch_contributions_equal_untied_autograd(cell, options, bias):
    if not bias and options.get("forget_bias"):
        pytest.skip("forget_bias needs a bias in torch's modules")
    probe = make_probe(cell, layers=2, steps=5, bias=bias, **options)
    untied = _untied(probe)
    names = [n for n in torch_backend.backend_names(cell) if n.endswith("Cell") or n == "torch.functional"]
    for name in names:
        if torch_backend.unsupported(name, probe):
            continue
        _assert_same_steps(torch_backend.run(name, probe), untied, 2, 5, bias)


def test_captured_loops_share_one_copy_of_the_weights():
    """The tied loops hold the layer's weights once, their gradient is the shared weight's
    own .grad; one (T, N, G*H) buffer per captured pre-activation (one for the LSTM's single
    sum, two for the GRU); the untied cross-check holds one copy of the weights per step."""
    probe = make_probe("lstm", layers=1, steps=4)
    layer = torch_backend._LoopLayer(__import__("torch"), probe, "cell", 0)
    assert not hasattr(layer, "copies") and set(layer.da) == {"ih"} and layer.da["ih"][0].shape == (4, 3, 20)
    gru = torch_backend._LoopLayer(__import__("torch"), make_probe("gru", steps=4), "functional", 0)
    assert set(gru.da) == {"ih", "hh"}
    untied = torch_backend._LoopLayer(__import__("torch"), probe, "untied", 0)
    assert len(untied.copies) == 4


def test_untied_backend_is_run_only_when_asked_for_by_name():
    report = harness.compare("gru", backends="torch", steps=4)
    assert torch_backend.UNTIED not in set(report.table["backend"])
    named = harness.compare("gru", backends=("torch.functional-untied",), steps=4)
    assert named.ok and set(named.table["backend"]) == {torch_backend.UNTIED}
    assert not (named.table["status"] == "not compared").any()


@pytest.mark.parametrize("family, cell, options", [
    ("tf", "rnn", {"activation": "relu"}), ("tf", "lstm", {"forget_bias": 1.0}), ("tf", "gru", {"reset_after": False}),
    ("keras", "rnn", {}), ("keras", "lstm", {"forget_bias": 1.0}), ("keras", "gru", {}),
    ("keras", "gru", {"reset_after": False})])
def test_tf_and_keras_loops_capture_the_same_contributions_as_untied_torch(family, cell, options):
    """The TF1 and Keras loops capture dL/da_t inside TensorFlow (an offset on each bias_add of
    the TF1 cells; on the input of each Keras activation): their per-step contributions equal
    torch's untied autograd directly, not only through the reference."""
    pytest.importorskip("tensorflow")
    from harness import backends
    module = backends.family(family)
    loop = next(n for n in module.backend_names(cell) if n.endswith("-loop"))
    probe = make_probe(cell, layers=2, steps=5, **options)
    _assert_same_steps(module.run(loop, probe), _untied(probe), 2, 5)


def test_a_step_paired_with_the_wrong_input_fails_as_that_step(monkeypatch):
    """Deliberate break of the capture: pair dL/da_t with x_{t-1} (step 0 with the last x) in
    the torch loop. Every step's dweight_ih fails; the totals, autograd's own, still pass."""
    from harness import trace as trace_module
    original = trace_module.add_weight_steps

    def shifted(trace, layer, da_ih, da_hh, inputs, *rest, **kw):
        return original(trace, layer, da_ih, da_hh, np.roll(inputs, 1, axis=0), *rest, **kw)
    monkeypatch.setattr(torch_backend, "add_weight_steps", shifted)
    report = harness.compare("rnn", backends=("torch.nn.RNNCell",), steps=5)
    fails = report.table[report.table["status"] == "FAIL"]
    assert set(fails["quantity"]) == {"dweight_ih"} and set(fails["step"]) == set(range(5))
    totals = report.compared[(report.compared["quantity"] == "dweight_ih") & report.compared["step"].isna()]
    assert totals["passed"].all()
