"""The porting traps of these layers, planted on purpose, each failing as exactly that
quantity, direction and gate: the reverse direction reversed over the padded length instead
of each sequence's own; the projection's gradient taken before the output gate; the
peepholes of i and f on c_t where c_(t-1) belongs. Planted twice: in user code checked by
check_backward / check_model, and in the reference compared with the frameworks."""

import re

import numpy as np
import pytest

import harness
from reference_impls import bidirectional, lstm_proj

import seq_user_code as u

LENGTHS = [5, 2, 4]
SHORT_LAST = max(n - 1 for n in LENGTHS if n < 5)          # the last real step of a short sequence: 3
BI = harness.Layout.custom(u.birnn_to_user, u.birnn_to_canonical, cells=("rnn",), bidirectional=True,
                           takes_lengths=True)
LSTMP = harness.Layout.custom(u.lstmp_to_user, u.lstmp_to_canonical, cells=("lstm",), weights_as="dict")


def _failing(report):
    f = report.table[report.table["status"] == "FAIL"]
    return set(zip(f["quantity"], f["direction"], f["gate"]))


def test_correct_bidirectional_padded_layer_passes_every_oracle():
    pytest.importorskip("torch")
    report = harness.check_backward(u.birnn_forward, u.birnn_backward, layout=BI, lengths=LENGTHS,
                                    against=("reference", "torch", "numeric"))
    assert report.ok, report.summary()
    c = report.compared
    assert {"h_padded", "out_padded"} <= set(c["quantity"])                 # its padded outputs: 0
    assert set(c.loc[c["quantity"] == "h", "direction"]) == {"forward", "reverse"}


def test_reverse_over_the_padded_length_fails_as_the_reverse_direction_of_the_short_sequences():
    report = harness.check_backward(u.birnn_forward_over_padding, u.birnn_backward, layout=BI, lengths=LENGTHS,
                                    against=("reference",))
    first = report.first_mismatch()
    assert (first["quantity"], first["direction"], first["layer"], first["step"]) == ("h", "reverse", 0, SHORT_LAST)
    assert int(first["worst_index"].strip("()").split(",")[0]) == LENGTHS.index(SHORT_LAST + 1)
    failing = _failing(report)
    assert not {f for f in failing if f[1] == "forward"}, failing           # the forward direction is right
    assert {("h", "reverse", ""), ("dweight_hh", "reverse", ""), ("dh0", "reverse", "")} <= failing
    rev_h = report.table[(report.table["quantity"] == "h") & (report.table["direction"] == "reverse")]
    assert rev_h.loc[rev_h["step"] == 4, "passed"].all()                   # only the full sequence reaches step 4
    assert "reverse direction" in report.summary()


def test_reverse_over_the_padded_length_in_a_model_fails_the_reverse_weights():
    report = harness.check_model(lambda *a: u.birnn_model_fn(*a, reverse_over_padding=True), bidirectional=True,
                                 lengths=LENGTHS, head="linear", output_size=2, against=("reference",))
    assert not report.ok
    right = harness.check_model(u.birnn_model_fn, bidirectional=True, lengths=LENGTHS, head="linear",
                                output_size=2, against=("reference", "numeric"))
    assert right.ok, right.summary()


@pytest.fixture
def reference_reversing_over_the_padding(monkeypatch):
    """The reference's reverse direction flipped over the padded length T."""
    original = bidirectional.layer_forward

    def layer_forward(cell, x, lengths, state0, params, reverse=False, **options):
        if not reverse:
            return original(cell, x, lengths, state0, params, **options)
        T = x.shape[1]
        states, final, gates, cache = original(cell, x, np.full(len(lengths), T), state0, params, True, **options)
        for v in states.values():
            v[np.arange(T)[None] >= np.asarray(lengths)[:, None]] = 0
        return states, final, gates, cache
    monkeypatch.setattr(bidirectional, "layer_forward", layer_forward)


def test_framework_sees_the_reference_reversing_over_the_padding(reference_reversing_over_the_padding):
    pytest.importorskip("torch")
    report = harness.compare("rnn", backends=("torch.nn.RNN",), bidirectional=True, lengths=LENGTHS, steps=5)
    first = report.first_mismatch()
    assert (first["quantity"], first["direction"], first["layer"], first["step"]) == ("h", "reverse", 0, SHORT_LAST)
    assert all(d != "forward" for _, d, _ in _failing(report))


