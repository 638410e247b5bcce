"""check_backward on well-behaved and badly-behaved user code (the zoo of planted BPTT
mistakes is in test_mutant_zoo.py)."""

import numpy as np
import pytest

import harness
from harness.guard.usercode import UserCodeError

pytest.importorskip("torch")


def rnn_forward(x, h0, Wx, Wh, b):
    """cs231n-style: x (N, T, D), Wx (D, H), Wh (H, H), b (H,) -> h (N, T, H)."""
    h, prev = [], h0
    for t in range(x.shape[1]):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h.append(prev)
    return np.stack(h, axis=1), [x, h0, Wx, Wh, h]


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, hs = cache
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dnext = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h = hs.pop()                               # consumes its cache, as real code does
        prev = hs[-1] if hs else h0
        da = (dh[:, t] + dnext) * (1 - h * h)
        dx[:, t], dWx, dWh, db = da @ Wx.T, dWx + x[:, t].T @ da, dWh + prev.T @ da, db + da.sum(0)
        dnext = da @ Wh.T
    return dx, dnext, dWx, dWh, db


def test_correct_code_passes_against_every_oracle():
    report = harness.check_backward(rnn_forward, rnn_backward, against=("torch", "numeric", "reference"))
    assert report.ok, report.summary()
    assert set(report.table["backend"]) == {"torch.nn.RNN", "numeric-directional", "reference"}
    assert report.findings == []


def test_cache_consuming_code_gets_a_fresh_forward_before_every_backward():
    """rnn_backward pops from its cache: a second backward on the same cache would break."""
    assert harness.check_backward(rnn_forward, rnn_backward, against=("reference", "numeric")).ok


def test_user_arrays_are_never_shared_with_the_harness():
    def forward(x, h0, Wx, Wh, b):
        out = rnn_forward(x.copy(), h0.copy(), Wx.copy(), Wh.copy(), b.copy())
        x[:] = 0                                   # vandalises the arrays it was handed:
        Wh *= 2                                    # the next forward call must not see this
        return out
    assert harness.check_backward(forward, rnn_backward, against=("reference",)).ok


def test_a_gradient_returned_as_none_is_not_compared():
    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx, dWh, None
    report = harness.check_backward(rnn_forward, backward, against=("reference",))
    row = report.table[report.table["quantity"] == "dbias_ih"]
    assert list(row["status"]) == ["missing"] and row["passed"].isna().all()
    assert "your backward did not return db (None or absent)" in row["note"].iloc[0]
    assert not report.ok and report.verdict == "INCOMPLETE"     # never an OK for a gradient not compared
    assert report.summary().splitlines()[-1].startswith("INCOMPLETE: 13 comparisons within tolerance, but dbias_ih")
    declared = harness.check_backward(rnn_forward, backward, against=("reference",), skip=("db",))
    assert declared.ok and declared.verdict == "OK", declared.summary()


def test_nan_in_a_gradient_fails():
    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        dWh[0, 0] = np.nan
        return dx, dh0, dWx, dWh, db
    report = harness.check_backward(rnn_forward, backward, against=("reference",))
    assert not report.ok
    bad = report.table[(report.table["quantity"] == "dweight_hh") & (report.table["probe"] == "full")]
    assert "non-finite" in bad["note"].iloc[0]


def _raise(dh, cache):
    raise KeyError("h_prev")


