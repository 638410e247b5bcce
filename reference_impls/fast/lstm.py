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

Only the recurrence loops over T. Inside, arrays are time-major (T, N, .) so that
each step's slice is contiguous; what is returned is batch-major again. The states
are kept with the initial one in front (h_all[t + 1] = h_t, h_all[0] = h0), so
h_all[t] is h_{t-1} without a copy. The input projection of all steps is one matrix
product before the loop; the weight gradients are one matrix product over all steps
after it, from the pre-activation gradients ``da`` kept by the loop (which also give
each step's contribution, see ``lstm_step_param_grads``). Each step works in place on
its (N, 4H) row of ``gates`` (sigmoid on i, f and o, tanh on g). The backward computes
every factor that does not depend on the carries for all steps at once, so that its loop
does only what the carries need (see ``_gate_scales`` for the gates' derivatives).
"""

import numpy as np

from .._act import sigmoid_
from .rnn import materialize


def _split(a):
    """The i, f, g, o blocks of a gate array (N, 4H): four (N, H) views."""
    H = a.shape[1] // 4
    return a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]


def _gate_scales(N, H, dtype):
    """(N, 4H) each: every gate is half * tanh(half * a) + shift.

    s(a) = 0.5 tanh(a / 2) + 0.5, so with half = 0.5, shift = 0.5 in i, f, o and
    half = 1, shift = 0 in g, every gate's derivative is one formula for all four
    blocks: d gate / da = half^2 - (gate - shift)^2, that is s (1 - s), or 1 - g^2.
    """
    half = np.full((N, 4 * H), 0.5, dtype=dtype)
    half[:, 2 * H:3 * H] = 1.0
    return half, 1.0 - half


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
    w_hh_t = np.ascontiguousarray(weight_hh.T, dtype=dtype)   # (H, 4H); faster per step than a view
    bias = np.zeros(4 * H, dtype=dtype)                     # b_ih + b_hh, with forget_bias in f
    if bias_ih is not None:
        bias += bias_ih + bias_hh
    bias[H:2 * H] += forget_bias
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dtype)   # (T, N, D): time-major
    # gates (T, N, 4H): the input part of a_t (bias included) for all steps at once, then
    # (in place, step by step) a_t and the activated i, f, g, o, which the backward reads
    gates = (x_tm.reshape(T * N, D) @ weight_ih.T.astype(dtype, copy=False)).reshape(T, N, 4 * H)
    gates += bias
    h_all = np.empty((T + 1, N, H), dtype=dtype)            # h_all[t + 1] = h_t, h_all[0] = h0
    c_all = np.empty((T + 1, N, H), dtype=dtype)            # c_all[t + 1] = c_t, c_all[0] = c0
    h_all[0], c_all[0] = h0, c0
    tanh_c = np.empty((T, N, H), dtype=dtype)               # tanh(c_t), kept for the backward
    a_h = np.empty((N, 4 * H), dtype=dtype)                 # h_{t-1} W_hh^T, every step
    ig = np.empty((N, H), dtype=dtype)                      # i_t * g_t, reused every step
    for t in range(T):
        a = gates[t]                                        # (N, 4H), activated in place
        a += np.matmul(h_all[t], w_hh_t, out=a_h)           # a_t
        i, f, g, o = _split(a)                              # (N, H) views
        sigmoid_(a[:, :2 * H])                              # i_t, f_t
        np.tanh(g, out=g)                                   # g_t
        sigmoid_(o)                                         # o_t
        np.multiply(f, c_all[t], out=c_all[t + 1])          # c_t = f c_{t-1} + i g
        c_all[t + 1] += np.multiply(i, g, out=ig)
        np.multiply(o, np.tanh(c_all[t + 1], out=tanh_c[t]), out=h_all[t + 1])   # h_t = o tanh(c_t)
    cache = (x_tm, h_all, c_all, gates, weight_ih, weight_hh, bias_ih is not None, tanh_c)
    return h_all[1:].transpose(1, 0, 2), c_all[1:].transpose(1, 0, 2), cache   # (N, T, H) views


def lstm_gates(cache):
    """The activated gates i, f, g, o of every step, (N, T, 4H), from ``lstm_forward``'s cache."""
    return cache[3].transpose(1, 0, 2)


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
    x_tm, h_all, c_all, gates, weight_ih, weight_hh, has_bias, tanh_c = cache
    T, N, D = x_tm.shape
    H = c_all.shape[2]
    dh_tm = dh.transpose(1, 0, 2)                           # (T, N, H) view
    # Everything that does not depend on the carries, for all steps at once (T, N, .):
    half, shift = _gate_scales(N, H, gates.dtype)
    dact = np.subtract(gates, shift)                        # d gate / d a = half^2 - (gate - shift)^2:
    np.square(dact, out=dact)                               #   s (1 - s) in i, f, o; 1 - g^2 in g
    np.subtract(half * half, dact, out=dact)
    i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))
    # dL/da of the blocks i, f, g = dc_t * coef_ifg (c_t = f c_{t-1} + i g), of o = dh_t * coef_o
    # (h_t = o tanh(c_t)); dc_t = dh_t * coef_c + carry (through tanh(c_t))
    coef = np.empty_like(gates).reshape(T, N, 4, H)
    np.multiply(g, dact[..., :H], out=coef[:, :, 0])
    np.multiply(c_all[:-1], dact[..., H:2 * H], out=coef[:, :, 1])
    np.multiply(i, dact[..., 2 * H:3 * H], out=coef[:, :, 2])
    np.multiply(tanh_c, dact[..., 3 * H:], out=coef[:, :, 3])
    del dact
    coef_c = np.square(tanh_c)
    np.subtract(1.0, coef_c, out=coef_c)
    coef_c *= o
    da = np.empty_like(gates)                               # (T, N, 4H)
    dh_total, dc_total = np.empty_like(c_all[1:]), np.empty_like(c_all[1:])   # (T, N, H) each
    dnext_h = np.zeros_like(c_all[0])                       # carry from step t+1, (N, H)
    dnext_c = np.zeros_like(c_all[0]) if dc_n is None else dc_n.astype(c_all.dtype)   # a copy
    for t in reversed(range(T)):
        dh_t = np.add(dh_tm[t], dnext_h, out=dh_total[t])   # upstream + carry from step t+1
        dc_t = np.multiply(dh_t, coef_c[t], out=dc_total[t])
        dc_t += dnext_c                                     # + carry from c_{t+1}
        blocks = da[t].reshape(N, 4, H)
        np.multiply(coef[t, :, :3], dc_t[:, None], out=blocks[:, :3])   # da of i, f, g
        np.multiply(coef[t, :, 3], dh_t, out=blocks[:, 3])               # da of o
        np.matmul(da[t], weight_hh, out=dnext_h)            # carries to step t-1, through
        np.multiply(dc_t, f[t], out=dnext_c)                #   h_{t-1} W_hh^T and f c_{t-1}
    da_flat = da.reshape(T * N, 4 * H)
    grads = {
        "dx": (da_flat @ weight_ih).reshape(T, N, D).transpose(1, 0, 2),   # (N, T, D)
        "dh0": dnext_h,
        "dc0": dnext_c,
        "dweight_ih": da_flat.T @ x_tm.reshape(T * N, D),   # (4H, D), summed over N and T
        "dweight_hh": da_flat.T @ h_all[:-1].reshape(T * N, H),   # h_all[:-1]: h_{t-1} for each t
        "dh_total": dh_total.transpose(1, 0, 2),            # (N, T, H)
        "dc_total": dc_total.transpose(1, 0, 2),            # (N, T, H)
        "da": da.transpose(1, 0, 2),                        # (N, T, 4H)
    }
    if has_bias:
        grads["dbias_ih"] = da_flat.sum(axis=0)             # summed, not averaged, over N and T
        grads["dbias_hh"] = grads["dbias_ih"].copy()
    return grads


def lstm_step_param_factors(grads, cache):
    """Each time step's contribution to every parameter gradient, as factors: dweight_ih
    pairs dL/da_t (T, N, 4H) with x_t, dweight_hh with h_{t-1}; the per-step bias
    contributions (T, 4H) themselves. See ``rnn.rnn_step_param_factors`` for the form."""
    x_tm, h_all, _, _, _, _, has_bias, _ = cache
    da = grads["da"].transpose(1, 0, 2)                     # (T, N, 4H): time-major, no copy
    everything = slice(None)
    out = {"dweight_ih": (da, ((everything, x_tm),)),
           "dweight_hh": (da, ((everything, h_all[:-1]),))}  # h_all[:-1]: h_{t-1} for each t
    if has_bias:
        out["dbias_ih"] = da.sum(axis=1)
        out["dbias_hh"] = out["dbias_ih"].copy()
    return out


def lstm_step_param_grads(grads, cache):
    """Each time step's contribution to every parameter gradient (their sum over t is the
    shared-weight gradient returned by ``lstm_backward``): dweight_ih (T, 4H, D),
    dweight_hh (T, 4H, H), and dbias_ih, dbias_hh (T, 4H) when the layer has bias."""
    return materialize(lstm_step_param_factors(grads, cache))
