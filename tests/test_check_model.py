"""check_model(): three whole models written as the tutorials write them, right and with their bugs.

    seed 000  two tanh layers, TF kernel (D+H, H) on concat([x, h]) and one bias per layer,
              squared error of the top layer's output on the last two steps
    seed 003  one tanh layer, a linear output layer, softmax cross-entropy at every step,
              a per-step backward (step_backward / backward)
    seed 004  the binary adder: sigmoid units, no biases, a linear output without bias
              followed by a sigmoid, half squared error, one sequence at a time in row vectors
"""

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.guard.model import check_model
from harness.guard.usercode import UserCodeError

pytest.importorskip("torch")

SEED000 = dict(cell="rnn", layers=2, head=None, loss="squared_error", loss_steps=[-2, -1])
SEED003 = dict(cell="rnn", head="linear", output_size=3, loss="softmax_cross_entropy")
SEED004 = dict(cell="rnn", activation="sigmoid", bias=False, head="linear+sigmoid", head_bias=False,
               output_size=1, loss="half_squared_error")

# ---------------------------------------------------------------- seed 000: TF-kernel stack


class KernelCell:
    """A tanh layer as seed 000 holds it: w (insize+outsize, outsize) on concat([x, s]), one bias."""

    def __init__(self, w, b, insize, carry_not_transposed=False):
        self.w, self.b, self.insize, self.carry_not_transposed = w, b, insize, carry_not_transposed
        self.inputs, self.states, self.outputs = [], [], []

    def __call__(self, x, s):
        self.inputs.append(x)
        self.states.append(s)
        out = np.tanh(np.dot(np.concatenate([x, s], axis=1), self.w) + self.b)
        self.outputs.append(out)
        return out, out

    def backward(self, error):
        """error[t]: what the loss or the layer above sends into this step's output."""
        w1, w2 = self.w[:self.insize], self.w[self.insize:]
        dw, db = np.zeros_like(self.w), np.zeros_like(self.b)
        self.dinputs = [None] * len(self.outputs)
        carry = np.zeros_like(self.outputs[0])
        for t in range(len(self.outputs) - 1, -1, -1):
            err = (1 - self.outputs[t] ** 2) * (error[t] + carry)
            dw[:self.insize] += np.dot(self.inputs[t].T, err)
            dw[self.insize:] += np.dot(self.states[t].T, err)
            db += np.sum(err, axis=0)
            self.dinputs[t] = np.dot(err, w1.T)
            carry = np.dot(err, w2 if self.carry_not_transposed else w2.T)
        return dw, db


class MultiCells:
    def __init__(self, cells):
        self.cells = cells

    def __call__(self, x, s):
        out, state = x, []
        for cell, st in zip(self.cells, s):
            out, st = cell(out, st)
            state.append(st)
        return out, state

    def loss(self, y):
        """Squared error of the top layer's last two outputs."""
        outputs = self.cells[-1].outputs
        self.error = [np.zeros_like(o) for o in outputs]
        loss = 0.0
        for t in (-1, -2):
            self.error[t] = 2 * (outputs[t] - y[:, t])
            loss += np.sum((outputs[t] - y[:, t]) ** 2)
        return loss

    def backward(self):
        error, dws = self.error, [None] * len(self.cells)
        for k in range(len(self.cells) - 1, -1, -1):
            dws[k] = self.cells[k].backward(error)
            error = self.cells[k].dinputs
        return dws


def seed000_fn(bug=None, dtype=np.float64, min_steps=1):
    """bug: "carry" (layer 0's carry not transposed) or "db_mean" (layer 1's db averaged over the batch)."""
    def fn(params, x, target):
        if x.shape[1] < min_steps:
            raise ValueError(f"need at least {min_steps} steps")
        x, y = x.astype(dtype), target.astype(dtype)
        L = sum(name.startswith("weight_ih") for name in params)
        cells = []
        for k in range(L):
            w_ih, w_hh = params[f"weight_ih_l{k}"].astype(dtype), params[f"weight_hh_l{k}"].astype(dtype)
            kernel = np.concatenate([w_ih.T, w_hh.T], axis=0)          # (D+H, H)
            b = (params[f"bias_ih_l{k}"] + params[f"bias_hh_l{k}"]).astype(dtype)
            cells.append(KernelCell(kernel, b, w_ih.shape[1], carry_not_transposed=(bug == "carry" and k == 0)))
        net = MultiCells(cells)
        state = [np.zeros((x.shape[0], c.w.shape[1]), dtype) for c in cells]      # zero_state
        for t in range(x.shape[1]):
            _, state = net(x[:, t], state)
        loss = net.loss(y)
        grads = {}
        for k, ((dw, db), D) in enumerate(zip(net.backward(), (c.insize for c in cells))):
            if bug == "db_mean" and k == 1:
                db = db / x.shape[0]
            grads.update({f"weight_ih_l{k}": dw[:D].T, f"weight_hh_l{k}": dw[D:].T,
                          f"bias_ih_l{k}": db, f"bias_hh_l{k}": db})
        return loss, grads
    return fn

