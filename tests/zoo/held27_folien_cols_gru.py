"""A GRU transcribed from lecture slides (CS224n's notation), one-letter names and column
vectors, one example at a time: x (T, D, 1), h0 (H, 1); W_z, W_r, W (H, D), U_z, U_r, U
(H, H), b_z, b_r, b (H, 1); the reset gate applied before U (TF1's GRUCell, reset_after
False); per-step values in a dict of lists ``s`` keyed by letter:

    z = σ(W_z x + U_z h + b_z)    r = σ(W_r x + U_r h + b_r)
    c = tanh(W x + U (r ⊙ h) + b)      h' = z ⊙ h + (1 - z) ⊙ c

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dc_sigma_prime": "derivative_wrong_function",       # dac = dc * c * (1 - c): σ' for tanh'
    "dz_with_new_h": "wrong_time",                       # dz = dh * (s["h"][t + 1] - c): h_t for h_(t-1)
    "dh_prev_without_z_path": "term_dropped",            # dh_prev misses dh * z
    "U_z_untransposed": "weight_transposed",             # dh_prev += U_z @ daz
    "U_r_for_U_z": "wrong_weight",                       # dh_prev += U_r.T @ daz
    "dar_no_sigma_prime": "derivative_missing",          # dar = dr
    "dWz_assigned": "carry_overwrites",                  # dW_z = daz @ x.T (= for +=)
    "loop_runs_forward": "loop_direction",               # for t in range(T): the backward walked forward in time
    "z_prime_in_place": "inplace_corruption",            # sz = z; sz *= 1 - z: the cached z becomes z (1 - z)
    "carry_cut_every_three": "truncated_bptt",           # dh_next = 0 whenever three steps have been walked back
    "dz_reads_r": "wrong_value",                         # dz = dh * (h - r): r typed for c
    "forward_reset_after": "forward_mistake",            # c = tanh(W x + r ⊙ (U h) + b) (reset after); backward consistent
    "x_prev_and_no_z_prime": "unknown",                  # dW gets x_(t-1) and daz = dz (σ' left out)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dc_sigma_prime": "rn",
    "dz_with_new_h": "z",
    "dh_prev_without_z_path": "",
    "U_z_untransposed": "",
    "U_r_for_U_z": "",
    "dar_no_sigma_prime": "r",
    "dWz_assigned": "",
    "loop_runs_forward": "",
    "z_prime_in_place": "",
    "carry_cut_every_three": "",
    "dz_reads_r": "z",
    "forward_reset_after": "",
    "x_prev_and_no_z_prime": "z",
}


def σ(a):
    return 1.0 / (1.0 + np.exp(-a))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W, U, b):
        s = {k: [] for k in "zrcx"}
        s["h"] = [h0]
        for t in range(len(x)):
            h = s["h"][t]
            z = σ(W_z @ x[t] + U_z @ h + b_z)
            r = σ(W_r @ x[t] + U_r @ h + b_r)
            if bug == "forward_reset_after":
                c = np.tanh(W @ x[t] + r * (U @ h) + b)
            else:
                c = np.tanh(W @ x[t] + U @ (r * h) + b)
            s["h"].append(z * h + (1 - z) * c)
            for k, v in zip("zrcx", (z, r, c, x[t])):
                s[k].append(v)
        return np.array(s["h"][1:]), (s, (W_z, U_z, W_r, U_r, W, U))

    def backward(dhs, cache):
        s, (W_z, U_z, W_r, U_r, W, U) = cache
        T = len(s["x"])
        g = {k: np.zeros_like(v) for k, v in zip(("W_z", "U_z", "W_r", "U_r", "W", "U"), cache[1])}
        for k in ("b_z", "b_r", "b"):
            g[k] = np.zeros_like(s["h"][0])
        dx = np.zeros_like(np.array(s["x"]))
        dh_next = np.zeros_like(s["h"][0])
        for n, t in enumerate(range(T) if bug == "loop_runs_forward" else reversed(range(T))):
            z, r, c, x, h = s["z"][t], s["r"][t], s["c"][t], s["x"][t], s["h"][t]
            dh = dhs[t] + dh_next
            if bug == "dz_with_new_h":
                dz = dh * (s["h"][t + 1] - c)
            elif bug == "dz_reads_r":
                dz = dh * (h - r)
            else:
                dz = dh * (h - c)
            dc = dh * (1 - z)
            dac = dc * c * (1 - c) if bug == "dc_sigma_prime" else dc * (1 - c ** 2)
            if bug == "z_prime_in_place":
                sz = z
                sz *= 1 - z
                daz = dz * sz
            elif bug == "x_prev_and_no_z_prime":
                daz = dz
            else:
                daz = dz * z * (1 - z)
            if bug == "forward_reset_after":
                Uh = U @ h
                dr = dac * Uh
                drh = None
            else:
                drh = U.T @ dac
                dr = drh * h
            dar = dr if bug == "dar_no_sigma_prime" else dr * r * (1 - r)
            xw = s["x"][t - 1] if bug == "x_prev_and_no_z_prime" else x
            if bug == "dWz_assigned":
                g["W_z"] = daz @ xw.T
            else:
                g["W_z"] += daz @ xw.T
            g["U_z"] += daz @ h.T
            g["b_z"] += daz
            g["W_r"] += dar @ xw.T
            g["U_r"] += dar @ h.T
            g["b_r"] += dar
            g["W"] += dac @ xw.T
            g["U"] += (dac * r) @ h.T if bug == "forward_reset_after" else dac @ (r * h).T
            g["b"] += dac
            dx[t] = W_z.T @ daz + W_r.T @ dar + W.T @ dac
            dh_prev = U_r.T @ dar
            if bug != "dh_prev_without_z_path":
                dh_prev = dh_prev + dh * z
            if bug == "U_z_untransposed":
                dh_prev = dh_prev + U_z @ daz
            elif bug == "U_r_for_U_z":
                dh_prev = dh_prev + U_r.T @ daz
            else:
                dh_prev = dh_prev + U_z.T @ daz
            if bug == "forward_reset_after":
                dh_prev = dh_prev + U.T @ (dac * r)
            else:
                dh_prev = dh_prev + drh * r
            dh_next = dh_prev
            if bug == "carry_cut_every_three" and (n + 1) % 3 == 0:
                dh_next = np.zeros_like(dh_next)
        return (dx, dh_next) + tuple(g[k] for k in ("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W", "U", "b"))

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    blk = {"r": slice(0, H), "z": slice(H, 2 * H), "n": slice(2 * H, 3 * H)}
    out = {}
    for mine, gate in (("_z", "z"), ("_r", "r"), ("", "n")):
        out["W" + mine] = p["weight_ih"][blk[gate]].copy()
        out["U" + mine] = p["weight_hh"][blk[gate]].copy()
        out["b" + mine] = b[blk[gate], None].copy()
    return out


def to_canonical(cell, g, p):
    out = {}
    for mine, name in (("dW", "dweight_ih"), ("dU", "dweight_hh")):
        if all(k in g for k in (mine + "_r", mine + "_z", mine)):
            out[name] = np.concatenate([g[mine + "_r"], g[mine + "_z"], g[mine]])
    if all(k in g for k in ("db_r", "db_z", "db")):
        out["dbias_ih"] = np.concatenate([g["db_r"], g["db_z"], g["db"]])[:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="slides_gru", cells=("gru",), per_example=True)
