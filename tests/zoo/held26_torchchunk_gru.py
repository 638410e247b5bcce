"""A GRU ported line by line from torch's Python-level GRU cell (the one in torch's own JIT
tests): ``weight_ih`` (3H, D), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H,) under
torch's names and in torch's gate order r, z, n, each product split in three with
``np.split`` as ``.chunk(3, 1)`` does, and the keep-old form of the update:

    gi = x @ weight_ih.T + bias_ih       gh = hx @ weight_hh.T + bias_hh
    i_r, i_i, i_n = chunk(gi)            h_r, h_i, h_n = chunk(gh)
    resetgate = sigmoid(i_r + h_r)       inputgate = sigmoid(i_i + h_i)
    newgate = tanh(i_n + resetgate * h_n)
    hy = newgate + inputgate * (hx - newgate)

batch_first x (N, T, D). The backward is hand-written gate by gate with d_ names and
assembles d_gi, d_gh with np.concatenate. Option ``reset_after=True``. Twenty-sixth held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "d_inputgate_sign": "wrong_sign",                     # d_inputgate = d_hy * (newgate - hx)
    "d_hx_without_direct_path": "term_dropped",           # d_hx = d_gh @ weight_hh (d_hy * inputgate left out)
    "d_inputgate_with_hy": "wrong_time",                  # d_hy * (hy - newgate): h_t for h_(t-1)
    "newgate_grad_at_hy": "derivative_wrong_point",       # d_i_n = d_newgate * (1 - hy ** 2) (also wrong_value)
    "inputgate_grad_parens": "derivative_miswritten",     # inputgate * 1 - inputgate
    "carry_n_chunk_of_z": "wrong_weight",                 # d_h_n @ w_hz in d_hx (the z chunk for n)
    "carry_r_chunk_transposed": "weight_transposed",      # d_h_r @ w_hr.T in d_hx
    "carry_from_grad_weight": "gradient_for_weight",      # d_hx = d_hy * inputgate + d_gh @ grad_weight_hh
    "grad_w_hn_transposed": "gradient_transposed",        # grad_weight_hh[2H:] += hx.T @ d_h_n
    "driver_drops_carry": "carry_dropped",                # d_hy = dh[:, t] (the carried d_hx never added)
    "d_h_n_times_inputgate": "wrong_value",               # d_h_n = d_i_n * inputgate (z read for r)
    "carry_norm_rescaled": "gradient_clipped",            # d_hx rescaled to norm 0.5 when larger
    "forward_cho_update": "forward_mistake",              # hy = (1 - inputgate) * hx + inputgate * newgate; consistent
    "one_minus_n_sq_in_place": "inplace_corruption",      # tmp = newgate; tmp *= -newgate; tmp += 1: cached n changed
    "sign_and_direct_path": "unknown",                    # d_inputgate sign and direct path wrong: two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "d_inputgate_sign": "z",
    "d_hx_without_direct_path": "",
    "d_inputgate_with_hy": "z",
    "newgate_grad_at_hy": "rn",
    "inputgate_grad_parens": "z",
    "carry_n_chunk_of_z": "",
    "carry_r_chunk_transposed": "",
    "carry_from_grad_weight": "",
    "grad_w_hn_transposed": "n",
    "driver_drops_carry": "",
    "d_h_n_times_inputgate": "n",
    "carry_norm_rescaled": "",
    "forward_cho_update": "",
    "one_minus_n_sq_in_place": "z",
    "sign_and_direct_path": "z",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_cell(x, hx, weight_ih, weight_hh, bias_ih, bias_hh, bug=None):
    gi = x @ weight_ih.T + bias_ih
    gh = hx @ weight_hh.T + bias_hh
    i_r, i_i, i_n = np.split(gi, 3, axis=1)
    h_r, h_i, h_n = np.split(gh, 3, axis=1)
    resetgate = sigmoid(i_r + h_r)
    inputgate = sigmoid(i_i + h_i)
    newgate = np.tanh(i_n + resetgate * h_n)
    if bug == "forward_cho_update":
        hy = (1 - inputgate) * hx + inputgate * newgate
    else:
        hy = newgate + inputgate * (hx - newgate)
    return hy, (x, hx, resetgate, inputgate, newgate, h_n, hy)


def gru_cell_backward(d_hy, saved, weight_ih, weight_hh, bug=None):
    x, hx, resetgate, inputgate, newgate, h_n, hy = saved
    w_hr, w_hz, w_hn = np.split(weight_hh, 3, axis=0)
    cho = bug == "forward_cho_update"
    d_newgate = d_hy * inputgate if cho else d_hy * (1 - inputgate)
    if bug == "newgate_grad_at_hy":
        d_i_n = d_newgate * (1 - hy ** 2)
    elif bug == "one_minus_n_sq_in_place":
        tmp = newgate
        tmp *= -newgate
        tmp += 1
        d_i_n = d_newgate * tmp
    else:
        d_i_n = d_newgate * (1 - newgate ** 2)
    if cho or bug in ("d_inputgate_sign", "sign_and_direct_path"):
        d_inputgate = d_hy * (newgate - hx)
    elif bug == "d_inputgate_with_hy":
        d_inputgate = d_hy * (hy - newgate)
    else:
        d_inputgate = d_hy * (hx - newgate)
    d_hx = d_hy * (1 - inputgate) if cho else d_hy * inputgate
    d_h_n = d_i_n * (inputgate if bug == "d_h_n_times_inputgate" else resetgate)
    d_i_r = d_i_n * h_n * resetgate * (1 - resetgate)
    if bug == "inputgate_grad_parens":
        d_i_i = d_inputgate * (inputgate * 1 - inputgate)
    else:
        d_i_i = d_inputgate * inputgate * (1 - inputgate)
    d_gi = np.concatenate([d_i_r, d_i_i, d_i_n], axis=1)
    d_gh = np.concatenate([d_i_r, d_i_i, d_h_n], axis=1)
    grad_weight_ih = d_gi.T @ x
    grad_weight_hh = d_gh.T @ hx
    if bug == "grad_w_hn_transposed":
        H = hx.shape[1]
        grad_weight_hh[2 * H:] = hx.T @ d_h_n
    d_x = d_gi @ weight_ih
    if bug in ("d_hx_without_direct_path", "sign_and_direct_path"):
        d_hx = d_gh @ weight_hh
    elif bug == "carry_n_chunk_of_z":
        d_hx = d_hx + d_i_r @ w_hr + d_i_i @ w_hz + d_h_n @ w_hz
    elif bug == "carry_r_chunk_transposed":
        d_hx = d_hx + d_i_r @ w_hr.T + d_i_i @ w_hz + d_h_n @ w_hn
    elif bug == "carry_from_grad_weight":
        d_hx = d_hx + d_gh @ grad_weight_hh
    else:
        d_hx = d_hx + d_gh @ weight_hh
    return d_x, d_hx, grad_weight_ih, grad_weight_hh, d_gi.sum(axis=0), d_gh.sum(axis=0)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
        hx, out, saved = h0, [], []
        for t in range(x.shape[1]):
            hx, s = gru_cell(x[:, t], hx, weight_ih, weight_hh, bias_ih, bias_hh, bug)
            out.append(hx)
            saved.append(s)
        return np.stack(out, axis=1), (saved, weight_ih, weight_hh)

    def backward(dh, cache):
        saved, weight_ih, weight_hh = cache
        N, T, H = dh.shape
        grads = [np.zeros_like(weight_ih), np.zeros_like(weight_hh),
                 np.zeros(3 * H, dh.dtype), np.zeros(3 * H, dh.dtype)]
        dx = np.zeros((N, T, weight_ih.shape[1]), dtype=dh.dtype)
        d_hx = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            d_hy = dh[:, t] if bug == "driver_drops_carry" else dh[:, t] + d_hx
            dx[:, t], d_hx, *step = gru_cell_backward(d_hy, saved[t], weight_ih, weight_hh, bug)
            for acc, g in zip(grads, step):
                acc += g
            if bug == "carry_norm_rescaled":
                norm = np.linalg.norm(d_hx)
                if norm > 0.5:
                    d_hx = d_hx * (0.5 / norm)
        return (dx, d_hx, *grads)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    return {k: np.array(p[k]) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def to_canonical(cell, grads, p):
    return {"d" + k: grads["d" + k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if "d" + k in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_chunk_gru", cells=("gru",), gate_order="rzn")
