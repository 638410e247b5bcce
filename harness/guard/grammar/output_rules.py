"""Mistakes made to the gradients a backward returns, after its loop: averaged over N, T or
N*T instead of summed (whole, or some gates' blocks), or two gate blocks of a weight or bias
gradient swapped as it is returned; and one local gradient averaged over N inside the step
(``averaged_in_step``, a line rule). Each is an ``Edit`` on the output (target "output"): the
textbook's gradients transformed (``harness.guard.mutants.scaled``), no line replayed."""

import ast
import itertools

from .ast_tools import _expr, _replace, _src, _target_name
from .context import _edit
from .gate_rules import _gates
from .tables import COST, NEGATED_Z, Edit


def output_edits(cell, sizes, has_bias):
    """Gradients scaled after the loop: averaged over N, T or N*T instead of summed (or added N or
    T times: ``_indented_too_deep``), whole or (gated cells) in one gate's block (a per-gate array: ``dWr / m``, ``db_z.mean(0)``) or two
    (two gates stacked in one array: ``dbg.mean(1)`` over [z; r]), or every bias but the GRU's
    b_hn; a weight or bias gradient negated as a whole; a gradient never computed (zeros)."""
    N, T = sizes["N"], sizes["T"]
    groups = _weight_groups(has_bias)
    blocks = dict(groups)                               # one gate's blocks: a per-gate kernel and bias averaged
    groups["every gradient (the upstream gradient dh averaged)"] = ("dx", "dh0", "dc0") + groups[
        "every weight and bias gradient"]
    groups.update({"dx": ("dx",), "the initial states' gradients": ("dh0", "dc0")})
    divisors = {}
    for label, n in ((f"the batch size N={N}", N), (f"the number of steps T={T}", T), (f"N*T={N * T}", N * T)):
        divisors.setdefault(n, []).append(label)        # N == T: one mutant, both readings
    gates = _gates(cell)
    out = []
    for n, labels in divisors.items():
        if n == 1:
            continue
        by = " or ".join(labels)
        for group, keys in groups.items():
            out.append(Edit("output", 0, "reduction_scaled", "", "", f"{group} divided by {by}", group, "",
                            COST["reduction_scaled"], "", {"scale": (keys, n, None)}))
        for k, gate in enumerate(gates if len(gates) > 1 else ()):
            for group, keys in blocks.items():
                out.append(Edit("output", 0, "reduction_scaled", "", "", f"the {gate} gate's block of {group} "
                                f"divided by {by}", group, "", COST["reduction_scaled"] + 0.1, gate,
                                {"scale": (keys, n, (k, len(gates)))}))
        for pair in itertools.combinations(range(len(gates)), 2) if len(gates) > 2 else ():
            named = " and ".join(gates[k] for k in pair)          # two gates kept in one array ([z, r] stacked)
            for group, keys in blocks.items():
                out.append(Edit("output", 0, "reduction_scaled", "", "", f"the {named} gates' blocks of {group} "
                                f"divided by {by}", group, "", COST["reduction_scaled"] + 0.15, "".join(gates[k] for k in pair),
                                {"scale": (keys, n, (pair, len(gates)))}))
        if cell == "gru" and has_bias:                 # b_hn in a line of its own, summed; the others averaged
            out.append(Edit("output", 0, "reduction_scaled", "", "", f"every bias gradient divided by {by} but the "
                            "recurrent candidate bias b_hn's (summed in a line of its own)", "dbias", "",
                            COST["reduction_scaled"] + 0.15, "",
                            {"scale": (("dbias_ih", "dbias_hh"), n, None, {"dbias_hh": (gates.index("n"), len(gates))})}))
    out += [Edit("output", 0, "wrong_sign", "", "", f"{group} returned with the wrong sign (every step's contribution "
                 "subtracted, `-=` as in the update step)", group, "", COST["wrong_sign"] + 0.1, "",
                 {"scale": (keys, -1, None)}) for group, keys in _weight_groups(has_bias).items()]
    out += [Edit("output", 0, "reduction_scaled", "", "", "every weight and bias gradient divided by 2 (the gradients "
                 "of two parts, micro-batches or halves of the sequence, averaged where they add up)",
                 "every weight and bias gradient", "", COST["reduction_scaled"] + 0.2, "",
                 {"scale": (groups["every weight and bias gradient"], 2, None)})] if 2 not in divisors else []
    out += _indented_too_deep(gates, blocks, N, T)
    return out + [Edit("output", 0, "term_dropped", "", "", f"{group} never computed: returned as zeros", group, "",
                       COST["term_dropped"] + 0.1, "", {"zero": keys}) for group, keys in _weight_groups(has_bias).items()
                  if group != "every weight and bias gradient"]


