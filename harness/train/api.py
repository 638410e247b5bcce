"""check_training(): train your model and the frameworks' from the same weights on the same
batches with the same rule, and compare the runs after every step."""

import dataclasses

import numpy as np

from .. import validate
from ..errors import BackendUnavailable, HarnessError
from ..gradnorms import one_torch_thread
from ..compare import skipped_row
from ..guard.check import parse_against
from ..guard.model_case import make_case
from ..probe import _positive_int, make_probe
from . import data as data_mod
from . import driver, figures, optimizers, trajectories
from .report import TrainingReport

ORACLES = ("reference", "torch", "tf")


def check_training(fn=None, *, cell="rnn", layers=1, activation="tanh", bias=True, head=None, output_size=None,
                   loss="squared_error", loss_steps=None, reduction="mean", head_bias=True, against=("torch",),
                   batch=3, num_steps=5, train_steps=None, epochs=1, input_size=4, hidden_size=6,
                   dtype="float64", seed=0, forget_bias=0.0, reset_after=True, optimizer="sgd", lr=0.1,
                   optimizer_options=None, clip_value=None, clip_norm=None, carry_state=False,
                   train_bias_hh=False, data=None, init="probe", params=None, atol=None, rtol=None):
    """Train ``fn``'s model (or the NumPy reference when fn is None) and each oracle's from
    the same weights, on the same batches, with the same update rule; compare the loss, the
    gradients and every weight after every step.

    Args:
        fn: fn(params, x, target) -> (loss, grads), check_model's contract; with
            carry_state=True fn(params, x, target, state) -> (loss, grads, final_state),
            state {"h": (L, N, H)[, "c": ...]} the state the previous batch ended in.
            None: train the reference.
        cell ... head_bias: the model, as check_model takes it (reduction defaults to "mean").
        against: oracles among "reference" (the NumPy reference, with fn), "torch", "tf".
        batch, num_steps: N and the truncated-BPTT length T of every batch.
        train_steps: how many updates (default: every batch of the data; random data has 100 per epoch).
        epochs: passes over the data (seed 001: fresh data every epoch); carry_state restarts
            from zeros at every epoch.
        optimizer: "sgd", "momentum", "adagrad", "rmsprop", "adam", optionally ":torch" or
            ":tf1" for that framework's defaults (torch's by default); lr; optimizer_options:
            overrides of the rule's hyperparameters (see harness.train.optimizers).
        clip_value, clip_norm: gradient clipping by value, then by global norm.
        carry_state: truncated BPTT with the final state of a batch as the next one's start.
        train_bias_hh: False (default): one bias per layer as TF1 cells and the tutorials have
            it, bias_hh held at zero (the initial bias_hh folded into bias_ih); True: torch's
            two biases trained apart (TF1 then cannot take part).
        data: None (seeded random data), "seed001" (seed 001's t-3/t-8 data, one-hot, D=O=2),
            a harness.train.data.Stream or (x (N, S, D), target) or a list of them (epochs).
        init: "probe" (check_model's seeded weights) or "tf1" (glorot-uniform kernels and head,
            zero biases, as TF1's defaults); params: canonical weights to start from.
        atol, rtol: override the trajectory tolerance of the dtype.
    Returns:
        TrainingReport: .ok, .table, .steps (per training step), .runs, .summary(), .to_html().
    """
    names = _oracles(fn, against)
    _check_arity(fn, carry_state)
    _positive_int("num_steps", num_steps)
    validate.probe_args(cell=cell, layers=layers, batch=batch, steps=num_steps, input_size=input_size,
                        hidden_size=hidden_size, dtype=dtype, seed=seed, activation=activation, forget_bias=forget_bias,
                        reset_after=reset_after, bias=bias, atol=atol, rtol=rtol,
                        head_size=output_size if isinstance(output_size, int) and output_size > 0 else 0)
    validate.flag("carry_state", carry_state)
    validate.flag("train_bias_hh", train_bias_hh)
    setup = _setup(cell, layers, activation, bias, head, output_size, loss, loss_steps, reduction, head_bias,
                   batch, num_steps, input_size, hidden_size, dtype, seed, forget_bias, reset_after, init, params,
                   train_bias_hh)
    case, trained = setup
    rule = optimizers.make_optimizer(optimizer, lr, **(optimizer_options or {}))
    clip = optimizers.Clip(clip_value, clip_norm, optimizers.CLIP_NORM_EPS[rule.convention])
    epochs_data, max_steps = _data(data, case, num_steps, train_steps, epochs)
    _history_fits(case, epochs_data, num_steps, max_steps, 1 + len(names))
    tol = trajectories.tolerance(case.spec.dtype, atol, rtol)
    subject = driver.NumpySide("yours" if fn is not None else "reference",
                               driver.user_grads(fn) if fn is not None else driver.reference_grads,
                               case, rule, clip, trained)
    runs, rows, frames, findings, timings = {}, [], [], [], {}
    with one_torch_thread():
        runs[subject.name] = driver.train(subject, case, epochs_data, num_steps, carry_state, max_steps)
        timings[subject.name] = runs[subject.name].seconds
        K = runs[subject.name].steps
        for oracle in names:
            try:
                side = _side(oracle, case, rule, clip, trained)
            except BackendUnavailable as exc:
                rows.append(skipped_row(oracle, str(exc), tol))
                findings.append(f"{oracle}: skipped: {exc}")
                continue
            run = driver.train(side, case, epochs_data, num_steps, carry_state, max_steps)
            getattr(side, "close", lambda: None)()
            runs[run.name], timings[run.name] = run, run.seconds
            r, f = trajectories.compare_runs(run, runs[subject.name], case.spec, tol, trained)
            rows += r
            frames.append(f)
            findings += trajectories.narrative(run.name, f, K, subject.name)
    import pandas as pd
    steps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    text = _describe(case, rule, clip, num_steps, carry_state, trained, epochs_data, K, tol)
    name = f"train-{case.spec.cell}-L{case.spec.layers}-T{num_steps}-{rule.name}-{case.spec.dtype}"
    report = TrainingReport.build(name, text, rows, findings, steps, runs, subject.name, timings)
    report.cases[0]["figures"] = figures.training_figures(report, case, epochs_data, num_steps, carry_state)
    return report


