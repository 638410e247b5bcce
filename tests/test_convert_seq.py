"""convert for bidirectional, projected and peephole layers, TF1 Saver checkpoints and TF2
object checkpoints: every supported pair round-trips exactly (float64, 0 difference) and the
converted weights are run by each framework itself; what has no exact form is refused."""

import itertools

import numpy as np
import pytest

from harness.backends.reference_seq import run_reference_seq
from harness.cli import main
from harness.convert import keras_model, read, write
from harness.probe import make_probe

torch = pytest.importorskip("torch")


def _reference_out(params, meta, x, lengths=None):
    """The top layer's merged output of the canonical stack on x (N, T, D), zero initial states."""
    from harness.cells import structure_of
    cell = meta["cell"]
    st = structure_of(cell, params, meta.get("merge", "concat"), meta.get("stacking"))
    L = 1 + max(int(k.split("_l")[1].split("_")[0]) for k in params)
    H = params["weight_hh_l0"].shape[0] // {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    options = {"rnn": {"activation": "tanh"}, "gru": {"reset_after": meta.get("reset_after", True)}}.get(
        cell, {"forget_bias": meta.get("forget_bias", 0.0),
               **{k: meta[k] for k in ("cell_clip", "proj_clip") if meta.get(k) is not None}})
    probe = make_probe(cell, layers=L, batch=x.shape[0], steps=x.shape[1], input_size=x.shape[2], hidden_size=H,
                       params=params, bidirectional=st.directions == 2, merge=st.merge, stacking=st.stacking,
                       proj_size=st.proj_size, peepholes=st.peepholes, lengths=lengths, **options)
    import dataclasses
    probe = dataclasses.replace(probe, x=x, state0={s: np.zeros_like(v) for s, v in probe.state0.items()})
    trace = run_reference_seq(probe)
    key = "out" if st.directions == 2 else "h"
    return np.stack([trace.values[(key, L - 1, t)] for t in range(x.shape[1])], axis=1)


TORCH_CASES = list(itertools.product(("RNN", "LSTM", "GRU"), (1, 2, 3), (False, True)))


@pytest.mark.parametrize("cls, layers, proj", [c for c in TORCH_CASES if not (c[2] and c[0] != "LSTM")],
                         ids=lambda v: str(v))
def test_bidirectional_torch_round_trips_exactly_and_computes_what_torch_computes(tmp_path, cls, layers, proj):
    kw = {"proj_size": 2} if proj else {}
    m = getattr(torch.nn, cls)(3, 4, num_layers=layers, bidirectional=True, batch_first=True, dtype=torch.float64,
                               **kw)
    torch.save(m.state_dict(), tmp_path / "m.pt")
    assert main(["convert", str(tmp_path / "m.pt"), str(tmp_path / "m.npz")]) == 0
    assert main(["convert", str(tmp_path / "m.npz"), str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    assert set(back) == set(m.state_dict()) and all(torch.equal(back[k], v) for k, v in m.state_dict().items())
    params, meta = read(tmp_path / "m.npz")
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out, _ = m(torch.tensor(x))
    np.testing.assert_allclose(_reference_out(params, meta, x), out.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("merge", ["concat", "sum", "ave"])
def test_keras_bidirectional_files_round_trip_and_run_in_keras(tmp_path, cls, merge):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((None, 3), dtype="float64")] + [
        keras.layers.Bidirectional(getattr(keras.layers, cls)(4, return_sequences=True, dtype="float64"),
                                   merge_mode=merge, dtype="float64") for _ in range(2)])
    model.save_weights(tmp_path / "k.weights.h5")
    assert main(["convert", str(tmp_path / "k.weights.h5"), str(tmp_path / "k.npz"), "--merge", merge]) == 0
    assert main(["convert", str(tmp_path / "k.npz"), str(tmp_path / "k2.weights.h5")]) == 0
    params, meta = read(tmp_path / "k.npz")
    assert meta["merge"] == merge and meta["stacking"] == "interleaved"
    again = keras_model(params, meta)
    again.load_weights(tmp_path / "k2.weights.h5")
    for a, b in zip(model.weights, again.weights):
        assert np.array_equal(np.asarray(a), np.asarray(b)), a.path
    x = np.random.default_rng(1).standard_normal((2, 5, 3))
    np.testing.assert_allclose(_reference_out(params, meta, x), np.asarray(model(x)), rtol=0, atol=1e-12)
    if merge == "concat":        # into torch and run there
        assert main(["convert", str(tmp_path / "k.npz"), str(tmp_path / "k.pt")]) == 0
        m = getattr(torch.nn, {"SimpleRNN": "RNN"}.get(cls, cls))(3, 4, num_layers=2, bidirectional=True,
                                                                  batch_first=True, dtype=torch.float64)
        m.load_state_dict(torch.load(tmp_path / "k.pt", weights_only=True))
        np.testing.assert_allclose(m(torch.tensor(x))[0].detach().numpy(), np.asarray(model(x)), rtol=0, atol=1e-12)
    else:                        # torch concatenates the two directions: a summed stack has no torch form
        assert main(["convert", str(tmp_path / "k.npz"), str(tmp_path / "k.pt")]) == 2
        assert not (tmp_path / "k.pt").exists()


def _tf1_graph(build, x, lengths, path):
    """Build a TF1 graph (as the tutorials do), run it on x and save it with Saver: (outputs, prefix)."""
    import tensorflow as tf
    from harness.backends._tf import legacy_rnn_cell
    rnn_cell = legacy_rnn_cell()
    g = tf.Graph()
    with g.as_default():
        inp = tf.compat.v1.placeholder(tf.float64, x.shape)
        out = build(tf, rnn_cell, inp, lengths)
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            value = sess.run(out, {inp: x})
            prefix = saver.save(sess, str(path))
    return value, prefix


def _tf1_restore(build, x, lengths, prefix):
    """Build the same graph again, restore ``prefix`` with Saver and run it."""
    import tensorflow as tf
    from harness.backends._tf import legacy_rnn_cell
    rnn_cell = legacy_rnn_cell()
    g = tf.Graph()
    with g.as_default():
        inp = tf.compat.v1.placeholder(tf.float64, x.shape)
        out = build(tf, rnn_cell, inp, lengths)
        with tf.compat.v1.Session(graph=g) as sess:
            tf.compat.v1.train.Saver().restore(sess, prefix)
            return sess.run(out, {inp: x})


def _seed_model(tf, rnn_cell, inp, lengths):
    """seed 002's model: variable_scope('model'), a MultiRNNCell of BasicLSTMCells through dynamic_rnn."""
    with tf.compat.v1.variable_scope("model"):
        cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(4) for _ in range(2)])
        out, _ = tf.compat.v1.nn.dynamic_rnn(cell, inp, sequence_length=lengths, dtype=tf.float64)
    return out


