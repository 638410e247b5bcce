"""The command line as people know it from pytest and friends: --version, -q/-v/-x, a last
line with counts and time, a progress bar only on a terminal, help with defaults, lines of
at most 100 columns, no TensorFlow noise, shell completion, and -j N."""

import importlib.metadata
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

import harness
from harness import terminal
from harness.cli import main

pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAST_OK = re.compile(r"^OK: all [\d,]+ comparisons within tolerance in \d+\.\d s$")


@pytest.fixture(autouse=True)
def hundred_columns(monkeypatch):
    """Output folds at min(100, terminal width): pin the width (xdist workers see 80)."""
    monkeypatch.setenv("COLUMNS", "100")


def run(capsys, *args):
    code = main(["compare", "--csv", "", "--html", "", *args])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


def test_version_comes_from_the_package_metadata(capsys):
    assert harness.__version__ == importlib.metadata.version("gradharness")
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradharness {harness.__version__}"


@pytest.mark.parametrize("command", [[], ["compare"], ["check"], ["convert"]])
def test_help_shows_defaults_without_markup_in_100_columns(capsys, command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")                      # a wide terminal still gets 100 columns
    with pytest.raises(SystemExit):
        main(command + ["--help"])
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "``" not in text
    if command == ["compare"]:
        assert re.search(r"--steps STEPS\s+T, the sequence length \(default: 10\)", text)
        assert "(default: reports/gradharness.html)" in text and "--no-bias" in text
        assert "(default: True)" not in text                  # flags have no default to show


def test_a_long_case_name_keeps_its_counts_on_one_line(capsys):
    code, lines, err = run(capsys, "--cell", "gru,rnn", "--lengths", "10,7,3", "--bidirectional", "--merge", "sum")
    assert code == 0 and lines[0] == "gru-bidirectional-sum-lengths10,7,3-L1-float64", lines
    assert re.match(r" {31}OK +[\d,]+ passed +0 failed +\d+ not compared \(\d backends?\)$", lines[1]), lines


def test_default_output_ends_with_a_pytest_like_last_line(capsys):
    code, lines, err = run(capsys, "--layers", "1,2")
    assert code == 0 and LAST_OK.match(lines[-1]), lines[-1]
    assert all(len(line) <= 100 for line in lines)
    assert [line.split()[0] for line in lines[:2]] == ["rnn-tanh-L1-float64", "rnn-tanh-L2-float64"]
    assert err == ""                                          # no progress bar when stderr is not a terminal


def test_quiet_prints_the_last_line_and_verbose_every_backend(capsys):
    code, quiet, _ = run(capsys, "-q", "--layers", "1,2")
    assert code == 0 and len(quiet) == 1 and LAST_OK.match(quiet[0])
    code, verbose, _ = run(capsys, "-v", "--layers", "1,2")
    assert sum(line.lstrip().startswith("torch.nn.RNNCell ") for line in verbose) == 2
    assert sum(line.startswith("case ") for line in verbose) == 2


def test_quiet_mismatch_names_where_and_exitfirst_stops(capsys, broken_transpose):
    code, lines, _ = run(capsys, "-q", "-x", "--cell", "rnn,lstm", "--layers", "2,1")
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("BPTT mismatch in dh_total layer 1 step 8") and len(lines[0]) <= 100
    assert re.match(r"^MISMATCH: [\d,]+ of [\d,]+ comparisons failed \(stopped by -x after 1 of 4 cases\) "
                    r"in \d+\.\d s$", lines[1]), lines[1]
    code, lines, _ = run(capsys, "-q", "--cell", "rnn,lstm", "--layers", "2,1")
    assert code == 1 and "stopped" not in lines[-1]


def _on_a_terminal(args, env=None, timeout=240):
    """Run the CLI with stderr on a pseudo-terminal; returns (exit status, what stderr showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=slave, env=env)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_silent_with_quiet():
    args = ["compare", "--cell", "rnn,gru", "--layers", "1,2", "--csv", "", "--html", ""]
    code, shown = _on_a_terminal(args)
    assert code == 0 and "cases" in shown and re.search(r"\d/4", shown), shown[-500:]
    code, shown = _on_a_terminal(args + ["-q"])
    assert code == 0 and shown == ""


def test_tensorflow_start_up_noise_is_silenced_unless_asked_for():
    pytest.importorskip("tensorflow")
    env = {k: v for k, v in os.environ.items() if k not in terminal.TF_LOG_VARIABLES}
    cmd = [sys.executable, "-m", "harness", "compare", "--backends", "tf.BasicRNNCell-loop,keras.SimpleRNN",
           "--steps", "3", "--csv", "", "--html", ""]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert terminal.user_asked_for_tf_logging({"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert not terminal.user_asked_for_tf_logging({"PATH": "/bin"})


def test_the_users_tf_logging_setting_wins(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    before = list(sys.meta_path)
    assert terminal.quiet_tensorflow() is False
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" and sys.meta_path == before


def test_only_tensorflow_log_lines_are_dropped(capfd):
    noise = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
             "I0000 00:00:1796600621.429586    6413 cudart_stub.cc:31] Could not find cuda drivers on your "
             "machine, GPU will not be used.\n"
             "W0000 00:00:1796600621.429586    6413 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n")
    real = "E0000 00:00:1796600628.097525    6413 some.cc:52] a real error\nTraceback: something the user needs\n"
    with terminal.filtered_fd2():
        os.write(2, (noise + real).encode())
    assert capfd.readouterr().err == real


def test_shell_completion_script(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--print-completion", "bash"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and "compare" in out and "--cell" in out and "--exitfirst" in out


def test_parallel_cases_give_the_same_report_as_serial():
    from harness.sweep import run_cases
    cases = [dict(cell=c, layers=k, backends="torch", steps=4) for c in ("rnn", "gru") for k in (1, 2)]
    serial, _ = run_cases(cases, jobs=1)
    parallel, _ = run_cases(cases, jobs=2)
    assert [r.cases[0]["case"] for r in parallel] == [r.cases[0]["case"] for r in serial]
    for a, b in zip(serial, parallel):
        assert a.table.equals(b.table)


def test_figures_drawn_in_workers_keep_unique_ids(tmp_path):
    import collections
    import re
    html = tmp_path / "r.html"
    assert main(["compare", "--cell", "rnn,gru", "--steps", "4", "-j", "2", "-q", "--html", str(html),
                 "--csv", str(tmp_path / "r.csv")]) == 0
    ids = collections.Counter(re.findall(r'\sid="([^"]+)"', html.read_text()))
    assert ids and not [i for i, n in ids.items() if n > 1]


def test_jobs_must_be_a_count(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "-j", "many"])
    assert exc.value.code == 2
    assert "expected a number of worker processes (0: one per CPU), got 'many'" in capsys.readouterr().err
