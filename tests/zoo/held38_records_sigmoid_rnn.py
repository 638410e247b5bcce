"""A beginner's sigmoid RNN in Karpathy's layout (one example at a time, column vectors): the
forward appends one record (a dict) per step to a list with a hand-kept counter, the backward
copies the list, reverses it and walks it, recomputing the pre-activation of every step
"to check". Print-debugging behind DEBUG.

    h_t = sigmoid(Wxh x_t + Whh h_(t-1) + bh)      x (T, D, 1), h0 (H, 1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import copy

import numpy as np

DEBUG = False

BUGS = {
    "reversed_twice": "loop_direction",              # records.reverse() and then reversed(records)
    "dsig_as_dtanh": "derivative_wrong_function",    # 1 - h**2 for the sigmoid
    "dsig_of_preact": "derivative_wrong_point",      # a * (1 - a) on the recomputed pre-activation
    "dsig_forgotten": "derivative_missing",          # da = dh_total
    "dsig_one_minus_h": "derivative_miswritten",     # (1 - h)
    "dsig_sign": "wrong_sign",                       # h * (h - 1)
    "dhnext_not_added": "carry_dropped",             # dh_total = dh[t]
    "dWxh_next_record_x": "wrong_time",              # x of record counter + 1 (wrapping)
    "Whh_not_transposed": "weight_transposed",       # Whh @ da
    "dWhh_transposed": "gradient_transposed",        # h_prev @ da.T
    "dbh_assigned": "carry_overwrites",              # dbh = da
    "cache_aliases_h": "inplace_corruption",         # h updated in place: every record holds the last h
    "x_counter_off_by_one": "forward_mistake",       # the forward reads x[counter - 1]; backward consistent
}

TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def forward(x, h0, Wxh, Whh, bh, bug=None):
    T = x.shape[0]
    H = h0.shape[0]
    records = []
    hs = np.zeros((T, H, 1), dtype=x.dtype)
    h = h0.copy()
    counter = 0
    for t in range(T):
        idx = counter - 1 if bug == "x_counter_off_by_one" else counter     # wraps to T - 1 at t = 0
        x_t = x[idx].copy()
        h_prev = h if bug == "cache_aliases_h" else h.copy()
        a = np.dot(Wxh, x_t) + np.dot(Whh, h_prev) + bh
        if bug == "cache_aliases_h":
            h[:] = sigmoid(a)                # "save memory": overwrite h in place
        else:
            h = sigmoid(a)
        records.append({"t": counter, "x_idx": idx % T, "x": x_t, "h_prev": h_prev, "h": h.copy()})
        hs[t] = h
        if DEBUG:
            print("record", counter, "h[:3]", h[:3, 0])
        counter += 1
    cache = {"records": records, "Wxh": Wxh.copy(), "Whh": Whh.copy(), "bh": bh.copy(), "T": T}
    return hs, cache


def backward(dh, cache, bug=None):
    records = copy.deepcopy(cache["records"])
    Wxh, Whh, bh = cache["Wxh"], cache["Whh"], cache["bh"]
    T = cache["T"]
    D = Wxh.shape[1]
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dx = np.zeros((T, D, 1), dtype=dh.dtype)
    dhnext = np.zeros_like(records[0]["h"])
    records.reverse()                                   # last step first
    walk = reversed(records) if bug == "reversed_twice" else records
    for rec in walk:
        t = rec["t"]
        h, h_prev, x_t = rec["h"], rec["h_prev"], rec["x"]
        a = np.dot(Wxh, x_t) + np.dot(Whh, h_prev) + bh          # recomputed
        if DEBUG:
            print("back", t, "check", np.abs(sigmoid(a) - h).max())
        dh_total = dh[t].copy() if bug == "dhnext_not_added" else dh[t] + dhnext
        if bug == "dsig_as_dtanh":
            da = dh_total * (1 - h * h)
        elif bug == "dsig_of_preact":
            da = dh_total * a * (1 - a)
        elif bug == "dsig_forgotten":
            da = dh_total
        elif bug == "dsig_one_minus_h":
            da = dh_total * (1 - h)
        elif bug == "dsig_sign":
            da = dh_total * h * (h - 1)
        else:
            da = dh_total * h * (1 - h)
        if bug == "dWxh_next_record_x":
            x_for_dW = cache["records"][(t + 1) % T]["x"]
        else:
            x_for_dW = x_t
        dWxh += np.dot(da, x_for_dW.T)
        if bug == "dWhh_transposed":
            dWhh += np.dot(h_prev, da.T)
        else:
            dWhh += np.dot(da, h_prev.T)
        if bug == "dbh_assigned":
            dbh = da.copy()
        else:
            dbh += da
        dx[rec["x_idx"]] += np.dot(Wxh.T, da)
        if bug == "Whh_not_transposed":
            dhnext = np.dot(Whh, da)
        else:
            dhnext = np.dot(Whh.T, da)
    dh0 = dhnext
    return dx, dh0, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)
    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}
