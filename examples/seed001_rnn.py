"""Seed 001's model written by hand in NumPy, the way the tutorial writes it in TF1: one
tanh cell with W (num_classes + state_size, state_size) on concat([x_t, s_(t-1)]) and one
bias b, a softmax layer W (state_size, num_classes), b on every step, the mean
cross-entropy over batch and steps, truncated BPTT from the state the previous batch
ended in. In gradharness's contract for training with a carried state:

    fn(params, x, target, state) -> (loss, grads, final_state)

``params`` arrive in the canonical names (torch layout); the function builds the
tutorial's variables from them and hands the gradients back in the same names.

    gradharness train examples.seed001_rnn:fn --preset seed001 --train-steps 100 --against reference,torch
    gradharness train examples.seed001_rnn:fn_carry_bug --preset seed001 --train-steps 100 --against reference

``fn_carry_bug`` has the mistake of seed 003 in this layout: the gradient carried back to
the previous state uses W's state rows without the transpose.
"""

import numpy as np


def _variables(params):
    W = np.concatenate([params["weight_ih_l0"].T, params["weight_hh_l0"].T])       # (D + H, H)
    b = params["bias_ih_l0"] + params["bias_hh_l0"]
    return W, b, params["head.weight"].T, params["head.bias"]                     # softmax W (H, O)


def _fn(params, x, target, state, transpose_carry=True):
    W, b, Ws, bs = _variables(params)
    N, T, D = x.shape
    s = state["h"][0]
    inputs, states = [], [s]
    for t in range(T):                                       # rnn_cell(x_t, s) = tanh([x_t, s] W + b)
        inputs.append(np.concatenate([x[:, t], s], axis=1))
        s = np.tanh(inputs[-1] @ W + b)
        states.append(s)
    logits = np.stack([h @ Ws + bs for h in states[1:]], axis=1)                   # (N, T, O)
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    onehot = np.eye(Ws.shape[1])[target]
    loss = -np.mean(np.sum(onehot * np.log(p), axis=-1))                          # tf.reduce_mean(losses)
    dlogits = (p - onehot) / (N * T)
    dW, db = np.zeros_like(W), np.zeros_like(b)
    dWs, dbs = np.zeros_like(Ws), np.zeros_like(bs)
    ds_next = np.zeros_like(s)
    for t in reversed(range(T)):
        dWs += states[t + 1].T @ dlogits[:, t]
        dbs += dlogits[:, t].sum(axis=0)
        ds = dlogits[:, t] @ Ws.T + ds_next
        da = ds * (1 - states[t + 1] ** 2)
        dW += inputs[t].T @ da
        db += da.sum(axis=0)
        W_s = W[D:]
        ds_next = da @ (W_s.T if transpose_carry else W_s)
    grads = {"weight_ih_l0": dW[:D].T, "weight_hh_l0": dW[D:].T, "bias_ih_l0": db, "bias_hh_l0": db,
             "head.weight": dWs.T, "head.bias": dbs}
    return loss, grads, {"h": states[-1][None]}


def fn(params, x, target, state):
    """Seed 001's RNN, right."""
    return _fn(params, x, target, state)


def fn_carry_bug(params, x, target, state):
    """Seed 001's RNN with the carry not transposed: ds_prev = da W_s instead of da W_s^T."""
    return _fn(params, x, target, state, transpose_carry=False)
