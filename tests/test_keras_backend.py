"""Keras 3 backends against the reference, the Keras weight layout, and the Keras traps."""

import dataclasses
import itertools

import numpy as np
import pytest

pytest.importorskip("keras")

import harness  # noqa: E402
from backend_coverage import (assert_everything_per_step, assert_split_by_gate,  # noqa: E402
                              assert_totals, compared_keys)
from harness import cells  # noqa: E402
from harness.backends import keras_backend  # noqa: E402
from harness.api import compare_probe  # noqa: E402
from harness.compare import TOLERANCES, Tolerance  # noqa: E402
from harness.errors import HarnessError, LayoutError  # noqa: E402
from harness.layouts import keras_layout  # noqa: E402
from harness.probe import make_probe  # noqa: E402

# One worker builds this module's module-scoped fixtures once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("keras_backend")

T = 6
CELLS = [("rnn", {}), ("lstm", {}), ("gru", {"reset_after": True}), ("gru", {"reset_after": False})]


def _cell_id(cell, options):
    return cell + ("-reset_after=False" if options.get("reset_after") is False else "")


CASES = [
    pytest.param(cell, options, L, backend, dtype, id=f"{_cell_id(cell, options)}-L{L}-{backend}-{dtype}")
    for (cell, options), L, dtype in itertools.product(CELLS, (1, 2, 3), ("float64", "float32"))
    for backend in keras_backend.backend_names(cell)
]


@pytest.fixture(scope="module")
def keras():
    return keras_backend.import_framework()


def _check_coverage(report, cell, layers, backend, bias=True):
    """Every quantity the backend can observe was compared; the rest is 'not compared'."""
    seen, states = compared_keys(report), cells.STATES[cell]
    assert_totals(seen, cell, layers, T, bias)
    for k in range(layers):                                             # return_sequences on every layer
        assert all(("h", k, t) in seen for t in range(T))
        assert cell == "rnn" or all(("gates", k, t) in seen for t in range(T))
    if backend.endswith("-loop"):
        assert_everything_per_step(report, seen, cell, layers, T, bias)
    else:
        params = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
        per_step = {f"d{s}_total" for s in states} | {f"d{p}" for p in params} | set(states) - {"h"}
        assert set(report.table.loc[report.table["status"] == "not compared", "quantity"]) == per_step
    assert_split_by_gate(report, cell)


@pytest.mark.parametrize("cell, options, layers, backend, dtype", CASES)
def test_reference_matches_keras(cell, options, layers, backend, dtype):
    report = harness.compare(cell, backends=(backend,), layers=layers, dtype=dtype, steps=T, **options)
    assert report.ok, report.summary()
    assert set(report.compared["atol"]) == {TOLERANCES[dtype][0]}
    _check_coverage(report, cell, layers, backend)


@pytest.mark.parametrize("cell, kwargs", [
    ("rnn", dict(activation="relu")), ("rnn", dict(activation="sigmoid")),
    ("rnn", dict(activation="identity", bias=False)), ("lstm", dict(bias=False)),
    ("lstm", dict(forget_bias=1.0)), ("gru", dict(bias=False)),
    ("gru", dict(bias=False, reset_after=False)),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()))
def test_options_and_no_bias(cell, kwargs):
    report = harness.compare(cell, backends="keras", layers=2, steps=T, **kwargs)
    assert report.ok, report.summary()
    assert set(report.compared["backend"]) == set(keras_backend.backend_names(cell))
    for backend in keras_backend.backend_names(cell):
        sub = report.table[report.table["backend"] == backend]
        _check_coverage(harness.Report(sub, report.cases), cell, 2, backend, kwargs.get("bias", True))


def test_lstm_forget_bias_without_bias_is_refused_with_the_reason():
    report = harness.compare("lstm", backends="keras", forget_bias=1.0, bias=False)
    skipped = report.table[report.table["status"] == "skipped"]
    assert set(skipped["backend"]) == set(keras_backend.backend_names("lstm"))
    assert skipped["note"].str.contains("no bias to fold it into").all()
    with pytest.raises(HarnessError, match="unit_forget_bias only initialises"):
        harness.compare("lstm", backends="keras.LSTM", forget_bias=1.0, bias=False)


