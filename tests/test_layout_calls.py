"""A custom layout's own functions (to_user, to_canonical): called on copies, their mistakes one
line naming the layout and the function (the user's error as the cause), every gradient the user
returns compared or refused, and every canonical weight decoded to the user's array holding it."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import harness
from harness.guard import naming
from harness.guard.usercode import UserCodeError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layout_user_code as u  # noqa: E402

from examples.cs231n_rnn import rnn_backward, rnn_forward  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_correct_gru_with_two_biases_passes():
    report = harness.check_backward(u.gru_forward, u.gru_backward, cell="gru", layout=u.GRU2,
                                    against=("reference",))
    assert report.verdict == "OK", report.findings


def test_a_to_user_writing_into_p_does_not_shift_the_probe():
    """b = p["bias_ih"]; b += p["bias_hh"]: correct code stays correct, every call the same."""
    report = harness.check_backward(rnn_forward, rnn_backward, layout=u.INPLACE, against=("reference", "numeric"))
    assert report.verdict == "OK", report.findings
    assert not (report.table["status"] == "FAIL").any()


@pytest.mark.parametrize("cell, layout, fwd, bwd", [("gru", u.TC_MUTATES, u.gru_forward, u.gru_backward),
                                                    ("rnn", u.INPLACE, rnn_forward, rnn_backward)])
def test_the_probe_is_unchanged_after_a_run_through_a_scribbling_layout(cell, layout, fwd, bwd):
    from harness.guard.check import check_probe
    from harness.guard.runner import UserCode, interface, run_user
    from harness.probe import make_probe
    code = UserCode(fwd, bwd, layout, cell)
    probe = check_probe(code, make_probe(cell, layers=1, batch=2, steps=3, input_size=4, hidden_size=5))
    before = {k: v.copy() for k, v in probe.params.items()}
    interface(code, probe)
    run_user(code, probe, probe.dout)
    assert all(np.array_equal(before[k], v) for k, v in probe.params.items())


def test_a_returned_gradient_to_canonical_never_maps_back_is_refused():
    """dbh holds bias_hh, to_canonical leaves out dbias_hh: never OK, even with dbh wrong."""
    with pytest.raises(UserCodeError, match=re.escape("layout 'gru2': dbh holds bias_hh but to_canonical never "
                                                      "maps it back")):
        harness.check_backward(u.gru_forward, u.gru_backward_wrong_dbh, cell="gru", layout=u.GRU2_FORGETS_BH,
                               against=("reference",))


def test_a_gradient_declared_as_skipped_is_not_refused():
    report = harness.check_backward(u.gru_forward, u.gru_backward, cell="gru", layout=u.GRU2_FORGETS_BH,
                                    against=("reference",), skip=["dbh"])
    assert report.verdict == "OK", report.summary()


def test_a_summed_bias_compared_as_dbias_ih_is_not_refused():
    """cs231n's b = bias_ih + bias_hh: db is compared as dbias_ih, nothing left out."""
    report = harness.check_backward(rnn_forward, rnn_backward, layout="cs231n", against=("reference",))
    assert report.verdict == "OK"


def test_a_wrong_dbh_is_named_dbh():
    report = harness.check_backward(u.gru_forward, u.gru_backward_wrong_dbh, cell="gru", layout=u.GRU2,
                                    against=("reference",))
    assert report.verdict == "MISMATCH"
    t = report.table
    failing = set(t[(t["status"] == "FAIL") & (t["backend"] == "reference")]["quantity"])
    assert failing == {"dbias_hh"}
    headline = report.headline()
    assert "dbh" in headline and "dbi" not in headline, headline
    text = "\n".join(report.findings)
    assert "dbi" not in text, text


def test_every_canonical_weight_decodes_to_the_array_holding_it():
    names = naming.infer(u.GRU2, "gru", 4, 6)
    assert names.quantity("dbias_hh") == "dbh"
    assert names.quantity("dbias_ih") == "dbi"
    assert names.quantity("dweight_hh") == "dWh"
    single = naming.infer(harness.guard.layouts.LAYOUTS["cs231n"], "rnn", 4, 6)
    assert single.quantity("dbias_hh") == single.quantity("dbias_ih") == "db"


@pytest.mark.parametrize("case", sorted(u.BAD))
def test_mistakes_in_layout_functions_are_one_line_errors(case):
    layout, message = u.BAD[case]
    with pytest.raises(UserCodeError, match=re.escape(message)) as info:
        harness.check_backward(u.gru_forward, u.gru_backward, cell="gru", layout=layout, against=("reference",))
    assert "\n" not in str(info.value)
    if "raised" in message:
        assert isinstance(info.value.__cause__, KeyError)


