"""Bad input, table-driven, over the CLI, the API, convert and the pytest plugin.

Every kind asserts the exit code (or the exception type), a single line naming the argument
and no traceback from inside gradharness (the user's own exception may follow as the cause,
with the user's frames only). A few kinds are not errors but verdicts that must not be OK
(a gradient left out: INCOMPLETE, exit 1).
"""

import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest

import harness
from harness.cli import main

torch = pytest.importorskip("torch")
# One worker builds this module's module-scoped fixtures once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("bad_input")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARNESS_DIR = os.path.join(ROOT, "harness")

USER_MODULE = '''
import sys
import numpy as np
from examples.cs231n_rnn import rnn_forward, rnn_backward

def raising_forward(x, h0, Wx, Wh, b):
    return helper(x)

def helper(x):
    raise ValueError("shapes do not align")

def two_values(dh, cache):
    return rnn_backward(dh, cache)[:2]

def no_dh0(dh, cache):
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    return dx, None, dWx, dWh, db

def text_grad(dh, cache):
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    return dx, dh0, "dWx", dWh, db

def exits(x, h0, Wx, Wh, b):
    sys.exit(3)

def interrupted(x, h0, Wx, Wh, b):
    raise KeyboardInterrupt

not_a_function = 3
'''


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("user")
    (d / "bi_user.py").write_text(USER_MODULE)
    (d / "bi_syntax.py").write_text("def forward(x:\n    return x\n")
    (d / "bi_raises.py").write_text("import numpy as np\nSCALE = 1 / 0\n")
    (d / "bi_imports.py").write_text("import no_such_package_xyz\n")
    return d


def cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:                          # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(text, name, cause=False):
    """One line naming ``name``; with ``cause``, the user's traceback may follow, none of our frames."""
    lines = text.strip().splitlines()
    head = lines[: lines.index("the cause, in your code:")] if cause and "the cause, in your code:" in lines else lines
    assert len(head) == 1, text
    assert name in head[0], text
    assert "Traceback" not in head[0]
    assert not any(HARNESS_DIR + os.sep in line for line in lines), text
    if cause:
        assert "the cause, in your code:" in text and len(lines) > len(head) + 1, text


# ---------------------------------------------------------------- CLI: compare and check

BAD_CLI = [  # (id, argv, exit code, name in the message)
    ("atol-negative", ["--atol", "-1"], 2, "atol"),
    ("rtol-inf", ["--rtol", "inf"], 2, "rtol"),
    ("atol-nan", ["--atol", "nan"], 2, "atol"),
    ("rtol-negative", ["--rtol", "-0.5"], 2, "rtol"),
    ("atol-and-rtol-zero", ["--atol", "0", "--rtol", "0"], 2, "atol"),
    ("seed-negative", ["--seed", "-1"], 2, "seed"),
    ("activation-on-lstm", ["--cell", "lstm", "--activation", "relu"], 2, "--activation"),
    ("forget-bias-on-rnn", ["--forget-bias", "1"], 2, "--forget-bias"),
    ("reset-before-on-rnn", ["--reset-before"], 2, "--reset-before"),
    ("reset-before-on-lstm", ["--cell", "lstm", "--reset-before"], 2, "--reset-before"),
    ("activation-on-all-cells", ["--cell", "all", "--activation", "sigmoid"], 2, "--activation"),
    ("forget-bias-nan", ["--cell", "lstm", "--forget-bias", "nan"], 2, "--forget-bias"),
    ("forget-bias-inf", ["--cell", "lstm", "--forget-bias", "inf"], 2, "--forget-bias"),
    ("huge-sizes", ["--hidden-size", "100000", "--steps", "100000"], 2, "hidden_size"),
    ("huge-stack", ["--layers", "100000", "--hidden-size", "5000"], 2, "layers"),
    ("batch-zero", ["--batch", "0"], 2, "batch"),
    ("layers-zero", ["--layers", "0"], 2, "layers"),
    ("steps-negative", ["--steps", "-3"], 2, "steps"),
    ("input-size-zero", ["--input-size", "0"], 2, "input_size"),
    ("cell-typo", ["--cell", "gruu"], 2, "cell"),
    ("cell-typo-in-list", ["--cell", "rnn,gruu"], 2, "cell"),
    ("dtype-float16", ["--dtype", "float16"], 2, "dtype"),
    ("dtype-empty-item", ["--dtype", "float64,"], 2, "dtype"),
    ("activation-unknown", ["--activation", "gelu"], 2, "activation"),
    ("backends-unknown", ["--backends", "jax"], 2, "backends"),
    ("backends-empty", ["--backends", ""], 2, "backends"),
    ("backend-name-unknown", ["--backends", "torch.nn.Bogus"], 2, "backends"),
    ("layers-not-int", ["--layers", "x"], 2, "--layers"),
    ("seed-float", ["--seed", "1.5"], 2, "--seed"),
    ("atol-text", ["--atol", "abc"], 2, "--atol"),
    ("hidden-size-float", ["--hidden-size", "1e3"], 2, "--hidden-size"),
    ("unknown-option", ["--foo"], 2, "--foo"),
]


