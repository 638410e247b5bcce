"""A framework op's backward rule written wrongly, and so wrong at every use of the op (code that
builds its cell from its own Mul, Add and Tanh nodes, or a tape of them): Mul's backward
handing each factor the upstream gradient times its own value, (g a, g b) where (g b, g a)
belongs, in every product of the cell at once. One line per cell's product rule: the step's
line as the textbook writes it, and as that Mul makes it."""

from .ast_tools import _expr, _replace, _src
from .context import _edit, _value
from .tables import COST

OWN_VALUE = {
    "lstm": {"do = dnext_h * tanh_c": "dnext_h * o",                  # h = o * tanh(c)
             "dc = dnext_c + dnext_h * o * dtanh(tanh_c)": "dnext_c + dnext_h * tanh_c * dtanh(tanh_c)",
             "di = dc * g": "dc * i", "dg = dc * i": "dc * g",          # c = f * c_(t-1) + i * g
             "df = dc * prev_c": "dc * f", "dprev_c = dc * f": "dc * prev_c"},
    "gru": {"dn = dnext_h * (1 - z)": "dnext_h * n",                    # h = (1 - z) * n + z * h_(t-1)
            "dz = dnext_h * (prev_h - n)": "dnext_h * (z - (1 - z))",
            "dprev_h = dnext_h * z": "dnext_h * prev_h",
            "da_hn = da_n * r": "da_n * a_hn", "dr = da_n * a_hn": "da_n * r",      # reset after: r * a_hn
            "dr = drh * prev_h": "drh * r", "dprev_h = dprev_h + drh * r": "dprev_h + drh * prev_h"},  # r * h_(t-1)
}


def every_product_own_value(ctx):
    """Every product's backward reading its own factor where the other factor belongs."""
    table = OWN_VALUE.get(ctx.cell, {})
    tree = {}
    for i, stmt in enumerate(ctx.stmts):
        value = _value(stmt)
        new = table.get(_src(stmt)) if value is not None else None
        if new is not None:
            tree[i] = _replace(stmt, value, _expr(new))
    if len(tree) < 2:
        return
    first = min(tree)
    yield _edit(ctx, first, "wrong_value", ctx.stmts[first], tree[first],
                "every product's backward hands each factor the upstream gradient times its own value (a Mul op "
                "returning (g a, g b) where (g b, g a) belongs), in every product of the cell at once",
                cost=COST["wrong_value"] + 0.3, extra=tree, gates="")
