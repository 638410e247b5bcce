"""A time-major LSTM that keeps what the backward needs in a NumPy structured array, one
record per step with named fields ("in", "forget", "cell", "out" for the gates, and
"c", "c_prev", "h_prev"): rec[t]["forget"]. x (T, N, D), h0 and c0 (N, H) given; Wx (D, 4H),
Wh (H, 4H), b (4H,), blocks in, forget, cell, out:

    [in, forget, cell, out] = [s, s, tanh, s](x_t Wx + h_(t-1) Wh + b)
    c_t = forget c_(t-1) + in cell      h_t = out tanh(c_t)

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dcell_times_forget": "wrong_value",              # d_cell = dc * rec["forget"] for dc * rec["in"]
    "da_in_sigmoid_at_forget": "derivative_wrong_point",  # da_in = d_in * forget * (1 - forget) (also wrong_value)
    "dforget_with_c_t": "wrong_time",                 # d_forget = dc * rec["c"] (c_t for c_(t-1))
    "dc_carry_replaces": "carry_overwrites",          # dc = dc_next if t < T-1 else the local term (no sum)
    "dh_carry_dropped": "carry_dropped",              # g = dh[t]: dh_next never added
    "da_cell_sign": "wrong_sign",                     # da_cell = d_cell * (cell**2 - 1)
    "dc_tanh_grad_at_h": "derivative_wrong_point",    # dc = ... + g * out * (1 - h**2): tanh' at h_t for tanh(c_t) (also wrong_value)
    "dh_prev_from_step_dWh": "gradient_for_weight",   # dh_prev = da @ dWh_t.T (the step's own gradient of Wh)
    "reverse_loop_forward": "loop_direction",         # for t in range(T)
    "carry_chunks_of_2": "truncated_bptt",            # both carries zeroed every 2 steps back (TBPTT, k = 2)
    "db_over_N": "reduction_scaled",                  # db / N at the end
    "forward_sigmoid_for_all": "forward_mistake",     # sigmoid on all 4 blocks (cell too); d_cell * cell * (1 - cell)
    "dc_carry_and_db_over_N": "unknown",              # two at once: dc_next not times forget, and db / N
    "dh_carry_times_half": "unknown",                 # g = dh[t] + 0.5 * dh_next (an arbitrary constant)
}

TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "dcell_times_forget": "g",
    "da_in_sigmoid_at_forget": "i",
    "dforget_with_c_t": "f",
    "dc_carry_replaces": "",
    "dh_carry_dropped": "",
    "da_cell_sign": "g",
    "dc_tanh_grad_at_h": "ifg",
    "dh_prev_from_step_dWh": "",
    "reverse_loop_forward": "",
    "carry_chunks_of_2": "",
    "db_over_N": "",
    "forward_sigmoid_for_all": "",
    "dc_carry_and_db_over_N": "",
    "dh_carry_times_half": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, Wx, Wh, b):
        T, N, _ = x.shape
        H = h0.shape[1]
        fields = ("in", "forget", "cell", "out", "c", "c_prev", "h_prev")
        rec = np.zeros(T, dtype=[(name, x.dtype, (N, H)) for name in fields])
        hs = np.zeros((T, N, H), dtype=x.dtype)
        h, c = h0, c0
        for t in range(T):
            a = x[t] @ Wx + h @ Wh + b
            gates = sigmoid(a)
            if bug != "forward_sigmoid_for_all":
                gates[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
            rec[t]["h_prev"], rec[t]["c_prev"] = h, c
            for k, name in enumerate(("in", "forget", "cell", "out")):
                rec[t][name] = gates[:, k * H:(k + 1) * H]
            c = rec[t]["forget"] * c + rec[t]["in"] * rec[t]["cell"]
            h = rec[t]["out"] * np.tanh(c)
            rec[t]["c"] = c
            hs[t] = h
        return hs, (x, rec, Wx, Wh)

    def backward(dh, cache):
        x, rec, Wx, Wh = cache
        T, N, H = dh.shape
        dx = np.zeros_like(x)
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
        dh_next, dc_next = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        for t in (range(T) if bug == "reverse_loop_forward" else reversed(range(T))):
            r = rec[t]
            if bug == "dh_carry_dropped":
                g = dh[t]
            elif bug == "dh_carry_times_half":
                g = dh[t] + 0.5 * dh_next
            else:
                g = dh[t] + dh_next
            tc = np.tanh(r["c"])
            d_out = g * tc
            if bug == "dc_tanh_grad_at_h":
                local = g * r["out"] * (1 - (r["out"] * tc) ** 2)
            else:
                local = g * r["out"] * (1 - tc ** 2)
            dc = dc_next if (bug == "dc_carry_replaces" and t < T - 1) else dc_next + local
            d_in = dc * r["cell"]
            d_forget = dc * (r["c"] if bug == "dforget_with_c_t" else r["c_prev"])
            d_cell = dc * (r["forget"] if bug == "dcell_times_forget" else r["in"])
            dc_next = dc if bug == "dc_carry_and_db_over_N" else dc * r["forget"]
            s_in = r["forget"] if bug == "da_in_sigmoid_at_forget" else r["in"]
            if bug == "forward_sigmoid_for_all":
                da_cell = d_cell * r["cell"] * (1 - r["cell"])
            elif bug == "da_cell_sign":
                da_cell = d_cell * (r["cell"] ** 2 - 1)
            else:
                da_cell = d_cell * (1 - r["cell"] ** 2)
            da = np.concatenate([d_in * s_in * (1 - s_in), d_forget * r["forget"] * (1 - r["forget"]),
                                 da_cell, d_out * r["out"] * (1 - r["out"])], axis=1)
            dWx += x[t].T @ da
            dWh_t = r["h_prev"].T @ da
            dWh += dWh_t
            db += da.sum(axis=0)
            dx[t] = da @ Wx.T
            dh_next = da @ (dWh_t.T if bug == "dh_prev_from_step_dWh" else Wh.T)
            if bug == "carry_chunks_of_2" and (T - t) % 2 == 0:
                dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        if bug in ("db_over_N", "dc_carry_and_db_over_N"):
            db = db / N
        return dx, dh_next, dc_next, dWx, dWh, db

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}


def to_user(cell, p):
    return {"Wx": p["weight_ih"].T, "Wh": p["weight_hh"].T, "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dWx": "dweight_ih", "dWh": "dweight_hh"}
    out = {names[k]: v.T for k, v in grads.items() if k in names}
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="records_lstm", cells=("lstm",), axes="TND",
                               gate_order="ifco", gate_letters={"c": "g"})