@pytest.mark.parametrize("backward, message", [
    (_raise, "backward raised KeyError: 'h_prev'"),
    (lambda dh, c: rnn_backward(dh, c)[:4], "backward: expected 5 values (dx, dh0, dWx, dWh, db), got 4"),
    (lambda dh, c: rnn_backward(dh, c)[0], "backward: expected a tuple (dx, dh0, dWx, dWh, db), got a single ndarray"),
    (lambda dh, c: (lambda g: (g[0], g[1], g[2], g[3].astype(int), g[4]))(rnn_backward(dh, c)),
     "backward: dWh is an integer array"),
])
def test_bad_backward_gets_one_clear_line(backward, message):
    with pytest.raises(UserCodeError) as exc:
        harness.check_backward(rnn_forward, backward, against=("reference",))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_a_gradient_of_the_wrong_shape_is_reported_and_the_others_still_compared():
    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx.T, dWh, db
    report = harness.check_backward(rnn_forward, backward, against=("reference",))
    assert not report.ok
    bad = report.table[report.table["quantity"] == "dweight_ih"]
    assert (bad["passed"] == False).any()                                   # noqa: E712
    assert any("dWx has shape (6, 4); expected (4, 6) (that is the transpose of the expected shape)" in str(n)
               for n in bad["note"])
    others = report.table[(report.table["quantity"] == "dweight_hh") & (report.table["probe"] == "full")]
    assert others["passed"].all() and len(others)
    cause = next(f for f in report.findings if f.startswith("likely cause"))
    assert "a gradient of the wrong shape, the rest right" in cause and "dWx has shape (6, 4)" in cause, cause

    def transposed_and_none(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return None, dh0, dWx.T, dWh, db
    report = harness.check_backward(rnn_forward, transposed_and_none, against=("reference",))
    cause = next(f for f in report.findings if f.startswith("likely cause"))
    assert "the rest right" not in cause and "some not returned" in cause, cause


def test_the_users_own_exception_is_the_cause():
    with pytest.raises(UserCodeError) as exc:
        harness.check_backward(rnn_forward, _raise, against=("reference",))
    assert isinstance(exc.value.__cause__, KeyError)


def test_missing_cache_is_named():
    with pytest.raises(UserCodeError, match="forward: returned no cache"):
        harness.check_backward(lambda *a: (rnn_forward(*a)[0], None), rnn_backward, against=("reference",))


def test_squeezed_batch_axis_points_at_the_probe_size():
    def forward(x, h0, Wx, Wh, b):
        h, cache = rnn_forward(x, h0, Wx, Wh, b)
        return h.squeeze(), cache
    with pytest.raises(UserCodeError, match="squeezed away.*batch="):
        harness.check_backward(forward, rnn_backward, batch=1, against=("reference",))
    # and with a batch of 3 the same code is fine
    assert harness.check_backward(forward, rnn_backward, against=("reference",)).ok


@pytest.mark.parametrize("kwargs, message", [
    ({"layout": "pytorch"}, "layout: expected one of cs231n, tf_kernel, karpathy or a Layout, got 'pytorch'"),
    ({"layout": "karpathy", "cell": "lstm"}, "layout: 'karpathy' covers cells rnn, not 'lstm'"),
    ({"against": ("jax",)}, "against: expected some of torch, tf, keras, numeric, reference"),
    ({"numeric": "sparse"}, "numeric: expected 'directional' or 'full', got 'sparse'"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(harness.HarnessError, match=message.replace("(", r"\(").replace(")", r"\)")):
        harness.check_backward(rnn_forward, rnn_backward, **kwargs)


def test_custom_layout_round_trips_through_two_small_functions():
    """A user whose weights are stored torch-style (out, in) with two biases."""
    def to_user(cell, p):
        return {"W_ih": p["weight_ih"], "W_hh": p["weight_hh"], "b_ih": p["bias_ih"], "b_hh": p["bias_hh"]}

    def to_canonical(cell, g, p):
        return {"dweight_ih": g["dW_ih"], "dweight_hh": g["dW_hh"], "dbias_ih": g["db_ih"], "dbias_hh": g["db_hh"]}

    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        return rnn_forward(x, h0, W_ih.T, W_hh.T, b_ih + b_hh)

    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx.T, dWh.T, db, db

    layout = harness.Layout.custom(to_user, to_canonical, cells=("rnn",))
    assert harness.check_backward(forward, backward, layout=layout, against=("torch", "numeric")).ok


def test_assert_backward_raises_with_the_summary():
    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx, dWh, db / dh.shape[0]
    with pytest.raises(harness.GradientMismatchError) as exc:
        harness.assert_backward(rnn_forward, backward, against=("torch",))
    text = str(exc.value)
    assert "dbias_ih" in text and "averaged instead of summed (or summed too often): db divided by the batch size N=3" in text
    assert "array(" not in text


@pytest.mark.parametrize("drop", [2, 3])
def test_a_weight_gradient_returned_as_none_is_not_compared(drop):
    def backward(dh, cache):
        g = list(rnn_backward(dh, cache))
        g[drop] = None
        return tuple(g)
    report = harness.check_backward(rnn_forward, backward, against=("reference",))
    missing = {2: "dweight_ih", 3: "dweight_hh"}[drop]
    row = report.table[report.table["quantity"] == missing]
    assert list(row["status"]) == ["missing"]
    assert report.verdict == "INCOMPLETE" and not report.ok


def test_returning_no_gradient_at_all_is_an_error():
    with pytest.raises(UserCodeError, match="returned None for every gradient"):
        harness.check_backward(rnn_forward, lambda dh, c: (None,) * 5, against=("reference",))


def test_length_sweep_claims_only_the_lengths_it_could_run():
    """Code that cannot run short sequences and has a wrong db: no claim about T=1, 2."""
    def forward(x, h0, Wx, Wh, b):
        if x.shape[1] < 3:
            raise ValueError("needs 3 steps")
        return rnn_forward(x, h0, Wx, Wh, b)

    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx, dWh, 1.5 * db
    findings = harness.check_backward(forward, backward, against=("reference",)).findings
    line = next(f for f in findings if f.startswith("earliest wrong step"))
    assert "shortest tested sequence that goes wrong has T=3" in line and "T=1-2 could not be run" in line
    assert any(f.startswith("the length probes could not run T=1") for f in findings)
    assert not any("right for 2 step" in f for f in findings)


# ---------------------------------------------------------------- the course's column-major layout


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_coursework_examples_pass(cell, dtype):
    from examples import coursework_lstm, coursework_rnn
    module = {"rnn": coursework_rnn, "lstm": coursework_lstm}[cell]
    fwd, bwd = getattr(module, f"{cell}_forward"), getattr(module, f"{cell}_backward")
    report = harness.check_backward(fwd, bwd, layout=module.LAYOUT, cell=cell, dtype=dtype,
                                    against=("torch", "numeric", "reference"))
    assert report.ok, report.summary()
    expected = {"rnn": {"dweight_ih", "dweight_hh", "dbias_ih", "dx", "dh0", "h"},
                "lstm": {"dweight_ih", "dweight_hh", "dbias_ih", "dx", "dh0", "h"}}[cell]
    assert set(report.compared["quantity"]) >= expected


def test_a_gradient_left_out_of_the_dict_is_missing_in_the_users_name():
    from examples import coursework_lstm as course

    def backward(da, caches):
        grads = course.lstm_backward(da, caches)
        del grads["dWf"]
        return grads
    report = harness.check_backward(course.lstm_forward, backward, layout=course.LAYOUT, cell="lstm",
                                    against=("reference",))
    assert report.verdict == "INCOMPLETE" and not report.ok
    missing = report.table[report.table["status"] == "missing"]
    assert set(missing["quantity"]) == {"dweight_ih", "dweight_hh"}
    assert "your backward did not return dWf" in missing["note"].iloc[0]
    declared = harness.check_backward(course.lstm_forward, backward, layout=course.LAYOUT, cell="lstm",
                                      against=("reference",), skip=("dWf",))
    assert declared.verdict == "OK"


def test_cli_takes_a_layout_of_your_own(capsys):
    from harness.cli import main
    args = ["check", "examples.coursework_rnn:rnn_forward", "examples.coursework_rnn:rnn_backward",
            "--layout", "examples.coursework_rnn:LAYOUT", "--against", "reference", "--csv", "", "--html", ""]
    assert main(args) == 0
    assert main(args[:4] + ["examples.coursework_rnn:to_user"] + args[5:]) == 2
    assert "layout: module 'examples.coursework_rnn' has no Layout 'to_user'" in capsys.readouterr().err


# ---------------------------------------------------------------- precision actually computed


def _in_float32(fn, returns=np.float64):
    """``fn`` computing in float32 inside, its arrays handed back as ``returns``."""
    def wrapped(*args):
        args = [a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args]
        out = fn(*args)
        cast = (lambda a: a.astype(returns) if isinstance(a, np.ndarray) else a)
        return tuple(cast(o) for o in out) if isinstance(out, tuple) else cast(out)
    return wrapped


@pytest.mark.parametrize("returns,says", [(np.float64, "your forward's h matches the reference only to"),
                                          (np.float32, "your code returns float32")])
def test_code_computing_in_float32_is_named_not_called_a_mismatch(returns, says):
    report = harness.check_backward(_in_float32(rnn_forward, returns), _in_float32(rnn_backward, returns),
                                    against=("reference", "torch"))
    assert report.ok, report.summary()
    line = next(f for f in report.findings if f.startswith("precision:"))
    assert says in line and "float32's tolerances" in line and "\n" not in line
    assert (report.compared["atol"] == 1e-4).all()
    assert not any(f.startswith("likely cause") for f in report.findings)
    text = report.summary()                      # an OK at looser tolerances says so, also on its last line
    assert line in text.replace("\n    ", " ") and "at float32's tolerances" in text.splitlines()[-1], text


def test_a_real_mistake_in_float32_code_is_still_found_and_named():
    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx, dWh, db / dh.shape[0]
    report = harness.check_backward(_in_float32(rnn_forward), _in_float32(backward), against=("reference",))
    assert not report.ok
    assert any(f.startswith("precision:") for f in report.findings)
    cause = next(f for f in report.findings if f.startswith("likely cause"))
    assert "divided by the batch size N=3" in cause, report.summary()


def test_weights_as_a_list():
    def forward(x, h0, params):
        return rnn_forward(x, h0, *params)
    layout = harness.Layout.custom(lambda cell, p: harness.guard.layouts.LAYOUTS["cs231n"].to_user(cell, p),
                                   lambda cell, g, p: harness.guard.layouts.LAYOUTS["cs231n"].to_canonical(cell, g, p),
                                   cells=("rnn",), weights_as="list")
    report = harness.check_backward(forward, rnn_backward, layout=layout, against=("reference",))
    assert report.ok, report.summary()


def test_the_gates_line_names_only_the_weights_that_are_wrong():
    """A mistake in dWh's f block alone: the gates line names dWh, not the dWx that is right."""
    from zoo import cs231n_lstm
    fwd, bwd, opts = cs231n_lstm.make()

    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = bwd(dh, cache)
        H = dWh.shape[0]
        dWh = dWh.copy()
        dWh[:, H:2 * H] *= 1.5                    # the f block of dWh only
        return dx, dh0, dWx, dWh, db
    report = harness.check_backward(fwd, backward, against=("reference",), **opts)
    line = next(f for f in report.findings if f.startswith("gates:"))
    assert "block(s) of dWh are wrong" in line and "dWx" not in line, line


def test_a_mistake_in_dx_alone_is_not_sent_to_the_carry():
    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        shifted = dx.copy()
        shifted[:, 1:] = dx[:, :-1]                # each step's dx written one step late
        return shifted, dh0, dWx, dWh, db
    report = harness.check_backward(rnn_forward, backward, against=("reference",))
    line = next(f for f in report.findings if f.startswith("where:"))
    assert "in dx only" in line and "carried" not in line, line


def test_a_different_forward_gets_no_backward_whereabouts():
    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, 2 * b)             # the bias counted twice

    def backward(dh, cache):
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
        return dx, dh0, dWx, dWh, 2 * db                     # and its gradient consistent with that
    report = harness.check_backward(forward, backward, against=("reference",))
    assert any(f.startswith("forward: your h differs") for f in report.findings), report.summary()
    assert not any(f.startswith("where:") for f in report.findings), report.summary()


def test_per_step_contributions_of_an_oracle_are_not_blamed_on_totals_only_code():
    """torch.functional (the reset-before GRU's torch oracle) has per-step weight contributions;
    code returning totals did not leave them out: no 'not compared' row says it returned None."""
    from zoo import blind_custom_gru_tf1
    fwd, bwd, opts = blind_custom_gru_tf1.make()
    report = harness.check_backward(fwd, bwd, against=("torch",), **opts)
    assert report.ok and "torch.functional" in set(report.table["backend"]), report.summary()
    assert not (report.table["status"] == "not compared").any(), report.table["note"].unique()


@pytest.mark.parametrize("which", [("dUz", "dUr", "dUh"), ("dUz",)])
def test_a_square_weights_gradient_written_transposed_is_named_in_every_gate_or_one(which):
    """A GRU with one H x H matrix per gate: the recurrent gradients returned transposed, in
    every gate or in one only; the cause names the user's arrays."""
    from zoo import blind_custom_gru
    fwd, bwd, opts = blind_custom_gru.make()
    names = ["dx", "dh0", "dWz", "dUz", "dbz", "dWr", "dUr", "dbr", "dWh", "dUh", "dbh", "dbhn"]

    def backward(dh, cache):
        out = list(bwd(dh, cache))
        for n in which:
            out[names.index(n)] = out[names.index(n)].T.copy()
        return tuple(out)
    report = harness.check_backward(fwd, backward, against=("reference",), **opts)
    cause = next(f for f in report.findings if f.startswith("likely cause"))
    assert cause.startswith("likely cause: a weight's gradient written transposed: ") and \
        ", ".join(which) + " written transposed" in cause, cause


def test_the_upstream_probes_run_at_full_length():
    """A loop that skips the last step is wrong only when the upstream gradient sits on that
    step: the probes keep the whole sequence, so the steps before it read right."""
    from zoo import cs231n_rnn
    report = harness.check_backward(*cs231n_rnn.make("skip_last")[:2], cell="rnn", layout="cs231n",
                                    against=("reference",))
    line = next(f for f in report.findings if f.startswith("upstream gradient on one step at a time"))
    assert line.endswith("wrong when it sits on step(s) 4, right on 0, 1, 2, 3"), line


@pytest.mark.parametrize("bug", ["bias_mean_N", "pair_x_prev", "skip_last", "read_torch_order", "bias_sign"])
def test_no_gates_line_for_a_mistake_in_every_gate_that_can_show_one(bug):
    """With one step and c_(-1) = 0, f's blocks are 0 in every backward, right or wrong: a
    mistake in every other gate touches every gate that can show one, and no "gates:" line
    may single some out."""
    from zoo import cs231n_lstm
    fwd, bwd, opts = cs231n_lstm.make(bug)
    report = harness.check_backward(fwd, bwd, against=("reference",), **opts)
    assert not report.ok
    assert not [f for f in report.findings if f.startswith("gates:")], report.findings


def test_the_gates_line_names_the_bias_when_only_the_bias_is_wrong():
    from zoo import held4_index
    fwd, bwd, opts = held4_index.MODULES["held4_d2l_gru"].make("db_z_batch_mean")
    report = harness.check_backward(fwd, bwd, against=("reference",), **opts)
    line = next(f for f in report.findings if f.startswith("gates:"))
    assert "only db_z is wrong (db_r, db_h right)" in line, line


def _rnn_backward_with(dh, cache, carry_in):
    """cs231n RNN BPTT where ``carry_in(t, T, dprev)`` gives the carry step t receives."""
    from zoo import cs231n_rnn
    N, T, H = dh.shape
    x0, _, Wx, Wh, _, _ = cache[0]
    dx, dWx, dWh, db = np.zeros((N, T, x0.shape[1])), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dprev = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev, a, b, c = cs231n_rnn.rnn_step_backward(dh[:, t] + carry_in(t, T, dprev), cache[t])
        dWx, dWh, db = dWx + a, dWh + b, db + c
    return dx, dprev, dWx, dWh, db


ONE_CUT = {                                    # the carry mishandled at fixed places: no truncation pattern
    "step 0 without its carry": lambda t, T, d: d * (t > 0),
    "the last step's carry dropped": lambda t, T, d: d * (t != T - 2),
    "a reset once, at t = 2": lambda t, T, d: d * (t != 2),
}


@pytest.mark.parametrize("cut", list(ONE_CUT))
@pytest.mark.parametrize("steps", [5, 7])
def test_a_carry_cut_once_is_not_named_a_truncation(cut, steps):
    """Any single cut of the carry fits "chunks of k" on one probe length: a truncation is named
    only when its pattern repeats within the probe and fits the probe cut to other lengths."""
    from zoo import cs231n_rnn
    report = harness.check_backward(cs231n_rnn.make()[0], lambda dh, c: _rnn_backward_with(dh, c, ONE_CUT[cut]),
                                    cell="rnn", layout="cs231n", against=("reference",), steps=steps)
    causes = [f for f in report.findings if f.startswith("likely cause:")]
    assert not report.ok and causes and not any("truncated" in f for f in causes), causes


@pytest.mark.parametrize("cut", list(ONE_CUT) + ["at T // 2"])
def test_a_carry_cut_once_is_not_a_truncation_when_the_code_cannot_run_longer(cut):
    """The probe extended to 2T+1 steps, where a truncation's cut repeats, is no evidence when
    the user's code cannot run on it (a fixed-length buffer): the pattern must then repeat on
    the probes it did run on."""
    from zoo import cs231n_rnn
    carry_in = ONE_CUT.get(cut, lambda t, T, d: d * (t != T // 2))

    def forward(x, *rest):
        if x.shape[1] > 5:
            raise ValueError("sequence longer than the buffer")
        return cs231n_rnn.rnn_forward(x, *rest)
    report = harness.check_backward(forward, lambda dh, c: _rnn_backward_with(dh, c, carry_in),
                                    cell="rnn", layout="cs231n", against=("reference",), steps=5)
    causes = [f for f in report.findings if f.startswith("likely cause:")]
    assert not report.ok and causes and not any("truncated" in f for f in causes), causes


def test_cuts_that_look_regular_on_the_diagnosis_probe_only_are_not_a_truncation():
    """Resets at t = 1 and t = 3 are chunks of 2 on the first 6 steps, where the diagnosis runs;
    the whole probe (7 steps) has no cut before step 5, so no truncation is named."""
    from zoo import cs231n_rnn
    report = harness.check_backward(
        cs231n_rnn.make()[0], lambda dh, c: _rnn_backward_with(dh, c, lambda t, T, d: d * (t not in (1, 3))),
        cell="rnn", layout="cs231n", against=("reference",), steps=7)
    causes = [f for f in report.findings if f.startswith("likely cause:")]
    assert not report.ok and causes and not any("truncated" in f for f in causes), causes


TRUNCATIONS = {                                # carry_in(t, T, carry) -> what step t receives
    "chunks of 2 from the end": lambda t, T, d: d * ((T - 1 - t) % 2 != 0),
    "chunks of 3 from the end": lambda t, T, d: d * ((T - 1 - t) % 3 != 0),
    "the carries stop after 2 steps": lambda t, T, d: d * (T - 1 - t < 2),
}


@pytest.mark.parametrize("name,steps", [(n, s) for n in TRUNCATIONS for s in (5, 7)])
def test_a_regular_truncation_is_named(name, steps):
    """The other side of the single cuts above: a cut pattern that repeats is named, also when
    the diagnosis runs on the first 6 steps of 7 (chunks of 3 repeat only on all 7), and when
    it cuts once in 5 steps (it repeats on the probe extended to 11)."""
    from zoo import cs231n_rnn
    report = harness.check_backward(cs231n_rnn.make()[0],
                                    lambda dh, c: _rnn_backward_with(dh, c, TRUNCATIONS[name]),
                                    cell="rnn", layout="cs231n", against=("reference",), steps=steps)
    causes = [f for f in report.findings if f.startswith("likely cause:")]
    assert causes and all("backpropagation through time truncated" in f for f in causes), causes


def test_localization_does_not_run_the_whole_probe_again():
    """The check's own run on the whole probe is the localization's longest length: the user's
    backward sees the whole upstream gradient (every step's) once."""
    from zoo import cs231n_rnn
    fwd, bwd, opts = cs231n_rnn.make("carry_T")
    whole = []

    def backward(dout, cache):
        if dout.shape[1] == 12 and np.all(np.any(dout != 0, axis=(0, 2))):
            whole.append(dout)
        return bwd(dout, cache)
    report = harness.check_backward(fwd, backward, against=("reference",), steps=12, **opts)
    assert not report.ok and any(f.startswith("earliest wrong step") for f in report.findings)
    assert len(whole) == 1
