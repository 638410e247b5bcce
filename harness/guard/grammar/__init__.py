"""The grammar of BPTT mistakes: what people get wrong in each line of a backward pass.

The diagnosis does not keep a list of known bugs. It reads the textbook cells'
``step_backward`` and ``backward`` (reference_impls/{rnn,lstm,gru}.py) as Python syntax
trees and plants every mistake of this grammar into every line where it can occur:

    term_dropped               a term of a sum, or a factor of a product, left out
    wrong_sign                 a term, a difference or a whole line negated
    derivative_missing         the local derivative left out (da = dh instead of dh * tanh'(h))
    derivative_twice           the local derivative applied twice
    derivative_wrong_function  another activation's derivative (tanh' for a sigmoid gate)
    derivative_miswritten      the derivative's formula written wrongly (1 - y for 1 - y^2)
    derivative_wrong_point     the derivative evaluated at another value (the pre-activation,
                               c_t for tanh(c_t), h_(t-1) for h_t)
    inplace_corruption         the derivative computed in place into the cached value, which
                               is read again (``i *= 1 - i`` before ``dg = dc * i``), or a cached
                               forward value overwritten by the next one (z by 1 - z, c by tanh(c))
    wrong_value                a value read in place of another (``do = dh * c`` for ``dh * tanh(c)``,
                               i_t for f_t in the c carry)
    wrong_time                 a factor taken at another step (c_t for c_(t-1), h_t for h_(t-1),
                               x_(t-1) or x_(t+1) for x_t)
    weight_transposed          a weight used transposed (block by block for gated weights)
    wrong_weight               another weight used in its place
    gradient_for_weight        the weight's own gradient used in its place
    carry_dropped              a carry across time (h or c) never added
    carry_overwrites           the carry replaces what it should be added to, or a gradient
                               accumulated with = instead of +=
    loop_skips_step            the backward loop misses steps at its start or its end
    loop_direction             the backward loop runs forward in time
    gradient_clipped           the carry, the incoming gradient, the pre-activation gradients (all,
                               or the GRU's input side) or the weights' gradients clipped inside
                               the loop (round thresholds)
    reduction_scaled           a gradient divided by N, T or N*T (averaged instead of summed), or added N
                               or T times (a sum inside a loop over what it sums), whole
                               or in one or two gates' blocks
    gate_order                 gate blocks in another order: written into the pre-activation
                               gradient, in one returned gradient, or in the weights dx and the
                               carry are formed with

Mistakes that no single line holds are built from the textbook's own run in
``harness.guard.run_candidates`` (truncated BPTT, clipping of the returned gradients, a
forward cache aliased or reused) and ``harness.guard.model_candidates`` (other weights or
options); forward mistakes in any line are matched by the numbers (``harness.guard.by_numbers``).

What is specific to a cell (which values can be confused with which) is one table per
cell, ``CELLS`` below: a new confusion is one line there. Each planted mistake is an
``Edit``: the statement it changes, how it reads before and after, its cause and how
simple it is (the diagnosis names the simplest mistake that reproduces the user's numbers).
"""

from .ast_tools import statements
from .derivative_rules import outside_derivative_edits
from .driver_rules import driver_edits, loop_only_variants
from .total_rules import running_total_edits
from .output_rules import output_edits, returned_block_swaps
from .forward_rules import bias_outside_activation, forward_driver_edits, forward_edits, forward_line_edits
from .step_rules import step_edits
from .time_rules import stored_one_slot_early
from .tables import CELLS, COST, SAYS, Edit

__all__ = ["CELLS", "COST", "SAYS", "Edit", "statements", "step_edits", "driver_edits", "output_edits",
           "forward_edits", "forward_line_edits", "forward_driver_edits", "bias_outside_activation",
           "running_total_edits", "loop_only_variants", "outside_derivative_edits", "returned_block_swaps",
           "stored_one_slot_early"]
