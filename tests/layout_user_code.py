"""User code for tests/test_layout_calls.py: a torch-style GRU (reset after, separate input and
hidden biases, weights as arguments) and custom layouts, some of them with the mistakes people
make in their own to_user / to_canonical."""

import numpy as np

import harness

WRONG = None            # "dbh": the hidden bias's gradient takes the input side's sums


def _sig(z):
    return 1 / (1 + np.exp(-z))


def gru_forward(x, h0, Wi, Wh, bi, bh):
    """x (N, T, D), h0 (N, H), Wi (D, 3H), Wh (H, 3H), bi, bh (3H,); blocks r, z, n."""
    H = h0.shape[1]
    h, hs, steps = h0, [], []
    for t in range(x.shape[1]):
        gx, gh = x[:, t] @ Wi + bi, h @ Wh + bh
        r, z = _sig(gx[:, :H] + gh[:, :H]), _sig(gx[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        steps.append((x[:, t], h, r, z, n, gh[:, 2 * H:]))
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs, 1), (steps, Wi, Wh)


def gru_backward(dh, cache):
    steps, Wi, Wh = cache
    N, T, H = dh.shape
    dx, dWi, dWh = np.zeros((N, T, Wi.shape[0])), np.zeros_like(Wi), np.zeros_like(Wh)
    dbi, dbh, dnext = np.zeros(3 * H), np.zeros(3 * H), np.zeros((N, H))
    for t in reversed(range(T)):
        xt, hp, r, z, n, ghn = steps[t]
        d = dh[:, t] + dnext
        dan = d * (1 - z) * (1 - n ** 2)
        dar = dan * ghn * r * (1 - r)
        daz = d * (hp - n) * z * (1 - z)
        dgx, dgh = np.concatenate([dar, daz, dan], 1), np.concatenate([dar, daz, dan * r], 1)
        dWi += xt.T @ dgx
        dWh += hp.T @ dgh
        dbi += dgx.sum(0)
        dbh += (dgx if WRONG == "dbh" else dgh).sum(0)
        dx[:, t] = dgx @ Wi.T
        dnext = d * z + dgh @ Wh.T
    return dx, dnext, dWi, dWh, dbi, dbh


def gru_backward_wrong_dbh(dh, cache):
    global WRONG
    WRONG = "dbh"
    try:
        return gru_backward(dh, cache)
    finally:
        WRONG = None


def gru_to_user(cell, p):
    return {"Wi": p["weight_ih"].T, "Wh": p["weight_hh"].T, "bi": p["bias_ih"], "bh": p["bias_hh"]}


def gru_to_canonical(cell, g, p):
    out = {}
    for u, c in (("dWi", "dweight_ih"), ("dWh", "dweight_hh"), ("dbi", "dbias_ih"), ("dbh", "dbias_hh")):
        if u in g:
            out[c] = g[u].T if u.startswith("dW") else g[u]
    return out


def gru_to_canonical_forgets_bh(cell, g, p):
    out = gru_to_canonical(cell, g, p)
    out.pop("dbias_hh", None)
    return out


def _custom(to_user=gru_to_user, to_canonical=gru_to_canonical, **kw):
    return harness.Layout.custom(to_user, to_canonical, **{"name": "gru2", "cells": ("gru",), **kw})


GRU2 = _custom()
GRU2_FORGETS_BH = _custom(to_canonical=gru_to_canonical_forgets_bh)


# cs231n's RNN with a to_user that sums the biases in place (a common NumPy idiom).
def inplace_to_user(cell, p):
    b = p["bias_ih"]
    b += p["bias_hh"]                       # writes into p["bias_ih"]
    return {"Wx": p["weight_ih"].T, "Wh": p["weight_hh"].T, "b": b}


def inplace_to_canonical(cell, g, p):
    return {c: g[u].T if u != "db" else g[u] for u, c in (("dWx", "dweight_ih"), ("dWh", "dweight_hh"),
                                                        ("db", "dbias_ih")) if u in g}


INPLACE = harness.Layout.custom(inplace_to_user, inplace_to_canonical, name="inplace", cells=("rnn",))


# Layouts with mistakes in their own functions (each on GRU2's user code).
def _tu_raises(cell, p):
    return {"Wi": p["weight_ih_typo"]}


def _tc_raises(cell, g, p):
    return {"dweight_ih": g["dWq"]}


def _tc_extra(cell, g, p):
    return {**gru_to_canonical(cell, g, p), "dweight_xx": g["dWi"].T}


def _tc_mutates(cell, g, p):
    p["weight_ih"] *= 0
    g["dWi"] *= 2
    out = gru_to_canonical(cell, g, p)
    out["dweight_ih"] = out["dweight_ih"] / 2
    return out


BAD = {
    "tu_raises": (_custom(to_user=_tu_raises), "layout 'gru2': to_user raised KeyError: 'weight_ih_typo'"),
    "tc_raises": (_custom(to_canonical=_tc_raises), "layout 'gru2': to_canonical raised KeyError: 'dWq'"),
    "tc_none": (_custom(to_canonical=lambda cell, g, p: None), "layout 'gru2': to_canonical returned None"),
    "tc_list": (_custom(to_canonical=lambda cell, g, p: list(gru_to_canonical(cell, g, p).values())),
                "layout 'gru2': to_canonical returned a list"),
    "tu_list": (_custom(to_user=lambda cell, p: list(gru_to_user(cell, p).values())),
                "layout 'gru2': to_user returned a list"),
    "tc_extra": (_custom(to_canonical=_tc_extra), "layout 'gru2': to_canonical returned 'dweight_xx'"),
}
TC_MUTATES = _custom(to_canonical=_tc_mutates)

for _case, (_layout, _) in BAD.items():       # for the command line: --layout layout_user_code:BAD_TU_RAISES
    globals()[f"BAD_{_case.upper()}"] = _layout
