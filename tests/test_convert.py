"""gradharness convert: torch state_dict <-> canonical .npz <-> Keras weights file, safely."""

import numpy as np
import pytest

from harness.cli import main
from harness.convert import read
from harness.layouts.torch_layout import from_torch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_torch_to_npz_to_torch_is_exact(tmp_path, cls):
    m = getattr(torch.nn, cls)(3, 4, num_layers=2, dtype=torch.float64)
    torch.save(m.state_dict(), tmp_path / "m.pt")
    assert main(["convert", str(tmp_path / "m.pt"), str(tmp_path / "m.npz")]) == 0
    assert main(["convert", str(tmp_path / "m.npz"), str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    for name, p in m.state_dict().items():
        assert torch.equal(back[name], p), name
    params, meta = read(tmp_path / "m.npz")
    assert meta["cell"] == cls.lower() and params["weight_hh_l1"].shape[1] == 4


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_torch_to_keras_file_and_back(tmp_path, cls):
    pytest.importorskip("keras")
    m = getattr(torch.nn, cls)(3, 4, num_layers=2, dtype=torch.float64)
    torch.save(m.state_dict(), tmp_path / "m.pt")
    assert main(["convert", str(tmp_path / "m.pt"), str(tmp_path / "m.weights.h5")]) == 0
    params, meta = read(tmp_path / "m.weights.h5")
    expected = from_torch(m)
    if cls in ("RNN", "LSTM"):         # Keras holds one bias: b_ih + b_hh, read back as bias_ih
        for k in range(2):
            expected[f"bias_ih_l{k}"] = expected[f"bias_ih_l{k}"] + expected[f"bias_hh_l{k}"]
            expected[f"bias_hh_l{k}"] = np.zeros_like(expected[f"bias_hh_l{k}"])
    assert set(params) == set(expected)
    for k, v in expected.items():
        np.testing.assert_allclose(params[k], v, rtol=0, atol=1e-15, err_msg=k)
    # the converted file computes what the torch module computes: load it into Keras itself
    keras = pytest.importorskip("keras")
    layer_cls = {"RNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}[cls]
    model = keras.Sequential([keras.Input((None, 3), dtype="float64")]
                             + [layer_cls(4, return_sequences=True, dtype="float64") for _ in range(2)])
    model.load_weights(str(tmp_path / "m.weights.h5"))
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    expected_out, _ = m(torch.tensor(x).transpose(0, 1))                    # (T, N, H): time-major module
    np.testing.assert_allclose(np.asarray(model(x)), expected_out.detach().numpy().transpose(1, 0, 2),
                               rtol=0, atol=1e-12)


def test_reset_before_gru_into_torch_is_refused(tmp_path, capsys):
    m = torch.nn.GRU(3, 4, dtype=torch.float64)
    torch.save(m.state_dict(), tmp_path / "g.pt")
    assert main(["convert", str(tmp_path / "g.pt"), str(tmp_path / "g.npz"), "--reset-before"]) == 0
    assert main(["convert", str(tmp_path / "g.npz"), str(tmp_path / "g2.pt")]) == 2
    err = capsys.readouterr().err
    assert "reset_after=False" in err and "no exact torch form" in err
    assert not (tmp_path / "g2.pt").exists()


def test_pickled_code_is_not_loaded(tmp_path, capsys):
    import pickle
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"weight_ih_l0": object()}))
    assert main(["convert", str(tmp_path / "evil.pt"), str(tmp_path / "out.npz")]) == 2
    err = capsys.readouterr().err
    assert "builtins.object" in err and "never unpickles code" in err and "weights_only=False" not in err


def test_npz_with_objects_is_refused(tmp_path, capsys):
    np.savez(tmp_path / "obj.npz", weight_ih_l0=np.array([object()], dtype=object))
    assert main(["convert", str(tmp_path / "obj.npz"), str(tmp_path / "out.pt")]) == 2


@pytest.mark.parametrize("args, message", [
    (["in.txt", "out.npz"], "expected a .pt/.pth (torch state_dict), .weights.h5 (Keras), .npz (canonical) or .ckpt"),
    (["missing.pt", "out.npz"], "input: expected an existing file, got 'missing.pt' (no such file)"),
])
def test_bad_paths(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("x")
    assert main(["convert", *args]) == 2
    assert message in capsys.readouterr().err
