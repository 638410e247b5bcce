"""The grammar's candidates are screened on short probes against a stack of their values, kept
per probe: the stacked comparison must keep exactly the candidates the one-at-a-time
comparison (diagnose._close on each) keeps, and a second screen on the same probe must replay
nothing."""

import numpy as np
import pytest

from harness.guard import screen
from harness.guard.diagnose import ExampleReplay, Replay, _close, _cut
from harness.guard.mutants import quiet
from harness.probe import make_probe
from harness.compare import Tolerance


CASES = [("rnn", {}), ("rnn", {"activation": "relu", "bias": False}), ("lstm", {}), ("lstm", {"forget_bias": 1.0}),
         ("gru", {"reset_after": True}), ("gru", {"reset_after": False}), ("rnn", {"per_example": True}),
         ("lstm", {"dtype": "float32"})]
TOL = Tolerance(1e-7, 1e-5)


def _setup(cell, opts, steps=1):
    opts = dict(opts)
    per_example = opts.pop("per_example", False)
    probe = _cut(make_probe(cell, batch=3, steps=4, **opts), steps)
    replay = (ExampleReplay if per_example else Replay).of(probe)
    edits = [e for e in replay.book.edits(probe.sizes, probe.bias, probe.options.get("activation"))
             if e.target != "output" and not e.touches_forward()]
    return replay, edits


def _one_at_a_time(replay, edits, user, keys):
    return [e for e in edits if (v := replay.values(e)) is not None
            and all(_close(v[q], user[q], TOL) for q in keys if q in v)]


