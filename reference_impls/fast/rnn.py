"""Elman (vanilla) RNN layer: forward and hand-written BPTT, side by side.

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        (N, H)   pre-activation
    h_t = act(a_t)                                          (N, H)

Shapes: x (N, T, D), h0 (N, H), weight_ih (H, D), weight_hh (H, H),
bias_ih (H,), bias_hh (H,), h (N, T, H).

Only the recurrence loops over T. Inside, arrays are time-major (T, N, H) so that
each step's slice is contiguous; what is returned is batch-major again. The input projection of all steps is one
matrix product before the loop; the weight gradients are one matrix product
over all steps after it, from the pre-activation gradients ``da`` kept by the
loop (which also give each step's contribution, see ``rnn_step_param_grads``).
"""

import numpy as np

from .._act import ACTIVATIONS


def rnn_forward(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, activation="tanh"):
    """Run one RNN layer over a whole sequence.

    Args:
        x: inputs, (N, T, D).
        h0: initial hidden state, (N, H).
        weight_ih: input-to-hidden weight, (H, D).
        weight_hh: hidden-to-hidden weight, (H, H).
        bias_ih, bias_hh: biases, (H,) each, or None for a layer without bias.
        activation: "tanh", "relu", "sigmoid" or "identity".

    Returns:
        h: hidden state of every step, (N, T, H).
        cache: what ``rnn_backward`` needs.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    act, _ = ACTIVATIONS[activation]
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))       # (T, N, D): time-major, so every
    a = (x_tm.reshape(T * N, D) @ weight_ih.T).reshape(T, N, H)  # a[t] is contiguous (T, N, H)
    if bias_ih is not None:
        a += bias_ih + bias_hh
    w_hh_t = np.ascontiguousarray(weight_hh.T)              # (H, H); measured ~3x faster per step than the view
    h_tm = np.empty_like(a)                                 # (T, N, H)
    prev_h = h0
    for t in range(T):
        a[t] += prev_h @ w_hh_t                             # (N, H): the only recurrent work
        prev_h = h_tm[t] = act(a[t])
    h = h_tm.transpose(1, 0, 2)                             # (N, T, H) view
    cache = (x_tm, h0, h_tm, weight_ih, weight_hh, bias_ih is not None, activation)
    return h, cache


def rnn_backward(dh, cache):
    """Backpropagate through time.

    Args:
        dh: upstream gradient of every step's hidden state, (N, T, H): what the
            loss and the layer above send into h_t, *not* the gradient carried
            back from step t+1 (that is added here).
        cache: from ``rnn_forward``.

    Returns:
        dict with
            dx (N, T, D), dh0 (N, H), dweight_ih (H, D), dweight_hh (H, H),
            dbias_ih (H,) and dbias_hh (H,) when the layer has bias,
            dh_total (N, T, H): dL/dh_t counting every consumer (carry included),
            da (N, T, H): dL/da_t, the pre-activation gradient of every step.
    """
    x_tm, h0, h_tm, weight_ih, weight_hh, has_bias, activation = cache
    T, N, D = x_tm.shape
    H = h0.shape[1]
    _, act_grad = ACTIVATIONS[activation]
    dh_tm = dh.transpose(1, 0, 2)                           # (T, N, H) view
    dact = act_grad(h_tm)                                   # (T, N, H): act'(a_t), from the output h_t
    dh_total = np.empty_like(h_tm)                          # (T, N, H)
    da = np.empty_like(h_tm)                                # (T, N, H)
    dnext_h = np.zeros_like(h0)                             # carry from step t+1, (N, H)
    for t in reversed(range(T)):
        np.add(dh_tm[t], dnext_h, out=dh_total[t])
        np.multiply(dh_total[t], dact[t], out=da[t])
        dnext_h = da[t] @ weight_hh                         # (N, H) @ (H, H): forward was h W^T
    h_prev = np.concatenate([h0[None], h_tm[:-1]])          # (T, N, H): h_{t-1} for each t
    da_flat = da.reshape(T * N, H)
    grads = {
        "dx": (da_flat @ weight_ih).reshape(T, N, D).transpose(1, 0, 2),   # (N, T, D)
        "dh0": dnext_h,
        "dweight_ih": da_flat.T @ x_tm.reshape(T * N, D),   # (H, D), summed over N and T
        "dweight_hh": da_flat.T @ h_prev.reshape(T * N, H),
        "dh_total": dh_total.transpose(1, 0, 2),            # (N, T, H)
        "da": da.transpose(1, 0, 2),                        # (N, T, H)
    }
    if has_bias:
        grads["dbias_ih"] = da_flat.sum(axis=0)             # summed, not averaged, over N and T
        grads["dbias_hh"] = grads["dbias_ih"].copy()
    return grads


def rnn_step_param_factors(grads, cache):
    """Each time step's contribution to every parameter gradient, as factors (no product yet).

    Returns:
        dict name -> (left (T, N, H), ((rows, right (T, N, C)), ...)) for the weights: at
        step t the contribution's ``rows`` are ``left[t][:, rows].T @ right[t]``
        (dweight_ih pairs dL/da_t with x_t, dweight_hh with h_{t-1}); and the per-step bias
        contributions (T, H) themselves when the layer has bias.
    """
    x_tm, h0, h_tm, _, _, has_bias, _ = cache
    da = grads["da"].transpose(1, 0, 2)                     # (T, N, H): time-major, no copy
    h_prev = np.concatenate([h0[None], h_tm[:-1]])          # (T, N, H): h_{t-1} for each t
    everything = slice(None)
    out = {"dweight_ih": (da, ((everything, x_tm),)), "dweight_hh": (da, ((everything, h_prev),))}
    if has_bias:
        out["dbias_ih"] = da.sum(axis=1)
        out["dbias_hh"] = out["dbias_ih"].copy()
    return out


def rnn_step_param_grads(grads, cache):
    """Each time step's contribution to every parameter gradient, (T, *param shape) each.

    Their sum over t is the shared-weight gradient returned by ``rnn_backward``:
    dweight_ih (T, H, D), dweight_hh (T, H, H), and dbias_ih, dbias_hh (T, H) when the
    layer has bias. One batched matrix product per weight (see ``rnn_step_param_factors``).
    """
    return materialize(rnn_step_param_factors(grads, cache))


def materialize(factors):
    """Per-step contributions (T, R, C) from ``*_step_param_factors``: one batched product per block."""
    out = {}
    for name, value in factors.items():
        if not isinstance(value, tuple):
            out[name] = value
            continue
        left, blocks = value
        T, _, R = left.shape
        out[name] = full = np.empty((T, R, blocks[0][1].shape[2]), dtype=np.result_type(left, blocks[0][1]))
        for rows, right in blocks:
            np.matmul(left[:, :, rows].transpose(0, 2, 1), right, out=full[:, rows])
    return out