def _separate_peepholes(tf, rnn_cell, inp, lengths):
    """Two separate stacks of LSTMCells with peepholes, a projection and clips."""
    make = lambda: rnn_cell.MultiRNNCell([rnn_cell.LSTMCell(4, use_peepholes=True, num_proj=3, cell_clip=0.7,
                                                            proj_clip=0.5) for _ in range(2)])
    (fw, bw), _ = tf.compat.v1.nn.bidirectional_dynamic_rnn(make(), make(), inp, sequence_length=lengths,
                                                             dtype=tf.float64)
    return tf.concat([fw, bw], 2)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("build, given, kind", [
    (_seed_model, {}, {"cell": "lstm", "forget_bias": 1.0}),
    (_separate_peepholes, {"cell_clip": 0.7, "proj_clip": 0.5}, {"stacking": "separate"}),
], ids=["seed-MultiRNNCell-BasicLSTMCell", "bidirectional-LSTMCell-peepholes-proj-clips"])
def test_tf1_saver_checkpoints_as_tutorials_write_them(tmp_path, build, given, kind):
    pytest.importorskip("tensorflow")
    x = np.random.default_rng(2).standard_normal((3, 5, 3))
    lengths = np.array([5, 2, 4])
    out, prefix = _tf1_graph(build, x, lengths, tmp_path / "model.ckpt")
    params, meta = read(prefix, **given)
    assert {k: meta[k] for k in kind} == kind
    np.testing.assert_allclose(_reference_out(params, meta, x, lengths), out, rtol=0, atol=1e-12)
    write(tmp_path / "canon.npz", params, meta)
    back, meta2 = read(tmp_path / "canon.npz")
    write(tmp_path / "again.ckpt", back, meta2)                        # gradharness writes a Saver checkpoint
    np.testing.assert_array_equal(_tf1_restore(build, x, lengths, str(tmp_path / "again.ckpt")), out)
    import tensorflow as tf
    original, again = tf.train.load_checkpoint(prefix), tf.train.load_checkpoint(str(tmp_path / "again.ckpt"))
    names = {n for n in original.get_variable_to_shape_map() if "_cell/" in n}
    assert names == {n for n in again.get_variable_to_shape_map() if "_cell/" in n}     # the same names
    assert all(np.array_equal(original.get_tensor(n), again.get_tensor(n)) for n in names)  # the same values


