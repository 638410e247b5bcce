"""The weight gradient summed so far used where the weight belongs when carrying back
(``dh_next = dWhh.T @ dhraw`` after ``dWhh += ...``): the driver hands the step its running
totals, the step reads them in place of the weight, of one gate's block, of the GRU's r and z
blocks together, or (one gradient array read for every weight) of all of them."""

import ast

from .ast_tools import _expr, _replace, _src, _target_name
from .concat_rules import _candidate_kernel_total
from .context import _Context, _edit, _step_call
from .tables import COST
from .time_rules import _renamed


def running_total_edits(cell, step_tree, driver_tree):
    """The weight gradient summed so far (this step's included) used where the weight belongs
    when carrying back (``dh_next = dWhh.T @ dhraw`` after ``dWhh += ...``): the driver hands the
    step its running totals, the step reads them in place of the weight (or of one gate's block)."""
    from .gate_rules import _gates
    step = _Context(cell, "step_backward", step_tree)
    drive = _Context(cell, "backward", driver_tree)
    call = _step_call(drive)
    if call is None:
        return
    j, stmt = call
    arg = next(a for a in stmt.value.args if _src(a) == "caches[t]")
    handed = {j: _replace(stmt, arg, _expr("dict(caches[t], sum_dW_ih=dW_ih + caches[t].get('sum0_dW_ih', 0), "
                                           "sum_dW_hh=dW_hh + caches[t].get('sum0_dW_hh', 0))"))}   # sum0: carried in
    gates = _gates(cell)
    for so_far, when in ((True, "summed so far (this step's included)"), (False, "summed over the later steps")):
        yield from _running_total_variants(step, gates, handed, so_far, when)
        if cell == "gru":
            yield from _candidate_kernel_total(step, handed, so_far, when)
    if cell == "gru":
        yield from _candidate_kernel_total(step, handed, None, "of this step alone")


GATE_WEIGHT = {"0": "W_hr", "1": "W_hz", "2": "W_hn"}      # the GRU's recurrent weight blocks, one name each


def _running_total_variants(step, gates, handed, so_far, when):
    choices = [("", "", "")] + [(str(k), g, f" (the {g} block)") for k, g in enumerate(gates)]
    if len(gates) == 3:                                 # the GRU's r and z blocks together (one (H, 2H) U_rz)
        choices.append(("01", "rz", " (the r and z blocks)"))
    for k, gate, block in choices:
        planted = _running_totals(step, k, len(gates), so_far)
        extra_cost = (0.1 if gate else 0) + (0 if so_far else 0.05)
        for i, (line, new, ws) in planted.items():
            w = "W_hh" if ws[0] in GATE_WEIGHT.values() else ws[0]
            yield _edit(step, i, "gradient_for_weight", line, new,
                        f"the gradient d{w} {when}{block} where the weight{'s' if len(ws) > 1 else ''} {', '.join(ws)} "
                        f"belong{'' if len(ws) > 1 else 's'} in {_target_name(line)}",
                        cost=COST["gradient_for_weight"] + extra_cost, gates=gate, more={"backward": handed})
        if not k and len(gates) == 3:                   # the reset-before GRU: every block, W_hn's line too
            planted = _running_totals(step, "012", 3, so_far, whole=True)
        if len(planted) > 1:                            # [W_ih | W_hh] as one kernel: both at once
            first = min(planted)
            lines = " and ".join(dict.fromkeys(_target_name(line) for line, _, _ in planted.values()))
            yield _edit(step, first, "gradient_for_weight", planted[first][0], planted[first][1],
                        f"the weights' gradient {when}{block} where the weights belong in {lines} (one kernel on "
                        "[x, h], or one gradient array read for every weight)", cost=COST["gradient_for_weight"] + 0.05 + extra_cost,
                        gates=gate, more={"backward": handed}, extra={i: new for i, (_, new, _) in planted.items()})


def _running_totals(step, k, G, so_far, whole=False):
    """{line: (statement, the statement with the weights (their blocks ``k``) read as their
    gradients' running totals, the names of the weights replaced)}. ``whole``: the reset-before GRU's blocks read
    whole from the totals, W_hn's before dW_hh is formed in the step as the total so far plus
    the step's own da_n^T (r h_(t-1))."""
    planted = {}
    for i, line in enumerate(step.stmts):
        if not (isinstance(line, ast.Assign) and isinstance(line.value, ast.BinOp)) or (
                whole and not _target_name(line).startswith("d")):
            continue
        exprs = {}
        for node in [n for n in ast.walk(line.value) if isinstance(n, ast.Name)
                     and (n.id in ("W_ih", "W_hh") or n.id in {GATE_WEIGHT.get(d) for d in k})]:
            w = "W_hh" if node.id in GATE_WEIGHT.values() else node.id     # W_hz: the z block of W_hh
            if so_far and f"d{w}" not in step.defined[i]:      # the later steps' sum needs no dW here
                if not (whole and node.id == "W_hn"):
                    continue
                exprs[node.id] = "(cache['sum_dW_hh'][2 * W_hn.shape[0]:] + da_n.T @ (r * prev_h))"
                continue
            total = f"(cache['sum_d{w}'] + d{w})" if so_far else f"cache['sum_d{w}']"
            expr = w
            for d in k if not whole else ():
                expr = f"_blockpick({expr}, {total}, {d}, 0, {G})"
            if node.id != w:
                expr = f"np.split({total}, 3)[{next(d for d in k if GATE_WEIGHT[d] == node.id)}]"
            exprs[node.id] = expr if k and not (whole and node.id == w) else total
        if exprs:
            planted[i] = (line, _renamed(line, {n: _expr(e) for n, e in exprs.items()}), list(exprs))
    return planted
