"""An LSTM in the "Deep Learning with Python" pseudo-code style, made to run: per-gate weights
in a dict (Wi, Ui, bi, Wf, Uf, bf, Wk, Uk, bk, Wo, Uo, bo; the candidate is called k), one
dict of numpy arrays per step, and the weight gradients summed into a dict with
grads.get(name, 0) + value. Batch-major x (N, T, D), the cell state starts at zero:

    i_t = s(h @ Ui + x_t @ Wi + bi)    f_t = s(h @ Uf + x_t @ Wf + bf)
    k_t = tanh(h @ Uk + x_t @ Wk + bk)  o_t = s(h @ Uo + x_t @ Wo + bo)
    c_t = i_t * k_t + c_{t-1} * f_t     h_t = o_t * tanh(c_t)

The forward also stores each gate's local derivative (st["dk_local"] = 1 - k ** 2 ...).
Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dk_without_i": "term_dropped",                       # dk = dc (the factor i_t left out)
    "di_times_c_prev": "wrong_value",                     # di = dc * c_prev (for dc * k)
    "dak_tanh_grad_of_pre": "derivative_wrong_point",     # dak = dk * (1 - ak ** 2): at the pre-activation
    "daf_sign_flipped": "wrong_sign",                     # daf = df * f * (f - 1)
    "dUi_with_h_t": "wrong_time",                         # dUi += h_t.T @ dai (this step's h)
    "dh_prev_Uf_for_Ui": "wrong_weight",                  # dai @ Uf.T in dh_prev
    "dh_prev_from_dUk": "gradient_for_weight",            # dak @ grads["dUk"].T in dh_prev
    "dUf_assigned": "carry_overwrites",                   # grads["dUf"] = value (not added)
    "dh_carry_unused": "carry_dropped",                   # dh = dh_seq[:, t] (dh_next never added)
    "dx_over_N": "reduction_scaled",                      # dx[:, t] = ... / N
    "tc_squared_in_place": "inplace_corruption",          # tc = st["tc"]; tc **= 2 for tanh'; do then reads tanh(c) ** 2
    "forward_k_sigmoid": "forward_mistake",               # k = s(...) in the forward, the backward consistent (k (1 - k))
    "dk_local_applied_twice": "derivative_twice",         # dk = dc * i * st["dk_local"] and dak = dk * st["dk_local"]
    "daf_sign_and_dx_over_N": "unknown",                  # daf_sign_flipped and dx_over_N at once
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dk_without_i": "g",
    "di_times_c_prev": "i",
    "dak_tanh_grad_of_pre": "g",
    "daf_sign_flipped": "",
    "dUi_with_h_t": "i",
    "dh_prev_Uf_for_Ui": "",
    "dh_prev_from_dUk": "",
    "dUf_assigned": "",
    "dh_carry_unused": "",
    "dx_over_N": "",
    "tc_squared_in_place": "o",
    "forward_k_sigmoid": "",
    "dk_local_applied_twice": "g",
    "daf_sign_and_dx_over_N": "",
}

GATES = "ifko"


def s(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def lstm_forward(inputs, h0, params):
        N, T, _ = inputs.shape
        state_t, c_t = h0, np.zeros_like(h0)
        steps, outputs = [], []
        for t in range(T):
            input_t = inputs[:, t]
            st = {"x": input_t, "h_prev": state_t, "c_prev": c_t}
            for q in GATES:
                st["a" + q] = state_t @ params["U" + q] + input_t @ params["W" + q] + params["b" + q]
            st["i"], st["f"], st["o"] = s(st["ai"]), s(st["af"]), s(st["ao"])
            st["k"] = s(st["ak"]) if bug == "forward_k_sigmoid" else np.tanh(st["ak"])
            st["dk_local"] = st["k"] * (1 - st["k"]) if bug == "forward_k_sigmoid" else 1 - st["k"] ** 2
            c_t = st["i"] * st["k"] + c_t * st["f"]
            st["c"], st["tc"] = c_t, np.tanh(c_t)
            state_t = st["o"] * st["tc"]
            st["h"] = state_t
            steps.append(st)
            outputs.append(state_t)
        return np.stack(outputs, axis=1), (steps, params)

    def lstm_backward(dh_seq, cache):
        steps, params = cache
        N, T, H = dh_seq.shape
        dx = np.zeros((N, T, params["Wi"].shape[0]), dtype=dh_seq.dtype)
        grads = {}
        dh_next, dc_next = np.zeros((N, H), dh_seq.dtype), np.zeros((N, H), dh_seq.dtype)
        for t in reversed(range(T)):
            st = steps[t]
            dh = dh_seq[:, t] if bug == "dh_carry_unused" else dh_seq[:, t] + dh_next
            if bug == "tc_squared_in_place":
                tc = st["tc"]
                tc **= 2
                dc = dc_next + dh * st["o"] * (1 - tc)
            else:
                dc = dc_next + dh * st["o"] * (1 - st["tc"] ** 2)
            do = dh * st["tc"]
            dk = dc if bug == "dk_without_i" else dc * st["i"]
            if bug == "dk_local_applied_twice":
                dk = dk * st["dk_local"]
            di = dc * (st["c_prev"] if bug == "di_times_c_prev" else st["k"])
            df = dc * st["c_prev"]
            d = {"i": di * st["i"] * (1 - st["i"]), "o": do * st["o"] * (1 - st["o"])}
            if bug in ("daf_sign_flipped", "daf_sign_and_dx_over_N"):
                d["f"] = df * st["f"] * (st["f"] - 1)
            else:
                d["f"] = df * st["f"] * (1 - st["f"])
            d["k"] = dk * (1 - st["ak"] ** 2) if bug == "dak_tanh_grad_of_pre" else dk * st["dk_local"]
            for q in GATES:
                h_used = st["h"] if bug == "dUi_with_h_t" and q == "i" else st["h_prev"]
                new = {"dW" + q: st["x"].T @ d[q], "dU" + q: h_used.T @ d[q], "db" + q: d[q].sum(axis=0)}
                for name, value in new.items():
                    if bug == "dUf_assigned" and name == "dUf":
                        grads[name] = value
                    else:
                        grads[name] = grads.get(name, 0) + value
            U_for_i = params["Uf"] if bug == "dh_prev_Uf_for_Ui" else params["Ui"]
            U_for_k = grads["dUk"] if bug == "dh_prev_from_dUk" else params["Uk"]
            dh_next = d["i"] @ U_for_i.T + d["f"] @ params["Uf"].T + d["k"] @ U_for_k.T + d["o"] @ params["Uo"].T
            dx[:, t] = sum(d[q] @ params["W" + q].T for q in GATES)
            if bug in ("dx_over_N", "daf_sign_and_dx_over_N"):
                dx[:, t] /= N
            dc_next = dc * st["f"]
        return {"dx": dx, "dh0": dh_next, **grads}

    return lstm_forward, lstm_backward, {"cell": "lstm", "layout": LAYOUT}


CANONICAL = {"i": 0, "f": 1, "k": 2, "o": 3}              # the block of torch's i, f, g, o


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for q in GATES:
        rows = slice(CANONICAL[q] * H, (CANONICAL[q] + 1) * H)
        user.update({"W" + q: p["weight_ih"][rows].T, "U" + q: p["weight_hh"][rows].T, "b" + q: b[rows]})
    return user


def to_canonical(cell, g, p):
    out = {}
    order = sorted(GATES, key=CANONICAL.get)
    if all("dW" + q in g for q in GATES):
        out["dweight_ih"] = np.concatenate([g["dW" + q].T for q in order])
    if all("dU" + q in g for q in GATES):
        out["dweight_hh"] = np.concatenate([g["dU" + q].T for q in order])
    if all("db" + q in g for q in GATES):
        out["dbias_ih"] = np.concatenate([g["db" + q] for q in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="dlwp_lstm", cells=("lstm",), weights_as="dict",
                               takes_c0=False, gate_order="ifko", gate_letters={"k": "g"})
