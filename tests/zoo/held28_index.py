"""The twenty-eighth held-out zoo ("held28"): user-style BPTT with planted mistakes, in the
compact style of a chatbot answer or a quick Stack Overflow answer (lambdas for the
activations, ``zip`` over reversed lists, ``functools.reduce``, ``np.c_``, einsum chains,
dict comprehensions for the gradients, fancy-index gate blocks), written without reading
the diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow,
localize, model_candidates, by_numbers, naming}.py) or its results on earlier zoos:

    held28_lambda_cs231n_rnn     cs231n RNN: lambdas, zip(reversed(...)), weight gradients after the loop
    held28_reduce_tf_relu_rnn    tf_kernel ReLU RNN: functools.reduce forward, countdown backward
    held28_steps_karpathy_rnn    karpathy RNN: (x, h_prev, h) step tuples, reversed(list(enumerate(...)))
    held28_split_cs231n_lstm     cs231n LSTM: np.split, tuple caches, np.hstack of the local gradients
    held28_npc_tf_lstm           tf_kernel LSTM with forget_bias=1.0: np.c_, carry added into dh[:, t - 1]
    held28_einsum_tensor_lstm    custom: time-major LSTM on a (4, D+H, H) weight tensor (f, i, g, o), einsum
    held28_twopass_tm_gru        custom: time-major reset-before GRU (z, r, h), einsum weight gradients after the loop
    held28_actsdict_list_gru     custom: reset-after GRU with a params list and a dict of activation arrays
    held28_fancyindex_gru        custom: reset-after GRU (z, r, n) with fancy-index gate blocks, torch orientation

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held28
"""

from . import (held28_actsdict_list_gru, held28_einsum_tensor_lstm, held28_fancyindex_gru, held28_lambda_cs231n_rnn,
               held28_npc_tf_lstm, held28_reduce_tf_relu_rnn, held28_split_cs231n_lstm, held28_steps_karpathy_rnn,
               held28_twopass_tm_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held28_lambda_cs231n_rnn, held28_reduce_tf_relu_rnn, held28_steps_karpathy_rnn, held28_split_cs231n_lstm,
    held28_npc_tf_lstm, held28_einsum_tensor_lstm, held28_twopass_tm_gru, held28_actsdict_list_gru,
    held28_fancyindex_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-eighth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]
