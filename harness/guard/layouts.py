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
Anything else: ``Layout.custom(to_user, to_canonical, ...)``: axes, calling convention,
gate letters and state names declared; which array holds which weight read off to_user.
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


AXES = ("NTD", "NDT", "TND", "TDN", "DNT", "DTN")


@dataclass(frozen=True)
class Layout:
    """One convention. ``to_user(cell, p) -> {name: array}`` gives the user's weights of a
    layer from canonical ``p`` (names without suffix), in call order;
    ``to_canonical(cell, grads, p) -> {"dweight_ih": ...}`` maps the user's weight
    gradients (same names, prefixed with d) back; a gradient the user returned as None is
    absent from ``grads``, and what it maps to must then be absent too (not compared).

    The rest says how the user's functions are called and how their things are named
    (see ``Layout.custom``); which user array holds which canonical weight is never
    declared: it is read off ``to_user`` itself (harness.guard.naming)."""
    name: str
    cells: tuple
    to_user: Callable
    to_canonical: Callable
    takes_c0: bool = True          # LSTM: whether c0 is an argument (cs231n: no, c0 = 0)
    per_example: bool = False      # one example at a time, column vectors
    axes: str = "NTD"              # order of the axes of x, h, dh, dx ("DNT": the course's (n_x, m, T_x))
    gate_order: str = ""           # the user's order of the gate blocks, in the user's letters (for messages)
    gate_letters: dict = field(default_factory=dict)   # the user's gate letters -> canonical ({"j": "g"})
    names: dict = field(default_factory=dict)          # the user's names of the states ({"h": "a"})
    weights_as: str = "args"       # "args": forward(x, h0, *weights); "dict"/"list": forward(x, h0, weights)
    forward_returns: tuple = ("h", "cache")
    # Bidirectional and variable-length layers (harness.guard.seqcheck):
    bidirectional: bool = False    # two directions: h0 (2, N, P), weights of both (names ending _reverse)
    merge: str = "concat"          # how the two directions make h: concat, sum, mul, ave
    takes_lengths: bool = False    # forward(x, lengths, h0, ...): a padded batch
    padding: str = "zero"          # what forward outputs at padded steps: "zero", "carry" (last real h), "any"

    @classmethod
    def custom(cls, to_user, to_canonical, *, name="custom", cells=("rnn", "lstm", "gru"), takes_c0=True,
               axes="NTD", per_example=False, gate_order="", gate_letters=None, names=None, weights_as="args",
               forward_returns=("h", "cache"), bidirectional=False, merge="concat", takes_lengths=False,
               padding="zero"):
        """A layout of your own (see the README's "Your own layout"):

        to_user(cell, p) -> {name: array}: your weights of one layer from canonical ``p``
            ({"weight_ih": (G*H, D), "weight_hh": (G*H, H), "bias_ih", "bias_hh": (G*H,)}, torch's
            layout and gate order), in the order your forward takes them.
        to_canonical(cell, grads, p) -> {"dweight_ih", "dweight_hh", "dbias_ih"[, "dbias_hh"]}: your
            gradients ({"d" + your name: array}) back in canonical form.
        takes_c0: the LSTM's c0 is an argument of your forward (False: c0 = 0).
        axes: the order of the axes of x (N, T, D), h, dh and dx, e.g. "DNT" for x (D, N, T);
            the states h0, dh0 drop T and keep the other two in that order ("DNT": (H, N)).
        per_example: one example at a time, column vectors (x (T, D, 1), h0 (H, 1)).
        gate_order, gate_letters: your order of the gate blocks in your letters and what
            your letters mean ({"j": "g", "c": "g", "u": "z", "h": "n"}): messages use them.
        names: your names of the states, e.g. {"h": "a"}: dh0 reads da0, dprev_h da_prev.
        weights_as: "args" (forward(x, h0, [c0,] *weights)), "dict" (forward(x, h0, [c0,] weights) with a
            dict) or "list" (the same with a list in to_user's order, as d2l's params).
        forward_returns: the names of what your forward returns, in order; must hold "h" and
            "cache" (others, such as "y" or "c", are ignored).
        bidirectional: your layer has a reverse direction of its own: ``p`` (and your gradients)
            then hold both directions, the reverse's names ending ``_reverse`` (weight_ih_reverse
            ...), h0/c0 are (2, N, P) [forward, reverse] and so are dh0/dc0. The reverse
            direction must read each sequence reversed within its own length.
        merge: how your two directions make h: "concat" ([forward | reverse], 2P wide), "sum",
            "mul" or "ave" (P wide).
        takes_lengths: your forward takes the sequence lengths (N,) right after x:
            forward(x, lengths, h0, ...); the probe then pads its batch (lengths=...).
        padding: what your forward outputs at padded steps: "zero" (torch's packed sequences,
            TF's dynamic_rnn, Keras Bidirectional), "carry" (the last real output: a Keras
            layer with a mask) or "any" (not compared). Padded steps are never compared as data.
        """
        _kinds(cells=(cells, (tuple, list, str)), gate_order=(gate_order, str),
               gate_letters=(gate_letters, (dict, type(None))), names=(names, (dict, type(None))),
               forward_returns=(forward_returns, (tuple, list)))
        layout = cls(name, tuple(cells), to_user, to_canonical, takes_c0, per_example, axes, gate_order,
                     dict(gate_letters or {}), dict(names or {}), weights_as, tuple(forward_returns),
                     bool(bidirectional), merge, bool(takes_lengths), padding)
        return layout.validated()

    def validated(self):
        bad = [c for c in self.cells if c not in CANONICAL_ORDER]
        if bad or not self.cells:
            raise HarnessError(f"layout: cells: expected some of rnn, lstm, gru, got {self.cells!r}")
        if self.axes not in AXES:
            raise HarnessError(f"layout: axes: expected an order of the letters N, T, D ({', '.join(AXES)}), "
                               f"got {self.axes!r}")
        if self.weights_as not in ("args", "dict", "list"):
            raise HarnessError(f"layout: weights_as: expected 'args', 'dict' or 'list', got {self.weights_as!r}")
        if not {"h", "cache"} <= set(self.forward_returns) or len(set(self.forward_returns)) != len(self.forward_returns):
            raise HarnessError(f"layout: forward_returns: expected distinct names including 'h' and 'cache', "
                               f"got {self.forward_returns!r}")
        if self.merge not in ("concat", "sum", "mul", "ave"):
            raise HarnessError(f"layout: merge: expected one of concat, sum, mul, ave, got {self.merge!r}")
        if self.padding not in ("zero", "carry", "any"):
            raise HarnessError(f"layout: padding: expected 'zero', 'carry' or 'any', got {self.padding!r}")
        if (self.bidirectional or self.takes_lengths) and (self.axes != "NTD" or self.per_example):
            raise HarnessError("layout: bidirectional and takes_lengths layouts take x as (N, T, D), batch first "
                               f"(axes='NTD', per_example=False), got axes={self.axes!r}, "
                               f"per_example={self.per_example}")
        if not callable(self.to_user) or not callable(self.to_canonical):
            raise HarnessError("layout: to_user and to_canonical: expected two functions, got "
                               f"{type(self.to_user).__name__} and {type(self.to_canonical).__name__}")
        return self

    def state_names(self, cell):
        return ("h0", "c0") if cell == "lstm" and self.takes_c0 else ("h0",)

    def user_state(self, s):
        """The user's name of state ``s`` ("h" or "c")."""
        return self.names.get(s, s)

    def check(self, cell):
        if cell not in self.cells:
            raise HarnessError(f"layout: {self.name!r} covers cells {', '.join(self.cells)}, not {cell!r}; "
                               "use Layout.custom for others")
        if self.gate_order and cell != "rnn":
            letters = [self.gate_letters.get(g, g) for g in self.gate_order]
            n = len(CANONICAL_ORDER[cell])
            if len(letters) != n:
                raise HarnessError(f"layout: gate_order: expected {n} gate letters for the {cell.upper()} (one per "
                                   f"gate block, e.g. {CANONICAL_ORDER[cell]!r}), got {self.gate_order!r} "
                                   f"({len(letters)} letters)")
            if sorted(letters) != sorted(CANONICAL_ORDER[cell]):
                raise HarnessError(f"layout: gate_order {self.gate_order!r} reads as {''.join(letters)} with "
                                   f"gate_letters {self.gate_letters}; expected the gates {CANONICAL_ORDER[cell]}")
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
    "cs231n": Layout("cs231n", ("rnn", "lstm"), _cs231n_to_user, _cs231n_to_canonical, takes_c0=False),
    "tf_kernel": Layout("tf_kernel", ("rnn", "lstm"), _kernel_to_user, _kernel_to_canonical,
                        gate_letters={"j": "g"}),
    "karpathy": Layout("karpathy", ("rnn",), _karpathy_to_user, _karpathy_to_canonical, per_example=True),
}


def get_layout(layout, cell):
    if isinstance(layout, Layout):
        return layout.check(cell)
    if layout not in LAYOUTS:
        raise HarnessError(f"layout: expected one of {', '.join(LAYOUTS)} or a Layout, got {layout!r}")
    return LAYOUTS[layout].check(cell)


def _kinds(**given):
    """One line for an argument of Layout.custom of the wrong kind (not a traceback)."""
    for name, (value, kinds) in given.items():
        if not isinstance(value, kinds):
            want = " or ".join(k.__name__ for k in (kinds if isinstance(kinds, tuple) else (kinds,)))
            raise HarnessError(f"layout: {name}: expected a {want}, got {value!r}")