# ---------------------------------------------------------------- seed 003: softmax head, per-step backward


class VanillaRNN:
    """Seed 003's layout: h = tanh(x W1 + h_prev W2 + bh), out = softmax(h W3^T + bo)."""

    def __init__(self, params, dtype, bug=None):
        self.W1 = params["weight_ih_l0"].T.astype(dtype)
        self.W2 = params["weight_hh_l0"].T.astype(dtype)
        self.bh = (params["bias_ih_l0"] + params["bias_hh_l0"]).astype(dtype)
        self.W3, self.bo = params["head.weight"].astype(dtype), params["head.bias"].astype(dtype)
        self.bug = bug

    def forward(self, X):
        N, T, _ = X.shape
        H, O = np.zeros((N, T, self.W2.shape[0]), X.dtype), np.zeros((N, T, self.W3.shape[0]), X.dtype)
        h = np.zeros((N, self.W2.shape[0]), X.dtype)
        for t in range(T):
            h = np.tanh(np.dot(X[:, t], self.W1) + np.dot(h, self.W2) + self.bh)
            z = np.dot(h, self.W3.T) + self.bo
            e = np.exp(z - z.max(axis=1, keepdims=True))
            H[:, t], O[:, t] = h, e / e.sum(axis=1, keepdims=True)
        return H, O

    def step_backward(self, x_t, h_t, h_before, probs, onehot, dh_later):
        """One step of the backward pass: softmax/cross-entropy head, then the tanh unit."""
        dz = probs - onehot                                             # (N, O): d(-log p_y)/dz
        step_loss = -np.log((probs * onehot).sum(axis=1)).sum()
        dh = dz @ self.W3 + dh_later                                    # head, plus what later steps sent
        dpre = dh * (1 - h_t ** 2)
        back = self.W2 if self.bug == "transpose" else self.W2.T        # h_t = tanh(... + h_before W2)
        grads = (x_t.T @ dpre, h_before.T @ dpre, dz.T @ h_t, dpre.sum(axis=0), dz.sum(axis=0))
        return grads, dpre @ back, step_loss

    def backward(self, X, onehot, H, P):
        totals = [np.zeros_like(w) for w in (self.W1, self.W2, self.W3, self.bh, self.bo)]
        dh_later, loss = np.zeros_like(H[:, 0]), 0.0
        for t in range(X.shape[1] - 1, -1, -1):
            h_before = H[:, t - 1] if t else np.zeros_like(H[:, 0])
            grads, dh_later, step_loss = self.step_backward(X[:, t], H[:, t], h_before, P[:, t], onehot[:, t], dh_later)
            totals = [a + g for a, g in zip(totals, grads)]
            loss += step_loss
        return (*totals, loss)


def seed003_fn(bug=None, dtype=np.float64):
    """bug: "transpose" (the seed's dh_prev = dtanh @ W2) or "mean" (loss and grads divided by N)."""
    def fn(params, x, target):
        rnn = VanillaRNN(params, dtype, bug)
        X = x.astype(dtype)
        labels = np.eye(rnn.W3.shape[0], dtype=dtype)[target]            # one-hot, as the seed's labels
        H, O = rnn.forward(X)
        dW1, dW2, dW3, dbh, dbo, loss = rnn.backward(X, labels, H, O)
        grads = {"weight_ih_l0": dW1.T, "weight_hh_l0": dW2.T, "bias_ih_l0": dbh, "bias_hh_l0": dbh,
                 "head.weight": dW3, "head.bias": dbo}
        if bug == "mean":
            loss, grads = loss / X.shape[0], {k: v / X.shape[0] for k, v in grads.items()}
        return loss, grads
    return fn

