"""A GRU written from torch's nn.GRU documentation, its weights in one dict under torch's
state_dict names, both biases present (reset after the recurrent product):

    gi = x_t @ weight_ih_l0.T + bias_ih_l0        gh = h_(t-1) @ weight_hh_l0.T + bias_hh_l0
    r = s(gi_r + gh_r)   z = s(gi_z + gh_z)       (blocks r, z, n of 3H)
    n = tanh(gi_n + r * gh_n)
    h_t = (1 - z) * n + z * h_(t-1)

The backward returns a dict of gradients keyed "d" + the state_dict name, and assembles
dweight_hh block by block. x (N, T, D), forward(x, h0, state_dict). Eighth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_sign_flipped": "wrong_sign",                   # dz = dh * (n - h_prev)
    "dh_prev_without_z_path": "term_dropped",          # dh_prev = dgh @ W_hh only (dh * z left out)
    "n_grad_sigmoid": "derivative_wrong_function",     # dgn = dn * n * (1 - n)
    "dW_hh_with_h_t": "wrong_time",                    # dW_hh blocks use h_t for h_(t-1)
    "W_hn_transposed_in_dh_prev": "weight_transposed", # dh_prev += dgh_n @ W_hn.T
    "dW_hn_block_transposed": "gradient_transposed",   # the n block of dweight_hh written h.T @ dgh_n
    "dx_from_dW_ih": "gradient_for_weight",            # dx = dgi @ dW_ih (the running dW_ih)
    "W_hz_for_W_hn": "wrong_weight",                   # dh_prev += dgh_n @ W_hz
    "last_step_skipped": "loop_skips_step",            # for t in reversed(range(T - 1))
    "dh_assigned_from_carry": "carry_overwrites",      # dh = dh_next when t < T - 1 (upstream dropped)
    "n_grad_from_h_prev": "wrong_value",               # dgn = dn * (1 - h_prev ** 2) (h_prev read for n)
    "forward_other_convention": "forward_mistake",     # h_t = (1 - z) * h_prev + z * n, backward consistent
    "n_sigmoid_grad_and_dx_from_dW": "unknown",        # dgn = dn * n * (1 - n) AND dx = dgi @ dW_ih
    "dgi_stacked_z_first": "gate_order",               # dgi = np.hstack([dgz, dgr, dgn]) (the z, r order of Keras)
    "reset_before_backward": "unknown",                # the n path differentiated as reset-before: drh = dgn @ W_hn,
                                                       #   dr = drh * h_prev, dh_prev += drh * r, dW_hn from r * h_prev
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dz_sign_flipped": "z",
    "dh_prev_without_z_path": "",
    "n_grad_sigmoid": "rn",
    "dW_hh_with_h_t": "",
    "W_hn_transposed_in_dh_prev": "",
    "dW_hn_block_transposed": "n",
    "dx_from_dW_ih": "",
    "W_hz_for_W_hn": "",
    "last_step_skipped": "",
    "dh_assigned_from_carry": "",
    "n_grad_from_h_prev": "rn",
    "forward_other_convention": "",
    "n_sigmoid_grad_and_dx_from_dW": "rn",
    "dgi_stacked_z_first": "rz",
    "reset_before_backward": "rn",
}

KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, sd, bug=None):
    W_ih, W_hh, b_ih, b_hh = (sd[k] for k in KEYS)
    N, T, _ = x.shape
    H = h0.shape[1]
    h = h0
    out, saved = np.zeros((N, T, H), dtype=x.dtype), []
    for t in range(T):
        gi = x[:, t] @ W_ih.T + b_ih
        gh = h @ W_hh.T + b_hh
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h_new = (1 - z) * h + z * n if bug == "forward_other_convention" else (1 - z) * n + z * h
        saved.append((x[:, t], h, r, z, n, gh[:, 2 * H:], h_new))
        out[:, t] = h_new
        h = h_new
    return out, (saved, sd)


def gru_backward(dout, cache, bug=None):
    saved, sd = cache
    W_ih, W_hh, b_ih, b_hh = (sd[k] for k in KEYS)
    N, T, H = dout.shape
    W_hr, W_hz, W_hn = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    grads = {"d" + k: np.zeros_like(sd[k]) for k in KEYS}
    dx = np.zeros((N, T, W_ih.shape[1]), dtype=dout.dtype)
    dh_next = np.zeros((N, H), dtype=dout.dtype)
    for t in reversed(range(T - 1 if bug == "last_step_skipped" else T)):
        x_t, h_prev, r, z, n, gh_n, h_t = saved[t]
        dh = dh_next if (bug == "dh_assigned_from_carry" and t < T - 1) else dout[:, t] + dh_next
        if bug == "forward_other_convention":
            dn, dz, dh_prev = dh * z, dh * (n - h_prev), dh * (1 - z)
        else:
            dn = dh * (1 - z)
            dz = dh * ((n - h_prev) if bug == "dz_sign_flipped" else (h_prev - n))
            dh_prev = np.zeros_like(dh) if bug == "dh_prev_without_z_path" else dh * z
        if bug in ("n_grad_sigmoid", "n_sigmoid_grad_and_dx_from_dW"):
            dgn = dn * n * (1 - n)
        elif bug == "n_grad_from_h_prev":
            dgn = dn * (1 - h_prev ** 2)
        else:
            dgn = dn * (1 - n ** 2)
        if bug == "reset_before_backward":
            dgh_n = dgn
            drh = dgn @ W_hn
            dgr = drh * h_prev * r * (1 - r)
            dh_prev = dh_prev + drh * r
        else:
            dgh_n = dgn * r
            dgr = dgn * gh_n * r * (1 - r)
        dgz = dz * z * (1 - z)
        dgi = np.hstack([dgz, dgr, dgn] if bug == "dgi_stacked_z_first" else [dgr, dgz, dgn])
        h_for_w = h_t if bug == "dW_hh_with_h_t" else h_prev
        blocks = [dgr.T @ h_for_w, dgz.T @ h_for_w,
                  h_for_w.T @ dgh_n if bug == "dW_hn_block_transposed" else dgh_n.T @ h_for_w]
        if bug == "reset_before_backward":
            blocks[2] = dgn.T @ (r * h_prev)
        grads["dweight_hh_l0"] += np.vstack(blocks)
        grads["dweight_ih_l0"] += dgi.T @ x_t
        grads["dbias_ih_l0"] += dgi.sum(axis=0)
        grads["dbias_hh_l0"] += np.hstack([dgr, dgz, dgh_n]).sum(axis=0)
        if bug in ("dx_from_dW_ih", "n_sigmoid_grad_and_dx_from_dW"):
            dx[:, t] = dgi @ grads["dweight_ih_l0"]
        else:
            dx[:, t] = dgi @ W_ih
        W_n = W_hn.T if bug == "W_hn_transposed_in_dh_prev" else (W_hz if bug == "W_hz_for_W_hn" else W_hn)
        dh_next = dh_prev + dgr @ W_hr + dgz @ W_hz
        if bug != "reset_before_backward":
            dh_next = dh_next + dgh_n @ W_n
    return {"dx": dx, "dh0": dh_next, **grads}


def to_user(cell, p):
    return {"weight_ih_l0": p["weight_ih"], "weight_hh_l0": p["weight_hh"], "bias_ih_l0": p["bias_ih"],
            "bias_hh_l0": p["bias_hh"]}


def to_canonical(cell, grads, p):
    return {q: grads["d" + k] for k, q in zip(KEYS, ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"))
            if "d" + k in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_doc_gru", cells=("gru",), gate_order="rzn",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, state_dict):
        return gru_forward(x, h0, state_dict, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}
