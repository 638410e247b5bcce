"""A GRU ported from torch's nn.GRU (reset after: n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
concatenated weight_ih (3H, D), weight_hh (3H, H), b_ih, b_hh in r, z, n order, time-major)
whose local partial derivatives are sympy ``lambdify`` output: each helper's generated
source is pasted into a table (argument list, printed expression) and exec'd.

    >>> hnew = (1 - z)*n + z*h
    >>> lambdify((h, n), diff(hnew, z)); lambdify(z, diff(hnew, n)); lambdify(z, diff(hnew, h))
    >>> lambdify(n, diff(tanh(a), a).subs(tanh(a), n)); lambdify(s, diff(1/(1 + exp(-a)), a) -> in s)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "dh_dz_args_swapped": "wrong_sign",             # dh_dz(n, h) for dh_dz(h, n)
    "dn_da_not_substituted": "derivative_wrong_point",  # lambdified 1 - tanh(a)**2, called on n
    "dsig_z_from_dn_da": "derivative_wrong_function",   # da_z = dz*dn_da(z)
    "dsig_r_forgotten": "derivative_missing",       # da_r = dr
    "dW_ih_zrn": "gate_order",                      # dW_ih rows concatenated z, r, n
    "W_hr_slice_off": "wrong_weight",               # W_hr = w_hh[2H:] in dh_prev
    "gh_n_from_h_new": "wrong_time",                # gh recomputed from h_t in dr
    "direct_term_dropped": "term_dropped",          # dh_prev without d*dh_dh(z)
    "dW_hh_assigned": "carry_overwrites",           # dW_hh = ... instead of +=
    "clip_d": "gradient_clipped",                   # np.clip(d, -0.1, 0.1)
    "dW_ih_mean_NT": "reduction_scaled",            # dW_ih / (N*T)
    "loop_forward": "loop_direction",               # for t in range(T)
    "dx_from_dW_ih": "gradient_for_weight",         # dx = dgi @ dW_ih
    "forward_b_hn_outside": "forward_mistake",      # n = tanh(gi_n + r*(W_hn h) + b_hn), backward re-derived
}
TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dh_dz_args_swapped": "z",
    "dn_da_not_substituted": "rn",
    "dsig_z_from_dn_da": "z",
    "dsig_r_forgotten": "r",
    "dW_ih_zrn": "rz",
    "W_hr_slice_off": "",
    "gh_n_from_h_new": "r",
    "direct_term_dropped": "",
    "dW_hh_assigned": "",
    "clip_d": "",
    "dW_ih_mean_NT": "",
    "loop_forward": "",
    "dx_from_dW_ih": "",
    "forward_b_hn_outside": "",
}

LAMBDIFIED = {
    "dh_dn": ("z", "1 - z"),
    "dh_dz": ("h, n", "h - n"),
    "dh_dh": ("z", "z"),
    "dn_da": ("n", "1 - n**2"),
    "dsig": ("s", "-s**2 + s"),
}


def helpers(bug=None):
    table = dict(LAMBDIFIED)
    if bug == "dn_da_not_substituted":
        table["dn_da"] = ("a", "1 - tanh(a)**2")
    funcs = {}
    for name, (args, expr) in table.items():
        ns = {"tanh": np.tanh}
        exec(f"def _lambdifygenerated({args}):\n    return {expr}\n", ns)
        funcs[name] = ns["_lambdifygenerated"]
    return funcs


def sig(v):
    return 1/(1 + np.exp(-v))


def forward(x, h0, w_ih, w_hh, b_ih, b_hh, bug=None):
    T = x.shape[0]
    H = h0.shape[1]
    hs, gates = [h0], []
    for t in range(T):
        gi = x[t] @ w_ih.T + b_ih
        gh = hs[-1] @ w_hh.T + b_hh
        r = sig(gi[:, :H] + gh[:, :H])
        z = sig(gi[:, H:2*H] + gh[:, H:2*H])
        if bug == "forward_b_hn_outside":
            n = np.tanh(gi[:, 2*H:] + r*(hs[-1] @ w_hh[2*H:].T) + b_hh[2*H:])
        else:
            n = np.tanh(gi[:, 2*H:] + r*gh[:, 2*H:])
        hs.append((1 - z)*n + z*hs[-1])
        gates.append((r, z, n, gh))
    return np.stack(hs[1:]), (x, hs, gates, w_ih, w_hh, b_hh)


def backward(dh, cache, f=None, bug=None):
    x, hs, gates, w_ih, w_hh, b_hh = cache
    T, N, H = dh.shape
    dx = np.zeros_like(x)
    dW_ih, dW_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(3*H, dtype=dh.dtype), np.zeros(3*H, dtype=dh.dtype)
    W_hr, W_hz, W_hn = np.split(w_hh, 3)
    if bug == "W_hr_slice_off":
        W_hr = w_hh[2*H:]
    dh_next = np.zeros_like(hs[0])
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        r, z, n, gh = gates[t]
        h = hs[t]
        d = dh[t] + dh_next
        if bug == "clip_d":
            d = np.clip(d, -0.1, 0.1)
        dn = d*f["dh_dn"](z)
        dz = d*(f["dh_dz"](n, h) if bug == "dh_dz_args_swapped" else f["dh_dz"](h, n))
        da_n = dn*f["dn_da"](n)
        if bug == "gh_n_from_h_new":
            gh = hs[t + 1] @ w_hh.T + b_hh
        gh_n = h @ W_hn.T if bug == "forward_b_hn_outside" else gh[:, 2*H:]
        dr = da_n*gh_n
        da_r = dr if bug == "dsig_r_forgotten" else dr*f["dsig"](r)
        da_z = dz*(f["dn_da"](z) if bug == "dsig_z_from_dn_da" else f["dsig"](z))
        dgi = np.concatenate([da_r, da_z, da_n], axis=1)
        dgh = np.concatenate([da_r, da_z, r*da_n], axis=1)
        dW_ih += np.concatenate([da_z, da_r, da_n], axis=1).T @ x[t] if bug == "dW_ih_zrn" else dgi.T @ x[t]
        if bug == "dW_hh_assigned":
            dW_hh = dgh.T @ h
        else:
            dW_hh += dgh.T @ h
        db_ih += dgi.sum(0)
        db_hh += np.concatenate([da_r, da_z, da_n], axis=1).sum(0) if bug == "forward_b_hn_outside" \
            else dgh.sum(0)
        dx[t] = dgi @ (dW_ih if bug == "dx_from_dW_ih" else w_ih)
        dh_prev = da_r @ W_hr + da_z @ W_hz + (r*da_n) @ W_hn
        dh_next = dh_prev if bug == "direct_term_dropped" else dh_prev + d*f["dh_dh"](z)
    if bug == "dW_ih_mean_NT":
        dW_ih = dW_ih / (N*T)
    return dx, dh_next, dW_ih, dW_hh, db_ih, db_hh


def to_user(cell, p):
    return {u: np.array(p[q]) for u, q in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"),
                                            ("b_hh", "bias_hh"))}


def to_canonical(cell, g, p):
    names = {"dweight_ih": "dw_ih", "dweight_hh": "dw_hh", "dbias_ih": "db_ih", "dbias_hh": "db_hh"}
    return {q: g[u] for q, u in names.items() if u in g}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_gru_tm", cells=("gru",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    f = helpers(bug)
    return (partial(forward, bug=bug), partial(backward, f=f, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})