# ---------------------------------------------------------------- seed 004: the binary adder


def logistic(z):
    return 1 / (1 + np.exp(-z))


def logistic_slope(y):                                                   # from the unit's output
    return y * (1 - y)


def seed004_fn(bug=None, dtype=np.float64):
    """A bit-adder-style net written in our own words: sigmoid hidden units without bias, a
    sigmoid output unit, one sequence at a time, row vectors, deltas stored on the way
    forward and consumed on the way back.

    bug: "derivative" (the hidden delta uses the slope at the previous step's activation)
    or "sign" (returns the descent step, which points downhill, as the gradient)."""
    def fn(params, x, target):
        W_in = params["weight_ih_l0"].T.astype(dtype)                   # (D, H)
        W_rec = params["weight_hh_l0"].T.astype(dtype)                  # (H, H)
        W_out = params["head.weight"].T.astype(dtype)                   # (H, 1)
        steps = [np.zeros_like(W) for W in (W_in, W_rec, W_out)]
        total_error, (N, T, _) = 0.0, x.shape
        for n in range(N):
            acts, out_deltas = [np.zeros((1, W_rec.shape[0]), dtype)], []
            for t in range(T):                                          # forward over the bits
                a = logistic(x[n, t][None].astype(dtype) @ W_in + acts[-1] @ W_rec)
                y = logistic(a @ W_out)
                miss = target[n, t][None].astype(dtype) - y
                total_error += 0.5 * float((miss ** 2).sum())
                out_deltas.append(miss * logistic_slope(y))
                acts.append(a)
            carried = np.zeros_like(acts[0])
            for t in reversed(range(T)):                                # backward over the bits
                here, before = acts[t + 1], acts[t]
                slope_at = before if bug == "derivative" else here
                hidden_delta = (carried @ W_rec.T + out_deltas[t] @ W_out.T) * logistic_slope(slope_at)
                steps[2] += here.T @ out_deltas[t]
                steps[1] += before.T @ hidden_delta
                steps[0] += x[n, t][None].astype(dtype).T @ hidden_delta
                carried = hidden_delta
        sign = 1.0 if bug == "sign" else -1.0                           # the deltas point downhill
        return total_error, {"weight_ih_l0": sign * steps[0].T, "weight_hh_l0": sign * steps[1].T,
                             "head.weight": sign * steps[2].T}
    return fn


MODELS = {"seed000": (seed000_fn, SEED000), "seed003": (seed003_fn, SEED003), "seed004": (seed004_fn, SEED004)}


def _failing(report):
    bad = report.table[(report.table["status"] == "FAIL") & (report.table["probe"] == "full")]
    return {(q, int(k)) for q, k in zip(bad["quantity"], bad["layer"])}


def _finding(report, start):
    return [line for line in report.findings if line.startswith(start)]

# ---------------------------------------------------------------- right models pass


@pytest.mark.parametrize("model", sorted(MODELS))
def test_seed_models_pass_against_torch_numeric_and_reference(model):
    make, config = MODELS[model]
    report = check_model(make(), against=("torch", "numeric", "reference"), **config)
    assert report.ok, report.summary()
    t = report.table
    assert {b.split(".")[0] for b in t["backend"]} == {"reference", "numeric-directional", "torch"}
    assert set(t["status"]) == {"pass"}
    assert ((t["quantity"] == "loss") & (t["backend"] == "reference") & (t["probe"] == "full")).sum() == 1
    if config.get("head"):
        assert ("dhead.weight", config.get("layers", 1)) in set(zip(t["quantity"], t["layer"]))


@pytest.mark.parametrize("model", sorted(MODELS))
def test_seed_models_pass_against_torch_in_float32(model):
    make, config = MODELS[model]
    report = check_model(make(dtype=np.float32), against="torch", dtype="float32", **config)
    assert report.ok, report.summary()
    assert (report.table["atol"] == 1e-4).all()


def test_seed003_passes_against_tensorflow():
    pytest.importorskip("tensorflow")
    report = check_model(seed003_fn(), against=("tf",), **SEED003)
    assert report.ok, report.summary()
    assert set(report.table.loc[report.table["probe"] == "full", "backend"]) == {"tf"}


