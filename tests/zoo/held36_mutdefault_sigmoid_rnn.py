"""A min-char-rnn-style sigmoid RNN from a notebook (karpathy layout: one example at a time,
column vectors): the activation and its derivative are globals set in an earlier cell
(``act``, ``dact``), the sigmoid is the numerically stable np.where form with the
pre-activation clipped to [-60, 60] (never reached on a probe), and the functions keep their
per-step dicts in mutable default arguments, cleared by hand at the top of each call.

    h_t = sigmoid(Wxh x_t + Whh h_(t-1) + bh)     x (T, D, 1), h0 (H, 1)

Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dsig_one_minus_h": "derivative_miswritten",       # dhraw = (1 - hs[t]) * dh
    "stale_dact_tanh": "derivative_wrong_function",    # dact left as tanh's 1 - h**2 from an earlier cell
    "dsig_at_preact": "derivative_wrong_point",        # dact(ps[t]) on the pre-activation
    "Whh_not_transposed": "weight_transposed",         # dhnext = Whh @ dhraw
    "dWhh_outer_swapped": "gradient_transposed",       # dWhh += hs[t - 1] @ dhraw.T
    "dWhh_hs_t": "wrong_time",                         # hs[t] for hs[t - 1]
    "dx_from_dWxh": "gradient_for_weight",             # dxs[t] = dWxh.T @ dhraw
    "dhnext_not_added": "carry_dropped",               # dh = dy[t]
    "dbh_assigned": "carry_overwrites",                # dbh = dhraw
    "loop_len_ps_minus_one": "loop_skips_step",        # reversed(range(len(ps) - 1))
    "dhnext_clipped": "gradient_clipped",              # np.clip(dhnext, -0.02, 0.02) every step
    "dWxh_mean_T": "reduction_scaled",                 # dWxh / len(xs)
    "dsig_twice": "derivative_twice",                  # dhraw scaled by dact(h) once more
    "tanh_cell_rerun": "forward_mistake",              # act/dact re-run as tanh: forward and backward agree
}
TOUCHES = {b: "" for b in BUGS}


# In[1]:
def sigmoid(z):
    z = np.clip(z, -60, 60)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def dsigmoid(h):                # in terms of the output
    return h * (1 - h)


def dtanh(h):
    return 1 - h * h


act, dact = sigmoid, dsigmoid


# In[2]:
def forward(x, h0, Wxh, Whh, bh, hs={}, ps={}):
    hs.clear()
    ps.clear()
    hs[-1] = np.copy(h0)
    for t in range(len(x)):
        ps[t] = Wxh @ x[t] + Whh @ hs[t - 1] + bh
        hs[t] = act(ps[t])
    h = np.stack([hs[t] for t in range(len(x))])
    return h, {"xs": x, "hs": dict(hs), "ps": dict(ps), "W": (Wxh, Whh, bh)}


# In[3]:
def backward(dy, cache, grads={}, bug=None):
    xs, hs, ps = cache["xs"], cache["hs"], cache["ps"]
    Wxh, Whh, bh = cache["W"]
    grads.clear()
    grads.update(dWxh=np.zeros_like(Wxh), dWhh=np.zeros_like(Whh), dbh=np.zeros_like(bh))
    dxs = np.zeros_like(xs)
    dhnext = np.zeros_like(hs[0])
    ts = reversed(range(len(ps) - 1)) if bug == "loop_len_ps_minus_one" else reversed(range(len(ps)))
    for t in ts:
        dh = dy[t] if bug == "dhnext_not_added" else dy[t] + dhnext
        if bug == "dsig_one_minus_h":
            dhraw = (1 - hs[t]) * dh
        elif bug == "dsig_at_preact":
            dhraw = dact(ps[t]) * dh
        else:
            dhraw = dact(hs[t]) * dh
        if bug == "dsig_twice":
            dhraw = dact(hs[t]) * dhraw
        grads["dWxh"] += dhraw @ xs[t].T
        if bug == "dWhh_outer_swapped":
            grads["dWhh"] += hs[t - 1] @ dhraw.T
        else:
            grads["dWhh"] += dhraw @ (hs[t] if bug == "dWhh_hs_t" else hs[t - 1]).T
        if bug == "dbh_assigned":
            grads["dbh"] = dhraw
        else:
            grads["dbh"] += dhraw
        dxs[t] = (grads["dWxh"] if bug == "dx_from_dWxh" else Wxh).T @ dhraw
        dhnext = (Whh if bug == "Whh_not_transposed" else Whh.T) @ dhraw
        if bug == "dhnext_clipped":
            np.clip(dhnext, -0.02, 0.02, out=dhnext)
    if bug == "dWxh_mean_T":
        grads["dWxh"] = grads["dWxh"] / len(xs)
    return dxs, dhnext, grads["dWxh"], grads["dWhh"], grads["dbh"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        global act, dact
        act, dact = (np.tanh, dtanh) if bug == "tanh_cell_rerun" else (sigmoid, dsigmoid)
        return forward(x, h0, Wxh, Whh, bh)

    def bwd(dy, cache):
        global act, dact
        act, dact = (np.tanh, dtanh) if bug in ("tanh_cell_rerun", "stale_dact_tanh") else (sigmoid, dsigmoid)
        return backward(dy, cache, bug=bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}
