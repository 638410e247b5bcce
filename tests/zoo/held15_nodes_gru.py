"""A GRU whose forward builds a linked list of step nodes (each Node keeps its inputs, its
gates and a .prev link) and whose backward walks the list back from the tail
(node = node.prev). Batch-major x (N, T, D); Wx (D, 3H), Wh (H, 3H) with blocks r, z, n
and two biases bx, bh (3H,) as torch keeps them; the reset after the recurrent product:

    r = s(x Wx_r + bx_r + h Wh_r + bh_r)      z = s(x Wx_z + bx_z + h Wh_z + bh_z)
    hn = h Wh_n + bh_n      n = tanh(x Wx_n + bx_n + r * hn)      h_t = (1 - z) n + z h_(t-1)

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "walk_from_head": "loop_direction",               # the backward follows .next from the head (forward in time)
    "walk_stops_before_head": "loop_skips_step",      # while node.prev is not None: the first step never visited
    "carry_clipped_by_norm": "gradient_clipped",      # dh_carry rescaled to norm 0.5 when larger, every step
    "dr_without_bh_n": "term_dropped",                # dr = dan * (h_prev @ Wh_n): bh_n left out of hn
    "dbx_n_times_r": "wrong_value",                   # dbx's n block sums dan * r (the recurrent one's) for dan
    "dan_tanh_grad_twice": "derivative_twice",        # dan = dn * (1 - n**2) * (1 - n**2)
    "dz_with_node_h": "wrong_time",                   # dz = dh * (node.h - n) (h_t for h_(t-1))
    "dWh_n_block_transposed": "gradient_transposed",  # dWh[:, 2H:] += (h_prev.T @ dhn).T
    "carry_through_dWh": "gradient_for_weight",       # dh_carry uses dWh (the gradient) for Wh
    "z_carry_through_Wh_n": "wrong_weight",           # da_z @ Wh[:, 2H:].T for Wh[:, H:2H].T in the carry
    "da_z_precedence": "derivative_miswritten",       # da_z = dz * z * 1 - z (parentheses lost)
    "h_updated_in_place": "inplace_corruption",       # h *= z; h += (1 - z) * n: every node's h_prev is one buffer
    "forward_relu_candidate": "forward_mistake",      # n = relu(...) in the forward; dan = dn * (n > 0) (consistent)
    "head_skipped_and_dz_h_t": "unknown",             # two at once: walk_stops_before_head and dz_with_node_h
}

TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "walk_from_head": "",
    "walk_stops_before_head": "",
    "carry_clipped_by_norm": "",
    "dr_without_bh_n": "r",
    "dbx_n_times_r": "n",
    "dan_tanh_grad_twice": "rn",
    "dz_with_node_h": "z",
    "dWh_n_block_transposed": "n",
    "carry_through_dWh": "",
    "z_carry_through_Wh_n": "",
    "da_z_precedence": "z",
    "h_updated_in_place": "",
    "forward_relu_candidate": "",
    "head_skipped_and_dz_h_t": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class Node:
    def __init__(self, t, x, h_prev, prev):
        self.t, self.x, self.h_prev, self.prev, self.next = t, x, h_prev, prev, None


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    relu = bug == "forward_relu_candidate"

    def forward(x, h0, Wx, Wh, bx, bh):
        N, T, _ = x.shape
        H = h0.shape[1]
        h = h0.copy()
        head = tail = None
        out = np.zeros((N, T, H), dtype=x.dtype)
        for t in range(T):
            node = Node(t, x[:, t], h, tail)
            if tail is None:
                head = node
            else:
                tail.next = node
            tail = node
            ax, ah = node.x @ Wx + bx, h @ Wh + bh
            node.r = sigmoid(ax[:, :H] + ah[:, :H])
            node.z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
            node.hn = ah[:, 2 * H:]
            a_n = ax[:, 2 * H:] + node.r * node.hn
            node.n = np.maximum(a_n, 0) if relu else np.tanh(a_n)
            if bug == "h_updated_in_place":
                h *= node.z
                h += (1 - node.z) * node.n
            else:
                h = (1 - node.z) * node.n + node.z * h
            node.h = h
            out[:, t] = h
        return out, {"head": head, "tail": tail, "Wx": Wx, "Wh": Wh, "bh_n": bh[2 * H:]}

    def backward(dh, cache):
        Wx, Wh = cache["Wx"], cache["Wh"]
        N, T, H = dh.shape
        dWx, dWh, dbx, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H, dh.dtype), np.zeros(3 * H, dh.dtype)
        dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
        dh_carry = np.zeros((N, H), dtype=dh.dtype)
        node = cache["head"] if bug == "walk_from_head" else cache["tail"]
        skip_head = bug in ("walk_stops_before_head", "head_skipped_and_dz_h_t")
        while node is not None and not (skip_head and node.prev is None):
            t, r, z, n, h_prev = node.t, node.r, node.z, node.n, node.h_prev
            g = dh[:, t] + dh_carry
            dn = g * (1 - z)
            dz = g * ((node.h if bug in ("dz_with_node_h", "head_skipped_and_dz_h_t") else h_prev) - n)
            if relu:
                dan = dn * (n > 0)
            elif bug == "dan_tanh_grad_twice":
                dan = dn * (1 - n ** 2) * (1 - n ** 2)
            else:
                dan = dn * (1 - n ** 2)
            hn = h_prev @ Wh[:, 2 * H:] if bug == "dr_without_bh_n" else node.hn
            dr = dan * hn
            dhn = dan * r
            da_r = dr * r * (1 - r)
            da_z = dz * z * 1 - z if bug == "da_z_precedence" else dz * z * (1 - z)
            dax = np.concatenate([da_r, da_z, dan], axis=1)
            dah = np.concatenate([da_r, da_z, dhn], axis=1)
            dWx += node.x.T @ dax
            dWh[:, :2 * H] += h_prev.T @ dah[:, :2 * H]
            dWh[:, 2 * H:] += (h_prev.T @ dhn).T if bug == "dWh_n_block_transposed" else h_prev.T @ dhn
            dbx += np.concatenate([da_r, da_z, dhn if bug == "dbx_n_times_r" else dan], axis=1).sum(axis=0)
            dbh += dah.sum(axis=0)
            dx[:, t] = dax @ Wx.T
            W = dWh if bug == "carry_through_dWh" else Wh
            W_z = W[:, 2 * H:] if bug == "z_carry_through_Wh_n" else W[:, H:2 * H]
            dh_carry = g * z + da_r @ W[:, :H].T + da_z @ W_z.T + dhn @ W[:, 2 * H:].T
            if bug == "carry_clipped_by_norm":
                norm = np.linalg.norm(dh_carry)
                if norm > 0.5:
                    dh_carry = dh_carry * (0.5 / norm)
            node = node.next if bug == "walk_from_head" else node.prev
        return dx, dh_carry, dWx, dWh, dbx, dbh

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    return {"Wx": p["weight_ih"].T, "Wh": p["weight_hh"].T, "bx": p["bias_ih"], "bh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dWx": "dweight_ih", "dWh": "dweight_hh", "dbx": "dbias_ih", "dbh": "dbias_hh"}
    return {names[k]: (v.T if v.ndim == 2 else v) for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="linked_nodes_gru", cells=("gru",), gate_order="rzn")
