"""Writing reports without losing what is at the path (harness.safewrite)."""

import os
import signal
import stat
import threading

import pytest

from harness import safewrite
from harness.errors import HarnessError
from harness.safewrite import atomic_paths, write_atomic, write_texts


def test_symlink_is_followed_and_stays_a_link(tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "sub" / "made.csv")
    write_atomic(link, "x")
    assert link.is_symlink() and (tmp_path / "sub" / "made.csv").read_text() == "x"


def test_existing_permissions_are_kept(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomic(path, "new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and path.read_text() == "new"


def test_fifo_with_a_reader_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    for _ in range(200):                                  # wait until the reader has the FIFO open
        try:
            write_atomic(fifo, "through the pipe")
            break
        except HarnessError:
            threading.Event().wait(0.01)
    reader.join(5)
    assert got == ["through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)           # never replaced by a regular file


def test_fifo_without_a_reader_is_refused_not_hung(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(HarnessError, match="--csv: cannot write .*pipe.*FIFO with no reader"):
        write_atomic(fifo, "x", name="--csv")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_character_device_is_written_not_replaced():
    write_atomic(os.devnull, "discarded")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.parametrize("make, fragment", [
    (lambda t: t, "which is a directory"),
    (lambda t: (t / "f").write_text("x") and t / "f" / "r.csv", "a part of the path is a file"),
])
def test_bad_places_name_the_users_path(tmp_path, make, fragment):
    path = make(tmp_path)
    with pytest.raises(HarnessError) as info:
        write_atomic(path, "x", name="--html")
    message = str(info.value)
    assert message.startswith("--html: ") and str(path) in message and fragment in message
    assert ".gradharness-" not in message and "\n" not in message


def test_unwritable_folder_names_the_users_path(tmp_path, monkeypatch):
    """As root nothing is unwritable by mode, so mkstemp is made to fail as it does for a user."""
    def denied(prefix, suffix, dir):
        raise PermissionError(13, "Permission denied", os.path.join(dir, prefix + "abc" + suffix))
    monkeypatch.setattr(safewrite.tempfile, "mkstemp", denied)
    with pytest.raises(HarnessError) as info:
        write_atomic(tmp_path / "r.csv", "x", name="--csv")
    message = str(info.value)
    assert f"--csv: cannot write '{tmp_path / 'r.csv'}': Permission denied (in the folder" in message
    assert ".gradharness-" not in message


def test_failure_while_writing_keeps_both_previous_files(tmp_path):
    (tmp_path / "r.csv").write_text("old csv")
    (tmp_path / "r.html").write_text("old html")
    with pytest.raises(RuntimeError):
        with atomic_paths([(tmp_path / "r.csv", ".csv", "csv"), (tmp_path / "r.html", ".html", "html")]) as tmps:
            open(tmps[0], "w").write("new csv")
            raise RuntimeError("rendering the HTML failed")
    assert (tmp_path / "r.csv").read_text() == "old csv" and (tmp_path / "r.html").read_text() == "old html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.html"]


def test_interrupt_during_publication_never_leaves_a_mixed_pair(tmp_path, monkeypatch):
    """SIGINT arriving at the first rename is held until both files are published."""
    (tmp_path / "r.csv").write_text("old csv")
    (tmp_path / "r.html").write_text("old html")
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return real_replace(src, dst)

    monkeypatch.setattr(safewrite.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_texts([(tmp_path / "r.csv", "new csv", "csv"), (tmp_path / "r.html", "new html", "html")])
    assert len(calls) == 2
    assert (tmp_path / "r.csv").read_text() == "new csv" and (tmp_path / "r.html").read_text() == "new html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.html"]
