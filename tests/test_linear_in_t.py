"""Linear in the sequence length, asserted without timing: per-step values are views of one
time-major sequence (no copy of the sequence per step), memory grows linearly in T, and
comparing whole sequences a chunk at a time gives exactly the rows of one comparison per
step."""

import tracemalloc

import numpy as np
import pytest

from harness import errstats
from harness.backends import reference
from harness.cells import GATES
from harness.compare import Tolerance, _compare_key, compare_arrays, compare_traces
from harness.probe import make_probe
from harness.trace import StepProducts, Trace, TraceValues, sequences


def _allocated(fn):
    """(peak bytes NumPy and Python allocated while fn ran, fn's result)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
        return tracemalloc.get_traced_memory()[1] - base, result
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_step_is_a_view_of_one_sequence(cell):
    trace = reference.run_reference(make_probe(cell, layers=2, steps=7))
    seqs = sequences(trace.values)
    arrays = {k: v for k, v in seqs.items() if isinstance(v, np.ndarray)}
    assert {("h", 0), ("h", 1), ("dh_total", 1), ("dx", 0)} <= set(arrays)
    for (quantity, layer), seq in arrays.items():
        assert seq.flags.c_contiguous and seq.shape[0] == 7
        for t in range(7):
            step = trace.values[(quantity, layer, t)]
            assert step.base is seq or step.base is seq.base, (quantity, layer, t)
            assert np.shares_memory(step, seq)
    # weight contributions are kept as factors, never as a (T, G*H, D) array
    assert all(isinstance(seqs[(q, k)], StepProducts) for q in ("dweight_ih", "dweight_hh") for k in (0, 1))


def test_extracting_every_step_allocates_nothing_per_element():
    """Reading all T steps of every sequence costs a few hundred bytes per step (the view
    objects), not a copy of the sequence (T * N * H * 8 bytes) per step."""
    probe = make_probe("lstm", steps=200, batch=8, hidden_size=16, input_size=16)
    trace = reference.run_reference(probe)
    keys = [k for k in trace.values if k[0] in ("gates", "h", "c", "dh_total", "dc_total", "dx") and k[2] is not None]
    assert len(keys) > 5 * 200
    bytes_used, _ = _allocated(lambda: [trace.values[k] for k in keys])
    step_bytes = min(trace.values[k].nbytes for k in keys)          # N * H * 8 = 1024 here
    assert step_bytes >= 1024
    # views only: under 400 bytes per step read, less than even copying each step's own slice
    assert bytes_used < 400 * len(keys) < step_bytes * len(keys), bytes_used


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_memory_of_the_reference_trace_and_its_comparison_grows_linearly(cell):
    """Peak memory of the reference backend plus a comparison at 4T is about 4x that at T
    (a per-step copy of the sequence would make it 16x)."""
    def peak(T):
        probe = make_probe(cell, steps=T, batch=16, hidden_size=32, input_size=32)
        tol = Tolerance.for_dtype("float64")

        def run():
            ref = reference.run_reference(probe)
            other = reference.run_reference(probe)
            rows = compare_traces(ref, other, tol, GATES[cell])
            assert all(r["passed"] for r in rows)
            return len(rows)
        return _allocated(run)
    (small, rows_small), (large, rows_large) = peak(100), peak(400)
    assert rows_large > 3.5 * rows_small                  # every step of every quantity was compared
    assert large < 5.0 * small, (small, large)


def _random_pair(rng, shape, dtype, poison):
    a = rng.standard_normal(shape).astype(dtype)
    b = (a + rng.standard_normal(shape) * 10.0 ** rng.integers(-14, -2, size=shape)).astype(dtype)
    if poison:
        flat_a, flat_b = a.reshape(-1), b.reshape(-1)
        idx = rng.choice(flat_a.size, size=4, replace=False)
        flat_b[idx[0]], flat_a[idx[1]] = np.nan, np.inf
        flat_a[idx[2]] = flat_b[idx[2]] = np.inf
        flat_b[idx[3]] = -np.inf
    return a, b


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("poison", [False, True])
def test_sequence_comparison_gives_the_rows_of_one_comparison_per_step(dtype, poison):
    """The chunked comparison of whole sequences (and of StepProducts) == compare_arrays on
    every step and gate block: same errors, worst index, values, verdict and note."""
    rng = np.random.default_rng(0)
    T, N, G, H, D = 9, 3, 4, 5, 6
    tol = Tolerance.for_dtype(dtype)
    gates = ("i", "f", "g", "o")
    ref, other = Trace("ref"), Trace("other")
    for quantity, shape in (("gates", (T, N, G * H)), ("h", (T, N, H)), ("dbias_ih", (T, G * H))):
        a, b = _random_pair(rng, shape, dtype, poison)
        ref.add_steps(quantity, 0, a, time_axis=0)
        other.add_steps(quantity, 0, b, time_axis=0)
    left, right = _random_pair(rng, (T, N, G * H), dtype, False)
    x, _ = _random_pair(rng, (T, N, D), dtype, False)
    ref.add_steps("dweight_ih", 0, StepProducts(left, [(slice(None), x)]))
    other.add_steps("dweight_ih", 0, StepProducts(right, [(slice(0, 2 * H), x), (slice(2 * H, 4 * H), x[::-1])]))
    rows = compare_traces(ref, other, tol, gates)
    expected, missing = [], {}
    for key in ref.values:                                   # one compare_arrays per step and gate block
        _compare_key(expected, missing, key, ref.values[key], other, tol, gates)
    assert not missing
    plain = Trace("other", values=dict(other.values.items()))     # a plain dict: its steps are stacked
    assert not isinstance(plain.values, TraceValues)
    assert [_strip(r) for r in compare_traces(ref, plain, tol, gates)] == [_strip(r) for r in rows]
    assert len(rows) == len(expected) == T * (G + 1 + G + G)

    def key(r):
        return (r["quantity"], r["step"], r["gate"])
    for got, want in zip(sorted(rows, key=key), sorted(expected, key=key)):
        for column in ("status", "passed", "worst_index", "note", "shape", "gate", "step"):
            assert got[column] == want[column], (column, got, want)
        for column in ("max_abs_err", "max_rel_err", "err_ratio", "ref_value", "value"):
            np.testing.assert_equal(got[column], want[column], err_msg=(column, key(got)))
    if poison:
        assert any(r["note"] and not r["passed"] for r in rows)
    # and both are the rule itself, written out element by element below
    for r in rows:
        if r["quantity"] == "h":
            want = _rule(ref.values[("h", 0, r["step"])], other.values[("h", 0, r["step"])], tol)
            assert (r["passed"], r["worst_index"], r["note"]) == (want["passed"], want["worst_index"], want["note"])
            for column in ("max_abs_err", "max_rel_err", "err_ratio", "ref_value", "value"):
                np.testing.assert_equal(r[column], want[column], err_msg=column)
    one = compare_arrays(ref.values[("h", 0, 3)], other.values[("h", 0, 3)], tol)
    assert one["err_ratio"] == _rule(ref.values[("h", 0, 3)], other.values[("h", 0, 3)], tol)["err_ratio"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("poison", [False, True])
def test_one_step_chunks_reusing_their_buffers_give_the_same_rows(monkeypatch, dtype, poison):
    """The same comparison a step at a time: the buffers reused from chunk to chunk (products,
    float64 and gate-major copies, the rule's temporaries) never carry one step into the next,
    steps with NaN/Inf (the slow path) and without alternating."""
    monkeypatch.setattr(errstats, "CHUNK_ELEMENTS", 7)
    test_sequence_comparison_gives_the_rows_of_one_comparison_per_step(dtype, poison)


def _strip(row):
    return {k: (repr(v) if isinstance(v, float) else v) for k, v in row.items() if k != "backend"}


def _rule(ref, value, tol):
    """The comparison rule, plainly: |v - r| <= atol + rtol |r| element-wise; a non-finite
    element (in either) has error inf and never passes; the worst element is the first with
    the largest error over tolerance."""
    r, v = np.asarray(ref, dtype=np.float64).ravel(), np.asarray(value, dtype=np.float64).ravel()
    errs, rels, ratios = [], [], []
    for a, b in zip(r, v):
        finite = np.isfinite(a) and np.isfinite(b)
        e = abs(b - a) if finite else np.inf
        with np.errstate(invalid="ignore"):
            errs.append(e)
            rels.append(e / max(abs(a), np.finfo(np.float64).tiny) if not np.isnan(a) else np.nan)
            ratios.append(e / (tol.atol + tol.rtol * abs(a)))
    ratios = np.array(ratios)
    worst = int(np.argmax(ratios))
    bad = int(sum(not (np.isfinite(a) and np.isfinite(b)) for a, b in zip(r, v)))
    return dict(passed=bad == 0 and bool((ratios <= 1.0).all()), max_abs_err=max(errs), err_ratio=ratios.max(),
                max_rel_err=np.array(rels).max(),
                worst_index=str(tuple(int(i) for i in np.unravel_index(worst, np.shape(ref)))),
                ref_value=r[worst], value=v[worst],
                note=f"{bad} non-finite element(s) (NaN/Inf never pass)" if bad else "")


def test_steps_the_other_trace_lacks_are_never_formed(monkeypatch):
    """Against a backend without per-step weight contributions (a fused module), the
    reference's per-step products are not materialized step by step only to be found
    missing: one "not compared" row naming every step, and no StepProducts.chunk call."""
    T = 6
    probe = make_probe("gru", steps=T)
    ref = reference.run_reference(probe)
    other = Trace("fused")
    for key, value in ref.values.items():
        if key[0] not in ("dweight_ih", "dweight_hh") or key[2] is None:
            other.values[key] = value
    calls = []
    real_chunk = StepProducts.chunk
    monkeypatch.setattr(StepProducts, "chunk", lambda self, a, b: calls.append((a, b)) or real_chunk(self, a, b))
    rows = compare_traces(ref, other, Tolerance.for_dtype("float64"), GATES["gru"])
    assert calls == []
    missing = [r for r in rows if r["status"] == "not compared"]
    assert sorted(r["quantity"] for r in missing) == ["dweight_hh", "dweight_ih"]
    assert all(r["passed"] is None and f"steps 0-{T - 1}" in r["note"] for r in missing)
    assert all(r["passed"] for r in rows if r["status"] != "not compared")


@pytest.mark.parametrize("cell,opts", [("rnn", {}), ("lstm", {"forget_bias": 1.0}), ("gru", {"reset_after": True}),
                                       ("gru", {"reset_after": False})])
def test_one_reference_forward_serves_every_upstream_probe(cell, opts):
    """localize's upstream probes share one reference forward: the backward never writes the
    caches, so each probe's values equal those of a forward of its own."""
    import dataclasses

    from harness.guard.oracles import reference_forward, reference_values
    probe = make_probe(cell, steps=6, **opts)
    forward = reference_forward(probe)
    for s in range(6):
        dout = np.zeros_like(probe.dout)
        dout[:, s] = probe.dout[:, s]
        p = dataclasses.replace(probe, dout=dout)
        shared, own = reference_values(p, forward), reference_values(p)
        for k, v in own.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(shared[k], v, err_msg=f"{cell} {k} step {s}")


def test_the_backward_gets_the_cache_its_forward_just_made():
    """No copy of the user's cache per run: it comes from the forward run just before."""
    from zoo import cs231n_rnn

    from harness.guard.check import check_backward
    made, got = [], []

    def forward(*args):
        h, cache = cs231n_rnn.rnn_forward(*args)
        made.append(cache)
        return h, cache

    def backward(dh, cache):
        got.append(cache)
        return cs231n_rnn.rnn_backward(dh, cache)
    assert check_backward(forward, backward, against=("reference",)).ok
    assert got and all(any(g is m for m in made) for g in got)
    assert len({id(g) for g in got}) == len(got)           # a fresh cache for every backward
