"""Mistakes of code that keeps one weight over the concatenated [h, x] (or [x, h]): the forward
reading the kernel's columns in the other order, the backward slicing dx or dh_(t-1) from the
wrong end of the concatenated gradient d[h, x] = da W."""

from .ast_tools import _expr, _replace, _src, _target_name
from .context import _edit, _value
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
    parts = {"dx": "da @ W_ih", "dprev_h": "da @ W_hh"}
    if parts.get(name) != value:
        return
    mine, other = value, parts["dprev_h" if name == "dx" else "dx"]
    for order in ("hx", "xh"):
        first, second = (other, mine) if (order == "hx") == (name == "dx") else (mine, other)
        end = "front" if first == other else "back"
        width = "x.shape[1]" if name == "dx" else "prev_h.shape[1]"
        cols = f"[:, :{width}]" if end == "front" else f"[:, -{width}:]"
        new = _replace(stmt, stmt.value, _expr(f"np.concatenate([{first}, {second}], axis=1){cols}"))
        what = {"hx": "[h, x]", "xh": "[x, h]"}[order]
        yield _edit(ctx, i, "wrong_weight", stmt, new,
                    f"{name} sliced from the wrong end of the gradient of the concatenated {what} (d{what[1:-1].replace(', ', '')}"
                    f" = da W): some columns of the other input's weights read as {'x' if name == 'dx' else 'h'}'s",
                    cost=COST["wrong_weight"] + 0.1)
