"""Every update rule and both clippings: the NumPy rule (written once) against torch.optim and
TF1's tf.compat.v1.train, each framework's own implementation, trained from one init.

A rule a framework cannot express is skipped with the reason, never compared against a
different rule; the tests hold both: agreement to rounding where expressible, the skip where not.
"""

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.train import optimizers
from harness.train.api import check_training

pytest.importorskip("torch")

SMALL = dict(cell="rnn", hidden_size=4, input_size=3, batch=4, num_steps=4, head="linear", output_size=2,
             loss="softmax_cross_entropy", train_steps=25, carry_state=True)

# (optimizer, options, lr, the oracles that must run it, the oracle that must skip it and why)
RULES = [
    ("sgd", {}, 0.5, ("torch", "tf"), None),
    ("momentum", {}, 0.2, ("torch", "tf"), None),
    ("momentum", {"nesterov": True}, 0.2, ("torch", "tf"), None),
    ("adagrad:tf1", {}, 0.3, ("torch", "tf"), None),
    ("adagrad", {}, 0.3, ("torch",), ("tf", "no eps")),
    ("rmsprop", {}, 0.01, ("torch",), ("tf", "starts its mean square at 1")),
    ("rmsprop:tf1", {}, 0.01, ("tf",), ("torch", "starts its mean square at 0")),
    ("rmsprop", {"momentum": 0.5, "centered": True}, 0.01, ("torch",), None),
    ("rmsprop:tf1", {"momentum": 0.5, "centered": True}, 0.01, ("tf",), None),
    ("adam", {}, 0.05, ("torch",), ("tf", "epsilon hat")),
    ("adam:tf1", {}, 0.05, ("tf",), ("torch", "epsilon")),
    ("adam", {"eps": 0.0}, 0.05, ("torch", "tf"), None),
]


def _backend_rows(report, family):
    t = report.table
    return t[t["backend"].str.startswith(family)]


@pytest.mark.parametrize("name, options, lr, runs, skip", RULES,
                         ids=[f"{r[0]}{''.join(f'-{k}' for k in r[1])}" for r in RULES])
def test_rule_trains_like_each_framework(name, options, lr, runs, skip):
    report = check_training(None, optimizer=name, optimizer_options=options, lr=lr,
                            against=("torch", "tf"), **SMALL)
    assert report.ok, report.summary()
    for family in runs:
        rows = _backend_rows(report, family)
        assert len(rows) and (rows["status"] == "pass").all(), report.summary()
        assert set(rows["quantity"]) >= {"loss", "weight_hh", "dweight_hh", "head.weight"}
    if skip:
        rows = _backend_rows(report, skip[0])
        assert list(rows["status"]) == ["skipped"] and skip[1] in rows["note"].iloc[0]
    # the weights moved: a rule that never updates would agree trivially
    run = report.runs["reference"]
    assert np.max(np.abs(run.params["weight_hh_l0"][-1] - run.params["weight_hh_l0"][0])) > 1e-3


@pytest.mark.parametrize("convention, runs, skip", [("torch", "torch", "tf"), ("tf1", "tf", "torch")])
def test_clipping_by_value_and_global_norm(convention, runs, skip):
    """Both clippings active from the first step (the norm is over 0.05 unclipped); the global
    norm's eps differs (torch 1e-6, TF none), so each convention runs in its own framework."""
    report = check_training(None, optimizer=f"sgd:{convention}", lr=0.5, clip_value=0.05, clip_norm=0.05,
                            against=("torch", "tf"), **SMALL)
    assert report.ok, report.summary()
    assert (_backend_rows(report, runs)["status"] == "pass").all()
    assert "divides by" in _backend_rows(report, skip)["note"].iloc[0]
    run = report.runs["reference"]
    step = {n: run.params[n][1] - run.params[n][0] for n in run.grads}
    norm = np.sqrt(sum(np.sum(s * s) for s in step.values()))
    assert norm == pytest.approx(0.5 * 0.05, rel=1e-5)          # clipped to the norm, then lr * 0.05
    assert max(np.abs(s).max() for s in step.values()) <= 0.5 * 0.05 + 1e-12


