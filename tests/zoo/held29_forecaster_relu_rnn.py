"""A time-series forecaster's script: sliding windows of a multivariate series, time-major
(T, N, D) as the author's data loader yields them, a ReLU RNN encoder and a linear head that
forecasts the next value from the last state. The network lives in one dict ``net``:

    net["W_xh"] (D, H), net["W_hh"] (H, H), net["b_h"] (H,), net["W_out"] (H, 1), net["b_out"] (1,)
    h_t = relu(x_t @ W_xh + h_(t-1) @ W_hh + b_h)        x (T, N, D), h0 (N, H)
    y_hat = h_(T-1) @ W_out + b_out

``encode(x, h0, net) -> (hs, y_hat, cache)``; ``encode_backward(dhs, cache)`` returns a dict
of gradients (the head's gradients are the script's business, not the check's). The states
are kept in a list ``hs`` of T + 1 entries, hs[0] = h0. Twenty-ninth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "mask_from_previous_state": "derivative_wrong_point",  # relu' read off hs[t] (h_(t-1)) instead of hs[t + 1]
    "no_relu_mask": "derivative_missing",                 # dpre = dcur
    "tanh_grad_copied": "derivative_wrong_function",      # dpre = dcur * (1 - h**2), from the author's tanh version
    "mask_equals_zero": "derivative_miswritten",          # mask = h == 0 (meant h != 0)
    "dW_hh_transposed": "gradient_transposed",            # dW_hh += dpre.T @ h_prev: the (H, H) gradient transposed
    "carry_with_W_hh_untransposed": "weight_transposed",  # dh_next = dpre @ W_hh
    "dW_xh_from_previous_input": "wrong_time",            # dW_xh += x[t - 1].T @ dpre (x[-1] at t = 0)
    "carry_replaces_upstream": "carry_overwrites",        # dcur = dh_next (if any) else dhs[t]: not added
    "tbptt_three_steps": "truncated_bptt",                # the carry zeroed once it has gone back 3 steps
    "window_mean": "reduction_scaled",                    # dhs / T: the author's "MSE over the window" scaling
    "leaky_forward": "forward_mistake",                   # leaky ReLU (slope 0.01) in encode; backward consistent
    "carry_damped": "unknown",                            # dh_next *= 0.9: an arbitrary damping constant
}

TOUCHES = {b: "" for b in BUGS}                           # an RNN has no gates (blind_index.touched_gates)


def make_windows(series, T):
    """series (L, D) -> x (T, N, D) windows and the next values (N, D)."""
    L = series.shape[0]
    idx = np.arange(L - T)[:, None] + np.arange(T)
    return series[idx].transpose(1, 0, 2), series[T:]


def encode(x, h0, net, bug=None):
    T = x.shape[0]
    hs, pres = [h0], []
    for t in range(T):
        pre = x[t] @ net["W_xh"] + hs[-1] @ net["W_hh"] + net["b_h"]
        h = np.where(pre > 0, pre, 0.01 * pre) if bug == "leaky_forward" else np.maximum(pre, 0)
        pres.append(pre)
        hs.append(h)
    y_hat = hs[-1] @ net["W_out"] + net["b_out"]
    return np.stack(hs[1:]), y_hat, {"x": x, "hs": hs, "pres": pres, "net": net}


def encode_backward(dhs, cache, bug=None):
    x, hs, net = cache["x"], cache["hs"], cache["net"]
    W_xh, W_hh = net["W_xh"], net["W_hh"]
    T = x.shape[0]
    if bug == "window_mean":
        dhs = dhs / T
    g = {"dW_xh": np.zeros_like(W_xh), "dW_hh": np.zeros_like(W_hh), "db_h": np.zeros_like(net["b_h"])}
    dx = np.zeros_like(x)
    dh_next = None
    for t in reversed(range(T)):
        if dh_next is None:
            dcur = dhs[t]
        elif bug == "carry_replaces_upstream":
            dcur = dh_next
        else:
            dcur = dhs[t] + dh_next
        h, h_prev = hs[t + 1], hs[t]
        if bug == "mask_from_previous_state":
            dpre = dcur * (h_prev > 0)
        elif bug == "no_relu_mask":
            dpre = dcur
        elif bug == "tanh_grad_copied":
            dpre = dcur * (1 - h ** 2)
        elif bug == "mask_equals_zero":
            dpre = dcur * (h == 0)
        elif bug == "leaky_forward":
            dpre = dcur * np.where(cache["pres"][t] > 0, 1.0, 0.01).astype(dcur.dtype)
        else:
            dpre = dcur * (h > 0)
        g["dW_xh"] += x[t - 1 if bug == "dW_xh_from_previous_input" else t].T @ dpre
        g["dW_hh"] += dpre.T @ h_prev if bug == "dW_hh_transposed" else h_prev.T @ dpre
        g["db_h"] += dpre.sum(axis=0)
        dx[t] = dpre @ W_xh.T
        dh_next = dpre @ (W_hh if bug == "carry_with_W_hh_untransposed" else W_hh.T)
        if bug == "tbptt_three_steps" and T - t >= 3:
            dh_next = np.zeros_like(dh_next)
        if bug == "carry_damped":
            dh_next *= 0.9
    g["dx"], g["dh0"] = dx, dh_next
    return g


def mse_head_backward(y_hat, y, hs_last, net):
    dy = 2 * (y_hat - y) / y.size
    dhs_last = dy @ net["W_out"].T
    return dhs_last, hs_last.T @ dy, dy.sum(axis=0)


def fit(series, T=20, H=16, epochs=5, lr=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    x, y = make_windows(series, T)
    D = x.shape[2]
    net = {"W_xh": rng.normal(0, 0.1, (D, H)), "W_hh": np.eye(H) * 0.5, "b_h": np.zeros(H),
           "W_out": rng.normal(0, 0.1, (H, D)), "b_out": np.zeros(D)}
    for _ in range(epochs):
        hs, y_hat, cache = encode(x, np.zeros((x.shape[1], H)), net)
        dlast, dW_out, db_out = mse_head_backward(y_hat, y, hs[-1], net)
        dhs = np.zeros_like(hs)
        dhs[-1] = dlast
        grads = encode_backward(dhs, cache)
        for k in ("W_xh", "W_hh", "b_h"):
            net[k] -= lr * grads["d" + k]
        net["W_out"] -= lr * dW_out
        net["b_out"] -= lr * db_out
    return net


def to_user(cell, p):
    H = p["weight_hh"].shape[0]
    dt = p["weight_hh"].dtype
    return {"W_xh": p["weight_ih"].T, "W_hh": p["weight_hh"].T, "b_h": p["bias_ih"] + p["bias_hh"],
            "W_out": np.zeros((H, 1), dt), "b_out": np.zeros(1, dt)}


def to_canonical(cell, g, p):
    out = {}
    if "dW_xh" in g:
        out["dweight_ih"] = g["dW_xh"].T
    if "dW_hh" in g:
        out["dweight_hh"] = g["dW_hh"].T
    if "db_h" in g:
        out["dbias_ih"] = g["db_h"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="forecaster", cells=("rnn",), axes="TND",
                               weights_as="dict", forward_returns=("h", "y", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, net):
        return encode(x, h0, net, bug)

    def backward(dhs, cache):
        return encode_backward(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}
