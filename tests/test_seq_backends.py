"""Bidirectional layers, padded batches, the LSTM's projection, peepholes and clips in every
framework: framework x option x layers 1-3 x float64/float32 against the reference, step by
step and direction by direction; what a framework cannot express refused with the reason."""

import itertools
import re

import numpy as np
import pytest

import harness

SIZES = dict(steps=4, batch=3, input_size=3, hidden_size=3)
# option -> (cell, probe arguments); each framework runs what it can express and refuses the rest
OPTIONS = {
    "bidirectional": ("lstm", dict(bidirectional=True)),
    "lengths": ("gru", dict(lengths="random")),
    "bidirectional+lengths": ("rnn", dict(bidirectional=True, lengths="random")),
    "proj": ("lstm", dict(proj_size=2, lengths="random")),
    "peepholes+clips": ("lstm", dict(peepholes=True, cell_clip=0.5, proj_size=2, proj_clip=0.4,
                                     bidirectional=True, lengths="random")),
    "merge-sum": ("gru", dict(bidirectional=True, merge="sum", lengths="random")),
    "separate": ("lstm", dict(bidirectional=True, stacking="separate", lengths="random")),
}
# (framework, option) -> the refusal every backend of the family gives, when it expresses none of it
REFUSED = {
    ("keras", "proj"): "Keras's LSTM has no proj_size",
    ("keras", "peepholes+clips"): "Keras's LSTM has no proj_size, peepholes, cell_clip",
}
CASES = [pytest.param(fw, opt, L, dtype, id=f"{fw}-{opt}-L{L}-{dtype}")
         for fw, opt, L, dtype in itertools.product(("torch", "tf", "keras"), OPTIONS, (1, 2, 3),
                                                    ("float64", "float32"))]


def _gru_variant(fw, cell):
    return {"reset_after": fw != "tf"} if cell == "gru" else {}


@pytest.mark.parametrize("framework, option, layers, dtype", CASES)
def test_extended_probe_against_the_reference(framework, option, layers, dtype):
    pytest.importorskip("torch" if framework == "torch" else "tensorflow")
    cell, opts = OPTIONS[option]
    report = harness.compare(cell, backends=framework, layers=layers, dtype=dtype, **SIZES, **opts,
                             **_gru_variant(framework, cell))
    t = report.table
    skipped = t[t["status"] == "skipped"]
    assert skipped["note"].str.len().gt(20).all()                   # every refusal says why
    if (framework, option) in REFUSED:
        assert report.verdict == "NOTHING COMPARED" and skipped["note"].str.contains(REFUSED[framework, option]).all()
        return
    if option == "separate" and layers > 1 and framework == "keras":
        assert skipped["note"].str.contains("separate per-direction stacks").all()
        return
    assert report.ok, report.summary()
    compared = report.compared
    if opts.get("bidirectional"):
        assert {"forward", "reverse"} <= set(compared["direction"])
        reverse = compared[compared["direction"] == "reverse"]
        assert {"dh0", "h_n"} <= set(reverse["quantity"]), "every backend reports the reverse states"
    for backend, rows in compared.groupby("backend"):
        if backend.endswith("-loop") or backend.endswith("Cell") or backend == "torch.functional":
            _assert_everything_per_step(rows, cell, layers, opts)
        elif opts.get("lengths") is not None:       # the framework's own padded outputs, as it defines them
            assert rows["quantity"].str.endswith("_padded").any(), backend


def _assert_everything_per_step(rows, cell, layers, opts):
    """An untied unroll observes states, adjoints, gates and weight contributions per step,
    in every layer and direction; peepholes are compared at their own gates."""
    directions = ("forward", "reverse") if opts.get("bidirectional") else ("forward",)
    T = SIZES["steps"]
    for k, d in itertools.product(range(layers), directions):
        sub = rows[(rows["layer"] == k) & (rows["direction"] == d)]
        steps = set(sub.loc[sub["quantity"] == "dweight_hh", "step"].dropna())
        assert steps == set(range(T)), (k, d)
        assert set(sub.loc[sub["quantity"] == "dh_total", "step"].dropna()) == set(range(T)), (k, d)
        if cell != "rnn":
            assert set(sub.loc[sub["quantity"] == "gates", "gate"]) == set(harness.cells.GATES[cell])
        if opts.get("peepholes"):
            peep = sub[sub["quantity"].isin(["dweight_ci", "dweight_cf", "dweight_co"])]
            assert set(zip(peep["quantity"], peep["gate"])) == {("dweight_ci", "i"), ("dweight_cf", "f"),
                                                                 ("dweight_co", "o")}
        if opts.get("proj_size"):
            assert (sub["quantity"] == "dweight_hr").any()


# ---- what one framework cannot express is refused, with the reason ---------------------------