def test_clip_rule_in_numpy():
    clip = optimizers.Clip(value=1.0, norm=1.0)
    g = clip.apply({"a": np.array([3.0, -4.0]), "b": np.array([0.5])})
    assert np.allclose(g["a"], np.array([1.0, -1.0]) / np.sqrt(2.25))
    assert np.allclose(g["b"], [0.5 / np.sqrt(2.25)])
    untouched = optimizers.Clip(norm=10.0).apply({"a": np.array([3.0, -4.0])})
    assert np.array_equal(untouched["a"], [3.0, -4.0])


def test_rule_formulas_against_hand_computed_steps():
    """One parameter, two steps, every rule as its docstring writes it."""
    p0, g = np.array([1.0]), np.array([0.5])

    def run(name, **kw):
        opt = optimizers.make_optimizer(name, lr=0.1, **kw)
        p = {"w": p0.copy()}
        state = opt.init(p)
        for _ in range(2):
            opt.step(p, {"w": g}, state)
        return p["w"][0]
    assert run("sgd") == pytest.approx(1 - 2 * 0.05)
    assert run("momentum") == pytest.approx(1 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5))
    assert run("adagrad:tf1") == pytest.approx(1 - 0.1 * 0.5 / np.sqrt(0.35) - 0.1 * 0.5 / np.sqrt(0.6))
    assert run("adagrad") == pytest.approx(1 - 0.1 * 0.5 / (0.5 + 1e-10) - 0.1 * 0.5 / (np.sqrt(0.5) + 1e-10))
    v1 = 0.9 * 1.0 + 0.1 * 0.25                                   # TF1: the mean square starts at 1
    v2 = 0.9 * v1 + 0.1 * 0.25
    assert run("rmsprop:tf1") == pytest.approx(1 - 0.05 / np.sqrt(v1 + 1e-10) - 0.05 / np.sqrt(v2 + 1e-10))
    w1, w2 = 0.01 * 0.25, 0.99 * 0.01 * 0.25 + 0.01 * 0.25        # torch: it starts at 0
    assert run("rmsprop") == pytest.approx(1 - 0.05 / (np.sqrt(w1) + 1e-8) - 0.05 / (np.sqrt(w2) + 1e-8))
    m = (0.05, 0.9 * 0.05 + 0.05)
    v = (0.001 * 0.25, 0.999 * 0.001 * 0.25 + 0.001 * 0.25)
    bc1, bc2 = (1 - 0.9, 1 - 0.9 ** 2), (1 - 0.999, 1 - 0.999 ** 2)
    tf1 = sum(0.1 * np.sqrt(bc2[t]) / bc1[t] * m[t] / (np.sqrt(v[t]) + 1e-8) for t in range(2))
    torch_rule = sum(0.1 / bc1[t] * m[t] / (np.sqrt(v[t]) / np.sqrt(bc2[t]) + 1e-8) for t in range(2))
    assert run("adam:tf1") == pytest.approx(1 - tf1, rel=1e-12)
    assert run("adam") == pytest.approx(1 - torch_rule, rel=1e-12)
    assert abs(tf1 - torch_rule) > 1e-9                               # epsilon hat is another rule


@pytest.mark.parametrize("kwargs, match", [
    (dict(optimizer="adamw"), "optimizer: expected one of"),
    (dict(optimizer="adam:keras"), "convention"),
    (dict(optimizer="adagrad", optimizer_options={"momentum": 0.9}), "adagrad takes"),
    (dict(lr=-1.0), "lr: expected a positive number"),
    (dict(clip_norm=0.0), "clip_norm"),
    (dict(against=("numeric",)), "against"),
    (dict(data="seed001"), "seed001"),
    (dict(init="he"), "init"),
])
def test_bad_training_arguments_are_one_line_errors(kwargs, match):
    with pytest.raises(HarnessError, match=match) as info:
        check_training(None, **{**dict(train_steps=2), **kwargs})
    assert "\n" not in str(info.value)
