"""The thirty-fifth held-out zoo ("held35"): user-style BPTT with planted mistakes, leaning to code
inside a home-made mini deep-learning framework (array-level nodes, not scalars), in styles the
earlier zoos do not have:

- held35_seqcopies_rnn: a tanh RNN (cs231n) from Module / Parameter classes with ``.grad`` += and
  ``zero_grad()``, a cell of Linear / HiddenToHidden / Add / Tanh layer objects, unrolled as one
  ``clone()`` of the cell per step sharing its Parameters;
- held35_tape_relu_rnn: a ReLU RNN (tf_kernel) on a Tensor / Op / Tape autodiff: Concat, MatMul,
  BiasAdd, ReLU op objects recorded on a tape, the upstream gradients seeded onto every h_t and
  the tape walked in reverse;
- held35_vjpreg_cols_sigmoid_rnn: a sigmoid RNN on column-major (D, N, T) arrays differentiated by
  a HIPS-autograd-like functional registry (``defvjp`` of per-argument vjp makers, a trace of
  primitive calls, gradients keyed by ``id`` of the arrays, ``unbroadcast``);
- held35_topo_lstm: a cs231n LSTM as one node graph over the whole sequence (Leaf, Param, MatMul,
  AddN, Gate, Sigmoid, Tanh, Mul nodes), a depth-first topological sort and ``backward`` per node
  in reverse order;
- held35_hooks_tm_lstm: a time-major LSTM (torch's two Linear layers and two biases, i, f, g, o,
  forget_bias 1.0) in a framework with forward and backward hooks: a forward hook records the
  outputs, a backward hook adds each step's upstream gradient, the Linear layers keep stacks;
- held35_stacks_tf_lstm: a tf_kernel LSTM (forget_bias 1.0) from reused layer objects that keep
  their saved tensors on LIFO stacks (Concat, Dense, Sigmoid, Tanh, Mul), a generator forward
  and a generator backward fed through ``zip`` / ``itertools``;
- held35_moduledict_gru: a reset-after GRU with torch's per-gate weights in a ModuleDict of
  GatePair modules (input and hidden Linear), every forward returning ``(out, ctx)`` and the
  gradients returned in ``parameters()`` order;
- held35_vartape_tm_gru: a time-major Keras reset-before GRU (z, r, h blocks of kernel,
  recurrent_kernel, bias) on a Var class with operator overloading and ``_backward`` closures,
  a ``split_columns`` op and a topological backward from a scalar loss built in the backward;
- held35_oplist_gru: a reset-after GRU written as a list of (output, op, inputs) records run by
  a tiny interpreter with forward and backward rule tables, one example at a time in column
  vectors (per-example layout);
- held35_dispatch_karpathy_rnn: a tanh RNN in Karpathy's layout as dataclass expression trees
  (Leaf, Affine, Recurrence, Sum, Tanh) differentiated by a ``functools.singledispatch`` backward
  with one registered rule per node type.

Every module exposes ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: gate letters} and
``make(bug=None) -> (forward, backward, options)`` for ``harness.check_backward``, as
``blind_index`` describes.
"""

from . import (held35_dispatch_karpathy_rnn, held35_hooks_tm_lstm, held35_moduledict_gru, held35_oplist_gru,
               held35_seqcopies_rnn, held35_stacks_tf_lstm, held35_tape_relu_rnn, held35_topo_lstm,
               held35_vartape_tm_gru, held35_vjpreg_cols_sigmoid_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held35_seqcopies_rnn, held35_tape_relu_rnn, held35_vjpreg_cols_sigmoid_rnn, held35_dispatch_karpathy_rnn,
    held35_topo_lstm, held35_hooks_tm_lstm, held35_stacks_tf_lstm,
    held35_moduledict_gru, held35_vartape_tm_gru, held35_oplist_gru)}


def cases():
    """Every (module name, bug, cause) of the held35 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]