@pytest.mark.parametrize("argv, code, name", [pytest.param(*k[1:], id=k[0]) for k in BAD_CLI])
def test_cli_compare(tmp_path, capsys, argv, code, name):
    got, out, err = cli(capsys, "compare", "--csv", str(tmp_path / "r.csv"), "--html", str(tmp_path / "r.html"),
                        *argv)
    assert got == code
    assert_one_line(err, name)
    assert not any(tmp_path.iterdir())                 # nothing written


def test_a_tolerance_larger_than_the_gradients_is_blamed_not_the_probe(tmp_path, capsys):
    got, out, err = cli(capsys, "compare", "--csv", "", "--html", "", "--atol", "1e6")
    assert got == 2
    assert err.startswith("gradharness: error: atol: ") and "give a smaller atol" in err, err


def test_cli_without_a_command(capsys):
    code, _, err = cli(capsys)
    assert code == 2
    assert_one_line(err, "command")


def _fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    return str(tmp_path / "pipe")


def _socket(tmp_path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(tmp_path / "sock"))
    return str(tmp_path / "sock")


BAD_PATHS = [  # (id, make(tmp) -> [extra argv], name)
    ("html-is-a-directory", lambda t: ["--html", str(t)], "--html"),
    ("csv-under-a-file", lambda t: (t / "f.txt").write_text("x") and ["--csv", str(t / "f.txt" / "r.csv")], "--csv"),
    ("csv-and-html-same-file", lambda t: ["--csv", str(t / "r.x"), "--html", str(t / "r.x")], "--csv and --html"),
    ("csv-is-a-fifo-without-reader", lambda t: ["--csv", _fifo(t)], "--csv"),
    ("html-is-a-socket", lambda t: ["--html", _socket(t)], "--html"),
]


@pytest.mark.parametrize("make, name", [pytest.param(*k[1:], id=k[0]) for k in BAD_PATHS])
def test_cli_report_paths(tmp_path, capsys, make, name):
    argv = ["compare", "--csv", str(tmp_path / "ok.csv"), "--html", str(tmp_path / "ok.html")] + make(tmp_path)
    code, _, err = cli(capsys, *argv)
    assert code == 2
    assert_one_line(err, name)
    assert ".gradharness-" not in err                  # the user's path, never a temporary name
    assert not (tmp_path / "ok.csv").exists()          # nothing published when one of the two fails


