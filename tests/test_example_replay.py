"""Per-example code (one example at a time, min-char-rnn style) is replayed example by example;
an edit whose lines treat every example alike is run on the whole batch at once instead. That
shortcut is exact only if the classification is right: for every edit of the grammar it calls
alike, the batch run must give the per-example numbers."""

import numpy as np
import pytest

from harness.guard.diagnose import ExampleReplay, _combine, _per_example_alike
from harness.probe import make_probe


@pytest.mark.parametrize("cell,opts", [("rnn", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {"reset_after": True}),
                                       ("gru", {"reset_after": False})])
def test_an_edit_called_alike_gives_the_per_example_numbers_on_the_batch(cell, opts):
    probe = make_probe(cell, batch=3, steps=4, **opts)
    replay = ExampleReplay.of(probe)
    edits = replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
    alike = [e for e in edits if _per_example_alike(e) and not e.by_numbers]
    assert len(alike) > len(edits) / 3                  # the shortcut is taken for much of the grammar
    for e in alike:
        batch = replay.batch.values(e)
        parts = [r.values(e) for r in replay.replays]
        if batch is None or any(p is None for p in parts):
            assert batch is None and all(p is None for p in parts), e.says
            continue
        each = _combine(parts)
        for q in each:
            np.testing.assert_allclose(batch[q], each[q], rtol=1e-9, atol=1e-12, err_msg=f"{e.says} ({q})")


def test_a_running_total_read_as_a_weight_is_not_alike():
    """dh_prev = dW_hh-so-far @ ...: per-example code's running total holds one example's."""
    probe = make_probe("rnn", batch=3, steps=4)
    replay = ExampleReplay.of(probe)
    edits = replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
    running = [e for e in edits if e.cause == "gradient_for_weight"]
    assert running and not any(_per_example_alike(e) for e in running)
