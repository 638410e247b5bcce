"""A cs231n-layout LSTM (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f, o, g,
c0 = 0) that keeps every step's activated gates in one preallocated (T, N, 4H) array
``acts`` and every cell state in (T + 1, N, H) ``cs`` (cs[0] = 0); the backward fills a
(T, N, 4H) array ``dacts`` of pre-activation gradients and computes dx and the weight
gradients after the loop with einsum.

Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dx_from_dWx": "gradient_for_weight",               # dx = einsum(dacts, dWx): the gradient used for the weight
    "dc_prev_uses_next_f": "wrong_time",                # dc carry times f of step t + 1 (acts[t + 1])
    "f_read_from_o_block": "wrong_value",               # f = acts[t][:, 2H:3H] in the backward (o's block)
    "tanh_grad_at_c": "derivative_wrong_point",         # dc += dh * o * (1 - c**2): tanh' at c, not at tanh(c)
    "i_grad_as_tanh": "derivative_wrong_function",      # da_i = di * (1 - i**2)
    "sigmoid_grad_precedence": "derivative_miswritten", # da_f = df * f * 1 - f  (parentheses lost)
    "dh_carry_never_added": "carry_dropped",            # dh = dhs[:, t]: dprev_h computed, never added
    "db_mean_over_batch": "reduction_scaled",           # db = dacts.sum(0).mean(0): a mean over the batch
    "local_grads_in_place": "inplace_corruption",       # gates[:, :3H] *= 1 - gates[:, :3H] in acts, then i and o read back
    "forward_g_sigmoid": "forward_mistake",             # g = sigmoid(a_g) in the forward; backward uses g(1 - g)
    "carry_cut_after_five": "truncated_bptt",           # dh and dc carries zeroed once five steps are walked
    "dacts_norm_clipped": "gradient_clipped",           # each step's dacts rescaled to norm <= 0.5
    "dc_carry_decay": "unknown",                        # dc_prev = 0.9 * dc * f (an arbitrary constant)
}

TOUCHES = {
    "dx_from_dWx": "",
    "dc_prev_uses_next_f": "",
    "f_read_from_o_block": "",
    "tanh_grad_at_c": "ig",
    "i_grad_as_tanh": "i",
    "sigmoid_grad_precedence": "f",
    "dh_carry_never_added": "",
    "db_mean_over_batch": "",
    "local_grads_in_place": "ig",
    "forward_g_sigmoid": "",
    "carry_cut_after_five": "",
    "dacts_norm_clipped": "",
    "dc_carry_decay": "",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    acts = np.empty((T, N, 4 * H), dtype=x.dtype)
    cs = np.zeros((T + 1, N, H), dtype=x.dtype)
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    for t in range(T):
        a = x[:, t] @ Wx + hs[t] @ Wh + b
        acts[t, :, :3 * H] = sigmoid(a[:, :3 * H])
        acts[t, :, 3 * H:] = sigmoid(a[:, 3 * H:]) if bug == "forward_g_sigmoid" else np.tanh(a[:, 3 * H:])
        i, f, o, g = np.split(acts[t], 4, axis=1)
        cs[t + 1] = f * cs[t] + i * g
        hs[t + 1] = o * np.tanh(cs[t + 1])
    return hs[1:].transpose(1, 0, 2), {"x": x, "Wx": Wx, "Wh": Wh, "acts": acts, "cs": cs, "hs": hs}


def lstm_backward(dhs, cache, bug=None):
    x, Wx, Wh, acts, cs, hs = (cache[k] for k in ("x", "Wx", "Wh", "acts", "cs", "hs"))
    N, T, H = dhs.shape
    dacts = np.zeros_like(acts)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    dc_next = np.zeros((N, H), dtype=dhs.dtype)
    for n_walked, t in enumerate(reversed(range(T)), start=1):
        gates = acts[t]
        if bug == "local_grads_in_place":
            gates[:, :3 * H] *= 1 - gates[:, :3 * H]          # now s'(a) for i, f, o ... and i, f, o are gone
            i_val = gates[:, :H]
        i, f, o, g = np.split(gates if bug != "local_grads_in_place" else acts[t], 4, axis=1)
        if bug == "f_read_from_o_block":
            f = gates[:, 2 * H:3 * H]
        if bug == "local_grads_in_place":
            si, sf, so = i_val, gates[:, H:2 * H], gates[:, 2 * H:3 * H]
            i = i_val
        dh = dhs[:, t] if bug == "dh_carry_never_added" else dhs[:, t] + dh_next
        tc = np.tanh(cs[t + 1])
        do = dh * tc
        dc = dc_next + dh * o * (1 - (cs[t + 1] ** 2 if bug == "tanh_grad_at_c" else tc ** 2))
        di, df, dg = dc * g, dc * cs[t], dc * i
        if bug == "local_grads_in_place":
            dacts[t, :, :H], dacts[t, :, H:2 * H], dacts[t, :, 2 * H:3 * H] = di * si, df * sf, do * so
        else:
            dacts[t, :, :H] = di * (1 - i ** 2) if bug == "i_grad_as_tanh" else di * i * (1 - i)
            dacts[t, :, H:2 * H] = df * f * 1 - f if bug == "sigmoid_grad_precedence" else df * f * (1 - f)
            dacts[t, :, 2 * H:3 * H] = do * o * (1 - o)
        dacts[t, :, 3 * H:] = dg * g * (1 - g) if bug == "forward_g_sigmoid" else dg * (1 - g ** 2)
        if bug == "dacts_norm_clipped":
            norm = np.linalg.norm(dacts[t])
            if norm > 0.5:
                dacts[t] *= 0.5 / norm
        dh_next = dacts[t] @ Wh.T
        f_carry = acts[t + 1][:, H:2 * H] if (bug == "dc_prev_uses_next_f" and t + 1 < T) else f
        dc_next = dc * f_carry
        if bug == "dc_carry_decay":
            dc_next = 0.9 * dc_next
        if bug == "carry_cut_after_five" and n_walked >= 5:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
    dWx = np.einsum('ntd,tnk->dk', x, dacts)
    dWh = np.einsum('tnh,tnk->hk', hs[:-1], dacts)
    db = dacts.sum(axis=0).mean(axis=0) if bug == "db_mean_over_batch" else np.einsum('tnk->k', dacts)
    dx = np.einsum('tnk,dk->ntd', dacts, dWx if bug == "dx_from_dWx" else Wx)
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dhs, cache):
        return lstm_backward(dhs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}
