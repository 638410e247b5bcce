"""LSTM layer (PyTorch ``nn.LSTM`` layout): forward and hand-written BPTT, side by side.

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh     (N, 4H)  pre-activation, blocks i, f, g, o
    i_t = s(a_i),  f_t = s(a_f + forget_bias)           (N, H) each
    g_t = tanh(a_g),  o_t = s(a_o)                      (N, H) each
    c_t = f_t * c_{t-1} + i_t * g_t                     (N, H)
    h_t = o_t * tanh(c_t)                               (N, H)

s is the logistic sigmoid. ``forget_bias`` is a scalar added to the f pre-activation
at call time and never stored (TF's BasicLSTMCell/LSTMCell ``forget_bias``); it is
not part of ``a_t``, so it changes no gradient formula.

Shapes: x (N, T, D), h0 and c0 (N, H), weight_ih (4H, D), weight_hh (4H, H),
bias_ih (4H,), bias_hh (4H,), h and c (N, T, H). G = 4 gate blocks, stacked along
the rows of the weights in the order i, f, g, o.

Only the recurrence loops over T. The input projection of all steps is one matrix
product before the loop; the local gate derivatives are computed for all steps at
once; the weight gradients are one matrix product over all steps after the loop,
from the pre-activation gradients ``da`` kept by it (which also give each step's
contribution, see ``lstm_step_param_grads``).
"""

import numpy as np

from ._act import sigmoid


def _prev(first, seq):
    """(N, T, H): the previous step's value for each t, ``first`` (N, H) at t = 0."""
    return np.concatenate([first[:, None], seq[:, :-1]], axis=1)


