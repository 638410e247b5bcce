"""GRU layer (PyTorch ``nn.GRU`` layout): forward and hand-written BPTT, side by side.

    a_x_t = x_t W_ih^T + b_ih                       (N, 3H)  input projection, blocks r, z, n
    r_t = s(a_x_r + h_{t-1} W_hr^T + b_hr)          (N, H)
    z_t = s(a_x_z + h_{t-1} W_hz^T + b_hz)          (N, H)
    reset_after=True  (torch, Keras default):
        a_h_n = h_{t-1} W_hn^T + b_hn;          n_t = tanh(a_x_n + r_t * a_h_n)
    reset_after=False (TF1 GRUCell, Keras reset_after=False):
        a_h_n = (r_t * h_{t-1}) W_hn^T + b_hn;  n_t = tanh(a_x_n + a_h_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}           (N, H)

s is the logistic sigmoid. The recurrent projection a_h_t (N, 3H) is
h_{t-1} W_hh^T + b_hh in the r and z blocks; its n block is a_h_n above, whose
matrix product reads ``hn_in_t``: h_{t-1} (reset_after) or r_t * h_{t-1} (not).

Shapes: x (N, T, D), h0 (N, H), weight_ih (3H, D), weight_hh (3H, H),
bias_ih (3H,), bias_hh (3H,), h (N, T, H). G = 3 gate blocks, stacked along the
rows of the weights in the order r, z, n.

Only the recurrence loops over T. The input projection of all steps is one matrix
product before the loop; the weight gradients are matrix products over all steps
after it, from the projection gradients ``da_x`` and ``da_h`` kept by the loop
(which also give each step's contribution, see ``gru_step_param_grads``).
Unlike the Elman RNN and the LSTM, dbias_ih != dbias_hh in general: with
reset_after=True, b_hn is scaled by r_t and b_in is not, so their n blocks differ
(with reset_after=False, and in the r and z blocks, the two are equal).
"""

import numpy as np

from ._act import sigmoid


def _linear(v, weight, bias):
    """v @ weight.T (+ bias): v (..., K), weight (M, K), bias (M,) or None -> (..., M)."""
    a = v @ weight.T
    return a if bias is None else a + bias


def _prev(first, seq):
    """(N, T, H): the previous step's value for each t, ``first`` (N, H) at t = 0."""
    return np.concatenate([first[:, None], seq[:, :-1]], axis=1)


