"""Property tests (hypothesis) of the boundary with the user's code and arrays.

The user's functions are the right ones (examples.cs231n_rnn, the README's check_model fn)
wrapped to return their values changed at random: NaN/Inf at a random place, a perturbed
element, a wrong dtype, shape or container, None, a torch tensor, zeros, the transpose;
to write into their own inputs and caches, and to scribble over arrays they returned
earlier (buffer reuse). Whatever comes back:

- the verdict is never OK when any returned value differs from the truth (at the
  tolerance the report used), and is OK when none does;
- nothing but a one-line HarnessError escapes (never a traceback from inside gradharness);
- the arrays the user returned, and the params the user handed over, are never modified.
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harness
from examples.cs231n_rnn import rnn_backward, rnn_forward
from harness.errors import HarnessError

torch = pytest.importorskip("torch")

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

TRUTHFUL = st.one_of(st.just(("same",)), st.just(("list",)), st.just(("torch",)), st.just(("scribble",)),
                    st.tuples(st.just("dtype"), st.sampled_from(["float32", "float16"])))
MUTATION = st.one_of(
    TRUTHFUL,
    st.tuples(st.just("dtype"), st.sampled_from(["int64", "complex128", "bool"])),
    st.tuples(st.just("nonfinite"), st.sampled_from([np.nan, np.inf, -np.inf]), st.integers(0, 10 ** 6)),
    st.tuples(st.just("perturb"), st.integers(0, 10 ** 6), st.sampled_from([1e-2, -1e-2, 1.0])),
    st.just(("none",)), st.just(("zeros",)), st.just(("transpose",)), st.just(("squeeze",)),
    st.just(("scale",)),
)
SIZES = st.fixed_dictionaries({"batch": st.integers(1, 3), "steps": st.integers(1, 4),
                               "input_size": st.integers(1, 3), "hidden_size": st.integers(1, 4)})


def mutate(mutation, value):
    """The changed value the user's code returns instead of ``value``."""
    kind, *arg = mutation
    value = np.array(value, copy=True)
    if kind == "list":
        return value.tolist()
    if kind == "torch":
        return torch.from_numpy(value)
    if kind == "dtype":
        return value.astype(arg[0])
    if kind == "nonfinite":
        value.flat[arg[1] % value.size] = arg[0]
    elif kind == "perturb":
        i = arg[0] % value.size
        value.flat[i] += arg[1] * (1 + abs(value.flat[i]))
    elif kind == "none":
        return None
    elif kind == "zeros":
        return np.zeros_like(value)
    elif kind == "transpose":
        return value.T
    elif kind == "squeeze":
        return np.squeeze(value)
    elif kind == "scale":
        return 2.0 * value
    return value


def _snapshot(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, torch.Tensor):
        return value.clone()
    return copy.deepcopy(value)


def _equal(a, b):
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b) or bool(torch.isnan(a).all() and torch.isnan(b).all())
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b or np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True)


class Recorder:
    """What the user's code returned, the truth it replaced, and snapshots to catch mutation."""

    def __init__(self):
        self.returned, self.scribble, self.fed_nonfinite = [], [], False

    def give(self, mutation, truth):
        self.fed_nonfinite |= not np.all(np.isfinite(truth))    # the harness only hands over finite inputs
        value = mutate(mutation, truth)
        self.returned.append((truth, value, _snapshot(value), mutation[0] == "scribble"))
        if mutation[0] == "scribble":
            self.scribble.append(value)
        return value

    def scribble_earlier(self):
        """Buffer reuse: arrays returned earlier are overwritten (the harness must hold copies)."""
        for a in self.scribble:
            a[...] = np.nan
        self.scribble = []

    def differs(self, atol, rtol):
        return any(_differs(truth, snap, atol, rtol) for truth, _, snap, _ in self.returned)   # as returned

    def mutated(self):
        return [(value, snap) for _, value, snap, scribbled in self.returned
                if not scribbled and value is not None and not _equal(value, snap)]


def _differs(truth, value, atol, rtol):
    if value is None:
        return True
    arr = value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if not np.issubdtype(arr.dtype, np.floating) or arr.shape != np.shape(truth):
        return True
    arr = arr.astype(np.float64)
    return not (np.isfinite(arr).all() and (np.abs(arr - truth) <= atol + rtol * np.abs(truth)).all())


def _tolerance(report):
    rows = report.table[report.table["backend"] == "reference"]
    return float(rows["atol"].max()), float(rows["rtol"].max())


def _one_line(exc):
    assert isinstance(exc, HarnessError) and "\n" not in str(exc) and str(exc), repr(exc)


