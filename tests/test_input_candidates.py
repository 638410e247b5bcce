"""The diagnosis's candidates built from each step's pre-activation gradients
(harness/guard/input_candidates.py) give what user code with that mistake computes: each is
checked here against a loop written the way such code writes it, on the textbook's own per-step
values."""

import numpy as np
import pytest

from harness.compare import Tolerance
from harness.guard.diagnose import Replay
from harness.guard.input_candidates import input_candidates
from harness.probe import make_probe
from reference_impls import gru, lstm, rnn

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}
OPTIONS = {"rnn": {}, "lstm": {}, "gru": {"reset_after": True}}


def _case(cell):
    probe = make_probe(cell, batch=3, steps=4, input_size=4, hidden_size=5, seed=3, **OPTIONS[cell])
    replay = Replay._of(probe)
    args = (probe.dout, replay.caches) + ((probe.dstate_n["c"][0],) if cell == "lstm" else ())
    steps = MODULES[cell].backward(*args)["steps"]
    da = np.stack([s["da_x" if cell == "gru" else "da"] for s in steps], axis=1)      # (N, T, G*H)
    return probe, replay, da, {c["detail"]: c["values"] for c in input_candidates(replay)}


def _one(found, *words):
    hits = [v for detail, v in found.items() if all(w in detail for w in words)]
    assert len(hits) == 1, sorted(found)
    return hits[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_x_read_one_row_back_in_a_flat_buffer(cell):
    probe, replay, da, found = _case(cell)
    N, T, D = probe.x.shape
    flat = probe.x.reshape(N * T, D)                    # example-major rows, as C and Fortran code keep them
    dW = np.zeros((da.shape[2], D))
    for n in range(N):
        for t in range(T):
            dW += np.outer(da[n, t], flat[n * T + t - 1])     # row -1 wraps to the last example's last step
    np.testing.assert_allclose(_one(found, "dW_ih", "one row back")["dweight_ih"], dW, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("included", [True, False])
def test_dx_from_the_running_dW_ih_one_example_at_a_time_inside_each_step(cell, included):
    probe, replay, da, found = _case(cell)
    N, T, D = probe.x.shape
    dW, dx = np.zeros((da.shape[2], D)), np.zeros((N, T, D))
    for t in reversed(range(T)):
        for n in range(N):
            if included:
                dW += np.outer(da[n, t], probe.x[n, t])
            dx[n, t] = da[n, t] @ dW
            if not included:
                dW += np.outer(da[n, t], probe.x[n, t])
    words = "this example included" if included else "before this example is added"
    np.testing.assert_allclose(_one(found, words, "inside each step")["dx"], dx, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_initial_states_gradients_read_from_the_first_step(cell):
    probe, replay, da, found = _case(cell)
    args = (probe.dout, replay.caches) + ((probe.dstate_n["c"][0],) if cell == "lstm" else ())
    grads = MODULES[cell].backward(*args)
    np.testing.assert_array_equal(_one(found, "dh0 returned as the gradient arriving")["dh0"], grads["dh_total"][:, 0])
    if cell == "lstm":
        swapped = _one(found, "in each other's place")
        np.testing.assert_array_equal(swapped["dh0"], replay.correct["dc0"])
        np.testing.assert_array_equal(swapped["dc0"], replay.correct["dh0"])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_candidate_differs_from_the_correct_gradients_and_keeps_their_dtype(cell):
    probe, replay, da, found = _case(cell)
    for detail, values in found.items():
        assert any(not np.array_equal(values[q], replay.correct[q]) for q in values), detail
        assert all(values[q].dtype == replay.correct[q].dtype for q in values), detail


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_one_gate_block_from_another_gates_gradient(cell):
    probe, replay, da, found = _case(cell)
    G = {"lstm": 4, "gru": 3}[cell]
    H = da.shape[2] // G
    gates = {"lstm": "ifgo", "gru": "rzn"}[cell]
    values = _one(found, f"the {gates[-1]} gate's block of dW_ih formed from the {gates[0]} gate's")
    dW = np.array(replay.correct["dweight_ih"], copy=True)
    dW[(G - 1) * H:] = 0
    for n in range(probe.x.shape[0]):
        for t in range(probe.x.shape[1]):
            dW[(G - 1) * H:] += np.outer(da[n, t, :H], probe.x[n, t])     # the pasted line: gate 0's da
    np.testing.assert_allclose(values["dweight_ih"], dW, rtol=1e-12, atol=1e-14)
    db = _one(found, f"the {gates[1]} gate's block of dbias formed from the {gates[0]} gate's")["dbias_ih"]
    np.testing.assert_allclose(db[H:2 * H], da[:, :, :H].sum((0, 1)), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(np.delete(db, np.s_[H:2 * H]), np.delete(replay.correct["dbias_ih"], np.s_[H:2 * H]))


def test_running_dW_hh_carried_from_one_example_into_the_next():
    """User code walking one example at a time, its whole backward before the next, that reads the
    running dW_hh (this step's included) where W_hh belongs in the carry: the candidate built from
    the textbook with the grammar's running-total edit gives what that loop computes."""
    from harness.guard.diagnose import _cut
    from harness.guard.example_candidates import running_across_examples
    probe = make_probe("rnn", batch=3, steps=4, input_size=4, hidden_size=5, seed=3)
    replay = Replay._of(probe)
    p, h = probe.layer_params(0), replay.states["h"]
    prev = np.concatenate([probe.state0["h"][0][:, None], h[:, :-1]], axis=1)
    N, T, _ = probe.x.shape
    dW_ih, dW_hh, dx, dh0 = np.zeros_like(p["weight_ih"]), np.zeros_like(p["weight_hh"]), np.zeros_like(probe.x), []
    for n in range(N):
        carry = np.zeros(h.shape[2])
        for t in reversed(range(T)):
            da = (probe.dout[n, t] + carry) * (1 - h[n, t] ** 2)
            dW_ih += np.outer(da, probe.x[n, t])
            dW_hh += np.outer(da, prev[n, t])
            dx[n, t] = da @ p["weight_ih"]
            carry = da @ dW_hh                                  # the running total, where W_hh belongs
        dh0.append(carry)
    cuts = [(Replay._of(_cut(probe, k)), None) for k in (1, 2)]     # no user values: nothing screened
    found = {c["detail"]: c["values"] for c in running_across_examples(replay, Tolerance(1e-7, 1e-5), cuts)}
    values = _one(found, "dW_hh summed so far (this step's included) where the weight W_hh belongs in dprev_h")
    for q, want in (("dx", dx), ("dh0", np.array(dh0)), ("dweight_ih", dW_ih), ("dweight_hh", dW_hh)):
        np.testing.assert_allclose(values[q], want, rtol=1e-10, atol=1e-12, err_msg=q)
