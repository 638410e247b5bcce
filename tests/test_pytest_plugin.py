"""The pytest plugin, run inside pytest: a user's test is one line, a failure prints the summary."""

import pytest

pytest.importorskip("torch")

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
