"""The truncated-BPTT training loop, the same for every side, and the NumPy sides.

A side trains one copy of the model: ``step(x, target, state) -> (loss, grads, final)``
computes the loss and the gradients on one batch from the side's current weights (and,
with a carried state, from the state the previous batch ended in), clips them and applies
the update; ``params()`` returns the weights in canonical names. ``train`` runs a side
over the batches and keeps everything: the loss of every step, the raw (unclipped)
gradients of every step and the weights after every step.

Truncated BPTT as seed 001 trains: at the start of an epoch the state is zero; after each
batch the side's own final state becomes the next batch's initial state, as a plain array,
so no gradient flows through the boundary.

NumPy sides: "reference" (the NumPy reference stack and head, harness.guard.model_oracles)
and "yours" (the user's fn). Both apply the update with harness.train.optimizers, written
once; only the gradients differ.
"""

import dataclasses
import time

import numpy as np

from ..cells import STATES
from ..guard.model import run_fn
from ..guard.model_oracles import reference_run
from ..guard.usercode import UserCodeError


@dataclasses.dataclass
class History:
    """What one side did: loss (K,), grads {name: (K, *shape)} before clipping, params
    {name: (K+1, *shape)} (index 0: the initial weights, index k: after step k)."""
    name: str
    loss: np.ndarray
    grads: dict
    params: dict
    seconds: float
    batches: tuple = ()     # ((x, target, initial state) of the first step, of the last step)
    cpu_seconds: float = 0.0    # this process's CPU time (every side runs on one thread)

    @property
    def steps(self):
        return len(self.loss)


def zero_state(case):
    N, L, H = case.x.shape[0], case.spec.layers, case.spec.hidden_size
    return {s: np.zeros((L, N, H), dtype=case.spec.dtype) for s in STATES[case.spec.cell]}


def train(side, case, epochs, num_steps, carry, max_steps=None):
    """Run ``side`` over every window of every epoch's stream (at most ``max_steps``)."""
    losses, grads, params, ends = [], [], [side.params()], []
    start, cpu = time.perf_counter(), time.process_time()
    for stream in epochs:
        state = zero_state(case) if carry else None
        for i in range(stream.windows(num_steps)):
            if max_steps is not None and len(losses) >= max_steps:
                break
            x, target = stream.batch(i, num_steps)
            ends[1:] = [(x, target, state)]
            loss, g, final = side.step(x, target, state)
            state = final if carry else None
            losses.append(loss)
            grads.append(g)
            params.append(side.params())
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    names = [n for n in grads[0] if all(n in g for g in grads)] if grads else []
    return History(side.name, np.asarray(losses, dtype=np.float64),
                   {n: np.stack([g[n] for g in grads]) for n in names},
                   {n: np.stack([p[n] for p in params]) for n in params[0]}, seconds,
                   tuple(ends[:1] + ends[-1:]), cpu)


class NumpySide:
    """A side whose gradients come from NumPy code: the reference or the user's fn.

    grads_fn(case, state) -> (values {"loss", name: gradient}, final state or None)."""

    def __init__(self, name, grads_fn, case, rule, clip, trained):
        self.name, self.grads_fn, self.case, self.rule, self.clip = name, grads_fn, case, rule, clip
        self.trained = list(trained)
        self.weights = {n: np.array(v, copy=True) for n, v in case.params.items()}
        self.slots = rule.init({n: self.weights[n] for n in self.trained})
        self.k = 0

    def params(self):
        return {n: v.copy() for n, v in self.weights.items()}

    def step(self, x, target, state):
        self.k += 1
        sub = dataclasses.replace(self.case, params=self.weights, x=x, target=target)
        values, final = self.grads_fn(sub, state, self.k)
        missing = [n for n in self.trained if n not in values]
        if missing:
            raise UserCodeError(f"fn: grads has no entry for {missing} at training step {self.k}; "
                                "training needs the gradient of every trained parameter")
        dtype = self.case.spec.dtype
        g = self.clip.apply({n: np.asarray(values[n], dtype=dtype) for n in self.trained})
        self.rule.step({n: self.weights[n] for n in self.trained}, g, self.slots)
        grads = {n: np.asarray(v, dtype=dtype) for n, v in values.items() if n != "loss"}
        return float(values["loss"]), grads, final


def reference_grads(case, state, k):
    values, final, _ = reference_run(case, state0=state)
    return values, final


def user_grads(fn):
    """grads_fn for the user's fn: fn(params, x, target) without a carried state,
    fn(params, x, target, state) -> (loss, grads, final_state) with one."""
    def grads_fn(case, state, k):
        context = f"training step {k}"
        if state is None:
            return run_fn(fn, case, context), None
        state = {s: np.asarray(v, dtype=case.spec.dtype) for s, v in state.items()}
        return run_fn(fn, case, context, state=state)
    return grads_fn