def averaged_in_step(ctx, i, stmt):
    """A local gradient of the step divided by the batch size N inside the step (``dpre_z = dz *
    z * (1 - z) / N``): unlike a returned gradient averaged, what is formed from it later (the
    carry, dx) is divided too. (At the default probe N = 3, a hand-written /3 reads so too.)"""
    name = _target_name(stmt)
    if not name.startswith("d") or name.startswith(("dW", "db")) or not isinstance(stmt, ast.Assign):
        return
    new = _replace(stmt, stmt.value, _expr(f"({_src(stmt.value)}) / x.shape[0]"))
    yield _edit(ctx, i, "reduction_scaled", stmt, new, f"{name} divided by the batch size N inside the step (every "
                "line after it, in this step and the earlier ones, reads it divided)", cost=COST["reduction_scaled"] + 0.2)


def returned_block_swaps(cell, has_bias):
    """Two gate blocks of a weight or bias gradient swapped as it is returned or packed (``dU_r``
    returned where ``dU_z`` belongs, ``[dW_i, dW_f, dW_o, dW_g]`` stacked for i, f, g, o), the
    pre-activation gradients, dx and the carries right."""
    gates = _gates(cell)
    for j, k in itertools.combinations(range(len(gates)), 2):
        for group, keys in _weight_groups(has_bias).items():
            yield Edit("output", 0, "gate_order", "", "", f"the {gates[j]} and {gates[k]} blocks of {group} swapped as "
                       "it is returned (each block in the other's place; the other gradients right)", group, "",
                       COST["gate_order"] + 0.1, gates[j] + gates[k], {"swap": (keys, (j, k), len(gates))})
            if "z" in (gates[j], gates[k]):             # a layout storing z's weights negated (u = 1 - z)
                yield Edit("output", 0, "gate_order", "", "", f"the {gates[j]} and {gates[k]} blocks of {group} "
                           f"swapped as it is returned, {NEGATED_Z} (each block in the other's place, with its sign)",
                           group, "", COST["gate_order"] + 0.2, gates[j] + gates[k],
                           {"swap": (keys, (j, k), len(gates), -1)})


def _weight_groups(has_bias):
    """{words: canonical gradients}: the weight and bias gradients one user array can hold
    (a tf_kernel kernel holds both weights, cs231n's b both biases), and all of them."""
    groups = {"dweight_ih": ("dweight_ih",), "dweight_hh": ("dweight_hh",),
              "dweight_ih and dweight_hh": ("dweight_ih", "dweight_hh")}
    if has_bias:
        groups.update({"dbias": ("dbias_ih", "dbias_hh"), "dbias_ih": ("dbias_ih",), "dbias_hh": ("dbias_hh",)})
    groups["every weight and bias gradient"] = tuple(dict.fromkeys(sum(groups.values(), ())))
    return groups


def _indented_too_deep(gates, blocks, N, T):
    """A whole-batch (or whole-sequence) weight or bias gradient accumulated inside a loop over the
    examples (or the steps) it already sums over: added N (or T) times, whole or one gate's block."""
    times = {}
    for n, what in ((N, f"N={N} times (a whole-batch sum added inside a loop over the examples)"),
                    (T, f"T={T} times (a whole-sequence sum added inside a loop over the steps)")):
        times.setdefault(n, []).append(what)            # N == T: one mutant, both readings
    out = []
    for n, whats in times.items():
        what = " or ".join(whats)
        if n == 1:
            continue
        for group, keys in blocks.items():
            out.append(Edit("output", 0, "reduction_scaled", "", "", f"{group} added {what}", group, "",
                            COST["reduction_scaled"] + 0.15, "", {"scale": (keys, 1 / n, None)}))
            for k, gate in enumerate(gates if len(gates) > 1 else ()):
                out.append(Edit("output", 0, "reduction_scaled", "", "", f"the {gate} gate's block of {group} added "
                                f"{what}", group, "", COST["reduction_scaled"] + 0.2, gate,
                                {"scale": (keys, 1 / n, (k, len(gates)))}))
    return out