def _users(replay, edits):
    """The textbook's own values, one edit's values, and one edit's values in float32."""
    some = next(replay.values(e) for e in edits[len(edits) // 2:] if replay.values(e) is not None)
    return {"correct": dict(replay.correct), "an edit's": dict(some),
            "an edit's in float32": {q: np.asarray(v, dtype=np.float32) for q, v in some.items()}}


@pytest.mark.parametrize("cell,opts", CASES, ids=[f"{c}-{o}" for c, o in CASES])
@pytest.mark.parametrize("steps", [1, 2])
def test_the_stacked_screen_keeps_exactly_what_the_one_at_a_time_screen_keeps(cell, opts, steps):
    replay, edits = _setup(cell, opts, steps)
    with quiet():
        for what, user in _users(replay, edits).items():
            keys = list(user)
            expected = _one_at_a_time(replay, edits, user, keys)
            got = screen.fitting(replay, edits, user, keys, TOL, _close)
            assert [e.says for e in got] == [e.says for e in expected], what
            assert got, what                # each of these users is some candidate's numbers


def test_a_second_screen_on_the_same_probe_replays_nothing():
    replay, edits = _setup("lstm", {})
    calls = []

    class Counting:
        def __init__(self, inner):
            self.probe, self.correct, self.inner = inner.probe, inner.correct, inner

        def values(self, e):
            calls.append(e)
            return self.inner.values(e)
    counting = Counting(replay)
    with quiet():
        user = dict(replay.correct)
        first = screen.fitting(counting, edits, user, list(user), TOL, _close)
        assert len(calls) == len(edits)
        calls.clear()
        again = Counting(Replay.of(replay.probe))       # a new replay of an equal probe: the same table
        second = screen.fitting(again, edits, user, list(user), TOL, _close)
    assert calls == [] and second == first


def test_another_probe_is_another_table():
    replay, edits = _setup("rnn", {})
    other = Replay.of(_cut(make_probe("rnn", batch=3, steps=4, seed=1), 1))
    assert screen.fingerprint(replay) != screen.fingerprint(other)
    assert screen.fingerprint(replay) == screen.fingerprint(Replay.of(replay.probe))


def test_a_value_of_another_shape_or_dtype_or_a_missing_value_is_compared_one_at_a_time(monkeypatch):
    monkeypatch.setattr(screen, "MIN_EDITS", 0)
    monkeypatch.setattr(screen, "TABLES", screen._Kept(1 << 30))
    replay, edits = _setup("rnn", {})
    base = {q: np.asarray(v, dtype=np.float32) for q, v in replay.correct.items()}

    class Odd:
        probe, correct = replay.probe, base

        def values(self, e):
            k = edits.index(e)
            if k == 0:
                return {**base, "dx": base["dx"][:, :, :-1]}          # another shape: never close
            if k == 1:
                return {q: v for q, v in base.items() if q != "dh0"}   # no dh0: not compared there
            if k == 2:
                return None                                            # could not run
            if k == 3:
                return {q: v.astype(np.float64) for q, v in base.items()}   # another dtype: one at a time
            if k == 4:          # float64, off by less than float32 resolves: a float32 stack would hide it
                return {**base, "dh0": base["dh0"].astype(np.float64) + 1e-9}
            return {**base, "dh0": base["dh0"] + 1.0}
    user = dict(base)
    exact = Tolerance(1e-12, 0.0)
    with quiet():
        got = screen.fitting(Odd(), edits[:6], user, list(user), exact, _close)
    assert got == [edits[1], edits[3]]


def test_past_the_budget_nothing_is_stacked(monkeypatch):
    replay, edits = _setup("gru", {"reset_after": True})
    monkeypatch.setattr(screen, "BUDGET", 0)
    monkeypatch.setattr(screen, "TABLES", screen._Kept(1 << 30))
    user = dict(replay.correct)
    with quiet():
        got = screen.fitting(replay, edits, user, list(user), TOL, _close)
        assert got == _one_at_a_time(replay, edits, user, list(user))
    assert not screen.TABLES.items


def test_what_is_kept_stays_within_its_bytes():
    kept = screen._Kept(100)
    for k in range(5):
        assert kept.get(k, lambda: np.zeros(5), screen.nbytes).nbytes == 40
    assert list(kept.items) == [3, 4] and kept.bytes == 80          # the least recently used dropped
    kept.get(3, lambda: 1 / 0, screen.nbytes)                        # kept: not built again
    kept.get("big", lambda: np.zeros(20), screen.nbytes)             # larger than the budget: not kept
    assert list(kept.items) == [4, 3]


def test_an_infinite_candidate_value_matches_nothing():
    """|got - inf| <= atol + rtol * inf would hold for any finite got: never within."""
    assert not screen.within(np.array([np.inf, -np.inf]), np.array([1.0, 5.0]), TOL).any()
    assert not _close(np.array([np.inf]), np.array([np.inf]), TOL)


def _same_arrays(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_arrays(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_arrays(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return True                                         # functions, flags: not values a candidate could change


def _replay_parts(r):
    return ([r.states, r.caches, r.correct] if isinstance(r, Replay)
            else [r.correct, *(_replay_parts(x) for x in r.replays), _replay_parts(r.batch)])


@pytest.mark.parametrize("module", ["cs231n_lstm", "blind_custom_gru", "held3_cs231n_gru", "blind_course_rnn"])
def test_diagnosing_every_mutant_leaves_the_kept_replays_as_they_were(module):
    """Kept replays are shared by every later check on an equal probe: no candidate (in-place
    mistakes among them) may change what they hold."""
    import importlib
    from harness.guard.check import check_backward
    zoo = importlib.import_module(f"zoo.{module}")
    screen.REPLAYS.clear()
    for bug in zoo.BUGS:
        fwd, bwd, opts = zoo.make(bug)
        check_backward(fwd, bwd, against=("reference",), **opts)
    kept = [value for value, _ in screen.REPLAYS.items.values()]
    assert kept
    for replay in kept:
        fresh = type(replay)._of(replay.probe) if isinstance(replay, Replay) else ExampleReplay(
            replay.probe, [Replay._of(r.probe) for r in replay.replays], Replay._of(replay.batch.probe))
        assert _same_arrays(_replay_parts(replay), _replay_parts(fresh))


def test_a_replay_is_counted_once_per_array():
    """Every step's cache holds the same weight arrays: kept bytes count each array once."""
    replay = Replay.of(make_probe("lstm", batch=3, steps=6, hidden_size=8, input_size=8))
    weights = replay.caches[0]["W_hh"].nbytes
    assert screen.nbytes([replay.caches[0]["W_hh"]] * 6) == weights
    distinct = {}
    for c in replay.caches:
        for v in c.values():
            if isinstance(v, np.ndarray):
                distinct[id(v if v.base is None else v.base)] = (v if v.base is None else v.base).nbytes
    assert screen.nbytes(replay.caches) == sum(distinct.values())
