"""An LSTM ported from a Fortran 90 module (``lstm_mod.f90``) behind cs231n's signature
(x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), gate blocks i, f, o, g, c0 = 0). The port keeps
the Fortran: the wrapper copies the batch into column-major arrays ``x(nx, nb, nt)``, the
states are declared with a zero lower bound, ``hs(nh, nb, 0:nt)`` and ``cs(nh, nb, 0:nt)``
(so index ``it`` is h_it and ``it - 1`` the previous state, no offset), the gate
activations ``gates(4*nh, nb, nt)`` are 1-based in time (``it - 1`` in Python), and the
DO loops run over the steps, the batch columns ``ib`` and the units ``j`` with the gate
offsets written out (``j``, ``nh+j``, ``2*nh+j``, ``3*nh+j``). The backward fills one work
column ``work(4*nh)`` per batch column and reuses it, and keeps the carries in
``dhn(nh, nb)`` and ``dcn(nh, nb)``.

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

BUGS = {
    "gates_as_work": "inplace_corruption",              # gates(j, ib, it) = di; dg then reads it as ig
    "dtanh_c_twice": "derivative_twice",                # dcj = dcn + dhj*og*(1 - tc**2)*(1 - tc**2)
    "cs_it_for_it_minus_1": "wrong_time",               # df = dcj*cs(j, ib, it)*..: c_t for c_(t-1)
    "db_assigned_per_column": "carry_overwrites",       # db = work (per batch column) for db = db + work
    "dx_from_dwx": "gradient_for_weight",               # dx(:, ib, it) = matmul(dwx, work)
    "di_tanh_grad": "derivative_wrong_function",        # dcj*gg*(1 - ig**2)
    "dg_one_minus_gg": "derivative_miswritten",         # dcj*ig*(1 - gg)
    "dc_without_dh_path": "term_dropped",               # dcj = dcn(j, ib)
    "dc_dh_path_minus": "wrong_sign",                   # dcj = dcn(j, ib) - dhj*og*(1 - tc**2)
    "do_it_nt_to_2": "loop_skips_step",                 # do it = nt, 2, -1
    "truncated_k3": "truncated_bptt",                   # dhn = 0; dcn = 0 every ktrunc = 3 steps
    "hard_sigmoid_forward": "forward_mistake",          # gates through hard_sigmoid (Keras 1), backward with it
    "dwx_over_nb": "reduction_scaled",                  # dwx = dwx / nb after the loops
    "work_i_f_offsets_swapped": "gate_order",           # work(j) = df, work(nh+j) = di
    "do_without_sigmoid_grad": "derivative_missing",    # work(2*nh+j) = dhj*tc
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "gates_as_work": "g",
    "dtanh_c_twice": "ig",
    "cs_it_for_it_minus_1": "f",
    "db_assigned_per_column": "",
    "dx_from_dwx": "",
    "di_tanh_grad": "i",
    "dg_one_minus_gg": "g",
    "dc_without_dh_path": "ig",
    "dc_dh_path_minus": "ig",
    "do_it_nt_to_2": "",
    "truncated_k3": "",
    "hard_sigmoid_forward": "",
    "dwx_over_nb": "",
    "work_i_f_offsets_swapped": "if",
    "do_without_sigmoid_grad": "o",
}

KTRUNC = 3


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    """call lstm_fwd(nx, nh, nb, nt, x, h0, wx, wh, b, hs, cs, gates) behind cs231n's signature."""
    nb, nt, _nx = x.shape
    nh = Wh.shape[0]
    xf = np.asfortranarray(x.transpose(2, 0, 1))              # x(nx, nb, nt)
    hs = np.zeros((nh, nb, nt + 1), dtype=x.dtype, order="F")  # hs(nh, nb, 0:nt)
    cs = np.zeros((nh, nb, nt + 1), dtype=x.dtype, order="F")
    gates = np.zeros((4 * nh, nb, nt), dtype=x.dtype, order="F")
    zs = np.zeros((4 * nh, nb, nt), dtype=x.dtype, order="F")
    hs[:, :, 0] = h0.T
    act = hard_sigmoid if bug == "hard_sigmoid_forward" else sigmoid
    for it in range(1, nt + 1):                                # do it = 1, nt
        for ib in range(nb):                                   # do ib = 1, nb
            z = Wx.T @ xf[:, ib, it - 1] + Wh.T @ hs[:, ib, it - 1] + b
            zs[:, ib, it - 1] = z
            for j in range(nh):                                # do j = 1, nh
                ig = act(z[j])
                fg = act(z[nh + j])
                og = act(z[2 * nh + j])
                gg = np.tanh(z[3 * nh + j])
                gates[j, ib, it - 1] = ig
                gates[nh + j, ib, it - 1] = fg
                gates[2 * nh + j, ib, it - 1] = og
                gates[3 * nh + j, ib, it - 1] = gg
                cs[j, ib, it] = fg * cs[j, ib, it - 1] + ig * gg
                hs[j, ib, it] = og * np.tanh(cs[j, ib, it])
    h = np.ascontiguousarray(hs[:, :, 1:].transpose(1, 2, 0))  # back to (N, T, H)
    return h, (xf, hs, cs, gates, zs, Wx, Wh, bug)


