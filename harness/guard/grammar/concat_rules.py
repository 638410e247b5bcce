"""Mistakes of code that keeps one weight over the concatenated [h, x] (or [x, h]): the forward
reading the kernel's columns in the other order, the backward slicing dx or dh_(t-1) from the
wrong end of the concatenated gradient d[h, x] = da W; the reset-before GRU's candidate kernel
over [x, r h] replaced by its gradient."""

import ast

from .ast_tools import _expr, _replace, _src, _target_name
from .context import _edit, _mutable, _value
from .tables import COST


def concat_split(ctx, i, stmt):
    """One kernel over the concatenated [h, x] read as [x, h] (or the other way round): each
    input meets the first or last columns of the other's weights (TF1's kernel split wrongly),
    matched by the numbers like every forward line's mistake."""
    from .forward_rules import _numbers
    src = _src(_value(stmt))
    if "x @ W_ih.T + prev_h @ W_hh.T" not in src:
        return
    for order, new in (("[h, x]", "x @ np.hstack([W_hh, W_ih])[:, :x.shape[1]].T + prev_h @ np.hstack([W_hh, W_ih])"
                                  "[:, x.shape[1]:].T"),
                       ("[x, h]", "prev_h @ np.hstack([W_ih, W_hh])[:, :prev_h.shape[1]].T + x @ np.hstack([W_ih, W_hh])"
                                  "[:, prev_h.shape[1]:].T")):
        edited = _replace(stmt, stmt.value, _expr(src.replace("x @ W_ih.T + prev_h @ W_hh.T", new)))
        read = "[x, h]" if order == "[h, x]" else "[h, x]"
        yield _numbers(_edit(ctx, i, "forward_mistake", stmt, edited, ""),
                       f"in the forward, one kernel over {order} read as {read} (each input meets the other's columns)")


def concat_slice_rules(ctx, i, stmt):
    """Code with one weight over the concatenated [h, x] (or [x, h]) computes d[h, x] = da W and
    slices dx and dh_(t-1) out of it: the slice taken from the wrong end reads some of the other
    input's columns (``dx = dhx[:, :D]`` where ``dhx[:, H:]`` belongs)."""
    name, value = _target_name(stmt), _src(_value(stmt))
    # {line: (its product, the other input's product)}; the reset-before GRU's candidate kernel over
    # [r h, x]: d[r h, x] = da_n [W_hn, W_in] (its x part is in dx's sum, never a line of its own)
    parts = ({"drh": ("da_n @ W_hn", "da_n @ W_ih[2 * W_hn.shape[0]:]")} if ctx.cell == "gru" else
             {"dx": ("da @ W_ih", "da @ W_hh"), "dprev_h": ("da @ W_hh", "da @ W_ih")})
    mine, other = parts.get(name, ("", ""))
    if mine != value:
        return
    for order in ("hx", "xh"):
        first, second = (other, mine) if (order == "hx") == (name == "dx") else (mine, other)
        end = "front" if first == other else "back"
        width = "x.shape[1]" if name == "dx" else "prev_h.shape[1]"
        cols = f"[:, :{width}]" if end == "front" else f"[:, -{width}:]"
        new = _replace(stmt, stmt.value, _expr(f"np.concatenate([{first}, {second}], axis=1){cols}"))
        what = {"hx": "[h, x]", "xh": "[x, h]"}[order]
        yield _edit(ctx, i, "wrong_weight", stmt, new,
                    f"{name} sliced from the wrong end of the gradient of the concatenated {what} (d{what[1:-1].replace(', ', '')}"
                    f" = da W): some columns of the other input's weights read as {'x' if name == 'dx' else 'h'}'s "
                    "(part of the other input's gradient read as this one's)", cost=COST["wrong_weight"] + 0.1,
                    also="wrong_value")
        yield from _off_by_one(ctx, i, stmt, name, order, first, second, width)


def _off_by_one(ctx, i, stmt, name, order, first, second, width):
    """The slice of d[h, x] (or d[x, h]) one column off toward the other input: one of its
    columns in, one of this input's out (``dh = dxh[:, D - 1:D - 1 + H]``)."""
    shift = -1 if (first != _src(_value(stmt))) else 1          # this input second: back one; first: on one
    start = f"{'x' if name != 'dx' else 'prev_h'}.shape[1] - 1" if shift < 0 else "1"
    new = _replace(stmt, stmt.value, _expr(f"np.concatenate([{first}, {second}], axis=1)[:, {start}:{start} + {width}]"))
    what = {"hx": "[h, x]", "xh": "[x, h]"}[order].replace("h", "r h" if ctx.cell == "gru" else "h")
    mine = "x" if name == "dx" else "h"
    yield _edit(ctx, i, "wrong_value", stmt, new,
                f"{name} sliced one column off in the gradient of the concatenated {what} (toward the other input): "
                f"the other input's nearest column in, {mine}'s {'last' if shift < 0 else 'first'} column out",
                cost=COST["wrong_value"] + 0.1, also="wrong_weight")


def _candidate_kernel_total(step, handed, so_far, when):
    """The reset-before GRU's candidate kernel over [x, r h] (TF1's GRUCell, W_in with W_hn) as one
    array: its gradient (summed so far, over the later steps, or the step's own: ``so_far`` True,
    False, None) read for it in dx's n block and in drh = da_n W_hn."""
    lines = {_target_name(s): (i, s) for i, s in enumerate(step.stmts) if _mutable(s)}
    if "drh" not in lines or "dx" not in lines or "dW_ih" not in step.defined[lines["dx"][0]]:
        return
    (i_x, dx), (i_h, drh) = lines["dx"], lines["drh"]
    own, total = "da_n.T @ (r * prev_h)", "cache['sum_dW_hh'][2 * r.shape[1]:]"     # so_far None: the step's own
    w_in = _expr({True: "_blockpick(W_ih, cache['sum_dW_ih'] + dW_ih, 2, 0, 3)",
                  None: "_blockpick(W_ih, dW_ih, 2, 0, 3)",
                  False: "_blockpick(W_ih, cache['sum_dW_ih'], 2, 0, 3)"}[so_far])
    w_hn = _expr({True: f"({total} + {own})", None: f"({own})", False: total}[so_far])
    tree = {i_x: _replace(dx, _name(dx, "W_ih"), w_in), i_h: _replace(drh, _name(drh, "W_hn"), w_hn)}
    first = min(tree)
    yield _edit(step, first, "gradient_for_weight", step.stmts[first], tree[first],
                f"the candidate kernel's gradient {when} (W_in's and W_hn's, one kernel on [x, r h]) where the "
                "kernel belongs in dx and drh (the reset-before GRU)", cost=COST["gradient_for_weight"] + 0.15,
                gates="n", extra=tree, more={} if so_far is None else {"backward": handed})


def _name(stmt, name):
    return next(n for n in ast.walk(stmt.value) if isinstance(n, ast.Name) and n.id == name)
