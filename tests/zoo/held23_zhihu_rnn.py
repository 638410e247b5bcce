"""An RNN as a Zhihu answer ("RNN 反向传播推导") writes it: U (H, D) the input weights, W
(H, H) the recurrent weights, b (H,), the states s_t kept in a dict keyed by t with s[-1]
the initial state, and the backward written in the derivation's terms: the error term

    delta_t = (dL/ds_t + W^T delta_(t+1)) * (1 - s_t^2)

collected for every t first, the weight gradients summed over the deltas afterwards
(dW = sum_t delta_t^T s_(t-1)). Batch-first x (N, T, D), s0 (N, H), row vectors
(s_t = tanh(x_t U^T + s_(t-1) W^T + b)). Twenty-third held-out zoo: written without reading
the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "delta_tanh_at_net": "derivative_wrong_point",      # delta = ds * (1 - net[t] ** 2): tanh' at the pre-activation
    "dW_sum_with_s_t": "wrong_time",                     # dW = sum delta_t^T s_t (s[t] for s[t - 1])
    "carry_W_transposed": "weight_transposed",           # back_s = delta @ W.T (W^T delta written as delta W^T)
    "only_last_step_loss": "carry_overwrites",           # ds = dh[:, T-1] at the last step, else only back_s (many-to-one)
    "delta_sign": "wrong_sign",                          # delta = ds * (s[t] ** 2 - 1)
    "db_np_mean": "reduction_scaled",                    # db = delta.mean(axis=0) summed over t (np.mean for np.sum)
    "t_loop_forward": "loop_direction",                  # for t in range(T): the error terms walked forward in time
    "bptt_truncate_2": "truncated_bptt",                 # back_s zeroed once two steps have been walked back
    "tanh_grad_in_place": "inplace_corruption",          # g = s[t]; g **= 2 in the loop: the cached s[t] becomes s^2
    "forward_W_untransposed": "forward_mistake",         # s_t = tanh(x U^T + s_(t-1) W + b); backward consistent
    "carry_typo": "carry_dropped",                       # back_S = delta @ W (capital S): back_s stays zero
    "dx_from_dU": "gradient_for_weight",                 # dx_t = delta_t @ dU (dU, summed just before, for U)
    "carry_decay_0_9": "unknown",                        # back_s = 0.9 * delta @ W (an arbitrary "decay")
}

TOUCHES = {b: "" for b in BUGS}                          # an RNN has no gates (blind_index.touched_gates)


def forward(x, s0, U, W, b, bug=None):
    """x (N, T, D), s0 (N, H) -> s (N, T, H), cache."""
    N, T, D = x.shape
    s, net = {-1: s0}, {}
    for t in range(T):
        Ws = s[t - 1] @ (W if bug == "forward_W_untransposed" else W.T)
        net[t] = x[:, t] @ U.T + Ws + b
        s[t] = np.tanh(net[t])
    states = np.stack([s[t] for t in range(T)], axis=1)
    return states, {"x": x, "s": s, "net": net, "U": U, "W": W, "T": T}


def backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, ds0, dU, dW, db."""
    x, s, net, U, W, T = (cache[k] for k in ("x", "s", "net", "U", "W", "T"))
    delta = {}
    back_s = np.zeros_like(s[-1])                        # W^T delta_(t+1), the gradient s_t gets from step t+1
    order = range(T) if bug == "t_loop_forward" else reversed(range(T))
    for t in order:
        if bug == "only_last_step_loss":
            ds = dh[:, t] if t == T - 1 else back_s
        else:
            ds = dh[:, t] + back_s
        if bug == "delta_tanh_at_net":
            delta[t] = ds * (1 - net[t] ** 2)
        elif bug == "delta_sign":
            delta[t] = ds * (s[t] ** 2 - 1)
        elif bug == "tanh_grad_in_place":
            g = s[t]
            g **= 2
            delta[t] = ds * (1 - g)
        else:
            delta[t] = ds * (1 - s[t] ** 2)
        Wmat = W.T if bug in ("carry_W_transposed", "forward_W_untransposed") else W
        if bug == "carry_typo":
            back_S = delta[t] @ Wmat                     # noqa: F841 (the typo)
        elif bug == "carry_decay_0_9":
            back_s = 0.9 * delta[t] @ Wmat
        else:
            back_s = delta[t] @ Wmat
        if bug == "bptt_truncate_2" and t == T - 2:
            back_s = np.zeros_like(back_s)
    dU = sum(delta[t].T @ x[:, t] for t in range(T))
    if bug == "dW_sum_with_s_t":
        dW = sum(delta[t].T @ s[t] for t in range(T))
    elif bug == "forward_W_untransposed":
        dW = sum(s[t - 1].T @ delta[t] for t in range(T))
    else:
        dW = sum(delta[t].T @ s[t - 1] for t in range(T))
    if bug == "db_np_mean":
        db = sum(delta[t].mean(axis=0) for t in range(T))
    else:
        db = sum(delta[t].sum(axis=0) for t in range(T))
    dx = np.stack([delta[t] @ (dU if bug == "dx_from_dU" else U) for t in range(T)], axis=1)
    return dx, back_s, dU, dW, db


def to_user(cell, p):
    return {"U": np.array(p["weight_ih"]), "W": np.array(p["weight_hh"]), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dU": "dweight_ih", "dW": "dweight_hh", "db": "dbias_ih"}
    return {q: grads[u] for u, q in names.items() if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="zhihu_rnn", cells=("rnn",), names={"h": "s"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, s0, U, W, b):
        return forward(x, s0, U, W, b, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT}