def _local_derivatives(gates, c, c0):
    """What does not depend on the backward recurrence, for all steps at once.

    Returns:
        dc_from_h (N, T, H): dc_t/dh_t along h_t = o_t tanh(c_t).
        local (N, T, 4, H): da_i/dc_t, da_f/dc_t, da_g/dc_t (c_t = f c_{t-1} + i g)
            and da_o/dh_t, where da/dc means dL/da given dL/dc = 1.
    """
    H = c.shape[2]
    i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))   # (N, T, H) each
    tanh_c = np.tanh(c)
    dc_from_h = o * (1 - tanh_c * tanh_c)
    local = np.stack([g * i * (1 - i), _prev(c0, c) * f * (1 - f),
                      i * (1 - g * g), tanh_c * o * (1 - o)], axis=2)
    return dc_from_h, local


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, forget_bias=0.0):
    """Run one LSTM layer over a whole sequence.

    Args:
        x: inputs, (N, T, D).
        h0, c0: initial hidden and cell state, (N, H) each.
        weight_ih: input-to-gates weight, (4H, D), row blocks i, f, g, o.
        weight_hh: hidden-to-gates weight, (4H, H), same blocks.
        bias_ih, bias_hh: biases, (4H,) each, or None for a layer without bias.
        forget_bias: scalar added to the f pre-activation (even without bias).

    Returns:
        h: hidden state of every step, (N, T, H).
        c: cell state of every step, (N, T, H).
        cache: what ``lstm_backward`` needs.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, c0, weight_ih, weight_hh)
    a_in = x @ weight_ih.T                                  # (N, T, 4H): all steps at once
    if bias_ih is not None:
        a_in = a_in + bias_ih + bias_hh
    a_in[..., H:2 * H] += forget_bias                       # in place: keeps the dtype
    gates = np.empty((N, T, 4 * H), dtype=dtype)            # activated i, f, g, o of every step
    h = np.empty((N, T, H), dtype=dtype)
    c = np.empty((N, T, H), dtype=dtype)
    prev_h, prev_c = h0, c0
    for t in range(T):
        a = a_in[:, t] + prev_h @ weight_hh.T               # (N, 4H)
        gate = sigmoid(a)                                   # i, f, o; g is replaced below
        gate[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
        i, f, g, o = gate[:, :H], gate[:, H:2 * H], gate[:, 2 * H:3 * H], gate[:, 3 * H:]
        next_c = f * prev_c + i * g                         # (N, H)
        next_h = o * np.tanh(next_c)                        # (N, H)
        gates[:, t], c[:, t], h[:, t] = gate, next_c, next_h
        prev_h, prev_c = next_h, next_c
    cache = (x, h0, c0, h, c, gates, weight_ih, weight_hh, bias_ih is not None)
    return h, c, cache


def lstm_backward(dh, cache, dc_n=None):
    """Backpropagate through time.

    Args:
        dh: upstream gradient of every step's hidden state, (N, T, H): what the
            loss and the layer above send into h_t, *not* the gradient carried
            back from step t+1 (that is added here).
        cache: from ``lstm_forward``.
        dc_n: optional gradient of the final cell state c_{T-1}, (N, H).

    Returns:
        dict with
            dx (N, T, D), dh0 (N, H), dc0 (N, H), dweight_ih (4H, D),
            dweight_hh (4H, H), dbias_ih (4H,) and dbias_hh (4H,) when the layer
                has bias (equal: both biases enter a_t the same way),
            dh_total (N, T, H): dL/dh_t counting every consumer (carry included),
            dc_total (N, T, H): dL/dc_t counting every consumer: h_t (through tanh),
                c_{t+1} (through f_{t+1}) and, at the last step, dc_n,
            da (N, T, 4H): dL/da_t, the pre-activation gradient of every step.
    """
    x, h0, c0, h, c, gates, weight_ih, weight_hh, has_bias = cache
    N, T, D = x.shape
    H = h0.shape[1]
    f = gates[..., H:2 * H]                                 # (N, T, H)
    dc_from_h, local = _local_derivatives(gates, c, c0)     # (N, T, H), (N, T, 4, H)
    da = np.empty_like(gates)                               # (N, T, 4H)
    da4 = da.reshape(N, T, 4, H)                            # a view: one axis for the gate blocks
    dh_total = np.empty_like(h)
    dc_total = np.empty_like(c)
    dnext_h = np.zeros((N, H), dtype=h.dtype)               # carry from step t+1
    dnext_c = np.zeros((N, H), dtype=c.dtype) if dc_n is None else dc_n
    for t in reversed(range(T)):
        dh_total[:, t] = dh[:, t] + dnext_h
        dc_total[:, t] = dnext_c + dh_total[:, t] * dc_from_h[:, t]
        da4[:, t, :3] = dc_total[:, t, None] * local[:, t, :3]
        da4[:, t, 3] = dh_total[:, t] * local[:, t, 3]
        dnext_h = da[:, t] @ weight_hh                      # (N, 4H) @ (4H, H)
        dnext_c = dc_total[:, t] * f[:, t]
    h_prev = _prev(h0, h)                                   # (N, T, H): h_{t-1} for each t
    da_flat = da.reshape(N * T, 4 * H)
    grads = {
        "dx": da @ weight_ih,                               # (N, T, D)
        "dh0": dnext_h,
        "dc0": dnext_c,
        "dweight_ih": da_flat.T @ x.reshape(N * T, D),     # (4H, D), summed over N and T
        "dweight_hh": da_flat.T @ h_prev.reshape(N * T, H),
        "dh_total": dh_total,
        "dc_total": dc_total,
        "da": da,
    }
    if has_bias:
        grads["dbias_ih"] = da_flat.sum(axis=0)             # summed, not averaged, over N and T
        grads["dbias_hh"] = grads["dbias_ih"].copy()
    return grads


def lstm_step_param_grads(grads, cache):
    """Each time step's contribution to every parameter gradient.

    Their sum over t is the shared-weight gradient returned by ``lstm_backward``.

    Returns:
        dict name -> array (T, *param shape): dweight_ih (T, 4H, D),
        dweight_hh (T, 4H, H), and dbias_ih, dbias_hh (T, 4H) when the layer has bias.
    """
    x, h0, _, h, _, _, _, _, has_bias = cache
    da = grads["da"]                                        # (N, T, 4H)
    h_prev = _prev(h0, h)
    steps = {
        "dweight_ih": np.einsum("ntg,ntd->tgd", da, x),
        "dweight_hh": np.einsum("ntg,ntk->tgk", da, h_prev),
    }
    if has_bias:
        steps["dbias_ih"] = da.sum(axis=0)
        steps["dbias_hh"] = steps["dbias_ih"].copy()
    return steps
