"""The torch side of a training comparison: the model as check_model builds it in torch
(harness.guard.model_frameworks: nn.RNN/LSTM/GRU and nn.Linear where the modules express
it, torch ops otherwise), trained by torch.optim with torch.nn.utils' clipping.

One step is what a torch user writes: zero_grad, forward from the carried state (a plain
tensor: no gradient through the batch boundary), the loss, backward, clip_grad_value_ /
clip_grad_norm_, optimizer.step(). A parameter that is not trained (bias_hh with one bias
per layer) is frozen with requires_grad_(False) and kept out of the optimizer.
"""

import numpy as np

from ..errors import BackendUnavailable
from ..guard.model_frameworks import _torch_loss, torch_model
from . import optimizers


def torch_optimizer(torch, rule, params):
    """torch.optim's own implementation of ``rule`` (see harness.train.optimizers)."""
    h, lr = rule.h, rule.lr
    if rule.name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if rule.name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=h["momentum"], nesterov=h["nesterov"])
    if rule.name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=h["initial_accumulator_value"],
                                   eps=h["eps"])
    if rule.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=h["decay"], eps=h["eps"], momentum=h["momentum"],
                                   centered=h["centered"])
    return torch.optim.Adam(params, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["eps"])


def unsupported(rule, clip):
    return optimizers.unsupported(rule, "torch") or clip.unsupported("torch")


class TorchSide:
    def __init__(self, case, rule, clip, trained):
        reason = unsupported(rule, clip)
        if reason:
            raise BackendUnavailable(reason)
        self.model = torch_model(case)
        self.torch, self.spec, self.clip = self.model.torch, case.spec, clip
        self.name = self.model.name
        for n, leaf in self.model.leaves.items():
            leaf.requires_grad_(n in trained)
        self.trained = [self.model.leaves[n] for n in trained]
        self.opt = torch_optimizer(self.torch, rule, self.trained)

    def params(self):
        m = self.model
        return {n: leaf.detach().numpy() - m.offsets.get(n, 0) if n in m.offsets else leaf.detach().numpy().copy()
                for n, leaf in m.leaves.items()}

    def step(self, x, target, state):
        torch = self.torch
        self.opt.zero_grad(set_to_none=True)
        y, final = self.model.run(torch.as_tensor(np.asarray(x), dtype=self.model.dtype), state)
        loss = _torch_loss(torch, self.spec, y, target)
        loss.backward()
        grads = {n: leaf.grad.numpy().copy() for n, leaf in self.model.leaves.items() if leaf.grad is not None}
        if self.clip.value is not None:
            torch.nn.utils.clip_grad_value_(self.trained, self.clip.value)
        if self.clip.norm is not None:
            torch.nn.utils.clip_grad_norm_(self.trained, self.clip.norm)
        self.opt.step()
        return float(loss.detach()), grads, {s: v.detach().numpy().copy() for s, v in final.items()}
