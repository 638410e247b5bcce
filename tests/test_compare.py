"""The comparison is a pure function of two traces and tolerances."""

import numpy as np
import pytest

from harness.compare import Tolerance, compare_arrays, compare_traces
from harness.trace import Trace

TOL = Tolerance(atol=1e-9, rtol=1e-7)


def _trace(name, values):
    t = Trace(name)
    t.values.update(values)
    return t


def test_rule_is_atol_plus_rtol_times_reference():
    ref = np.array([1.0, 100.0])
    just_in = ref + np.array([1e-9 + 1e-7, 1e-9 + 1e-5]) * 0.99
    just_out = ref + np.array([0.0, 1e-9 + 1e-5]) * 1.01
    assert compare_arrays(ref, just_in, TOL)["passed"]
    row = compare_arrays(ref, just_out, TOL)
    assert not row["passed"] and row["worst_index"] == "(1,)"
    assert row["ref_value"] == 100.0 and row["value"] == just_out[1]
    assert row["err_ratio"] == pytest.approx(1.01, rel=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_never_passes(bad):
    a = np.zeros(3)
    b = a.copy()
    b[1] = bad
    for ref, val in ((a, b), (b, a), (b, b)):
        row = compare_arrays(ref, val, Tolerance(1e300, 1e300))
        assert row["passed"] is False and row["status"] == "FAIL"
        assert "non-finite" in row["note"]


def test_atol_zero_exact_zeros_pass_and_anything_else_is_judged_by_rtol():
    ref = np.array([0.0, 2.0, 0.0])
    tol = Tolerance(atol=0.0, rtol=1e-7)
    row = compare_arrays(ref, ref.copy(), tol)
    assert row["passed"] and row["err_ratio"] == 0.0
    assert not compare_arrays(ref, ref + np.array([0.0, 0.0, 1e-300]), tol)["passed"]   # 0 vs not 0
    for bad in (np.nan, np.inf):
        assert not compare_arrays(ref, np.array([0.0, 2.0, bad]), tol)["passed"]


def test_padded_rows_are_not_compared_but_nan_there_fails():
    lengths = np.array([2, 1])
    ref, other = Trace("ref"), Trace("other")
    h = np.arange(8.0).reshape(2, 2, 2)                  # (N, T, H)
    theirs = h.copy()
    theirs[1, 1] = 123.0                                 # garbage on the padded step of sequence 1
    ref.add_steps("c", 0, h)
    other.add_steps("c", 0, theirs)
    assert all(r["passed"] for r in compare_traces(ref, other, TOL, lengths=lengths))
    theirs[1, 1, 0] = np.nan
    other.add_steps("c", 0, theirs)
    rows = [r for r in compare_traces(ref, other, TOL, lengths=lengths) if not r["passed"]]
    assert [(r["step"], r["worst_index"]) for r in rows] == [(1, "(1, 0)")] and "non-finite" in rows[0]["note"]
    theirs[1, 1, 0], theirs[0, 1, 0] = 0.0, np.inf              # a step no sequence reaches: still never passes
    other.add_steps("c", 0, theirs)
    rows = compare_traces(ref, other, TOL, lengths=np.array([1, 1]))
    assert [(r["step"], r["passed"]) for r in rows] == [(0, True), (1, False)], rows


def test_steps_no_sequence_reaches_are_not_missing():
    lengths = np.array([1, 1])
    ref, other = Trace("ref"), Trace("other")
    h = np.arange(8.0).reshape(2, 2, 2)
    ref.add_steps("h", 0, h)
    other.values[("h", 0, 0)] = h[:, 0]                  # the backend stops where the sequences stop
    rows = compare_traces(ref, other, TOL, lengths=lengths)
    assert [r["status"] for r in rows] == ["pass"]
    del other.values[("h", 0, 0)]                        # a step some sequence reaches is missing
    assert [r["status"] for r in compare_traces(ref, other, TOL, lengths=lengths)] == ["not compared"]


def test_shape_mismatch_fails_and_names_the_transpose():
    row = compare_arrays(np.zeros((2, 3)), np.zeros((3, 2)), TOL)
    assert not row["passed"] and "transpose" in row["note"]


def test_missing_quantities_are_not_compared_never_passed():
    ref = _trace("reference", {("h", 0, 0): np.ones(2), ("h", 0, 1): np.ones(2),
                                 ("dh0", 0, None): np.ones(2)})
    other = _trace("b", {("h", 0, 1): np.ones(2)})
    other.note = "fused"
    rows = compare_traces(ref, other, TOL)
    by_q = {(r["quantity"], r["status"]) for r in rows}
    assert by_q == {("h", "pass"), ("h", "not compared"), ("dh0", "not compared")}
    nc = [r for r in rows if r["status"] == "not compared"]
    assert all(r["passed"] is None for r in nc)
    assert any("steps 0" in r["note"] and "fused" in r["note"] for r in nc)


def test_gated_weights_are_split_and_the_wrong_gate_is_named():
    H = 2
    ref_w = np.arange(4 * H * 3, dtype=float).reshape(4 * H, 3)
    bad = ref_w.copy()
    bad[1 * H:2 * H] += 1.0                                   # rows of gate f
    rows = compare_traces(_trace("r", {("dweight_hh", 0, None): ref_w}),
                          _trace("b", {("dweight_hh", 0, None): bad}), TOL, gates=("i", "f", "g", "o"))
    assert [(r["gate"], r["passed"]) for r in rows] == [("i", True), ("f", False), ("g", True), ("o", True)]


def test_compare_does_not_modify_traces():
    a, b = np.ones((2, 2)), np.full((2, 2), np.nan)
    a0, b0 = a.copy(), b.copy()
    compare_arrays(a, b, TOL)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_default_tolerances_depend_on_dtype():
    assert Tolerance.for_dtype("float64") == Tolerance(1e-9, 1e-7)
    assert Tolerance.for_dtype("float32") == Tolerance(1e-4, 1e-3)
    assert Tolerance.for_dtype("float32", atol=1.0).atol == 1.0


@pytest.mark.parametrize("quantity,shape", [("dweight_ih", (12, 5)), ("dbias_hh", (12,)), ("gates", (3, 2, 12))])
@pytest.mark.parametrize("odd", ["none", "close", "nan", "inf", "float32", "zeros"])
def test_gate_blocks_in_one_pass_are_each_blocks_own_comparison(quantity, shape, odd):
    rng = np.random.default_rng(7)
    ref = rng.standard_normal(shape)
    ref.flat[3] *= 1e-9                                 # a tiny reference value: the relative error's floor
    other = ref + {"close": 1e-9, "none": 1e-4}.get(odd, 0.0) * rng.standard_normal(shape)
    if odd in ("nan", "inf"):
        other.flat[7] = np.nan if odd == "nan" else np.inf
        ref.flat[1] = -np.inf
    other = other.astype(np.float32) if odd == "float32" else np.zeros(shape) if odd == "zeros" else other
    tol = Tolerance(1e-7, 1e-6)
    gates = compare_traces(_trace("ref", {(quantity, 0, None): ref}), _trace("you", {(quantity, 0, None): other}),
                           tol, gates=("i", "f", "g", "o"))
    axis = 0 if quantity != "gates" else -1
    for gate, r, o in zip("ifgo", np.split(ref, 4, axis), np.split(other, 4, axis)):
        row = next(g for g in gates if g["gate"] == gate)
        one = compare_arrays(r, o, tol)
        assert {k: row[k] for k in one} == pytest.approx(one, nan_ok=True) and row["worst_index"] == one["worst_index"]


@pytest.mark.parametrize("dtype", [np.complex128, object, np.bool_, np.int32])
def test_gate_blocks_of_other_dtypes_compare_as_each_block_alone(dtype):
    ref = (np.arange(8.0) % 2).reshape(4, 2)
    other = (ref + 1j) if dtype is np.complex128 else ref.astype(dtype)
    rows = compare_traces(_trace("ref", {("dweight_ih", 0, None): ref}), _trace("you", {("dweight_ih", 0, None): other}),
                          TOL, gates=("i", "f", "g", "o"))
    want = [compare_arrays(r, o, TOL)["passed"] for r, o in zip(np.split(ref, 4), np.split(other, 4))]
    assert [r["passed"] for r in rows] == want
    assert all(r["passed"] is (dtype is not np.complex128) for r in rows)     # complex: never a pass
