"""Per-example code (one example at a time, min-char-rnn style) is replayed example by example;
an edit whose lines treat every example alike is run on the whole batch at once instead. That
shortcut is exact only if the classification is right: for every edit of the grammar it calls
alike, the batch run must give the per-example numbers."""

import numpy as np
import pytest

from harness.guard.diagnose import ExampleReplay, _combine, _per_example_alike
from harness.probe import make_probe


CASES = [("rnn", {}), ("rnn", {"activation": "relu"}), ("rnn", {"activation": "sigmoid"}),
         ("rnn", {"activation": "identity", "bias": False}), ("rnn", {"batch": 6, "hidden_size": 6}),
         ("lstm", {"forget_bias": 1.0}), ("lstm", {"bias": False}), ("gru", {"reset_after": True}),
         ("gru", {"reset_after": False, "bias": False})]


@pytest.mark.parametrize("cell,opts", CASES, ids=[f"{c}-{o}" for c, o in CASES])
def test_an_edit_called_alike_gives_the_per_example_numbers_on_the_batch(cell, opts):
    opts = {"batch": 3, "steps": 4, **opts}
    probe = make_probe(cell, **opts)
    replay = ExampleReplay.of(probe)
    edits = replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
    alike = [e for e in edits if _per_example_alike(e)]
    assert len(alike) > len(edits) / 3                  # the shortcut is taken for much of the grammar
    for e in alike:
        try:
            batch = replay.batch.values(e)
        except Exception:                               # an edit that cannot run must fail both ways
            batch = "raised"
        try:
            parts = [r.values(e) for r in replay.replays]
            each = None if any(p is None for p in parts) else _combine(parts)
        except Exception:
            each = "raised"
        if isinstance(batch, str) or isinstance(each, str) or batch is None or each is None:
            ran = batch if isinstance(batch, dict) else each if isinstance(each, dict) else None
            assert type(batch) is type(each) or np.shape(ran["h"]) != probe.x.shape[:2] + (probe.sizes["H"],), e.says
            continue                                    # (one side ran only because N == H: h of another shape)
        for q in each:
            if q == "h" and np.shape(batch[q]) != np.shape(each[q]):     # a forward edit of another shape:
                continue                                                   # never matches the user's h
            np.testing.assert_allclose(batch[q], each[q], rtol=1e-9, atol=1e-12, err_msg=f"{e.says} ({q})")


def test_a_running_total_read_as_a_weight_is_not_alike():
    """dh_prev = dW_hh-so-far @ ...: per-example code's running total holds one example's."""
    probe = make_probe("rnn", batch=3, steps=4)
    replay = ExampleReplay.of(probe)
    edits = replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
    running = [e for e in edits if e.cause == "gradient_for_weight"]
    assert running and not any(_per_example_alike(e) for e in running)


@pytest.mark.parametrize("line,wide", [
    ("dprev_h = da @ W_hh", False), ("dW_ih = dW_ih + da.T @ x", False), ("dW_hh += step['dW_hh']", False),
    ("dprev_h = da @ dW_hh", True), ("dprev_h = np.sum(np.abs(dnext_h)) * (da @ W_hh)", True),
    ("da = dnext_h / N", True), ("da = dnext_h / dnext_h.shape[0]", True), ("g = da.T @ da.max()", True),
    ("u, s, v = np.linalg.svd(da)", True), ("da = np.clip(da, -1, 1)", True), ("return cache['sum_dW_hh']", True),
])
def test_what_reads_over_the_batch(line, wide):
    import ast

    from harness.guard.diagnose import _reads_batch_wide
    assert _reads_batch_wide(ast.parse(line if not line.startswith("return") else f"def f():\n {line}").body[0]) is wide
