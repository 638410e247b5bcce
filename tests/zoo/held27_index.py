"""The twenty-seventh held-out zoo ("held27"): user-style BPTT with planted mistakes in
styles the earlier zoos do not have, leaning to tutorials and lecture notes in other
languages: a Japanese-blog RNN with romaji names (time-major, a weights dict), a Spanish
tutorial's ReLU RNN class in Karpathy's layout, a Portuguese Q&A sigmoid RNN on TF's
kernel, a Russian course's LSTM with transliterated per-gate names and a forget bias, an
LSTM written from a textbook's equations with np.multiply for every product (cs231n's
layout), a German lecture's LSTM on TF's kernel with a forget bias, a lecture-slide GRU
with one-letter names and column vectors (reset before), a French tutorial's GRU with one
cache tuple per step (reset after) and an Italian notes' time-major GRU with a params list.
Written without reading the diagnosis (harness/guard/{grammar/, diagnose, mutants,
model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its results.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held27
"""

from . import (held27_deutsch_kernel_lstm, held27_espanol_relu_rnn, held27_folien_cols_gru, held27_francais_gru,
               held27_italiano_tm_gru, held27_portugues_sigmoid_rnn, held27_romaji_rnn, held27_russkiy_lstm,
               held27_uchebnik_multiply_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held27_romaji_rnn, held27_espanol_relu_rnn, held27_portugues_sigmoid_rnn, held27_russkiy_lstm,
    held27_uchebnik_multiply_lstm, held27_deutsch_kernel_lstm, held27_folien_cols_gru, held27_francais_gru,
    held27_italiano_tm_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-seventh held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]
