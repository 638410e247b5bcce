"""TF1 legacy-cell backends against the reference, the TF1 weight layout, and the TF traps."""

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf_keras")

import harness  # noqa: E402
from backend_coverage import (assert_everything_per_step, assert_split_by_gate,  # noqa: E402
                              assert_totals, compared_keys)
from harness import cells  # noqa: E402
from harness.backends import tf_backend  # noqa: E402
from harness.backends.reference import run_reference  # noqa: E402
from harness.compare import TOLERANCES  # noqa: E402
from harness.errors import HarnessError, LayoutError  # noqa: E402
from harness.layouts import tf_layout  # noqa: E402
from harness.probe import make_probe  # noqa: E402

# One worker builds this module's module-scoped fixtures once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("tf_backend")

T = 6
OPTIONS = {"rnn": {}, "lstm": {}, "gru": {"reset_after": False}}     # TF1 GRUCell is reset-before
CASES = [
    pytest.param(cell, L, backend, dtype, id=f"{cell}-L{L}-{backend}-{dtype}")
    for cell, L, dtype in itertools.product(OPTIONS, (1, 2, 3), ("float64", "float32"))
    for backend in tf_backend.backend_names(cell)
]


@pytest.fixture(scope="module")
def rnn_cell():
    return tf_backend.import_framework()


def _check_coverage(report, cell, layers, backend, bias=True):
    """Every quantity the backend can observe was compared; the rest is 'not compared'."""
    seen, states = compared_keys(report), cells.STATES[cell]
    assert_totals(seen, cell, layers, T, bias)
    assert all(("h", layers - 1, t) in seen for t in range(T))          # the top layer's outputs
    gated = cell != "rnn"
    if backend.endswith("-loop"):
        assert_everything_per_step(report, seen, cell, layers, T, bias)
    else:
        not_compared = report.table[report.table["status"] == "not compared"]
        params = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
        per_step = {f"d{s}_total" for s in states} | {f"d{p}" for p in params}
        hidden = per_step | (set(states) if layers > 1 else set(states) - {"h"})
        hidden |= {"gates"} if gated and layers > 1 else set()    # a lower layer's h is not observable
        assert set(not_compared["quantity"]) == hidden
        assert not_compared["note"].str.contains("not observable in one").all()
        assert not gated or layers > 1 or all(("gates", 0, t) in seen for t in range(T))
    assert_split_by_gate(report, cell)


@pytest.mark.parametrize("cell, layers, backend, dtype", CASES)
def test_reference_matches_tf(cell, layers, backend, dtype):
    report = harness.compare(cell, backends=(backend,), layers=layers, dtype=dtype, steps=T, **OPTIONS[cell])
    assert report.ok, report.summary()
    assert set(report.compared["atol"]) == {TOLERANCES[dtype][0]}
    _check_coverage(report, cell, layers, backend)


@pytest.mark.parametrize("cell, kwargs", [
    ("rnn", dict(activation="relu")), ("rnn", dict(activation="sigmoid")),
    ("rnn", dict(activation="identity", bias=False)), ("lstm", dict(bias=False, forget_bias=1.0)),
    ("lstm", dict(forget_bias=1.0)), ("gru", dict(bias=False, reset_after=False)),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()))
def test_options_and_no_bias(cell, kwargs):
    report = harness.compare(cell, backends="tf", layers=2, steps=T, **kwargs)
    assert report.ok, report.summary()
    assert set(report.compared["backend"]) == set(tf_backend.backend_names(cell))
    for backend in tf_backend.backend_names(cell):
        sub = report.table[report.table["backend"] == backend]
        _check_coverage(harness.Report(sub, report.cases), cell, 2, backend, kwargs.get("bias", True))