REFUSALS = [
    ("torch.nn.GRU", "gru", dict(bidirectional=True, merge="sum", layers=2), "feeds every layer the concatenation"),
    ("torch.nn.LSTM-layerwise", "lstm", dict(bidirectional=True, stacking="separate", layers=2),
     "a different model"),
    ("tf.GRUCell-stack_bidirectional_dynamic_rnn", "gru", dict(bidirectional=True, merge="ave", layers=2,
                                                                 reset_after=False), "concatenates the two directions"),
    ("torch.nn.LSTM", "lstm", dict(peepholes=True), "torch's LSTM has none"),
    ("torch.nn.LSTM", "lstm", dict(proj_size=2, cell_clip=0.5), "cell_clip (TF1 LSTMCell) have no torch module form"),
    ("torch.nn.LSTM", "lstm", dict(proj_size=3), "torch requires proj_size < hidden_size"),
    ("torch.nn.LSTMCell", "lstm", dict(proj_size=2), "nn.LSTMCell has no proj_size"),
    ("tf.BasicLSTMCell-bidirectional_dynamic_rnn", "lstm", dict(bidirectional=True, layers=2),
     "runs the forward and backward stacks separately"),
    ("tf.BasicLSTMCell-stack_bidirectional_dynamic_rnn", "lstm", dict(bidirectional=True, layers=2,
                                                                       stacking="separate"), "a different model"),
    ("tf.BasicLSTMCell-loop", "lstm", dict(proj_size=2), "only LSTMCell has num_proj"),
    ("keras.GRU", "gru", dict(bidirectional=True, merge="none", layers=2), "returns the two directions apart"),
    ("keras.LSTM", "lstm", dict(peepholes=True), "Keras's LSTM has no peepholes"),
]


@pytest.mark.parametrize("backend, cell, opts, reason", REFUSALS, ids=[r[0] + "-" + r[3][:20] for r in REFUSALS])
def test_what_a_framework_cannot_express_is_refused_with_the_reason(backend, cell, opts, reason):
    pytest.importorskip("torch" if backend.startswith("torch") else "tensorflow")
    with pytest.raises(harness.HarnessError, match=re.escape(reason)):
        harness.compare(cell, backends=(backend,), **dict(dict(SIZES, hidden_size=3), **opts))


def test_the_two_kinds_of_tf1_bidirectional_stack_are_different_models():
    """bidirectional_dynamic_rnn over MultiRNNCells runs two separate stacks; torch and
    stack_bidirectional_dynamic_rnn interleave: their layer 1 reads P vs 2P inputs, so the
    weights do not even have the same shapes, and each driver runs only its own kind."""
    pytest.importorskip("tensorflow")
    sep = harness.compare("lstm", backends="tf", layers=2, bidirectional=True, stacking="separate", **SIZES)
    inter = harness.compare("lstm", backends="tf", layers=2, bidirectional=True, **SIZES)
    assert sep.ok and inter.ok
    ran = lambda r: set(r.compared["backend"])
    assert "tf.BasicLSTMCell-bidirectional_dynamic_rnn" in ran(sep) - ran(inter)
    assert "tf.BasicLSTMCell-stack_bidirectional_dynamic_rnn" in ran(inter) - ran(sep)
    from harness.probe import make_probe
    shapes = [make_probe("lstm", layers=2, bidirectional=True, stacking=s, **SIZES).params["weight_ih_l1"].shape
              for s in ("separate", "interleaved")]
    assert shapes == [(12, 3), (12, 6)]


def test_keras_masked_steps_are_read_off_keras_itself():
    """What the keras backend declares for padded steps, checked on Keras 3 directly: a masked
    layer repeats its last real output and carries its state; Bidirectional outputs 0."""
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    x, lengths = rng.standard_normal((2, 5, 3)), np.array([5, 2])
    mask = np.arange(5)[None] < lengths[:, None]
    out, state = keras.layers.SimpleRNN(4, return_sequences=True, return_state=True, dtype="float64")(x, mask=mask)
    out = np.asarray(out)
    assert np.array_equal(out[1, 2:], np.repeat(out[1, 1:2], 3, axis=0))     # carried, not zero
    assert np.array_equal(np.asarray(state)[1], out[1, 1])
    bi = np.asarray(keras.layers.Bidirectional(keras.layers.SimpleRNN(4, return_sequences=True, dtype="float64"))(
        x, mask=mask))
    assert not bi[1, 2:].any() and bi[1, :2].all()


def test_float32_extended_probe_is_compared_at_float32_tolerance():
    pytest.importorskip("torch")
    report = harness.compare("lstm", backends="torch", dtype="float32", bidirectional=True, lengths=[4, 1, 3],
                             proj_size=2, **SIZES)
    assert report.ok and set(report.compared["atol"]) == {1e-4}


@pytest.mark.parametrize("framework", ["torch", "tf", "keras"])
def test_steps_no_sequence_reaches(framework):
    """Every sequence shorter than the padded batch: the last steps exist for none of them;
    their weight contributions are 0 in every framework (a weight copy nothing read)."""
    pytest.importorskip("torch" if framework == "torch" else "tensorflow")
    report = harness.compare("lstm", backends=framework, bidirectional=True, lengths=[3, 2, 1], steps=5,
                             batch=3, input_size=3, hidden_size=3)
    assert report.ok, report.summary()
    late = report.compared[(report.compared["quantity"] == "dweight_hh") & (report.compared["step"] >= 3)]
    assert len(late) and (late["ref_value"] == 0).all()
