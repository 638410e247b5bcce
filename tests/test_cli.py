"""The gradharness command: reports, exit codes 0/1/2, one-line errors."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from harness.cli import main

pytest.importorskip("torch")


def run(tmp_path, *args):
    return main(["compare", "--csv", str(tmp_path / "r.csv"), "--html", str(tmp_path / "r.html"), *args])


def test_match_exits_0_and_writes_reports(tmp_path, capsys):
    assert run(tmp_path, "--layers", "2") == 0
    out = capsys.readouterr().out
    assert "OK: all" in out
    table = pd.read_csv(tmp_path / "r.csv")
    assert {"backend", "layer", "step", "quantity", "max_abs_err", "max_rel_err", "atol", "rtol",
            "passed"} <= set(table.columns)
    assert table["status"].isin(["pass", "not compared"]).all()
    html = (tmp_path / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http" not in html


def test_mismatch_exits_1_and_names_the_first_divergence(tmp_path, capsys, broken_transpose):
    assert run(tmp_path, "--layers", "3") == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out
    first = next(line for line in out.splitlines() if line.startswith("first divergence"))
    assert "layer 2" in first and "step 8" in first and "dh_total" in first


@pytest.mark.parametrize("args, expected", [
    (["--cell", "bogus"], "cell: expected one of rnn, lstm, gru, got 'bogus'"),
    (["--hidden-size", "-1"], "hidden_size: expected a positive integer, got -1"),
    (["--dtype", "float16"], "dtype: expected 'float64' or 'float32', got 'float16'"),
    (["--activation", "gelu"], "activation: expected one of tanh, relu, sigmoid, identity, got 'gelu'"),
    (["--backends", "jax"], "backends: unknown backend 'jax'"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, expected):
    assert run(tmp_path, *args) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.csv").exists()


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--layers", "x"])
    assert exc.value.code == 2


def test_missing_framework_names_the_install_command(monkeypatch, capsys, tmp_path):
    import builtins
    real_import = builtins.__import__

    def no_torch(name, *a, **k):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    assert run(tmp_path) == 2
    assert "pip install 'torch==2.13.0'" in capsys.readouterr().err


def test_previous_report_survives_a_failed_write(tmp_path, monkeypatch):
    from harness import report as report_mod
    path = tmp_path / "r.csv"
    path.write_text("previous")

    def boom(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    assert run(tmp_path) == 130                      # interrupted: one line, exit 130
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gradharness-")] == []
    assert report_mod  # the atomic writer lives there


def test_python_dash_m_and_console_script_agree(tmp_path):
    cmd = [sys.executable, "-m", "harness", "compare", "--csv", str(tmp_path / "a.csv"), "--html", ""]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.csv").exists()


def test_check_command_exit_codes(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_rnn.py").write_text(
        "import numpy as np\n"
        "from examples.cs231n_rnn import rnn_forward, rnn_backward\n"
        "def wrong(dh, cache):\n"
        "    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)\n"
        "    return dx, dh0, dWx, dWh, -db\n")
    monkeypatch.syspath_prepend(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.chdir(tmp_path)
    args = ["check", "user_rnn:rnn_forward", "--csv", "c.csv", "--html", "c.html"]
    assert main(args[:2] + ["user_rnn:rnn_backward"] + args[2:]) == 0
    assert main(args[:2] + ["user_rnn:wrong"] + args[2:]) == 1
    out = capsys.readouterr().out
    assert "likely cause: a term with the wrong sign: db with the wrong sign" in out
    assert pd.read_csv(tmp_path / "c.csv")["status"].eq("FAIL").any()
    assert main(["check", "user_rnn:nothing", "user_rnn:wrong"]) == 2
    assert "forward: module 'user_rnn' has no function 'nothing'" in capsys.readouterr().err
    assert main(["check", "no_such_module:f", "user_rnn:wrong"]) == 2
