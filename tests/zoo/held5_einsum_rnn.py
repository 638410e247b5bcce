"""A vanilla RNN written with np.einsum, time-major as a sequence library stores it: x (T, N, D),
h0 (N, H) -> hs (T, N, H), with Wxh (D, H), Whh (H, H) applied from the right and one bias
bh (H,) (= torch's bias_ih + bias_hh):

    a_t = einsum("nd,dh->nh", x_t, Wxh) + einsum("nk,kh->nh", h_(t-1), Whh) + bh
    h_t = tanh(a_t)

The forward keeps the states in a list that starts with h0 (states[t] is h_(t-1),
states[t + 1] is h_t) and writes the outputs into a preallocated (T, N, H) array; the
backward is einsum throughout. Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dh_prev_einsum_hk": "weight_transposed",             # einsum("nh,hk->nk", da, Whh): da @ Whh for da @ Whh.T
    "dWhh_einsum_output_hk": "gradient_transposed",       # einsum("nk,nh->hk", ...): dWhh comes out transposed
    "dWhh_from_states_t_plus_1": "wrong_time",            # states[t + 1] (h_t) in dWhh for states[t] (h_(t-1))
    "tanh_grad_of_preactivation": "derivative_wrong_point",  # 1 - a_t ** 2 from the cached pre-activation
    "no_tanh_grad": "derivative_missing",                 # da = dh (tanh' left out everywhere)
    "carry_not_added": "carry_dropped",                   # dh = dhs[t]; the dh_next computed is never added
    "backward_loop_forward_in_time": "loop_direction",    # for t in range(T): the carry flows the wrong way
    "state_updated_in_place": "inplace_corruption",       # h[...] = tanh(...) on one array: every cached state is the last
    "forward_Whh_applied_transposed": "forward_mistake",  # einsum("nk,hk->nh", h, Whh) in the forward; backward consistent
    "wildml_truncate_2": "truncated_bptt",                # each dhs[t] carried back at most 2 steps (bptt_truncate=2)
    "dh_clipped_elementwise": "gradient_clipped",         # np.clip(dh_next, -0.1, 0.1) every step
    "dbh_mean_over_batch": "reduction_scaled",            # dbh += da.mean(axis=0): np.mean for np.sum
    "carry_decay_09": "unknown",                          # dh_next *= 0.9 (a "decay" the author added): a wrong constant
    "no_tanh_grad_in_dWxh_and_dbh_over_T": "unknown",     # two mistakes: dWxh from dh (no tanh') and dbh / T
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_prev_einsum_hk": "",
    "dWhh_einsum_output_hk": "",
    "dWhh_from_states_t_plus_1": "",
    "tanh_grad_of_preactivation": "",
    "no_tanh_grad": "",
    "carry_not_added": "",
    "backward_loop_forward_in_time": "",
    "state_updated_in_place": "",
    "forward_Whh_applied_transposed": "",
    "wildml_truncate_2": "",
    "dh_clipped_elementwise": "",
    "dbh_mean_over_batch": "",
    "carry_decay_09": "",
    "no_tanh_grad_in_dWxh_and_dbh_over_T": "",
}


def rnn_forward(x, h0, Wxh, Whh, bh, bug=None):
    """x (T, N, D), h0 (N, H) -> hs (T, N, H), cache."""
    T, N, _ = x.shape
    hs = np.empty((T, N, h0.shape[1]), dtype=x.dtype)
    rec = "nk,hk->nh" if bug == "forward_Whh_applied_transposed" else "nk,kh->nh"
    states, pre = [h0], []
    h = h0.copy()
    for t in range(T):
        a = np.einsum("nd,dh->nh", x[t], Wxh) + np.einsum(rec, states[-1], Whh) + bh
        if bug == "state_updated_in_place":
            h[...] = np.tanh(a)
            states.append(h)
        else:
            states.append(np.tanh(a))
        hs[t] = states[-1]
        pre.append(a)
    return hs, {"x": x, "states": states, "pre": pre, "Wxh": Wxh, "Whh": Whh}


def _step_back(dh, t, cache, grads, bug):
    """Back through step t given dL/dh_t; accumulates into grads; returns dL/dh_(t-1)."""
    x, states, Wxh, Whh = cache["x"], cache["states"], cache["Wxh"], cache["Whh"]
    if bug == "no_tanh_grad":
        da = dh
    elif bug == "tanh_grad_of_preactivation":
        da = dh * (1 - cache["pre"][t] ** 2)
    else:
        da = dh * (1 - states[t + 1] ** 2)
    grads["dWxh"] += np.einsum("nd,nh->dh", x[t], dh if bug == "no_tanh_grad_in_dWxh_and_dbh_over_T" else da)
    h_prev = states[t + 1] if bug == "dWhh_from_states_t_plus_1" else states[t]
    out_hk = bug in ("dWhh_einsum_output_hk", "forward_Whh_applied_transposed")
    grads["dWhh"] += np.einsum("nk,nh->hk" if out_hk else "nk,nh->kh", h_prev, da)
    grads["dbh"] += da.mean(axis=0) if bug == "dbh_mean_over_batch" else da.sum(axis=0)
    grads["dx"][t] += np.einsum("nh,dh->nd", da, Wxh)
    if bug == "forward_Whh_applied_transposed":
        return np.einsum("nh,hk->nk", da, Whh)
    return np.einsum("nh,hk->nk" if bug == "dh_prev_einsum_hk" else "nh,kh->nk", da, Whh)


def rnn_backward(dhs, cache, bug=None):
    """dhs (T, N, H) -> dx (T, N, D), dh0, dWxh, dWhh, dbh."""
    T, N, H = dhs.shape
    Wxh, Whh = cache["Wxh"], cache["Whh"]
    grads = {"dx": np.zeros(cache["x"].shape, dtype=dhs.dtype), "dWxh": np.zeros_like(Wxh),
             "dWhh": np.zeros_like(Whh), "dbh": np.zeros(H, dtype=dhs.dtype)}
    if bug == "wildml_truncate_2":
        # dennybritz's rnn tutorial: every output's gradient goes back bptt_truncate steps at most
        dh0 = np.zeros((N, H), dtype=dhs.dtype)
        for t in reversed(range(T)):
            dh = dhs[t]
            for step in reversed(range(max(0, t - 2), t + 1)):
                dh = _step_back(dh, step, cache, grads, bug)
            if t - 2 <= 0:
                dh0 += dh
        return grads["dx"], dh0, grads["dWxh"], grads["dWhh"], grads["dbh"]
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    steps = range(T) if bug == "backward_loop_forward_in_time" else reversed(range(T))
    for t in steps:
        dh = dhs[t] if bug == "carry_not_added" else dhs[t] + dh_next
        dh_next = _step_back(dh, t, cache, grads, bug)
        if bug == "dh_clipped_elementwise":
            dh_next = np.clip(dh_next, -0.1, 0.1)
        if bug == "carry_decay_09":
            dh_next *= 0.9
    if bug == "no_tanh_grad_in_dWxh_and_dbh_over_T":
        grads["dbh"] /= T
    return grads["dx"], dh_next, grads["dWxh"], grads["dWhh"], grads["dbh"]


def to_user(cell, p):
    return {"Wxh": p["weight_ih"].T, "Whh": p["weight_hh"].T, "bh": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dWxh" in grads:
        out["dweight_ih"] = grads["dWxh"].T
    if "dWhh" in grads:
        out["dweight_hh"] = grads["dWhh"].T
    if "dbh" in grads:
        out["dbias_ih"] = grads["dbh"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="einsum_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        return rnn_forward(x, h0, Wxh, Whh, bh, bug)

    def backward(dhs, cache):
        return rnn_backward(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}
