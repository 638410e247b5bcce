"""A GRU from a lab notebook that checks students against ``torch.nn.GRU`` one sequence at a
time: column vectors, torch's stacked weights and two biases as columns (W_ih (3H, D),
W_hh (3H, H), b_ih, b_hh (3H, 1), blocks r, z, n), the reset gate on the recurrent
product (torch's form), and the notebook's helper ``sigmoid_backward(ds, s)``:

    gi = W_ih @ x + b_ih;  gh = W_hh @ h + b_hh;  r = s(gi_r + gh_r);  z = s(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n);  h' = (1 - z) * n + z * h

x (T, D, 1), h0 (H, 1). Thirtieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dan_sigmoid_grad": "derivative_wrong_function",  # dan = dn * n * (1 - n)
    "dr_without_b_hn": "term_dropped",               # dr = dan * (W_hn @ h_prev): b_hn left out of gh_n
    "dgh_n_without_r": "term_dropped",               # dgh_n = dan (the factor r left out)
    "W_hn_untransposed": "weight_transposed",        # dh_prev += W_hn @ dgh_n (the n block only)
    "dz_n_minus_h": "wrong_sign",                    # dz = dh * (n - h_prev)
    "dW_hh_with_h_t": "wrong_time",                  # dW_hh += dgh @ h_new.T
    "dx_from_dW_ih": "gradient_for_weight",          # dx = dW_ih.T @ dgi (the gradient so far)
    "carry_reset_in_loop": "carry_dropped",          # dh_next = np.zeros_like(h0) at the top of every step
    "loop_skips_first": "loop_skips_step",           # for t in reversed(range(1, T))
    "db_hh_over_T": "reduction_scaled",              # db_hh / T at the end
    "dgi_blocks_z_r_n": "gate_order",                # dgi = vstack([daz, dar, dan]) (and dgh likewise)
    "loop_forward": "loop_direction",                # for t in range(T)
    "carry_cut_after_4": "truncated_bptt",           # dh_next zeroed once 4 steps are walked back
    "dz_times_0_3": "unknown",                       # dz = 0.3 * dh * (h_prev - n): an arbitrary constant
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "dan_sigmoid_grad": "rn",
    "dr_without_b_hn": "r",
    "dgh_n_without_r": "n",
    "W_hn_untransposed": "",
    "dz_n_minus_h": "z",
    "dW_hh_with_h_t": "",
    "dx_from_dW_ih": "",
    "carry_reset_in_loop": "",
    "loop_skips_first": "",
    "db_hh_over_T": "",
    "dgi_blocks_z_r_n": "rz",
    "loop_forward": "",
    "carry_cut_after_4": "",
    "dz_times_0_3": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def sigmoid_backward(ds, s):          # given by the notebook
    return ds * s * (1 - s)


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug=None):
    H = h0.shape[0]
    T = x.shape[0]
    hs = np.zeros((T, H, 1), dtype=x.dtype)
    h, caches = h0, []
    for t in range(T):
        gi = W_ih @ x[t] + b_ih
        gh = W_hh @ h + b_hh
        r = sigmoid(gi[:H] + gh[:H])
        z = sigmoid(gi[H:2 * H] + gh[H:2 * H])
        n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
        h_new = (1 - z) * n + z * h
        caches.append((x[t], h, r, z, n, gh[2 * H:], h_new))
        hs[t] = h_new
        h = h_new
    return hs, (caches, W_ih, W_hh, b_hh)


def gru_backward(dh, cache, bug=None):
    caches, W_ih, W_hh, b_hh = cache
    T, H = dh.shape[0], W_hh.shape[1]
    dx = np.zeros((T, W_ih.shape[1], 1), dtype=dh.dtype)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih, db_hh = np.zeros_like(b_hh), np.zeros_like(b_hh)
    dh_next = np.zeros((H, 1), dtype=dh.dtype)
    if bug == "loop_forward":
        steps = range(T)
    else:
        steps = reversed(range(1 if bug == "loop_skips_first" else 0, T))
    walked = 0
    for t in steps:
        if bug == "carry_reset_in_loop":
            dh_next = np.zeros((H, 1), dtype=dh.dtype)
        x, h_prev, r, z, n, gh_n, h_new = caches[t]
        dht = dh[t] + dh_next
        dn = dht * (1 - z)
        dz = dht * (n - h_prev) if bug == "dz_n_minus_h" else dht * (h_prev - n)
        if bug == "dz_times_0_3":
            dz = 0.3 * dz
        dan = dn * n * (1 - n) if bug == "dan_sigmoid_grad" else dn * (1 - n ** 2)
        dr = dan * (W_hh[2 * H:] @ h_prev) if bug == "dr_without_b_hn" else dan * gh_n
        dgh_n = dan if bug == "dgh_n_without_r" else dan * r
        dar = sigmoid_backward(dr, r)
        daz = sigmoid_backward(dz, z)
        if bug == "dgi_blocks_z_r_n":
            dgi, dgh = np.vstack([daz, dar, dan]), np.vstack([daz, dar, dgh_n])
        else:
            dgi, dgh = np.vstack([dar, daz, dan]), np.vstack([dar, daz, dgh_n])
        dW_ih += dgi @ x.T
        dW_hh += dgh @ (h_new if bug == "dW_hh_with_h_t" else h_prev).T
        db_ih += dgi
        db_hh += dgh
        dx[t] = (dW_ih if bug == "dx_from_dW_ih" else W_ih).T @ dgi
        dh_next = dht * z + W_hh[:2 * H].T @ dgh[:2 * H]
        if bug == "W_hn_untransposed":
            dh_next = dh_next + W_hh[2 * H:] @ dgh_n
        else:
            dh_next = dh_next + W_hh[2 * H:].T @ dgh_n
        walked += 1
        if bug == "carry_cut_after_4" and walked >= 4:
            dh_next = np.zeros_like(dh_next)
    if bug == "db_hh_over_T":
        db_hh = db_hh / T
    return dx, dh_next, dW_ih, dW_hh, db_ih, db_hh


def to_user(cell, p):
    return {"W_ih": np.array(p["weight_ih"]), "W_hh": np.array(p["weight_hh"]), "b_ih": p["bias_ih"][:, None],
            "b_hh": p["bias_hh"][:, None]}


def to_canonical(cell, g, p):
    out = {}
    for mine, theirs in (("dW_ih", "dweight_ih"), ("dW_hh", "dweight_hh")):
        if mine in g:
            out[theirs] = g[mine]
    for mine, theirs in (("db_ih", "dbias_ih"), ("db_hh", "dbias_hh")):
        if mine in g:
            out[theirs] = g[mine][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="lab_colvec_gru", cells=("gru",), per_example=True)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, W_ih, W_hh, b_ih, b_hh: gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug),
            lambda dh, cache: gru_backward(dh, cache, bug), {"cell": "gru", "layout": LAYOUT, "reset_after": True})
