"""A GRU from a Korean tutorial ("PyTorch 문서의 GRU 수식을 numpy로"), written straight from
the equations of torch's nn.GRU documentation with one weight per gate and per input: W_ir,
W_iz, W_in (H, D), W_hr, W_hz, W_hn (H, H) and the six biases b_ir ... b_hn (H,), twelve
arguments; the gates named reset, update and candidate; a ``history`` list of per-step
tuples walked back with zip(reversed(...)):

    reset = s(x W_ir^T + b_ir + h W_hr^T + b_hr)     update = s(x W_iz^T + b_iz + h W_hz^T + b_hz)
    hn = h W_hn^T + b_hn      candidate = tanh(x W_in^T + b_in + reset * hn)
    h_new = (1 - update) * candidate + update * h

x (N, T, D), h0 (N, H). Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dupdate_wikipedia_sign": "wrong_sign",          # dupdate = dh * (candidate - h_prev): the other convention's sign
    "hn_recomputed_from_h_new": "wrong_time",        # dreset = da_n * (h_new @ W_hn.T + b_hn): h_t for h_(t-1)
    "dhn_W_hn_transposed": "weight_transposed",      # dh_prev += dhn @ W_hn.T
    "da_z_through_W_hr": "wrong_weight",             # dh_prev += da_z @ W_hr (W_hz's line pasted from the r line)
    "dW_hn_without_reset": "term_dropped",           # g["W_hn"] += da_n.T @ h_prev, g["b_hn"] += da_n.sum: the factor reset left out
    "da_z_sigmoid_of_reset": "derivative_wrong_point",   # da_z = dupdate * reset * (1 - reset) (also wrong_value)
    "dh_next_not_added": "carry_dropped",            # dh = dh_t
    "bias_grads_batch_mean": "reduction_scaled",     # every b_* gradient with .mean(axis=0)
    "history_walked_forward": "loop_direction",      # for k, step in enumerate(history): forward in time
    "da_r_no_sigmoid_grad": "derivative_missing",    # da_r = dreset
    "dupdate_in_place": "inplace_corruption",        # dupdate = h_prev; dupdate -= candidate; ...: the cached h_prev changed
    "forward_reset_before_W_hn": "forward_mistake",  # candidate = tanh(... + (reset * h) @ W_hn.T + b_hn); backward consistent
    "sign_and_W_hn_T": "unknown",                    # two mistakes: dupdate's sign and W_hn transposed
}

TOUCHES = {
    "dupdate_wikipedia_sign": "z",
    "hn_recomputed_from_h_new": "r",
    "dhn_W_hn_transposed": "",
    "da_z_through_W_hr": "",
    "dW_hn_without_reset": "n",
    "da_z_sigmoid_of_reset": "z",
    "dh_next_not_added": "",
    "bias_grads_batch_mean": "",
    "history_walked_forward": "",
    "da_r_no_sigmoid_grad": "r",
    "dupdate_in_place": "",
    "forward_reset_before_W_hn": "",
    "sign_and_W_hn_T": "z",
}

NAMES = ("W_ir", "W_iz", "W_in", "W_hr", "W_hz", "W_hn", "b_ir", "b_iz", "b_in", "b_hr", "b_hz", "b_hn")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, W_ir, W_iz, W_in, W_hr, W_hz, W_hn, b_ir, b_iz, b_in, b_hr, b_hz, b_hn, bug=None):
    N, T, D = x.shape
    w = dict(zip(NAMES, (W_ir, W_iz, W_in, W_hr, W_hz, W_hn, b_ir, b_iz, b_in, b_hr, b_hz, b_hn)))
    h = h0.copy()
    outputs, history = [], []
    for t in range(T):
        x_t = x[:, t]
        reset = sigmoid(x_t @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        update = sigmoid(x_t @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        if bug == "forward_reset_before_W_hn":
            hn = (reset * h) @ W_hn.T + b_hn
            candidate = np.tanh(x_t @ W_in.T + b_in + hn)
        else:
            hn = h @ W_hn.T + b_hn
            candidate = np.tanh(x_t @ W_in.T + b_in + reset * hn)
        h_new = (1 - update) * candidate + update * h
        history.append((x_t, h, reset, update, candidate, hn, h_new))
        outputs.append(h_new)
        h = h_new
    return np.stack(outputs, axis=1), (history, w)


def gru_backward(dh_all, cache, bug=None):
    history, w = cache
    T = len(history)
    g = {k: np.zeros_like(v) for k, v in w.items()}
    dh_next = np.zeros_like(history[0][1])
    dxs = [None] * T
    if bug == "history_walked_forward":
        steps = list(enumerate(history))
    else:
        steps = list(zip(reversed(range(T)), reversed(history)))
    for k, (x_t, h_prev, reset, update, candidate, hn, h_new) in steps:
        dh = dh_all[:, k] if bug == "dh_next_not_added" else dh_all[:, k] + dh_next
        dcandidate = dh * (1 - update)
        if bug in ("dupdate_wikipedia_sign", "sign_and_W_hn_T"):
            dupdate = dh * (candidate - h_prev)
        elif bug == "dupdate_in_place":
            dupdate = h_prev
            dupdate -= candidate
            dupdate *= dh
        else:
            dupdate = dh * (h_prev - candidate)
        dh_prev = dh * update
        da_n = dcandidate * (1 - candidate ** 2)
        if bug == "forward_reset_before_W_hn":
            drh = da_n @ w["W_hn"]
            dreset = drh * h_prev
            dhn = da_n
        else:
            hn_used = h_new @ w["W_hn"].T + w["b_hn"] if bug == "hn_recomputed_from_h_new" else hn
            dreset = da_n * hn_used
            dhn = da_n * reset
        da_r = dreset if bug == "da_r_no_sigmoid_grad" else dreset * reset * (1 - reset)
        if bug == "da_z_sigmoid_of_reset":
            da_z = dupdate * reset * (1 - reset)
        else:
            da_z = dupdate * update * (1 - update)
        reduce = (lambda a: a.mean(axis=0)) if bug == "bias_grads_batch_mean" else (lambda a: a.sum(axis=0))
        for gate, da in (("r", da_r), ("z", da_z), ("n", da_n)):
            g["W_i" + gate] += da.T @ x_t
            g["b_i" + gate] += reduce(da)
        g["W_hr"] += da_r.T @ h_prev
        g["b_hr"] += reduce(da_r)
        g["W_hz"] += da_z.T @ h_prev
        g["b_hz"] += reduce(da_z)
        if bug == "dW_hn_without_reset":
            g["W_hn"] += da_n.T @ h_prev
            g["b_hn"] += reduce(da_n)
        elif bug == "forward_reset_before_W_hn":
            g["W_hn"] += dhn.T @ (reset * h_prev)
            g["b_hn"] += reduce(dhn)
        else:
            g["W_hn"] += dhn.T @ h_prev
            g["b_hn"] += reduce(dhn)
        dxs[k] = da_r @ w["W_ir"] + da_z @ w["W_iz"] + da_n @ w["W_in"]
        W_hz = w["W_hr"] if bug == "da_z_through_W_hr" else w["W_hz"]
        W_hn = w["W_hn"].T if bug in ("dhn_W_hn_transposed", "sign_and_W_hn_T") else w["W_hn"]
        dh_prev = dh_prev + da_r @ w["W_hr"] + da_z @ W_hz
        if bug == "forward_reset_before_W_hn":
            dh_prev = dh_prev + drh * reset
        else:
            dh_prev = dh_prev + dhn @ W_hn
        dh_next = dh_prev
    return (np.stack(dxs, axis=1), dh_next, *(g[k] for k in NAMES))


RZN = {"r": 0, "z": 1, "n": 2}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    out = {}
    for kind, source in (("W_i", "weight_ih"), ("W_h", "weight_hh"), ("b_i", "bias_ih"), ("b_h", "bias_hh")):
        for gate, k in RZN.items():
            out[kind + gate] = np.array(p[source][k * H:(k + 1) * H])
    return {k: out[k] for k in NAMES}


def to_canonical(cell, grads, p):
    out = {}
    for kind, target in (("W_i", "dweight_ih"), ("W_h", "dweight_hh"), ("b_i", "dbias_ih"), ("b_h", "dbias_hh")):
        keys = ["d" + kind + gate for gate in "rzn"]
        if all(k in grads for k in keys):
            out[target] = np.concatenate([grads[k] for k in keys], axis=0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torchdocs_gru", cells=("gru",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, *weights):
        return gru_forward(x, h0, *weights, bug=bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}