BAD_CHECK = [  # (id, forward, backward, extra argv, exit code, name, the user's traceback follows)
    ("no-colon", "bi_user", "bi_user:rnn_backward", [], 2, "forward", False),
    ("no-such-module", "no_such_mod:f", "bi_user:rnn_backward", [], 2, "forward", False),
    ("no-such-function", "bi_user:nothing", "bi_user:rnn_backward", [], 2, "forward", False),
    ("not-a-function", "bi_user:rnn_forward", "bi_user:not_a_function", [], 2, "backward", False),
    ("module-syntax-error", "bi_syntax:forward", "bi_user:rnn_backward", [], 2, "forward", True),
    ("module-raises-on-import", "bi_raises:f", "bi_user:rnn_backward", [], 2, "forward", True),
    ("module-imports-missing-package", "bi_imports:f", "bi_user:rnn_backward", [], 2, "forward", True),
    ("forward-raises", "bi_user:raising_forward", "bi_user:rnn_backward", [], 2, "forward", True),
    ("forward-calls-sys-exit", "bi_user:exits", "bi_user:rnn_backward", [], 2, "forward", True),
    ("backward-wrong-count", "bi_user:rnn_forward", "bi_user:two_values", [], 2, "backward", False),
    ("backward-text-gradient", "bi_user:rnn_forward", "bi_user:text_grad", [], 2, "dWx", False),
    ("layout-unknown", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--layout", "bogus"], 2, "layout", False),
    ("layout-wrong-cell", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--layout", "karpathy", "--cell", "gru"],
     2, "layout", False),
    ("against-unknown", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--against", "bogus"], 2, "against", False),
    ("against-empty", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--against", ""], 2, "against", False),
    ("numeric-full-without-numeric", "bi_user:rnn_forward", "bi_user:rnn_backward",
     ["--numeric", "full", "--against", "reference"], 2, "numeric", False),
    ("numeric-unknown", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--numeric", "sometimes"], 2, "numeric",
     False),
    ("skip-unknown", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--skip", "dq"], 2, "skip", False),
    ("check-atol-negative", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--atol", "-1"], 2, "atol", False),
    ("check-activation-on-lstm", "bi_user:rnn_forward", "bi_user:rnn_backward",
     ["--cell", "lstm", "--activation", "relu"], 2, "activation", False),
    ("check-seed-negative", "bi_user:rnn_forward", "bi_user:rnn_backward", ["--seed", "-5"], 2, "seed", False),
    ("check-huge-sizes", "bi_user:rnn_forward", "bi_user:rnn_backward",
     ["--hidden-size", "200000", "--steps", "100000"], 2, "hidden_size", False),
]


@pytest.mark.parametrize("fwd, bwd, extra, code, name, cause", [pytest.param(*k[1:], id=k[0]) for k in BAD_CHECK])
def test_cli_check(user_dir, monkeypatch, capsys, fwd, bwd, extra, code, name, cause):
    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.chdir(user_dir)
    got, _, err = cli(capsys, "check", fwd, bwd, "--against", "reference", "--csv", "", "--html", "", *extra)
    assert got == code, err
    assert_one_line(err, name, cause)


def test_cli_check_none_gradient_is_incomplete_unless_skipped(user_dir, monkeypatch, capsys):
    """Not an error, a verdict: a gradient returned as None is never an OK (exit 1), unless declared."""
    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.chdir(user_dir)
    argv = ["check", "bi_user:rnn_forward", "bi_user:no_dh0", "--against", "reference", "--csv", "", "--html", ""]
    code, out, _ = cli(capsys, *argv)
    assert code == 1 and "INCOMPLETE" in out and "dh0" in out
    code, out, _ = cli(capsys, *argv, "--skip", "dh0")
    assert code == 0 and "OK: all" in out


def test_cli_check_interrupt_in_user_code_exits_130(user_dir, monkeypatch, capsys, tmp_path):
    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.chdir(user_dir)
    code, _, err = cli(capsys, "check", "bi_user:interrupted", "bi_user:rnn_backward", "--csv",
                       str(tmp_path / "c.csv"), "--html", str(tmp_path / "c.html"))
    assert code == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- convert


def _lstm_state(prefix=""):
    m = torch.nn.LSTM(3, 4, dtype=torch.float64)
    return {prefix + k: v for k, v in m.state_dict().items()}


def _save(obj):
    def make(t):
        torch.save(obj() if callable(obj) else obj, t / "in.pt")
        return t / "in.pt"
    return make


def _npz(**arrays):
    def make(t):
        np.savez(t / "in.npz", **arrays)
        return t / "in.npz"
    return make


def _raw(name, data):
    def make(t):
        (t / name).write_bytes(data)
        return t / name
    return make


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _evil(t):
    (t / "in.pt").write_bytes(pickle.dumps({"weight_ih_l0": _Evil()}))
    return t / "in.pt"


def _truncated(t):
    torch.save(_lstm_state(), t / "full.pt")
    (t / "in.pt").write_bytes((t / "full.pt").read_bytes()[:300])
    return t / "in.pt"


def _nan_state():
    state = _lstm_state()
    state["bias_hh_l0"][0] = float("nan")
    return state


def _h5_without_layers(t):
    import h5py
    with h5py.File(t / "in.weights.h5", "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    return t / "in.weights.h5"


def _dir_pt(t):
    (t / "in.pt").mkdir()
    return t / "in.pt"


RNN_NPZ = dict(weight_ih_l0=np.ones((5, 3)), weight_hh_l0=np.ones((5, 5)))

BAD_CONVERT = [  # (id, make(tmp) -> input path, extra argv, output name, message fragment)
    ("cell-typo", _save(_lstm_state), ["--cell", "gruu"], "out.npz", "cell"),
    ("input-unknown-extension", _raw("in.txt", b"x"), [], "out.npz", "input"),
    ("output-unknown-extension", _save(_lstm_state), [], "out.txt", "output"),
    ("input-missing", lambda t: t / "missing.pt", [], "out.npz", "input"),
    ("input-is-a-directory", _dir_pt, [], "out.npz", "input"),
    ("npz-empty", _npz(), [], "out.pt", "input"),
    ("npz-other-names", _npz(a=np.ones(3), b=np.ones(2)), [], "out.pt", "input"),
    ("npz-object-array", _npz(weight_ih_l0=np.array([object()], dtype=object)), [], "out.pt", "input"),
    ("npz-integer-weights", _npz(weight_ih_l0=np.ones((5, 3), int), weight_hh_l0=np.ones((5, 5), int)), [],
     "out.pt", "input"),
    ("npz-not-a-zip", _raw("in.npz", b"not a zip at all"), [], "out.pt", "input"),
    ("npz-gate-count", _npz(weight_ih_l0=np.ones((7, 3)), weight_hh_l0=np.ones((7, 5))), [], "out.pt", "weights"),
    ("npz-layer-gap", _npz(**RNN_NPZ, weight_ih_l2=np.ones((5, 5)), weight_hh_l2=np.ones((5, 5))), [], "out.pt",
     "weights"),
    ("npz-meta-cell-unknown", _npz(**RNN_NPZ, **{"meta.cell": np.array("foo")}), [], "out.pt", "cell"),
    ("npz-meta-forget-bias-nan", _npz(**RNN_NPZ, **{"meta.forget_bias": np.array(np.nan)}), [], "out.pt",
     "forget_bias"),
    ("pt-pickled-module", _save(lambda: torch.nn.LSTM(3, 4)), [], "out.npz", "holds a pickled torch.nn.LSTM module"),
    ("pt-malicious-pickle", _evil, [], "out.npz", "never unpickles code"),
    ("pt-non-tensors", _save({"a": [1, 2], "b": 3}), [], "out.npz", "non-tensors"),
    ("pt-cnn-state-dict", _save(lambda: torch.nn.Linear(2, 2).state_dict()), [], "out.npz", "weight_ih_l0"),
    ("pt-whole-model-state-dict", _save(lambda: _lstm_state("rnn.")), [], "out.npz", "model.rnn.state_dict()"),
    ("pt-random-bytes", _raw("in.pt", b"\x00garbage" * 10), [], "out.npz", "not a torch file"),
    ("pt-truncated", _truncated, [], "out.npz", "input"),
    ("pt-single-tensor", _save(lambda: torch.zeros(3)), [], "out.npz", "holds a Tensor"),
    ("pt-integer-tensors", _save(lambda: {"weight_ih_l0": torch.zeros(4, 3, dtype=torch.int64)}), [], "out.npz",
     "int64"),
    ("pt-bfloat16", _save(lambda: {k: v.to(torch.bfloat16) for k, v in _lstm_state().items()}), [], "out.npz",
     "bfloat16"),
    ("pt-nan-weights", _save(_nan_state), [], "out.npz", "--allow-nonfinite"),
    ("reset-before-on-lstm", _save(_lstm_state), ["--reset-before"], "out.npz", "--reset-before"),
    ("h5-not-hdf5", _raw("in.weights.h5", b"plain text"), [], "out.npz", "input"),
    ("h5-without-layers", _h5_without_layers, [], "out.npz", "input"),
    ("output-is-a-directory", _save(_lstm_state), [], "outdir.npz", "output"),
    ("output-under-a-file", _save(_lstm_state), [], "afile/out.npz", "output"),
]


@pytest.mark.parametrize("make, extra, output, fragment", [pytest.param(*k[1:], id=k[0]) for k in BAD_CONVERT])
def test_convert(tmp_path, capsys, make, extra, output, fragment):
    (tmp_path / "outdir.npz").mkdir()
    (tmp_path / "afile").write_text("x")
    src = make(tmp_path)
    code, _, err = cli(capsys, "convert", str(src), str(tmp_path / output), *extra)
    assert code == 2
    assert_one_line(err, fragment)
    assert "weights_only=False" not in err             # never an invitation to unpickle
    assert not (tmp_path / "out.npz").exists() and not (tmp_path / "out.pt").exists()


def test_convert_nan_weights_with_allow_nonfinite(tmp_path, capsys):
    torch.save(_nan_state(), tmp_path / "in.pt")
    assert cli(capsys, "convert", str(tmp_path / "in.pt"), str(tmp_path / "out.npz"), "--allow-nonfinite")[0] == 0
    assert np.isnan(np.load(tmp_path / "out.npz")["bias_hh_l0"][0])


def test_reset_before_gru_into_torch_names_the_option(tmp_path, capsys):
    torch.save(torch.nn.GRU(3, 4).state_dict(), tmp_path / "g.pt")
    assert cli(capsys, "convert", str(tmp_path / "g.pt"), str(tmp_path / "g.npz"), "--reset-before")[0] == 0
    code, _, err = cli(capsys, "convert", str(tmp_path / "g.npz"), str(tmp_path / "g2.pt"))
    assert code == 2
    assert_one_line(err, "reset_after=False")


# ---------------------------------------------------------------- the API


def _fwd():
    from examples.cs231n_rnn import rnn_forward
    return rnn_forward


def _bwd():
    from examples.cs231n_rnn import rnn_backward
    return rnn_backward


def _params(**change):
    rng = np.random.default_rng(0)
    p = {"weight_ih_l0": rng.uniform(-.4, .4, (5, 4)), "weight_hh_l0": rng.uniform(-.4, .4, (5, 5)),
         "bias_ih_l0": rng.uniform(-.4, .4, 5), "bias_hh_l0": rng.uniform(-.4, .4, 5)}
    for k, v in change.items():
        p[k] = v(p[k]) if callable(v) else v
    return p


def _with(index, value):
    def put(a):
        a = np.array(a)
        a[index] = value
        return a
    return put


def model_fn(params, x, target):
    """One tanh layer, linear head, squared error at every step (the README's example)."""
    Wx, Wh = params["weight_ih_l0"], params["weight_hh_l0"]
    b, Wy, by = params["bias_ih_l0"] + params["bias_hh_l0"], params["head.weight"], params["head.bias"]
    N, T, _ = x.shape
    hs, h = [], np.zeros((N, Wh.shape[0]))
    for t in range(T):
        h = np.tanh(x[:, t] @ Wx.T + h @ Wh.T + b)
        hs.append(h)
    ys = [h @ Wy.T + by for h in hs]
    loss = sum(((y - target[:, t]) ** 2).sum() for t, y in enumerate(ys))
    g = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next = np.zeros_like(h)
    for t in reversed(range(T)):
        dy = 2 * (ys[t] - target[:, t])
        g["head.weight"] += dy.T @ hs[t]
        g["head.bias"] += dy.sum(0)
        da = (dy @ Wy + dh_next) * (1 - hs[t] ** 2)
        g["weight_ih_l0"] += da.T @ x[:, t]
        g["weight_hh_l0"] += da.T @ (hs[t - 1] if t else np.zeros_like(h))
        g["bias_ih_l0"] += da.sum(0)
        dh_next = da @ Wh
    g["bias_hh_l0"] = g["bias_ih_l0"].copy()
    return loss, g


MODEL = dict(head="linear", output_size=2, against="reference")


def _model(change_fn=None, **options):
    def fn(params, x, target):
        loss, grads = model_fn(params, x, target)
        return change_fn(loss, grads) if change_fn else (loss, grads)
    return lambda: harness.check_model(fn, **{**MODEL, **options})


def _check(backward=None, **options):
    return lambda: harness.check_backward(_fwd(), backward or _bwd(), **{"against": "reference", **options})


def _requires_grad(dh, cache):
    dx, dh0, dWx, dWh, db = _bwd()(dh, cache)
    return dx, dh0, torch.tensor(dWx, requires_grad=True), dWh, db


def _ragged(dh, cache):
    dx, dh0, dWx, dWh, db = _bwd()(dh, cache)
    return dx, dh0, [[1.0, 2.0], [3.0]], dWh, db


def _complex(dh, cache):
    dx, dh0, dWx, dWh, db = _bwd()(dh, cache)
    return dx, dh0, dWx.astype(complex), dWh, db


def _exits(dh, cache):
    raise SystemExit(1)


def _compare(**options):
    return lambda: harness.compare("rnn", **options)


def _report_call(method):
    def run(t):
        report = harness.compare("rnn", steps=2)
        (t / "r").mkdir()
        return method(report, t)
    return run


BAD_API = [  # (id, call() or call(tmp), exception type, name in the message)
    ("compare-backends-none", _compare(backends=None), harness.HarnessError, "backends"),
    ("compare-backends-ints", _compare(backends=[1]), harness.HarnessError, "backends"),
    ("compare-params-list", _compare(params=list(_params().values())), harness.HarnessError, "params"),
    ("compare-params-requires-grad", _compare(params=_params(weight_hh_l0=lambda a: torch.tensor(a, requires_grad=True))),
     harness.HarnessError, "params['weight_hh_l0']"),
    ("compare-params-inf-bias", _compare(params=_params(bias_ih_l0=_with(0, np.inf))), harness.HarnessError,
     "params['bias_ih_l0']"),
    ("compare-params-nan", _compare(params=_params(weight_ih_l0=_with((0, 0), np.nan))), harness.HarnessError,
     "params['weight_ih_l0']"),
    ("compare-params-saturated", _compare(params=_params(bias_ih_l0=lambda a: a + 1e6)), harness.HarnessError,
     "params"),
    ("compare-params-saturated-allowed-inf", _compare(params=_params(bias_ih_l0=lambda a: a + np.inf),
                                                      allow_nonfinite=True), harness.HarnessError, "params"),
    ("compare-params-missing-name", _compare(params={"weight_ih_l0": np.ones((5, 4))}), harness.HarnessError,
     "params"),
    ("compare-params-transposed", _compare(params=_params(weight_ih_l0=lambda a: a.T)), harness.HarnessError,
     "params['weight_ih_l0']"),
    ("compare-params-integer", _compare(params=_params(bias_hh_l0=np.ones(5, int))), harness.HarnessError,
     "params['bias_hh_l0']"),
    ("compare-params-key-not-str", _compare(params={0: np.ones(3)}), harness.HarnessError, "params"),
    ("compare-seed-float", _compare(seed=1.5), harness.HarnessError, "seed"),
    ("compare-seed-negative", _compare(seed=-1), harness.HarnessError, "seed"),
    ("compare-seed-text", _compare(seed="0"), harness.HarnessError, "seed"),
    ("compare-seed-none", _compare(seed=None), harness.HarnessError, "seed"),
    ("compare-atol-negative", _compare(atol=-1e-3), harness.HarnessError, "atol"),
    ("compare-rtol-inf", _compare(rtol=float("inf")), harness.HarnessError, "rtol"),
    ("compare-atol-nan", _compare(atol=float("nan")), harness.HarnessError, "atol"),
    ("compare-both-tolerances-zero", _compare(atol=0, rtol=0.0), harness.HarnessError, "atol"),
    ("compare-atol-text", _compare(atol="1e-3"), harness.HarnessError, "atol"),
    ("compare-atol-bool", _compare(atol=True), harness.HarnessError, "atol"),
    ("compare-bias-text", _compare(bias="no"), harness.HarnessError, "bias"),
    ("compare-cell-list", lambda: harness.compare(["rnn"]), harness.HarnessError, "cell"),
    ("compare-activation-on-lstm", lambda: harness.compare("lstm", activation="relu"), harness.HarnessError,
     "activation"),
    ("compare-forget-bias-on-gru", lambda: harness.compare("gru", forget_bias=1.0), harness.HarnessError,
     "forget_bias"),
    ("compare-reset-after-on-rnn", _compare(reset_after=False), harness.HarnessError, "reset_after"),
    ("compare-layers-float", _compare(layers=2.0), harness.HarnessError, "layers"),
    ("compare-layers-bool", _compare(layers=True), harness.HarnessError, "layers"),
    ("compare-huge", _compare(hidden_size=10 ** 6, steps=10 ** 5), harness.HarnessError, "hidden_size"),
    ("compare-dtype-float16", _compare(dtype="float16"), harness.HarnessError, "dtype"),
    ("compare-allow-nonfinite-text", _compare(allow_nonfinite="yes"), harness.HarnessError, "allow_nonfinite"),
    ("check-against-none", _check(against=None), harness.HarnessError, "against"),
    ("check-forward-none", lambda: harness.check_backward(None, _bwd()), harness.HarnessError, "forward"),
    ("check-numeric-full-without-numeric", _check(numeric="full"), harness.HarnessError, "numeric"),
    ("check-skip-int", _check(skip=5), harness.HarnessError, "skip"),
    ("check-skip-unknown", _check(skip=("dq",)), harness.HarnessError, "skip"),
    ("check-layout-none", _check(layout=None), harness.HarnessError, "layout"),
    ("check-seed-negative", _check(seed=-3), harness.HarnessError, "seed"),
    ("check-backward-requires-grad", _check(_requires_grad), harness.HarnessError, "dWx"),
    ("check-backward-complex", _check(_complex), harness.HarnessError, "dWx"),
    ("check-backward-sys-exit", _check(_exits), harness.HarnessError, "backward"),
    ("model-fn-none", lambda: harness.check_model(None), harness.HarnessError, "fn"),
    ("model-head-bias-without-head", lambda: harness.check_model(model_fn, head_bias=False), harness.HarnessError,
     "head_bias"),
    ("model-reduction-with-mse", _model(loss="mean_squared_error", reduction="mean"), harness.HarnessError,
     "reduction"),
    ("model-output-size-float", _model(output_size=2.5), harness.HarnessError, "output_size"),
    ("model-loss-steps-text", _model(loss_steps="abc"), harness.HarnessError, "loss_steps"),
    ("model-skip-unknown", _model(skip=("bogus",)), harness.HarnessError, "skip"),
    ("model-against-none", _model(against=None), harness.HarnessError, "against"),
    ("model-grads-list", _model(lambda loss, g: (loss, list(g.values()))), harness.HarnessError, "grads"),
    ("model-loss-none", _model(lambda loss, g: (None, g)), harness.HarnessError, "loss"),
    ("model-tolerance-inf", _model(rtol=float("inf")), harness.HarnessError, "rtol"),
    ("report-to-csv-directory", _report_call(lambda r, t: r.to_csv(t / "r")), harness.HarnessError, "path"),
    ("report-save-same-file", _report_call(lambda r, t: r.save(t / "x", t / "x")), harness.HarnessError,
     "csv and html"),
]


@pytest.mark.parametrize("call, exc_type, name", [pytest.param(*k[1:], id=k[0]) for k in BAD_API])
def test_api(tmp_path, call, exc_type, name):
    import inspect
    with pytest.raises(exc_type) as info:
        call(tmp_path) if inspect.signature(call).parameters else call()
    message = str(info.value)
    assert name in message and "\n" not in message, message
    assert type(info.value) is not ValueError and type(info.value) is not TypeError


def test_ragged_gradient_is_a_failing_row_naming_it():
    """Not an error, a verdict: a ragged list where dWx belongs fails that row, the rest is compared."""
    report = _check(_ragged)()
    row = report.table[report.table["quantity"] == "dweight_ih"]
    assert report.verdict == "MISMATCH" and list(row["status"]) == ["FAIL"]
    assert "dWx is a list that is not an array" in row["note"].iloc[0]
    assert (report.table[report.table["quantity"] == "dweight_hh"]["status"] == "pass").all()


def test_model_gradient_left_out_is_incomplete_unless_declared():
    """Not an error, a verdict: a parameter left out of grads is never an OK."""
    def drop(loss, g):
        del g["weight_hh_l0"]
        return loss, g
    report = _model(drop)()
    assert report.verdict == "INCOMPLETE" and "weight_hh_l0" in report.summary()
    assert _model(drop, skip=("weight_hh_l0",))().verdict == "OK"


def test_seed003_bug_is_never_hidden_by_a_tolerance(capsys):
    """The known bug fails at the defaults; a tolerance that would hide it is refused, not honoured."""
    from examples.cs231n_rnn import rnn_backward_seed003
    assert harness.check_backward(_fwd(), rnn_backward_seed003, against="reference").verdict == "MISMATCH"
    for tol in (dict(atol=-1.0), dict(rtol=float("inf")), dict(atol=float("inf"))):
        with pytest.raises(harness.HarnessError):
            harness.check_backward(_fwd(), rnn_backward_seed003, against="reference", **tol)


# ---------------------------------------------------------------- the pytest plugin

PLUGIN_TESTS = '''
import os
import numpy as np
from examples.cs231n_rnn import rnn_forward, rnn_backward

def test_tolerance(bptt):
    bptt.check_backward(rnn_forward, rnn_backward, layout="cs231n", against="reference", atol=-1)

def test_seed(bptt):
    bptt.compare("rnn", seed=-1)

def test_option_for_another_cell(bptt):
    bptt.compare("lstm", activation="relu")

def test_head_bias(bptt):
    bptt.check_model(lambda p, x, t: None, head_bias=False)

def test_backward_none(bptt):
    bptt.check_backward(rnn_forward, None, against="reference")

def test_params_nan(bptt):
    bptt.compare("rnn", params={"weight_ih_l0": np.full((5, 4), np.nan)})

def test_user_raises(bptt):
    def backward(dh, cache):
        raise RuntimeError("my own bug")
    bptt.check_backward(rnn_forward, backward, against="reference")

def test_passes_although_reports_unwritable(bptt, tmp_path):
    os.chdir(tmp_path)                       # the reports folder was resolved at session start
    bptt.check_backward(rnn_forward, rnn_backward, against="reference")
'''

BAD_PLUGIN = [  # (id, test name, the failure's message fragment)
    ("plugin-atol", "test_tolerance", "HarnessError: atol:"),
    ("plugin-seed", "test_seed", "HarnessError: seed:"),
    ("plugin-activation", "test_option_for_another_cell", "HarnessError: activation:"),
    ("plugin-head-bias", "test_head_bias", "HarnessError: head_bias:"),
    ("plugin-backward-none", "test_backward_none", "HarnessError: backward:"),
    ("plugin-params-nan", "test_params_nan", "HarnessError: params['weight_ih_l0']:"),
    ("plugin-user-exception", "test_user_raises", "UserCodeError: backward raised RuntimeError: my own bug"),
]


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    """One pytest run of the user tests above; --gradharness-reports names a folder under a file."""
    d = tmp_path_factory.mktemp("plugin")
    (d / "test_user_plugin.py").write_text(PLUGIN_TESTS)
    (d / "a_file").write_text("x")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                           "--gradharness-reports", "a_file/reports", "test_user_plugin.py"],
                          cwd=d, capture_output=True, text=True, env=env, timeout=600)
    return proc.stdout + proc.stderr


def _section(output, test):
    start = output.index(f"_ {test} _")
    end = output.find("\n___", start + 1)
    return output[start: end if end != -1 else len(output)]


@pytest.mark.parametrize("test, fragment", [pytest.param(*k[1:], id=k[0]) for k in BAD_PLUGIN])
def test_plugin(plugin_run, test, fragment):
    section = _section(plugin_run, test)
    assert f"FAILED test_user_plugin.py::{test}" in plugin_run
    errors = [line for line in section.splitlines() if line.startswith("E ")]
    if "UserCodeError" in fragment:                    # the user's own exception first, as the cause
        assert "The above exception was the direct cause" in section and len(errors) == 2, section
        errors = errors[1:]
    assert len(errors) == 1 and fragment in errors[0], section     # one line, naming the argument
    assert HARNESS_DIR + os.sep not in section and "harness/" not in section, section   # none of our frames


def test_plugin_unwritable_reports_are_a_warning_not_a_failure(plugin_run):
    assert "passed" in plugin_run and "FAILED test_user_plugin.py::test_passes_although" not in plugin_run
    warning = next(line for line in plugin_run.splitlines() if "report(s) not written" in line)
    assert "--gradharness-reports" in warning and "a_file" in warning and ".gradharness-" not in warning


def test_plugin_reports_folder_resolved_at_session_start(pytester, monkeypatch):
    pytester.makepyfile(test_cd='''
import os
from examples.cs231n_rnn import rnn_forward, rnn_backward

def test_moves(bptt, tmp_path):
    os.chdir(tmp_path)
    bptt.check_backward(rnn_forward, rnn_backward, against="reference")
''')
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gradharness-reports", "out")
    result.assert_outcomes(passed=1)
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == ["test_cd.py_test_moves.csv",
                                                                         "test_cd.py_test_moves.html"]


# ---------------------------------------------------------------- exit codes 3 and 130


def test_a_bug_in_gradharness_exits_3_with_one_line(tmp_path, capsys, monkeypatch):
    import harness.api

    def broken(*a, **k):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(harness.api, "compare_probe", broken)
    argv = ["compare", "--csv", str(tmp_path / "r.csv"), "--html", ""]
    code, _, err = cli(capsys, *argv)
    assert code == 3
    assert_one_line(err, "this is a bug in gradharness")
    assert "--traceback" in err
    code, _, err = cli(capsys, *argv, "--traceback")
    assert code == 3 and "Traceback (most recent call last)" in err and "unsupported operand" in err


def test_interrupt_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    import harness.api

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(harness.api, "compare_probe", interrupted)
    code, _, err = cli(capsys, "compare", "--csv", str(tmp_path / "r.csv"), "--html", str(tmp_path / "r.html"))
    assert code == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err
    assert not any(tmp_path.iterdir())


def test_memory_error_is_a_usage_error(tmp_path, capsys, monkeypatch):
    import harness.api

    def too_big(*a, **k):
        raise MemoryError("Unable to allocate 74.5 GiB")

    monkeypatch.setattr(harness.api, "compare_probe", too_big)
    code, _, err = cli(capsys, "compare", "--csv", "", "--html", "")
    assert code == 2
    assert_one_line(err, "--hidden-size")


def test_real_process_one_line_and_real_ctrl_c(tmp_path):
    """In a real process: a usage error is exactly one stderr line; SIGINT while the user's code
    runs exits 130 with one line and no report."""
    import signal
    import time
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "harness", "compare", "--seed", "-1"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "seed" in proc.stderr, proc.stderr
    (tmp_path / "slow_user.py").write_text(
        "import pathlib, time\n"
        "def forward(x, h0, Wx, Wh, b):\n"
        "    pathlib.Path('started').write_text('x')\n"
        "    time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-m", "harness", "check", "slow_user:forward", "slow_user:forward",
                              "--against", "reference", "--csv", "c.csv", "--html", "c.html"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "started").exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.1)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130 and err.count("\n") == 1 and "interrupted" in err, err
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "c.html").exists()
