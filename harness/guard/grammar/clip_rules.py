"""Gradients clipped inside one step of the backward: every pre-activation gradient (Graves
2013 clips the LSTM's da_* to a range) or one gate's, the GRU's input-side da_x alone, or the
LSTM's cell-state gradient dc (element by element, to a norm, or to a norm per example), each
step."""

from .ast_tools import _expr, _src, _target_name, _replace
from .context import _edit, _mutable
from .driver_rules import CLIP_AT
from .gate_rules import _gates


def clipped_lines(ctx):
    yield from _clipped_preactivations(ctx)
    yield from _clipped_cell_gradient(ctx)
    yield from _normclipped_packed(ctx)


def _normclipped_packed(ctx):
    """The step's packed pre-activation gradient (the RNN's da, the LSTM's (N, 4H) da) rescaled
    to a norm of at most c (the whole array's, or each example's) before the weights, dx and the
    carry are formed from it."""
    line = next(((i, st) for i, st in enumerate(ctx.stmts) if _mutable(st) and _target_name(st) == "da"), None)
    if line is None or ctx.cell == "gru":
        return
    i, st = line
    for c in CLIP_AT:
        for rows, what in ((False, "its norm"), (True, "each example's norm")):
            clipped = _replace(st, st.value, _expr(f"_clipnorm({_src(st.value)}, {c}, {rows})"))
            yield _edit(ctx, i, "gradient_clipped", st, clipped,
                        f"the step's pre-activation gradient da rescaled to keep {what} at most {c} in each step, "
                        "before the weights, dx and the carry are formed from it", gates="")


def _clipped_preactivations(ctx):
    """Every pre-activation gradient clipped element by element inside the step (Graves 2013
    clips the LSTM's da_* to a range): the lines computing da (the RNN) or da_<gate>, together,
    or (gated cells) one gate's alone."""
    lines = {i: st for i, st in enumerate(ctx.stmts) if _mutable(st)
             and (_target_name(st) == "da" if ctx.cell == "rnn" else
                  _target_name(st) in {f"da_{g}" for g in _gates(ctx.cell)})}
    packed = {i: st for i, st in enumerate(ctx.stmts) if _mutable(st) and _target_name(st) == "da_x"}
    for group, what in ((lines, "the pre-activation gradients"),      # the GRU's input side alone: what the
                        (packed, "the input side's pre-activation gradient")):   # weight and dx take after the loop
        if not group:
            continue
        first = min(group)
        for c in CLIP_AT:
            tree = {i: _replace(st, st.value, _expr(f"np.clip({_src(st.value)}, -{c}, {c})")) for i, st in group.items()}
            yield _edit(ctx, first, "gradient_clipped", group[first], tree[first],
                        f"{what} ({', '.join(_target_name(st) for st in group.values())}) clipped element by element "
                        f"to [-{c}, {c}] in each step", extra=tree, gates="")
            for i, st in group.items() if len(group) > 1 and group is lines else ():     # one gate's alone
                gate = _target_name(st).removeprefix("da_")
                yield _edit(ctx, i, "gradient_clipped", st, tree[i], f"the {gate} gate's pre-activation gradient "
                            f"{_target_name(st)} alone clipped element by element to [-{c}, {c}] in each step",
                            gates=gate)


def _clipped_cell_gradient(ctx):
    """The LSTM's dc (the carry plus h's path, what every gate's gradient and dc_(t-1) read)
    clipped as soon as it is formed, each step: ``np.clip(dc, -c, c, out=dc)``."""
    line = next(((i, st) for i, st in enumerate(ctx.stmts) if _mutable(st) and _target_name(st) == "dc"), None)
    if ctx.cell != "lstm" or line is None:
        return
    i, st = line
    for c in CLIP_AT:
        for form, what in ((f"np.clip({{}}, -{c}, {c})", f"clipped element by element to [-{c}, {c}]"),
                           (f"_clipnorm({{}}, {c}, True)", f"rescaled to a norm of at most {c} per example"),
                           (f"_clipnorm({{}}, {c}, False)", f"rescaled to a norm of at most {c}")):
            yield _edit(ctx, i, "gradient_clipped", st, _replace(st, st.value, _expr(form.format(_src(st.value)))),
                        f"the cell-state gradient dc {what} in each step, as soon as it is formed", gates="")
