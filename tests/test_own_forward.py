"""A forward that no single edit of the cell reproduces: named as the forward's mistake only
when the user's backward is the exact derivative of that forward (finite differences of the
user's own forward agree with every gradient), never when the backward is the cell's."""

from zoo import cs231n_rnn

from harness.guard.check import _OWN_FORWARD, check_backward

K = 1.37                                    # the pre-activation scaled by an arbitrary constant


def forward(x, h0, Wx, Wh, b):
    return cs231n_rnn.rnn_forward(x, h0, K * Wx, K * Wh, K * b)


def consistent_backward(dh, cache):
    dx, dh0, dWx, dWh, db = cs231n_rnn.rnn_backward(dh, cache)
    return dx, dh0, K * dWx, K * dWh, K * db         # the chain rule through the scaling


def cell_backward(dh, cache):
    return cs231n_rnn.rnn_backward(dh, cache)       # the cell's own derivative, not this forward's


def _causes(report):
    return [f for f in report.findings if f.startswith("likely cause:")]


def test_a_forward_followed_by_its_own_backward_is_named_a_forward_mistake():
    report = check_backward(forward, consistent_backward, against=("reference",))
    assert report.ok is False
    assert _causes(report) == [_OWN_FORWARD]


def test_a_forward_whose_backward_is_the_cells_is_not():
    report = check_backward(forward, cell_backward, against=("reference",))
    assert report.ok is False
    assert _OWN_FORWARD not in report.findings
    assert any(f.startswith("forward: your h differs") for f in report.findings)
