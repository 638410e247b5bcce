"""An LSTM whose four gates come from one helper called four times, with a weight dict
keyed by gate: W_i, U_i, b_i (input), W_f, U_f, b_f, W_c, U_c, b_c (the candidate), W_o,
U_o, b_o, each applied as x @ W_k + h @ U_k + b_k. Batch-major x (N, T, D), h0 and c0 given;
one dict per step in the cache; the backward accumulates every gradient into a grads dict
with setdefault and returns a dict:

    i = s(gate("i")) f = s(gate("f")) cc = tanh(gate("c")) o = s(gate("o"))
    c_t = f c_(t-1) + i cc        h_t = o tanh(c_t)

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_with_c": "wrong_value",                       # do = dh_t * c for dh_t * tanh(c)
    "dc_no_tanh_grad": "derivative_missing",          # dc = dc_next + dh_t * o
    "df_with_new_c": "wrong_time",                    # df = dc * c (c_t for c_(t-1))
    "c_carry_dropped": "carry_dropped",               # dc = dh_t * o * (1 - tc**2): dc_next never added
    "dU_assigned": "carry_overwrites",                # grads["dU_k"] = ... (= for the setdefault +=)
    "dh_prev_U_untransposed": "weight_transposed",    # dh_prev += da @ U_k for da @ U_k.T
    "dh_prev_f_uses_U_i": "wrong_weight",             # the f term of dh_prev multiplies U_i.T (copy-paste)
    "da_o_tanh_grad": "derivative_wrong_function",    # da_o = do * (1 - o**2)
    "gates_zipped_ifoc": "gate_order",                # zip("ifco", [da_i, da_f, da_o, da_c]): c and o swapped
    "db_mean": "reduction_scaled",                    # db_k = da.mean(0) for sum
    "c_updated_in_place": "inplace_corruption",       # c *= f; c += i * cc: every cached c is one buffer
    "dU_f_transposed": "gradient_transposed",         # dU_f from da_f.T @ h_prev (for h_prev.T @ da_f)
    "di_sigmoid_grad_twice": "derivative_twice",      # di = dc * cc * i * (1 - i), then da_i = di * i * (1 - i)
    "forward_h_without_tanh": "forward_mistake",      # h = o * c; do = dh_t * c, dc += dh_t * o (consistent)
    "do_with_c_and_df_new_c": "unknown",              # two at once: do = dh_t * c and df = dc * c_t
}

TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "do_with_c": "o",
    "dc_no_tanh_grad": "ifg",
    "df_with_new_c": "f",
    "c_carry_dropped": "",
    "dU_assigned": "",
    "dh_prev_U_untransposed": "",
    "dh_prev_f_uses_U_i": "",
    "da_o_tanh_grad": "o",
    "gates_zipped_ifoc": "go",
    "db_mean": "",
    "c_updated_in_place": "f",
    "dU_f_transposed": "f",
    "di_sigmoid_grad_twice": "i",
    "forward_h_without_tanh": "",
    "do_with_c_and_df_new_c": "fo",
}

GATES = "ifco"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gate(p, k, x, h, act):
    return act(x @ p["W_" + k] + h @ p["U_" + k] + p["b_" + k])


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, p):
        N, T, _ = x.shape
        hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
        h, c = h0, c0.copy()
        steps = []
        for t in range(T):
            x_t = x[:, t]
            i, f = gate(p, "i", x_t, h, sigmoid), gate(p, "f", x_t, h, sigmoid)
            cc, o = gate(p, "c", x_t, h, np.tanh), gate(p, "o", x_t, h, sigmoid)
            c_prev = c
            if bug == "c_updated_in_place":
                c *= f
                c += i * cc
            else:
                c = f * c + i * cc
            h_prev = h
            h = o * c if bug == "forward_h_without_tanh" else o * np.tanh(c)
            hs[:, t] = h
            steps.append({"x": x_t, "h_prev": h_prev, "c_prev": c_prev, "c": c, "i": i, "f": f, "cc": cc, "o": o})
        return hs, (steps, p)

    def backward(dh, cache):
        steps, p = cache
        N, T, H = dh.shape
        grads = {}

        def acc(name, value):
            grads.setdefault(name, np.zeros_like(value))
            grads[name] += value

        dx = np.zeros((N, T, p["W_i"].shape[0]), dtype=dh.dtype)
        dh_next, dc_next = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            s = steps[t]
            i, f, cc, o, c = s["i"], s["f"], s["cc"], s["o"], s["c"]
            dh_t = dh[:, t] + dh_next
            tc = np.tanh(c)
            if bug == "forward_h_without_tanh":
                do, dc_local = dh_t * c, dh_t * o
            else:
                do = dh_t * c if bug in ("do_with_c", "do_with_c_and_df_new_c") else dh_t * tc
                dc_local = dh_t * o if bug == "dc_no_tanh_grad" else dh_t * o * (1 - tc ** 2)
            dc = dc_local if bug == "c_carry_dropped" else dc_next + dc_local
            di = dc * cc * i * (1 - i) if bug == "di_sigmoid_grad_twice" else dc * cc
            df = dc * (c if bug in ("df_with_new_c", "do_with_c_and_df_new_c") else s["c_prev"])
            dcc = dc * i
            dc_next = dc * f
            das = {"i": di * i * (1 - i), "f": df * f * (1 - f), "c": dcc * (1 - cc ** 2),
                   "o": do * (1 - o ** 2) if bug == "da_o_tanh_grad" else do * o * (1 - o)}
            order = zip("ifco", [das["i"], das["f"], das["o"], das["c"]]) if bug == "gates_zipped_ifoc" \
                else das.items()
            dh_prev = dh_t * 0
            for k, da in order:
                acc("dW_" + k, s["x"].T @ da)
                if bug == "dU_assigned":
                    grads["dU_" + k] = s["h_prev"].T @ da
                elif bug == "dU_f_transposed" and k == "f":
                    acc("dU_" + k, da.T @ s["h_prev"])
                else:
                    acc("dU_" + k, s["h_prev"].T @ da)
                acc("db_" + k, da.mean(axis=0) if bug == "db_mean" else da.sum(axis=0))
                dx[:, t] += da @ p["W_" + k].T
                U = p["U_i"] if (bug == "dh_prev_f_uses_U_i" and k == "f") else p["U_" + k]
                dh_prev += da @ (U if bug == "dh_prev_U_untransposed" else U.T)
            dh_next = dh_prev
        out = {"dx": dx, "dh0": dh_next, "dc0": dc_next}
        out.update({f"d{w}_{k}": grads.get(f"d{w}_{k}", np.zeros_like(p[f"{w}_{k}"])) for k in GATES for w in "WUb"})
        return out

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}


_CANON = {"i": 0, "f": 1, "c": 2, "o": 3}                # the user's gate -> torch's block (i, f, g, o)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for k in GATES:
        rows = slice(_CANON[k] * H, (_CANON[k] + 1) * H)
        out.update({"W_" + k: p["weight_ih"][rows].T, "U_" + k: p["weight_hh"][rows].T, "b_" + k: b[rows]})
    return out


def to_canonical(cell, grads, p):
    out = {}
    for name, stem in (("dweight_ih", "dW_"), ("dweight_hh", "dU_")):
        if all(stem + k in grads for k in GATES):
            out[name] = np.concatenate([grads[stem + k].T for k in sorted(GATES, key=_CANON.get)])
    if all("db_" + k in grads for k in GATES):
        out["dbias_ih"] = np.concatenate([grads["db_" + k] for k in sorted(GATES, key=_CANON.get)])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gate_helper_lstm", cells=("lstm",), weights_as="dict",
                               gate_order="ifco", gate_letters={"c": "g"})
