"""A GRU (reset before the candidate's matrix, as TF1's GRUCell: n = tanh(W_n x + U_n (r*h) + b_n))
on column vectors, x (D, N, T), with one (W_g, U_g, b_g) per gate in a parameters dict.
Each step's code is assembled from per-gate string templates and a gate table, compiled
once and exec'd step by step in a namespace dict that holds the step's values.

    r = sig(W_r x + U_r h + b_r),  z = sig(W_z x + U_z h + b_z),  h' = (1 - z) n + z h

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

import harness

BUGS = {
    "n_dact_sigmoid": "derivative_wrong_function",  # n's row: n*(1 - n)
    "z_row_hin_rh": "wrong_value",                  # z's row filled with hin = rh: dU_z from r*h
    "r_row_W_z": "wrong_weight",                    # r's row: dx += W_z.T @ da_r
    "U_z_untransposed": "weight_transposed",        # dhin_z = U_z @ da_z
    "dr_no_h": "derivative_missing",                # dr = dhin_n
    "dh_prev_no_r_path": "term_dropped",            # the dh_prev += dhin_n*r line left out
    "dz_reversed": "wrong_sign",                    # dz = dh*(n - h)
    "truncate_every_2": "truncated_bptt",           # dh_next zeroed every second step
    "dU_r_transposed": "gradient_transposed",       # dU_r += h @ da_r.T
    "rh_inplace": "inplace_corruption",             # rh = r; rh *= h: the cached r becomes r*h
    "db_n_mean": "reduction_scaled",                # n's row: da_n.mean(axis=1)
    "dx_from_dW_n": "gradient_for_weight",          # dx = G["dW_n"].T @ da_n
    "loop_skips_first": "loop_skips_step",          # range(T - 1, 0, -1)
    "forward_n_sigmoid": "forward_mistake",         # n's row: sigmoid and n*(1 - n)
}
TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "n_dact_sigmoid": "rn",
    "z_row_hin_rh": "z",
    "r_row_W_z": "",
    "U_z_untransposed": "",
    "dr_no_h": "r",
    "dh_prev_no_r_path": "",
    "dz_reversed": "z",
    "truncate_every_2": "",
    "dU_r_transposed": "r",
    "rh_inplace": "r",
    "db_n_mean": "n",
    "dx_from_dW_n": "",
    "loop_skips_first": "",
    "forward_n_sigmoid": "",
}

FWD_ROW = '{g} = {act}(P["W_{g}"] @ x + P["U_{g}"] @ {hin} + P["b_{g}"])\n'
BWD_ROW = ('da_{g} = d{g}*{dact}\n'
           'G["dW_{g}"] += da_{g} @ x.T\n'
           'G["dU_{g}"] += {dU}\n'
           'G["db_{g}"] += da_{g}.{red}(axis=1, keepdims=True)\n'
           'dx {op} P["{wx}"].T @ da_{g}\n'
           'dhin_{g} = P["U_{g}"]{ut} @ da_{g}\n')
TABLE = {"r": ["sigmoid", "{g}*(1 - {g})", "h"], "z": ["sigmoid", "{g}*(1 - {g})", "h"],
         "n": ["tanh", "(1 - {g}**2)", "rh"]}


def generate(bug=None):
    fwd_t = {g: list(v) for g, v in TABLE.items()}
    bwd_t = {g: list(v) for g, v in TABLE.items()}
    if bug == "n_dact_sigmoid":
        bwd_t["n"][1] = "{g}*(1 - {g})"
    elif bug == "forward_n_sigmoid":
        fwd_t["n"][0], bwd_t["n"][1] = "sigmoid", "{g}*(1 - {g})"
    elif bug == "z_row_hin_rh":
        bwd_t["z"][2] = "rh"
    fwd = FWD_ROW.format(g="r", act=fwd_t["r"][0], hin="h") + FWD_ROW.format(g="z", act=fwd_t["z"][0], hin="h")
    fwd += "rh = r\nrh *= h\n" if bug == "rh_inplace" else "rh = r*h\n"
    fwd += FWD_ROW.format(g="n", act=fwd_t["n"][0], hin="rh") + "h_new = (1 - z)*n + z*h\n"
    bwd = "dn = dh*(1 - z)\n" + ("dz = dh*(n - h)\n" if bug == "dz_reversed" else "dz = dh*(h - n)\n")
    bwd += "dh_prev = dh*z\n"
    for g in "nzr":
        _, dact, hin = bwd_t[g]
        dU = "h @ da_r.T" if (g, bug) == ("r", "dU_r_transposed") else f"da_{g} @ {hin}.T"
        bwd += BWD_ROW.format(g=g, dact=dact.format(g=g), dU=dU,
                              red="mean" if (g, bug) == ("n", "db_n_mean") else "sum",
                              op="=" if g == "n" else "+=",
                              wx="W_z" if (g, bug) == ("r", "r_row_W_z") else f"W_{g}",
                              ut="" if (g, bug) == ("z", "U_z_untransposed") else ".T")
        if g == "n":
            bwd = bwd.replace('dx = P["W_n"]', 'dx = G["dW_n"]') if bug == "dx_from_dW_n" else bwd
            bwd += "dr = dhin_n\n" if bug == "dr_no_h" else "dr = dhin_n*h\n"
            bwd += "" if bug == "dh_prev_no_r_path" else "dh_prev += dhin_n*r\n"
        else:
            bwd += f"dh_prev += dhin_{g}\n"
    return compile(fwd, "<gru forward rows>", "exec"), compile(bwd, "<gru backward rows>", "exec")


NS = {"sigmoid": lambda v: 1/(1 + np.exp(-v)), "tanh": np.tanh}


def forward(x, h0, P, code=None):
    T = x.shape[2]
    h, steps = h0, []
    for t in range(T):
        ns = dict(NS, x=x[:, :, t], h=h, P=P)
        exec(code[0], ns)
        steps.append(ns)
        h = ns["h_new"]
    return np.stack([s["h_new"] for s in steps], axis=2), (steps, P)


def backward(dh, cache, code=None, bug=None):
    steps, P = cache
    H, N, T = dh.shape
    G = {"d" + k: np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros((P["W_r"].shape[1], N, T), dtype=dh.dtype)
    dh_next = np.zeros((H, N), dtype=dh.dtype)
    for t in (range(T - 1, 0, -1) if bug == "loop_skips_first" else range(T - 1, -1, -1)):
        if bug == "truncate_every_2" and (T - t) % 2 == 1:
            dh_next = np.zeros_like(dh_next)
        ns = dict(steps[t], dh=dh[:, :, t] + dh_next, G=G)
        exec(code[1], ns)
        dx[:, :, t] = ns["dx"]
        dh_next = ns["dh_prev"]
    return {"dx": dx, "dh0": dh_next, **G}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    W, U = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    b = np.split(p["bias_ih"] + p["bias_hh"], 3)
    out = {}
    for k, g in enumerate("rzn"):
        out.update({f"W_{g}": W[k].copy(), f"U_{g}": U[k].copy(), f"b_{g}": b[k].reshape(H, 1)})
    return out


def to_canonical(cell, g, p):
    out = {}
    if all(f"dW_{q}" in g for q in "rzn"):
        out["dweight_ih"] = np.concatenate([g[f"dW_{q}"] for q in "rzn"])
    if all(f"dU_{q}" in g for q in "rzn"):
        out["dweight_hh"] = np.concatenate([g[f"dU_{q}"] for q in "rzn"])
    if all(f"db_{q}" in g for q in "rzn"):
        out["dbias_ih"] = out["dbias_hh"] = np.concatenate([g[f"db_{q}"][:, 0] for q in "rzn"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="template_cols_gru", cells=("gru",), axes="DNT",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    code = generate(bug)

    def fwd(x, h0, P):
        return forward(x, h0, P, code)

    def bwd(dh, cache):
        return backward(dh, cache, code, bug)
    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": False}
