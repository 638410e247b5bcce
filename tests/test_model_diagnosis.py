"""check_model on whole models written as people write them (tests/zoo/models.py): correct code
passes, and each planted mistake is flagged and named (loss, head, forward or one layer's BPTT)."""

import pytest

from harness.guard.diagnose import CAUSES
from harness.guard.model import check_model

from zoo import models

pytest.importorskip("torch")

CASES = [("lstm", bug) for bug in models.LSTM_BUGS] + [("gru", bug) for bug in models.GRU_BUGS]
MAKE = {"lstm": (models.lstm_model, models.LSTM, models.LSTM_BUGS), "gru": (models.gru_model, models.GRU,
                                                                          models.GRU_BUGS)}


def _causes(report):
    return [f for f in report.findings if f.startswith("likely cause")]


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_correct_models_pass(model):
    make, opts, _ = MAKE[model]
    report = check_model(make(), against=("torch", "numeric", "reference"), **opts)
    assert report.ok, report.summary()


@pytest.mark.parametrize("model,bug", CASES, ids=[f"{m}-{b}" for m, b in CASES])
def test_model_mistake_is_named(model, bug):
    make, opts, bugs = MAKE[model]
    report = check_model(make(bug), against=("reference", "torch"), **opts)
    assert not report.ok
    lines = _causes(report)
    assert len(lines) == 1, report.summary()
    words = CAUSES.get(bugs[bug], bugs[bug])
    assert words in lines[0] and "unknown" not in lines[0], report.summary()


def test_a_layer_mistake_names_the_layer_and_gate():
    make, opts, _ = MAKE["lstm"]
    line = _causes(check_model(make("df_miswritten_l1"), against="reference", **opts))[0]
    assert "f * (1 + f) where f * (1 - f) belongs in da_f (gate f)" in line and line.endswith(
        "in layer 1 (your values reproduce this mistake within tolerance)")


def test_one_mistake_written_in_several_places_is_one_line():
    make, opts, _ = MAKE["gru"]
    line = _causes(check_model(make("dz_sign"), against="reference", **opts))[0]
    assert "prev_h - n written n - prev_h in dz (gate z)" in line
    assert "the same mistake written in 3 other places gives the same numbers" in line


def test_a_softmax_without_max_shift_is_found_by_the_stress_probe():
    make, opts, _ = MAKE["lstm"]
    report = check_model(make("no_max_shift"), against="reference", **opts)
    stress = report.table[report.table["probe"].str.startswith("stress")]
    assert len(stress) and not stress["passed"].all()
    assert _causes(report)[0].startswith("likely cause: a softmax without its max shift: with every logit raised by")


def test_a_different_forward_is_said_first_then_named():
    make, opts, _ = MAKE["gru"]
    report = check_model(make("reset_before"), against="reference", **opts)
    assert report.findings[0].startswith("forward: your loss differs from the reference's, first at T=1"), \
        report.summary()
    assert report.findings[1].startswith("likely cause: the forward computes something else: the reset gate applied "
                                         "before the recurrent product")
