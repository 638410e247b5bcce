"""Mistakes of code that keeps one weight over the concatenated [h, x] (or [x, h]): the forward
reading the kernel's columns in the other order, the backward slicing dx or dh_(t-1) from the
wrong end of the concatenated gradient d[h, x] = da W, or one column off (toward the other
input or a ones column that holds the bias); the reset-before GRU's candidate kernel
over [x, r h] replaced by its gradient."""

import ast

from .ast_tools import _expr, _replace, _src, _target_name
from .context import _edit, _mutable, _value
from .tables import COST, Edit


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


# The bias a ones column folded into an input's kernel holds: the kernel over x alone ([x, 1]) or
# over h alone, or one kernel over both with one bias; the GRU's blocks of W_hh (W_hn: drh =
# da_n W_hn over [x, r h, 1], reset before) hold their blocks of it.
_BOTH = "(cache['b_ih'] + cache['b_hh'])"
_BLOCK = {"W_hr": "[:W_hr.shape[0]]", "W_hz": "[W_hz.shape[0]:2 * W_hz.shape[0]]", "W_hn": "[2 * W_hn.shape[0]:]",
          "W_hrz": "[:2 * W_hr.shape[0]]"}
ONES_BIAS = {"W_ih": ("cache['b_ih']", _BOTH), "W_hh": ("cache['b_hh']", _BOTH),
             **{k: (f"cache['b_hh']{b}", f"{_BOTH}{b}") for k, b in _BLOCK.items()}}
ONES_INPUT = {"W_ih": "x", "W_hn": "r h"}
# A sum of products that is one product over a concatenated kernel: (its source, d, kernel's name).
ONES_SUMS = {"da_r @ W_hr + da_z @ W_hz": ("np.concatenate([da_r, da_z], axis=1)", "W_hrz")}


def ones_column_rules(ctx, i, stmt):
    """Code that folds the bias into the kernel as a ones column ([x, h, 1], [1, x], ...) slices
    dx or dh_(t-1) out of d[x, h, 1] = da K: the slice one column off toward the ones column reads
    that column's gradient (da b) as one of the input's and drops the input's column at the other
    end (``dh = dxh1[:, D + 1:]`` where ``dxh1[:, D:D + H]`` belongs)."""
    value = _value(stmt)
    if value is None or not _mutable(stmt) or _target_name(stmt) not in ("dx", "dprev_h", "drh"):
        return
    src = _src(value)
    products = [(_src(n), n.left.id, n.right.id, n) for n in ast.walk(value) if isinstance(n, ast.BinOp)
                and isinstance(n.op, ast.MatMult) and isinstance(n.left, ast.Name)
                and isinstance(n.right, ast.Name) and n.right.id in ONES_BIAS]
    products += [(part, d, kernel, None) for part, (d, kernel) in ONES_SUMS.items() if src.endswith(" + " + part)]
    for part, d, kernel, node in products:
        for bias in ONES_BIAS[kernel]:
            for at in ("front", "back"):
                shifted = f"_ones_column({part}, {d}, {bias}, '{at}')"
                new = (_replace(stmt, node, _expr(shifted)) if node is not None else
                       _replace(stmt, value, _expr(src[:-len(part)] + shifted)))
                mine = ONES_INPUT.get(kernel, "h")
                yield _edit(ctx, i, "wrong_value", stmt, new,
                            f"{_target_name(stmt)} sliced one column off in the gradient of an input with the bias "
                            f"folded in as a ones column: that column's gradient read as {mine}'s "
                            f"{'first' if at == 'front' else 'last'}, {mine}'s {'last' if at == 'front' else 'first'} "
                            "column dropped", cost=COST["wrong_value"] + 0.15, also="wrong_weight")


def split_both_wrong(ctx, edits):
    """d[x, h] split as if it were d[h, x] (or the other way round) in both of its slices at once:
    dx and dh_(t-1) each from the wrong end."""
    other = {"[h, x]": "[x, h]", "[x, h]": "[h, x]"}
    groups = {}
    for e in edits:
        for what in other:
            if e.says.startswith(f"{e.line} sliced from the wrong end of the gradient of the concatenated {what}") \
                    and set(e.tree) == {e.index}:
                groups.setdefault(what, {}).setdefault(e.line, e)
    for what, by_line in groups.items():
        if len(by_line) == 2:
            tree = {k: v for e in by_line.values() for k, v in e.tree.items()}
            first = min(by_line.values(), key=lambda e: e.index)
            yield Edit(ctx.target, first.index, "wrong_value", first.before, first.after,
                       f"the gradient of the concatenated {what} split as if it were {other[what]}: dx and dh_(t-1) both "
                       "sliced from the wrong end", first.line, "", first.cost + 0.1, "", tree, also="wrong_weight")


def one_unit_kept(ctx, i, stmt):
    """dx or dh_(t-1) = da W assigned (=) inside a loop over the units of da, where it accumulates
    (C and Fortran loops: ``dh_prev[i] = dpre[j] * W[j, i]``): only the last unit's term kept,
    da[:, -1:] W[-1:] (or the first's, for a loop that runs down)."""
    value = _value(stmt)
    if value is None or not _mutable(stmt) or _target_name(stmt) not in ("dx", "dprev_h"):
        return
    for node in [n for n in ast.walk(value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult)
                 and isinstance(n.left, ast.Name) and isinstance(n.right, ast.Name) and n.right.id in ("W_ih", "W_hh")]:
        for cut, which in (("-1:", "last"), (":1", "first")):
            kept = f"{node.left.id}[:, {cut}] @ {node.right.id}[{cut}]"
            yield _edit(ctx, i, "carry_overwrites", stmt, _replace(stmt, node, _expr(kept)),
                        f"{_target_name(stmt)} assigned (=) inside a loop over the units of {node.left.id} where it "
                        f"accumulates (+=): only the {which} unit's term of {_src(node)} kept",
                        cost=COST["carry_overwrites"] + 0.15)


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