# ---- layout -------------------------------------------------------------------------------

LAYOUT_CASES = [(c, o, b) for c, o in CELLS for b in (True, False)]


def _canonical(cell, bias, D=4, H=5, seed=1):
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal(s) for n, s in cells.layer_param_shapes(cell, 0, D, H, bias).items()}


@pytest.mark.parametrize("cell, options, bias", LAYOUT_CASES,
                         ids=[f"{_cell_id(c, o)}{'' if b else '-nobias'}" for c, o, b in LAYOUT_CASES])
def test_round_trip_canonical_keras_canonical(cell, options, bias):
    p = _canonical(cell, bias)
    weights = keras_layout.to_keras_weights(cell, p, options)
    assert [w.shape for w in weights] == keras_layout.keras_shapes(cell, 4, 5, options, bias)
    back = keras_layout.from_keras_weights(cell, weights, options)
    assert set(back) == set(p)
    for name in ("weight_ih", "weight_hh"):
        assert np.array_equal(back[name], p[name]), name
    if keras_layout.bias_form(cell, options, bias) == "stack":
        assert np.array_equal(back["bias_ih"], p["bias_ih"]) and np.array_equal(back["bias_hh"], p["bias_hh"])
    elif bias:       # one Keras bias: the sum comes back as bias_ih, bias_hh = 0
        assert np.array_equal(back["bias_ih"], p["bias_ih"] + p["bias_hh"])
        assert not back["bias_hh"].any()
    again = keras_layout.to_keras_weights(cell, back, options)
    assert all(np.array_equal(a, b) for a, b in zip(again, weights))


def test_gru_columns_are_z_r_n():
    p, H = _canonical("gru", True), 5
    kernel, recurrent, bias = keras_layout.to_keras_weights("gru", p, {"reset_after": True})
    for keras_block, torch_block in enumerate((1, 0, 2)):          # torch rows r, z, n
        cols, rows = slice(keras_block * H, (keras_block + 1) * H), slice(torch_block * H, (torch_block + 1) * H)
        assert np.array_equal(kernel[:, cols], p["weight_ih"][rows].T)
        assert np.array_equal(recurrent[:, cols], p["weight_hh"][rows].T)
        assert np.array_equal(bias[1, cols], p["bias_hh"][rows])


def test_keras_layer_round_trip_and_shape_checks(keras):
    p = _canonical("lstm", True)
    cell = keras.layers.LSTMCell(5, dtype="float64")
    cell.build((None, 4))
    keras_layout.load_weights(cell, "lstm", p, {"forget_bias": 0.0})
    assert all(np.array_equal(a, b) for a, b in
               zip(cell.get_weights(), keras_layout.to_keras_weights("lstm", p, {"forget_bias": 0.0})))
    wrong = keras.layers.LSTMCell(5, dtype="float64")
    wrong.build((None, 3))
    with pytest.raises(LayoutError, match=r"kernel: Keras LSTMCell expects shape \(3, 20\), "
                                          r"the converted canonical weight has \(4, 20\)"):
        keras_layout.load_weights(wrong, "lstm", p, {})
    transposed = r"weight_ih: .* expects shape \(20, 4\), got \(4, 20\) \(the transpose\)"
    with pytest.raises(LayoutError, match=transposed):
        keras_layout.to_keras_weights("lstm", dict(p, weight_ih=p["weight_ih"].T), {})
    one_bias = r"bias: Keras GRU\(reset_after=True\) expects shape \(2, 15\), got \(15,\)"
    with pytest.raises(LayoutError, match=one_bias):
        keras_layout.from_keras_weights("gru", [np.zeros((4, 15)), np.zeros((5, 15)), np.zeros(15)],
                                        {"reset_after": True})
    with pytest.raises(LayoutError, match="no bias to fold it into"):
        keras_layout.to_keras_weights("lstm", _canonical("lstm", False), {"forget_bias": 1.0})


