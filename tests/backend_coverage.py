"""Assertions shared by the backend test files: what a backend observed was really compared."""

import itertools

from harness import cells


def compared_keys(report):
    """{(quantity, layer, step)} of the rows that were compared; step -1 for totals."""
    c = report.compared
    return set(zip(c["quantity"], c["layer"], c["step"].fillna(-1)))


def assert_totals(seen, cell, layers, T, bias=True):
    """dx at every step; every layer's final states, initial-state and weight gradients."""
    assert all(("dx", 0, t) in seen for t in range(T))
    for k in range(layers):
        for s in cells.STATES[cell]:
            assert (s, k, T - 1) in seen and (f"d{s}0", k, -1) in seen
        assert all((f"d{p}", k, -1) in seen for p in _params(bias))


def assert_everything_per_step(report, seen, cell, layers, T, bias=True):
    """An untied unroll observes states, total adjoints, weight contributions and gates per step."""
    for k, t, s in itertools.product(range(layers), range(T), cells.STATES[cell]):
        assert {(s, k, t), (f"d{s}_total", k, t)} <= seen, (s, k, t)
        assert all((f"d{p}", k, t) in seen for p in _params(bias)), (k, t)
        assert cell == "rnn" or ("gates", k, t) in seen, (k, t)
    assert not (report.table["status"] == "not compared").any()


def assert_split_by_gate(report, cell):
    """Gated weight gradients and gate values are compared gate by gate."""
    if cell == "rnn":
        return
    gates = set(report.compared.loc[report.compared["quantity"] == "dweight_hh", "gate"])
    assert gates == set(cells.GATES[cell])
    values = set(report.compared.loc[report.compared["quantity"] == "gates", "gate"])
    assert values in (set(), set(cells.GATES[cell]))


def _params(bias):
    return ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
