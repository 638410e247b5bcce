"""The thirty-first held-out zoo ("held31"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have, leaning to scientists' and engineers' code: a control
engineer's RNN with the discrete adjoint (costate) equations in (T, D, N) columns, an
in-place-ufunc sigmoid RNN (cs231n), an echo-state-notation ReLU RNN with state and delta
matrices (karpathy), a state-space LSTM whose backward is explicit Jacobian-vector products
per example, a time-major LSTM with (W, U, b) triples per gate and forget_bias = 1, a gate-table
tf_kernel LSTM with tensordot weight gradients, a leaky-integrator GRU (reset before,
time-major), a GRU as explicit Euler steps with its discrete adjoint in (D, T, N) columns and
a (D+H, 3, H) tensordot GRU (reset before). Written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize, model_candidates,
by_numbers, naming}.py) or its results on earlier zoos, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held31
"""

from . import (held31_adjoint_rnn, held31_euler_gru, held31_gatetable_tf_lstm, held31_inplace_sigmoid_rnn,
               held31_jacobian_lstm, held31_leaky_gru, held31_reservoir_relu_rnn, held31_tensordot_gru,
               held31_triples_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held31_adjoint_rnn, held31_inplace_sigmoid_rnn, held31_reservoir_relu_rnn, held31_jacobian_lstm,
    held31_triples_lstm, held31_gatetable_tf_lstm, held31_leaky_gru, held31_euler_gru, held31_tensordot_gru)}


def cases():
    """Every (module name, bug, cause) of the thirty-first held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]