# ---- traps --------------------------------------------------------------------------------

def test_float32_autocast_trap(keras):
    """Left at its default dtype, a Keras layer silently computes float64 input in float32."""
    import tensorflow as tf
    probe = make_probe("gru", steps=T)
    x = tf.constant(probe.x)
    weights = keras_layout.to_keras_weights("gru", probe.layer_params(0), probe.options)
    outputs = {}
    for dtype in (None, "float64"):
        layer = keras.layers.GRU(5, return_sequences=True, **({"dtype": dtype} if dtype else {}))
        layer.build(x.shape)
        layer.set_weights(weights)
        outputs[dtype] = layer(x, initial_state=[tf.constant(probe.state0["h"][0])])
    assert x.dtype == tf.float64 and outputs[None].dtype == tf.float32      # the trap
    assert outputs["float64"].dtype == tf.float64
    err = np.abs(outputs[None].numpy().astype(np.float64) - outputs["float64"].numpy()).max()
    assert err > 1e-9                                   # float32 would fail float64 tolerances
    trace = keras_backend.run("keras.GRU", probe)
    assert {v.dtype for v in trace.values.values()} == {np.dtype("float64")}
    report = harness.compare("gru", backends="keras", steps=T)
    assert report.ok and set(report.compared["atol"]) == {1e-9}


def test_gru_gate_order_trap(monkeypatch):
    """Reading Keras's z, r, h columns back as torch's r, z, n fails exactly gates r and z."""
    monkeypatch.setattr(keras_layout, "_inverse", lambda order: tuple(range(len(order))))
    report = harness.compare("gru", backends="keras", layers=2, steps=T)
    fails = report.table[report.table["status"] == "FAIL"]
    assert set(fails.loc[fails["gate"] != "", "gate"]) == {"r", "z"}
    assert (fails["gate"] != "").all()             # states, adjoints, dx, dh0 all still pass
    assert set(report.compared.loc[report.compared["gate"] == "n", "status"]) == {"pass"}


def _numpy_gates0(probe):
    """Canonical gate values of layer 0 at step 0 from the canonical weights, x_0 and h0,
    independent of the reference and of Keras."""
    p, x, h, H = probe.layer_params(0), probe.x[:, 0], probe.state0["h"][0], probe.sizes["H"]
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))                      # noqa: E731
    a_x, a_h = x @ p["weight_ih"].T + p["bias_ih"], h @ p["weight_hh"].T + p["bias_hh"]
    if probe.cell == "lstm":
        i, f, g, o = np.split(a_x + a_h, 4, axis=1)
        return np.concatenate([sig(i), sig(f + probe.options["forget_bias"]), np.tanh(g), sig(o)], 1)
    r, z = np.split(sig(a_x[:, :2 * H] + a_h[:, :2 * H]), 2, axis=1)
    if probe.options["reset_after"]:
        return np.concatenate([r, z, np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])], 1)
    n = np.tanh(a_x[:, 2 * H:] + (r * h) @ p["weight_hh"][2 * H:].T + p["bias_hh"][2 * H:])
    return np.concatenate([r, z, n], 1)


@pytest.mark.parametrize("cell, options", [("rnn", {}), ("lstm", {"forget_bias": 1.0}),
                                           ("gru", {"reset_after": True}), ("gru", {"reset_after": False})],
                         ids=["rnn", "lstm", "gru", "gru-reset_after=False"])
def test_gate_values_of_every_layer_and_step_in_canonical_order(cell, options):
    """Both forms give every layer's gate values at every step (none for the RNN), as
    (N, G*H) views of one writeable time-major sequence of the trace's own, in the probe's
    dtype; Keras's GRU z, r, h comes out as r, z, n."""
    probe = make_probe(cell, layers=2, steps=T, **options)
    for name in keras_backend.backend_names(cell):
        trace = keras_backend.run(name, probe)
        keys = {k for k in trace.values if k[0] == "gates"}
        assert keys == ({("gates", k, t) for k in range(2) for t in range(T)} if cell != "rnn" else set()), name
        for key in keys:
            value = trace.values[key]
            assert value.shape == (3, cells.num_gates(cell) * 5) and value.dtype == np.float64
            sequence = trace.values.sequences[key[:2]]
            assert value.base is sequence and sequence.flags.owndata and sequence.flags.writeable
        if keys:
            np.testing.assert_allclose(trace.values[("gates", 0, 0)], _numpy_gates0(probe), rtol=0, atol=1e-12)


