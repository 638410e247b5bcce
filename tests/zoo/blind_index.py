"""The held-out ("blind") zoo: user-style BPTT with planted mistakes, written without
reading the diagnosis (harness/guard/{grammar,diagnose,mutants,model_diagnose,narrow}.py)
so that it measures the diagnosis honestly.

Every module exposes ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate letters whose
weight-gradient blocks are wrong with one step, "" for all, none or an RNN} and
``make(bug=None) -> (forward, backward, options)`` for ``harness.check_backward``.
``touched_gates`` recomputes a TOUCHES entry from the code itself.
"""

import dataclasses

import numpy as np

from harness.cells import num_gates
from harness.guard.layouts import CANONICAL_ORDER, get_layout
from harness.guard.runner import UserCode, run_user
from harness.probe import make_probe

from . import (blind_course_lstm, blind_course_rnn, blind_custom_gru, blind_custom_gru_tf1, blind_more_cs231n_lstm,
               blind_more_cs231n_rnn, blind_more_karpathy_rnn, blind_more_tf_lstm, blind_more_tf_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    blind_course_rnn, blind_course_lstm, blind_custom_gru, blind_custom_gru_tf1, blind_more_cs231n_rnn,
    blind_more_cs231n_lstm, blind_more_tf_rnn, blind_more_tf_lstm, blind_more_karpathy_rnn)}

CELL_OPTIONS = ("activation", "forget_bias", "reset_after")


def cases():
    """Every (module name, bug, cause) of the blind zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]


def _values(forward, backward, options, probe):
    cell = options["cell"]
    return run_user(UserCode(forward, backward, get_layout(options["layout"], cell), cell), probe, probe.dout)


def touched_gates(mod, bug, steps=1, seed=0):
    """The canonical gates whose weight-gradient blocks (dweight_ih, dweight_hh, dbias_*)
    differ between ``bug`` and the correct code with ``steps`` steps, on a probe built as
    check_backward builds it (no gradient on the final state; c0 = 0 where the layout has
    no c0). "" when no gate or every gate differs; a gate whose blocks are zero in both
    (f with c0 = 0 and one step: df = dc * c0) cannot show a mistake and is not counted, so
    a mistake in every gate that can show one also reads "" there."""
    f0, b0, _ = mod.make(None)
    f1, b1, opts = mod.make(bug)
    cell = opts["cell"]
    probe = make_probe(cell, batch=3, steps=steps, input_size=4, hidden_size=6, seed=seed,
                       **{k: opts[k] for k in CELL_OPTIONS if k in opts})
    state0 = dict(probe.state0)
    if cell == "lstm" and not get_layout(opts["layout"], cell).takes_c0:
        state0["c"] = np.zeros_like(state0["c"])
    probe = dataclasses.replace(probe, state0=state0,
                                dstate_n={k: np.zeros_like(v) for k, v in probe.dstate_n.items()})
    good, bad = _values(f0, b0, opts, probe), _values(f1, b1, opts, probe)
    order, G = CANONICAL_ORDER[cell], num_gates(cell)
    wrong, live = set(), set()
    for q in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"):
        if q not in good:
            continue
        for letter, g, b in zip(order, np.split(good[q], G), np.split(np.asarray(bad[q]), G)):
            if np.any(g) or np.any(b):
                live.add(letter)
            if not np.allclose(g, b, rtol=1e-7, atol=1e-10):
                wrong.add(letter)
    return "" if cell == "rnn" or not wrong or wrong == live else "".join(q for q in order if q in wrong)