def test_full_finite_differences():
    report = check_model(seed004_fn(), against="numeric", numeric="full", steps=3, hidden_size=3, **SEED004)
    assert report.ok and set(report.table["backend"]) == {"numeric"}
    assert set(report.table["shape"]) == {"(3, 4)", "(3, 3)", "(1, 3)"}

# ---------------------------------------------------------------- planted mistakes


def test_seed000_carry_not_transposed_in_layer0():
    report = check_model(seed000_fn("carry"), against=("torch", "numeric", "reference"), **SEED000)
    assert not report.ok
    assert _failing(report) == {("dweight_ih", 0), ("dweight_hh", 0), ("dbias_ih", 0), ("dbias_hh", 0)}
    lines = _finding(report, "earliest failing length")
    assert lines == ["earliest failing length: T=2 (wrong at the shortest length tested; T < 2 not tested: "
                     "loss_steps=[-2, -1] selects steps that do not exist there)"]
    assert "  dweight_ih layer 0: first wrong at T=2" in report.findings
    # h_(-1) = 0: at T=2 step 0 adds nothing to dW_hh, so the wrong carry shows there from T=3 on
    assert "  dweight_hh layer 0: first wrong at T=3" in report.findings
    cause = _finding(report, "likely cause")
    assert len(cause) == 1 and "a weight used transposed: W_hh used transposed in dprev_h" in cause[0]
    assert cause[0].endswith("in layer 0 (your values reproduce this mistake within tolerance)")
    sweep = report.table[report.table["probe"] != "full"]
    assert set(sweep["probe"]) == {f"first {k} steps" for k in range(2, 6)}


def test_seed000_db_averaged_in_layer1():
    report = check_model(seed000_fn("db_mean"), against="torch", **SEED000)
    assert _failing(report) == {("dbias_ih", 1), ("dbias_hh", 1)}
    assert _finding(report, "likely cause") == [
        "likely cause: a gradient averaged instead of summed (or summed too often): dbias_ih_l1, dbias_hh_l1 divided by the "
        "batch size N=3, "
        "in layer 1 (your values reproduce this mistake within tolerance)"]


def test_seed003_transposed_carry_is_the_seeds_bug():
    report = check_model(seed003_fn("transpose"), against=("torch", "numeric", "reference"), **SEED003)
    assert _failing(report) == {("dweight_ih", 0), ("dweight_hh", 0), ("dbias_ih", 0), ("dbias_hh", 0)}
    assert set(report.table.loc[report.table["status"] == "FAIL", "backend"]) == {
        "torch.nn.RNN", "numeric-directional", "reference"}
    assert _finding(report, "earliest failing length")[0].startswith(
        "earliest failing length: T=2 (right for sequences of up to 1 step(s)")
    assert "a weight used transposed: W_hh used transposed in dprev_h" in _finding(report, "likely cause")[0]


def test_seed003_loss_averaged():
    report = check_model(seed003_fn("mean"), against="reference", **SEED003)
    assert ("loss", 1) in _failing(report)
    assert _finding(report, "likely cause") == [
        "likely cause: loss averaged instead of summed: your loss and every gradient are the correct ones divided "
        "by the batch size N=3 (your values reproduce this mistake within tolerance)"]


def test_seed004_derivative_at_the_wrong_point():
    report = check_model(seed004_fn("derivative"), against=("torch", "reference"), **SEED004)
    assert _failing(report) == {("dweight_ih", 0), ("dweight_hh", 0)}
    assert _finding(report, "earliest failing length")[0].startswith(
        "earliest failing length: T=1 (wrong already with a single step")
    cause = _finding(report, "likely cause")
    assert len(cause) == 1 and cause[0].startswith(
        "likely cause: activation derivative taken at the wrong point: sigmoid' evaluated at h_(t-1) where h_t belongs")
    assert cause[0].endswith("in layer 0 (your values reproduce this mistake within tolerance)")


def test_seed004_update_returned_as_gradient_has_the_wrong_sign():
    report = check_model(seed004_fn("sign"), against="torch", **SEED004)
    assert _failing(report) == {("dweight_ih", 0), ("dweight_hh", 0), ("dhead.weight", 1)}
    assert _finding(report, "likely cause")[0].startswith("likely cause: a gradient with the wrong sign")