def _gates_at(report, layer=0, step=0):
    """backend -> {gate: status} of its "gates" rows at (layer, step)."""
    t = report.table
    g = t[(t["quantity"] == "gates") & (t["layer"] == layer) & (t["step"] == step)]
    return {b: dict(zip(rows["gate"], rows["status"])) for b, rows in g.groupby("backend")}


@pytest.mark.parametrize("reset_after", (True, False))
def test_gru_z_and_r_swapped_on_the_way_in_fail_gates_r_and_z(monkeypatch, reset_after):
    """Keras's z columns loaded with torch's r and vice versa: Keras computes sigmoid(a_r) as z and
    sigmoid(a_z) as r, so at layer 0, step 0 gates r and z fail. The candidate n is computed with
    Keras's (wrong) r, which multiplies h0 W_hn (reset-before: h0), so n fails too; with h0 = 0
    in a reset-before GRU nothing carries r into n at step 0, and exactly r and z fail."""
    convert = keras_layout.to_keras_weights
    monkeypatch.setattr(keras_layout, "to_keras_weights", lambda cell, p, options: [
        keras_layout._blocks(a, (1, 0, 2), axis=-1) for a in convert(cell, p, options)])
    probe = make_probe("gru", layers=2, steps=T, reset_after=reset_after)
    zero_h0 = dataclasses.replace(probe, state0={"h": np.zeros_like(probe.state0["h"])})
    for p, failing in ((probe, {"r", "z", "n"}), (zero_h0, {"r", "z"} if not reset_after else {"r", "z", "n"})):
        report = compare_probe(p, ("keras",), Tolerance.for_dtype("float64"))
        gates = _gates_at(report)
        assert set(gates) == set(keras_backend.backend_names("gru"))
        for backend, status in gates.items():
            assert set(status) == {"r", "z", "n"}, backend
            assert {g for g, s in status.items() if s == "FAIL"} == failing, backend
        first = report.first_mismatch()
        assert (first["quantity"], first["layer"], first["step"], first["gate"]) == ("gates", 0, 0, "r")


def test_torch_gru_weights_run_in_keras(keras):
    torch = pytest.importorskip("torch")
    import tensorflow as tf
    from harness.layouts.torch_layout import from_torch, to_torch
    torch.manual_seed(0)
    m = torch.nn.GRU(4, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((3, 7, 4)), rng.standard_normal((2, 3, 5))
    out_t, hn_t = m(torch.tensor(x), torch.tensor(h0))
    layers = [keras.layers.GRU(5, return_sequences=True, return_state=True, reset_after=True, dtype="float64")
              for _ in range(2)]
    for k, layer in enumerate(layers):
        layer.build((3, 7, 4 if k == 0 else 5))
    keras_layout.to_keras(from_torch(m), layers, "gru", {"reset_after": True})
    inp, finals = tf.constant(x), []
    for k, layer in enumerate(layers):
        inp, hn = layer(inp, initial_state=[tf.constant(h0[k])])
        finals.append(hn.numpy())
    np.testing.assert_allclose(inp.numpy(), out_t.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.stack(finals), hn_t.detach().numpy(), rtol=0, atol=1e-12)
    fresh = to_torch(keras_layout.from_keras(layers, "gru", {"reset_after": True}),
                     torch.nn.GRU(4, 5, num_layers=2, batch_first=True, dtype=torch.float64))
    for (n, a), (_, b) in zip(m.named_parameters(), fresh.named_parameters()):
        assert torch.equal(a, b), n                     # and back, bit for bit
