"""The GRU of blind_custom_gru in its reset-before configuration (as TF1's GRUCell):

    n = tanh(x Wh + (r * h) Uh + bh)       one bias per gate (bh = torch's b_in + b_hn)

Same code, same calling convention (x (T, N, D) time-major, Wz (D, H), Uz (H, H), bz (H,) ...),
no bhn argument. Held-out zoo: written without reading the diagnosis.
"""

from .blind_custom_gru import GRU, gru_layout

BUGS = {
    "Uh_not_transposed": "weight_transposed",        # drh = dn_pre @ Uh
    "dr_uses_h_new": "wrong_time",                   # dr = drh * h_t for h_{t-1}
    "dh_prev_no_r_path": "term_dropped",             # dh_prev misses drh * r
    "dUh_without_r": "term_dropped",                 # dUh from h_prev, the factor r left out
    "dn_at_preact": "derivative_wrong_point",        # 1 - n_pre**2
    "dz_tanh_grad": "derivative_wrong_function",     # (1 - z**2) for the sigmoid update gate
    "dr_no_sigmoid_grad": "derivative_missing",      # dr_pre = dr
    "dh_next_not_updated": "carry_dropped",          # dh_next never set from dh_prev
    "dbias_assigned": "carry_overwrites",            # dbz, dbr, dbh = ... (= for +=)
    "dWh_x_prev": "wrong_time",                      # x_{t-1} (wrapping at t=0) in dWh
    "Wz_for_Wr_in_dx": "wrong_weight",               # dr_pre @ Wz.T in dx
    "db_mean": "reduction_scaled",                   # bias gradients / N
    "loop_skips_last": "loop_skips_step",            # range(T - 2, -1, -1)
    "r_inplace": "inplace_corruption",               # rh = r; rh *= h_prev: the cached r overwritten
    "dz_sigmoid_twice": "derivative_twice",          # z(1 - z) applied twice
    "return_swaps_z_n": "gate_order",                # the z and n gradients returned in each other's slots
    "forward_reset_after": "forward_mistake",        # r * (h @ Uh): torch's form, backward consistent
    "candidate_sigmoid": "forward_mistake",          # sigmoid candidate, backward consistent
    "dr_miswritten": "derivative_miswritten",        # dr * r for dr * r * (1 - r)
    "dn_sign": "wrong_sign",                         # dn = dh * (z - 1)
    "returns_dh_t": "unknown",                       # returns the step-0 upstream total as dh0
    "dn_at_preact_and_no_carry": "unknown",          # two mistakes at once
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "Uh_not_transposed": "r",
    "dr_uses_h_new": "r",
    "dh_prev_no_r_path": "",
    "dUh_without_r": "n",
    "dn_at_preact": "rn",
    "dz_tanh_grad": "z",
    "dr_no_sigmoid_grad": "r",
    "dh_next_not_updated": "",
    "dbias_assigned": "",
    "dWh_x_prev": "",
    "Wz_for_Wr_in_dx": "",
    "db_mean": "",
    "loop_skips_last": "",
    "r_inplace": "r",
    "dz_sigmoid_twice": "z",
    "return_swaps_z_n": "zn",
    "forward_reset_after": "",
    "candidate_sigmoid": "",
    "dr_miswritten": "r",
    "dn_sign": "rn",
    "returns_dh_t": "",
    "dn_at_preact_and_no_carry": "rn",
}

LAYOUT = gru_layout(separate_bhn=False)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    gru = GRU(reset_after=False, bug=bug)
    return gru.forward, gru.backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}
