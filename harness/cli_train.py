"""``gradharness train``: its options, the seed 001 preset, and the run (harness.train)."""

from . import terminal
from .cli import _add_common, _finish, load_function

TRAIN_DEFAULTS = dict(cell="rnn", layers=1, activation="tanh", bias=True, forget_bias=0.0, reset_after=True,
                      head="none", output_size=None, loss="squared_error", reduction="mean", head_bias=True,
                      batch=3, num_steps=5, train_steps=None, epochs=1, input_size=4, hidden_size=6,
                      dtype="float64", seed=0, optimizer="sgd", lr=0.1, opt="", clip_value=None, clip_norm=None,
                      carry_state=False, train_bias_hh=False, data="random", init="probe", against=None)
# Seed 001 (the TF1 BasicRNNCell tutorial): its data, sizes, optimizer and truncated BPTT.
TRAIN_PRESETS = {"seed001": dict(cell="rnn", hidden_size=4, input_size=2, batch=200, head="linear", output_size=2,
                                 loss="softmax_cross_entropy", reduction="mean", optimizer="adagrad:tf1", lr=0.1,
                                 num_steps=5, data="seed001", carry_state=True, init="tf1")}


def add_train(sub, parents):
    p = sub.add_parser("train", help="train your model (or the reference) and the frameworks' side by side",
                       parents=parents, formatter_class=terminal.HelpFormatter,
                       description="Train your fn(params, x, target) -> (loss, grads) model, or the NumPy "
                                   "reference, and the same model in torch and TF1 from the same weights on the "
                                   "same batches with the same optimizer; compare the loss, the gradients and "
                                   "every weight after every step, and say where and how the runs part.")
    p.add_argument("fn", nargs="?", default=None,
                   help="your fn as module:function (default: train the reference); with --carry-state "
                        "fn(params, x, target, state) -> (loss, grads, final_state)")
    p.add_argument("--preset", choices=sorted(TRAIN_PRESETS), help="seed001: the TF1 tutorial's setup "
                   "(its data, H=4, batch 200, num_steps 5, Adagrad lr 0.1 as TF1, carried state)")
    _model_options(p.add_argument)
    _run_options(p.add_argument)
    _add_common(p)
    p.set_defaults(func=_run_train)


def _model_options(a):
    """The model, its data and its sizes."""
    a("--cell", help="rnn (default), lstm or gru")
    a("--layers", type=int)
    a("--activation", help="RNN nonlinearity (default tanh)")
    a("--forget-bias", type=float, help="LSTM forget-gate offset")
    a("--no-bias", dest="bias", action="store_const", const=False, help="layers without biases")
    a("--reset-before", dest="reset_after", action="store_const", const=False, help="TF1 GRUCell's GRU")
    a("--head", help="none (default), linear or linear+sigmoid")
    a("--output-size", type=int, help="the head's O")
    a("--loss", help="squared_error (default), half_squared_error, mean_squared_error, softmax_cross_entropy")
    a("--reduction", help="mean (default) or sum over batch and steps")
    a("--no-head-bias", dest="head_bias", action="store_const", const=False)
    a("--batch", type=int, help="N (default 3)")
    a("--num-steps", type=int, help="the truncated-BPTT length T of every batch (default 5)")
    a("--train-steps", type=int, help="updates (default: all the data; random data has 100 per epoch)")
    a("--epochs", type=int, help="passes over the data (default 1)")
    a("--input-size", type=int, help="D (default 4)")
    a("--hidden-size", type=int, help="H (default 6)")
    a("--dtype", help="float64 (default) or float32")
    a("--seed", type=int)


def _run_options(a):
    """The optimizer, the oracles, the tolerances and the outputs."""
    a("--optimizer", help="sgd (default), momentum, adagrad, rmsprop, adam; ':tf1' or ':torch' for that "
                          "framework's defaults (torch's unless named), e.g. adagrad:tf1")
    a("--lr", type=float, help="learning rate (default 0.1)")
    a("--opt", help="the rule's hyperparameters, e.g. initial_accumulator_value=0.1,eps=0")
    a("--clip-value", type=float, help="clip every gradient element to +-VALUE")
    a("--clip-norm", type=float, help="then clip the gradients' global norm to NORM")
    a("--carry-state", dest="carry_state", action="store_const", const=True,
      help="truncated BPTT: each batch starts from the state the previous one ended in")
    a("--no-carry-state", dest="carry_state", action="store_const", const=False)
    a("--train-bias-hh", action="store_const", const=True, help="train bias_hh apart from bias_ih (torch's two)")
    a("--data", help="random (default) or seed001")
    a("--init", help="probe (default) or tf1 (glorot-uniform kernels, zero biases)")
    a("--against", help="reference, torch, tf (comma-separated; default torch, plus reference with your fn)")
    a("--atol", type=float, help="override the trajectory tolerance")
    a("--rtol", type=float)
    a("--csv", default="reports/train.csv", help="CSV report path ('' to skip)")
    a("--html", default="reports/train.html", help="HTML report path ('' to skip)")
    a("--steps-csv", default="", help="also write the per-step comparison table here")
    a("--plot-dir", default="", help="also write every figure as PNG into this folder")


def _train_kwargs(args):
    kw = dict(TRAIN_DEFAULTS)
    kw.update(TRAIN_PRESETS.get(args.preset, {}))
    kw.update({k: getattr(args, k) for k in TRAIN_DEFAULTS if getattr(args, k, None) is not None})
    kw["head"] = None if kw["head"] == "none" else kw["head"]
    kw["data"] = None if kw["data"] == "random" else kw["data"]
    from .train.optimizers import parse_options
    kw["optimizer_options"] = parse_options(kw.pop("opt"))
    if kw["against"] is None:
        kw["against"] = "reference,torch" if args.fn else "torch"
    return kw


def _run_train(args):
    from .train.api import check_training
    fn = load_function(args.fn, "fn") if args.fn else None
    report = check_training(fn, atol=args.atol, rtol=args.rtol, **_train_kwargs(args))
    code = _finish(report, args)
    if args.steps_csv:
        from .safewrite import write_atomic
        print(f"wrote {write_atomic(args.steps_csv, report.steps.to_csv(index=False), '--steps-csv')}")
    return code