def test_fn_raising_at_short_lengths_stops_the_sweep_without_crashing():
    report = check_model(seed000_fn("carry", min_steps=3), against="reference", **SEED000)
    stopped = _finding(report, "the length sweep stopped at T=2")
    assert stopped and "ValueError: need at least 3 steps" in stopped[0]
    assert _finding(report, "earliest failing length") == [
        "earliest failing length: T=3 (wrong at the shortest length tested; T < 3 not tested: your fn raised there)"]


def test_missing_gradient_is_incomplete_unless_declared():
    def fn(params, x, target):
        loss, grads = seed003_fn()(params, x, target)
        del grads["head.bias"]
        return loss, grads
    report = check_model(fn, against="reference", **SEED003)
    row = report.table[report.table["quantity"] == "dhead.bias"]
    assert list(row["status"]) == ["missing"] and "'head.bias'" in row["note"].iloc[0]
    assert report.verdict == "INCOMPLETE" and not report.ok
    declared = check_model(fn, against="reference", skip=("head.bias",), **SEED003)
    row = declared.table[declared.table["quantity"] == "dhead.bias"]
    assert list(row["status"]) == ["not compared"] and "declared with skip" in row["note"].iloc[0]
    assert declared.verdict == "OK"

# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, message", [
    (dict(head="relu"), "head: expected one of None, 'linear', 'linear+sigmoid', got 'relu'"),
    (dict(loss="hinge"), "loss: expected one of 'squared_error'"),
    (dict(reduction="avg"), "reduction: expected one of 'sum', 'mean', got 'avg'"),
    (dict(loss_steps=[5]), "loss_steps: expected distinct step indices in -5..4 (steps=5), got [5]"),
    (dict(loss_steps=[4, -1]), "loss_steps: expected distinct step indices"),
    (dict(loss_steps=[]), "loss_steps: expected None or a non-empty list of step indices, got []"),
    (dict(head="linear"), "output_size: expected a positive integer (the head's O) when head='linear', got None"),
    (dict(output_size=3), "output_size: expected None or hidden_size=6 when head is None"),
    (dict(against="keras"), "against: expected some of torch, tf, numeric, reference (a tuple or a comma-separated string), got 'keras'"),
    (dict(numeric="some"), "numeric: expected 'directional' or 'full'"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(HarnessError) as err:
        check_model(seed000_fn(), **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def _returning(transform):
    def fn(params, x, target):
        return transform(*seed003_fn()(params, x, target))
    return fn


@pytest.mark.parametrize("transform, message", [
    (lambda loss, g: g, "fn: expected a tuple (loss, grads), got a single dict"),
    (lambda loss, g: (loss, g, None), "fn: expected 2 values (loss, grads), got 3"),
    (lambda loss, g: (loss, {**g, "weight_ih_l0": g["weight_ih_l0"].T}),
     "grads['weight_ih_l0'] has shape (4, 6); expected (6, 4) (that is the transpose of the expected shape)"),
    (lambda loss, g: (loss, {**g, "head.bias": np.zeros(3, dtype=int)}), "is an integer array (int64)"),
    (lambda loss, g: (loss, {**g, "weight_hh_0": g["weight_hh_l0"]}), "grads has unexpected name(s) ['weight_hh_0']"),
    (lambda loss, g: (np.ones(3) * loss, g), "fn: loss has shape (3,)"),
    (lambda loss, g: (loss, list(g.values())), "fn: grads is a list; expected a dict"),
])
def test_bad_returns_are_one_line_user_code_errors(transform, message):
    with pytest.raises(UserCodeError) as err:
        check_model(_returning(transform), **SEED003)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_exception_in_fn_is_chained():
    def fn(params, x, target):
        raise KeyError("W1")
    with pytest.raises(UserCodeError, match="fn raised KeyError") as err:
        check_model(fn, **SEED003)
    assert isinstance(err.value.__cause__, KeyError)


def test_a_fn_returning_no_gradient_is_an_error_not_a_pass():
    with pytest.raises(UserCodeError, match="fn: returned no gradient"):
        check_model(lambda params, x, target: (0.0, {}), against=("reference",))
