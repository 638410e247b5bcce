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


def wrong_shape_backward(dh, cache):
    dx, dh0, dWx, dWh, db = consistent_backward(dh, cache)
    return dx, dh0, dWx, dWh, db[None, :] + 1.0         # db of the wrong shape, and wrong


def test_not_while_a_gradient_has_the_wrong_shape():
    """A gradient that cannot be compared is no evidence that it agrees with anything."""
    report = check_backward(forward, wrong_shape_backward, against=("reference",))
    assert report.ok is False
    assert _OWN_FORWARD not in report.findings


def test_not_in_float32_where_a_percent_off_would_pass():
    """float32's finite-difference tolerance lets a backward a percent off through: the claim
    "the exact derivative of your own forward" is made in float64 only (here a float64 check of
    a forward that computes in float32)."""
    import numpy as np

    def forward32(x, h0, Wx, Wh, b):
        return forward(*(np.asarray(a, dtype=np.float32) for a in (x, h0, Wx, Wh, b)))

    def clipped_backward(dh, cache):                    # consistent, then clipped at 99% of its largest
        dx, dh0, *ws = consistent_backward(np.asarray(dh, dtype=np.float32), cache)
        return (dx, dh0, *(np.clip(w, -0.99 * np.abs(w).max(), 0.99 * np.abs(w).max()) for w in ws))
    report = check_backward(forward32, clipped_backward, against=("reference",))
    assert report.ok is False
    assert _OWN_FORWARD not in report.findings
