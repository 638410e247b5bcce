"""An LSTM whose weights are one Python list of eight matrices and a single bias,
[Wi, Wf, Wg, Wo, Ui, Uf, Ug, Uo, b], as some tutorials hand them around (W* (D, H) on x,
U* (H, H) on h, b (4H,) with blocks i, f, g, o); batch-major, c0 an argument:

    i = s(x Wi + h Ui + b_i)   f = s(x Wf + h Uf + b_f)   g = tanh(x Wg + h Ug + b_g)
    o = s(x Wo + h Uo + b_o)   c = f * c + i * g          h = o * tanh(c)

The backward returns the gradients as one tuple in the list's order. Seventeenth held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dc_without_o": "term_dropped",                       # dc = dc_next + dh * (1 - tanh_c ** 2): the factor o left out
    "do_times_c": "wrong_value",                          # do = dh * c (for dh * tanh(c))
    "dag_sigmoid_grad": "derivative_wrong_function",      # dag = dg * g * (1 - g)
    "df_times_c_t": "wrong_time",                         # df = dc * c (this step's c for c_prev)
    "dh_prev_Ui_for_Uf": "wrong_weight",                  # daf @ Ui.T in dh_prev
    "dh_prev_Ug_untransposed": "weight_transposed",       # dag @ Ug in dh_prev
    "dc_next_never_added": "carry_dropped",               # dc = dh * o * (1 - tanh_c ** 2): the carried dc_next unused
    "db_i_assigned": "carry_overwrites",                  # db[:H] = dai.sum(0) (= for +=) for the i block
    "forward_forget_bias_one": "forget_bias",             # f = s(... + b_f + 1.0) in the forward (a TF habit); the check says 0
    "returned_in_ifog_order": "gate_order",               # the gradient tuple lists dWo, dWg (and dUo, dUg, db's o, g) swapped
    "dx_misses_o_gate": "term_dropped",                   # dx = dai @ Wi.T + daf @ Wf.T + dag @ Wg.T
    "dao_sigmoid_grad_twice": "derivative_twice",         # dao = do * o * (1 - o) * o * (1 - o)
    "tanh_c_times_o_in_place": "inplace_corruption",      # tanh_c *= o to make h: the cached tanh_c is h
    "dc_halved_and_dx_misses_o": "unknown",               # dc_next * 0.5 in dc and dx_misses_o_gate together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dc_without_o": "ifg",
    "do_times_c": "o",
    "dag_sigmoid_grad": "g",
    "df_times_c_t": "f",
    "dh_prev_Ui_for_Uf": "",
    "dh_prev_Ug_untransposed": "",
    "dc_next_never_added": "",
    "db_i_assigned": "",
    "forward_forget_bias_one": "",
    "returned_in_ifog_order": "go",
    "dx_misses_o_gate": "",
    "dao_sigmoid_grad_twice": "o",
    "tanh_c_times_o_in_place": "",
    "dc_halved_and_dx_misses_o": "",
}


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def lstm_forward(x, h0, c0, weights):
        Wi, Wf, Wg, Wo, Ui, Uf, Ug, Uo, b = weights
        H = Ui.shape[0]
        h, c, hs, cache = h0, c0, [], []
        for t in range(x.shape[1]):
            xt = x[:, t]
            i = sig(xt @ Wi + h @ Ui + b[:H])
            f = sig(xt @ Wf + h @ Uf + b[H:2 * H] + (1.0 if bug == "forward_forget_bias_one" else 0.0))
            g = np.tanh(xt @ Wg + h @ Ug + b[2 * H:3 * H])
            o = sig(xt @ Wo + h @ Uo + b[3 * H:])
            c_prev, h_prev = c, h
            c = f * c_prev + i * g
            tanh_c = np.tanh(c)
            if bug == "tanh_c_times_o_in_place":
                tanh_c *= o
                h = tanh_c
            else:
                h = o * tanh_c
            cache.append((xt, h_prev, c_prev, c, i, f, g, o, tanh_c))
            hs.append(h)
        return np.stack(hs, axis=1), (cache, weights)

    def lstm_backward(dh, cache):
        steps, (Wi, Wf, Wg, Wo, Ui, Uf, Ug, Uo, b) = cache
        N, T, H = dh.shape
        dWs = [np.zeros_like(W) for W in (Wi, Wf, Wg, Wo)]
        dUs = [np.zeros_like(U) for U in (Ui, Uf, Ug, Uo)]
        db = np.zeros_like(b)
        dx = np.zeros((N, T, Wi.shape[0]), dtype=dh.dtype)
        dh_next, dc_next = np.zeros((N, H), dh.dtype), np.zeros((N, H), dh.dtype)
        for t in reversed(range(T)):
            xt, h_prev, c_prev, c, i, f, g, o, tanh_c = steps[t]
            dht = dh[:, t] + dh_next
            if bug == "tanh_c_times_o_in_place":
                do = dht * tanh_c
                dc = dc_next + dht * o * (1 - tanh_c ** 2)
            else:
                do = dht * (c if bug == "do_times_c" else tanh_c)
                if bug == "dc_without_o":
                    dc = dc_next + dht * (1 - tanh_c ** 2)
                elif bug == "dc_next_never_added":
                    dc = dht * o * (1 - tanh_c ** 2)
                elif bug == "dc_halved_and_dx_misses_o":
                    dc = 0.5 * dc_next + dht * o * (1 - tanh_c ** 2)
                else:
                    dc = dc_next + dht * o * (1 - tanh_c ** 2)
            di, dg = dc * g, dc * i
            df = dc * (c if bug == "df_times_c_t" else c_prev)
            dai = di * i * (1 - i)
            daf = df * f * (1 - f)
            dag = dg * g * (1 - g) if bug == "dag_sigmoid_grad" else dg * (1 - g ** 2)
            dao = do * o * (1 - o)
            if bug == "dao_sigmoid_grad_twice":
                dao = dao * o * (1 - o)
            das = (dai, daf, dag, dao)
            for k, da in enumerate(das):
                dWs[k] += xt.T @ da
                dUs[k] += h_prev.T @ da
                if bug == "db_i_assigned" and k == 0:
                    db[:H] = da.sum(axis=0)
                else:
                    db[k * H:(k + 1) * H] += da.sum(axis=0)
            dx[:, t] = dai @ Wi.T + daf @ Wf.T + dag @ Wg.T
            if bug not in ("dx_misses_o_gate", "dc_halved_and_dx_misses_o"):
                dx[:, t] += dao @ Wo.T
            dh_next = (dai @ Ui.T + daf @ (Ui if bug == "dh_prev_Ui_for_Uf" else Uf).T
                       + dag @ (Ug if bug == "dh_prev_Ug_untransposed" else Ug.T) + dao @ Uo.T)
            dc_next = dc * f
        if bug == "returned_in_ifog_order":
            dWs = [dWs[0], dWs[1], dWs[3], dWs[2]]
            dUs = [dUs[0], dUs[1], dUs[3], dUs[2]]
            db = np.concatenate([db[:2 * H], db[3 * H:], db[2 * H:3 * H]])
        return (dx, dh_next, dc_next, *dWs, *dUs, db)

    return lstm_forward, lstm_backward, {"cell": "lstm", "layout": LAYOUT}


NAMES = ("Wi", "Wf", "Wg", "Wo", "Ui", "Uf", "Ug", "Uo")


def to_user(cell, p):
    W, U = np.split(p["weight_ih"], 4), np.split(p["weight_hh"], 4)      # torch's i, f, g, o
    user = {f"W{q}": w.T for q, w in zip("ifgo", W)}
    user.update({f"U{q}": u.T for q, u in zip("ifgo", U)})
    user["b"] = p["bias_ih"] + p["bias_hh"]
    return user


def to_canonical(cell, g, p):
    out = {}
    if all(f"dW{q}" in g for q in "ifgo"):
        out["dweight_ih"] = np.concatenate([g[f"dW{q}"].T for q in "ifgo"])
    if all(f"dU{q}" in g for q in "ifgo"):
        out["dweight_hh"] = np.concatenate([g[f"dU{q}"].T for q in "ifgo"])
    if "db" in g:
        out["dbias_ih"] = g["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="list_of_eight", cells=("lstm",), weights_as="list",
                               gate_order="ifgo")