def test_tf2_object_checkpoints_round_trip_and_restore(tmp_path):
    keras = pytest.importorskip("keras")
    import tensorflow as tf
    model = keras.Sequential([keras.Input((None, 3), dtype="float64"),
                              keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True, dtype="float64"),
                                                         dtype="float64"),
                              keras.layers.LSTM(2, return_sequences=True, dtype="float64")])
    with pytest.raises(Exception):                   # mixed kinds are not one canonical stack
        read(tf.train.Checkpoint(model=model).write(str(tmp_path / "mixed")))
    model = keras.Sequential([keras.Input((None, 3), dtype="float64")] + [
        keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True, dtype="float64"), dtype="float64")
        for _ in range(2)])
    prefix = tf.train.Checkpoint(model=model).write(str(tmp_path / "obj"))
    params, meta = read(prefix)
    x = np.random.default_rng(3).standard_normal((2, 5, 3))
    np.testing.assert_allclose(_reference_out(params, meta, x), np.asarray(model(x)), rtol=0, atol=1e-12)
    assert main(["convert", prefix, str(tmp_path / "again"), "--to", "tf2"]) == 0
    fresh = keras_model(params, meta)
    for v in fresh.weights:
        v.assign(np.zeros(v.shape))
    tf.train.Checkpoint(model=fresh).read(str(tmp_path / "again")).assert_existing_objects_matched()
    for a, b in zip(model.weights, fresh.weights):
        assert np.array_equal(np.asarray(a), np.asarray(b)), a.path


@pytest.mark.parametrize("source, target, args, reason", [
    (dict(peepholes=True), "t.pt", [], "peepholes: torch's LSTM has none"),
    (dict(proj_size=2), "t.weights.h5", [], "Keras's LSTM has no projection"),
    (dict(bidirectional=True, stacking="separate", layers=2), "t.pt", [], "stacking=separate"),
    (dict(bidirectional=True, stacking="separate", layers=2), "t.weights.h5", [], "stacking=separate"),
    (dict(proj_size=2), "t.pt", ["--cell-clip", "0.5"], "cell_clip: TF1 LSTMCell's clipping has no torch form"),
    (dict(bidirectional=True, merge="sum", layers=2), "t.ckpt", ["--merge", "sum"], "has no TF1 form"),
    (dict(bidirectional=True, merge="sum", layers=2), "t.pt", ["--merge", "sum"], "has no torch form"),
])
def test_what_has_no_exact_form_is_refused_with_the_reason(tmp_path, capsys, source, target, args, reason):
    probe = make_probe("lstm", **{"layers": 1, **source})
    write(tmp_path / "s.npz", probe.params, {"cell": "lstm", "forget_bias": 0.0,
                                             **{k: v for k, v in source.items() if k in ("merge", "stacking")}})
    assert main(["convert", str(tmp_path / "s.npz"), str(tmp_path / target), *args]) == 2
    assert reason in capsys.readouterr().err
    assert not any(p.name.startswith("t.") for p in tmp_path.iterdir())


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_tf1_checkpoint_into_torch_and_back_runs_the_same(tmp_path, capsys):
    """The seed's TF1 checkpoint (forget_bias 1.0 added at call time) into a torch state_dict
    (folded into the forget gate's bias) runs as TF ran it; a torch LSTM into a TF1
    checkpoint runs in TF1 cells built with the forget_bias the note names (0.0)."""
    pytest.importorskip("tensorflow")
    x = np.random.default_rng(4).standard_normal((3, 5, 3))
    lengths = np.array([5, 2, 4])
    out, prefix = _tf1_graph(_seed_model, x, lengths, tmp_path / "seed.ckpt")
    assert main(["convert", prefix, str(tmp_path / "seed.pt")]) == 0
    assert "forget_bias=1.0" in capsys.readouterr().out
    m = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    m.load_state_dict(torch.load(tmp_path / "seed.pt", weights_only=True))
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    got = torch.nn.utils.rnn.pad_packed_sequence(m(packed)[0], batch_first=True, total_length=5)[0]
    np.testing.assert_allclose(got.detach().numpy(), out, rtol=0, atol=1e-12)

    t = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    torch.save(t.state_dict(), tmp_path / "t.pt")
    assert main(["convert", str(tmp_path / "t.pt"), str(tmp_path / "t.ckpt")]) == 0
    assert "build the TF1 cells with forget_bias=0" in capsys.readouterr().out

    def zero_forget_bias(tf, rnn_cell, inp, lengths):
        cell = rnn_cell.MultiRNNCell([rnn_cell.BasicLSTMCell(4, forget_bias=0.0) for _ in range(2)])
        return tf.compat.v1.nn.dynamic_rnn(cell, inp, sequence_length=lengths, dtype=tf.float64)[0]
    expected = torch.nn.utils.rnn.pad_packed_sequence(t(packed)[0], batch_first=True, total_length=5)[0]
    np.testing.assert_allclose(_tf1_restore(zero_forget_bias, x, lengths, str(tmp_path / "t.ckpt")),
                               expected.detach().numpy(), rtol=0, atol=1e-12)
