"""A character-level language model's training script, the recurrent layer written by hand in
the cs231n layout: ids -> an embedding lookup -> a tanh RNN -> a linear read-out -> softmax
cross-entropy. Only the layer (``rnn_layer_forward`` / ``rnn_layer_backward``) is checked:

    emb (N, T, D) = E[ids]
    h_t = tanh(emb_t @ Wx + h_(t-1) @ Wh + b)            Wx (D, H), Wh (H, H), b (H,)

The author keeps a ``cache`` dict with the list of pre-activations and states, and walks the
sequence back with the upstream gradient ``dh`` (N, T, H) plus the carried ``dnext``.
Twenty-ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dWh_outer_h_t": "wrong_time",                        # dWh += hs[t].T @ da (h_t in place of h_(t-1))
    "tanh_grad_at_prev_h": "derivative_wrong_point",      # da = dcur * (1 - hs[t-1]**2): one step early (also wrong_time)
    "tanh_grad_sign_flipped": "wrong_sign",               # da = dcur * (hs[t]**2 - 1)
    "tanh_grad_unsquared": "derivative_miswritten",       # da = dcur * (1 - hs[t])
    "dnext_from_dWh": "gradient_for_weight",              # dnext = da @ dWh.T (the accumulator, not the weight)
    "carry_forgotten": "carry_dropped",                   # dcur = dh[:, t]: dnext never added
    "db_batch_mean": "reduction_scaled",                  # db += da.mean(axis=0): np.mean for np.sum
    "walks_forward": "loop_direction",                    # for t in range(T): the backward runs forward in time
    "clip_inside_backward": "gradient_clipped",           # np.clip(dW, -0.5, 0.5) on dWx, dWh, db before returning
    "tanh_out_into_preact": "inplace_corruption",         # np.tanh(a, out=a): the cached pre-activation now holds h;
                                                          # the backward's 1 - tanh(a)**2 reads tanh(h)
    "bias_added_twice": "forward_mistake",                # a = emb_t @ Wx + b + h @ Wh + b; backward consistent (db * 2)
    "skip_first_and_no_tanh_grad": "unknown",             # two at once: loop stops before t = 0 and da = dcur
}

TOUCHES = {b: "" for b in BUGS}                           # an RNN has no gates (blind_index.touched_gates)


# ----------------------------------------------------------------------------- data and model
def build_vocab(text):
    chars = sorted(set(text))
    return {c: i for i, c in enumerate(chars)}, chars


def embed_forward(ids, E):
    return E[ids], ids


def embed_backward(demb, ids, E):
    dE = np.zeros_like(E)
    np.add.at(dE, ids, demb)
    return dE


def rnn_layer_forward(emb, h0, Wx, Wh, b, bug=None):
    """emb (N, T, D), h0 (N, H) -> hs (N, T, H), cache."""
    N, T, _ = emb.shape
    hs = np.zeros((N, T, h0.shape[1]), dtype=emb.dtype)
    cache = {"emb": emb, "h0": h0, "Wx": Wx, "Wh": Wh, "pre": [], "hs": hs}
    h = h0
    for t in range(T):
        a = emb[:, t, :] @ Wx + b + h @ Wh
        if bug == "bias_added_twice":
            a = a + b
        if bug == "tanh_out_into_preact":
            h = np.tanh(a, out=a)
        else:
            h = np.tanh(a)
        cache["pre"].append(a)
        hs[:, t, :] = h
    return hs, cache


def rnn_layer_backward(dh, cache, bug=None):
    """dh (N, T, H) -> demb, dh0, dWx, dWh, db."""
    emb, h0, Wx, Wh, hs = cache["emb"], cache["h0"], cache["Wx"], cache["Wh"], cache["hs"]
    N, T, H = dh.shape
    demb = np.zeros_like(emb)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    dnext = np.zeros((N, H), dtype=dh.dtype)
    if bug == "walks_forward":
        order = range(T)
    elif bug == "skip_first_and_no_tanh_grad":
        order = range(T - 1, 0, -1)
    else:
        order = range(T - 1, -1, -1)
    for t in order:
        h_prev = hs[:, t - 1, :] if t > 0 else h0
        dcur = dh[:, t, :] if bug == "carry_forgotten" else dh[:, t, :] + dnext
        if bug == "tanh_out_into_preact":
            da = dcur * (1 - np.tanh(cache["pre"][t]) ** 2)
        elif bug == "tanh_grad_at_prev_h":
            da = dcur * (1 - h_prev ** 2)
        elif bug == "tanh_grad_sign_flipped":
            da = dcur * (hs[:, t, :] ** 2 - 1)
        elif bug == "tanh_grad_unsquared":
            da = dcur * (1 - hs[:, t, :])
        elif bug == "skip_first_and_no_tanh_grad":
            da = dcur
        else:
            da = dcur * (1 - hs[:, t, :] ** 2)
        if bug == "bias_added_twice":
            db += 2 * da.sum(axis=0)
        elif bug == "db_batch_mean":
            db += da.mean(axis=0)
        else:
            db += da.sum(axis=0)
        dWx += emb[:, t, :].T @ da
        dWh += (hs[:, t, :] if bug == "dWh_outer_h_t" else h_prev).T @ da
        demb[:, t, :] = da @ Wx.T
        dnext = da @ (dWh if bug == "dnext_from_dWh" else Wh).T
    if bug == "clip_inside_backward":
        for g in (dWx, dWh, db):
            np.clip(g, -0.5, 0.5, out=g)
    return demb, dnext, dWx, dWh, db


def readout_loss(hs, Wy, by, targets):
    logits = hs @ Wy + by
    logits = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=-1, keepdims=True)
    N, T = targets.shape
    loss = -np.log(p[np.arange(N)[:, None], np.arange(T), targets]).mean()
    dlogits = p
    dlogits[np.arange(N)[:, None], np.arange(T), targets] -= 1
    dlogits /= N * T
    return loss, dlogits @ Wy.T, np.einsum("nth,ntv->hv", hs, dlogits), dlogits.sum(axis=(0, 1))


def train_step(batch_ids, targets, model, h0, lr=1e-2):
    emb, ids = embed_forward(batch_ids, model["E"])
    hs, cache = rnn_layer_forward(emb, h0, model["Wx"], model["Wh"], model["b"])
    loss, dhs, dWy, dby = readout_loss(hs, model["Wy"], model["by"], targets)
    demb, _, dWx, dWh, db = rnn_layer_backward(dhs, cache)
    grads = {"E": embed_backward(demb, ids, model["E"]), "Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}
    for k, g in grads.items():
        model[k] -= lr * g
    return loss


# ----------------------------------------------------------------------------- the check
def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_layer_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_layer_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}
