"""A vanilla RNN written "JAX style" by hand: a pure step function that returns the new state
and its own vector-Jacobian product as a closure; the backward composes the closures in
reverse and adds up the parameter gradients like a tree_map. Time-major, parameters in a dict:

    xs (T, N, D), h0 (N, H), params {"Wxh": (D, H), "Whh": (H, H), "bh": (H,)}
    h_new = tanh(x @ Wxh + h @ Whh + bh)
    vjp(g) -> (dparams, dh, dx)

Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "vjp_no_tanh_grad": "derivative_missing",            # da = g (the tanh' factor left out)
    "vjp_tanh_grad_of_preact": "derivative_wrong_point",  # da = g * (1 - a ** 2): tanh' written on a, not on tanh(a)
    "vjp_tanh_grad_sign": "wrong_sign",                   # da = g * (h_new ** 2 - 1)
    "dh_Whh_not_transposed": "weight_transposed",        # dh = da @ Whh (Whh.T is right)
    "dh_from_dWhh": "gradient_for_weight",                # dh = da @ dparams["Whh"].T
    "dWhh_with_h_new": "wrong_time",                      # dWhh = h_new.T @ da (h_new for the h the step read)
    "g_without_carry": "carry_dropped",                   # f(dhs[t]) instead of f(dhs[t] + dh)
    "tree_map_replaces": "carry_overwrites",              # grads = dp (the last closure's gradients win)
    "enumerate_from_one": "loop_skips_step",              # list(enumerate(vjps))[1:]: step 0's closure never called
    "dbh_batch_mean": "reduction_scaled",                 # dbh = da.mean(0)
    "closures_in_time_order": "loop_direction",           # for t, f in enumerate(vjps): composed forward in time
    "stop_gradient_after_3": "truncated_bptt",            # the carry set to zero after three closures
    "clip_dh_between_steps": "gradient_clipped",          # dh = np.clip(dh, -0.05, 0.05) after each closure
    "forward_h_times_Whh_T": "forward_mistake",           # h @ Whh.T in the step; the vjp consistent with it
    "no_tanh_grad_and_dbh_mean": "unknown",               # vjp_no_tanh_grad and dbh_batch_mean at once
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "vjp_no_tanh_grad": "",
    "vjp_tanh_grad_of_preact": "",
    "vjp_tanh_grad_sign": "",
    "dh_Whh_not_transposed": "",
    "dh_from_dWhh": "",
    "dWhh_with_h_new": "",
    "g_without_carry": "",
    "tree_map_replaces": "",
    "enumerate_from_one": "",
    "dbh_batch_mean": "",
    "closures_in_time_order": "",
    "stop_gradient_after_3": "",
    "clip_dh_between_steps": "",
    "forward_h_times_Whh_T": "",
    "no_tanh_grad_and_dbh_mean": "",
}


def step(params, h, x, bug=None):
    """One pure step: (params, h, x) -> (h_new, vjp)."""
    Wxh, Whh, bh = params["Wxh"], params["Whh"], params["bh"]
    rec = h @ Whh.T if bug == "forward_h_times_Whh_T" else h @ Whh
    a = x @ Wxh + rec + bh
    h_new = np.tanh(a)

    def vjp(g):
        if bug in ("vjp_no_tanh_grad", "no_tanh_grad_and_dbh_mean"):
            da = g
        elif bug == "vjp_tanh_grad_of_preact":
            da = g * (1 - a ** 2)
        elif bug == "vjp_tanh_grad_sign":
            da = g * (h_new ** 2 - 1)
        else:
            da = g * (1 - h_new ** 2)
        if bug == "forward_h_times_Whh_T":
            dWhh = da.T @ h
        elif bug == "dWhh_with_h_new":
            dWhh = h_new.T @ da
        else:
            dWhh = h.T @ da
        dbh = da.mean(0) if bug in ("dbh_batch_mean", "no_tanh_grad_and_dbh_mean") else da.sum(0)
        dparams = {"Wxh": x.T @ da, "Whh": dWhh, "bh": dbh}
        if bug in ("dh_Whh_not_transposed", "forward_h_times_Whh_T"):
            dh = da @ Whh
        elif bug == "dh_from_dWhh":
            dh = da @ dparams["Whh"].T
        else:
            dh = da @ Whh.T
        return dparams, dh, da @ Wxh.T

    return h_new, vjp


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def rnn_forward(xs, h0, params):
        h, hs, vjps = h0, [], []
        for x in xs:
            h, f = step(params, h, x, bug)
            hs.append(h)
            vjps.append(f)
        return np.stack(hs), (vjps, xs, params)

    def rnn_backward(dhs, cache):
        vjps, xs, params = cache
        grads = None
        dh = np.zeros_like(dhs[0])
        dxs = np.zeros_like(xs)
        order = list(enumerate(vjps))
        if bug == "enumerate_from_one":
            order = order[1:]
        if bug != "closures_in_time_order":
            order = order[::-1]
        for k, (t, f) in enumerate(order):
            if bug == "stop_gradient_after_3" and k == 3:
                dh = np.zeros_like(dh)
            g = dhs[t] if bug == "g_without_carry" else dhs[t] + dh
            dp, dh, dxs[t] = f(g)
            if grads is None or bug == "tree_map_replaces":
                grads = dp
            else:
                grads = {name: grads[name] + dp[name] for name in grads}
            if bug == "clip_dh_between_steps":
                dh = np.clip(dh, -0.05, 0.05)
        if grads is None:
            grads = {name: np.zeros_like(v) for name, v in params.items()}
        return {"dx": dxs, "dh0": dh, **{"d" + name: v for name, v in grads.items()}}

    return rnn_forward, rnn_backward, {"cell": "rnn", "layout": LAYOUT}


def to_user(cell, p):
    return {"Wxh": p["weight_ih"].T, "Whh": p["weight_hh"].T, "bh": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {}
    if "dWxh" in g:
        out["dweight_ih"] = g["dWxh"].T
    if "dWhh" in g:
        out["dweight_hh"] = g["dWhh"].T
    if "dbh" in g:
        out["dbias_ih"] = g["dbh"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="jax_style_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")
