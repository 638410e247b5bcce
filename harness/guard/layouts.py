"""How users' own forward/backward functions hold their weights: one table per convention.

A layout says, for one layer, which weights the user's functions take (in call order)
and how their gradients map back to the canonical ones (``dweight_ih`` (G*H, D),
``dweight_hh`` (G*H, H), ``dbias_ih``/``dbias_hh`` (G*H,), gate rows in torch order).

Calling convention, for every layout:

    forward(x, h0, [c0,] *weights) -> (h, cache)
    backward(dh, cache) -> (dx, dh0, [dc0,] *dweights)

with ``dh`` the upstream gradient of every step's hidden state (not the carried one).
Layouts with a single bias ``b`` take ``b = bias_ih + bias_hh``; its gradient is compared
with ``dbias_ih`` (equal to ``dbias_hh`` for the RNN and the LSTM).

Built in:
    cs231n     x (N, T, D), Wx (D, G*H), Wh (H, G*H), b (G*H,); LSTM blocks i, f, o, g and
               c0 = 0 (not an argument); rnn and lstm.
    tf_kernel  kernel (D+H, G*H) applied to concat([x, h]) plus bias (G*H,), as TF's
               BasicRNNCell; LSTM columns i, j(=g), f, o and c0 an argument; rnn and lstm.
    karpathy   column vectors, one example at a time: x (T, D, 1), h0 (H, 1) ->
               h (T, H, 1); Wxh (H, D), Whh (H, H), bh (H, 1); rnn.
Anything else: ``Layout.custom(to_user, to_canonical, ...)``.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import HarnessError

CANONICAL_ORDER = {"rnn": "x", "lstm": "ifgo", "gru": "rzn"}


def reorder(arr, src, dst, axis):
    """Reorder gate blocks along ``axis`` from order ``src`` (e.g. "ifgo") to ``dst``."""
    if src == dst:
        return np.array(arr, copy=True)
    parts = np.split(np.asarray(arr), len(src), axis=axis)
    return np.concatenate([parts[src.index(g)] for g in dst], axis=axis)


@dataclass(frozen=True)
class Layout:
    """One convention. ``to_user(cell, p) -> {name: array}`` gives the user's weights of a
    layer from canonical ``p`` (names without suffix), in call order;
    ``to_canonical(cell, grads, p) -> {"dweight_ih": ...}`` maps the user's weight
    gradients (same names, prefixed with d) back; a gradient the user returned as None is
    absent from ``grads``, and what it maps to must then be absent too (not compared)."""
    name: str
    cells: tuple
    to_user: Callable
    to_canonical: Callable
    takes_c0: bool = True          # LSTM: whether c0 is an argument (cs231n: no, c0 = 0)
    per_example: bool = False      # one example at a time, column vectors
    gate_order: dict = field(default_factory=dict)   # cell -> the user's gate order, for messages

    @classmethod
    def custom(cls, to_user, to_canonical, *, name="custom", cells=("rnn", "lstm", "gru"), takes_c0=True):
        """A layout of your own: two small functions, canonical -> yours and your gradients back."""
        return cls(name, tuple(cells), to_user, to_canonical, takes_c0)

    def state_names(self, cell):
        return ("h0", "c0") if cell == "lstm" and self.takes_c0 else ("h0",)

    def check(self, cell):
        if cell not in self.cells:
            raise HarnessError(f"layout: {self.name!r} covers cells {', '.join(self.cells)}, not {cell!r}; "
                               "use Layout.custom for others")
        return self


def _single_bias(p):
    return p["bias_ih"] + p["bias_hh"] if "bias_ih" in p else None


def _cs231n_to_user(cell, p):
    order = {"rnn": "x", "lstm": "ifog"}[cell]
    src = CANONICAL_ORDER[cell]
    user = {"Wx": reorder(p["weight_ih"], src, order, 0).T, "Wh": reorder(p["weight_hh"], src, order, 0).T}
    if "bias_ih" in p:
        user["b"] = reorder(_single_bias(p), src, order, 0)
    return user


def _cs231n_to_canonical(cell, g, p):
    order, dst = {"rnn": "x", "lstm": "ifog"}[cell], CANONICAL_ORDER[cell]
    out = {}
    if "dWx" in g:
        out["dweight_ih"] = reorder(g["dWx"].T, order, dst, 0)
    if "dWh" in g:
        out["dweight_hh"] = reorder(g["dWh"].T, order, dst, 0)
    if "db" in g:
        out["dbias_ih"] = reorder(g["db"], order, dst, 0)
    return out


def _kernel_to_user(cell, p):
    order, src = {"rnn": "x", "lstm": "igfo"}[cell], CANONICAL_ORDER[cell]
    kernel = np.concatenate([reorder(p["weight_ih"], src, order, 0).T,
                             reorder(p["weight_hh"], src, order, 0).T], axis=0)     # (D+H, G*H)
    user = {"kernel": kernel}
    if "bias_ih" in p:
        user["bias"] = reorder(_single_bias(p), src, order, 0)
    return user


def _kernel_to_canonical(cell, g, p):
    order, dst = {"rnn": "x", "lstm": "igfo"}[cell], CANONICAL_ORDER[cell]
    D = p["weight_ih"].shape[1]
    out = {}
    if "dkernel" in g:
        k = g["dkernel"]
        out.update(dweight_ih=reorder(k[:D].T, order, dst, 0), dweight_hh=reorder(k[D:].T, order, dst, 0))
    if "dbias" in g:
        out["dbias_ih"] = reorder(g["dbias"], order, dst, 0)
    return out


def _karpathy_to_user(cell, p):
    user = {"Wxh": np.array(p["weight_ih"]), "Whh": np.array(p["weight_hh"])}
    if "bias_ih" in p:
        user["bh"] = _single_bias(p)[:, None]                              # (H, 1)
    return user


def _karpathy_to_canonical(cell, g, p):
    out = {q: g[u] for u, q in (("dWxh", "dweight_ih"), ("dWhh", "dweight_hh")) if u in g}
    if "dbh" in g:
        out["dbias_ih"] = g["dbh"][:, 0]
    return out


LAYOUTS = {
    "cs231n": Layout("cs231n", ("rnn", "lstm"), _cs231n_to_user, _cs231n_to_canonical, takes_c0=False,
                     gate_order={"lstm": "ifog"}),
    "tf_kernel": Layout("tf_kernel", ("rnn", "lstm"), _kernel_to_user, _kernel_to_canonical,
                        gate_order={"lstm": "igfo"}),
    "karpathy": Layout("karpathy", ("rnn",), _karpathy_to_user, _karpathy_to_canonical, per_example=True),
}


def get_layout(layout, cell):
    if isinstance(layout, Layout):
        return layout.check(cell)
    if layout not in LAYOUTS:
        raise HarnessError(f"layout: expected one of {', '.join(LAYOUTS)} or a Layout, got {layout!r}")
    return LAYOUTS[layout].check(cell)
