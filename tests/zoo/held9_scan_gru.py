"""A GRU written functionally, JAX-style but in numpy: a ``scan(step, carry, xs)`` over
time-major inputs with pure step functions that return tuples (new carry, residuals), and
a reverse scan of a pure ``step_bwd`` that returns (dcarry, dx_t, grads_t) with the grads
summed by ``tree_add``. Keras's reset-before form (reset_after=False), one bias:

    W (D, 3H), U (H, 3H), b (3H,), blocks r, z, h (h the candidate)
    r = sigmoid(x W_r + h U_r + b_r)      z = sigmoid(x W_z + h U_z + b_z)
    hh = tanh(x W_h + (r * h) U_h + b_h)   h_new = z * h + (1 - z) * hh

x (T, N, D) (axes "TND"), h0 (N, H). Ninth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dU_h_without_r": "term_dropped",                # dU_h = h.T @ dah (for (r * h).T @ dah): the factor r left out
    "drh_U_h_untransposed": "weight_transposed",     # drh = dah @ U_h (for dah @ U_h.T)
    "drh_through_U_r": "wrong_weight",               # drh = dah @ U_r.T (r's block for h's)
    "dar_sigmoid_grad_at_z": "derivative_wrong_point", # dar = dr * z * (1 - z)
    "dz_sign_flipped": "wrong_sign",                 # dz = g * (hh - h) (for h - hh)
    "dhh_reads_z": "wrong_value",                    # dhh = g * z (for g * (1 - z))
    "dah_square_outside": "derivative_miswritten",   # dah = dhh * (1 - hh) ** 2
    "reverse_scan_not_reversed": "loop_direction",   # the backward scan walks the residuals in forward order
    "reverse_scan_drops_last": "loop_skips_step",    # for res, dy in reversed(list(zip(...))[:-1])
    "driver_ignores_dcarry": "carry_dropped",        # dcarry, dx_t, g = step_bwd(dy, ...): the carry never fed back
    "candidate_buffer_reused": "inplace_corruption", # h_new = hh; h_new *= 1 - z; h_new += z * h: the cached hh becomes h_new
    "dcarry_clipped": "gradient_clipped",            # dcarry = np.clip(dcarry, -0.05, 0.05) each step
    "reset_after_forward": "forward_mistake",        # hh = tanh(x W_h + r * (h U_h) + b_h); backward consistent
    "dah_scaled_point_eight": "unknown",             # dah = dhh * (1 - hh**2) * 0.8: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dU_h_without_r":             "n",
    "drh_U_h_untransposed":       "r",
    "drh_through_U_r":            "r",
    "dar_sigmoid_grad_at_z":      "r",
    "dz_sign_flipped":            "z",
    "dhh_reads_z":                "rn",
    "dah_square_outside":         "rn",
    "reverse_scan_not_reversed":  "",
    "reverse_scan_drops_last":    "",
    "driver_ignores_dcarry":      "",
    "candidate_buffer_reused":    "",
    "dcarry_clipped":             "",
    "reset_after_forward":        "",
    "dah_scaled_point_eight":     "rn",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def scan(f, carry, xs):
    ys = []
    for x in xs:
        carry, y = f(carry, x)
        ys.append(y)
    return carry, ys


def tree_add(a, b):
    return tuple(u + v for u, v in zip(a, b))


def step_fwd(params, carry, x, bug=None):
    W, U, b = params
    H = carry.shape[1]
    h = carry
    ax = x @ W + b
    r = sigmoid(ax[:, :H] + h @ U[:, :H])
    z = sigmoid(ax[:, H:2 * H] + h @ U[:, H:2 * H])
    if bug == "reset_after_forward":
        hh = np.tanh(ax[:, 2 * H:] + r * (h @ U[:, 2 * H:]))
    else:
        hh = np.tanh(ax[:, 2 * H:] + (r * h) @ U[:, 2 * H:])
    if bug == "candidate_buffer_reused":
        h_new = hh
        h_new *= 1 - z
        h_new += z * h
    else:
        h_new = z * h + (1 - z) * hh
    return h_new, (x, h, r, z, hh, h_new)


def step_bwd(params, dcarry, dy, res, bug=None):
    W, U, b = params
    x, h, r, z, hh, h_new = res
    H = h.shape[1]
    U_r, U_z, U_h = U[:, :H], U[:, H:2 * H], U[:, 2 * H:]
    g = dy + dcarry
    omz = 1 - z
    dhh = g * (z if bug == "dhh_reads_z" else omz)
    dz = g * (hh - h) if bug == "dz_sign_flipped" else g * (h - hh)
    dh = g * z
    if bug == "dah_square_outside":
        dah = dhh * (1 - hh) ** 2
    elif bug == "dah_scaled_point_eight":
        dah = dhh * (1 - hh ** 2) * 0.8
    else:
        dah = dhh * (1 - hh ** 2)
    if bug == "reset_after_forward":
        hU = h @ U_h
        dr = dah * hU
        drh = None
        dh = dh + (dah * r) @ U_h.T
    else:
        if bug == "drh_U_h_untransposed":
            drh = dah @ U_h
        elif bug == "drh_through_U_r":
            drh = dah @ U_r.T
        else:
            drh = dah @ U_h.T
        dr = drh * h
        dh = dh + drh * r
    dar = dr * z * (1 - z) if bug == "dar_sigmoid_grad_at_z" else dr * r * (1 - r)
    daz = dz * z * (1 - z)
    da = np.concatenate([dar, daz, dah], axis=1)
    dW = x.T @ da
    if bug == "reset_after_forward":
        dU_h = h.T @ (dah * r)
    else:
        dU_h = h.T @ dah if bug == "dU_h_without_r" else (r * h).T @ dah
    dU = np.concatenate([h.T @ dar, h.T @ daz, dU_h], axis=1)
    db = da.sum(axis=0)
    dx = da @ W.T
    dh = dh + dar @ U_r.T + daz @ U_z.T
    return dh, dx, (dW, dU, db)


def gru_forward(xs, h0, W, U, b, bug=None):
    params = (W, U, b)
    _, residuals = scan(lambda c, x: step_fwd(params, c, x, bug), h0, xs)
    h = np.stack([res[-1] for res in residuals])
    return h, (params, residuals)


def gru_backward(dys, cache, bug=None):
    params, residuals = cache
    pairs = list(zip(residuals, dys))
    if bug == "reverse_scan_not_reversed":
        order = pairs
    elif bug == "reverse_scan_drops_last":
        order = reversed(pairs[:-1])
    else:
        order = reversed(pairs)
    dcarry = np.zeros_like(residuals[0][1])
    grads = tuple(np.zeros_like(p) for p in params)
    dxs = [None] * len(pairs)
    for res, dy in order:
        t = next(k for k, r in enumerate(residuals) if r is res)
        new_dcarry, dxs[t], g = step_bwd(params, dcarry, dy, res, bug)
        if bug != "driver_ignores_dcarry":
            dcarry = new_dcarry
        if bug == "dcarry_clipped":
            dcarry = np.clip(dcarry, -0.05, 0.05)
        grads = tree_add(grads, g)
    if bug == "driver_ignores_dcarry":
        dcarry = new_dcarry
    dxs = [np.zeros_like(residuals[0][0]) if d is None else d for d in dxs]
    return (np.stack(dxs), dcarry, *grads)


def to_user(cell, p):
    return {"W": p["weight_ih"].T.copy(), "U": p["weight_hh"].T.copy(), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = grads["dW"].T
    if "dU" in grads:
        out["dweight_hh"] = grads["dU"].T
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="scan_gru", cells=("gru",), axes="TND",
                               gate_order="rzh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(xs, h0, W, U, b):
        return gru_forward(xs, h0, W, U, b, bug)

    def backward(dys, cache):
        return gru_backward(dys, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}
