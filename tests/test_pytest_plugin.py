"""The pytest plugin, run inside pytest: a user's test is one line, a failure prints the summary."""

import os

import pytest

pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def this_tree_first(monkeypatch):
    """pytester's subprocesses import gradharness (and its plugin) from this source tree."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))

USER_CODE = '''
import numpy as np

def rnn_forward(x, h0, Wx, Wh, b):
    h, prev = [], h0
    for t in range(x.shape[1]):
        prev = np.tanh(x[:, t] @ Wx + prev @ Wh + b)
        h.append(prev)
    h = np.stack(h, axis=1)
    return h, (x, h0, Wx, Wh, h)

def rnn_backward(dh, cache, transpose_bug=False):
    x, h0, Wx, Wh, h = cache
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dnext = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        prev = h[:, t - 1] if t else h0
        da = (dh[:, t] + dnext) * (1 - h[:, t] ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t].T @ da
        dWh += prev.T @ da
        db += da.sum(0)
        dnext = da @ (Wh if transpose_bug else Wh.T)
    return dx, dnext, dWx, dWh, db

def test_right(bptt):
    bptt.check_backward(rnn_forward, rnn_backward, layout="cs231n")

def test_wrong(bptt):
    bptt.check_backward(rnn_forward, lambda dh, c: rnn_backward(dh, c, True), layout="cs231n")
'''


def test_plugin_fixture_passes_and_fails_with_a_located_summary(pytester):
    pytester.makepyfile(test_user=USER_CODE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gradharness-reports", "out")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*GradientMismatchError*",
        "*likely cause: a weight used transposed: Wh used transposed in dprev_h*",
        "*gradharness*",
        "2 BPTT check(s), 1 mismatch(es).",
    ])
    assert "array(" not in result.stdout.str()
    written = sorted(p.name for p in (pytester.path / "out").iterdir())
    assert written == ["test_user.py_test_right.csv", "test_user.py_test_right.html",
                       "test_user.py_test_wrong.csv", "test_user.py_test_wrong.html"]


RAISING = '''
import numpy as np
from test_user import rnn_forward

def broken_backward(dh, cache):
    x = cache[0]
    return x.reshape(-1) @ np.ones(7)           # the user's own bug: a shape error

def test_raises(bptt):
    bptt.check_backward(rnn_forward, broken_backward, layout="cs231n")

def test_raises_without_the_fixture():
    import harness
    harness.assert_backward(rnn_forward, broken_backward, layout="cs231n")
'''


def test_short_summary_carries_the_verdict_and_the_cause(pytester, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    pytester.makepyfile(test_user=USER_CODE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_user.py::test_wrong - harness.errors.GradientMismatchError: "
                                 "BPTT mismatch in dx layer 0 step 3: a weight used transposed: Wh used "
                                 "transposed in dprev_h*"])


def test_users_exception_shows_their_frames_only_and_no_arrays(pytester):
    pytester.makepyfile(test_user=USER_CODE, test_raising=RAISING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_raising.py")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["*def broken_backward(dh, cache):*",
                                 "*return x.reshape(-1) @ np.ones(7)*",
                                 "E*ValueError: matmul*",
                                 "*test_raising.py:6: ValueError*",
                                 "*The above exception was the direct cause of the following exception:*",
                                 "E*UserCodeError: backward raised ValueError: matmul*"])
    # Both ways in (the fixture and harness.assert_backward) show it so.
    assert out.count("The above exception was the direct cause") == 2
    assert "harness/guard" not in out and "harness/assertions" not in out
    assert "array(" not in out and "dh = " not in out


SWEEP = '''
import pytest

@pytest.mark.parametrize("cell", ["rnn", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_matrix(bptt, cell, layers):
    bptt.compare(cell, layers=layers, backends="torch.functional", steps=3)
'''


BAD_INPUT = '''
def test_fine(bptt):
    bptt.compare("rnn", backends="torch.functional", steps=3)

def test_bad_tolerance(bptt):
    bptt.compare("rnn", backends="torch.functional", steps=3, atol=-1)
'''


def test_checks_that_could_not_run_are_counted_apart(pytester):
    pytester.makepyfile(test_bad=BAD_INPUT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["2 BPTT check(s), 0 mismatch(es), 1 that could not run (bad input, or your "
                                 "code raised)."])


def test_under_xdist_counts_every_worker_and_writes_one_session_report(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_user=USER_CODE, test_sweep=SWEEP)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--gradharness-html", "all.html",
                                           "--gradharness-reports", "out")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["6 BPTT check(s), 1 mismatch(es). Report of the session: all.html"])
    page = (pytester.path / "all.html").read_text()
    for test in ("test_user.py::test_right", "test_user.py::test_wrong", "test_sweep.py::test_matrix[1-rnn]",
                 "test_sweep.py::test_matrix[2-gru]"):
        assert test in page
    assert page.count("class='card b-") == 6 and page.count("class='card b-MISMATCH'") == 1
    written = sorted(p.name for p in (pytester.path / "out").iterdir())
    assert len(written) == 12 and len(set(written)) == 12
