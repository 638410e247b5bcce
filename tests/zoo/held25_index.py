"""The twenty-fifth held-out zoo ("held25"): user-style BPTT built for speed or memory, with
planted mistakes, in styles the earlier zoos do not have: a cs231n RNN that caches only h and
recomputes the pre-activation in the backward, a ReLU RNN whose weights are views of one flat
buffer, a sigmoid tf_kernel RNN whose weight gradients come from one batched np.matmul after
the loop, a cs231n LSTM (forget bias 1.0) that stores only h and c and recomputes its gates,
an LSTM with its four gates on a trailing (N, H, 4) axis, a tf_kernel LSTM in one
preallocated (T, N, 6H) workspace written through out=, a reset-before GRU that allocates
nothing in its loops (out= everywhere), a GRU that caches the keep gate 1 - z = s(-a_z)
instead of z, and a checkpointing column-vector time-major GRU that recomputes its gates.
Written without reading the diagnosis (harness/guard/{grammar/, diagnose, mutants,
model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its results.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held25
"""

from . import (held25_bmm_sigmoid_rnn, held25_checkpoint_cols_gru, held25_conly_lstm, held25_flatbuf_relu_rnn,
               held25_gateslast_lstm, held25_keepgate_gru, held25_outbuf_gru, held25_recompute_rnn,
               held25_workspace_tf_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held25_recompute_rnn, held25_flatbuf_relu_rnn, held25_bmm_sigmoid_rnn, held25_conly_lstm,
    held25_gateslast_lstm, held25_workspace_tf_lstm, held25_outbuf_gru, held25_keepgate_gru,
    held25_checkpoint_cols_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-fifth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]