def _local_derivatives(gates, h_prev):
    """What does not depend on the backward recurrence, for all steps at once.

    Returns (N, T, H) each: dn_pre and dz_pre, the n and z pre-activation gradients
    per unit of dL/dh_t, and dr_pre = s'(r pre-activation).
    """
    H = h_prev.shape[2]
    r, z, n = gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:]
    return (1 - z) * (1 - n * n), (h_prev - n) * z * (1 - z), r * (1 - r)


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reset_after=True):
    """Run one GRU layer over a whole sequence.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        weight_ih: input-to-gates weight, (3H, D), row blocks r, z, n.
        weight_hh: hidden-to-gates weight, (3H, H), same blocks.
        bias_ih, bias_hh: biases, (3H,) each, or None for a layer without bias.
        reset_after: apply r after the n block's recurrent product (True) or to
            h_{t-1} before it (False).

    Returns:
        h: hidden state of every step, (N, T, H).
        cache: what ``gru_backward`` needs.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, weight_ih, weight_hh)
    a_x = _linear(x, weight_ih, bias_ih)                    # (N, T, 3H): all steps at once
    w_rz, w_n = weight_hh[:2 * H], weight_hh[2 * H:]        # (2H, H), (H, H)
    b_rz, b_n = (None, None) if bias_hh is None else (bias_hh[:2 * H], bias_hh[2 * H:])
    gates = np.empty((N, T, 3 * H), dtype=dtype)            # activated r, z, n of every step
    a_hn = np.empty((N, T, H), dtype=dtype)                 # n block of the recurrent projection
    hn_in = np.empty((N, T, H), dtype=dtype)                # what that block's matmul reads
    h = np.empty((N, T, H), dtype=dtype)
    prev_h = h0
    for t in range(T):
        rz = sigmoid(a_x[:, t, :2 * H] + _linear(prev_h, w_rz, b_rz))  # (N, 2H)
        r, z = rz[:, :H], rz[:, H:]
        hn_in[:, t] = prev_h if reset_after else r * prev_h
        a_hn[:, t] = _linear(hn_in[:, t], w_n, b_n)                      # (N, H)
        n = np.tanh(a_x[:, t, 2 * H:] + (r * a_hn[:, t] if reset_after else a_hn[:, t]))
        next_h = (1 - z) * n + z * prev_h                                 # (N, H)
        gates[:, t, :2 * H], gates[:, t, 2 * H:], h[:, t] = rz, n, next_h
        prev_h = next_h
    cache = (x, h0, h, gates, a_hn, hn_in, weight_ih, weight_hh, bias_ih is not None, reset_after)
    return h, cache


def gru_backward(dh, cache):
    """Backpropagate through time.

    Args:
        dh: upstream gradient of every step's hidden state, (N, T, H): what the
            loss and the layer above send into h_t, *not* the gradient carried
            back from step t+1 (that is added here).
        cache: from ``gru_forward``.

    Returns:
        dict with
            dx (N, T, D), dh0 (N, H), dweight_ih (3H, D), dweight_hh (3H, H),
            dbias_ih (3H,) and dbias_hh (3H,) when the layer has bias (not equal),
            dh_total (N, T, H): dL/dh_t counting every consumer (carry included),
            da_x (N, T, 3H): dL/d(x_t W_ih^T + b_ih),
            da_h (N, T, 3H): dL/da_h_t, the recurrent projection (its n block is
                a_h_n of the module docstring, for either value of reset_after).
    """
    x, h0, h, gates, a_hn, hn_in, weight_ih, weight_hh, has_bias, reset_after = cache
    N, T, D = x.shape
    H = h0.shape[1]
    r, z = gates[..., :H], gates[..., H:2 * H]              # (N, T, H) each
    h_prev = _prev(h0, h)                                   # (N, T, H): h_{t-1} for each t
    dn_pre, dz_pre, dr_pre = _local_derivatives(gates, h_prev)
    w_rz, w_n = weight_hh[:2 * H], weight_hh[2 * H:]
    da_x, da_h = np.empty_like(gates), np.empty_like(gates)    # (N, T, 3H) each
    dh_total = np.empty_like(h)
    dnext_h = np.zeros((N, H), dtype=h.dtype)               # carry from step t+1
    for t in reversed(range(T)):
        dh_total[:, t] = dh[:, t] + dnext_h
        dh_t = dh_total[:, t]                               # (N, H), in the layer's dtype
        da_xn = dh_t * dn_pre[:, t]                         # n block of da_x
        da_hn = da_xn * r[:, t] if reset_after else da_xn   # n block of da_h
        dhn_in = da_hn @ w_n                                # dL/dhn_in_t, (N, H)
        dr = da_xn * a_hn[:, t] if reset_after else dhn_in * h_prev[:, t]
        da_x[:, t, :H] = dr * dr_pre[:, t]
        da_x[:, t, H:2 * H] = dh_t * dz_pre[:, t]
        da_x[:, t, 2 * H:] = da_xn
        da_h[:, t, 2 * H:] = da_hn
        dnext_h = (dh_t * z[:, t] + da_x[:, t, :2 * H] @ w_rz
                   + (dhn_in if reset_after else dhn_in * r[:, t]))
    da_h[..., :2 * H] = da_x[..., :2 * H]                   # r, z: a_x and a_h enter the same sum
    da_x_flat, da_h_flat = da_x.reshape(N * T, 3 * H), da_h.reshape(N * T, 3 * H)
    grads = {
        "dx": da_x @ weight_ih,                             # (N, T, D)
        "dh0": dnext_h,
        "dweight_ih": da_x_flat.T @ x.reshape(N * T, D),   # (3H, D), summed over N and T
        "dweight_hh": np.concatenate([                     # (3H, H): n rows pair with hn_in
            da_h_flat[:, :2 * H].T @ h_prev.reshape(N * T, H),
            da_h_flat[:, 2 * H:].T @ hn_in.reshape(N * T, H)]),
        "dh_total": dh_total,
        "da_x": da_x,
        "da_h": da_h,
    }
    if has_bias:
        grads["dbias_ih"] = da_x_flat.sum(axis=0)           # summed, not averaged, over N and T
        grads["dbias_hh"] = da_h_flat.sum(axis=0)
    return grads


def gru_step_param_grads(grads, cache):
    """Each time step's contribution to every parameter gradient.

    Their sum over t is the shared-weight gradient returned by ``gru_backward``.

    Returns:
        dict name -> array (T, *param shape): dweight_ih (T, 3H, D),
        dweight_hh (T, 3H, H), and dbias_ih, dbias_hh (T, 3H) when the layer has bias.
    """
    x, h0, h, _, _, hn_in, _, _, has_bias, _ = cache
    H = h0.shape[1]
    da_x, da_h = grads["da_x"], grads["da_h"]               # (N, T, 3H) each
    h_prev = _prev(h0, h)
    steps = {
        "dweight_ih": np.einsum("ntg,ntd->tgd", da_x, x),
        "dweight_hh": np.concatenate([
            np.einsum("ntg,ntk->tgk", da_h[..., :2 * H], h_prev),
            np.einsum("ntg,ntk->tgk", da_h[..., 2 * H:], hn_in)], axis=1),
    }
    if has_bias:
        steps["dbias_ih"] = da_x.sum(axis=0)
        steps["dbias_hh"] = da_h.sum(axis=0)
    return steps