def test_projection_before_the_output_gate_fails_as_the_projection_only():
    report = harness.check_backward(u.lstmp_forward, u.lstmp_backward_projection_before_gate, layout=LSTMP,
                                    cell="lstm", proj_size=3, peepholes=True, against=("reference",))
    assert _failing(report) == {("dweight_hr", "forward", "")}, report.summary()
    right = harness.check_backward(u.lstmp_forward, u.lstmp_backward, layout=LSTMP, cell="lstm", proj_size=3,
                                   peepholes=True, against=("reference", "numeric"))
    assert right.ok, right.summary()


def test_peepholes_of_i_and_f_on_the_new_cell_state_fail_as_exactly_those_gates():
    report = harness.check_backward(u.lstmp_forward, u.lstmp_backward_peephole_on_new_c, layout=LSTMP,
                                    cell="lstm", proj_size=3, peepholes=True, against=("reference",))
    assert _failing(report) == {("dweight_ci", "forward", "i"), ("dweight_cf", "forward", "f")}, report.summary()


@pytest.fixture
def planted(monkeypatch):
    """Plant one of the two BPTT mistakes into the reference's textbook LSTM-with-extras step."""
    original = lstm_proj.step_backward

    def plant(mistake):
        def step_backward(dnext_h, dnext_c, cache):
            out = original(dnext_h, dnext_c, cache)
            if mistake == "projection_before_gate":
                dr = dnext_h * lstm_proj._passes(cache["r"], cache["proj_clip"])
                out["dW_hr"] = dr.T @ cache["tanh_c"]
            else:                                                        # peepholes of i, f on c_t
                H = cache["i"].shape[1]
                out["dw_ci"] = (out["da"][:, :H] * cache["next_c"]).sum(axis=0)
                out["dw_cf"] = (out["da"][:, H:2 * H] * cache["next_c"]).sum(axis=0)
            return out
        monkeypatch.setattr(lstm_proj, "step_backward", step_backward)
    return plant


@pytest.mark.parametrize("mistake, expected", [
    ("projection_before_gate", {("dweight_hr", "forward", ""), ("dweight_hr", "reverse", "")}),
    ("peephole_on_new_c", {("dweight_ci", d, "i") for d in ("forward", "reverse")}
     | {("dweight_cf", d, "f") for d in ("forward", "reverse")}),
])
def test_frameworks_name_the_planted_mistake(planted, mistake, expected):
    pytest.importorskip("torch")
    planted(mistake)
    report = harness.compare("lstm", backends=("torch.functional",), bidirectional=True, lengths=LENGTHS, steps=5,
                             proj_size=2, peepholes=True)
    assert _failing(report) == expected
    per_step = report.table[(report.table["status"] == "FAIL") & report.table["step"].notna()]
    assert len(per_step)                                                  # located at the steps, too


def test_bad_user_returns_and_arguments_are_one_line_errors():
    def backward(dh, cache):
        out = u.lstmp_backward(dh, cache)
        out["dW_peep"] = out.pop("dweight_ci")
        return out
    with pytest.raises(harness.HarnessError, match=r"unexpected key\(s\) \['dW_peep'\]"):
        harness.check_backward(u.lstmp_forward, backward, layout=LSTMP, cell="lstm", proj_size=3, peepholes=True,
                               against=("reference",))
    with pytest.raises(harness.HarnessError, match="the built-in layout 'cs231n' holds no projection"):
        harness.check_backward(u.lstmp_forward, u.lstmp_backward, cell="lstm", proj_size=3, against=("reference",))
    with pytest.raises(harness.HarnessError, match="does not take sequence lengths"):
        harness.check_backward(u.lstmp_forward, u.lstmp_backward, layout=LSTMP, cell="lstm", lengths=[5, 2, 4],
                               against=("reference",))
    with pytest.raises(harness.HarnessError, match=r"lengths: expected 'random' or 3 integers"):
        harness.check_backward(u.birnn_forward, u.birnn_backward, layout=BI, lengths=[5, 2], against=("reference",))
    with pytest.raises(harness.HarnessError, match="proj_clip: clips the projected output"):
        harness.compare("lstm", proj_clip=0.5, backends="torch")
    for kwargs, message in ((dict(head_bias=False), "head_bias: False applies only with a head"),
                            (dict(loss="mean_squared_error", reduction="mean"), "reduction: 'mean' does not apply"),
                            (dict(head_bias="no", head="linear", output_size=2), "head_bias: expected")):
        with pytest.raises(harness.HarnessError, match=re.escape(message)):          # a model of such layers too
            harness.check_model(u.birnn_model_fn, bidirectional=True, lengths=LENGTHS, against=("reference",),
                                **kwargs)


