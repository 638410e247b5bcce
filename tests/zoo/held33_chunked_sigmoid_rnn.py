"""A sigmoid RNN, time-major (x (T, N, D)), that runs a long sequence in chunks of K = 2
steps with the state carried from chunk to chunk (as one would feed a stream), weights in a
dict {"W_in" (D, H), "W_rec" (H, H), "bias" (H,)}:

    for start in range(0, T, K):                 tape: (start, xs, hs) per chunk,
        for xt in x[start:start + K]:            hs[0] the state the chunk came in with
            h = sigmoid(xt @ W_in + h @ W_rec + bias)

The backward walks the chunks back (the last one is short: T = 5 gives [0, 1], [2, 3],
[4]), each chunk back in time, carrying dL/dh across chunk borders, and returns a dict of
gradients in the user's names. Thirty-third held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

K = 2

BUGS = {
    "carry_reset_per_chunk": "truncated_bptt",            # carry = zeros at the start of each chunk: cut every K steps
    "dh_index_without_start": "wrong_time",               # g = dh[k] + carry: chunk offset forgotten, dh of step k (also a wrong_value)
    "tanh_grad_copied": "derivative_wrong_function",      # dz = g * (1 - hs[k+1] ** 2): tanh' for the sigmoid
    "sigmoid_of_output": "derivative_wrong_point",        # s = sigmoid(hs[k+1]); g * s * (1 - s): at the output
    "carry_with_W_rec": "weight_transposed",              # carry = dz @ W_rec
    "dW_rec_other_way": "gradient_transposed",            # dW_rec += dz.T @ hs[k]
    "dbias_mean": "reduction_scaled",                     # dbias += dz.mean(0): np.mean for np.sum (1/N)
    "last_chunk_skipped": "loop_skips_step",              # reversed(tape[:-1]): the short last chunk (step 4) never walked
    "dbias_assigned": "carry_overwrites",                 # dbias = dz.sum(0) (= for +=)
    "carry_norm_clipped": "gradient_clipped",             # the carry rescaled to norm 0.1 between chunks
    "bias_added_twice": "forward_mistake",                # forward adds bias twice; dbias += 2 * dz.sum(0) consistent
    "dz_without_sigmoid_grad": "derivative_missing",      # dz = g
    "sigmoid_grad_at_chunk_end": "wrong_value",           # hs[-1] (chunk's last state) for hs[k + 1]: h_(t+1) at k = 0 (also wrong_time)
    "W_rec_plain_and_dbias_mean": "unknown",              # two at once: carry = dz @ W_rec and dbias mean
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "carry_reset_per_chunk": "",
    "dh_index_without_start": "",
    "tanh_grad_copied": "",
    "sigmoid_of_output": "",
    "carry_with_W_rec": "",
    "dW_rec_other_way": "",
    "dbias_mean": "",
    "last_chunk_skipped": "",
    "dbias_assigned": "",
    "carry_norm_clipped": "",
    "bias_added_twice": "",
    "dz_without_sigmoid_grad": "",
    "sigmoid_grad_at_chunk_end": "",
    "W_rec_plain_and_dbias_mean": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, params, bug=None):
    W_in, W_rec, bias = params["W_in"], params["W_rec"], params["bias"]
    tape, outs, h = [], [], h0
    for start in range(0, x.shape[0], K):
        xs = x[start:start + K]
        hs = [h]
        for xt in xs:
            a = xt @ W_in + h @ W_rec + bias
            if bug == "bias_added_twice":
                a = a + bias
            h = sigmoid(a)
            hs.append(h)
        tape.append((start, xs, hs))
        outs.extend(hs[1:])
    return np.stack(outs), {"tape": tape, "W_in": W_in, "W_rec": W_rec}


def _dz(g, hs, k, bug):
    s = hs[-1] if bug == "sigmoid_grad_at_chunk_end" else hs[k + 1]
    if bug == "tanh_grad_copied":
        return g * (1 - s ** 2)
    if bug == "sigmoid_of_output":
        s = sigmoid(s)
    if bug == "dz_without_sigmoid_grad":
        return g
    return g * s * (1 - s)


def backward(dh, cache, bug=None):
    tape, W_in, W_rec = cache["tape"], cache["W_in"], cache["W_rec"]
    grads = {"dx": np.zeros((dh.shape[0], dh.shape[1], W_in.shape[0]), dtype=dh.dtype),
             "dW_in": np.zeros_like(W_in), "dW_rec": np.zeros_like(W_rec),
             "dbias": np.zeros(W_rec.shape[0], dtype=dh.dtype)}
    carry = np.zeros_like(dh[0])
    chunks = tape[:-1] if bug == "last_chunk_skipped" else tape
    for start, xs, hs in reversed(chunks):
        if bug == "carry_reset_per_chunk":
            carry = np.zeros_like(dh[0])
        for k in reversed(range(len(xs))):
            g = (dh[k] if bug == "dh_index_without_start" else dh[start + k]) + carry
            dz = _dz(g, hs, k, bug)
            grads["dW_in"] += xs[k].T @ dz
            if bug == "dW_rec_other_way":
                grads["dW_rec"] += dz.T @ hs[k]
            else:
                grads["dW_rec"] += hs[k].T @ dz
            if bug in ("dbias_mean", "W_rec_plain_and_dbias_mean"):
                grads["dbias"] += dz.mean(axis=0)
            elif bug == "dbias_assigned":
                grads["dbias"] = dz.sum(axis=0)
            elif bug == "bias_added_twice":
                grads["dbias"] += 2 * dz.sum(axis=0)
            else:
                grads["dbias"] += dz.sum(axis=0)
            grads["dx"][start + k] = dz @ W_in.T
            carry = dz @ W_rec if bug in ("carry_with_W_rec", "W_rec_plain_and_dbias_mean") else dz @ W_rec.T
        if bug == "carry_norm_clipped":
            norm = np.linalg.norm(carry)
            if norm > 0.1:
                carry = carry * (0.1 / norm)
    grads["dh0"] = carry
    return grads


def to_user(cell, p):
    return {"W_in": p["weight_ih"].T, "W_rec": p["weight_hh"].T, "bias": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_in" in grads:
        out["dweight_ih"] = grads["dW_in"].T
    if "dW_rec" in grads:
        out["dweight_hh"] = grads["dW_rec"].T
    if "dbias" in grads:
        out["dbias_ih"] = grads["dbias"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="chunked_sigmoid_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, params):
        return forward(x, h0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}