def _dact(g, z, bug):
    """The recurrent activation's derivative from the gate value g (and its pre-activation z)."""
    if bug == "hard_sigmoid_forward":
        return 0.2 if -2.5 < z < 2.5 else 0.0
    return g * (1 - g)


def lstm_backward(dh, cache, bug=None):
    """call lstm_bwd(...): dh (N, T, H) -> dx (N, T, D), dh0, dWx, dWh, db."""
    xf, hs, cs, gates, zs, Wx, Wh, _ = cache
    nh = Wh.shape[0]
    nx, nb, nt = xf.shape
    dhf = np.asfortranarray(dh.transpose(2, 0, 1))            # dh(nh, nb, nt)
    dx = np.zeros((nx, nb, nt), dtype=dh.dtype, order="F")
    dwx, dwh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(Wx[0])
    dhn = np.zeros((nh, nb), dtype=dh.dtype, order="F")
    dcn = np.zeros((nh, nb), dtype=dh.dtype, order="F")
    work = np.zeros(4 * nh, dtype=dh.dtype)
    it_end = 1 if bug == "do_it_nt_to_2" else 0
    for it in range(nt, it_end, -1):                           # do it = nt, 1, -1
        for ib in range(nb):
            for j in range(nh):
                ig = gates[j, ib, it - 1]
                fg = gates[nh + j, ib, it - 1]
                og = gates[2 * nh + j, ib, it - 1]
                gg = gates[3 * nh + j, ib, it - 1]
                zi, zf, zo = zs[j, ib, it - 1], zs[nh + j, ib, it - 1], zs[2 * nh + j, ib, it - 1]
                tc = np.tanh(cs[j, ib, it])
                dhj = dhf[j, ib, it - 1] + dhn[j, ib]
                if bug == "dtanh_c_twice":
                    dcj = dcn[j, ib] + dhj * og * (1 - tc ** 2) * (1 - tc ** 2)
                elif bug == "dc_without_dh_path":
                    dcj = dcn[j, ib]
                elif bug == "dc_dh_path_minus":
                    dcj = dcn[j, ib] - dhj * og * (1 - tc ** 2)
                else:
                    dcj = dcn[j, ib] + dhj * og * (1 - tc ** 2)
                di = dcj * gg * ((1 - ig ** 2) if bug == "di_tanh_grad" else _dact(ig, zi, bug))
                cprev = cs[j, ib, it] if bug == "cs_it_for_it_minus_1" else cs[j, ib, it - 1]
                df = dcj * cprev * _dact(fg, zf, bug)
                if bug == "gates_as_work":
                    gates[j, ib, it - 1] = di                  # gates(j, ib, it) = di  ! save a work array
                    ig = gates[j, ib, it - 1]
                do = dhj * tc if bug == "do_without_sigmoid_grad" else dhj * tc * _dact(og, zo, bug)
                dg = dcj * ig * ((1 - gg) if bug == "dg_one_minus_gg" else (1 - gg ** 2))
                if bug == "work_i_f_offsets_swapped":
                    work[j], work[nh + j] = df, di
                else:
                    work[j], work[nh + j] = di, df
                work[2 * nh + j] = do
                work[3 * nh + j] = dg
                dcn[j, ib] = dcj * fg
            dwx += np.outer(xf[:, ib, it - 1], work)
            dwh += np.outer(hs[:, ib, it - 1], work)
            if bug == "db_assigned_per_column":
                db = work.copy()
            else:
                db += work
            dx[:, ib, it - 1] = (dwx if bug == "dx_from_dwx" else Wx) @ work
            dhn[:, ib] = Wh @ work
        if bug == "truncated_k3" and (nt - it + 1) % KTRUNC == 0:
            dhn[:] = 0
            dcn[:] = 0
    if bug == "dwx_over_nb":
        dwx = dwx / nb
    return (np.ascontiguousarray(dx.transpose(1, 2, 0)), np.ascontiguousarray(dhn.T), dwx, dwh, db)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug), {"cell": "lstm", "layout": "cs231n"}
