"""harness.threads: the budget sets the pools around a backend and restores them."""

import pytest

from harness import threads
from harness.errors import HarnessError

torch = pytest.importorskip("torch")


def _blas_threads():
    return min(c.num_threads for c in threads._blas().lib_controllers)


def test_budget_gives_the_running_framework_the_budget_and_the_others_one(monkeypatch):
    monkeypatch.delenv("GRADHARNESS_THREADS", raising=False)
    pytest.importorskip("threadpoolctl")
    torch_before, blas_before = torch.get_num_threads(), _blas_threads()
    with threads.budget("torch"):
        assert torch.get_num_threads() == 1 and _blas_threads() == 1
    assert (torch.get_num_threads(), _blas_threads()) == (torch_before, blas_before)
    monkeypatch.setenv("GRADHARNESS_THREADS", "2")
    with threads.budget("numpy"):
        assert torch.get_num_threads() == 1 and _blas_threads() == min(2, blas_before)
    assert (torch.get_num_threads(), _blas_threads()) == (torch_before, blas_before)


def test_user_limits_stay_upper_bounds_and_off_leaves_pools_alone(monkeypatch):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        monkeypatch.setenv("GRADHARNESS_THREADS", "8")
        with threads.budget("torch"):
            assert torch.get_num_threads() == 1                 # never more than the user had
        monkeypatch.setenv("GRADHARNESS_THREADS", "off")
        torch.set_num_threads(2)
        with threads.budget("numpy"):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_a_bad_setting_is_one_line(monkeypatch, value):
    monkeypatch.setenv("GRADHARNESS_THREADS", value)
    with pytest.raises(HarnessError, match=r"^GRADHARNESS_THREADS: expected a positive integer or 'off'"):
        with threads.budget("torch"):
            pass


def test_every_backend_runs_under_the_budget(monkeypatch):
    """Plain and extended probes alike: torch sees one thread while a torch backend runs."""
    import harness
    from harness.backends import torch_backend, torch_seq
    monkeypatch.delenv("GRADHARNESS_THREADS", raising=False)
    seen = []
    for module, name in ((torch_backend, "_run_fused"), (torch_seq, "_run_modules")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, real=real: seen.append(torch.get_num_threads()) or real(*a))
    before = torch.get_num_threads()
    torch.set_num_threads(2)                                     # so that one thread means the budget
    try:
        harness.compare("rnn", backends=("torch.nn.RNN",), steps=3)
        harness.compare("rnn", backends=("torch.nn.RNN",), steps=3, bidirectional=True)
    finally:
        torch.set_num_threads(before)
    assert seen == [1, 1]
