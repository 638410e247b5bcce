"""check_training / gradharness train: a right hand-written BPTT trains like torch and TF1 to
rounding; a planted mistake parts from step 1 with the parameter named; truncated BPTT
carries the state as seed 001 does; the words for how a difference grows."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from examples.seed001_rnn import fn as seed001_fn
from examples.seed001_rnn import fn_carry_bug
from harness.guard.usercode import UserCodeError
from harness.train import trajectories
from harness.train.api import check_training
from harness.train.report import first_divergence

pytest.importorskip("torch")

SEED001 = dict(hidden_size=4, input_size=2, batch=200, head="linear", output_size=2, loss="softmax_cross_entropy",
               optimizer="adagrad:tf1", lr=0.1, num_steps=5, data="seed001", carry_state=True, init="tf1")


def test_right_model_agrees_to_rounding_for_100_steps_float64():
    report = check_training(seed001_fn, train_steps=100, against=("reference", "torch"), **SEED001)
    assert report.ok, report.summary()
    assert report.runs["yours"].steps == 100
    params = report.steps[report.steps["kind"] == "param"]
    assert params["max_abs_err"].max() < 1e-13                 # rounding, not just "within 1e-9"
    assert set(params["backend"]) == {"reference", "torch.nn.RNN"}
    assert report.runs["yours"].loss[-1] < report.runs["yours"].loss[0] - 0.05     # it learned something
    assert "agree for all 100 training steps" in report.summary()


def test_planted_bptt_mistake_parts_at_step_1_with_the_parameter_named():
    report = check_training(fn_carry_bug, train_steps=20, against=("reference", "torch"), **SEED001)
    assert report.verdict == "MISMATCH"
    first = first_divergence(report)
    for backend in ("reference", "torch.nn.RNN"):
        step, (param_step, quantity, layer, _) = first[backend]
        assert step == 1 and param_step == 1 and layer == 0
        assert quantity in ("weight_ih", "weight_hh", "bias_ih")
    text = report.summary()
    assert "part at training step 1 of 20" in text
    assert "the gradients differ at step 1 on the same weights and batch" in text and "a wrong gradient" in text
    assert "first parameter to move apart: bias_ih layer 0" in text
    assert "still within tolerance then: head." in text           # the head's gradient is right at step 1
    loss_rows = report.steps[(report.steps["kind"] == "loss") & (report.steps["train_step"] == 1)]
    assert (loss_rows["err_ratio"] <= 1).all()                    # the forward is right: step 1's loss agrees


def test_seed001_three_curves_from_one_init_num_steps_5_and_10():
    """TF1 BasicRNNCell through dynamic_rnn, the reference with its own BPTT, torch: one init,
    the seed's data, Adagrad as TF1 has it; the three agree step by step."""
    pytest.importorskip("tensorflow")
    for num_steps in (5, 10):
        report = check_training(None, train_steps=30, against=("torch", "tf"), **{**SEED001, "num_steps": num_steps})
        assert report.ok, report.summary()
        assert set(report.runs) == {"reference", "torch.nn.RNN", "tf.BasicRNNCell-dynamic_rnn"}
        first = {n: r.params["weight_hh_l0"][0] for n, r in report.runs.items()}
        assert all(np.array_equal(first["reference"], w) for w in first.values())     # one init
        losses = [r.loss for r in report.runs.values()]
        assert all(np.allclose(losses[0], l, rtol=0, atol=1e-12) for l in losses)
        assert losses[0][-5:].mean() < losses[0][:5].mean()


def test_truncated_bptt_carries_the_state_and_no_gradient_through_it():
    """A model that ignores the state it is given agrees at step 1 (the state starts at zero)
    and parts at step 2, where the carried state first matters; the torch side (state
    detached at the boundary) and the reference (the state as a plain array) agree."""
    def ignores_state(params, x, target, state):
        zero = {"h": np.zeros_like(state["h"])}
        loss, grads, final = seed001_fn(params, x, target, zero)
        return loss, grads, final
    report = check_training(ignores_state, train_steps=6, against=("reference", "torch"), **SEED001)
    assert report.verdict == "MISMATCH"
    steps = report.steps
    assert (steps[steps["train_step"] == 1]["err_ratio"] <= 1).all()
    assert first_divergence(report)["reference"][0] == 2
    assert "the loss differs at step 2" in report.summary() or "gradients differ at step 2" in report.summary()
    torch_vs_ref = check_training(None, train_steps=6, against=("torch",), **SEED001)
    assert torch_vs_ref.ok


def test_without_carry_every_batch_starts_at_zero_and_fn_takes_three_arguments():
    def fn(params, x, target):
        return seed001_fn(params, x, target, {"h": np.zeros((1, x.shape[0], 4))})[:2]
    report = check_training(fn, train_steps=5, against=("reference",), **{**SEED001, "carry_state": False})
    assert report.ok, report.summary()


def test_a_bad_final_state_is_one_line_naming_it():
    def fn(params, x, target, state):
        loss, grads, final = seed001_fn(params, x, target, state)
        return loss, grads, {"h": final["h"][0]}
    with pytest.raises(UserCodeError, match=r"final_state\['h'\] has shape \(200, 4\); expected \(L, N, H\)"):
        check_training(fn, train_steps=2, against=("reference",), **SEED001)


def _frame(ratios, grad_ratios, loss_ratios=None):
    K = len(ratios)
    rows = []
    for kind, r in (("param", ratios), ("grad", grad_ratios), ("loss", loss_ratios or [1e-6] * K)):
        for k in range(K):
            rows.append(dict(backend="o", train_step=k + 1, kind=kind, quantity="weight_hh" if kind == "param" else
                             ("dweight_hh" if kind == "grad" else "loss"), layer=0, gate="",
                             max_abs_err=r[k] * 1e-9, err_ratio=r[k]))
    return pd.DataFrame(rows)