def _oracles(fn, against):
    names = parse_against(against, ORACLES) if against else []     # () : train only
    if fn is None and "reference" in names:
        raise HarnessError("against: 'reference' is what is trained when fn is None; name torch and/or tf")
    if fn is not None and not callable(fn):
        raise HarnessError(f"fn: expected a function fn(params, x, target) -> (loss, grads), got {type(fn).__name__}")
    return names


def _check_arity(fn, carry):
    """The call the training loop will make must fit fn's signature: one line if it cannot."""
    import inspect
    if fn is None:
        return
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):                     # builtins, some C callables: just call it
        return
    n = 4 if carry else 3
    try:
        sig.bind(*range(n))
    except TypeError:
        want = ("fn(params, x, target, state) -> (loss, grads, final_state) (carry_state=True)" if carry else
                "fn(params, x, target) -> (loss, grads) (carry_state=False)")
        raise HarnessError(f"fn: training calls {want}; your fn{sig} cannot take {n} arguments") from None


def _setup(cell, layers, activation, bias, head, output_size, loss, loss_steps, reduction, head_bias, batch,
           num_steps, input_size, hidden_size, dtype, seed, forget_bias, reset_after, init, params, train_bias_hh):
    options = {"rnn": {"activation": activation}, "lstm": {"forget_bias": forget_bias},
               "gru": {"reset_after": reset_after}}.get(cell, {})
    probe = make_probe(cell, layers=layers, bias=bias, batch=batch, steps=num_steps, input_size=input_size,
                       hidden_size=hidden_size, dtype=dtype, seed=seed, **options)
    case = make_case(probe, head, output_size, head_bias, loss, loss_steps, reduction)
    if init not in ("probe", "tf1"):
        raise HarnessError(f"init: expected 'probe' or 'tf1', got {init!r}")
    weights = tf1_init(case, np.random.default_rng([seed, 2])) if init == "tf1" else dict(case.params)
    if params is not None:
        weights = _user_params(params, case)
    if not train_bias_hh:                               # one bias per layer: fold bias_hh into bias_ih
        for k in range(case.spec.layers):
            if f"bias_hh_l{k}" in weights:
                weights[f"bias_ih_l{k}"] = weights[f"bias_ih_l{k}"] + weights[f"bias_hh_l{k}"]
                weights[f"bias_hh_l{k}"] = np.zeros_like(weights[f"bias_hh_l{k}"])
    weights = {n: np.array(v, dtype=case.spec.dtype) for n, v in weights.items()}
    trained = [n for n in weights if train_bias_hh or not n.startswith("bias_hh")]
    return dataclasses.replace(case, params=weights), trained


def _user_params(params, case):
    params = validate.params(params)
    if set(case.params) != set(params):
        raise HarnessError(f"params: expected the names {sorted(case.params)}, got {sorted(params)}")
    for n, v in params.items():
        if np.shape(v) != case.params[n].shape:
            raise HarnessError(f"params[{n!r}]: expected shape {case.params[n].shape}, got {np.shape(v)}")
    return {n: np.array(v, dtype=np.float64) for n, v in params.items()}