def test_the_command_line_checks_a_bidirectional_padded_layer(tmp_path):
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    run = lambda fwd: subprocess.run(
        [sys.executable, "-m", "harness", "check", f"seq_user_code:{fwd}", "seq_user_code:birnn_backward",
         "--layout", "seq_user_code:BI", "--lengths", "5,2,4", "--against", "reference", "--csv", "", "--html", ""],
        cwd=os.path.join(root, "tests"), env=env, capture_output=True, text=True)
    right, wrong = run("birnn_forward"), run("birnn_forward_over_padding")
    assert right.returncode == 0, right.stdout + right.stderr
    assert wrong.returncode == 1 and "step 3 of 0..4 (reverse direction) | h |" in wrong.stdout


@pytest.mark.parametrize("kwargs, message", [
    (dict(merge="sum"), "merge: 'sum' applies to two directions only"),
    (dict(stacking="separate"), "stacking: 'separate' applies to two directions only"),
    (dict(bidirectional="yes"), "bidirectional: expected True or False"),
    (dict(cell="gru", proj_size=2), "proj_size: only the LSTM has a projection"),
    (dict(cell="lstm", proj_size=-1), "proj_size: expected a non-negative integer"),
    (dict(cell="lstm", cell_clip=-1.0), "cell_clip: expected a positive number"),
    (dict(lengths=[3, 0, 2]), "lengths: expected 'random' or 3 integers"),
])
def test_bad_structure_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(harness.HarnessError, match=re.escape(message)):
        harness.compare(**{"cell": "rnn", "backends": "torch", "steps": 4, **kwargs})


def test_targets_lie_where_the_outputs_can_reach():
    """Behind a sigmoid (no head), in [0, 1]; a tanh layer's in [-1, 1]: plain and extended alike."""
    from harness.guard.model_case import make_case
    from harness.guard.seqmodel import make_seq_case
    from harness.probe import make_probe
    for act, low in (("sigmoid", 0.0), ("tanh", -1.0)):
        plain = make_probe("rnn", activation=act, steps=50, batch=8)
        extended = make_probe("rnn", activation=act, steps=50, batch=8, bidirectional=True, lengths="random")
        for case in (make_case(plain, None, None, True, "squared_error", None, "sum"),
                     make_seq_case(extended, None, None, True, "squared_error", None, "sum")):
            assert case.target.min() >= low and case.target.min() < low + 0.1, (act, case.target.min())


def test_the_summary_narrows_a_layer_it_cannot_name_to_its_direction_and_gates():
    """Extended layers get no likely cause yet; their findings still say which direction and
    which gate blocks are wrong, read off the failing rows."""
    rev = harness.check_backward(u.birnn_forward_over_padding, u.birnn_backward, layout=BI, lengths=LENGTHS,
                                 against=("reference",))
    assert any(f.startswith("where: only the reverse direction is wrong") for f in rev.findings), rev.findings
    peep = harness.check_backward(u.lstmp_forward, u.lstmp_backward_peephole_on_new_c, layout=LSTMP, cell="lstm",
                                  proj_size=3, peepholes=True, against=("reference",))
    assert "gates: only the i, f block(s) of the weight gradients are wrong (g, o right)" in peep.findings, \
        peep.findings
    def doubled(dh, cache):                               # every gradient twice: every gate block wrong
        return {k: 2 * v for k, v in u.lstmp_backward(dh, cache).items()}
    every = harness.check_backward(u.lstmp_forward, doubled, layout=LSTMP, cell="lstm", proj_size=3, peepholes=True,
                                   against=("reference",))
    assert not every.ok and not any(f.startswith(("gates:", "where: only")) for f in every.findings), every.findings
