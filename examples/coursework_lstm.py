"""An LSTM as the popular sequence-models course writes it: column-major arrays, gates on
``concat = [a_prev; xt]``, a ``parameters`` dict, ``caches`` and a ``gradients`` dict. Checked with:

    gradharness check examples.coursework_lstm:lstm_forward examples.coursework_lstm:lstm_backward \\
        --layout examples.coursework_lstm:LAYOUT --cell lstm

x (n_x, m, T_x), a0 (n_a, m), the cell state starts at zero; Wf, Wi, Wc, Wo (n_a, n_a + n_x),
bf, bi, bc, bo (n_a, 1); the course calls the candidate gate c (torch's g). Wy, by: the output
layer, not compared.
"""

import numpy as np

import harness

GATES = {"f": "f", "i": "i", "c": "g", "o": "o"}        # the course's gate letter -> torch's


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])
    a_next = ot * np.tanh(c_next)
    return a_next, c_next, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def lstm_forward(x, a0, parameters):
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    a, c = np.zeros((n_a, m, T_x), dtype=x.dtype), np.zeros((n_a, m, T_x), dtype=x.dtype)
    a_next, c_next, caches = a0, np.zeros_like(a0), []
    for t in range(T_x):
        a_next, c_next, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t] = a_next, c_next
        caches.append(cache)
    return a, c, (caches, x)


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dot = da_next * tanh_c * ot * (1 - ot)
    dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    grads = {"dWf": dft @ concat.T, "dWi": dit @ concat.T, "dWc": dcct @ concat.T, "dWo": dot @ concat.T,
             "dbf": dft.sum(axis=1, keepdims=True), "dbi": dit.sum(axis=1, keepdims=True),
             "dbc": dcct.sum(axis=1, keepdims=True), "dbo": dot.sum(axis=1, keepdims=True)}
    dconcat = (parameters["Wf"].T @ dft + parameters["Wi"].T @ dit + parameters["Wc"].T @ dcct
               + parameters["Wo"].T @ dot)
    grads.update(da_prev=dconcat[:n_a], dxt=dconcat[n_a:], dc_prev=dc * ft)
    return grads


def lstm_backward(da, caches):
    """da (n_a, m, T_x): the upstream gradient of every step's a (not the carried one)."""
    caches, x = caches
    n_a, m, T_x = da.shape
    dx = np.zeros_like(x)
    da_prev, dc_prev = np.zeros((n_a, m), dtype=da.dtype), np.zeros((n_a, m), dtype=da.dtype)
    gradients = {}
    for t in reversed(range(T_x)):
        g = lstm_cell_backward(da[:, :, t] + da_prev, dc_prev, caches[t])
        dx[:, :, t], da_prev, dc_prev = g["dxt"], g["da_prev"], g["dc_prev"]
        for k in ("dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo"):
            gradients[k] = gradients.get(k, 0) + g[k]
    return {"dx": dx, "da0": da_prev, **gradients}


def to_user(cell, p):
    """Canonical (torch, rows i, f, g, o) -> W{gate} = [W_hh | W_ih] rows of that gate."""
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for letter, gate in GATES.items():
        k = "ifgo".index(gate)
        user[f"W{letter}"] = np.concatenate([p["weight_hh"][k * H:(k + 1) * H], p["weight_ih"][k * H:(k + 1) * H]],
                                            axis=1)
        user[f"b{letter}"] = b[k * H:(k + 1) * H, None]
    user.update(Wy=np.zeros((2, H), b.dtype), by=np.zeros((2, 1), b.dtype))
    return user


def to_canonical(cell, g, p):
    """The course's gradients -> canonical (a gradient missing from ``g`` is left out)."""
    H = p["weight_hh"].shape[1]
    out = {}
    if all(f"dW{letter}" in g for letter in GATES):
        blocks = {gate: g[f"dW{letter}"] for letter, gate in GATES.items()}
        out["dweight_hh"] = np.concatenate([blocks[gate][:, :H] for gate in "ifgo"])
        out["dweight_ih"] = np.concatenate([blocks[gate][:, H:] for gate in "ifgo"])
    if all(f"db{letter}" in g for letter in GATES):
        out["dbias_ih"] = np.concatenate([g[f"db{letter}"][:, 0] for letter in "ifco"])     # torch's i, f, g, o
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="coursework", cells=("lstm",), axes="DNT",
                               weights_as="dict", forward_returns=("h", "c", "cache"), names={"h": "a"},
                               takes_c0=False, gate_order="fico", gate_letters={"c": "g"})
