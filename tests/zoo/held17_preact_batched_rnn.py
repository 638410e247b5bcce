"""A vanilla RNN on the built-in ``cs231n`` layout, written by someone who keeps every
pre-activation in one array and computes the weight gradients after the loop with one
reshaped matmul each: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,),

    A[:, t] = x[:, t] @ Wx + h_{t-1} @ Wh + b        h[:, t] = tanh(A[:, t])

The backward loop only carries the gradient and fills dA (N, T, H), using tanh' from the
pre-activation (1 - tanh(A) ** 2); then dWx = x.reshape(-1, D).T @ dA.reshape(-1, H) and
dWh the same with the shifted states hprev = [h0, h_0 .. h_{T-2}]. Seventeenth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "tanh_grad_at_h": "derivative_wrong_point",           # 1 - np.tanh(h[:, t]) ** 2: tanh of the output again
    "sech_not_squared": "derivative_miswritten",          # 1 / np.cosh(A[:, t]) for 1 / np.cosh(A[:, t]) ** 2
    "dA_equals_dcur": "derivative_missing",               # dA[:, t] = dcur
    "hprev_not_shifted": "wrong_time",                    # hprev = h (h_t paired with dA_t in dWh)
    "dWh_from_step_one": "term_dropped",                  # dWh = h[:, :-1]... @ dA[:, 1:]: step 0's h0 term left out
    "carry_replaces_dh": "carry_overwrites",              # dcur = dprev below the last step (dh[:, t] lost)
    "db_mean_over_time": "reduction_scaled",              # db = dA.sum(axis=0).mean(axis=0)
    "range_stops_at_one": "loop_skips_step",              # for t in range(T - 1, 0, -1): step 0 never visited
    "tanh_out_into_A": "inplace_corruption",              # np.tanh(A[:, t], out=A[:, t]): A then holds tanh(A)
    "forward_h0_ignored": "forward_mistake",              # the first step uses zeros for h0; backward gives dh0 = 0
    "loop_runs_forward": "loop_direction",                # for t in range(T): the carry goes forward in time
    "carry_reset_every_2": "truncated_bptt",              # dprev = 0 after every second step (chunks of 2)
    "dh0_is_dA0": "wrong_value",                          # dh0 = dA[:, 0] (not dA[:, 0] @ Wh.T)
    "sech_and_hprev": "unknown",                          # sech_not_squared and hprev_not_shifted together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "tanh_grad_at_h": "",
    "sech_not_squared": "",
    "dA_equals_dcur": "",
    "hprev_not_shifted": "",
    "dWh_from_step_one": "",
    "carry_replaces_dh": "",
    "db_mean_over_time": "",
    "range_stops_at_one": "",
    "tanh_out_into_A": "",
    "forward_h0_ignored": "",
    "loop_runs_forward": "",
    "carry_reset_every_2": "",
    "dh0_is_dA0": "",
    "sech_and_hprev": "",
}


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def rnn_forward(x, h0, Wx, Wh, b):
        N, T, _ = x.shape
        H = Wh.shape[0]
        A = np.empty((N, T, H), dtype=x.dtype)
        h = np.empty((N, T, H), dtype=x.dtype)
        prev = np.zeros_like(h0) if bug == "forward_h0_ignored" else h0
        for t in range(T):
            A[:, t] = x[:, t] @ Wx + prev @ Wh + b
            if bug == "tanh_out_into_A":
                h[:, t] = np.tanh(A[:, t], out=A[:, t])
            else:
                h[:, t] = np.tanh(A[:, t])
            prev = h[:, t]
        return h, (x, h0, h, A, Wx, Wh)

    def rnn_backward(dh, cache):
        x, h0, h, A, Wx, Wh = cache
        N, T, H = dh.shape
        D = x.shape[2]
        dA = np.zeros_like(dh)
        dprev = np.zeros((N, H), dtype=dh.dtype)
        if bug == "range_stops_at_one":
            steps = range(T - 1, 0, -1)
        elif bug == "loop_runs_forward":
            steps = range(T)
        else:
            steps = range(T - 1, -1, -1)
        for t in steps:
            dcur = dh[:, t] + dprev
            if bug == "carry_replaces_dh" and t < T - 1:
                dcur = dprev
            if bug == "tanh_grad_at_h":
                dA[:, t] = dcur * (1 - np.tanh(h[:, t]) ** 2)
            elif bug in ("sech_not_squared", "sech_and_hprev"):
                dA[:, t] = dcur / np.cosh(A[:, t])
            elif bug == "dA_equals_dcur":
                dA[:, t] = dcur
            else:
                dA[:, t] = dcur * (1 - np.tanh(A[:, t]) ** 2)
            dprev = dA[:, t] @ Wh.T
            if bug == "carry_reset_every_2" and t % 2 == 1:
                dprev = np.zeros_like(dprev)
        dh0 = dA[:, 0] if bug == "dh0_is_dA0" else dprev
        if bug == "forward_h0_ignored":
            dh0 = np.zeros_like(dprev)
            hprev = np.concatenate([np.zeros_like(h0)[:, None], h[:, :-1]], axis=1)
        elif bug in ("hprev_not_shifted", "sech_and_hprev"):
            hprev = h
        else:
            hprev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
        dWx = x.reshape(-1, D).T @ dA.reshape(-1, H)
        if bug == "dWh_from_step_one":
            dWh = h[:, :-1].reshape(-1, H).T @ dA[:, 1:].reshape(-1, H)
        else:
            dWh = hprev.reshape(-1, H).T @ dA.reshape(-1, H)
        db = dA.sum(axis=0).mean(axis=0) if bug == "db_mean_over_time" else dA.sum(axis=(0, 1))
        dx = dA @ Wx.T
        return dx, dh0, dWx, dWh, db

    return rnn_forward, rnn_backward, {"cell": "rnn", "layout": "cs231n"}