def test_gru_reset_after_is_skipped_with_the_reason():
    report = harness.compare("gru", backends="tf", reset_after=True)
    skipped = report.table[report.table["status"] == "skipped"]
    assert set(skipped["backend"]) == set(tf_backend.backend_names("gru")) == set(report.table["backend"])
    assert skipped["note"].str.contains("reset_after=True: TF1 GRUCell applies the reset gate before").all()
    with pytest.raises(HarnessError, match="has no exact GRUCell form"):
        harness.compare("gru", backends="tf.GRUCell-loop", reset_after=True)


# ---- layout -------------------------------------------------------------------------------

def _canonical(cell, bias, D=4, H=5, seed=1):
    rng = np.random.default_rng(seed)
    return {n: rng.standard_normal(s) for n, s in cells.layer_param_shapes(cell, 0, D, H, bias).items()}


LAYOUT_CASES = list(itertools.product(OPTIONS, (True, False)))


@pytest.mark.parametrize("cell, bias", LAYOUT_CASES, ids=[f"{c}{'' if b else '-nobias'}" for c, b in LAYOUT_CASES])
def test_round_trip_canonical_tf_canonical(cell, bias):
    p = _canonical(cell, bias)
    weights = tf_layout.to_tf_weights(cell, p, OPTIONS[cell])
    assert [w.shape for w in weights] == tf_layout.tf_shapes(cell, 4, 5)
    back = tf_layout.from_tf_weights(cell, weights, input_size=4)
    for name in ("weight_ih", "weight_hh"):
        assert np.array_equal(back[name], p[name]), name
    if bias:          # one TF bias: the sum comes back as bias_ih, bias_hh = 0
        assert np.array_equal(back["bias_ih"], p["bias_ih"] + p["bias_hh"]) and not back["bias_hh"].any()
    else:             # TF cells always have a bias: zeros
        assert not back["bias_ih"].any() and all(not w.any() for w, (_, kind, _) in
                                                 zip(weights, tf_layout.TABLE[cell]) if kind == "bias")
    again = tf_layout.to_tf_weights(cell, back, OPTIONS[cell])
    assert all(np.array_equal(a, b) for a, b in zip(again, weights))


def test_lstm_columns_are_i_j_f_o_and_forget_bias_is_not_stored():
    p, D, H = _canonical("lstm", True), 4, 5
    kernel, bias = tf_layout.to_tf_weights("lstm", p, {"forget_bias": 1.0})
    assert np.array_equal(tf_layout.to_tf_weights("lstm", p, {"forget_bias": 0.0})[1], bias)
    for tf_block, torch_block in enumerate((0, 2, 1, 3)):            # torch rows i, f, g, o
        cols, rows = slice(tf_block * H, (tf_block + 1) * H), slice(torch_block * H, (torch_block + 1) * H)
        assert np.array_equal(kernel[:D, cols], p["weight_ih"][rows].T)     # input rows first
        assert np.array_equal(kernel[D:, cols], p["weight_hh"][rows].T)
        assert np.array_equal(bias[cols], p["bias_ih"][rows] + p["bias_hh"][rows])
    assert tf_layout.cell_kwargs("lstm", {}) == {"forget_bias": 0.0}      # explicit: TF's default is 1.0


@pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell.BasicLSTMCell` is deprecated:UserWarning")
def test_tf_cells_round_trip_and_shape_checks(rnn_cell):
    import tensorflow as tf
    stack = [rnn_cell.BasicLSTMCell(5, forget_bias=1.0, dtype=tf.float64) for _ in range(2)]
    for k, c in enumerate(stack):
        c.build(tf.TensorShape([None, 4 if k == 0 else 5]))
    multi = rnn_cell.MultiRNNCell(stack)
    params, options = tf_layout.from_tf(multi)           # TF's own random init
    assert options == {"forget_bias": 1.0} and not params["bias_hh_l1"].any()
    assert harness.compare("lstm", layers=2, params=params, backends="tf", **options).ok
    fresh = {n: v + 0.5 for n, v in params.items()}                   # bias_hh = 0.5 now
    again, _ = tf_layout.from_tf(tf_layout.to_tf(fresh, multi, options))
    for k in range(2):
        for n in ("weight_ih", "weight_hh"):
            assert np.array_equal(again[f"{n}_l{k}"], fresh[f"{n}_l{k}"])
        assert np.array_equal(again[f"bias_ih_l{k}"], fresh[f"bias_ih_l{k}"] + fresh[f"bias_hh_l{k}"])
        assert not again[f"bias_hh_l{k}"].any()
    with pytest.raises(LayoutError, match="the cell adds 1.0 at call time, the canonical model expects 0.0"):
        tf_layout.to_tf(params, multi, {"forget_bias": 0.0})
    with pytest.raises(LayoutError, match=r"kernel:0: TF1 BasicLSTMCell expects shape \(10, 20\), "
                                          r"the converted canonical weight has \(9, 20\)"):
        tf_layout.load_weights(stack[1], "lstm", cells.split_layer(params, 0), options)
    with pytest.raises(LayoutError,
                       match=r"weight_ih: .* expects shape \(20, 4\), got \(4, 20\) \(the transpose\)"):
        tf_layout.to_tf_weights("lstm", dict(_canonical("lstm", True), weight_ih=np.zeros((4, 20))), {})
    with pytest.raises(LayoutError,
                       match=r"candidate/kernel: TF1 gru cell \(D=4\) expects shape \(9, 5\), got \(9, 6\)"):
        tf_layout.from_tf_weights("gru", [np.zeros((9, 10)), np.zeros(10), np.zeros((9, 6)), np.zeros(5)], 4)


# ---- traps --------------------------------------------------------------------------------

@pytest.mark.parametrize("asked, used", [(1.0, 0.0), (0.0, None)],
                         ids=["forget_bias-dropped", "forget_bias-omitted-tf-default-1.0"])
def test_conversion_that_loses_forget_bias_fails_at_the_first_forward_step(monkeypatch, asked, used):
    """forget_bias is added at call time, not stored: a conversion must pass it to the cell.
    Passing 0 (or nothing, so TF's default 1.0 applies) moves the f pre-activation, so the
    very first state differs, and the broken backend matches the reference with ITS offset."""
    kwargs = {} if used is None else {"forget_bias": used}
    monkeypatch.setattr(tf_layout, "cell_kwargs", lambda cell, options: dict(kwargs))
    report = harness.compare("lstm", forget_bias=asked, backends=("tf.BasicLSTMCell-loop",), layers=2, steps=T)
    assert not report.ok
    first = report.first_mismatch()
    assert (first["quantity"], first["layer"], first["step"]) in {("gates", 0, 0), ("h", 0, 0)}
    fails = report.table[report.table["status"] == "FAIL"]
    assert {("h", 0, 0), ("c", 0, 0)} <= set(zip(fails["quantity"], fails["layer"], fails["step"]))
    assert "f" in set(fails["gate"])             # and i, g, o: the forward change reaches every gate
    actual = 1.0 if used is None else used
    assert harness.compare("lstm", forget_bias=actual, backends=("tf.BasicLSTMCell-loop",), layers=2, steps=T).ok


def _gate_rows(report, layer=0, step=0):
    """{gate: status} of the "gates" rows at (layer, step)."""
    g = report.table[(report.table["quantity"] == "gates") & (report.table["layer"] == layer)
                     & (report.table["step"] == step)]
    return dict(zip(g["gate"], g["status"]))


def _failing_gates(report, layer=0, step=0):
    return {gate for gate, status in _gate_rows(report, layer, step).items() if status == "FAIL"}


def test_dropped_forget_bias_is_named_by_gate_f_at_the_first_step(monkeypatch):
    """Gradients of every gate differ after a dropped forget_bias, so they cannot name it; the
    gate values at layer 0, step 0 depend only on x_0, h0 and the converted weights: only f fails."""
    monkeypatch.setattr(tf_layout, "cell_kwargs", lambda cell, options: {"forget_bias": 0.0})
    report = harness.compare("lstm", forget_bias=1.0, backends=("tf.BasicLSTMCell-loop",), layers=2, steps=T)
    first = report.first_mismatch()
    assert (first["quantity"], first["layer"], first["step"], first["gate"]) == ("gates", 0, 0, "f")
    assert set(_gate_rows(report)) == {"i", "f", "g", "o"} and _failing_gates(report) == {"f"}


def test_lstm_columns_j_and_f_swapped_fail_exactly_gates_f_and_g(monkeypatch):
    """A layout table with TF's j and f column blocks swapped (i, f, j, o): TF then computes
    tanh(a_f) as g and sigmoid(a_g + forget_bias) as f; i and o are untouched."""
    monkeypatch.setitem(tf_layout.TABLE, "lstm", [("kernel", "kernel", (0, 1, 2, 3)), ("bias", "bias", (0, 1, 2, 3))])
    report = harness.compare("lstm", forget_bias=1.0, backends=("tf.BasicLSTMCell-loop",), layers=2, steps=T)
    first = report.first_mismatch()
    assert (first["quantity"], first["layer"], first["step"]) == ("gates", 0, 0)
    assert set(_gate_rows(report)) == {"i", "f", "g", "o"} and _failing_gates(report) == {"f", "g"}


def _numpy_gates0(probe):
    """Canonical gate values of layer 0 at step 0 from the canonical weights, x_0 and h0
    (LSTM with forget_bias; reset-before GRU), independent of the reference and of TF."""
    p, x, h, H = probe.layer_params(0), probe.x[:, 0], probe.state0["h"][0], probe.sizes["H"]
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))                      # noqa: E731
    a_x, a_h = x @ p["weight_ih"].T + p["bias_ih"], h @ p["weight_hh"].T + p["bias_hh"]
    if probe.cell == "lstm":
        i, f, g, o = np.split(a_x + a_h, 4, axis=1)
        return np.concatenate([sig(i), sig(f + probe.options["forget_bias"]), np.tanh(g), sig(o)], 1)
    r, z = np.split(sig(a_x[:, :2 * H] + a_h[:, :2 * H]), 2, axis=1)
    n = np.tanh(a_x[:, 2 * H:] + (r * h) @ p["weight_hh"][2 * H:].T + p["bias_hh"][2 * H:])
    return np.concatenate([r, z, n], 1)


@pytest.mark.parametrize("cell, options", [("rnn", {}), ("lstm", {"forget_bias": 1.0}),
                                           ("gru", {"reset_after": False})], ids=["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", (1, 2))
def test_gate_values_are_in_canonical_order_where_every_input_is_known(cell, options, layers):
    """The backends' own gate values: every layer and step for -loop, layer 0 of a one-layer
    stack for static_rnn/dynamic_rnn, none for the RNN; (N, G*H) views of one writeable
    time-major sequence of the trace's own (not TF's buffer), in the probe's dtype."""
    probe = make_probe(cell, layers=layers, steps=T, **options)
    for name in tf_backend.backend_names(cell):
        trace = tf_backend.run(name, probe)
        keys = {k for k in trace.values if k[0] == "gates"}
        where = range(layers) if name.endswith("-loop") or layers == 1 else ()
        assert keys == ({("gates", k, t) for k in where for t in range(T)} if cell != "rnn" else set()), name
        for key in keys:
            value = trace.values[key]
            assert value.shape == (3, cells.num_gates(cell) * 5) and value.dtype == np.float64
            sequence = trace.values.sequences[key[:2]]
            assert value.base is sequence and sequence.flags.owndata and sequence.flags.writeable
        if keys:
            np.testing.assert_allclose(trace.values[("gates", 0, 0)], _numpy_gates0(probe), rtol=0, atol=1e-12)


def test_lstm_state_tuple_is_c_then_h_and_is_not_swapped(monkeypatch):
    """LSTMStateTuple is (c, h): state[0] is c. The backend reads it by field name."""
    probe = make_probe("lstm", layers=2, steps=T)
    ref, trace = run_reference(probe), tf_backend.run("tf.BasicLSTMCell-loop", probe)
    for k, t in itertools.product(range(2), range(T)):
        np.testing.assert_allclose(trace.values[("h", k, t)], ref.values[("h", k, t)], rtol=0, atol=1e-12)
        np.testing.assert_allclose(trace.values[("c", k, t)], ref.values[("c", k, t)], rtol=0, atol=1e-12)
    assert {v.dtype for v in trace.values.values()} == {np.dtype("float64")}
    # Reading the tuple by position as (h, c), torch's order, swaps them: caught at the first state.
    monkeypatch.setattr(tf_backend, "_from_tf_state",
                        lambda probe, st: {"h": st[0], "c": st[1]} if probe.cell == "lstm" else {"h": st})
    report = harness.compare("lstm", backends=("tf.BasicLSTMCell-loop",), layers=2, steps=T)
    first = report.first_mismatch()
    assert (first["quantity"], first["layer"], first["step"]) == ("h", 0, 0)


# The TF_USE_LEGACY_KERAS trap needs fresh interpreters whose environment lacks the flag.
CLI = ("\nimport sys\nfrom harness.cli import main\n"
       "sys.exit(main(['compare', '--backends', 'tf', '--steps', '3', '--csv', '', '--html', '']))")
SCENARIOS = {
    # TensorFlow imported and tf.keras touched first: tf.keras is Keras 3.
    "keras3_first": "import tensorflow as tf; tf.keras.layers.Dense\nimport atexit\n"
                    "atexit.register(lambda: print('tf.keras is Keras 3:', "
                    "tf.keras.layers.Dense.__module__.startswith('keras.src')))" + CLI,
    # rnn_cell accessed without the flag after tf_keras was imported: resolved to Keras 3.
    "resolved_without_flag": "import tensorflow as tf, tf_keras\ntry:\n    tf.compat.v1.nn.rnn_cell.GRUCell\n"
                             "except AttributeError:\n    pass" + CLI,
}


@pytest.fixture(scope="module")
def fresh_runs():
    """(returncode, stdout, stderr) of every scenario; started together, as each spends
    seconds importing TensorFlow."""
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = {name: subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env=env, cwd=root) for name, code in SCENARIOS.items()}
    outputs = {name: p.communicate(timeout=180) for name, p in procs.items()}
    return {name: (procs[name].returncode, *outputs[name]) for name in procs}


def test_keras3_loaded_first_still_gets_the_tf1_cells(fresh_runs):
    """TensorFlow imported and tf.keras touched (Keras 3) without TF_USE_LEGACY_KERAS. TF reads
    the flag per lazy module at its first access, so the backend sets it and the TF1 cells
    still load (from tf_keras) while tf.keras stays Keras 3: a mixed but working state."""
    code, out, err = fresh_runs["keras3_first"]
    assert code == 0, err[-2000:]
    assert "OK: all" in out and "tf.BasicRNNCell-loop" in out
    assert "tf.keras is Keras 3: True" in out


def test_rnn_cell_resolved_without_the_flag_gives_the_one_line_fix(fresh_runs):
    """Once rnn_cell was accessed without the flag (after tf_keras was imported), the loader has
    resolved to Keras 3 for good. The loader hands out the module and fails only at a class
    access; the backend must turn that into one line with the fix, not an AttributeError."""
    code, out, err = fresh_runs["resolved_without_flag"]
    assert code == 2, out[-2000:] + err[-2000:]
    errors = [line for line in err.splitlines() if line.startswith("gradharness: error:")]
    assert len(errors) == 1 and "set TF_USE_LEGACY_KERAS=1 in the environment" in errors[0]
    assert "Traceback" not in err and "AttributeError" not in err
