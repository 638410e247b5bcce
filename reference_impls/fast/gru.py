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

Only the recurrence loops over T. Inside, arrays are time-major (T, N, .) so that
each step's slice is contiguous; what is returned is batch-major again. The hidden
states are kept with h0 in front (h_all[t + 1] = h_t, h_all[0] = h0), so h_all[t]
is h_{t-1} without a copy. The input projection of all steps is one matrix product
before the loop; the weight gradients are matrix products over all steps after it,
from the projection gradients ``da_x`` and ``da_h`` kept by the loop (which also
give each step's contribution, see ``gru_step_param_grads``).
Unlike the Elman RNN and the LSTM, dbias_ih != dbias_hh in general: with
reset_after=True, b_hn is scaled by r_t and b_in is not, so their n blocks differ
(with reset_after=False, and in the r and z blocks, the two are equal).
"""

import numpy as np

from .._act import sigmoid_
from .rnn import materialize


def _split(a):
    """The r, z, n blocks of a gate array (N, 3H): three (N, H) views."""
    H = a.shape[1] // 3
    return a[:, :H], a[:, H:2 * H], a[:, 2 * H:]


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
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dtype)   # (T, N, D): time-major
    gates = (x_tm.reshape(T * N, D) @ weight_ih.T).reshape(T, N, 3 * H)  # (T, N, 3H): all steps
    bias_x = np.zeros((N, 3 * H), dtype=dtype)              # b_ih, plus b_hh in the r, z blocks
    bias_hn = np.zeros((N, H), dtype=dtype)                 # b_hh in the n block
    if bias_ih is not None:
        bias_x += bias_ih
        bias_x[:, :2 * H] += bias_hh[:2 * H]
        bias_hn += bias_hh[2 * H:]
    w_hh_t = np.ascontiguousarray(weight_hh.T)              # (H, 3H); faster per step than the view
    h_all = np.empty((T + 1, N, H), dtype=dtype)            # h_all[t + 1] = h_t, h_all[0] = h0
    h_all[0] = h0
    a_hn = np.empty((T, N, H), dtype=dtype)                 # a_h_n of every step
    hn_in = h_all[:-1] if reset_after else np.empty((T, N, H), dtype=dtype)   # what W_hn reads
    a_h = np.empty((N, 3 * H), dtype=dtype)                 # h_{t-1} W_hh^T, reused every step
    for t in range(T):
        a = gates[t]                                        # (N, 3H), activated in place
        r, z, n = _split(a)                                 # (N, H) views
        a += bias_x                                         # a_x_t (+ b_hr, b_hz)
        if reset_after:                                     # h_{t-1} W_hh^T, all three blocks
            np.matmul(h_all[t], w_hh_t, out=a_h)
        else:                                               # r, z blocks now, n block below
            np.matmul(h_all[t], w_hh_t[:, :2 * H], out=a_h[:, :2 * H])
        a[:, :2 * H] += a_h[:, :2 * H]
        sigmoid_(a[:, :2 * H])                              # r_t, z_t
        if not reset_after:                                 # hn_in_t = r_t h_{t-1}
            np.matmul(np.multiply(r, h_all[t], out=hn_in[t]), w_hh_t[:, 2 * H:], out=a_h[:, 2 * H:])
        np.add(a_h[:, 2 * H:], bias_hn, out=a_hn[t])        # a_h_n
        n += r * a_hn[t] if reset_after else a_hn[t]
        np.tanh(n, out=n)                                   # n_t
        h_t = np.subtract(h_all[t], n, out=h_all[t + 1])    # h_t = n + z (h_{t-1} - n)
        h_t *= z
        h_t += n
    cache = (x_tm, h_all, gates, a_hn, hn_in, weight_ih, weight_hh, bias_ih is not None,
             reset_after)
    return h_all[1:].transpose(1, 0, 2), cache              # (N, T, H) view


def gru_gates(cache):
    """The activated gates r, z, n of every step, (N, T, 3H), from ``gru_forward``'s cache."""
    return cache[2].transpose(1, 0, 2)


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
    x_tm, h_all, gates, a_hn, hn_in, weight_ih, weight_hh, has_bias, reset_after = cache
    T, N, D = x_tm.shape
    H = h_all.shape[2]
    dh_tm = dh.transpose(1, 0, 2)                           # (T, N, H) view
    da_x, da_h = np.empty_like(gates), np.empty_like(gates)    # (T, N, 3H) each
    dh_total = np.empty_like(a_hn)                          # (T, N, H)
    dhn_in = np.empty_like(h_all[0])                        # dL/dhn_in_t, (N, H), one step
    ds = np.empty_like(gates[0, :, :2 * H])                 # s'(a) of r and z, (N, 2H), one step
    dnext_h = np.zeros_like(h_all[0])                       # carry from step t+1, (N, H)
    for t in reversed(range(T)):
        r, z, n = _split(gates[t])                          # (N, H) each
        dr, dz, dn = _split(da_x[t])                        # dL/d(r, z, n) first, then dL/da_x
        da_hn = da_h[t, :, 2 * H:]                          # (N, H) view
        dh_t = np.add(dh_tm[t], dnext_h, out=dh_total[t])   # upstream + carry from step t+1
        np.multiply(dh_t, np.subtract(h_all[t], n, out=dz), out=dz)   # h_t = n + z (h_{t-1} - n)
        np.multiply(dh_t, np.subtract(1.0, z, out=dn), out=dn)        # dz, dn
        dn *= 1.0 - n * n                                   # n = tanh(a_x_n + ...): da_x_n
        if reset_after:                                     # ... + r * a_h_n
            np.multiply(dn, r, out=da_hn)
            np.multiply(dn, a_hn[t], out=dr)
        else:                                               # ... + (r h_{t-1}) W_hn^T + b_hn
            da_hn[...] = dn
            np.multiply(np.matmul(da_hn, weight_hh[2 * H:], out=dhn_in), h_all[t], out=dr)
        np.multiply(np.subtract(1.0, gates[t, :, :2 * H], out=ds), gates[t, :, :2 * H], out=ds)
        da_x[t, :, :2 * H] *= ds                            # r, z = s(...): s' = s (1 - s)
        da_h[t, :, :2 * H] = da_x[t, :, :2 * H]             # r, z: a_x and a_h enter the same sum
        if reset_after:
            np.matmul(da_h[t], weight_hh, out=dnext_h)      # (N, 3H) @ (3H, H)
        else:
            np.matmul(da_h[t, :, :2 * H], weight_hh[:2 * H], out=dnext_h)
            dnext_h += dhn_in * r
        dnext_h += dh_t * z                                 # h_t = ... + z h_{t-1}
    da_x_flat, da_h_flat = da_x.reshape(T * N, 3 * H), da_h.reshape(T * N, 3 * H)
    dweight_hh = da_h_flat.T @ h_all[:-1].reshape(T * N, H)    # (3H, H); h_all[:-1]: h_{t-1}
    if not reset_after:                                     # the n rows pair with hn_in
        dweight_hh[2 * H:] = da_h_flat[:, 2 * H:].T @ hn_in.reshape(T * N, H)
    grads = {
        "dx": (da_x_flat @ weight_ih).reshape(T, N, D).transpose(1, 0, 2),   # (N, T, D)
        "dh0": dnext_h,
        "dweight_ih": da_x_flat.T @ x_tm.reshape(T * N, D),   # (3H, D), summed over N and T
        "dweight_hh": dweight_hh,
        "dh_total": dh_total.transpose(1, 0, 2),            # (N, T, H)
        "da_x": da_x.transpose(1, 0, 2),                    # (N, T, 3H)
        "da_h": da_h.transpose(1, 0, 2),                    # (N, T, 3H)
    }
    if has_bias:
        grads["dbias_ih"] = da_x_flat.sum(axis=0)           # summed, not averaged, over N and T
        grads["dbias_hh"] = da_h_flat.sum(axis=0)
    return grads


def gru_step_param_factors(grads, cache):
    """Each time step's contribution to every parameter gradient, as factors: dweight_ih
    pairs dL/da_x_t (T, N, 3H) with x_t; dweight_hh pairs dL/da_h_t with h_{t-1} in the r
    and z rows and with hn_in_t (h_{t-1}, or r_t * h_{t-1} before the reset) in the n rows;
    the per-step bias contributions (T, 3H) themselves. See ``rnn.rnn_step_param_factors``."""
    x_tm, h_all, _, _, hn_in, _, _, has_bias, _ = cache
    H = h_all.shape[2]
    da_x = grads["da_x"].transpose(1, 0, 2)                 # (T, N, 3H): time-major, no copy
    da_h = grads["da_h"].transpose(1, 0, 2)
    out = {"dweight_ih": (da_x, ((slice(None), x_tm),)),
           "dweight_hh": (da_h, ((slice(0, 2 * H), h_all[:-1]), (slice(2 * H, 3 * H), hn_in)))}
    if has_bias:
        out["dbias_ih"] = da_x.sum(axis=1)
        out["dbias_hh"] = da_h.sum(axis=1)
    return out


def gru_step_param_grads(grads, cache):
    """Each time step's contribution to every parameter gradient (their sum over t is the
    shared-weight gradient returned by ``gru_backward``): dweight_ih (T, 3H, D),
    dweight_hh (T, 3H, H), and dbias_ih, dbias_hh (T, 3H) when the layer has bias."""
    return materialize(gru_step_param_factors(grads, cache))