def test_narrative_tells_rounding_drift_from_a_wrong_gradient():
    drift = trajectories.narrative("o", _frame([1e-6 * 1.5 ** k for k in range(40)], [1e-6] * 40), 40)
    assert "rounding drift" in " ".join(drift) and "without a jump" in " ".join(drift)
    wrong = trajectories.narrative("o", _frame([1e4] * 40, [1e5] * 40), 40)
    assert "a wrong gradient" in " ".join(wrong) and "a jump at the first update" in " ".join(wrong)
    rule = trajectories.narrative("o", _frame([1e4] * 40, [1e-6] * 40), 40)
    assert "the update rule differs" in " ".join(rule)
    late = trajectories.narrative("o", _frame([1e-6] * 10 + [1e3] * 30, [1e-6] * 9 + [1e5] * 31), 40)
    assert "the gradients differ at step 10" in " ".join(late) and "carried state" in " ".join(late)
    ok = trajectories.narrative("o", _frame([1e-6] * 40, [1e-6] * 40), 40)
    assert "agree for all 40 training steps" in ok[0]


def test_cli_train_exit_codes_and_reports(tmp_path):
    base = [sys.executable, "-m", "harness", "train", "--preset", "seed001", "--train-steps", "5",
            "--against", "reference", "--csv", str(tmp_path / "t.csv"), "--html", str(tmp_path / "t.html"),
            "--steps-csv", str(tmp_path / "steps.csv"), "--plot-dir", str(tmp_path / "plots")]
    ok = subprocess.run(base + ["examples.seed001_rnn:fn"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: every run agrees" in ok.stdout
    table = pd.read_csv(tmp_path / "t.csv")
    assert (table["status"] == "pass").all() and "weight_hh" in set(table["quantity"])
    assert pd.read_csv(tmp_path / "steps.csv")["train_step"].max() == 5
    assert len(list((tmp_path / "plots").glob("*.png"))) == 4
    bad = subprocess.run(base + ["examples.seed001_rnn:fn_carry_bug"], capture_output=True, text=True)
    assert bad.returncode == 1 and "part at training step 1" in bad.stdout
    usage = subprocess.run(base + ["examples.seed001_rnn:fn", "--optimizer", "adamw"], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1 and "optimizer" in usage.stderr


def test_fn_that_cannot_take_the_call_and_bad_data_are_one_line_errors():
    from harness.errors import HarnessError
    with pytest.raises(HarnessError, match=r"carry_state=False\); your fn\(params, x, target, state\)"):
        check_training(seed001_fn, train_steps=2)
    x = np.zeros((3, 20, 4))
    with pytest.raises(HarnessError, match=r"data: expected target of shape \(3, 20, 6\)"):
        check_training(None, data=(x, np.zeros((3, 20))), train_steps=2)
    with pytest.raises(HarnessError, match="a row has 20 steps, fewer than num_steps=30"):
        check_training(None, data=(x, np.zeros((3, 20, 6))), num_steps=30)


@pytest.mark.parametrize("model", [dict(cell="lstm", layers=2, forget_bias=1.0),
                                   dict(cell="gru", reset_after=False),
                                   dict(cell="rnn", bias=False, layers=2)], ids=["lstm2-fb", "gru-tf1", "rnn2-nobias"])
def test_gated_and_stacked_models_train_like_torch_and_tf1(model):
    pytest.importorskip("tensorflow")
    report = check_training(None, head="linear", output_size=3, optimizer="momentum", lr=0.1, train_steps=10,
                            carry_state=True, against=("torch", "tf"), **model)
    assert report.ok, report.summary()
    assert len(report.runs) == 3                                 # reference, torch (module or ops), TF1 cells
    gates = set(report.table["gate"])
    assert gates == ({"i", "f", "g", "o", ""} if model["cell"] == "lstm" else
                     {"r", "z", "n", ""} if model["cell"] == "gru" else {""})


def _adder_stream(rng, rows, additions):
    """Seed 004's data: 8-bit additions a + b = c, least significant bit first, one per window."""
    a, b = rng.integers(0, 128, (rows, additions)), rng.integers(0, 128, (rows, additions))
    bits = lambda v: (v[..., None] >> np.arange(8)) & 1                          # noqa: E731
    x = np.stack([bits(a), bits(b)], axis=-1).reshape(rows, additions * 8, 2).astype(float)
    return x, bits(a + b).reshape(rows, additions * 8, 1).astype(float)


@pytest.mark.parametrize("bug", [None, "derivative"])
def test_seed004_binary_adder_trains_like_torch(bug):
    """Seed 004's net (sigmoid units, no biases, a sigmoid output, half squared error summed,
    SGD lr 0.1 as its loop applies it), every addition from a zero state."""
    from test_check_model import SEED004, seed004_fn
    data = _adder_stream(np.random.default_rng(0), 4, 40)
    report = check_training(seed004_fn(bug), **SEED004, hidden_size=16, input_size=2, batch=4, num_steps=8,
                            reduction="sum", optimizer="sgd", lr=0.1, data=data, against=("reference", "torch"))
    assert report.runs["yours"].steps == 40
    if bug is None:
        assert report.ok, report.summary()
        w = report.runs["yours"].params["weight_hh_l0"]
        assert np.abs(w[-1] - w[0]).max() > 1e-2                   # it trained (learning takes thousands)
    else:
        step, moved = first_divergence(report)["reference"]
        assert step == 1 and moved[0] == 1 and moved[1] in ("weight_ih", "weight_hh")
        assert "a wrong gradient" in report.summary()