def tf1_init(case, rng):
    """TF1's default initializers: glorot-uniform kernels [D+H, G*H] (each cell's variable as
    a whole) and head W [H, O]; biases zero."""
    spec, out = case.spec, {}
    for n, v in case.params.items():
        if n.startswith("bias") or n == "head.bias":
            out[n] = np.zeros(v.shape)
        elif n == "head.weight":
            limit = np.sqrt(6.0 / (v.shape[0] + v.shape[1]))
            out[n] = rng.uniform(-limit, limit, v.shape)
    for k in range(spec.layers):
        wih, whh = case.params[f"weight_ih_l{k}"], case.params[f"weight_hh_l{k}"]
        GH, D = wih.shape
        limit = np.sqrt(6.0 / (D + whh.shape[1] + GH))          # fan_in D+H, fan_out G*H
        kernel = rng.uniform(-limit, limit, (D + whh.shape[1], GH))
        out[f"weight_ih_l{k}"], out[f"weight_hh_l{k}"] = kernel[:D].T.copy(), kernel[D:].T.copy()
    return out


def _data(data, case, num_steps, train_steps, epochs):
    epochs = _positive_int("epochs", epochs)
    if train_steps is not None:
        train_steps = _positive_int("train_steps", train_steps)
    N = case.x.shape[0]
    if data is None:
        K = train_steps or 100
        return data_mod.Epochs(lambda e: data_mod.random_stream(
            case, K * num_steps, np.random.default_rng([case.probe.seed, 3, e])), epochs), train_steps
    if isinstance(data, str):
        if data != "seed001":
            raise HarnessError(f"data: expected None, 'seed001', a Stream or (x, target), got {data!r}")
        if case.x.shape[2] != 2 or case.spec.output_size != 2 or case.spec.loss != "softmax_cross_entropy":
            raise HarnessError("data: 'seed001' is binary: it needs input_size=2, a head with output_size=2 and "
                               "loss='softmax_cross_entropy'")
        size = 1_000_000 if train_steps is None else min(1_000_000, train_steps * num_steps * N)
        return data_mod.Epochs(lambda e: data_mod.seed001_stream(
            N, size, np.random.default_rng([case.probe.seed, 4, e]), case.spec.dtype), epochs), train_steps
    items = data if isinstance(data, list) else [data] * epochs
    streams = [data_mod.check_stream(d if isinstance(d, data_mod.Stream) else data_mod.Stream(*d), case, num_steps)
               for d in items]
    return streams, train_steps


def _history_fits(case, epochs, num_steps, max_steps, sides):
    """Every side keeps its weights and gradients of every step: refuse what cannot fit."""
    K = (sum(s.windows(num_steps) for s in epochs) if isinstance(epochs, list)
         else len(epochs) * epochs[0].windows(num_steps))
    K = min(K, max_steps) if max_steps else K
    need = sides * (2 * K + 1) * sum(v.size for v in case.params.values()) * 8
    have = validate.available_bytes()
    if have and need > have / 2:
        raise HarnessError(f"train_steps: {K:,} steps of {sides} runs keep every weight and gradient "
                           f"({validate.gib(need)}), more than half the memory available ({validate.gib(have)}); "
                           "use fewer training steps or a smaller model")


def _side(oracle, case, rule, clip, trained):
    if oracle == "reference":
        return driver.NumpySide("reference", driver.reference_grads, case, rule, clip, trained)
    if oracle == "torch":
        from .torch_side import TorchSide
        return TorchSide(case, rule, clip, trained)
    from .tf_side import TF1Side
    return TF1Side(case, rule, clip, trained)


def _describe(case, rule, clip, num_steps, carry, trained, epochs, K, tol):
    p, s = case.probe, case.probe.sizes
    frozen = sorted(set(case.params) - set(trained))
    return (f"{p.cell} ({', '.join(f'{k}={v}' for k, v in p.options.items())}), L={s['L']}, N={s['N']}, "
            f"num_steps={num_steps}, D={s['D']}, H={s['H']}, {p.dtype}; {case.spec.describe()}; "
            f"{rule.describe()}, {clip.describe()}; {K} training steps over {len(epochs)} epoch(s) of "
            f"{epochs[0].name}; " + ("truncated BPTT with the state carried from batch to batch"
                                      if carry else "every batch from zero states")
            + (f"; held at zero, not trained: {', '.join(frozen)}" if frozen else "")
            + f"; trajectory tolerance atol {tol.atol:g} + rtol {tol.rtol:g}*|oracle|")