def test_an_unknown_name_from_to_canonical_says_so():
    layout, _ = u.BAD["tc_extra"]
    with pytest.raises(UserCodeError) as info:
        harness.check_backward(u.gru_forward, u.gru_backward, cell="gru", layout=layout, against=("reference",))
    text = str(info.value)
    assert "not a canonical gradient" in text and "dweight_ih" in text and "shape" not in text, text


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "harness", "check", *args, "--csv", "", "--html", ""],
                          cwd=os.path.join(ROOT, "tests"), env=env, capture_output=True, text=True)


@pytest.mark.parametrize("case", ["tu_raises", "tc_none"])
def test_the_command_line_exits_2_with_the_users_frames(case):
    proc = _cli("layout_user_code:gru_forward", "layout_user_code:gru_backward", "--cell", "gru",
                "--layout", f"layout_user_code:BAD_{case.upper()}", "--against", "reference")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert u.BAD[case][1] in proc.stderr
    assert "bug in gradharness" not in proc.stderr
    if case == "tu_raises":
        assert "layout_user_code.py" in proc.stderr and "harness/guard" not in proc.stderr, proc.stderr


def test_a_gate_order_of_the_wrong_length_is_refused():
    layout = harness.Layout.custom(u.gru_to_user, u.gru_to_canonical, cells=("gru",), gate_order="ru")
    with pytest.raises(harness.HarnessError, match=r"^layout: gate_order: expected 3 gate letters .*got 'ru'"):
        harness.check_backward(u.gru_forward, u.gru_backward, cell="gru", layout=layout, against=("reference",))


@pytest.mark.parametrize("kwargs, name", [(dict(gate_order=5), "gate_order"), (dict(cells=None), "cells"),
                                          (dict(gate_letters=["r"]), "gate_letters"), (dict(names="W"), "names"),
                                          (dict(forward_returns=None), "forward_returns")])
def test_layout_arguments_of_the_wrong_kind_are_one_line(kwargs, name):
    with pytest.raises(harness.HarnessError, match=rf"^layout: {name}: expected a "):
        harness.Layout.custom(u.gru_to_user, u.gru_to_canonical, **kwargs)


def test_a_value_that_is_no_array_is_described_without_a_cut_word():
    layout = harness.Layout.custom(u.gru_to_user, u.gru_to_canonical, cells=("gru",), forward_returns=("cache", "h"))
    with pytest.raises(UserCodeError) as info:
        harness.check_backward(u.gru_forward, u.gru_backward, cell="gru", layout=layout, against=("reference",))
    inner = re.search(r"\((ValueError: .*?)\)", str(info.value))[1]
    assert inner.endswith((".", "...")), str(info.value)


PLUGIN_USER = '''
import harness
from examples.cs231n_rnn import rnn_forward, rnn_backward

def to_user(cell, p):
    return {"Wx": p["weight_ih_typo"]}

def test_layout(bptt):
    bptt.check_backward(rnn_forward, rnn_backward, against=("reference",),
                        layout=harness.Layout.custom(to_user, lambda cell, g, p: {}, cells=("rnn",), name="mine"))
'''


def test_the_plugin_shows_a_layout_mistake_as_one_line_with_the_users_frames(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    pytester.makepyfile(test_layout_user=PLUGIN_USER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["*return {\"Wx\": p?\"weight_ih_typo\"?}*",      # ([ ] is a class in fnmatch)
                                 "*The above exception was the direct cause of the following exception:*",
                                 "E*UserCodeError: layout 'mine': to_user raised KeyError: 'weight_ih_typo'*"])
    assert "harness/guard" not in out and "bug in gradharness" not in out


def test_extended_layers_never_pass_a_gradient_never_mapped_back_or_misnamed():
    """The same on the path of padded (and bidirectional) layers: dbh never mapped back is
    INCOMPLETE, a misspelled canonical name is one line, a summed bias is still fine."""
    def fwd(x, lengths, h0, Wi, Wh, bi, bh):
        return u.gru_forward(x, h0, Wi, Wh, bi, bh)

    def layout(to_canonical):
        return harness.Layout.custom(u.gru_to_user, to_canonical, name="gru2", cells=("gru",), takes_lengths=True)
    run = dict(cell="gru", against=("reference",), lengths=[5, 5, 5])
    assert harness.check_backward(fwd, u.gru_backward_wrong_dbh, layout=layout(u.gru_to_canonical), **run).verdict \
        == "MISMATCH"
    report = harness.check_backward(fwd, u.gru_backward_wrong_dbh, layout=layout(u.gru_to_canonical_forgets_bh), **run)
    assert report.verdict == "INCOMPLETE" and "dbias_hh" in set(report.table.loc[report.table["status"] == "missing",
                                                                                "quantity"]), report.summary()

    def misspelled(cell, g, p):
        out = u.gru_to_canonical(cell, g, p)
        out["dbias_hhh"] = out.pop("dbias_hh")
        return out
    with pytest.raises(UserCodeError, match="to_canonical returned 'dbias_hhh', which is not a canonical gradient"):
        harness.check_backward(fwd, u.gru_backward, layout=layout(misspelled), **run)