@pytest.mark.parametrize("inplace", [False, True], ids=["", "inplace"])
@pytest.mark.parametrize("container", ["tuple", "list", "dict"])
@pytest.mark.parametrize("truthful", [True, False], ids=["truthful", "changed"])
@settings(max_examples=12, **SETTINGS)
@given(data=st.data(), sizes=SIZES)
def test_check_backward_boundary(truthful, container, inplace, data, sizes):
    kinds = TRUTHFUL if truthful else MUTATION
    h_mut, muts = data.draw(kinds), data.draw(st.lists(kinds, min_size=5, max_size=5))
    rec = Recorder()

    def forward(x, h0, Wx, Wh, b):
        h, cache = rnn_forward(x, h0, Wx, Wh, b)
        cache = copy.deepcopy(cache)
        rec.scribble_earlier()
        if inplace:                                   # the user's code writes into its own inputs
            for a in (x, h0, Wx, Wh, b):
                a[...] = np.nan
        return rec.give(h_mut, h), cache

    def backward(dh, cache):
        truth = rnn_backward(dh, cache)
        rec.scribble_earlier()
        if inplace:
            dh[...] = np.nan
            for step in cache:
                for a in step:
                    a[...] = np.nan
        out = [rec.give(m, t) for m, t in zip(muts, truth)]
        if container == "dict":
            return dict(zip(("dx", "dh0", "dWx", "dWh", "db"), out))
        return out if container == "list" else tuple(out)

    try:
        report = harness.check_backward(forward, backward, against="reference", **sizes)
    except HarnessError as exc:
        _one_line(exc)
        assert not truthful, str(exc)                   # right values are never refused
    else:
        atol, rtol = _tolerance(report)
        assert (report.verdict == "OK") == (not rec.differs(atol, rtol)), report.summary()
    assert rec.mutated() == [] and not rec.fed_nonfinite


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


NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "head.weight", "head.bias")


@pytest.mark.parametrize("inplace", [False, True], ids=["", "inplace"])
@pytest.mark.parametrize("truthful", [True, False], ids=["truthful", "changed"])
@settings(max_examples=8, **SETTINGS)
@given(data=st.data(), sizes=SIZES)
def test_check_model_boundary(truthful, inplace, data, sizes):
    kinds = TRUTHFUL if truthful else MUTATION
    muts = data.draw(st.lists(kinds, min_size=6, max_size=6))
    drop = set() if truthful else data.draw(st.sets(st.sampled_from(NAMES), max_size=2))
    rec = Recorder()

    def fn(params, x, target):
        loss, grads = model_fn(params, x, target)
        rec.scribble_earlier()
        if inplace:                                   # an SGD step on its own copies, inputs scribbled
            for k in params:
                params[k] -= 0.1 * grads[k]
            x[...] = np.nan
        out = {k: rec.give(m, grads[k]) for k, m in zip(NAMES, muts)}
        for k in drop:                                # a name left out: never OK
            rec.returned.append((grads[k], None, None, False))
            del out[k]
        return loss, out

    try:
        report = harness.check_model(fn, head="linear", output_size=2, against="reference", **sizes)
    except HarnessError as exc:
        _one_line(exc)
        assert not truthful, str(exc)
    else:
        atol, rtol = _tolerance(report)
        assert (report.verdict == "OK") == (not rec.differs(atol, rtol)), report.summary()
    assert rec.mutated() == [] and not rec.fed_nonfinite


PARAM_MUTATION = st.one_of(
    st.just(("same",)), st.just(("list",)), st.just(("torch",)),
    st.tuples(st.just("dtype"), st.sampled_from(["float32", "int64", "complex128"])),
    st.tuples(st.just("nonfinite"), st.sampled_from([np.nan, np.inf, -np.inf]), st.integers(0, 10 ** 6)),
    st.just(("transpose",)), st.just(("squeeze",)), st.just(("big",)),
)


@settings(max_examples=20, **SETTINGS)
@given(muts=st.lists(PARAM_MUTATION, min_size=4, max_size=4), hidden=st.integers(1, 4))
def test_compare_params_boundary(muts, hidden):
    """Whatever params the user hands compare(): a verdict or one line, the arrays untouched."""
    rng = np.random.default_rng(hidden)
    shapes = {"weight_ih_l0": (hidden, 3), "weight_hh_l0": (hidden, hidden), "bias_ih_l0": (hidden,),
              "bias_hh_l0": (hidden,)}
    params = {}
    for (name, shape), m in zip(shapes.items(), muts):
        value = rng.uniform(-0.5, 0.5, shape)
        params[name] = value * 1e6 if m[0] == "big" else mutate(m, value)
    snapshots = {k: _snapshot(v) for k, v in params.items()}
    try:
        report = harness.compare("rnn", params=params, input_size=3, hidden_size=hidden, steps=3)
    except HarnessError as exc:
        _one_line(exc)
    else:
        assert report.verdict == "OK", report.summary()
    assert all(_equal(params[k], snapshots[k]) for k in params)
