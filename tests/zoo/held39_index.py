"""The thirty-ninth held-out zoo ("held39"): user-style BPTT with planted mistakes, leaning to
enterprise-style object-oriented code: abstract base classes for cells and activations, a
strategy pattern for each activation and its derivative, Enums for the gate names and their
order, frozen config dataclasses, type hints throughout, registries and factories building the
cell from a config, injected weight stores, small single-purpose methods and properties for
derived values. Mistakes include the ones such code invites (a strategy wired to the wrong
gate, an Enum order that differs from the storage order, a property recomputed from the wrong
field, a hook a subclass overrides or fails to override, a registry key resolving to the wrong
class) as well as the usual BPTT ones.

- held39_strategy_rnn: a tanh RNN (cs231n) with an ActivationStrategy ABC and registry, a frozen
  RnnConfig, an injected WeightStore, a GradientAccumulator and a CellFactory.
- held39_registry_relu_rnn: a ReLU RNN, time-major, torch's weight names and two biases: an
  ActivationKind Enum keyed registry of Nonlinearity classes, a frozen LayerSpec with a
  from_weights factory, ParameterStore / GradientStore injected into a layer behind a facade.
- held39_template_sigmoid_rnn: a sigmoid RNN in column-major (D, N, T) arrays with a params dict,
  written with the template method pattern (an abstract RecurrentUnit with hooks whose gradient
  hook defaults to tanh's, a SigmoidUnit subclass).
- held39_gateenum_lstm: a cs231n LSTM (i, f, o, g; forget_bias 0) with a Gate IntEnum owning its
  column block, a Gate -> strategy table, StepState properties (tanh_c, h) and a gate-gradient
  assembler.
- held39_factory_tf_lstm: a tf_kernel LSTM (i, j, f, o; forget_bias 1.0) from a @register_cell
  registry and CellFactory.from_config, a frozen CellConfig with an f_offset property, a
  KernelStore with derived sizes, per-gate strategies.
- held39_injected_lstm: a time-major LSTM with a (W, U, b) triple per gate built from the flat
  argument list into a ParameterStore keyed by a GateKind Enum, frozen GateSpecs holding each
  gate's squash strategy and offset (forget_bias 1.0), a registry with a coupled-gate subclass.
- held39_blocks_gru: a reset-after GRU, batch-major, Wx / Wh with column blocks z, r, n and two
  biases, a GruGate IntEnum owning its columns, a StepRecord with gate properties, a packer.
- held39_resetbefore_gru: a TF1 GRUCell-style (reset-before) GRU, time-major, a dict of per-gate
  (W, U, b) behind a WeightRepository ABC, an abstract cell with candidate hooks overridden by
  reset-before / reset-after subclasses chosen from a registry.
- held39_keras_columns_gru: a Keras-style reset-after GRU in column-major (D, N, T) arrays,
  kernel (3H, D), recurrent kernel (3H, H), bias (2, 3H) in a KernelBundle, an abstract GruCell
  with a reset-before default hook and a ResetAfterGruCell subclass, a frozen config.
"""

from . import (
    held39_blocks_gru,
    held39_factory_tf_lstm,
    held39_gateenum_lstm,
    held39_injected_lstm,
    held39_keras_columns_gru,
    held39_registry_relu_rnn,
    held39_resetbefore_gru,
    held39_strategy_rnn,
    held39_template_sigmoid_rnn,
)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held39_strategy_rnn, held39_registry_relu_rnn, held39_template_sigmoid_rnn, held39_gateenum_lstm,
    held39_factory_tf_lstm, held39_injected_lstm, held39_blocks_gru, held39_resetbefore_gru,
    held39_keras_columns_gru)}


def cases():
    """Every (module name, bug, cause) of the held39 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]
